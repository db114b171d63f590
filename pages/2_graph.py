"""Step 2: the fairness question (X, its groups, Y), the column marks, and the causal graph,
discovered, edited, then checked against the data.

The editor is streamlit-flow (patched: faircause_app.flow); faircause_app.editor lays it out and
turns its edits into a new graph (refusing cycles), and the editor gets the rebuilt graph in
place (same key) after every change.
faircause_app.graph_blocks draws the marks, the found/assumed legend and the graph check.
"""

import pandas as pd
import streamlit as st
from faircause_app import editor, graph_blocks, nav, state, text
from faircause_app.flow import flow_editor
from faircause_app.graph_blocks import editor_messages
from faircause_app.panels import graph_sources, question_form
from faircause_app.text import md
from faircause_core.causal.backbone import roles_rule
from faircause_core.errors import InputError
from faircause_core.io.export import graph_json_bytes, safe_filename
from faircause_core.present.plots import ROLE_COLORS, ROLE_LABELS

nav.step_bar("graph")
st.title("Fairness question and causal graph")
loaded = nav.need_table("Load data first (step 1), then come back here to choose the sensitive attribute and "
                        "outcome.")

st.subheader("1. The question")
problem, valid = question_form(loaded)
marks = graph_blocks.marks_form(loaded, problem)
valid = valid and marks.valid
tab = state.model_table()  # the excluded columns left out of everything from here on
if tab is None:
    st.stop()
names = tab.schema.names

st.subheader("2. The causal graph")
graph_sources(tab, problem, valid, marks, loaded.schema.names)

g = state.graph()
if g is None:
    if valid:
        st.info("No graph yet: click **Discover the graph from the data** (or start from an empty graph and "
                "draw the edges yourself).")
    else:
        st.info("No graph yet. Discovering one needs a valid question and marks: fix what the message above "
                "says first (or start from an empty graph and draw the edges yourself).")
    st.stop()
fitted = graph_blocks.fit_graph(g, tab, marks, problem)  # columns or marks changed under a saved graph
if fitted != g:
    g = fitted
    state.set_graph(g)

try:
    r = state.roles(tab, g, problem) if valid else None
except InputError as err:
    text.error(err)
    r = None

legend = "".join(f'<span style="background:{ROLE_COLORS[k]}">{v}</span>' for k, v in ROLE_LABELS.items())
st.markdown(f'<div class="fc-legend">{legend}</div>', unsafe_allow_html=True)  # static labels only
graph_blocks.edge_legend()
st.caption("Drag from a node's outgoing handle (the dot on its right, or below it when the graph runs down the "
           "page) to another node's incoming handle (left, or above) to add an edge. Click an "
           "edge to select it (buttons below), or right-click it to delete or reverse it. Point at or click a node to "
           "follow its edges (the others fade). Drag the background to pan; ctrl + wheel or the +/- buttons zoom.")
refusals = st.container()  # always here, so the editor below keeps its place and is not reloaded
given = graph_blocks.editor_view(g, r, problem, marks)  # the "found in the data only" toggle above it
returned = flow_editor("dag_editor", given, height=editor.frame_height(given), fit_min_zoom=editor.FIT_MIN_ZOOM)
graph_blocks.editor_edit(g, given, returned, problem, marks)
editor_messages(g, refusals)  # drawn above the editor, after this run's action may have cleared them

sel_edge = editor.selected_edge(returned) if editor.fresh(given, returned) else None
if sel_edge:
    a, b = sel_edge
    s1, s2, s3 = st.columns([2, 1, 1])
    s1.markdown(f"Selected edge: **{md(a)} → {md(b)}**")
    if s2.button("Delete edge", key="w_del_edge"):
        state.edit_graph(lambda: g.remove_edge(a, b))
    if s3.button("Reverse edge", key="w_rev_edge"):
        state.edit_graph(lambda: g.reverse_edge(a, b))

with st.expander("Add or remove an edge by name"):
    e1, e2, e3 = st.columns([2, 2, 1])
    src = e1.selectbox("From", names, key="w_edge_from")
    dst = e2.selectbox("To", names, index=min(1, len(names) - 1), key="w_edge_to")
    if e3.button("Add", key="w_edge_add"):
        state.edit_graph(lambda: g.add_edge(src, dst))
    if e3.button("Remove", key="w_edge_remove"):
        state.edit_graph(lambda: g.remove_edge(src, dst))

st.download_button("Download DAG JSON", graph_json_bytes(g), file_name=f"{safe_filename(tab.name)}_dag.json",
                   mime="application/json", key="w_dag_download")

st.subheader("3. The graph checked against the data")
if r is not None:
    graph_blocks.graph_check(g)
else:
    st.info("Choose a valid question and marks above to check the graph against the data.")

st.subheader("4. Roles read off the graph")
if r is not None:
    table_rows = [{"column": n, "role": ROLE_LABELS[editor.role_of(n, r)]} for n in g.topological_order()]
    st.dataframe(pd.DataFrame(table_rows), hide_index=True, width="stretch",
                 height=min(35 * (len(table_rows) + 1) + 3, 760))  # all columns, no inner scroll
    st.caption(f"{len(g.edges)} edges. Z = {len(r.z)} confounders, W = {len(r.w)} mediators, "
               f"{len(r.other)} other columns (generated, but not part of the decomposition). "
               f"{md(roles_rule(r.x))}")
    nav.next_step("audit", "Next: audit the real data's fairness")
else:
    st.info("Choose a valid question above to see the roles.")
