"""The dashboard through Streamlit's AppTest: every page cold, then the demo end to end."""

import time

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_app_generate import wait_while_job_runs

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
    assert len(app.error) == 1 and "broken.csv" in plain(app.error[0].value) and "\n" not in app.error[0].value


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
    fixed = set(at.multiselect(key="w_fixed_sex_death").value)  # nothing may point into a baseline column
    free = next((p, c) for p in g.nodes for c in g.nodes
                if p != c and not g.has_edge(p, c) and not g.has_edge(c, p)
                and CausalGraph.find_cycle(g.nodes, list(g.edges) + [(p, c)]) is None
                and c != "sex" and p != "death" and c not in fixed)
    state = at.session_state["flow_state"]
    state.edges.append(StreamlitFlowEdge(f"st-flow-edge_{b}-{a}", b, a))  # closes a -> b -> a
    state.edges.append(StreamlitFlowEdge(f"st-flow-edge_{free[0]}-{free[1]}", free[0], free[1]))
    at.session_state["flow_state"] = state
    at.run()
    no_problems(at)
    assert any("refused" in e and f"{a} -> {b} -> {a}" in e for e in map(plain, texts(at.error))), texts(at.error)
    edges = {tuple(e) for e in at.session_state["graph"]["edges"]}
    assert (b, a) not in edges and free in edges
    rebuilt = at.session_state["flow_state"]
    assocs = {tuple(e) for e in at.session_state["graph"].get("associations") or []}
    assert all(e.marker_end.get("type") == "arrowclosed" for e in rebuilt.edges if (e.source, e.target) not in assocs)
    assert all(e.marker_end == "" for e in rebuilt.edges if (e.source, e.target) in assocs)  # no arrowhead
    assert {(e.source, e.target) for e in rebuilt.edges} == edges | assocs
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
    assert at.number_input(key="w_rows").value == 1629  # defaults to the cohort's size
    from faircause_core.generators.base import MAX_GENERATED_ROWS

    assert at.number_input(key="w_rows").proto.max == MAX_GENERATED_ROWS == 1_000_000  # what a run can deliver
    at.number_input(key="w_rows").set_value(300)
    at.checkbox(key="w_refine").uncheck()
    at.button(key="w_start").click().run()
    deadline = time.time() + 240
    while time.time() < deadline and not finished(at):
        assert not at.error, texts(at.error)
        wait_while_job_runs(2.0)  # read the page again once the run ends
        at.run()
    no_problems(at)
    assert at.session_state["run_id"], "generation did not finish"

    at.switch_page("pages/5_compare.py").run()
    no_problems(at)
    assert not at.error, texts(at.error)
    # Only the open tab is drawn (lazy tabs): the fairness tab's two charts, no downloads yet.
    assert [c.key for c in at.get("plotly_chart")] == ["cmp_effects", "cmp_rounds"]
    assert not at.get("download_button")
    charts = 0
    for label in ("Fidelity", "Utility and privacy", "Trade-off (runs of this data set)", "Downloads"):
        at.session_state["w_cmp_tab"] = label
        at.run()
        no_problems(at)
        charts += len(at.get("plotly_chart"))
    assert charts >= 4  # quality, distribution, heatmaps, utility, trade-off ...
    assert len(at.get("download_button")) >= 3
    at.session_state["w_cmp_tab"] = "Fairness"
    at.run()

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
    assert any("Y = 1 means death=Deceased" in plain(c) for c in texts(app.caption))
    box.select("Living").run()
    no_problems(app)
    assert any("Y = 1 means death=Living" in plain(c) for c in texts(app.caption))
    assert app.session_state["problem"]["positive"] == "Living"


# ------------------------------------------------------------- issue 7: marks, check, refusals

FLCHAIN = ROOT.parent / "shared" / "data" / "flchain_cohort.csv"


def upload(at, path, rows=None):
    """Upload a CSV (optionally its first rows) through the data page, then open the graph page."""
    import pandas as pd

    content = path.read_bytes() if rows is None else pd.read_csv(path).head(rows).to_csv(index=False).encode()
    at.file_uploader(key="w_upload").upload(path.name, content, "text/csv").run()
    no_problems(at)
    at.switch_page("pages/2_graph.py").run()
    no_problems(at)
    return at


def demo_graph_page(at, discover=True):
    """The demo on the graph page with sex (Male -> Female) and death, the graph discovered."""
    at.button(key="w_demo").click().run()
    at.switch_page("pages/2_graph.py").run()
    at.selectbox(key="w_x0_sex").set_value("Male")
    at.selectbox(key="w_x1_sex").set_value("Female").run()
    if discover:
        at.button(key="w_discover").click().run()
    no_problems(at)
    assert not at.error, texts(at.error)
    return at


def plain(text: str) -> str:
    """Markdown source as the reader sees it (md() escapes data text with backslashes)."""
    import re

    return re.sub(r"\\(.)", r"\1", text)


def remove_edge_by_name(at, a, b):
    at.selectbox(key="w_edge_from").set_value(a)
    at.selectbox(key="w_edge_to").set_value(b)
    at.button(key="w_edge_remove").click().run()
    no_problems(at)
    assert (a, b) not in {tuple(e) for e in at.session_state["graph"]["edges"]}


@pytest.mark.skipif(not FLCHAIN.exists(), reason="../shared/data/flchain_cohort.csv is not here")
def test_flchain_marks_are_suggested_with_reasons_and_reach_discovery(app):
    at = upload(app, FLCHAIN)
    assert at.selectbox(key="w_x").value == "sex" and at.selectbox(key="w_y").value == "death"
    assert at.multiselect(key="w_after_outcome_sex_death").value == ["futime", "chapter"]
    assert "age" in at.multiselect(key="w_fixed_sex_death").value
    assert at.multiselect(key="w_exclude_sex_death").value == []
    reasons = " ".join(m for m in texts(at.markdown) if "Suggested because" in m)
    assert "futime" in reasons and "chapter" in reasons and "known only after the outcome" in reasons
    assert "recorded because of the outcome" in reasons  # chapter: missing for the living
    assert at.session_state["after_outcome"] == ["futime", "chapter"]

    at.button(key="w_discover").click().run()
    no_problems(at)
    assert not at.error, texts(at.error)
    from faircause_core.causal.graph import CausalGraph, derive_roles

    g = CausalGraph.from_dict(at.session_state["graph"])
    roles = derive_roles(g, "sex", "death")
    assert "futime" not in roles.z + roles.w and "chapter" not in roles.z + roles.w
    assert g.has_edge("death", "futime") and not g.children("chapter")  # generated after Y, causes nothing
    assert g.has_edge("sex", "death")  # assumed by the standard fairness model
    # found vs assumed: an assumed edge is drawn dashed, a found one solid, and the legend says so
    found = CausalGraph.from_dict(at.session_state["found"])
    styles = {(e.source, e.target): e.style for e in at.session_state["flow_state"].edges}
    assumed = [e for e in g.edges if not found.has_edge(*e)]
    assert assumed and all("strokeDasharray" in styles[e] for e in assumed)
    assert all("strokeDasharray" not in styles[e] for e in found.edges)
    assert any("dashed: assumed by the standard fairness model" in c for c in texts(at.caption))

    # marks that contradict each other: one error line, discovery disabled
    at.multiselect(key="w_fixed_sex_death").select("futime").run()
    no_problems(at)
    assert [plain(e) for e in texts(at.error) if "futime" in e] == [
        "'futime' is marked both fixed and recorded after the outcome; choose one"]
    assert at.button(key="w_discover").disabled

    # the marks persist: a restart restores them from session.json
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    fresh.run()
    assert fresh.session_state["after_outcome"] == ["futime", "chapter"]
    assert "futime" in fresh.session_state["fixed"]


def test_excluded_column_leaves_the_graph_the_discovery_and_the_audit(app):
    at = demo_graph_page(app)
    assert "cholesterol" in at.session_state["graph"]["nodes"]
    at.multiselect(key="w_exclude_sex_death").select("cholesterol").run()
    no_problems(at)
    assert any("excluded: cholesterol" in i for i in texts(at.info)), texts(at.info)
    assert "cholesterol" not in at.session_state["graph"]["nodes"]
    assert set(at.dataframe[-1].value["column"]) == set(at.session_state["graph"]["nodes"])
    at.button(key="w_discover").click().run()
    no_problems(at)
    assert "cholesterol" not in at.session_state["graph"]["nodes"]
    assert "cholesterol" not in at.session_state["found"]["nodes"]
    assert len(at.session_state["graph"]["nodes"]) == 14

    at.switch_page("pages/3_audit.py").run()
    no_problems(at)
    assert not at.error, texts(at.error)
    assert len(at.get("plotly_chart")) == 1

    # the exclusion is saved, and new data clears it (as it clears the question and graph)
    import json
    import os
    from pathlib import Path

    saved = json.loads((Path(os.environ["FAIRCAUSE_WORKSPACE"]) / "session.json").read_text())
    assert saved["exclude"] == ["cholesterol"] and saved["marks_for"] == ["sex", "death"]
    at.switch_page("pages/1_data.py").run()
    upload(at, ROOT / "assets" / "nhefs_cohort.csv", rows=600)
    assert at.session_state["exclude"] == [] and at.multiselect(key="w_exclude_sex_death").value == []


def test_a_session_saved_before_the_marks_existed_still_loads(tmp_path, monkeypatch):
    """session.json from before issue 7 (no after_outcome, exclude, marks_for, found keys)."""
    import json

    from faircause_core.workflow import workspace

    ws = tmp_path / "ws"
    monkeypatch.setenv("FAIRCAUSE_WORKSPACE", str(ws))
    data_id = workspace.save_data((ROOT / "assets" / "nhefs_cohort.csv").read_bytes(), "nhefs_cohort.csv", root=ws)
    from tests.conftest import DEMO_EDGES

    from faircause_core.causal.graph import CausalGraph
    from faircause_core.io.data import load_table

    g = CausalGraph(load_table(ROOT / "assets" / "nhefs_cohort.csv").schema.names, DEMO_EDGES)
    old = {"data_id": data_id, "kinds": {}, "fixed": ["age"], "graph": g.to_dict(), "discovered": g.to_dict(),
           "problem": {"x": "sex", "x0": "Male", "x1": "Female", "y": "death", "threshold": None, "positive": "1"}}
    workspace.save_session(old, root=ws)
    assert "exclude" not in json.loads((ws / "session.json").read_text())
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/2_graph.py").run()
    no_problems(at)
    assert not at.error, texts(at.error)
    assert {tuple(e) for e in at.session_state["graph"]["edges"]} == set(DEMO_EDGES)
    assert at.multiselect(key="w_exclude_sex_death").value == []
    assert set(at.multiselect(key="w_fixed_sex_death").value) == {"age", "race"}  # the suggestions
    assert any("No discovery has run" in c for c in texts(at.caption))  # no found graph saved: all solid


def test_graph_check_warns_and_one_click_adds_the_edge(app):
    at = demo_graph_page(app)
    # The discovered graph keeps every pathway edge: nothing to test, said in a neutral box (issue 19.11)
    assert any(s.startswith("Nothing to test") for s in texts(at.info)) and not texts(at.success)
    remove_edge_by_name(at, "sex", "death")
    warning = [plain(w) for w in texts(at.warning) if "sex does not affect death directly" in w]
    assert len(warning) == 1 and warning[0].startswith("The data contradicts"), texts(at.warning)
    assert "p = 0.0" in warning[0] or "p < 0.001" in warning[0]
    at.button(key="w_fix_sex_death").click().run()
    no_problems(at)
    assert ("sex", "death") in {tuple(e) for e in at.session_state["graph"]["edges"]}
    assert ("sex", "death") in {(e.source, e.target) for e in at.session_state["flow_state"].edges}
    assert not [w for w in texts(at.warning) if "sex does not affect death" in w]
    assert any(s.startswith("Nothing to test") for s in texts(at.info)) and not texts(at.success)


def test_the_found_only_view_hides_assumed_edges_and_an_edit_there_keeps_them(app):
    """Issue 19 item 10: the toggle hides the assumed edges and says how many; the editor then
    returns only the edges it shows, and deleting one of them removes that edge alone."""
    from faircause_core.causal.graph import CausalGraph

    at = demo_graph_page(app)
    g = CausalGraph.from_dict(at.session_state["graph"])
    found = CausalGraph.from_dict(at.session_state["found"])
    assert not at.session_state["flow_state"].hidden  # the whole graph first
    at.toggle(key="w_found_only").set_value(True).run()
    no_problems(at)
    state = at.session_state["flow_state"]
    hidden = set(state.hidden)
    links = set(g.associations)  # the backbone's z - X associations: assumed, found by no search
    assert links and links <= hidden and hidden - links and hidden - links <= set(g.edges) - set(found.edges)
    assert {(e.source, e.target) for e in state.edges} == (set(g.edges) | links) - hidden
    said = f"{len(hidden - links)} assumed edges and {len(links)} assumed association"
    assert any(c.startswith(said) for c in texts(at.caption)), texts(at.caption)
    drop = next(e for e in state.edges if found.has_edge(e.source, e.target))
    state.edges.remove(drop)  # deleted in the editor, in the filtered view
    at.session_state["flow_state"] = state
    at.run()
    no_problems(at)
    assert {tuple(e) for e in at.session_state["graph"]["edges"]} == set(g.edges) - {(drop.source, drop.target)}
    assert {tuple(e) for e in at.session_state["graph"]["associations"]} == links
    assert at.toggle(key="w_found_only").value and set(at.session_state["flow_state"].hidden) == hidden
    at.toggle(key="w_found_only").set_value(False).run()
    assert not at.session_state["flow_state"].hidden and not [c for c in texts(at.caption) if "edges hidden" in c]


def test_audit_warns_when_the_graph_omits_a_direct_effect_the_data_shows(app):
    at = demo_graph_page(app)
    at.switch_page("pages/3_audit.py").run()
    no_problems(at)
    assert not [w for w in texts(at.warning) if "directly" in w]  # the edge is there: no warning
    at.switch_page("pages/2_graph.py").run()
    remove_edge_by_name(at, "sex", "death")
    at.switch_page("pages/3_audit.py").run()
    no_problems(at)
    lines = [plain(w) for w in texts(at.warning) if "does not affect death directly" in w]
    assert len(lines) == 1 and "add the edge sex -> death" in lines[0], texts(at.warning)
    assert "95% CI" in lines[0]


def test_generate_refuses_an_edit_the_graph_has_no_path_for(app):
    at = demo_graph_page(app)
    remove_edge_by_name(at, "sex", "death")
    at.switch_page("pages/4_generate.py").run()
    no_problems(at)
    assert not at.button(key="w_start").disabled
    assert not [w for w in texts(at.warning) if "no direct path" in w]
    at.selectbox(key="w_mode_de").set_value("remove").run()
    no_problems(at)
    lines = [w for w in texts(at.warning) if "no direct path from sex to death" in w]
    assert len(lines) == 1 and "no direct effect to remove" in lines[0], texts(at.warning)
    assert at.button(key="w_start").disabled
    at.selectbox(key="w_mode_de").set_value("partial").run()
    assert at.button(key="w_start").disabled  # any share of a missing pathway is refused
    at.selectbox(key="w_mode_de").set_value("keep").run()
    assert not at.button(key="w_start").disabled


# ------------------------------------------------------------- issue 12: data text stays text

X_MD, Y_LINK, AGE_LINK, CONST_LINK = "**x**", "[link](http://example.com)", "[age](http://example.com)", "[c](http://e.com)"


def hostile_csv() -> bytes:
    """Columns named like Markdown: X `**x**` (3 groups, so a note quotes it), a link as Y, a
    link-named age (a suggested mark whose reason quotes it) and a constant link (a load warning)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 600
    x = rng.choice(["a", "b", "c"], n)
    age = rng.integers(20, 80, n)
    y = (rng.random(n) < 0.2 + 0.2 * (x == "b") + 0.004 * (age - 20)).astype(int)
    return pd.DataFrame({X_MD: x, AGE_LINK: age, CONST_LINK: 1, Y_LINK: y}).to_csv(index=False).encode()


def assert_inert(messages):
    """No message's Markdown source holds a name unescaped; each that names one holds md(name)."""
    from faircause_app.text import md

    for m in messages:
        for name in (X_MD, Y_LINK, AGE_LINK, CONST_LINK, "(http://"):
            assert name not in m, m
    named = [m for m in messages if any(n in plain(m) for n in (X_MD, Y_LINK, AGE_LINK, CONST_LINK))]
    assert all(any(md(n) in m for n in (X_MD, Y_LINK, AGE_LINK, CONST_LINK)) for m in named), named
    return named


def shown(at) -> list[str]:
    return [e.value for kind in ("error", "warning", "info", "success", "caption", "markdown", "subheader")
            for e in getattr(at, kind)]


def test_markdown_in_column_and_file_names_is_shown_literally(app):
    """Data page (file name, load warning), graph page (question note, widget labels, mark
    reasons, graph check) and an error path: the Markdown source escapes every special, so
    `**x**` is not bold and `[link](...)` is not a link."""
    from pathlib import Path

    from faircause_app.text import md

    at = app
    at.file_uploader(key="w_upload").upload(f"{Y_LINK}.csv", hostile_csv(), "text/csv").run()
    no_problems(at)
    named = assert_inert(shown(at))
    assert any(f"Loaded {md(Y_LINK)}" in s for s in texts(at.success)), texts(at.success)
    assert any(md(CONST_LINK) in w and "single value" in w for w in texts(at.warning)), texts(at.warning)
    assert at.subheader[0].value.startswith(md(Path(f"{Y_LINK}.csv").name) + ":")  # the loader keeps the base name

    at.switch_page("pages/2_graph.py").run()
    no_problems(at)
    assert at.selectbox(key="w_x").value == X_MD and at.selectbox(key="w_y").value == Y_LINK
    assert_inert(shown(at))
    assert any(md(X_MD) in w and "3 groups" in w for w in texts(at.warning)), texts(at.warning)
    from faircause_app.text import label  # a widget label: inert, without backslashes it does not need

    assert at.selectbox(key=f"w_pos_{Y_LINK}").label == f"Which value of {label(Y_LINK)} counts as the outcome (Y = 1)?"
    assert "(http\\://" in at.selectbox(key=f"w_pos_{Y_LINK}").label  # the link stays text
    reasons = [m for m in texts(at.markdown) if "Suggested because" in m]
    assert reasons and md(AGE_LINK) in reasons[0], texts(at.markdown)
    assert any(f"Y = 1 means {md(Y_LINK + '=1')}" in c for c in texts(at.caption)), texts(at.caption)

    at.button(key="w_discover").click().run()
    no_problems(at)
    assert not at.error, texts(at.error)
    assert_inert(shown(at))
    checked = [m for m in texts(at.success) + texts(at.warning) + texts(at.info) + texts(at.caption) if "pathway edge" in m
               or "does not affect" in plain(m) or "not tested" in plain(m)]
    assert checked, shown(at)  # the graph check ran and said so
    at.button(key="w_reset").click().run()  # the same graph again: nothing new, nothing broken
    no_problems(at)

    # error paths: a question that cannot be estimated, and a file that cannot be read, both name data
    at.selectbox(key="w_x").set_value(CONST_LINK).run()
    no_problems(at)
    assert at.error and assert_inert(texts(at.error)), texts(at.error)
    at.switch_page("pages/1_data.py").run()
    bad = "**x** [link](javascript:alert(1)).csv"
    at.file_uploader(key="w_upload").upload(bad, b"\x00\x01\x02binary", "text/csv").run()
    no_problems(at)
    assert len(at.error) == 1 and at.error[0].value.startswith(md(bad)), texts(at.error)
    assert "[link](" not in at.error[0].value and "**x**" not in at.error[0].value
    assert named


def test_two_tabs_keep_their_own_session(app):
    """A tab's reload (same ?sid=) restores that tab's marks, even after another tab changed its
    own; a new tab starts from the latest saved."""
    a = app
    a.button(key="w_demo").click().run()
    a.switch_page("pages/2_graph.py").run()
    sid_a = a.session_state["session_id"]
    b = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    b.run()
    sid_b = b.session_state["session_id"]
    assert sid_b != sid_a and b.session_state["data_id"] == a.session_state["data_id"]  # started from the latest
    b.switch_page("pages/2_graph.py").run()
    no_problems(b)
    b.multiselect(key="w_fixed_sex_death").select("exercise").run()
    no_problems(b)
    assert "exercise" in b.session_state["fixed"]

    again_a = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    again_a.query_params["sid"] = sid_a
    again_a.run()
    assert again_a.session_state["session_id"] == sid_a
    assert "exercise" not in again_a.session_state["fixed"]
    again_b = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    again_b.query_params["sid"] = sid_b
    again_b.run()
    assert "exercise" in again_b.session_state["fixed"]
