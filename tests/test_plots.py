"""Figures carry the right traces, shared colours, CIs and escaped data text."""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from faircause_core.present import plots
from faircause_core.errors import InputError


def test_one_results_type_and_its_stored_forms(bayes_run):
    from faircause_core.causal.effects import Decomposition, as_decomposition

    d = Decomposition.from_dict(bayes_run.real_effects)
    a = d.to_frame()
    b = as_decomposition(bayes_run.real_effects).to_frame()
    assert as_decomposition(d) is d and list(a.index) == list(plots.EFFECTS)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-6)
    t = as_decomposition(bayes_run.target)
    assert t == Decomposition.from_targets(bayes_run.target) == bayes_run.decompositions()["target"]
    f = t.to_frame()
    assert list(f.index) == ["ctf_de", "ctf_ie", "ctf_se"] and f["ci_low"].isna().all()
    assert Decomposition.from_dict(json.loads(json.dumps(t.to_dict()))).to_frame().equals(f)
    with pytest.raises(InputError):
        as_decomposition(42)
    with pytest.raises(InputError, match="unknown effect 'de'"):
        Decomposition.from_targets({"de": 0.0})


def test_effects_bar_sources_colours_and_error_bars(bayes_run):
    fig = plots.effects_bar({"real": bayes_run.real_effects, "synthetic": bayes_run.synthetic_effects,
                             "target": bayes_run.target})
    names = [t.name for t in fig.data]
    assert names == ["real", "synthetic", "target"]
    assert [t.marker.color for t in fig.data] == [plots.SOURCE_COLORS[n] for n in names]
    real = fig.data[0]
    assert real.error_y.visible and len(real.y) == 5
    est = bayes_run.decompositions()["real"].to_frame()["estimate"].values * 100
    np.testing.assert_allclose(real.y, est)  # the decomposition's own numbers: nothing negated
    assert fig.data[2].error_y.visible is False
    same = plots.effects_bar(bayes_run.decompositions())  # the results type itself
    assert [t.name for t in same.data] == names
    for mine, stored in zip(same.data, fig.data):
        np.testing.assert_allclose(mine.y, stored.y)


def test_distribution_overlay_numeric_and_categorical_escape_names():
    real = pd.Series([1.0, 2.0, 3.0, np.nan])
    syn = pd.Series([1.5, 2.5])
    fig = plots.distribution_overlay(real, syn, "<b>age</b>", numeric=True)
    assert len(fig.data) == 2 and "&lt;b&gt;" in fig.layout.title.text
    fig = plots.distribution_overlay(pd.Series(["a", "<i>", None]), pd.Series(["a", "a"]), "c", numeric=False)
    assert "&lt;i&gt;" in list(fig.data[0].x) and "(missing)" in list(fig.data[0].x)
    assert math.isclose(sum(fig.data[1].y), 1.0)


def test_a_numeric_overlay_is_binned_once_whatever_the_rows():
    """Two million real and a million synthetic values become 2 x HIST_BINS bars of shares (a
    raw-value histogram would send every value to the browser: tens of MB), each trace's shares
    summing to 1, the bins shared and the values' extremes in the outer bins."""
    rng = np.random.default_rng(0)
    real, syn = pd.Series(rng.normal(50, 10, 2_000_000)), pd.Series(rng.normal(55, 10, 1_000_000))
    fig = plots.distribution_overlay(real, syn, "bmi", numeric=True)
    assert len(fig.to_json()) < 20_000
    r, s = fig.data
    assert len(r.x) == len(s.x) == plots.HIST_BINS and list(r.x) == list(s.x)
    assert math.isclose(sum(r.y), 1.0) and math.isclose(sum(s.y), 1.0)
    lo, hi = min(real.min(), syn.min()), max(real.max(), syn.max())
    assert math.isclose(r.customdata[0][0], lo) and math.isclose(r.customdata[-1][1], hi)
    # the shares are the values' own: the synthetic mean (55) lies to the right of the real (50)
    assert np.dot(s.x, s.y) > np.dot(r.x, r.y) + 4
    one = plots.distribution_overlay(pd.Series([3.0, 3.0]), pd.Series([3.0]), "c", numeric=True)
    assert list(one.data[0].y) == [1.0] and list(one.data[1].y) == [1.0]  # one value: one bin, no division by 0


def test_heatmaps_quality_rounds_tradeoff(demo_table, bayes_run):
    from faircause_core.metrics.fidelity import correlation_matrices

    real_m, syn_m, diff = correlation_matrices(demo_table.df, bayes_run.synthetic, demo_table.schema)
    fig = plots.correlation_heatmaps(real_m, syn_m)
    assert len(fig.data) == 3
    np.testing.assert_allclose(np.asarray(fig.data[2].z, dtype=float), diff.values.astype(float), atol=1e-12)
    fid = bayes_run.metrics["fidelity"]
    q = plots.quality_bars(fid["columns"], fid["shape"], fid["trend"], fid["quality"])
    assert len(q.data[0].y) == len(demo_table.schema.names) and "SDMetrics Quality Score" in q.layout.title.text
    r = plots.rounds_plot([{"measured": {"ctf_de": -0.05}}, {"measured": {"ctf_de": -0.01}}], {"ctf_de": 0.0})
    assert list(next(t for t in r.data if t.name == "Direct").y) == [-5.0, -1.0]
    pts = [{"run_id": "a", "label": "bn", "generator": "bayesnet", "fairness_gap": 1.0, "quality": 0.9},
           {"run_id": "b", "label": "x", "generator": "llm", "fairness_gap": None, "quality": 0.8}]
    t = plots.tradeoff_scatter(pts)
    assert [tr.name for tr in t.data] == ["bayesnet"]
    s = plots.score_bars({"a": 0.5, "b": float("nan")}, "t", "AUROC")
    assert list(s.data[0].x) == ["a"]


def test_effects_bar_and_sentences_agree_on_sign():
    """The reviewed case: Ctf-IE = +2.6 pp is a bar of +2.6, labelled Ctf-IE, and the sentence
    states +2.6 ("2.6 points higher", interval +1.6 to +3.6), then says the mediators make the
    rate 2.6 points lower for the comparison group; direct - indirect - spurious = total."""
    from faircause_core.causal.effects import Decomposition
    from faircause_core.present.explain import EFFECT_WORDS, explain_all

    d = Decomposition(estimates=dict(tv=-0.05, ctf_de=-0.02, ctf_ie=0.026, ctf_se=0.004, ett=-0.04),
                      ses={e: 0.005 for e in plots.EFFECTS}, quantities={}, n=500, n0=250, n1=250, method="dr")
    bar = plots.effects_bar({"real": d}).data[0]
    bars = dict(zip(bar.x, bar.y))
    assert bars[EFFECT_WORDS["ctf_ie"]] == pytest.approx(2.6) and bar.x[2] == EFFECT_WORDS["ctf_ie"]
    assert bar.customdata[2] == "Ctf-IE"
    lows = dict(zip(bar.x, np.asarray(bar.y) - np.asarray(bar.error_y.arrayminus)))
    assert lows[EFFECT_WORDS["ctf_ie"]] == pytest.approx(2.6 - 1.96 * 0.5, abs=1e-3)
    assert (bars[EFFECT_WORDS["ctf_de"]] - bars[EFFECT_WORDS["ctf_ie"]] - bars[EFFECT_WORDS["ctf_se"]]
            == pytest.approx(bars[EFFECT_WORDS["tv"]]))
    text = explain_all(d, x0="Male", x1="Female", y="death", w=["bp"], z=["age"])
    for effect, label in EFFECT_WORDS.items():  # the first number a sentence states is the bar's
        size, said = re.search(r"(\d+\.\d) percentage points (higher|lower)", text[effect]).groups()
        assert float(size) == pytest.approx(abs(bars[label]), abs=0.05), effect
        assert said == ("lower" if bars[label] < 0 else "higher"), effect
    assert "2.6 percentage points higher (95% CI +1.6 to +3.6)" in text["ctf_ie"]
    assert "make the rate 2.6 percentage points lower for Female" in text["ctf_ie"]
