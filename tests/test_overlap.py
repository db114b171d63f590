"""Overlap shown with every audit (issue 20 item 4): effective sample sizes, extreme propensities,
the largest weight, and a warning by the 20% rule, with a negative control for each side."""

import math

import numpy as np
import pandas as pd
import pytest

from faircause_core.causal.effects import Decomposition
from faircause_core.causal.fairness import decompose
from faircause_core.causal.overlap import (ESS_SHARE, KEYS, kish, median_overlap, overlap_line, overlap_stats,
                                           overlap_warning, poor)


def scm(n: int, strength: float, seed: int = 0) -> pd.DataFrame:
    """Two confounders, X given them with `strength`, one mediator, a binary Y."""
    rng = np.random.default_rng(seed)
    z1, z2 = rng.normal(size=n), rng.normal(size=n)
    x = (rng.random(n) < 1 / (1 + np.exp(-strength * (z1 + 0.5 * z2)))).astype(int)
    w = 0.7 * x + 0.4 * z2 + rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1 + 0.5 * x + 0.6 * z1 + 0.3 * w)))).astype(int)
    return pd.DataFrame({"z1": z1, "z2": z2, "x": x, "w": w, "y": y})


def test_kish_effective_sample_size():
    assert kish(np.ones(50)) == pytest.approx(50)
    assert kish(np.r_[np.ones(9), 0.0]) == pytest.approx(9)
    assert kish(np.r_[100.0, np.full(99, 1e-9)]) == pytest.approx(1, rel=1e-6)
    assert kish(np.zeros(3)) == 0.0


def test_overlap_stats_of_known_propensities():
    is1 = np.r_[np.ones(100, bool), np.zeros(100, bool)]
    even = overlap_stats(np.full(200, 0.5), is1, 0.01, ["z"])
    assert even["ess_x1"] == pytest.approx(100) and even["ess_x0"] == pytest.approx(100)
    assert even["share_extreme"] == 0 and even["max_weight"] == pytest.approx(1) and even["auroc"] == 0.5
    assert not poor(even) and overlap_warning(even) is None
    # 5 of the 100 x1 rows at 0.02 (odds weight 49), the rest at 0.9 (0.11): those 5 carry the estimate
    pi = np.r_[np.full(5, 0.02), np.full(95, 0.9), np.full(100, 0.3)]
    skew = overlap_stats(pi, is1, 0.01, ["z"])
    assert skew["ess_x1"] == pytest.approx(5.4, abs=0.1) and skew["share_extreme"] == pytest.approx(0.025)
    assert skew["max_weight"] == pytest.approx(19.1, abs=0.1) and poor(skew)
    assert overlap_warning(skew, "men", "women").startswith("poor overlap given z: the 100 rows of women count as")


@pytest.mark.parametrize("strength, warned", [(0.3, False), (3.5, True)])
def test_every_decomposition_carries_overlap_and_warns_by_the_rule(strength, warned):
    """Good overlap (negative control): numbers, no warning. Poor overlap: the warning, with its numbers."""
    d = decompose(scm(1500, strength), "x", 0, 1, "y", ["z1", "z2"], ["w"], seed=0)
    ov = d.overlap
    assert set(KEYS) <= set(ov) and ov["given"] == ["z1", "z2", "w"] and ov["n0"] + ov["n1"] == d.n
    assert 0 < ov["ess_x1"] <= ov["n1"] and 0 < ov["ess_x0"] <= ov["n0"]
    notes = [n for n in d.warnings if n.startswith("poor overlap")]
    assert bool(notes) == warned == poor(ov)
    if warned:
        assert ov["ess_x1"] < ESS_SHARE * ov["n1"] and ov["share_extreme"] > 0.2 and ov["max_weight"] > 10
        assert f"count as {ov['ess_x1']:,.0f}" in notes[0]
    # stored and read back with the decomposition
    again = Decomposition.from_dict(d.to_dict())
    assert again.overlap["ess_x1"] == pytest.approx(ov["ess_x1"]) and set(again.overlap) == set(ov)


def test_the_median_of_splits_carries_one_overlap_with_its_range():
    d = decompose(scm(900, 2.0), "x", 0, 1, "y", ["z1", "z2"], ["w"], seed=0, splits=3)
    ov = d.overlap
    assert ov["splits"] == 3 and ov["ess_x1_range"][0] <= ov["ess_x1"] <= ov["ess_x1_range"][1]
    assert sum(n.startswith("poor overlap") for n in d.warnings) <= 1
    line = overlap_line(ov, "group 0", "group 1")
    assert "effective sample size" in line and "over 3 splits" in line and "propensities outside [0.05, 0.95]" in line
    assert median_overlap([]) == {}


def test_no_covariates_no_overlap():
    df = scm(400, 1.0)
    d = decompose(df, "x", 0, 1, "y", [], [], seed=0)
    assert d.overlap == {} and "overlap" not in d.to_dict()
    assert not math.isnan(d.estimates["tv"])
