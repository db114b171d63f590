"""`evaluate` (issue 18): any synthetic table measured as a generated run is, on a 70/30 split of
the demo. A bootstrap copier of the 70% must be called unsafe; the Bayes net's rows must not."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from faircause_core.cli import main
from tests.conftest import DEMO, ROOT

pytestmark = pytest.mark.full_measure  # these check the measures' numbers (tests/conftest.py)

FLAGS = ["--sensitive", "sex", "--x0", "Male", "--x1", "Female", "--outcome", "death",
         "--dag", str(ROOT / "assets" / "nhefs_dag.json")]
REPORT_KEYS = {"settings", "real_effects", "synthetic_effects", "metrics", "warnings"}


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    """The demo as a user would hand it over: 70% real rows, 30% held out, and two synthetic
    tables made from the 70% only: a bootstrap copier and the Bayes net at default settings."""
    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.generators.bayesnet import BayesNetGenerator
    from faircause_core.io.data import load_table

    d = tmp_path_factory.mktemp("evaluate")
    df = pd.read_csv(DEMO)
    order = np.random.default_rng(1).permutation(len(df))
    n = int(round(0.7 * len(df)))
    real, hold = df.iloc[order[:n]].reset_index(drop=True), df.iloc[order[n:]].reset_index(drop=True)
    paths = {k: d / f"{k}.csv" for k in ("real", "hold", "copier", "bayes")}
    real.to_csv(paths["real"], index=False)
    hold.to_csv(paths["hold"], index=False)
    real.sample(len(real), replace=True, random_state=0).to_csv(paths["copier"], index=False)
    table = load_table(paths["real"])
    graph = CausalGraph.from_json((ROOT / "assets" / "nhefs_dag.json").read_text())
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    gen = BayesNetGenerator()
    gen.fit(table, graph, roles)
    gen.sample(len(real), FairnessSpec(), seed=0).to_csv(paths["bayes"], index=False)
    return d, paths


def evaluate_cli(paths, synthetic, report, *extra):
    code = main(["evaluate", "--data", str(paths["real"]), "--synthetic", str(synthetic), *FLAGS,
                 "--report", str(report), *extra])
    assert code == 0
    return json.loads(report.read_text())


@pytest.fixture(scope="module")
def copier_report(split):
    d, paths = split
    return evaluate_cli(paths, paths["copier"], d / "copier.json", "--holdout", str(paths["hold"]))


@pytest.fixture(scope="module")
def bayes_report(split):
    d, paths = split
    return evaluate_cli(paths, paths["bayes"], d / "bayes.json", "--holdout", str(paths["hold"]))


def test_report_has_generates_keys_and_says_what_was_measured(copier_report):
    assert REPORT_KEYS <= set(copier_report)
    s = copier_report["settings"]
    assert s["generator"] == "external" and s["source"] == "copier.csv" and s["holdout_source"] == "hold.csv"
    for side in ("real_effects", "synthetic_effects"):
        for key in ("tv", "ctf_de", "ctf_ie", "ctf_se"):
            assert key in copier_report[side]["estimates"], (side, key)
    m = copier_report["metrics"]
    assert {"fidelity", "utility", "privacy", "fair_predictor"} <= set(m)
    assert m["privacy"]["exact_copies"] == 1140 and isinstance(m["privacy"]["exact_copies"], int)


def test_copier_is_unsafe(copier_report):
    p = copier_report["metrics"]["privacy"]
    assert p["verdict"] == "unsafe", p.get("verdict_reason")
    assert p["membership_auc_ci_low"] > 0.6, p["membership_auc_ci_low"]
    assert p["verdict_reason"]
    for attack in ("singling_out", "linkability", "inference"):
        a = p["anonymeter"][attack]
        assert a["ci_low"] <= a["risk"] <= a["ci_high"], (attack, a)


def test_bayes_net_rows_are_not_unsafe(bayes_report):
    p = bayes_report["metrics"]["privacy"]
    assert p["verdict"] in ("safe", "review"), p["verdict_reason"]
    assert p["membership_auc_ci_high"] < 0.6, p["membership_auc_ci_high"]
    assert p["exact_copies"] < bayes_report["settings"]["rows"] * 0.05
    assert p["verdict_reason"]


def test_without_holdout_the_data_is_split_as_generate_does_and_it_says_so(split, capsys):
    d, paths = split
    # the split is checked, not a measure's numbers: the light profile (tests/conftest.py)
    report = evaluate_cli(paths, paths["bayes"], d / "nohold.json", "--seed", "3", "--measure", "light")
    out = capsys.readouterr().out
    assert "no holdout given" in out and "split as generate splits them" in out
    assert report["settings"]["holdout_source"] is None and report["settings"]["seed"] == 3
    assert any("no holdout given" in w for w in report["warnings"])
    # the same split as generate's: 1,140 rows of the real file's 70% -> 798 fitting rows
    assert "798 fitting rows, 342 held out" in out
    # the Bayes net saw all 1,140 rows, the held-out 342 too: its rows are still no nearer than new patients
    p = report["metrics"]["privacy"]
    assert p["verdict"] != "unsafe" and p["closeness_auc_ci_high"] < 0.6, p["verdict_reason"]
    assert not [w for w in report["warnings"] if "held-out patients" in w]  # its rows are its own


def test_without_holdout_a_near_copy_of_every_real_row_is_unsafe(split, capsys):
    """A maker that hands back every patient, shuffled, one number nudged (no exact copy left),
    evaluated without a holdout: the split's held-out rows are copied too, so membership inference
    sees members and non-members equally close (AUC 0.48-0.50, called safe before closeness).
    Closeness compares each synthetic row's distance to the closest training row with an unseen
    patient's: near-copies sit far closer."""
    d, paths = split
    real = pd.read_csv(paths["real"])
    near = real.sample(frac=1.0, random_state=5).reset_index(drop=True)
    rng = np.random.default_rng(5)
    nudge = rng.choice([-1.0, 1.0], len(near)) * rng.uniform(0.05, 0.3, len(near))  # never 0 after rounding
    near["weight_kg_1971"] = (near["weight_kg_1971"] + nudge).round(2)
    near.to_csv(d / "near.csv", index=False)
    # seed 3 as the test above: its real audits are read back (workflow.audit_store), not refitted
    report = evaluate_cli(paths, d / "near.csv", d / "near.json", "--measure", "light", "--seed", "3")
    p = report["metrics"]["privacy"]
    assert p["exact_copies"] == 0  # no exact-copy rule can fire
    assert p["membership_auc_ci_low"] <= 0.6  # nor membership's unsafe rule
    assert p["verdict"] == "unsafe" and "closeness AUC" in p["verdict_reason"], p["verdict_reason"]
    assert p["closeness_auc_ci_low"] > 0.6
    assert p["closeness_auc_ci_low"] <= p["closeness_auc"] <= p["closeness_auc_ci_high"]
    out = capsys.readouterr().out
    assert "Verdict: not safe to share" in out and "closeness AUC" in out
    # the copy unnudged: the held-out patients' own rows are in it, which flatters what is tested on them
    real.sample(frac=1.0, random_state=5).to_csv(d / "copy.csv", index=False)
    copied = evaluate_cli(paths, d / "copy.csv", d / "copy.json", "--measure", "light", "--seed", "3")
    inside = [w for w in copied["warnings"] if "held-out patients with a row of their own are in the synthetic" in w]
    assert len(inside) == 1 and inside[0].startswith("342 of 342"), copied["warnings"]
    assert not [w for w in report["warnings"] if "held-out patients" in w]  # nudged: none verbatim


def _bad(tmp_path, name, frame):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("case, needle", [
    ("missing column", "lacks 1 column(s) of the real data: 'death'"),
    ("one group", "has no rows with sex = Female"),
    ("text in a number", "non-numeric value"),
    ("no file", "file not found"),
    ("no folder", "output folder does not exist"),
    ("holdout missing column", "lacks 1 column(s) of the real data: 'age'"),
])
def test_bad_inputs_are_one_line_exit_2(split, tmp_path, capsys, case, needle):
    d, paths = split
    real = pd.read_csv(paths["real"])
    syn, report, extra = str(paths["copier"]), str(tmp_path / "r.json"), []
    if case == "missing column":
        syn = _bad(tmp_path, "s.csv", real.drop(columns=["death"]))
    elif case == "one group":
        syn = _bad(tmp_path, "s.csv", real[real["sex"] == "Male"])
    elif case == "text in a number":
        syn = _bad(tmp_path, "s.csv", real.assign(age=["old"] * len(real)))
    elif case == "no file":
        syn = str(tmp_path / "nope.csv")
    elif case == "no folder":
        report = str(tmp_path / "missing" / "r.json")
    else:
        extra = ["--holdout", str(_bad(tmp_path, "h.csv", real.drop(columns=["age"])))]
    code = main(["evaluate", "--data", str(paths["real"]), "--synthetic", str(syn), *FLAGS, "--report", report, *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("error:") and needle in err[-1], err
    assert "Traceback" not in "\n".join(err)


def test_extra_columns_are_left_out_and_named(split, tmp_path, capsys):
    from faircause_core.io.data import load_table
    from faircause_core.workflow.evaluate import conform

    d, paths = split
    table = load_table(paths["real"])
    frame = pd.read_csv(paths["bayes"]).assign(row_id=1)
    out, notes = conform(frame, table, "synthetic table s.csv")
    assert list(out.columns) == list(table.df.columns)
    assert notes == ["synthetic table s.csv: 1 column(s) not in the real data were left out: row_id"]
    # a column the real data has but leaves out (pbc's 'id', an identifier) is not called absent
    real = pd.read_csv(paths["real"]).assign(patient=lambda f: range(len(f)))
    with_id = load_table(real.to_csv(index=False).encode(), name="real.csv")
    assert "patient" in with_id.raw.columns and "patient" not in with_id.df.columns
    out, notes = conform(frame.assign(patient=1), with_id, "synthetic table s.csv")
    assert list(out.columns) == list(with_id.df.columns)
    assert notes == ["synthetic table s.csv: 1 column(s) not in the real data were left out: row_id",
                     "synthetic table s.csv: 1 column(s) left out as in the real data (an identifier or an empty "
                     "column there): patient"]


def test_subprocess_smoke(split, tmp_path):
    """The one real `python -m faircause_core evaluate` process: a bad synthetic file is one line, exit 2."""
    d, paths = split
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    proc = subprocess.run([sys.executable, "-m", "faircause_core", "evaluate", "--data", str(paths["real"]),
                           "--synthetic", str(bad), *FLAGS, "--report", str(tmp_path / "r.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "lacks" in lines[0], proc.stderr


def test_the_synthetic_audits_notes_say_they_are_about_the_synthetic_rows(split, tmp_path):
    """Evaluating a copy of pbc printed "group sex=m is small (32 rows ...)" then "(33 rows ...)",
    the real audit's note and the synthetic one's, as if one table contradicted itself."""
    d, paths = split
    syn = pd.read_csv(paths["bayes"])
    few = pd.concat([syn[syn.sex == "Male"], syn[syn.sex == "Female"].head(40)])
    few.to_csv(tmp_path / "few.csv", index=False)
    report = evaluate_cli(paths, tmp_path / "few.csv", tmp_path / "r.json", "--holdout", str(paths["hold"]),
                          "--measure", "light")  # the notes are checked, not a measure's numbers
    small = [w for w in report["warnings"] if "is small" in w]
    assert small == ["on the synthetic rows: group sex=Female is small (40 rows with an outcome): "
                     "estimates will be noisy"]


def test_a_second_evaluation_of_the_same_real_rows_records_that_it_read_the_audits(copier_report, bayes_report):
    """evaluate records timings.audits_reused as a run does: the Bayes net's table, evaluated
    after the copier's against the same real rows, holdout and question, read both real audits
    (the time-left plan leaves such a run's ~0 s audit out of a later run's expected audit)."""
    first, second = copier_report["timings"], bayes_report["timings"]
    assert first["audits_reused"] in (0, 1)
    assert second["audits_reused"] == 1 and second["audit_s"] < 1.0
