"""Discovery: discretization, determinism, knowledge as hard rules, PC option, demo cohort."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faircause_core.causal import discovery
from faircause_core.io.data import load_table, table_from_frame
from faircause_core.causal.discovery import discover, discretize
from faircause_core.errors import InputError
from faircause_core.causal.graph import CausalGraph
from faircause_core.causal.knowledge import BackgroundKnowledge, default_knowledge

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "assets" / "nhefs_cohort.csv"
# Edges unconstrained discovery proposes on the demo cohort that no epidemiologist would draw.
IMPLAUSIBLE = {("weight_kg_1971", "sex"), ("death", "cholesterol"), ("death", "high_bp")}


def make_frame(n=1500, seed=0) -> pd.DataFrame:
    """Known structure: age -> y, x -> m -> y, y -> c (a consequence of y), noise alone."""
    rng = np.random.default_rng(seed)
    age = rng.normal(50, 10, n).round()
    x = rng.choice(["F", "M"], n)
    m = np.where(x == "M", rng.choice(["lo", "mid", "hi"], n, p=[0.1, 0.2, 0.7]),
                 rng.choice(["lo", "mid", "hi"], n, p=[0.7, 0.2, 0.1]))
    logit = -1 + 1.8 * (m == "hi") + 0.12 * (age - 50)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    c = (3.0 * y + rng.normal(0, 1, n)).round(2)
    noise = rng.normal(0, 1, n).round(3)
    df = pd.DataFrame({"age": age, "x": x, "m": m, "y": y, "c": c, "noise": noise})
    df.loc[rng.choice(n, 40, replace=False), "noise"] = np.nan
    return df


@pytest.fixture(scope="module")
def table():
    return table_from_frame(make_frame(), name="synthetic")


@pytest.fixture(scope="module")
def cohort():
    return load_table(COHORT)


def assert_respects(g: CausalGraph, kn: BackgroundKnowledge, y: str):
    assert kn.violations(g) == []
    assert g.children(y) == ()


# --------------------------------------------------------------------- discretize

def test_discretize_codes(table):
    d = discretize(table.df, table.schema, bins=4)
    assert list(d.columns) == list(table.df.columns)
    assert all(np.issubdtype(t, np.integer) for t in d.dtypes)
    # numbers: 4 quantile bins of roughly equal size; missing is its own code
    assert sorted(d["c"].unique()) == [0, 1, 2, 3]
    assert d["c"].value_counts().min() > 0.2 * len(d)
    assert (d["noise"] == -1).sum() == 40 and d.loc[table.df["noise"].isna(), "noise"].eq(-1).all()
    # categories by the schema's order, one code each
    cats = table.schema["m"].categories
    assert d["m"].tolist() == [cats.index(v) for v in table.df["m"]]
    # order of bins follows the numbers
    assert d.groupby("age")["age"].first().index.is_monotonic_increasing
    assert (table.df.groupby(d["age"])["age"].max().diff().dropna() > 0).all()


def test_discretize_bins_long_ordinals_and_works_without_schema():
    df = pd.DataFrame({"grade": list(range(1, 13)) * 10, "sex": ["a", "b"] * 60})
    t = table_from_frame(df)
    assert t.schema["grade"].kind.value == "ordinal"
    d = discretize(t.df, t.schema, bins=3)
    assert sorted(d["grade"].unique()) == [0, 1, 2]
    assert d.groupby(d["grade"])["grade"].size().tolist() == [40, 40, 40]
    raw = discretize(pd.DataFrame({"v": np.arange(100.0), "s": ["p", "q"] * 50}), None, bins=5)
    assert sorted(raw["v"].unique()) == [0, 1, 2, 3, 4] and sorted(raw["s"].unique()) == [0, 1]


@pytest.mark.parametrize("bins", [1, 0, 2.5, True])
def test_discretize_rejects_bad_bins(table, bins):
    with pytest.raises(InputError, match="bins must be an integer >= 2"):
        discretize(table.df, table.schema, bins=bins)


def test_hillclimb_score_is_pgmpy_bic_with_a_seeded_tie_break(table):
    from pgmpy.structure_score import BIC

    data = discretize(table.df, table.schema).astype(str)
    ours, theirs = discovery._tie_broken_bic(data, 0), BIC(data)
    for var in ("y", "noise"):
        assert ours.local_score(var, ()) == theirs.local_score(var, ())
    for var, parents in [("y", ("m",)), ("y", ("m", "age", "x")), ("noise", ("c", "x"))]:
        diff = ours.local_score(var, parents) - theirs.local_score(var, parents)
        assert 0 <= diff < discovery.TIE_BREAK * len(parents)

    def gain(score, a, b):
        return score.local_score(b, (a,)) - score.local_score(b, ())

    # x -> m and m -> x gain the same BIC; the bonus tells them apart, one way or the other by seed.
    assert gain(theirs, "x", "m") == pytest.approx(gain(theirs, "m", "x"), rel=1e-9)
    wins = {gain(discovery._tie_broken_bic(data, s), "x", "m") > gain(discovery._tie_broken_bic(data, s), "m", "x")
            for s in range(8)}
    assert wins == {True, False}


# --------------------------------------------------------------------- discover

def test_hillclimb_recovers_known_structure_within_default_knowledge():
    # Without c: a consequence of y contradicts the knowledge that y is a sink.
    table = table_from_frame(make_frame().drop(columns="c"))
    g = discover(table, "x", "y", fixed=("age",), backbone=False)
    kn = default_knowledge(table.df.columns, "x", "y", ("age",))
    assert_respects(g, kn, "y")
    assert set(g.edges) == {("x", "m"), ("m", "y"), ("age", "y")}
    assert g.nodes == tuple(table.df.columns)


def test_backbone_adds_the_fairness_model_edges_to_what_the_search_found():
    """Search finds x -> m -> y and age -> y; the backbone assumes the rest of Z/X/W -> Y."""
    table = table_from_frame(make_frame().drop(columns="c"))
    rep = discovery.discover_report(table, "x", "y", fixed=("age",))
    assert set(rep.found.edges) == {("x", "m"), ("m", "y"), ("age", "y")}
    backbone = {("age", "m"), ("age", "noise"), ("x", "m"), ("x", "noise"),
                ("x", "y"), ("age", "y"), ("m", "y"), ("noise", "y")}
    assert set(rep.graph.edges) == backbone
    assert set(rep.assumed) == backbone - set(rep.found.edges) and rep.refused == ()
    # Z - X is the standard fairness model's association, not an arrow age -> x (issue 20)
    assert rep.graph.associations == rep.associated == (("age", "x"),) and rep.graph.parents("x") == ()
    assert discover(table, "x", "y", fixed=("age",)) == rep.graph
    assert_respects(rep.graph, default_knowledge(table.df.columns, "x", "y", ("age",)), "y")


def test_discovery_is_deterministic_for_a_seed(table):
    for method in ("hillclimb", "pc"):
        a = discover(table, "x", "y", fixed=("age",), method=method, seed=3)
        b = discover(table, "x", "y", fixed=("age",), method=method, seed=3)
        assert a.to_json() == b.to_json()


def test_discovery_does_not_depend_on_hash_seed(cohort):
    """Ties between equal moves follow the seed, not Python's string hashing."""
    code = (
        "import json\n"
        "from faircause_core.io.data import load_table\n"
        "from faircause_core.causal.discovery import discover\n"
        f"t = load_table({str(COHORT)!r})\n"
        "print(json.dumps([discover(t, 'sex', 'death', fixed=('age', 'race'), method=m).to_dict()"
        " for m in ('hillclimb', 'pc')]))\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    other = json.loads(out.stdout.strip().splitlines()[-1])
    here = [discover(cohort, "sex", "death", fixed=("age", "race"), method=m).to_dict() for m in ("hillclimb", "pc")]
    assert other == here


def test_forbidden_required_and_tiers_are_respected(table):
    kn = BackgroundKnowledge(
        forbidden={("m", "y"), ("y", "m")},
        required={("noise", "y")},
        tiers=[["age", "x"], ["noise", "m", "c"], ["y"]],
    )
    for method in ("hillclimb", "pc"):
        g = discover(table, "x", "y", knowledge=kn, method=method)
        assert_respects(g, kn, "y")
        assert not g.has_edge("m", "y") and not g.has_edge("y", "m")
        assert g.has_edge("noise", "y")
        assert not any(g.has_edge(n, "x") or g.has_edge(n, "age") for n in ("noise", "m", "c", "y"))


def test_no_edge_out_of_y_even_without_knowledge(table):
    for method in ("hillclimb", "pc"):
        g = discover(table, "x", "y", knowledge=BackgroundKnowledge.empty(), method=method)
        assert g.children("y") == ()
        assert g.has_edge("c", "y")


def test_pc_option_finds_the_skeleton(table):
    g = discover(table, "x", "y", fixed=("age",), method="pc", backbone=False)
    adjacent = {frozenset(e) for e in g.edges}
    assert {frozenset(("x", "m")), frozenset(("m", "y")), frozenset(("age", "y"))} <= adjacent
    assert_respects(g, default_knowledge(table.df.columns, "x", "y", ("age",)), "y")
    assert not any("noise" in e for e in g.edges)


def test_max_indegree_limits_parents(table):
    g = discover(table, "x", "y", knowledge=BackgroundKnowledge.empty(), max_indegree=1, backbone=False)
    assert max(len(g.parents(n)) for n in g.nodes) == 1
    # It bounds the search, not the backbone: with it y has every other column as a parent.
    rep = discovery.discover_report(table, "x", "y", knowledge=BackgroundKnowledge.empty(), max_indegree=1)
    assert max(len(rep.found.parents(n)) for n in rep.found.nodes) == 1
    assert set(rep.graph.parents("y")) == {"age", "x", "m", "c", "noise"}


def test_large_tables_are_subsampled_deterministically(table, monkeypatch):
    monkeypatch.setattr(discovery, "MAX_DISCOVERY_ROWS", 600)
    monkeypatch.setattr(discovery, "MAX_PC_ROWS", 400)
    for method in ("hillclimb", "pc"):
        a = discover(table, "x", "y", fixed=("age",), seed=1, method=method)
        b = discover(table, "x", "y", fixed=("age",), seed=1, method=method)
        assert a == b
        assert_respects(a, default_knowledge(table.df.columns, "x", "y", ("age",)), "y")


def test_accepts_a_plain_frame_and_a_knowledge_dict():
    df = make_frame(400, seed=2)
    g = discover(df, "x", "y", knowledge={"forbidden": [["x", "m"]], "tiers": [["x"], ["m"]]})
    assert not g.has_edge("x", "m") and not g.has_edge("m", "x") and g.children("y") == ()


@pytest.mark.parametrize("kwargs, needle", [
    (dict(method="ges"), "unknown discovery method 'ges'; use one of: hillclimb, pc"),
    (dict(x="nope"), "column 'nope' not found"),
    (dict(y="nope"), "column 'nope' not found"),
    (dict(fixed=("nope",)), "column 'nope' not found"),
    (dict(fixed=("x",)), "'x' cannot be both fixed and the sensitive attribute"),
    (dict(max_indegree=0), "max_indegree must be an integer >= 1"),
    (dict(max_indegree="2"), "max_indegree must be an integer >= 1"),
    (dict(knowledge=BackgroundKnowledge(required={("age", "zz")})), "names 'zz', which is not a column"),
    (dict(knowledge=BackgroundKnowledge(required={("y", "c")})), "'y' may have no outgoing edges"),
    (dict(knowledge="tiers"), "knowledge must be BackgroundKnowledge"),
])
def test_bad_input_is_one_line_error(table, kwargs, needle):
    args = dict(x="x", y="y")
    args.update(kwargs)
    with pytest.raises(InputError) as e:
        discover(table, args.pop("x"), args.pop("y"), **args)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_constant_columns_stay_isolated_unless_required():
    df = make_frame(400, seed=4).assign(k="same")
    t = table_from_frame(df)
    for method in ("hillclimb", "pc"):
        g = discover(t, "x", "y", method=method, backbone=False)
        assert g.parents("k") == () and g.children("k") == ()
        kn = BackgroundKnowledge(required={("k", "m")})
        assert discover(t, "x", "y", method=method, knowledge=kn, backbone=False).has_edge("k", "m")


def test_a_column_recorded_after_the_outcome_is_a_child_of_y_never_a_cause(table):
    """c = 3y + noise: marked after the outcome, the search may draw y -> c and nothing out of c."""
    from faircause_core.causal.graph import derive_roles

    for method in ("hillclimb", "pc"):
        rep = discovery.discover_report(table, "x", "y", fixed=("age",), after_outcome=("c",), method=method)
        assert rep.found.has_edge("y", "c")
        for g in (rep.found, rep.graph):
            assert g.children("c") == () and g.children("y") == ("c",)
        roles = derive_roles(rep.graph, "x", "y")
        assert roles.z == ("age",) and set(roles.w) == {"m", "noise"} and roles.other == ("c",)
        assert rep.graph.has_edge("x", "y") and not any("c" in e for e in rep.assumed)


def test_user_knowledge_with_the_backbone_keeps_the_cluster_order(table):
    """Without tiers the search could draw m -> x; with the backbone nothing points back into X or Z."""
    from faircause_core.causal.backbone import Clusters

    kn = BackgroundKnowledge(forbidden={("m", "y")})
    rep = discovery.discover_report(table, "x", "y", fixed=("age",), after_outcome="c", knowledge=kn)
    clusters = Clusters(table.df.columns, "x", "y", ("age",), ("c",))
    assert all(clusters.backward(a, b) is None for a, b in rep.graph.edges)
    assert not rep.graph.has_edge("m", "y")
    assert rep.refused == (("m", "y", "edge m -> y is forbidden"),)
    with pytest.raises(InputError, match="required edge m -> x contradicts the standard fairness model"):
        discover(table, "x", "y", knowledge=BackgroundKnowledge(required={("m", "x")}))
    assert discover(table, "x", "y", knowledge=BackgroundKnowledge(required={("m", "x")}),
                    backbone=False).has_edge("m", "x")


@pytest.mark.parametrize("kwargs, needle", [
    (dict(after_outcome=("nope",)), "column 'nope' not found"),
    (dict(after_outcome=("x",)), "'x' cannot be both recorded after the outcome and the sensitive attribute"),
    (dict(after_outcome="y"), "'y' cannot be both recorded after the outcome and the outcome"),
    (dict(fixed=("age",), after_outcome=("age",)), "'age' is marked both fixed and recorded after the outcome"),
])
def test_bad_after_outcome_is_one_line_error(table, kwargs, needle):
    with pytest.raises(InputError) as e:
        discover(table, "x", "y", **kwargs)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_too_few_rows_is_input_error():
    with pytest.raises(InputError, match="at least 2 rows"):
        discover(pd.DataFrame({"x": ["a"], "y": [1]}), "x", "y")
    with pytest.raises(InputError, match="needs a loaded table"):
        discover([[1, 2]], "x", "y")


# --------------------------------------------------------------------- demo cohort

def test_tiers_rule_out_implausible_edges_on_the_cohort(cohort):
    """Why tiers matter: without them the search draws weight -> sex and death -> high_bp."""
    cols = list(cohort.df.columns)
    kn = default_knowledge(cols, "sex", "death", ("age", "race"))
    empty = BackgroundKnowledge.empty()

    unconstrained_pc = discover(cohort, "sex", "death", method="pc", knowledge=empty, backbone=False)
    assert ("weight_kg_1971", "sex") in unconstrained_pc.edges
    assert kn.violations(unconstrained_pc)  # more tier violations besides
    unconstrained_hc = discover(cohort, "sex", "death", knowledge=empty, backbone=False)
    assert kn.violations(unconstrained_hc)
    # The raw search, without even the outcome-is-a-sink rule, makes death a cause.
    data = discretize(cohort.df, cohort.schema).astype(str)
    raw_edges, _ = discovery._hillclimb(data, empty, 0, 4)
    assert ("death", "high_bp") in raw_edges

    for method in ("hillclimb", "pc"):
        rep = discovery.discover_report(cohort, "sex", "death", fixed=("age", "race"), method=method)
        for g in (rep.found, rep.graph):
            assert not (set(g.edges) & IMPLAUSIBLE)
            assert_respects(g, kn, "death")
            assert g.has_edge("age", "death")
        assert rep.graph.has_edge("sex", "death")


def test_demo_dag_is_the_reviewed_discovery(cohort):
    dag = CausalGraph.load(ROOT / "assets" / "nhefs_dag.json")
    assert dag.nodes == tuple(cohort.df.columns)
    kn = default_knowledge(dag.nodes, "sex", "death", ("age", "race"))
    assert kn.violations(dag) == []
    assert dag.has_edge("age", "death") and dag.has_edge("sex", "death")
    # every discovered edge survived the review, as is or reversed
    found = discover(cohort, "sex", "death", fixed=("age", "race"), backbone=False)
    for a, b in found.edges:
        assert dag.has_edge(a, b) or dag.has_edge(b, a), (a, b)
