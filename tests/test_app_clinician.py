"""Issue 19 through Streamlit's AppTest, on the demo, flchain and medpar (shared cohorts) and
small made-up tables: the default outcome (12), group-name hints that do not guess (8), a
graph check with nothing to test (11), labels without Markdown backslashes, a 1-row CSV and
the step addresses (13), the fair-predictor panel of a mirror run (7), and the audit and
compare pages showing the decomposition's own numbers, with words that follow the bands (1, 2).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import DEMO, ROOT
from tests.test_app import app, plain, texts  # noqa: F401  (app: the fixture, a fresh workspace)

SHARED = ROOT.parent / "shared" / "data"  # ../shared beside the clone, as CI has it
FLCHAIN, MEDPAR = SHARED / "flchain_cohort.csv", SHARED / "medpar_cohort.csv"
needs_shared = pytest.mark.skipif(not (FLCHAIN.exists() and MEDPAR.exists()), reason="shared cohorts not here")


def ok(at):
    assert not at.exception, texts(at.exception)


def upload(at, name: str, frame: pd.DataFrame):
    at.file_uploader(key="w_upload").upload(name, frame.to_csv(index=False).encode(), "text/csv").run()
    ok(at)
    return at


def framingham_like(n: int = 400) -> pd.DataFrame:
    """The shape of the 4,240-patient cohort whose default outcome was `currentSmoker`: an
    exposure named like one, several two-valued columns, and the outcome last (TenYearCHD)."""
    rng = np.random.default_rng(0)
    return pd.DataFrame({"male": rng.integers(0, 2, n), "age": rng.integers(32, 70, n),
                         "currentSmoker": rng.integers(0, 2, n), "cigsPerDay": rng.integers(0, 40, n),
                         "BPMeds": rng.integers(0, 2, n), "diabetes": rng.integers(0, 2, n),
                         "sysBP": rng.normal(130, 20, n).round(1), "TenYearCHD": rng.integers(0, 2, n)})


def last_is_outcome(n: int = 300) -> pd.DataFrame:
    """No column reads as an outcome: the last two-valued one is it."""
    rng = np.random.default_rng(1)
    return pd.DataFrame({"sex": rng.choice(["F", "M"], n), "smoker": rng.integers(0, 2, n),
                         "anaemia": rng.integers(0, 2, n), "age": rng.integers(40, 90, n),
                         "readmit30": rng.integers(0, 2, n)})


# ------------------------------------------------------------ item 12: default outcome

@needs_shared
def test_the_default_outcome_rule_on_the_cohorts_and_made_up_tables():
    from faircause_core.causal.question import default_outcome

    assert default_outcome(pd.read_csv(DEMO), exclude=["sex"]) == "death"
    assert default_outcome(pd.read_csv(FLCHAIN), exclude=["sex"]) == "death"
    assert default_outcome(pd.read_csv(MEDPAR), exclude=["los"]) == "died"
    assert default_outcome(framingham_like(), exclude=["male"]) == "TenYearCHD"
    assert default_outcome(last_is_outcome(), exclude=["sex"]) == "readmit30"
    heart = pd.DataFrame({"anaemia": [0, 1] * 10, "smoking": [1, 0] * 10, "sex": [0, 1] * 10,
                          "DEATH_EVENT": [0, 0, 1, 1] * 5, "time": range(20)})
    assert default_outcome(heart, exclude=["sex"]) == "DEATH_EVENT"
    only_exposures = pd.DataFrame({"treatment": [0, 1] * 5, "currentSmoker": [1, 0] * 5, "x": range(10)})
    assert default_outcome(only_exposures) is None  # never an exposure, even as the last resort


@needs_shared
@pytest.mark.parametrize("name, frame, x, y", [
    ("flchain_cohort.csv", lambda: pd.read_csv(FLCHAIN), "sex", "death"),
    ("medpar_cohort.csv", lambda: pd.read_csv(MEDPAR), "white", "died"),  # not los, its first column
    ("framingham_like.csv", framingham_like, "male", "TenYearCHD"),
    ("last_is_outcome.csv", last_is_outcome, "sex", "readmit30"),
])
def test_the_question_form_proposes_the_sensitive_attribute_and_the_outcome(app, name, frame, x, y):
    upload(app, name, frame())
    app.switch_page("pages/2_graph.py").run()
    ok(app)
    assert app.selectbox(key="w_x").value == x
    assert app.selectbox(key="w_y").value == y


@needs_shared
def test_the_default_sensitive_attribute_is_a_column_of_groups():
    """On medpar the form proposed its first column, los (a length of stay): groups "1" and
    "10" passed the question, discovery and the graph check, and the run then failed. Now a
    column named like a protected attribute with a few groups is proposed, else the first
    two-valued column that is neither an exposure nor the outcome; never a measurement."""
    from faircause_core.causal.question import default_sensitive

    assert default_sensitive(pd.read_csv(DEMO)) == "sex"
    assert default_sensitive(pd.read_csv(FLCHAIN)) == "sex"
    assert default_sensitive(pd.read_csv(MEDPAR)) == "white"
    assert default_sensitive(framingham_like()) == "male"
    coded = pd.DataFrame({"los": range(40), "smoker": [0, 1] * 20, "insured": [1, 0, 0, 1] * 10,
                          "died": [0, 0, 1, 1] * 10})
    assert default_sensitive(coded) == "insured"  # no protected name: the first two-valued non-exposure, not Y
    many = pd.DataFrame({"race": [str(i) for i in range(60)] * 2, "Gender": ["F", "M"] * 60, "y": [0, 1] * 60})
    assert default_sensitive(many) == "Gender"  # 60 races are past the 50 groups a form can hold
    assert default_sensitive(pd.DataFrame({"los": range(10), "age": range(10)})) is None


@needs_shared
def test_a_measurement_is_refused_as_the_sensitive_attribute_with_one_line():
    """The question, not the run four steps later, refuses a numeric X of many values."""
    from faircause_core.causal.question import MAX_NUMERIC_GROUPS, Question
    from faircause_core.errors import InputError

    from faircause_core.causal.fairness import decompose
    from faircause_core.causal.question import FairnessProblem, default_sensitive
    from faircause_core.io.data import table_from_frame

    med = pd.read_csv(MEDPAR)
    table = table_from_frame(med, name="medpar_cohort.csv")
    with pytest.raises(InputError, match=r"^sensitive attribute 'los' is a measurement with \d+ distinct numbers"):
        FairnessProblem("los", "1", "10", "died").resolve(table)
    assert FairnessProblem("white", "0", "1", "died").resolve(table).x1 == 1  # a coded group column is fine
    few = med.assign(los=med["los"].clip(upper=MAX_NUMERIC_GROUPS))  # ten numbers: still groups
    assert FairnessProblem("los", "1", "10", "died").resolve(table_from_frame(few, name="f.csv")).x0 == 1
    # a number the user typed as categories is groups, in the question and in the audit's bare frame
    typed = table.with_kinds({"los": "categorical"})
    assert FairnessProblem("los", "1", "10", "died").resolve(typed).x1 == 10
    assert Question.resolve(med, "los", "1", "10", "died").x1 == 10
    assert np.isfinite(decompose(typed.df, "los", 1, 10, "died", ["age80"], [], seed=0).to_frame().loc["tv", "estimate"])
    # integer codes of up to 12 values are ordinal groups (the schema's rule), kept exactly by the
    # generators: never refused, with or without the table's schema, and proposed by their name

    coded = pd.DataFrame({"race": np.arange(600) % 12 + 1, "died": (np.arange(600) // 7) % 2})
    assert Question.resolve(coded, "race", "1", "12", "died").x1 == 12
    assert FairnessProblem("race", "1", "12", "died").resolve(table_from_frame(coded, name="c.csv")).x1 == 12
    assert default_sensitive(coded) == "race"
    wide = coded.assign(race=np.arange(600) % 13 + 1)  # 13 integers: a number, binned by the generators
    with pytest.raises(InputError, match="is a measurement with 13 distinct numbers"):
        FairnessProblem("race", "1", "13", "died").resolve(table_from_frame(wide, name="w.csv"))


def test_the_demo_proposes_death(app):
    app.button(key="w_demo").click().run()
    app.switch_page("pages/2_graph.py").run()
    ok(app)
    assert app.selectbox(key="w_y").value == "death"


# ----------------------------------------------- item 8 and 13: hints and accessible labels

@needs_shared
@pytest.mark.parametrize("source", ["demo", "flchain", "heart"])
def test_group_hints_do_not_guess_and_labels_carry_no_backslashes(app, source):
    from faircause_app.panels import GROUP_HINT, OUTCOME_HINT

    if source == "demo":
        app.button(key="w_demo").click().run()
    elif source == "flchain":
        upload(app, "flchain_cohort.csv", pd.read_csv(FLCHAIN).head(1500))
    else:  # a coded sex and an outcome named DEATH_EVENT, as the 299-patient cohort
        rng = np.random.default_rng(2)
        upload(app, "heart.csv", pd.DataFrame({"age": rng.integers(40, 95, 299), "sex": rng.integers(0, 2, 299),
                                               "sample.yr": rng.integers(1995, 2003, 299),
                                               "DEATH_EVENT": rng.integers(0, 2, 299)}))
    app.switch_page("pages/2_graph.py").run()
    ok(app)
    boxes = [t for t in app.text_input if t.key and t.key.startswith("w_lab_")]
    x = app.selectbox(key="w_x").value
    x_boxes = [t for t in boxes if t.key.startswith(f"w_lab_{x}_")]
    assert len(x_boxes) == 2 and {t.placeholder for t in x_boxes} == {GROUP_HINT}, [t.placeholder for t in boxes]
    assert all(t.placeholder in (GROUP_HINT, OUTCOME_HINT) for t in boxes)
    assert not any(re.search(r"\b(men|women|died|survived)\b", t.placeholder) for t in boxes)
    for t in boxes:  # the accessible name is the label's raw text
        assert "\\" not in t.label, t.label
    if source == "heart":
        assert app.selectbox(key="w_y").value == "DEATH_EVENT"
        labels = [t.label for t in boxes] + [s.label for s in app.selectbox]
        assert "Words for DEATH_EVENT = 1" in labels
        assert "Which value of DEATH_EVENT counts as the outcome (Y = 1)?" in labels


def test_widget_labels_escape_only_what_could_act():
    from faircause_app.text import label

    assert label("DEATH_EVENT") == "DEATH_EVENT" and label("sample.yr") == "sample.yr"
    assert label("flc.grp = 3") == "flc.grp = 3"
    for hostile in ("[x](http://e.vil)", "**bold**", "_em_", "www.e.vil", "$x$", ":red[x]", "<b>x</b>", "a@b.c"):
        out = label(hostile)
        assert out != hostile and "\\" in out, hostile  # still inert


# ----------------------------------------------------------- item 11: nothing to test

def test_a_graph_check_with_nothing_to_test_is_neutral_not_green(app):
    from faircause_app.graph_blocks import check_verdict

    upload(app, "two_columns.csv", pd.read_csv(DEMO)[["sex", "death"]])  # X -> Y omits no pathway edge
    app.switch_page("pages/2_graph.py").run()
    app.button(key="w_empty").click().run()
    app.selectbox(key="w_edge_from").set_value("sex")
    app.selectbox(key="w_edge_to").set_value("death")
    app.button(key="w_edge_add").click().run()
    ok(app)
    assert not [w for w in texts(app.warning) if "contradicts" in w]
    assert not [s for s in texts(app.success) if "contradicts none" in s]
    said = [i for i in texts(app.info) if i.startswith("Nothing to test")]
    assert len(said) == 1 and "0 checked" not in said[0]
    assert check_verdict([], [])[0] == "info" and check_verdict([{"p_value": None}], [])[0] == "info"
    assert check_verdict([{"p_value": 0.4}], [{"p_value": 0.4}]) == (
        "success", "The data contradicts none of the graph's omitted pathway edges (1 checked).")


# ------------------------------------------------------------- item 13: a 1-row CSV

def test_a_one_row_csv_is_not_called_loaded_and_discover_is_not_offered(app):
    row = pd.read_csv(DEMO).head(1)
    upload(app, "one_row.csv", row)
    ok(app)
    assert not app.success, texts(app.success)
    assert any("too few to compare two groups" in w for w in texts(app.warning))
    app.switch_page("pages/2_graph.py").run()
    ok(app)
    assert app.button(key="w_discover").disabled
    infos = texts(app.info)
    assert not [i for i in infos if "click **Discover" in i], infos
    assert any("needs a valid question" in i for i in infos)


def test_every_step_has_its_own_address():
    source = (ROOT / "app.py").read_text()
    for path in ("data", "graph", "audit", "generate", "compare"):
        assert f'url_path="{path}"' in source
    # step 1 is not the default page (whose url_path Streamlit ignores, so /data was not found)
    assert re.search(r'st\.Page\("pages/1_data\.py"[^)]*\)', source) and "default=True" not in \
        re.search(r'st\.Page\("pages/1_data\.py"[^)]*\)', source).group(0)


# ---------------------------------------- items 1, 2, 7 on the audit and compare pages

def _figure(at, key: str) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.key == key)
    return json.loads(chart.proto.spec)


def _ys(trace) -> list:
    y = trace["y"]
    if isinstance(y, dict) and "bdata" in y:
        import base64

        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"])).tolist()
    return list(y)


def test_the_audit_page_shows_one_set_of_numbers_that_adds_up(app):
    from faircause_core.present.explain import EFFECT_WORDS, SYMBOLS

    app.button(key="w_demo").click().run()
    app.switch_page("pages/2_graph.py").run()
    app.selectbox(key="w_x0_sex").set_value("Male")
    app.selectbox(key="w_x1_sex").set_value("Female").run()
    app.button(key="w_discover").click().run()
    app.switch_page("pages/3_audit.py").run()
    ok(app)
    table = app.dataframe[0].value
    est = {e: float(table.loc[f"{EFFECT_WORDS[e]} ({SYMBOLS[e]})", "estimate (pp)"]) for e in EFFECT_WORDS}
    assert est["ctf_de"] - est["ctf_ie"] - est["ctf_se"] == pytest.approx(est["tv"], abs=0.02)  # rounded to 0.01
    bars = _figure(app, "audit_chart")["data"][0]
    assert dict(zip(bars["x"], np.round(_ys(bars), 2))) == pytest.approx(
        {EFFECT_WORDS[e]: v for e, v in est.items()}, abs=0.006)
    said = " ".join(plain(m) for m in texts(app.markdown))
    for e in ("tv", "ctf_de", "ctf_ie", "ctf_se"):
        line = next(m for m in said.split("- **") if m.startswith(EFFECT_WORDS[e] + "**"))
        if "no mediators" in line or "no confounders" in line:
            continue
        size, way = re.search(r"(\d+\.\d) percentage points (higher|lower)", line).groups()
        assert float(size) * (1 if way == "higher" else -1) == pytest.approx(est[e], abs=0.051), line
    assert any("total gap" in plain(c) and "\u2212 indirect" in plain(c) for c in texts(app.caption))


@pytest.fixture(scope="module")
def mirror_workspace(tmp_path_factory, demo_table, demo_graph, demo_roles):
    """One mirror run (nothing removed, refinement on: one measured round) in a workspace."""
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.workflow import workspace
    from faircause_core.workflow.pipeline import GenerationSettings, run_generation

    ws = tmp_path_factory.mktemp("mirror") / "ws"
    data_id = workspace.save_data(DEMO.read_bytes(), "nhefs_cohort.csv", root=ws)
    result = run_generation(demo_table, demo_graph, demo_roles, GenerationSettings(
        generator="bayesnet", rows=300, refine=True, measure_rows=3000, fairness=FairnessSpec()))
    run_id = workspace.save_run(result, graph=demo_graph, roles=demo_roles, data_id=data_id, root=ws)
    return ws, run_id, result


@pytest.fixture()
def mirror_compare(mirror_workspace, tmp_path, monkeypatch):
    """The compare page on a copy of the mirror run's workspace."""
    ws, _, result = mirror_workspace
    shutil.copytree(ws, tmp_path / "ws")
    monkeypatch.setenv("FAIRCAUSE_WORKSPACE", str(tmp_path / "ws"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    ok(at.switch_page("pages/5_compare.py").run())
    return at, result


def test_a_mirror_runs_fair_predictor_panel_is_its_own_control(mirror_compare):
    at, result = mirror_compare
    at.session_state["w_cmp_tab"] = "Utility and privacy"
    at.run()
    ok(at)
    fair = result.metrics["fair_predictor"]
    assert any(n.startswith("no control") for n in fair["notes"])  # the engine still says it ...
    assert not [w for w in texts(at.warning) if "no control" in plain(w)]  # ... the mirror run's page does not
    lines = [plain(m) for m in texts(at.markdown)]
    assert any(m.startswith("- trained on this mirror run's synthetic rows (nothing removed)") for m in lines)
    assert any("real-trained minus synthetic-trained" in m for m in lines)
    reduction = next(m for m in lines if m.startswith("- bias reduction"))
    from faircause_core.present.explain import ratio_blocked

    assert ("not shown" in reduction) == bool(ratio_blocked(fair))
    bars = _figure(at, "cmp_fair")["data"]
    assert [b["x"][0] for b in bars] == ["trained on real rows", "trained on this mirror run's rows"]
    assert _ys(bars[0])[0] == pytest.approx(fair["real_trained_de"] * 100)
    assert _ys(bars[1])[0] == pytest.approx(fair["synthetic_trained_de"] * 100)


def test_the_compare_pages_chart_and_rounds_show_the_decomposition_and_the_words_follow_the_bands(mirror_compare):
    from faircause_core.present.explain import EFFECT_WORDS, effect_sources
    from faircause_core.present.report import rounds_verdict
    from faircause_core.workflow.refine import round_bands

    at, result = mirror_compare
    sources = effect_sources(result)  # the chart's sources by the names it shows, the real data (all rows) first
    effects = _figure(at, "cmp_effects")
    assert [t["name"] for t in effects["data"]] == list(sources)
    for trace in effects["data"]:
        want = [sources[trace["name"]][e] * 100 for e in ("tv", "ctf_de", "ctf_ie", "ctf_se", "ett")
                if e in sources[trace["name"]].estimates]
        np.testing.assert_allclose(_ys(trace), want)
    rounds = _figure(at, "cmp_rounds")
    for e in ("ctf_de", "ctf_ie", "ctf_se"):
        trace = next(t for t in rounds["data"] if t.get("name") == EFFECT_WORDS[e])
        np.testing.assert_allclose(_ys(trace), [r["measured"][e] * 100 for r in result.rounds])
    shapes = rounds["layout"]["shapes"]
    last = result.rounds[-1]
    inside = []
    for e, axis in (("ctf_de", "x"), ("ctf_ie", "x2"), ("ctf_se", "x3")):
        rect = next(s for s in shapes if s["xref"] == axis and abs((s["x0"] + s["x1"]) / 2 - last["round"]) < 1e-9)
        inside.append(rect["y0"] <= last["measured"][e] * 100 <= rect["y1"])
        lo, hi = round_bands(last)[e]
        assert rect["y0"] == pytest.approx(lo * 100) and rect["y1"] == pytest.approx(hi * 100)
    caption = next(plain(c) for c in texts(at.caption) if c.startswith("Within tolerance"))
    assert caption.startswith(plain(rounds_verdict(result)))
    assert caption.startswith("Within tolerance: yes") == all(inside) == result.converged
