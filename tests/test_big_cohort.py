"""A cohort whose fitting split is over 62,500 rows (about 89,000 rows in all, inside the
200,000-row limit) made generate fail: the fair predictor's 16 sets of the fitting split's
size asked the generator for over 1,000,000 rows in one request. Now its models see at most
FAIR_TRAIN_ROWS real rows (so 16 sets of 50,000), and pipeline.draw shards any larger draw."""

import pytest

from faircause_core.errors import InputError
from faircause_core.generators.base import FairnessSpec
from faircause_core.generators.bayesnet import BayesNetGenerator
from faircause_core.workflow.pipeline import SAMPLE_SHARD, GenerationSettings, draw, predictor_tables


@pytest.fixture(scope="module")
def small_net(demo_table, demo_graph, demo_roles):
    return BayesNetGenerator().fit(demo_table, demo_graph, demo_roles)


def test_one_request_past_the_cap_is_refused(small_net):
    """The negative control: what predictor_tables used to ask."""
    with pytest.raises(InputError, match="between 1 and 1,000,000"):
        small_net.sample(SAMPLE_SHARD + 1, seed=0)


def test_the_predictor_tables_of_a_70000_row_fitting_split(small_net, demo_table):
    settings = GenerationSettings(generator="bayesnet", rows=1_000, seed=0, fairness=FairnessSpec(de=1.0))
    synthetic = small_net.sample(1_000, FairnessSpec(de=1.0), seed=0)
    pool, control = predictor_tables(small_net, settings, synthetic, FairnessSpec(de=1.0), 70_000)
    assert len(pool) == len(control) == 16 * 50_000  # FEW_DRAWS sets of the FAIR_TRAIN_ROWS subsample's size
    assert pool.iloc[:1_000].equals(synthetic)  # the delivered rows first
    assert list(pool.columns) == list(demo_table.df.columns)


def test_a_draw_past_the_cap_comes_in_shards(small_net):
    rows = draw(small_net, SAMPLE_SHARD + 2_000, FairnessSpec(), seed=1)
    assert len(rows) == SAMPLE_SHARD + 2_000
    first, second = (rows.iloc[a:a + 500].reset_index(drop=True) for a in (0, SAMPLE_SHARD))
    assert not first.equals(second)  # each shard has its own seed: not the same rows again


def test_a_draw_within_the_cap_is_one_request_as_before(small_net):
    assert draw(small_net, 5_000, FairnessSpec(), seed=4).equals(small_net.sample(5_000, FairnessSpec(), seed=4))
