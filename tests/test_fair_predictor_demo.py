"""Issue 8's acceptance for the fair predictor on the demo (Bayes net, the README's setting:
the reviewed DAG, seed 0, 1,629 rows), as restated in issue 23:

- in mirror mode the reduction's interval covers 0;
- with DE removed, the synthetic-trained predictor's direct effect lies inside +-0.015 (its
  whole interval), and its interval does not overlap the mirror control's.

(The first statement, "with DE removed the reduction's lower bound is above 0", failed on
seed 0 by a small-sample shrinkage bias of the 1,140-row logistic model: DE-removed draws
give it -0.005 [-0.010, -0.001] while the network's own Ctf-DE is 0.000; the restatement
asks what the removal can deliver and what a mirror run cannot.)

Built as run_generation builds it (split, fit, the delivered draw's seed, then
pipeline.predictor_tables and the measure step's fair_predictor call), without the
refinement rounds, whose alphas the Bayes net delivers in one round here (mirror 0, DE
removed 1: bench/bench_results.py), and without the other metrics, which this does not read.
"""

from pathlib import Path

import pytest

pytestmark = pytest.mark.full_measure  # the fair predictor's acceptance, at its full precision

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo():
    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.generators.bayesnet import BayesNetGenerator
    from faircause_core.io.data import load_table
    from faircause_core.workflow.pipeline import split_holdout

    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = CausalGraph.from_json((ROOT / "assets" / "nhefs_dag.json").read_text())
    roles = derive_roles(graph, "sex", "death", "Male", "Female")
    fit, holdout = split_holdout(table, 0.3, 0)
    return graph, roles, fit, holdout, BayesNetGenerator().fit(fit, graph, roles)


def fair_predictor_of(demo, fairness):
    """The run's metrics.fair_predictor for the delivered alphas `fairness`."""
    from faircause_core.metrics.utility import fair_predictor
    from faircause_core.workflow.pipeline import GenerationSettings, predictor_roles, predictor_tables
    from faircause_core.workflow.refine import fresh_seed

    graph, roles, fit, holdout, gen = demo
    settings = GenerationSettings(generator="bayesnet", rows=1629, seed=0, fairness=fairness)
    delivered = gen.sample(settings.rows, fairness, seed=fresh_seed(0))
    pool, control = predictor_tables(gen, settings, delivered, fairness, len(fit.df))
    return fair_predictor(fit.df, pool, holdout, predictor_roles(graph, roles), fit.schema, seed=0,
                          control=control, exclude=tuple(sorted(graph.descendants(roles.y))))


REMOVED_BAND = 0.015  # the DE-removed synthetic-trained predictor's whole interval lies in [-0.015, 0.015]


def check_mirror(out):
    """Mirror mode: no control, and the reduction's interval (and its magnitude's) covers 0."""
    assert out["synthetic_sets"] >= 1 and out["train_rows"] == 1140 and out["control"] is None, out
    assert out["reduction_ci_low"] < 0.0 < out["reduction_ci_high"], out
    assert out["magnitude_reduction_ci_low"] < 0.0 < out["magnitude_reduction_ci_high"], out


def check_de_removed(out):
    """DE removed: the synthetic-trained DE, with its whole interval, inside +-REMOVED_BAND,
    and that interval apart from the mirror control's (whose reduction interval covers 0)."""
    low, high, ctrl = out["synthetic_trained_de_ci_low"], out["synthetic_trained_de_ci_high"], out["control"]
    assert ctrl is not None and out["synthetic_sets"] >= 1 and ctrl["synthetic_sets"] >= 1, out
    assert -REMOVED_BAND <= low <= out["synthetic_trained_de"] <= high <= REMOVED_BAND, (
        f"DE-removed synthetic-trained DE {out['synthetic_trained_de']:+.4f} [{low:+.4f}, {high:+.4f}] "
        f"is not inside +-{REMOVED_BAND}")
    c_low, c_high = ctrl["synthetic_trained_de_ci_low"], ctrl["synthetic_trained_de_ci_high"]
    assert high < c_low or c_high < low, (
        f"DE-removed interval [{low:+.4f}, {high:+.4f}] overlaps the mirror control's [{c_low:+.4f}, {c_high:+.4f}]")
    assert ctrl["reduction_ci_low"] < 0.0 < ctrl["reduction_ci_high"], ctrl  # the control claims no reduction


def test_mirror_mode_reduction_interval_contains_zero(demo):
    from faircause_core.generators.base import FairnessSpec

    check_mirror(fair_predictor_of(demo, FairnessSpec()))


def test_de_removed_synthetic_trained_effect_is_near_zero_and_apart_from_the_mirror_control(demo):
    from faircause_core.generators.base import FairnessSpec

    check_de_removed(fair_predictor_of(demo, FairnessSpec(de=1.0)))
