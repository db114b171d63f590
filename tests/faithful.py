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
"""

from pathlib import Path

import pytest

from faircause_core.causal.discovery import discover
from faircause_core.causal.fairness import decompose
from faircause_core.causal.graph import derive_roles
from faircause_core.io.data import load_table
from faircause_core.workflow.pipeline import split_holdout

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ROWS = 10_000
COHORTS = {
    "demo": (ROOT / "assets" / "nhefs_cohort.csv", "sex", "Male", "Female", "death", ("age", "race"), ()),
    "flchain": (SHARED / "flchain_cohort.csv", "sex", "M", "F", "death", ("age",), ("futime", "chapter")),
    "medpar": (SHARED / "medpar_cohort.csv", "white", 0, 1, "died", ("age80",), ()),
}


def effects(df, roles):
    """Generator rows' effects: one cross-fitting split (10,000 rows)."""
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
            "real": real_effects(fit, roles), "q_holdout": quality_report(fit.df, holdout, fit.schema)}


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
    mirror = gen.sample(ROWS, seed=0)
    removed = gen.sample(ROWS, FairnessSpec(de=1.0), seed=0)
    return {
        **real, "gen": gen, "mirror": effects(mirror, roles), "removed": effects(removed, roles),
        "q_mirror": quality_report(fit.df, mirror, fit.schema),
        "gen_mirror": model_effects(gen, FairnessSpec()), "gen_removed": model_effects(gen, FairnessSpec(de=1.0)),
    }


@pytest.mark.parametrize("effect", ["tv", "ctf_de", "ctf_ie", "ctf_se"])
def test_mirror_keeps_every_effect_within_two_points(cohort, effect):
    check_within(cohort, effect)


@pytest.mark.parametrize("key", ["quality", "shape", "trend"])
def test_mirror_fidelity_at_least_that_of_the_real_holdout(cohort, key):
    check_fidelity(cohort, key)


def test_de_removal_removes_the_direct_effect_and_keeps_the_indirect_one(cohort):
    check_de_removal(cohort)
