"""The compare page through AppTest (issue 10 items 12-14 and the sweep): runs of one data set
with labels by settings, a readable privacy table with a verdict, deleting only after a
confirmation that names the run, and a sweep started, followed and drawn."""

import re
import shutil
import time

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import DEMO, DEMO_EDGES, ROOT
from tests.test_app_generate import wait_while_job_runs

RAW_PRIVACY_KEYS = ("dcr_synth_p5", "dcr_holdout_median", "exact_copy_share", "disclosure_known", "n_holdout")


def plain(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def texts(elements):
    return [plain(e.value) for e in elements]


def next_second() -> None:
    """Wait until the clock's second changes (at most 1 s, not a fixed 1.1 s)."""
    now = int(time.time())
    while int(time.time()) == now:
        time.sleep(0.02)


@pytest.fixture(scope="module")
def saved_workspace(tmp_path_factory, bayes_run, demo_graph, demo_roles):
    """Two runs with the same settings on the demo, and one real run on a smaller upload."""
    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.io.data import load_table
    from faircause_core.workflow import workspace
    from faircause_core.workflow.pipeline import GenerationSettings, run_generation

    ws = tmp_path_factory.mktemp("compare") / "ws"
    demo_id = workspace.save_data(DEMO.read_bytes(), "nhefs_cohort.csv", root=ws)
    ids = [workspace.save_run(bayes_run, graph=demo_graph, roles=demo_roles, data_id=demo_id, root=ws)]
    next_second()  # run ids and labels carry the time to the second
    ids.append(workspace.save_run(bayes_run, graph=demo_graph, roles=demo_roles, data_id=demo_id, root=ws))
    small = pd.read_csv(DEMO).head(700).to_csv(index=False).encode()
    small_id = workspace.save_data(small, "small_cohort.csv", root=ws)
    table = load_table(small, name="small_cohort.csv")
    graph = CausalGraph(table.schema.names, DEMO_EDGES)
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    result = run_generation(table, graph, roles, GenerationSettings(generator="bayesnet", rows=200, refine=False,
                                                                    fairness=FairnessSpec(de=0.5)))
    next_second()
    ids.append(workspace.save_run(result, graph=graph, roles=roles, data_id=small_id, root=ws))
    return ws, ids


@pytest.fixture()
def compare_page(saved_workspace, tmp_path, monkeypatch):
    ws, ids = saved_workspace
    mine = tmp_path / "ws"
    shutil.copytree(ws, mine)
    monkeypatch.setenv("FAIRCAUSE_WORKSPACE", str(mine))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/5_compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at, mine, ids


def open_tab(at, label: str) -> None:
    """Select a tab of the compare page: only the open tab is drawn."""
    at.session_state["w_cmp_tab"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_tradeoff_shows_one_data_set_with_labels_by_settings(compare_page):
    at, _, ids = compare_page
    open_tab(at, "Trade-off (runs of this data set)")
    assert at.selectbox(key="w_run").value == ids[2]  # newest first
    trade = at.selectbox(key="w_trade_data")
    assert set(trade.options) == {"nhefs_cohort.csv", "small_cohort.csv"} and trade.value == "small_cohort.csv"
    table = at.dataframe[-1].value
    assert list(table["data set"]) == ["small_cohort.csv"]
    assert table["run (settings)"].iloc[0] == "bayesnet · removed DE 50% · 200 rows · seed 0"
    trade.set_value("nhefs_cohort.csv").run()
    assert not at.exception
    table = at.dataframe[-1].value
    labels = list(table["run (settings)"])
    assert len(labels) == 2 and len(set(labels)) == 2 and set(table["data set"]) == {"nhefs_cohort.csv"}
    assert all(label.startswith("bayesnet · removed DE 100% · 400 rows · seed 0 · ") for label in labels)
    options = at.selectbox(key="w_run").options  # as shown (formatted)
    assert len(set(options)) == 3 and all("data " in o for o in options)


def test_privacy_table_has_readable_names_and_a_verdict(compare_page):
    at, _, _ = compare_page
    open_tab(at, "Utility and privacy")
    frames = [d.value for d in at.dataframe if "measure" in d.value.columns]
    assert len(frames) == 1
    names = list(frames[0]["measure"])
    assert "distance ratio, synthetic / unseen real (about 1 is good)" in names
    assert not any(key in n for key in RAW_PRIVACY_KEYS for n in names)
    assert not any(re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", n) for n in names)  # no raw key at all
    assert list(frames[0].columns) == ["measure", "value"]  # two columns: nothing cut off on the right
    verdicts = [t for t in texts(at.success) + texts(at.warning) + texts(at.error)
                if t.startswith("Verdict: ")]
    assert len(verdicts) == 1 and "\n" not in verdicts[0]
    sampled = [t for t in texts(at.caption) if t.startswith("Computed on samples: ")]  # issue 22 item 5
    assert len(sampled) == 1 and "seeded attacks of each kind, on all 200 synthetic rows" in sampled[0], sampled


def test_delete_asks_first_names_the_run_and_says_what_was_deleted(compare_page):
    at, ws, ids = compare_page
    target = ids[2]
    at.button(key="w_delete_run").click().run()
    asks = [t for t in texts(at.warning) if t.startswith("Delete run")]
    assert len(asks) == 1 and target in asks[0] and "bayesnet · removed DE 50%" in asks[0]
    assert (ws / "runs" / target).is_dir()  # nothing deleted yet
    at.button(key="w_delete_no").click().run()
    assert (ws / "runs" / target).is_dir() and not [t for t in texts(at.warning) if t.startswith("Delete run")]
    at.button(key="w_delete_run").click().run()
    at.selectbox(key="w_run").set_value(ids[0]).run()  # another run chosen: the question is gone
    assert not [t for t in texts(at.warning) if t.startswith("Delete run")]
    at.button(key="w_delete_run").click().run()
    at.button(key="w_delete_yes").click().run()
    assert not at.exception
    assert not (ws / "runs" / ids[0]).exists() and (ws / "runs" / target).is_dir()
    said = [t for t in texts(at.success) if t.startswith("Deleted run")]
    assert len(said) == 1 and ids[0] in said[0] and "bayesnet · removed DE 100%" in said[0]
    assert ids[0] not in at.selectbox(key="w_run").options


def test_sweep_runs_in_the_background_and_draws_the_curve(compare_page):
    at, _, ids = compare_page
    at.selectbox(key="w_run").set_value(ids[0]).run()
    open_tab(at, "Sweep a pathway")
    at.selectbox(key="w_sweep_pathway").set_value("se")
    at.button(key="w_sweep_start").click().run()  # the demo graph gives sex no parents
    errors = texts(at.error)
    assert len(errors) == 1 and "no parents" in errors[0] and "\n" not in errors[0]
    at.selectbox(key="w_sweep_pathway").set_value("de")
    at.text_input(key="w_sweep_points").set_value("0,2")
    at.button(key="w_sweep_start").click().run()
    assert any("outside [0, 1]" in e for e in texts(at.error))
    at.text_input(key="w_sweep_points").set_value("0,0.5,1")
    at.number_input(key="w_sweep_rows").set_value(300)
    at.button(key="w_sweep_start").click().run()
    assert not at.error, texts(at.error)
    deadline = time.time() + 400
    while not any(t.startswith("Sweep finished") for t in texts(at.success)):
        assert time.time() < deadline, "the sweep did not finish"
        assert not at.error, texts(at.error)
        wait_while_job_runs(2.0)  # read the page again once the sweep ends
        at.run()
    assert not at.exception
    sentences = [t for t in texts(at.markdown) if t.startswith(("- Removed:", "- Cost:", "- How sure:"))]
    assert len(sentences) == 3
    assert len(at.select_slider(key="w_sweep_chosen").options) == 3
    assert len(at.get("plotly_chart")) >= 1
    at.button(key="w_build_summary").click().run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Stakeholder summary (HTML)" in labels and "Sweep (JSON)" in labels


# ------------------------------------------- issue 19 item 4: one answer called the real data

NUM = r"[+\-]\d+\.\d+"


def _numbers(value) -> list:
    """A plotly array from the chart's JSON (plain list or typed {"dtype", "bdata"})."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).tolist()
    return list(value)


@pytest.fixture(scope="module")
def demo_audits(demo_table, demo_roles, bayes_run):
    """pipeline.audit on all the demo's rows (the audit page's call: seed 0) and on the run's
    fitting split (the run's seed), as frames in percentage points."""
    from faircause_core.workflow.pipeline import audit, split_holdout

    fit, _ = split_holdout(demo_table, bayes_run.settings.holdout, bayes_run.settings.seed)
    return (audit(demo_table, demo_roles, method="dr", seed=0).to_frame() * 100,
            audit(fit, demo_roles, method="dr", seed=bayes_run.settings.seed).to_frame() * 100)


def test_the_real_data_is_all_rows_and_the_fitting_split_is_the_generators_target(compare_page, demo_audits):
    import json

    at, _, ids = compare_page
    at.selectbox(key="w_run").set_value(ids[0]).run()  # the demo run: 1,629 real rows, 1,140 fitting
    open_tab(at, "Fairness")
    everything, fitting = demo_audits
    caption = next(t for t in texts(at.caption) if t.startswith("Run "))
    found = {}
    for name in ("real data, all 1,629 rows", "generator's target: fitting split, 1,140 rows"):
        m = re.search(re.escape(name) + rf" ({NUM}) pp \(95% CI ({NUM}) to ({NUM})\)", caption)
        assert m, (name, caption)
        found[name] = [float(v) for v in m.groups()]
        assert found[name][1] <= found[name][0] <= found[name][2], (name, found[name])
    assert caption.index("real data, all 1,629 rows") < caption.index("generator's target")
    for name, frame in zip(found, (everything, fitting)):
        assert found[name] == pytest.approx(list(frame.loc["ctf_de", ["estimate", "ci_low", "ci_high"]]), abs=0.051)
    assert "real data" not in caption.replace("real data, all 1,629 rows", "")  # one thing called the real data
    why = [t for t in texts(at.caption) if t.startswith("Why two real numbers")]
    assert len(why) == 1 and "70% of the real rows" in why[0] and "held out" in why[0] and "sampling noise" in why[0]

    chart = json.loads(next(c for c in at.get("plotly_chart") if c.key == "cmp_effects").proto.spec)
    traces = {t["name"]: t for t in chart["data"]}
    assert list(traces)[:2] == list(found)
    for name, frame in zip(found, (everything, fitting)):
        t = traces[name]
        y, up, down = _numbers(t["y"]), _numbers(t["error_y"]["array"]), _numbers(t["error_y"]["arrayminus"])
        assert y == pytest.approx(list(frame["estimate"]), abs=1e-9)
        assert [v + u for v, u in zip(y, up)] == pytest.approx(list(frame["ci_high"]), abs=1e-9)
        assert [v - d for v, d in zip(y, down)] == pytest.approx(list(frame["ci_low"]), abs=1e-9)
        assert min(up) >= 0 and min(down) >= 0  # low <= estimate <= high, drawn
    said = next(t for t in texts(at.caption) if t.startswith("real data, all 1,629 rows:"))
    assert "every real row" in said and "step 3" in said


def test_the_synthetic_csv_is_written_on_click_not_on_every_rerun(compare_page, monkeypatch):
    """The Downloads tab offers the rows without writing them: a million rows x 100 columns is
    hundreds of MB of CSV, which an eager button rebuilt on every rerun of the page (the Chromium
    workflow test clicks it and reads the file)."""
    from faircause_app import panels

    def refuse(frame):
        raise AssertionError("the synthetic CSV was written while the page was drawn")

    monkeypatch.setattr(panels, "to_csv_bytes", refuse)
    at, _, _ = compare_page
    open_tab(at, "Downloads")
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Synthetic rows (CSV)" in labels


def test_heatmaps_of_a_large_run_say_they_were_computed_on_a_seeded_sample(saved_workspace, tmp_path, monkeypatch,
                                                                           bayes_run, demo_graph, demo_roles):
    """Issue 22: past metrics.fidelity.HEATMAP_ROWS rows a side, the association heatmaps read a
    seeded sample, and the Fidelity tab says so under them in numbers. Negative control: the
    demo's 400-row run (every row read) shows no such line."""
    import dataclasses

    from faircause_core.metrics.fidelity import HEATMAP_ROWS
    from faircause_core.workflow import workspace

    ws, ids = saved_workspace
    mine = tmp_path / "ws"
    shutil.copytree(ws, mine)
    big = bayes_run.synthetic.sample(HEATMAP_ROWS + 10_000, replace=True, random_state=0).reset_index(drop=True)
    demo_id = workspace.load_run(ids[0], root=mine)["data_id"]
    next_second()
    big_id = workspace.save_run(dataclasses.replace(bayes_run, synthetic=big), graph=demo_graph, roles=demo_roles,
                                data_id=demo_id, root=mine)
    monkeypatch.setenv("FAIRCAUSE_WORKSPACE", str(mine))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/5_compare.py").run()
    said = f"Associations computed on a seeded {HEATMAP_ROWS:,} of the {HEATMAP_ROWS + 10_000:,} synthetic rows."
    for run_id, shown in ((big_id, True), (ids[0], False)):
        at.selectbox(key="w_run").set_value(run_id).run()
        open_tab(at, "Fidelity")
        captions = texts(at.caption)
        assert (said in captions) is shown, (run_id, captions)
        assert not any(c.startswith("Associations computed on") for c in captions) or shown
