"""Issue 19 item 4 at the engine: one answer called "the real data", labelled with its rows.

A run audits two sets of real rows: all of them (what step 3 shows, the headline) and the
fitting split the generator learns from (its target). The run record keeps both
(real_effects_all_rows, new; real_effects, the fitting split, as before), and the HTML
report shows the real data first as "real data, all 1,629 rows", the fitting split as "the
generator's target: fitting split, 1,140 rows", both with intervals, and one line saying why
they differ. Every number is checked against pipeline.audit on those very rows.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from faircause_core.causal.effects import EFFECTS

NUM = r"[+\-]\d+\.\d+"


@pytest.fixture(scope="module")
def audits(demo_table, demo_roles, bayes_run):
    """(all rows, fitting split) as pipeline.audit gives them: the audit page's call on the
    whole table (seed 0, as faircause_app.cache.audit), and the run's on its fitting split."""
    from faircause_core.workflow.pipeline import audit, split_holdout

    fit, _ = split_holdout(demo_table, bayes_run.settings.holdout, bayes_run.settings.seed)
    return (audit(demo_table, demo_roles, method="dr", seed=0),
            audit(fit, demo_roles, method="dr", seed=bayes_run.settings.seed), len(fit.df))


def test_the_run_records_the_audit_of_all_rows_beside_the_fitting_split(bayes_run, demo_table, audits):
    from faircause_core.workflow.pipeline import RunResult

    everything, fitting, fit_rows = audits
    assert len(demo_table.df) == 1629 and fit_rows == 1140
    record = json.loads(json.dumps(bayes_run.to_dict()))
    # the new key: step 3's numbers with their rows; the old keys (a contract) as they were
    assert record["real_effects_all_rows"] == json.loads(json.dumps({**everything.to_dict(), "rows": 1629}))
    assert record["real_effects"] == json.loads(json.dumps(fitting.to_dict()))
    assert record["fitting_rows"] == 1140
    for key in ("settings", "real_effects", "synthetic_effects", "target", "rounds", "converged", "metrics"):
        assert key in record
    back = RunResult.from_dict(record, bayes_run.synthetic)
    assert back.real_effects_all_rows == record["real_effects_all_rows"] and back.fitting_rows == 1140
    old = RunResult.from_dict({k: v for k, v in record.items() if k not in ("real_effects_all_rows",
                                                                              "fitting_rows")}, bayes_run.synthetic)
    assert old.real_effects_all_rows == {} and old.fitting_rows == 0  # a run saved before: still readable


def test_the_report_calls_all_rows_the_real_data_and_labels_the_fitting_split(bayes_run, demo_roles, audits):
    from faircause_core.present.explain import EFFECT_WORDS, SYMBOLS
    from faircause_core.present.report import build_report

    everything, fitting, _ = audits
    page = build_report(bayes_run, demo_roles)
    head = re.search(r"<tr><th>effect</th>(.*?)</tr>", page).group(1)  # the effects table's header
    heads = [html.unescape(h) for h in re.findall(r"<th>([^<]*)</th>", head)]
    first, second = heads[0], heads[1]
    assert first == "real data, all 1,629 rows (pp)"
    assert second == "generator's target: fitting split, 1,140 rows (pp)"
    assert "in plain words (real data, all 1,629 rows)" in heads
    for e in EFFECTS:
        label = html.escape(f"{EFFECT_WORDS[e]} ({SYMBOLS[e]})")
        row = re.search(f"<td>{re.escape(label)}</td><td>([^<]*)</td><td>([^<]*)</td>", page)
        assert row, e
        for cell, dec in zip(row.groups(), (everything, fitting)):
            est, lo, hi = (float(v) for v in re.fullmatch(rf"({NUM}) \[({NUM}), ({NUM})\]", cell).groups())
            assert lo <= est <= hi, (e, cell)
            frame = dec.to_frame().loc[e] * 100
            assert (est, lo, hi) == pytest.approx((frame["estimate"], frame["ci_low"], frame["ci_high"]), abs=0.006)
    why = re.findall(r"<p class='why'>([^<]*)</p>", page)
    assert len(why) == 1 and html.unescape(why[0]).startswith("Why two real numbers: the generator learns from "
                                                              "a seeded 70% of the real rows")
    assert "held out" in why[0] and "sampling noise" in why[0]
    # the sentences and the identity line are the real data's (all rows), not the fitting split's
    direct = re.search(r"Through the direct path alone, the death rate would be (\d+\.\d) percentage points "
                       r"(higher|lower)", page)
    size = float(direct.group(1)) * (1 if direct.group(2) == "higher" else -1)
    assert size == pytest.approx(everything["ctf_de"] * 100, abs=0.051)
    assert "Real data, all 1,629 rows: total gap" in page


def test_an_old_run_without_the_all_rows_audit_names_its_fitting_split(bayes_run, demo_roles):
    from dataclasses import replace

    from faircause_core.present.explain import effect_sources, run_why_two_real
    from faircause_core.present.report import build_report

    old = replace(bayes_run, real_effects_all_rows={}, fitting_rows=0)
    assert list(effect_sources(old))[0] == f"generator's target: fitting split, {bayes_run.real_effects['n']:,} rows"
    assert run_why_two_real(old) == ""
    page = build_report(old, demo_roles)
    assert "real data, all" not in page and "<p class='why'>" not in page


def test_an_evaluation_with_its_own_holdout_shows_one_real_answer(demo_table, demo_graph, demo_roles, bayes_run):
    """Given a holdout, the fitting rows are all the real rows: one real answer, reused, not two."""
    from faircause_core.present.explain import effect_sources, run_why_two_real
    from faircause_core.workflow.evaluate import evaluate

    real, hold = demo_table, demo_table.df.head(200)
    result = evaluate(real, bayes_run.synthetic, demo_graph, demo_roles, holdout=hold, seed=0, source="s.csv")
    assert result.real_effects_all_rows["estimates"] == result.real_effects["estimates"]
    assert result.real_effects_all_rows["rows"] == result.fitting_rows == 1629
    assert list(effect_sources(result))[:2] == ["real data, all 1,629 rows", "synthetic, 400 rows"]
    assert run_why_two_real(result) == ""


def test_the_cli_names_both_real_answers_and_says_why(tmp_path):
    """generate's stdout: the real data (all rows) first, then the generator's target (the
    fitting split), each with its interval, the why line, and the target without a made-up interval."""
    from tests.clirun import run_cli
    from tests.conftest import DEMO, ROOT

    proc = run_cli("generate", "--data", DEMO, "--dag", ROOT / "assets" / "nhefs_dag.json", "--sensitive", "sex",
                   "--x0", "Male", "--x1", "Female", "--outcome", "death", "--generator", "bayesnet", "--rows", "300",
                   "--no-refine", "--remove", "DE", "--out", tmp_path / "o.csv")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    titles = [line for line in out.splitlines()  # the effect tables' titles (the sampled measures' list is not one)
              if line.endswith(":") and line[:1].isupper() and line != "Computed on samples:"]
    assert titles[:4] == ["Real data, all 1,629 rows:", "Generator's target: fitting split, 1,140 rows:",
                          "Synthetic, 300 rows:", "Target after the edits:"]
    assert "Why two real numbers:" in out and "nan" not in out
    assert "Ctf-DE (direct)            +0.0000        -   (a target, no interval)" in out
