"""The shipped demo graph passes the tool's own check (issue 20 item 7): no pathway edge it
leaves out is contradicted by the demo data, on the question the app and the CLI ask (sex,
Male vs Female, death) and on all rows. Once it was contradicted four times (age ->
income_bracket p = 3.5e-13, age -> exercise, race -> weight_kg_1971, sex -> income_bracket)."""

from pathlib import Path

import pytest

from faircause_core.causal.graph import CausalGraph
from faircause_core.causal.implications import check_graph

ROOT = Path(__file__).resolve().parents[1]
DAG = ROOT / "assets" / "nhefs_dag.json"


@pytest.fixture(scope="module")
def shipped():
    return CausalGraph.load(DAG)


def test_the_shipped_demo_graph_has_no_omitted_edge_the_data_contradicts(demo_table, shipped):
    """demo_table (conftest): the bundled demo, the same file as shared/data/nhefs_cohort.csv."""
    for groups in ({"x0": "Male", "x1": "Female"}, {}):
        res = check_graph(demo_table, shipped, "sex", "death", **groups)
        assert res and all(r.tested for r in res), [r.sentence for r in res]
        assert not [r.sentence for r in res if r.contradicted], groups


def test_the_check_would_see_an_edge_taken_out_of_the_shipped_graph(demo_table, shipped):
    """The control: the same check on the shipped graph less age -> income_bracket (p = 3.5e-13
    when it was missing) contradicts that omission, so the test above can fail."""
    res = check_graph(demo_table, shipped.remove_edge("age", "income_bracket"), "sex", "death", x0="Male", x1="Female")
    hit = [r for r in res if r.contradicted]
    assert [r.edge for r in hit] == [("age", "income_bracket")], [r.sentence for r in hit]
