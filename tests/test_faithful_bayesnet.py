"""Acceptance, per cohort: at default settings the Bayes net reproduces the joint it was
fitted on, and removing the direct effect removes it and nothing else (issue #7).

Protocol for each cohort: the default graph (discover with the fairness backbone, seed 0,
on all rows), the pipeline's split (30% real holdout, seed 0), a plain fit on the fitting
split, 40,000 mirror rows and 40,000 DE-removed rows (the effects; fidelity and privacy on the first 10,000 mirror rows) (seed 0, no refinement loop). The real
fitting split and the synthetic rows are decomposed the same way (doubly robust, seed 0).

- Mirror: TV, Ctf-DE, Ctf-IE and Ctf-SE of the synthetic rows within 0.02 of the real
  fitting split's audit (issue #9, no slack). (A looser max(0.02, 1.96 x the real SE) check
  of TV and Ctf-DE was dropped: this bound is the only one that constrains them.)
- Fidelity: SDMetrics Quality Score, Column Shapes and Column Pair Trends of the synthetic
  rows against the fitting split at least those of the real holdout against the fitting
  split, with no slack: the holdout is fresh data from the very distribution, so a
  generator that reproduces the joint should do at least as well as it.
- DE removed: the generator's own Ctf-DE (counterfactual Monte Carlo on its mechanisms,
  BayesNetGenerator.effects, 200,000 rows) within 0.02 of 0 and its Ctf-IE within 0.02 of
  the mirror-mode value; and the DR estimate on the 40,000 removed rows within
  max(0.02, 1.96 x its SE) of 0.

Cohorts and groups: demo (X = sex, x0 Male, x1 Female, Y = death, fixed age race); flchain
(X = sex, x0 M, x1 F, Y = death, fixed age, futime and chapter recorded after the outcome);
medpar (X = white, x0 0, x1 1, Y = died, fixed age80). The cohorts outside the repository
are skipped when ../shared/data is absent.
"""

import pytest

from faircause_core.generators.bayesnet import BayesNetGenerator
from tests.faithful import (  # noqa: F401  (the shared tests run here, on this file's cohort)
    COHORTS, build, test_de_removal_removes_the_direct_effect_and_keeps_the_indirect_one,
    test_equal_rows_fidelity_catches_a_marginals_only_sampler, test_mirror_fidelity_at_equal_rows_is_that_of_fresh_real_rows,
    test_mirror_fidelity_at_least_that_of_the_real_holdout, test_mirror_is_not_a_copy_of_the_patients,
    test_mirror_keeps_every_effect_within_two_points, test_the_copier_passes_the_fidelity_check_and_fails_the_copy_check,
)

pytestmark = pytest.mark.full_measure  # these check the measures' numbers (tests/conftest.py)


@pytest.fixture(scope="module", params=list(COHORTS))
def cohort(request, faithful_real):
    return build(faithful_real(request.param), lambda fit, graph, roles: BayesNetGenerator().fit(fit, graph, roles),
                 lambda gen, fairness: gen.effects(fairness=fairness))


def test_the_default_graph_has_every_pathway_the_question_needs(cohort):
    graph, roles = cohort["graph"], cohort["roles"]
    assert graph.has_edge(roles.x, roles.y) and roles.w and roles.z
    assert len(cohort["gen"].parents_[roles.y]) == len(roles.z) + len(roles.w) + 1  # backbone: a wide family
