"""Issue 18's controls for the privacy verdict, on the demo, flchain and medpar as a user meets
them (tests/faithful.py prepare(): default discovery, a 70/30 split):
- a copier (a bootstrap resample of the fitting rows) is `unsafe`, its membership AUC's low
  end above 0.6;
- Bayes net rows at default settings with 5% real fitting rows mixed in are never `safe`;
- Bayes net rows at default settings are `safe` or `review` (with the reason), their
  membership AUC's high end below 0.6;
- every real row (fitting and held out), shuffled, one number nudged (no exact copy left: a
  maker that saw the holdout too, as `evaluate` without a holdout file meets it) is `unsafe` by
  closeness on the demo and flchain. Not on medpar: its ten coded columns put new patients as
  close to a training row as the nudged copies (median distance 0.00025 against 0.00023, a
  quarter of its unseen rows equal to a training row), so no distance can tell them apart
  (docs/security.md says so).
Each cohort is measured once per module (three tables, one set of yardsticks)."""

import numpy as np
import pandas as pd
import pytest

from tests.faithful import prepare

pytestmark = pytest.mark.full_measure  # these check the measures' numbers (tests/conftest.py)

COHORTS = ("demo", "flchain", "medpar")
MIX_SHARE = 0.05


@pytest.fixture(scope="module", params=COHORTS)
def cohort(request, tmp_path_factory):
    import os

    from faircause_core.generators.base import FairnessSpec
    from faircause_core.generators.bayesnet import BayesNetGenerator
    from faircause_core.metrics.privacy import distance_to_closest_record

    prepared = prepare(request.param)
    if prepared is None:
        pytest.skip(f"{request.param} cohort file absent")
    graph, roles, fit, holdout = prepared
    old = os.environ.get("FAIRCAUSE_CACHE")
    os.environ["FAIRCAUSE_CACHE"] = str(tmp_path_factory.mktemp("cache"))  # yardsticks measured here, not read back
    try:
        real = fit.df
        bayes = BayesNetGenerator().fit(fit, graph, roles).sample(len(real), FairnessSpec(), seed=0)
        rng = np.random.default_rng(0)
        k = int(round(MIX_SHARE * len(bayes)))
        mixed = pd.concat([bayes.iloc[: len(bayes) - k], real.iloc[rng.choice(len(real), k, replace=False)]],
                          ignore_index=True)
        copier = real.iloc[rng.integers(0, len(real), len(real))].reset_index(drop=True)
        near = pd.concat([real, holdout], ignore_index=True).sample(frac=1.0, random_state=5).reset_index(drop=True)
        num = max((c for c in near.columns if pd.api.types.is_float_dtype(near[c])), key=lambda c: near[c].nunique())
        nudge = rng.choice([-1.0, 1.0], len(near)) * rng.uniform(0.005, 0.03, len(near)) * near[num].std()
        near[num] = near[num] + nudge  # never 0: no exact copy left
        tables = {"copier": copier, "bayesnet": bayes, "mixed": mixed}
        out = {name: distance_to_closest_record(real, t, holdout, fit.schema, seed=0, sensitive=roles.y,
                                                known=[roles.x, *roles.z], x=roles.x)
               for name, t in tables.items()}
        # closeness alone decides it: no attacks, no yardsticks (the test's cost)
        out["near_copy"] = distance_to_closest_record(real, near, holdout, fit.schema, seed=0, sensitive=roles.y,
                                                      attacks=None, yardsticks=False)
    finally:
        if old is None:
            os.environ.pop("FAIRCAUSE_CACHE", None)
        else:
            os.environ["FAIRCAUSE_CACHE"] = old
    return dict(out, name=request.param, k=k)


def test_copier_is_unsafe(cohort):
    p = cohort["copier"]
    assert p["verdict"] == "unsafe", (cohort["name"], p["verdict_reason"])
    assert p["membership_auc_ci_low"] > 0.6, (cohort["name"], p["membership_auc_ci_low"])
    assert "membership inference AUC" in p["verdict_reason"]
    assert p["exact_copies"] == p["synthetic_rows"] and isinstance(p["exact_copies"], int)


def test_five_percent_real_rows_are_never_safe(cohort):
    p = cohort["mixed"]
    assert p["verdict"] in ("review", "unsafe"), (cohort["name"], p["verdict_reason"])
    assert p["exact_copies"] >= cohort["k"]  # the mixed-in rows are all found, whatever the chance copies


def test_bayes_net_is_safe_or_review_with_its_reason(cohort):
    p = cohort["bayesnet"]
    assert p["verdict"] in ("safe", "review"), (cohort["name"], p["verdict_reason"])
    assert p["membership_auc_ci_high"] < 0.6, (cohort["name"], p["membership_auc_ci_high"])
    assert p["verdict_reason"] and p["verdict_words"] in ("safe to share", "review before sharing")


def test_a_near_copy_of_every_real_row_is_never_safe(cohort):
    """Membership inference cannot see it (the held-out rows are copied too); closeness can."""
    p = cohort["near_copy"]
    assert p["exact_copies"] == 0 and not p["membership_auc_ci_low"] > 0.6, p["verdict_reason"]
    if cohort["name"] == "medpar":  # new patients sit as close (module doc): the limit, measured
        assert p["dcr_holdout_median"] < 2 * p["dcr_synth_median"] and p["holdout_exact_copy_share"] > 0.2
    else:
        assert p["verdict"] == "unsafe" and "closeness AUC" in p["verdict_reason"], p["verdict_reason"]
        assert p["closeness_auc_ci_low"] > 0.6
    # the honest generator is not flagged by it
    assert cohort["bayesnet"]["closeness_auc_ci_high"] < 0.6 and cohort["bayesnet"]["closeness_auc_ci_low"] <= 0.5


def test_estimates_lie_inside_their_intervals(cohort):
    for name in ("copier", "bayesnet", "mixed", "near_copy"):
        p = cohort[name]
        for key in ("membership_auc", "rare_auc", "exact_copy_excess", "unique_copy_excess", "closeness_auc"):
            assert p[f"{key}_ci_low"] <= p[key] <= p[f"{key}_ci_high"], (cohort["name"], name, key)
        if name == "near_copy":
            continue  # measured without the attacks
        assert set(p["anonymeter"]) == {"singling_out", "linkability", "inference", "inference_x"}
        for attack, r in p["anonymeter"].items():
            assert 0 <= r["ci_low"] <= r["risk"] <= r["ci_high"] <= 1, (cohort["name"], name, attack, r)


def test_yardsticks_rank_the_controls(cohort):
    """The copier yardstick scores like the copier itself, the marginals like no leak, and the
    Bayes net sits between them on every measure that the verdict reads."""
    yard = cohort["bayesnet"]["yardsticks"]
    copier, marginals, bayes = yard["copier"], yard["marginals"], cohort["bayesnet"]
    # marginals reuse the training column values, which brings members a shade closer (AUC 0.50-0.53)
    assert copier["membership_auc_ci_low"] > 0.6 and marginals["membership_auc"] < 0.56
    assert abs(copier["membership_auc"] - cohort["copier"]["membership_auc"]) < 0.05
    assert copier["unique_copy_excess_ci_low"] > 0.3 and marginals["unique_copy_excess_ci_low"] < 0
    assert bayes["membership_auc"] < copier["membership_auc_ci_low"]
    assert copier["closeness_auc_ci_low"] > 0.6 and marginals["closeness_auc_ci_high"] < 0.5
    assert marginals["closeness_auc"] < bayes["closeness_auc"] < copier["closeness_auc_ci_low"]
    assert cohort["copier"]["yardsticks"] == yard  # computed once, the same for every table of the cohort
