"""FairCauseSyn Studio: the dashboard entry point (`make run`).

Sets the page up, restores the last session from the workspace folder and hands over to
the five step pages. All computation lives in faircause_core; the app's own code (session,
caches, jobs, editor logic) in faircause_app; pages only draw.

Everything runs inside main(), only when Streamlit runs this file as __main__: while a page
runs, Streamlit makes this script the __main__ module, and a process that multiprocessing
starts then (a generation, a sweep, a page's engine call) re-imports __main__ by path as
__mp_main__. Without the guard every such process ran the whole app once, headless.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))

    import streamlit as st

    from faircause_app import cache, nav, serving, state
    from faircause_core.errors import InputError
    from faircause_core.workflow import workspace

    st.session_state[nav.THROUGH_APP] = True  # see nav.through_app
    st.set_page_config(page_title="FairCauseSyn Studio", page_icon=str(HERE / "assets" / "logo.svg"), layout="wide")
    st.markdown(f"<style>{(HERE / 'assets' / 'style.css').read_text(encoding='utf-8')}</style>",
                unsafe_allow_html=True)
    st.logo(str(HERE / "assets" / "logo.svg"))

    with st.sidebar:
        st.caption("Workspace folder (runs, data and the last session are kept here)")
        typed = st.text_input("Workspace folder", value=state.root(), key="w_workspace", label_visibility="collapsed")
        try:
            st.session_state.workspace_root = str(workspace.workspace_root(typed))
        except InputError as err:
            st.error(str(err))
        st.caption("Patient data never leaves this machine.")

    serving.components_uncompressed()
    cache.warm()
    state.restore()

    data_page = st.Page("pages/1_data.py", title="1 Data", icon=":material/table:", url_path="data")
    # Every step has its own address (/data, /graph, ...): the default page is served at / and
    # its url_path ignored, so /data was "Page not found" while step 1 was the default. The
    # default is a hidden page that hands over to step 1 at once.
    home = st.Page(lambda: st.switch_page(data_page), title="FairCauseSyn Studio", url_path="home",
                   default=True, visibility="hidden")
    pages = [
        home, data_page,
        st.Page("pages/2_graph.py", title="2 Causal graph", icon=":material/account_tree:", url_path="graph"),
        st.Page("pages/3_audit.py", title="3 Fairness audit", icon=":material/balance:", url_path="audit"),
        st.Page("pages/4_generate.py", title="4 Generate", icon=":material/auto_awesome:", url_path="generate"),
        st.Page("pages/5_compare.py", title="5 Compare", icon=":material/compare:", url_path="compare"),
    ]
    st.navigation(pages).run()


if __name__ == "__main__":
    main()
