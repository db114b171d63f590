"""Say what the language model did, everywhere (issue 21 item 1): the generate report JSON
carries `language_model` (columns_used, per_column gain and SE on held-out rows, steps_run,
stopped_because, model, layers); the CLI, the HTML report, the generate page and the compare
page each say it in one line; the default generator's label says what it is; where the
measurement expects no gain, the CLI and the page say so before training and offer to skip.

One run of the CLI with the tiny model (a user's own model folder: the same held-out gate)
and one with --skip-lm; one run through the app."""

import json
import re

import pandas as pd
import pytest

from faircause_core.causal.graph import CausalGraph, derive_roles
from faircause_core.cli import main
from faircause_core.generators.lm import record as lm_record
from faircause_core.generators.lm.record import advice, sentence
from faircause_core.workflow.pipeline import RunResult
from tests.conftest import DEMO, ROOT
from tests.test_app_generate import generate_and_wait, open_generate, ready  # noqa: F401  (a fixture)

DEMO_DAG = ROOT / "assets" / "nhefs_dag.json"
GEN = ["generate", "--data", str(DEMO), "--dag", str(DEMO_DAG), "--sensitive", "sex", "--x0", "Male", "--x1", "Female",
       "--outcome", "death", "--rows", "200", "--no-refine", "--generator", "llm"]
LINE = re.compile(r"^The language model \(tiny, 2 layers\) changed (\d+) of 15 columns[:(]", re.M)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from faircause_core.generators.lm.store import tiny_model

    return tiny_model(None, tmp_path_factory.mktemp("lm") / "tiny", seed=0)


@pytest.fixture(scope="module")
def cli_run(tiny, tmp_path_factory):
    """`generate --generator llm --model tiny` in this process: (stdout, report JSON, out CSV)."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("cli")
    out, report = folder / "syn.csv", folder / "report.json"
    stdout = io.StringIO()
    measured = lm_record.MEASURED  # a measurement that expects no gain at the demo's size
    lm_record.MEASURED = {1140: (0, 45, "the demo, flchain and medpar")}
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
            assert main([*GEN, "--model", str(tiny), "--out", str(out), "--report", str(report)]) == 0
    finally:
        lm_record.MEASURED = measured
    return stdout.getvalue(), json.loads(report.read_text()), out


def test_the_report_json_says_what_the_language_model_did(cli_run):
    _, rep, _ = cli_run
    lm = rep["language_model"]
    columns = list(pd.read_csv(DEMO, nrows=1).columns)
    assert isinstance(lm["columns_used"], list) and set(lm["columns_used"]) <= set(columns)
    assert set(lm["per_column"]) == set(columns)
    for v in lm["per_column"].values():
        assert isinstance(v["gain"], float) and isinstance(v["se"], float) and v["se"] >= 0
    assert lm["model"] == "tiny" and lm["layers"] == 2
    assert 1 <= lm["steps_run"] <= lm["step_budget"] == 81 and lm["stopped_because"]
    assert lm["held_out_rows"] == {"stopping": 114, "selection": 171}
    assert lm["columns_used"] == [c for c in lm["per_column"] if lm["per_column"][c]["used"]]
    # issue 20 item 5: the language model's own effects (Monte Carlo on its mechanisms) beside the audit
    own = rep["generator_effects"]
    assert own["method"] == "monte carlo" and own["settings"]["rows"] == 40_000
    assert set(own["estimates"]) >= {"tv", "ctf_de", "ctf_ie", "ctf_se"} and own["settings"]["fairness"]
    est = own["estimates"]
    assert est["tv"] == pytest.approx(est["ctf_de"] - est["ctf_ie"] - est["ctf_se"], abs=1e-9)
    assert all(0 < own["ses"][e] < 0.02 for e in ("tv", "ctf_de", "ctf_ie", "ctf_se"))
    assert "The generator's own effects (Monte Carlo on its mechanisms, 40,000 rows):" in cli_run[0]


def test_the_cli_prints_one_line_naming_the_model_and_the_columns_it_changed(cli_run):
    stdout, rep, _ = cli_run
    found = LINE.findall(stdout)
    assert len(found) == 1 and int(found[0]) == len(rep["language_model"]["columns_used"]), stdout
    line = next(ln for ln in stdout.splitlines() if LINE.match(ln))
    assert f"trained {rep['language_model']['steps_run']} of 81 steps" in line
    if not rep["language_model"]["columns_used"]:
        assert "held-out rows showed no gain, so these rows come from the causal model's fitted conditionals" in line


def test_the_cli_says_before_training_where_the_measurement_expects_no_gain(cli_run):
    stdout, _, _ = cli_run
    lines = stdout.splitlines()
    notes = [i for i, ln in enumerate(lines) if ln.startswith("note: measured at about")]
    assert len(notes) == 1, stdout
    note = lines[notes[0]]
    assert note.startswith("note: measured at about 1,140 fitting rows on the demo, flchain and medpar, the "
                           "language model improved 0 of 45 columns") and note.endswith("; --skip-lm skips it")
    assert notes[0] < min(i for i, ln in enumerate(lines) if LINE.match(ln))  # said before, not after


def test_the_html_report_says_it_in_one_line(cli_run):
    from faircause_core.present.report import build_report

    _, rep, out = cli_run
    result = RunResult.from_dict(rep, pd.read_csv(out))
    assert result.language_model == rep["language_model"]
    graph = CausalGraph.from_json(DEMO_DAG.read_text())
    html = build_report(result, derive_roles(graph, "sex", "death", x0="Male", x1="Female"))
    lines = [ln for ln in html.splitlines() if "class='lm'" in ln]
    assert len(lines) == 1 and "the language model (tiny, 2 layers) changed" in lines[0]


def test_skipping_the_language_model_says_so_and_loads_nothing(tmp_path, monkeypatch):
    import contextlib
    import io

    from faircause_core.generators.lm import store

    monkeypatch.setattr(store, "load_model", lambda *a, **k: pytest.fail("loaded a model"))
    # where the measurement expects no gain, the CLI says so before training and names the way out
    monkeypatch.setattr(lm_record, "MEASURED", {1140: (0, 45, "the demo, flchain and medpar")})
    stdout = io.StringIO()
    report = tmp_path / "r.json"
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        assert main([*GEN, "--skip-lm", "--out", str(tmp_path / "s.csv"), "--report", str(report)]) == 0
    text = stdout.getvalue()
    assert "note:" not in text  # skipped already: nothing to offer
    assert "No language model was run: all 15 columns come from the causal model's fitted conditionals" in text
    lm = json.loads(report.read_text())["language_model"]
    assert lm["columns_used"] == [] and lm["model"] is None and lm["steps_run"] == 0
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        assert main([*GEN[:-1], "bayesnet", "--skip-lm", "--out", str(tmp_path / "b.csv")]) == 2
    assert err.getvalue() == "error: --skip-lm applies to the llm generator, not bayesnet\n"


def test_the_measured_table_says_no_gain_at_every_size_measured_so_the_advice_is_given():
    """What the benchmark found (docs/language_model.md) is what the product says: at every
    measured size the model improved no column on unseen rows, so a row count within a factor
    of 2 of a measured size gets the advice, and no other (nothing was measured between 11,000
    and 25,000 rows, nor below 50 or above 100,000)."""
    assert all(won == 0 for won, _, _ in lm_record.MEASURED.values())
    for rows in (50, 100, 300, 1140, 5000, 30_000, 100_000):
        assert advice(rows) is not None, rows
    assert advice(30) is None and advice(20_000) is None and advice(200_000) is None


def test_advice_only_where_the_measurement_found_no_gain(monkeypatch):
    monkeypatch.setattr(lm_record, "MEASURED", {200: (0, 36, "a, b"), 800: (1, 36, "a, b")})
    assert "improved 0 of 36 columns" in advice(250)  # nearest measured size 200, no gain there
    assert advice(700) is None  # it won a column at 800
    assert advice(5000) is None  # nothing measured within a factor of 2: no claim
    monkeypatch.setattr(lm_record, "MEASURED", {})
    assert advice(250) is None


def test_sentences():
    assert sentence(None) is None and sentence({}) is None
    base = {"model": "M", "layers": 8, "columns": ["a", "b", "c"], "held_out_rows": {"stopping": 10, "selection": 20},
            "steps_run": 30, "step_budget": 80, "stopped_because": "the step budget was used up",
            "per_column": {"a": {"gain": 0.0123, "se": 0.004}, "b": {"gain": 0.0, "se": 0.0}, "c": {"gain": 0, "se": 0}}}
    assert sentence({**base, "columns_used": []}) == (
        "the language model (M, 8 layers) changed 0 of 3 columns: held-out rows showed no gain, so these rows come "
        "from the causal model's fitted conditionals; it trained 30 of 80 steps (the step budget was used up)")
    assert sentence({**base, "columns_used": ["a"]}).startswith(
        "the language model (M, 8 layers) changed 1 of 3 columns (a: log loss down 0.012 ± 0.004 nats a row on 20 "
        "held-out rows); the other 2 come from")
    assert "too few rows" in sentence({**base, "columns_used": [], "held_out_rows": {"stopping": 0, "selection": 0}})
    assert sentence(lm_record.prompt_record("M", ["a", "b"])).endswith("no held-out rows judge it")


# ------------------------------------------------------------------------------------ app

def plain(markdown: str) -> str:
    """The text a reader sees of a line the page escaped for Markdown (faircause_app.text.md)."""
    return markdown.replace("\\", "")


def test_the_generate_and_compare_pages_say_what_the_language_model_did(ready):
    at = open_generate()
    radio = at.radio(key="w_generator")
    assert radio.value == "llm"
    assert list(radio.options)[0] == "Causal model + local language model where held-out rows show it helps (default)"
    assert at.checkbox(key="w_skip_lm").value is False  # offered, off by default
    at.number_input(key="w_rows").set_value(150)
    at.checkbox(key="w_refine").uncheck().run()
    generate_and_wait(at, timeout=1200)  # the whole run, measuring included, on a loaded 2-core machine
    said = [plain(m.value) for m in at.info if "The language model (tiny, 2 layers) changed" in plain(m.value)]
    assert len(said) == 1 and re.search(r"changed \d+ of 15 columns", said[0]), [m.value for m in at.info]
    at.switch_page("pages/5_compare.py").run()
    assert not at.exception
    captions = [plain(c.value) for c in at.caption if "The language model (tiny, 2 layers) changed" in plain(c.value)]
    assert len(captions) == 1 and captions[0] == said[0]


def test_the_generate_page_offers_to_skip_where_the_measurement_expects_no_gain(ready, monkeypatch):
    monkeypatch.setattr(lm_record, "MEASURED", {1140: (0, 45, "the demo, flchain and medpar")})
    at = open_generate()
    notes = [plain(c.value) for c in at.caption if "improved 0 of 45 columns" in plain(c.value)]
    assert len(notes) == 1 and notes[0].startswith("Measured at about 1,140 fitting rows")
    at.radio(key="w_generator").set_value("bayesnet").run()
    assert not [c.value for c in at.caption if "improved 0 of 45" in plain(c.value)]  # only for the language model
    assert not at.get("checkbox") or "w_skip_lm" not in [c.key for c in at.checkbox]
