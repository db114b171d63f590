"""How many cross-fitting splits the audit takes (issue 22 item 2).

- causal.fairness.splits_for(n) is 10 (MAX_SPLITS) on small and mid-sized tables and fewer on
  large ones, never fewer as n shrinks; its constants are the envelope the benchmark measured
  (bench/results/audit_splits.json), and at every measured size the count it gives keeps the
  median's spread over fold seeds below a tenth of the standard error unless it is capped at 10.
- split_spread bounds the spread of the median of S splits (normal draws, Monte Carlo).
- On a seeded simulated table the measured spread lies under the rule's envelope, one split's
  exceeds SE/10 (the negative control: the rule must not choose 1 there), and the count
  chosen meets SE/10 unless it is the cap.
- audit() and the synthetic audit follow the rule and record the count; the CLI's --splits
  still overrides it.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faircause_core.causal.fairness import (MAX_SPLITS, SPREAD_A, SPREAD_B, decompose, split_spread,
                                            splits_for)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "audit_splits.json"
EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se")


def scm(n: int, seed: int = 0) -> pd.DataFrame:
    """Two confounders, X given them, one mediator, a binary Y (as tests/test_overlap.py)."""
    rng = np.random.default_rng(seed)
    z1, z2 = rng.normal(size=n), rng.normal(size=n)
    x = (rng.random(n) < 1 / (1 + np.exp(-(z1 + 0.5 * z2)))).astype(int)
    w = 0.7 * x + 0.4 * z2 + rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1 + 0.5 * x + 0.6 * z1 + 0.3 * w)))).astype(int)
    return pd.DataFrame({"z1": z1, "z2": z2, "x": x, "w": w, "y": y})


def test_the_rule_takes_ten_splits_on_small_tables_and_fewer_on_large_ones():
    assert splits_for(500) == splits_for(1_629) == splits_for(5_735) == splits_for(20_000) == MAX_SPLITS == 10
    assert splits_for(100_000) == MAX_SPLITS  # measured: 4-5 needed there, the envelope says 10
    assert 1 < splits_for(1_000_000) < MAX_SPLITS
    assert splits_for(2_000_000) < splits_for(1_000_000)
    assert splits_for(10 ** 8) == 1
    grid = np.unique(np.geomspace(10, 10 ** 9, 400).astype(int))
    counts = [splits_for(int(n)) for n in grid]
    assert all(1 <= c <= MAX_SPLITS for c in counts)
    assert all(a >= b for a, b in zip(counts, counts[1:]))  # more rows never need more splits
    assert splits_for(0) == MAX_SPLITS


def test_the_rule_is_the_benchmarks_envelope_and_holds_at_every_measured_size():
    res = json.loads(RESULTS.read_text())
    assert res["envelope"] == {"a": pytest.approx(SPREAD_A, abs=5e-4), "b": pytest.approx(SPREAD_B, abs=5e-4)}
    sizes = {int(n) for rows in res["cohorts"].values() for n in rows}
    assert len(res["cohorts"]) >= 2 and {500, 1000, 2000, 5000, 10000} <= sizes
    for name, rows in res["cohorts"].items():
        for n, row in rows.items():
            ratio = max(row[e]["sd_over_se"] for e in EFFECTS)
            chosen = splits_for(row["n"])
            assert ratio <= SPREAD_A * row["n"] ** -SPREAD_B + 1e-3, (name, n)  # under the envelope
            assert chosen == MAX_SPLITS or split_spread(ratio, chosen) < 0.1, (name, n, ratio, chosen)


def test_split_spread_bounds_the_spread_of_the_median_of_normal_draws():
    rng = np.random.default_rng(0)
    for s in range(1, 13):
        medians = np.median(rng.standard_normal((100_000, s)), axis=1)
        assert medians.std() <= split_spread(1.0, s) * 1.01, s
    assert split_spread(0.5, 1) == 0.5 and split_spread(0.5, 4) == pytest.approx(0.5 * np.sqrt(np.pi / 2) / 2)


@pytest.mark.slow  # a statistical calibration run (ten audits of one table): make test-slow
def test_the_spread_at_the_chosen_count_on_a_simulated_table():
    """Ten single-split fold seeds on 4,000 seeded rows of a table the benchmark never saw: its
    between-split spread lies under the rule's envelope; one split moves the effects by more
    than SE/10 (negative control: the rule must not take 1 split here); the median of the
    splits the rule takes is below SE/10 unless the rule is capped at MAX_SPLITS, as it is at
    this size (measured: 10 splits are not enough below about 100,000 rows), and then it is
    the cap's: over two times smaller than one split's."""
    rows = scm(4_000, seed=3)
    runs = [decompose(rows, "x", 0, 1, "y", ["z1", "z2"], ["w"], seed=s) for s in range(10)]
    ratio = {e: np.std([r.estimates[e] for r in runs], ddof=1) / np.median([r.ses[e] for r in runs])
             for e in EFFECTS}
    worst = max(ratio.values())
    chosen = splits_for(len(rows))
    assert worst <= SPREAD_A * len(rows) ** -SPREAD_B, ratio  # the envelope holds out of sample
    assert split_spread(worst, 1) > 0.1 and chosen > 1  # negative control: one split is too few
    assert split_spread(worst, chosen) < 0.1 or chosen == MAX_SPLITS, ratio
    assert split_spread(worst, chosen) < split_spread(worst, 1) / 2


def test_audit_and_the_synthetic_audit_follow_the_rule_and_record_it(monkeypatch):
    from faircause_core.causal.graph import Roles
    from faircause_core.workflow import pipeline

    rows = scm(600, seed=1)
    roles = Roles("x", "y", ("z1", "z2"), ("w",), (), 0, 1, None, None)
    seen = []
    monkeypatch.setattr(pipeline, "splits_for", lambda n: seen.append(n) or (1 if n > 500 else 2))
    dec = pipeline.audit(rows, roles, seed=0)
    assert seen == [600] and dec.settings["splits"] == 1  # one split is recorded too
    assert pipeline.audit(rows.iloc[:400], roles, seed=0).settings["splits"] == 2
    assert pipeline.audit(rows, roles, seed=0, splits=3).settings["splits"] == 3  # given: the rule is not asked
    assert seen == [600, 400]
    assert pipeline.synthetic_splits(20_000) == 1 and pipeline.synthetic_splits(100) == 2
    monkeypatch.undo()
    assert pipeline.synthetic_splits(20_000) == splits_for(20_000) == MAX_SPLITS
    assert pipeline.synthetic_splits(10 ** 8) == splits_for(10 ** 8) == 1


def test_the_clis_splits_overrides_the_rule(tmp_path, monkeypatch):
    from faircause_core import cli
    from faircause_core.workflow import pipeline

    data = tmp_path / "rows.csv"
    scm(500, seed=2).assign(x=lambda d: np.where(d.x == 1, "b", "a")).to_csv(data, index=False)
    base = ["audit", "--data", str(data), "--sensitive", "x", "--x0", "a", "--x1", "b", "--outcome", "y",
            "--z", "z1", "z2", "--w", "w"]
    monkeypatch.setattr(pipeline, "splits_for", lambda n: 3)  # the rule, made cheap and recognisable
    for extra, expected in (([], 3), (["--splits", "2"], 2), (["--splits", "1"], 1)):
        out = tmp_path / f"dec{expected}.json"
        assert cli.main(base + extra + ["--json", str(out)]) == 0
        assert json.loads(out.read_text())["decomposition"]["settings"]["splits"] == expected, extra
