"""The dashboard through Streamlit's AppTest: every page cold, then the demo end to end."""

import time

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

PAGES = ["pages/1_data.py", "pages/2_graph.py", "pages/3_audit.py", "pages/4_generate.py", "pages/5_compare.py"]


def texts(elements):
    return [e.value for e in elements]


def finished(at) -> bool:
    return "run_id" in at.session_state and bool(at.session_state["run_id"])


def no_problems(at):
    assert not at.exception, texts(at.exception)


@pytest.fixture()
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRCAUSE_WORKSPACE", str(tmp_path / "ws"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    return at


def test_every_page_cold_shows_guidance(app):
    no_problems(app)
    assert "upload a file" in app.info[0].value
    hints = {"pages/2_graph.py": "Load data first", "pages/3_audit.py": "Load data first",
             "pages/4_generate.py": "Load data first", "pages/5_compare.py": "No runs yet"}
    for page, hint in hints.items():
        app.switch_page(page).run()
        no_problems(app)
        assert any(hint in t for t in texts(app.info)), (page, texts(app.info))
        assert any("1 Data" in m and "5 Compare" in m for m in texts(app.markdown))  # step bar


def test_bad_upload_is_one_error_line(app):
    app.file_uploader(key="w_upload").upload("broken.csv", b"\x00\x01\x02binary", "text/csv").run()
    no_problems(app)
    assert len(app.error) == 1 and "broken.csv" in app.error[0].value and "\n" not in app.error[0].value


def test_demo_end_to_end(app):
    at = app
    at.button(key="w_demo").click().run()
    no_problems(at)
    assert "1,629 rows" in at.subheader[0].value
    assert len(at.dataframe) >= 1

    at.switch_page("pages/2_graph.py").run()
    no_problems(at)
    assert at.selectbox(key="w_x").value == "sex" and at.selectbox(key="w_y").value == "death"
    at.selectbox(key="w_x0_sex").set_value("Male")
    at.selectbox(key="w_x1_sex").set_value("Female").run()
    at.button(key="w_discover").click().run()
    no_problems(at)
    assert not at.error, texts(at.error)
    graph = at.session_state["graph"]
    assert len(graph["edges"]) > 0

    # Simulate the editor returning an edit: one fine edge and one that closes a cycle.
    from faircause_core.causal.graph import CausalGraph
    from streamlit_flow.elements import StreamlitFlowEdge

    g = CausalGraph.from_dict(graph)
    a, b = g.edges[0]
    free = next((p, c) for p in g.nodes for c in g.nodes
                if p != c and not g.has_edge(p, c) and not g.has_edge(c, p)
                and CausalGraph.find_cycle(g.nodes, list(g.edges) + [(p, c)]) is None
                and c != "sex" and p != "death")
    state = at.session_state["flow_state"]
    state.edges.append(StreamlitFlowEdge(f"st-flow-edge_{b}-{a}", b, a))  # closes a -> b -> a
    state.edges.append(StreamlitFlowEdge(f"st-flow-edge_{free[0]}-{free[1]}", free[0], free[1]))
    at.session_state["flow_state"] = state
    at.run()
    no_problems(at)
    assert any("refused" in e and f"{a} -> {b} -> {a}" in e for e in texts(at.error)), texts(at.error)
    edges = {tuple(e) for e in at.session_state["graph"]["edges"]}
    assert (b, a) not in edges and free in edges
    rebuilt = at.session_state["flow_state"]
    assert all(e.marker_end.get("type") == "arrowclosed" for e in rebuilt.edges)
    assert {(e.source, e.target) for e in rebuilt.edges} == edges
    roles_table = at.dataframe[-1].value
    assert set(roles_table["column"]) == set(g.nodes)

    at.switch_page("pages/3_audit.py").run()
    no_problems(at)
    assert not at.error, texts(at.error)
    assert len(at.get("plotly_chart")) == 1
    words = " ".join(texts(at.markdown))
    assert "Through the direct path alone" in words
    at.radio(key="w_method").set_value("plugin").run()
    no_problems(at)

    at.switch_page("pages/4_generate.py").run()
    no_problems(at)
    at.radio(key="w_generator").set_value("bayesnet")
    at.number_input(key="w_rows").set_value(300)
    at.checkbox(key="w_refine").uncheck()
    at.button(key="w_start").click().run()
    deadline = time.time() + 240
    while time.time() < deadline and not finished(at):
        assert not at.error, texts(at.error)
        time.sleep(1.0)
        at.run()
    no_problems(at)
    assert at.session_state["run_id"], "generation did not finish"

    at.switch_page("pages/5_compare.py").run()
    no_problems(at)
    assert not at.error, texts(at.error)
    assert len(at.get("plotly_chart")) >= 5  # fairness, quality, distribution, heatmaps, utility, ...
    assert len(at.get("download_button")) >= 3

    # A restart (new session) restores the data, question and graph from the workspace.
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    fresh.run()
    assert fresh.session_state["problem"]["x0"] == "Male"
    assert {tuple(e) for e in fresh.session_state["graph"]["edges"]} == edges


def test_outcome_coding_is_shown_and_chosen_on_the_graph_page(app):
    """Y = 1 is stated; a Deceased/Living outcome defaults to Deceased; the choice reaches the roles."""
    import pandas as pd

    df = pd.read_csv(ROOT / "assets" / "nhefs_cohort.csv").head(400)
    df["death"] = df["death"].map({1: "Deceased", 0: "Living"})
    app.file_uploader(key="w_upload").upload("coded.csv", df.to_csv(index=False).encode(), "text/csv").run()
    app.switch_page("pages/2_graph.py").run()
    no_problems(app)
    assert app.selectbox(key="w_y").value == "death"
    box = app.selectbox(key="w_pos_death")
    assert box.value == "Deceased" and set(box.options) == {"Deceased", "Living"}
    assert any("Y = 1 means death=Deceased" in c for c in texts(app.caption))
    box.select("Living").run()
    no_problems(app)
    assert any("Y = 1 means death=Living" in c for c in texts(app.caption))
    assert app.session_state["problem"]["positive"] == "Living"
