"""What measuring costs is recorded, and the faster measuring says the same thing.

- Every run's timings hold each measuring step's seconds (measure_<step>_s), and the steps
  with measure_rest_s add up to measure_s; MEASURE_COST, the progress plan, names the same
  steps. (How fast it is is measured by bench/bench_measure.py, not asserted here.)
- The fair predictor's model, fitted by metrics.utility._FairFits, is scikit-learn's
  pipeline (fair_classifier) to the last digits that matter, on plain rows and on a
  bootstrap resample given as counts.
- Above 30 columns, Column Pair Trends lets SDMetrics visit only the pairs the real-data
  screen keeps: the score is SDMetrics' own over every pair; when even those are too many,
  a seeded sample gets an interval that covers the full score.
- The fair predictor states the Monte Carlo error of its synthetic side
  (synthetic_trained_de_mc_se), and that error matches the spread over synthetic draws.
"""

import numpy as np
import pandas as pd
import pytest

from faircause_core.causal.graph import Roles


def test_timings_hold_every_measuring_step_and_add_up(bayes_run):
    from faircause_core.workflow.pipeline import MEASURE_COST, timing_key

    t = bayes_run.timings
    keys = [timing_key(step) for step in MEASURE_COST]
    assert keys == ["measure_synthetic_audit_s", "measure_predictor_sets_s", "measure_fidelity_s",
                    "measure_utility_s", "measure_privacy_s", "measure_fair_predictor_s"]
    for key in keys + ["measure_rest_s", "measure_s", "audit_s", "fit_s", "sample_s", "total_s"]:
        assert isinstance(t[key], float) and t[key] >= 0.0, key
    parts = sum(t[k] for k in keys) + t["measure_rest_s"]
    assert parts == pytest.approx(t["measure_s"], abs=0.001 * (len(keys) + 1))  # each rounded to 1 ms
    assert t["audit_s"] + t["fit_s"] + t["sample_s"] + t["measure_s"] <= t["total_s"] + 0.005
    assert all(isinstance(v, int) and v > 0 for v in MEASURE_COST.values())  # progress counts are whole


def test_measure_alone_records_its_four_metrics(bayes_run, demo_table, demo_graph, demo_roles, monkeypatch):
    """measure() called on its own (as evaluate does) times its metrics into the dict it is
    given (privacy stubbed: what it computes is tests/test_privacy.py's)."""
    from faircause_core.metrics import privacy
    from faircause_core.workflow.pipeline import measure, split_holdout

    monkeypatch.setattr(privacy, "distance_to_closest_record", lambda *a, **k: {"stub": True})
    fit, hold = split_holdout(demo_table, 0.3, 0)
    fit.df, hold = fit.df.iloc[:400].reset_index(drop=True), hold.iloc[:200].reset_index(drop=True)  # cheap
    timings, seen = {}, []
    measure(fit, hold, bayes_run.synthetic, demo_graph, demo_roles, 0, timings=timings,
            progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert sorted(timings) == ["measure_fair_predictor_s", "measure_fidelity_s", "measure_privacy_s",
                               "measure_utility_s"]
    assert [s for s, _, _ in seen] == ["measuring fidelity", "measuring utility", "measuring privacy",
                                       "measuring fair predictor"]
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen) and seen[-1][1] < seen[-1][2]


def mixed(n, seed, shift=0.0):
    """Categories with missing values, numbers with missing values, a rare category."""
    rng = np.random.default_rng(seed)
    age = rng.normal(50, 10, n)
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    diet = rng.choice(["meat", "veg", "mixed", "rare"], n, p=[0.45, 0.3, 0.23, 0.02]).astype(object)
    diet[rng.random(n) < 0.05] = None
    bp = 120 + 0.5 * (age - 50) + 5 * (sex == "M") + rng.normal(0, 8, n)
    chol = 200 + rng.normal(0, 30, n)
    chol[rng.random(n) < 0.1] = np.nan
    logit = -1 + 0.04 * (age - 50) + (0.6 + shift) * (sex == "M") + 0.03 * (bp - 120) + 0.4 * (diet == "meat")
    death = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"age": age, "sex": sex, "diet": diet, "bp": bp, "chol": chol, "death": death})


MIXED_KINDS = {"age": "continuous", "sex": "binary", "diet": "categorical", "bp": "continuous",
               "chol": "continuous", "death": "binary"}
MIXED_ROLES = Roles(x="sex", y="death", z=("age",), w=("diet", "bp", "chol"), x0="F", x1="M")


def test_fast_fits_are_the_scikit_learn_pipeline():
    """_FairFits and fair_classifier (tolerance tightened) give the same per-row effects, on
    all rows and on a bootstrap resample (counts as weights against duplicated rows); a test
    category the training rows never had is ignored by both."""
    from faircause_core.metrics.utility import FeatureEncoder, _FairFits, fair_classifier

    train, test = mixed(600, 1), mixed(300, 2)
    test.loc[test.index[:5], "diet"] = "unseen"
    features = [c for c in MIXED_KINDS if c != "death"]
    enc = FeatureEncoder({c: MIXED_KINDS[c] for c in features}, features).fit(train, test)
    X, y = enc.transform(train), train["death"].to_numpy(dtype=float)
    rows0 = test[test["sex"] == "F"]
    X0, X1 = enc.transform(rows0), enc.transform(rows0.assign(sex="M"))
    fits = _FairFits(enc, enc.categorical_mask, X0, X1)
    full = fits.fit(fits.rows(X), y)
    take = np.random.default_rng(3).integers(0, len(y), len(y))
    resample = fits.fit(fits.rows(X), y, np.bincount(take, minlength=len(y)), start=full[0])

    def sklearn_effects(Xt, yt):
        model = fair_classifier(enc.categorical_mask)
        model.set_params(logisticregression__tol=1e-12, logisticregression__max_iter=100_000)
        model.fit(Xt, yt)
        return model.predict_proba(X1)[:, 1] - model.predict_proba(X0)[:, 1]

    for ours, theirs in ((fits.effects(full), sklearn_effects(X, y)),
                         (fits.effects(resample), sklearn_effects(X[take], y[take]))):
        assert np.abs(ours - theirs).max() < 1e-6
    assert abs(fits.effects(full).mean()) > 0.05  # a real effect, not two zeros


def wide(n, columns, seed):
    """`columns` columns: a few blocks of strongly related numbers and categories, the rest noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(0, 1, (n, 4))
    out = {}
    for j in range(columns):
        base = latent[:, j % 4] if j % 3 else rng.normal(0, 1, n)
        value = base + rng.normal(0, 0.5, n)
        out[f"c{j:02d}"] = value if j % 2 else np.where(value > 0.3, "hi", np.where(value > -0.3, "mid", "lo"))
    return pd.DataFrame(out)


def wide_pair():
    real, synth = wide(200, 31, 0), wide(200, 31, 1)
    return real, synth, {c: "continuous" if real[c].dtype.kind == "f" else "categorical" for c in real}


def test_wide_pair_trends_are_sdmetrics_own_score():
    """31 columns: the screened trend and quality are SDMetrics' standard report over every pair."""
    from faircause_core.metrics.fidelity import SCREEN_COLUMNS, TABLE, TRENDS, _frames, _report, quality_report

    real, synth, kinds = wide_pair()
    assert len(kinds) > SCREEN_COLUMNS
    fast = quality_report(real, synth, kinds, every_pair=False)
    full = _report(*_frames(real, synth, kinds)[1:], kinds)  # SDMetrics visiting all 465 pairs
    props = full.get_properties().set_index("Property")["Score"]
    assert fast["trend"] == pytest.approx(props[TRENDS], abs=1e-12)
    assert fast["quality"] == pytest.approx(full.get_score(), abs=1e-12)
    counted = int(full.get_details(TRENDS, TABLE)["Meets Threshold?"].fillna(False).sum())
    assert fast["trend_pairs_counted"] == counted > 10 and fast["trend_pairs_total"] == 31 * 30 // 2
    assert counted <= fast["trend_pairs_checked"] < fast["trend_pairs_total"]
    assert "trend_ci_low" not in fast and any("SDMetrics, which checked the other" in n for n in fast["notes"])
    small = quality_report(real.iloc[:, :8], synth.iloc[:, :8], {c: kinds[c] for c in real.columns[:8]},
                           every_pair=False)
    assert "trend_pairs_total" not in small  # 30 columns or fewer: SDMetrics visits every pair


def test_a_sample_of_the_pairs_left_gets_an_interval(monkeypatch):
    """More pairs left than MAX_SCORED_PAIRS (lowered here to keep the test cheap): a seeded
    sample is scored, the interval is stated, and across seeds it covers the full score."""
    from faircause_core.metrics import fidelity

    real, synth, kinds = wide_pair()
    truth = fidelity.quality_report(real, synth, kinds, every_pair=False)
    assert truth["trend_pairs_checked"] > 40
    monkeypatch.setattr(fidelity, "MAX_SCORED_PAIRS", 40)
    covered = 0
    for seed in range(5):
        out = fidelity.quality_report(real, synth, kinds, every_pair=False, seed=seed)
        assert out["trend_pairs_sampled"] == 40 and out["trend_ci_low"] <= out["trend"] <= out["trend_ci_high"]
        assert any("seeded random sample of 40" in n for n in out["notes"])
        from faircause_core.present.explain import sampled_lines

        assert sampled_lines({"fidelity": out}, None, len(synth)) == [
            f"column pair trends: a seeded 40 of the {out['trend_pairs_checked']:,} column pairs, with the sampling "
            "error in the pair-trend interval"]
        assert sampled_lines({"fidelity": truth}, None, len(synth)) == []  # every pair scored: nothing to say
        covered += out["trend_ci_low"] <= truth["trend"] <= out["trend_ci_high"]
    assert covered >= 4
    again = fidelity.quality_report(real, synth, kinds, every_pair=False, seed=0)
    assert again["trend"] == fidelity.quality_report(real, synth, kinds, every_pair=False, seed=0)["trend"]


@pytest.mark.slow  # calibration: 24 fair predictors (about 3 s; make test-slow)
def test_the_stated_monte_carlo_error_is_the_spread_over_synthetic_draws():
    """Real rows and holdout fixed, the synthetic table drawn again 24 times: the standard
    deviation of the synthetic-trained effect over draws matches the stated Monte Carlo
    error (sd of one set's effect / sqrt(sets)) within the sampling error of 24 draws."""
    from faircause_core.metrics.utility import fair_predictor

    train, test = mixed(500, 10), mixed(400, 11)
    effects, stated = [], []
    for rep in range(24):
        out = fair_predictor(train, mixed(16 * 500, 100 + rep, shift=-0.6), test, MIXED_ROLES, MIXED_KINDS,
                             seed=0, repeats=10, n_boot=20)
        assert out["synthetic_sets"] == 16 and out["synthetic_trained_de_mc_se"] > 0
        effects.append(out["synthetic_trained_de"])
        stated.append(out["synthetic_trained_de_mc_se"])
    ratio = np.std(effects, ddof=1) / np.sqrt(np.mean(np.square(stated)))
    assert 0.65 < ratio < 1.45, ratio  # 24 draws: the sd itself is known to about +-15%
