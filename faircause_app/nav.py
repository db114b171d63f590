"""Moving between the five steps: the step bar, "next" links and the guard that stops a
page whose earlier steps are not done yet (with the same guidance texts on every page)."""

from __future__ import annotations

import streamlit as st

from faircause_app import state, text
from faircause_core.errors import InputError

STEPS = [("data", "1 Data"), ("graph", "2 Causal graph"), ("audit", "3 Fairness audit"),
         ("generate", "4 Generate"), ("compare", "5 Compare")]
PAGE_FILES = {"data": "pages/1_data.py", "graph": "pages/2_graph.py", "audit": "pages/3_audit.py",
              "generate": "pages/4_generate.py", "compare": "pages/5_compare.py"}


#: Set in session state by app.py's main(): this session has been through app.py.
THROUGH_APP = "_through_app"


def through_app() -> None:
    """Run a session's pages through app.py. Until some session has run app.py since the server
    started, Streamlit treats the pages/ folder as its old multipage mode, and an address such
    as /data ran that page on its own: without the workspace, the saved session or the step
    names. Such a first run of a session hands over at once; the rerun goes through app.py to
    the same page. (A session that has been through app.py keeps its state: AppTest, which
    runs pages in the old mode after app.py's first run, goes on as before.)"""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not st.session_state.get(THROUGH_APP):
        PagesManager.uses_pages_directory = False  # what st.navigation sets on its first call
        st.rerun()


def step_bar(current: str) -> None:
    """The 1-5 indicator at the top of every page (static labels: safe as HTML); first makes
    sure the page runs through app.py (`through_app`)."""
    through_app()
    idx = [k for k, _ in STEPS].index(current) if current in dict(STEPS) else -1
    cells = []
    for i, (key, label) in enumerate(STEPS):
        cls = "fc-step current" if i == idx else ("fc-step done" if i < idx else "fc-step")
        cells.append(f'<div class="{cls}">{label}</div>')
    st.markdown(f'<div class="fc-steps">{"".join(cells)}</div>', unsafe_allow_html=True)


def next_step(page: str, label: str) -> None:
    st.page_link(PAGE_FILES[page], label=label, icon=":material/arrow_forward:")


def need_table(hint: str = "Load data first (step 1)."):
    """The current Table; without one, the hint, a link to step 1, and the page stops."""
    tab = state.table()
    if tab is None:
        st.info(hint)
        next_step("data", "Go to step 1: data")
        st.stop()
    return tab


def page_start(step: str, title: str, graph_hint: str, fix_label: str | None = None):
    """Step bar, title, then (model table, roles) for a page that needs steps 1 and 2 done.

    Shows guidance and stops the page when the data, question or graph is missing;
    `graph_hint` is the info text for a missing question/graph. When the roles cannot be
    derived, shows the one-line error (plus a link back to step 2 if `fix_label`) and stops.
    """
    step_bar(step)
    st.title(title)
    need_table()
    tab = state.model_table()  # without the excluded columns, as the graph page built the graph on
    if tab is None:
        st.stop()
    if state.problem() is None or state.graph() is None:
        st.info(graph_hint)
        next_step("graph", "Go to step 2: causal graph")
        st.stop()
    try:
        r = state.roles()
    except InputError as err:
        text.error(err)
        if fix_label:
            next_step("graph", fix_label)
        st.stop()
    return tab, r
