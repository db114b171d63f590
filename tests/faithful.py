"""The faithfulness protocol both generators are held to (tests/test_faithful_*.py): the
cohorts as a user meets them, the decomposition, and the checks of issues #7 and #9. The
test functions at the end are imported by each test file, which supplies the `cohort`
fixture (build() with its generator). The real side of each cohort (prepare(), the audit and
the holdout's quality: real_side()) is computed once per test run and shared by both files
through the session fixture `faithful_real` (tests/conftest.py).

The mirror rows' effects are held to the plain bound of issue #9 (check_within: 0.02 of the
audit's, no slack for noise). An earlier check allowed max(0.02, 1.96 x the real estimate's
SE) for TV and Ctf-DE; with the real SEs of these cohorts (0.043 for the demo's Ctf-DE:
0.084 allowed) it could pass only where the plain bound already did, so it was removed.

A copier (a bootstrap resample of the real fitting rows) passes the effect and fidelity checks:
they cannot tell a generator from a copy of the patients (issue #18). So the protocol also asks
that the mirror rows are not a copy (check_not_a_copy: the product's privacy verdict, and the
membership-inference AUC's 95% upper end below 0.6), and its negative control is the copier,
which must fail that check on every cohort. Fidelity is also compared at equal row counts
(check_fidelity_at_equal_rows: holdout-sized samples of the mirror rows against the holdout,
within the noise of one such sample), with a marginals-only sampler as its negative control.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from faircause_core.causal.discovery import discover
from faircause_core.causal.fairness import decompose
from faircause_core.causal.graph import derive_roles
from faircause_core.io.data import load_table
from faircause_core.workflow.pipeline import split_holdout

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ROWS = 10_000
# The rows whose audit is held to the 0.02 bounds: at 10,000 rows one audit's noise alone has
# an SD of about 0.01 (flchain's Ctf-DE: 0.010), so a generator 0.005 off the target failed a
# no-slack 0.02 bound on about 7% of draws; at 40,000 the SD is about 0.005.
EFFECT_ROWS = 40_000
COHORTS = {
    "demo": (ROOT / "assets" / "nhefs_cohort.csv", "sex", "Male", "Female", "death", ("age", "race"), ()),
    "flchain": (SHARED / "flchain_cohort.csv", "sex", "M", "F", "death", ("age",), ("futime", "chapter")),
    "medpar": (SHARED / "medpar_cohort.csv", "white", 0, 1, "died", ("age80",), ()),
}


def effects(df, roles):
    """Generator rows' effects: one cross-fitting split (EFFECT_ROWS rows)."""
    return decompose(df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, seed=0,
                     threshold=roles.threshold).to_frame()


def real_effects(fit, roles):
    """The real fitting split's effects as the product audits them (pipeline.audit: the median
    of AUDIT_SPLITS cross-fitting splits)."""
    from faircause_core.workflow.pipeline import audit

    return audit(fit, roles, seed=0).to_frame()


def prepare(name):
    """(graph, roles, fitting split, holdout) at default settings, or None if the file is absent."""
    path, x, x0, x1, y, fixed, after = COHORTS[name]
    if not path.exists():
        return None
    table = load_table(path)
    graph = discover(table, x, y, fixed=fixed, after_outcome=after, seed=0)
    roles = derive_roles(graph, x, y, x0=x0, x1=x1)
    fit, holdout = split_holdout(table, 0.3, 0)
    return graph, roles, fit, holdout


def real_side(name):
    """What the checks need of the real data, whatever the generator: the default graph and
    roles, the split, the audit of the fitting split and the real holdout's quality against
    it; None if the cohort's file is absent. Built once per test run (conftest.faithful_real)."""
    from faircause_core.metrics.fidelity import quality_report

    prepared = prepare(name)
    if prepared is None:
        return None
    graph, roles, fit, holdout = prepared
    return {"name": name, "graph": graph, "roles": roles, "fit": fit, "holdout": holdout,
            "real": real_effects(fit, roles), "q_holdout": quality_report(fit.df, holdout, fit.schema),
            "controls": {}}


def copier_rows(real):
    """The negative control: a seeded bootstrap resample of the real fitting rows (a 'generator'
    that hands back real patients)."""
    df = real["fit"].df
    return df.iloc[np.random.default_rng(0).integers(0, len(df), len(df))].reset_index(drop=True)


def marginals_rows(real, rows=ROWS):
    """The fidelity negative control: each column drawn on its own from its real values, so every
    column's shape is kept and every association between columns is lost."""
    df, rng = real["fit"].df, np.random.default_rng(0)
    return pd.DataFrame({c: df[c].to_numpy()[rng.integers(0, len(df), rows)] for c in df.columns})


def privacy(real, rows):
    """The product's privacy measures (metrics.privacy, with the copier and marginals yardsticks)
    of fitting-split-sized synthetic rows, as `evaluate` measures a table."""
    from faircause_core.metrics.privacy import distance_to_closest_record

    fit, roles = real["fit"], real["roles"]
    return distance_to_closest_record(fit.df, rows.iloc[: len(fit.df)], real["holdout"], fit.schema, seed=0,
                                      sensitive=roles.y, known=[roles.x, *roles.z], x=roles.x)


def control(real, name, make):
    """A negative control's measure, made once per cohort and test run (shared by both generators)."""
    if name not in real["controls"]:
        real["controls"][name] = make()
    return real["controls"][name]


def check_not_a_copy(name, p):
    """Not a copy of the patients: verdict safe or review, with its reason, and the membership
    inference AUC's 95% upper end below 0.6 (issue #18's acceptance)."""
    assert p["verdict"] in ("safe", "review"), f"{name}: verdict {p['verdict']}: {p['verdict_reason']}"
    assert p["verdict_reason"], name
    assert p["membership_auc_ci_high"] < 0.6, (
        f"{name}: membership AUC {p['membership_auc']:.3f} [{p['membership_auc_ci_low']:.3f}, "
        f"{p['membership_auc_ci_high']:.3f}]")


def equal_rows_quality(real, rows, key):
    """SDMetrics' `key` score of holdout-sized disjoint chunks of `rows` against the fitting split
    (at most 8 chunks): what a table the size of the real holdout scores."""
    from faircause_core.metrics.fidelity import quality_report

    fit, n = real["fit"], len(real["holdout"])
    chunks = min(8, len(rows) // n)
    assert chunks >= 3, f"{real['name']}: {len(rows)} rows make fewer than 3 samples of {n}"
    # every_pair=False: the same scores without the second report (the pairs that do not count)
    return np.array([quality_report(fit.df, rows.iloc[i * n:(i + 1) * n], fit.schema, every_pair=False)[key]
                     for i in range(chunks)])


def check_fidelity_at_equal_rows(real, scores, key, what):
    """Holdout-sized synthetic samples score no worse than the real holdout beyond the noise of
    one such sample: mean - holdout >= -t(0.975, k-1) x SD x sqrt(1 + 1/k) over the k chunks
    (a holdout is one draw, the mean is of k draws). Size favours neither side."""
    holdout = real["q_holdout"][key]
    k, mean, sd = len(scores), scores.mean(), scores.std(ddof=1)
    allowed = stats.t.ppf(0.975, k - 1) * sd * np.sqrt(1 + 1 / k)
    assert mean - holdout >= -allowed, (
        f"{real['name']} {key} at {len(real['holdout'])} rows: {what} {mean:.4f} (SD {sd:.4f} over {k} samples) "
        f"< real holdout {holdout:.4f} by more than {allowed:.4f}")


def check_within(cohort, effect, tolerance=0.02):
    """Issue 9's criterion, no slack for noise: the mirror rows' effect within 0.02 of the audit's."""
    real, synth = cohort["real"].loc[effect, "estimate"], cohort["mirror"].loc[effect, "estimate"]
    assert abs(synth - real) <= tolerance, (f"{cohort['name']} {effect}: real {real:+.4f}, mirror {synth:+.4f}: "
                                            f"gap {abs(synth - real):.4f} > {tolerance}")


def check_fidelity(cohort, key):
    """Quality, shapes or trends of the mirror rows at least the real holdout's, no slack."""
    synth, holdout = cohort["q_mirror"][key], cohort["q_holdout"][key]
    assert synth >= holdout, f"{cohort['name']} {key}: synthetic {synth:.4f} < real holdout {holdout:.4f}"


def check_de_removal(cohort):
    """The model's own Ctf-DE within 0.02 of 0 and Ctf-IE within 0.02 of mirror mode's, and the
    DR estimate on the removed rows within max(0.02, 1.96 x its SE) of 0."""
    mirror, removed = cohort["gen_mirror"], cohort["gen_removed"]
    assert abs(removed["ctf_de"]) <= 0.02, f"{cohort['name']}: generator Ctf-DE {removed['ctf_de']:+.4f}"
    assert abs(removed["ctf_ie"] - mirror["ctf_ie"]) <= 0.02, (
        f"{cohort['name']}: generator Ctf-IE {removed['ctf_ie']:+.4f} vs mirror {mirror['ctf_ie']:+.4f}")
    assert abs(mirror["ctf_de"]) > 0.02  # the effect the edit removes was there in the first place
    est = cohort["removed"].loc["ctf_de"]
    assert abs(est["estimate"]) <= max(0.02, 1.96 * est["se"]), (
        f"{cohort['name']}: Ctf-DE estimated on the removed rows {est['estimate']:+.4f} (se {est['se']:.4f})")


def build(real, fit_generator, model_effects):
    """Everything the checks need for one cohort: `real` is real_side(name) (None: the file is
    absent, skipped), `fit_generator(fit, graph, roles)` returns the fitted generator,
    `model_effects(gen, fairness)` its own effects (Monte Carlo)."""
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.metrics.fidelity import quality_report

    if real is None:
        pytest.skip("the cohort's file is not available")
    graph, roles, fit = real["graph"], real["roles"], real["fit"]
    gen = fit_generator(fit, graph, roles)
    many = gen.sample(EFFECT_ROWS, seed=0)
    mirror = many.head(ROWS).reset_index(drop=True)  # fidelity and privacy: 10,000 rows, as before
    removed = gen.sample(EFFECT_ROWS, FairnessSpec(de=1.0), seed=0)
    return {
        **real, "real_side": real, "gen": gen, "mirror_rows": mirror,
        "mirror": effects(many, roles), "removed": effects(removed, roles),
        "q_mirror": quality_report(fit.df, mirror, fit.schema),
        "gen_mirror": model_effects(gen, FairnessSpec()), "gen_removed": model_effects(gen, FairnessSpec(de=1.0)),
    }


@pytest.mark.parametrize("effect", ["tv", "ctf_de", "ctf_ie", "ctf_se"])
def test_mirror_keeps_every_effect_within_two_points(cohort, effect):
    check_within(cohort, effect)


@pytest.mark.parametrize("key", ["quality", "shape", "trend"])
def test_mirror_fidelity_at_least_that_of_the_real_holdout(cohort, key):
    check_fidelity(cohort, key)


@pytest.mark.parametrize("key", ["quality", "trend"])
def test_mirror_fidelity_at_equal_rows_is_that_of_fresh_real_rows(cohort, key):
    check_fidelity_at_equal_rows(cohort, equal_rows_quality(cohort, cohort["mirror_rows"], key), key, "mirror")


def test_equal_rows_fidelity_catches_a_marginals_only_sampler(cohort):
    """Negative control: rows that keep each column and lose every association fail the trend check."""
    real = cohort["real_side"]
    scores = control(real, "marginals_trend", lambda: equal_rows_quality(real, marginals_rows(real), "trend"))
    with pytest.raises(AssertionError):
        check_fidelity_at_equal_rows(cohort, scores, "trend", "marginals-only")


def test_mirror_is_not_a_copy_of_the_patients(cohort):
    check_not_a_copy(cohort["name"], privacy(cohort, cohort["mirror_rows"]))


def test_the_copier_passes_the_fidelity_check_and_fails_the_copy_check(cohort):
    """Negative control: the copier scores at least the real holdout's quality (so the fidelity
    checks alone cannot tell it from a generator) and is caught by check_not_a_copy."""
    from faircause_core.metrics.fidelity import quality_report

    real = cohort["real_side"]
    copier = copier_rows(real)
    q = control(real, "copier_quality", lambda: quality_report(real["fit"].df, copier, real["fit"].schema))
    assert q["quality"] >= real["q_holdout"]["quality"], (cohort["name"], q["quality"], real["q_holdout"]["quality"])
    p = control(real, "copier_privacy", lambda: privacy(real, copier))
    assert p["verdict"] == "unsafe" and p["membership_auc_ci_low"] > 0.6, (cohort["name"], p["verdict_reason"])
    with pytest.raises(AssertionError):
        check_not_a_copy(cohort["name"], p)


def test_de_removal_removes_the_direct_effect_and_keeps_the_indirect_one(cohort):
    check_de_removal(cohort)
