"""FairCauseSyn Studio: the dashboard entry point (`make run`).

Sets the page up, restores the last session from the workspace folder and hands over to
the five step pages. All computation lives in faircause_core; the app's own code (session,
caches, jobs, editor logic) in faircause_app; pages only draw.
"""

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from faircause_app import state  # noqa: E402
from faircause_core.errors import InputError  # noqa: E402
from faircause_core.workflow import workspace  # noqa: E402

st.set_page_config(page_title="FairCauseSyn Studio", page_icon=str(HERE / "assets" / "logo.svg"), layout="wide")
st.markdown(f"<style>{(HERE / 'assets' / 'style.css').read_text(encoding='utf-8')}</style>", unsafe_allow_html=True)
st.logo(str(HERE / "assets" / "logo.svg"))

with st.sidebar:
    st.caption("Workspace folder (runs, data and the last session are kept here)")
    typed = st.text_input("Workspace folder", value=state.root(), key="w_workspace", label_visibility="collapsed")
    try:
        st.session_state.workspace_root = str(workspace.workspace_root(typed))
    except InputError as err:
        st.error(str(err))
    st.caption("Patient data never leaves this machine.")

state.restore()

PAGES = [
    st.Page("pages/1_data.py", title="1 Data", icon=":material/table:", url_path="data", default=True),
    st.Page("pages/2_graph.py", title="2 Causal graph", icon=":material/account_tree:", url_path="graph"),
    st.Page("pages/3_audit.py", title="3 Fairness audit", icon=":material/balance:", url_path="audit"),
    st.Page("pages/4_generate.py", title="4 Generate", icon=":material/auto_awesome:", url_path="generate"),
    st.Page("pages/5_compare.py", title="5 Compare", icon=":material/compare:", url_path="compare"),
]
page = st.navigation(PAGES)
page.run()
