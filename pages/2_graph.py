"""Step 2: the fairness question (X, its groups, Y) and the causal graph, discovered then edited.

The editor is streamlit-flow. It returns its whole node and edge lists; we diff them with the
canonical graph in session state, refuse an edge that would close a cycle (naming it), and
rebuild the editor under a new key whenever Python changed the graph, so a refused edge
disappears and new edges get their arrowheads.
"""


import pandas as pd
import streamlit as st
from streamlit_flow import streamlit_flow
from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
from streamlit_flow.layouts import ManualLayout
from streamlit_flow.state import StreamlitFlowState

from faircause_core.errors import InputError
from faircause_core.io.export import graph_json_bytes, safe_filename
from faircause_core.causal.graph import CausalGraph
from faircause_core.present.plots import ROLE_COLORS, ROLE_LABELS
from faircause_core.causal.question import FairnessProblem, validate_problem
from pages import ui

ui.step_bar("graph")

COLUMN_X = {"z": 0, "x": 260, "w": 520, "y": 780, "other": 1040}
OTHER_STEP = 190  # each further "other" sub-column (a child of another "other" node) sits this far right
ARROW = {"type": "arrowclosed", "width": 18, "height": 18, "color": "#5b6b7b"}

st.title("Fairness question and causal graph")
tab = ui.table()
if tab is None:
    st.info("Load data first (step 1), then come back here to choose the sensitive attribute and outcome.")
    ui.next_step("data", "Go to step 1: data")
    st.stop()

names = tab.schema.names
saved = st.session_state.get("problem") or {}


def _index(options, value, default=0):
    return options.index(value) if value in options else default


def _groups(col):
    cs = tab.schema[col]
    if cs.categories:
        return [str(v) for v in cs.categories]
    return sorted({str(v) for v in tab.df[col].dropna().unique()})[:50]


# ------------------------------------------------------------------------------ question
st.subheader("1. The question")
c1, c2, c3 = st.columns(3)
x_default = _index(names, saved.get("x"), _index(names, "sex"))
x = c1.selectbox("Sensitive attribute (X)", names, index=x_default, key="w_x")
groups = _groups(x)
x0 = c2.selectbox("Baseline group (x0)", groups, index=_index(groups, saved.get("x0")), key=f"w_x0_{x}")
x1 = c3.selectbox("Comparison group (x1)", groups,
                  index=_index(groups, saved.get("x1"), 1 if len(groups) > 1 else 0), key=f"w_x1_{x}")
c4, c5 = st.columns(2)
y_options = [n for n in names if n != x]
y = c4.selectbox("Outcome (Y)", y_options, index=_index(y_options, saved.get("y"), _index(y_options, "death")),
                 key="w_y")
threshold = None
if tab.schema[y].is_numeric and tab.df[y].nunique() > 2:
    cs = tab.schema[y]
    threshold = c5.number_input(f"Count {y} as 'yes' when it is at least", value=float(
        saved.get("threshold") if saved.get("threshold") is not None else tab.df[y].median()),
        min_value=float(cs.minimum), max_value=float(cs.maximum), key=f"w_thr_{y}")
    c5.caption(f"Share at or above: {(tab.df[y] >= threshold).mean():.1%}")
problem = FairnessProblem(x, x0, x1, y, threshold)
try:
    for note in validate_problem(tab, problem):
        st.warning(note)
    valid = True
except InputError as err:
    st.error(str(err))
    valid = False
new_problem = {"x": x, "x0": x0, "x1": x1, "y": y, "threshold": threshold}
if new_problem != saved:
    st.session_state.problem = new_problem
    ui.persist()

fixed_default = [c for c in (st.session_state.get("fixed") or [c for c in ("age", "race") if c in names])
                 if c in names and c not in (x, y)]
fixed = st.multiselect("Baseline columns fixed before everything else (nothing can cause them; e.g. age, race)",
                       [n for n in names if n not in (x, y)], default=fixed_default, key=f"w_fixed_{x}_{y}")
if fixed != st.session_state.get("fixed"):
    st.session_state.fixed = fixed
    ui.persist()

# ---------------------------------------------------------------------------------- graph
st.subheader("2. The causal graph")
b1, b2, b3, b4 = st.columns(4)
if b1.button("Discover the graph from the data", type="primary", disabled=not valid, key="w_discover"):
    with st.spinner("Searching for a causal graph that fits the data and your tiers..."):
        try:
            g = CausalGraph.from_dict(ui.discover_cached(st.session_state.data_id, ui.kinds_json(), x, y,
                                                         tuple(fixed), ui.root()))
            ui.set_graph(g, discovered=True)
        except InputError as err:
            st.error(str(err))
if b2.button("Reset to discovered", disabled=not st.session_state.get("discovered"), key="w_reset"):
    ui.set_graph(CausalGraph.from_dict(st.session_state.discovered))
if b3.button("Start from an empty graph", key="w_empty"):
    ui.set_graph(CausalGraph(names, []))
with b4.popover("Import DAG JSON"):
    dag_file = st.file_uploader("DAG JSON", type=["json"], key="w_dag_upload")
    if dag_file is not None and st.session_state.get("_dag_seen") != dag_file.file_id:
        st.session_state._dag_seen = dag_file.file_id
        try:
            g = CausalGraph.from_json(dag_file.getvalue(), source=dag_file.name)
            unknown = [n for n in g.nodes if n not in names]
            if unknown:
                raise InputError(f"{dag_file.name}: node '{unknown[0]}' is not a column of {tab.name}")
            ui.set_graph(CausalGraph(names, g.edges))
            st.success(f"Imported {len(g.edges)} edges from {dag_file.name}.")
        except InputError as err:
            st.error(str(err))

g = ui.graph()
if g is None:
    st.info("No graph yet: click **Discover the graph from the data** (or start from an empty graph and "
            "draw the edges yourself).")
    st.stop()
if set(g.nodes) != set(names):  # data columns changed under a saved graph: keep what still applies
    g = CausalGraph(names, [e for e in g.edges if e[0] in names and e[1] in names])
    ui.set_graph(g)

try:
    r = ui.roles(tab, g, problem if valid else None) if valid else None
except InputError as err:
    st.error(str(err))
    r = None


def role_of(node):
    if r is None:
        return "other"
    if node == r.x:
        return "x"
    if node == r.y:
        return "y"
    return "z" if node in r.z else "w" if node in r.w else "other"


def build_state(graph, positions=None):
    """Nodes in role columns (Z, X, W, Y, other), role colours, arrowheads on every edge.

    "Other" nodes go right of the outcome, starting one row below it (so edges into them do
    not run behind the outcome node), in sub-columns by their depth among "other" nodes, so an
    edge between two of them points rightwards like every other edge.
    """
    counts = {}
    depth = {}
    nodes = []
    for n in graph.topological_order():
        role = role_of(n)
        if role == "other":
            d = 1 + max((depth[p] for p in graph.parents(n) if p in depth), default=-1)
            depth[n] = d
            key = ("other", d)
            i = counts.get(key, 0)
            counts[key] = i + 1
            default = (COLUMN_X["other"] + OTHER_STEP * d, 40 + 80 * (i + 1))
        else:
            i = counts.get(role, 0)
            counts[role] = i + 1
            default = (COLUMN_X[role], 40 + 80 * i)
        pos = (positions or {}).get(n) or default
        nodes.append(StreamlitFlowNode(
            id=n, pos=pos, data={"content": n}, node_type="default", source_position="right",
            target_position="left", connectable=True, draggable=True, selectable=True,
            style={"background": ROLE_COLORS[role], "color": "white", "border": "1px solid #33415c",
                   "borderRadius": "8px", "fontSize": "13px", "width": "150px"}))
    edges = [StreamlitFlowEdge(id=f"{a}->{b}", source=a, target=b, marker_end=dict(ARROW), deletable=True,
                               focusable=True, style={"stroke": "#5b6b7b", "strokeWidth": 1.6})
             for a, b in graph.edges]
    return StreamlitFlowState(nodes=nodes, edges=edges)


legend = "".join(f'<span style="background:{ROLE_COLORS[k]}">{v}</span>' for k, v in ROLE_LABELS.items())
st.markdown(f'<div class="fc-legend">{legend}</div>', unsafe_allow_html=True)  # static labels only
st.caption("Drag from a node's right handle to another node's left handle to add an edge. Click an edge to "
           "select it (buttons below), or right-click it for the edge menu.")

for msg in st.session_state.pop("flow_messages", []):
    st.error(msg)

if "flow_state" not in st.session_state:
    st.session_state.flow_state = build_state(g)
version = st.session_state.get("flow_version", 0)
returned = streamlit_flow(f"dag_editor_{version}", st.session_state.flow_state, height=560, fit_view=True,
                          allow_new_edges=True, get_edge_on_click=True, get_node_on_click=False,
                          enable_edge_menu=True, hide_watermark=True, layout=ManualLayout(), min_zoom=0.2)
st.session_state.flow_state = returned

# Diff what the editor holds with the canonical graph.
in_editor = [(e.source, e.target) for e in returned.edges]
if set(in_editor) != set(g.edges):
    messages = []
    new = g
    for a, b in [e for e in g.edges if e not in set(in_editor)]:
        new = new.remove_edge(a, b)
    for a, b in [e for e in dict.fromkeys(in_editor) if e not in set(g.edges)]:
        cycle = CausalGraph.find_cycle(new.nodes, list(new.edges) + [(a, b)])
        if a == b or a not in names or b not in names:
            messages.append(f"edge {a} -> {b} refused: not an edge between two different columns")
        elif cycle is not None:
            messages.append(f"edge {a} -> {b} refused: it would close the cycle {' -> '.join(cycle)}")
        else:
            new = new.add_edge(a, b)
    st.session_state.flow_messages = messages
    ui.set_graph(new)
    st.session_state.flow_state = build_state(new)  # re-laid out: a role may have changed
    st.rerun()

selected = returned.selected_id
sel_edge = next(((e.source, e.target) for e in returned.edges if e.id == selected), None)
if sel_edge:
    a, b = sel_edge
    s1, s2, s3 = st.columns([2, 1, 1])
    s1.markdown(f"Selected edge: **{ui.md(a)} → {ui.md(b)}**")
    if s2.button("Delete edge", key="w_del_edge"):
        ui.set_graph(g.remove_edge(a, b))
        st.rerun()
    if s3.button("Reverse edge", key="w_rev_edge"):
        try:
            ui.set_graph(g.reverse_edge(a, b))
            st.rerun()
        except InputError as err:
            st.error(str(err))

with st.expander("Add or remove an edge by name"):
    e1, e2, e3 = st.columns([2, 2, 1])
    src = e1.selectbox("From", names, key="w_edge_from")
    dst = e2.selectbox("To", names, index=min(1, len(names) - 1), key="w_edge_to")
    if e3.button("Add", key="w_edge_add"):
        try:
            ui.set_graph(g.add_edge(src, dst))
            st.rerun()
        except InputError as err:
            st.error(str(err))
    if e3.button("Remove", key="w_edge_remove"):
        try:
            ui.set_graph(g.remove_edge(src, dst))
            st.rerun()
        except InputError as err:
            st.error(str(err))

st.download_button("Download DAG JSON", graph_json_bytes(g), file_name=f"{safe_filename(tab.name)}_dag.json",
                   mime="application/json", key="w_dag_download")

st.subheader("3. Roles read off the graph")
if r is not None:
    table_rows = [{"column": n, "role": ROLE_LABELS[role_of(n)]} for n in g.topological_order()]
    st.dataframe(pd.DataFrame(table_rows), hide_index=True, width="stretch",
                 height=min(35 * (len(table_rows) + 1) + 3, 760))  # all columns, no inner scroll
    st.caption(f"{len(g.edges)} edges. Z = {len(r.z)} confounders, W = {len(r.w)} mediators, "
               f"{len(r.other)} other columns (generated, but not part of the decomposition).")
    ui.next_step("audit", "Next: audit the real data's fairness")
else:
    st.info("Choose a valid question above to see the roles.")
