"""The standard fairness model backbone: which edges, refusals, roles, never a cycle."""

import numpy as np
import pytest

from faircause_core.causal.backbone import (
    Clusters,
    apply_marks,
    assumed_edges,
    backbone_associations,
    backbone_edges,
    backbone_report,
    marks_changed,
    roles_rule,
    with_backbone,
)
from faircause_core.causal.graph import CausalGraph, derive_roles
from faircause_core.causal.knowledge import BackgroundKnowledge, default_knowledge
from faircause_core.errors import InputError

COLS = ["age", "race", "sex", "smoke", "bp", "death", "futime"]
FIXED, AFTER = ("age", "race"), ("futime",)


def test_backbone_edges_follow_the_column_rule():
    edges = backbone_edges(COLS, "sex", "death", FIXED, AFTER)
    z, w = ["age", "race"], ["smoke", "bp"]
    expected = {("sex", b) for b in w} | {(a, b) for a in z for b in w}
    expected |= {("sex", "death")} | {(a, "death") for a in z + w} | {("death", "futime")}
    assert set(edges) == expected and len(edges) == len(expected)
    # Z - X is an association (the standard fairness model's Z <-> X), never an arrow z -> sex
    assert backbone_associations(COLS, "sex", "death", FIXED, AFTER) == [("age", "sex"), ("race", "sex")]
    assert [e for e in edges if "futime" in e] == [("death", "futime")]  # an after-outcome column: Y -> it only
    assert edges == sorted(edges, key=lambda e: (COLS.index(e[0]), COLS.index(e[1])))
    # nothing fixed: every column between X and Y is a mediator
    assert set(backbone_edges(["x", "m", "y"], "x", "y")) == {("x", "m"), ("m", "y"), ("x", "y")}


def test_clusters_and_the_backward_edges_they_refuse():
    c = Clusters(COLS, "sex", "death", FIXED, AFTER)
    assert (c.z, c.w, c.after) == (["age", "race"], ["smoke", "bp"], ["futime"])
    for a, b in [("age", "race"), ("race", "age"), ("smoke", "bp"), ("bp", "smoke"), ("death", "futime"),
                 ("age", "futime"), ("sex", "death")]:
        assert c.backward(a, b) is None
    assert c.backward("futime", "bp") == "'futime' is recorded after the outcome, so it cannot cause 'bp'"
    assert c.backward("death", "bp") == "'death' is the outcome, so it can only point into columns recorded after it"
    assert c.backward("sex", "age") == "'age' is fixed (a baseline column), so 'sex' cannot cause it"
    assert c.backward("bp", "sex").startswith("'bp' is not fixed, so the standard fairness model places it after 'sex'")


def test_with_backbone_keeps_found_edges_and_reports_assumed_ones():
    found = CausalGraph(COLS, [("age", "race"), ("smoke", "bp"), ("age", "death"), ("death", "futime"),
                               ("bp", "futime")])
    rep = backbone_report(found, "sex", "death", FIXED, AFTER)
    assert rep.found is found and rep.found_edges == found.edges
    assert set(rep.graph.edges) == set(found.edges) | set(backbone_edges(COLS, "sex", "death", FIXED, AFTER))
    assert set(rep.assumed) == set(rep.graph.edges) - set(found.edges)
    assert rep.associated == rep.graph.associations == (("age", "sex"), ("race", "sex"))
    assert rep.graph.parents("sex") == ()  # nothing is drawn as causing sex
    assert not set(rep.assumed) & set(found.edges) and rep.refused == ()
    assert ("age", "death") not in rep.assumed  # found, so not assumed
    assert with_backbone(found, "sex", "death", FIXED, AFTER) == rep.graph
    assert assumed_edges(rep.graph, found) == list(rep.assumed)
    # after an edit (the user removes an assumed edge) the rest is still told apart
    edited = rep.graph.remove_edge("sex", "smoke")
    assert ("sex", "smoke") not in assumed_edges(edited, found)
    assert len(assumed_edges(edited, found)) == len(rep.assumed) - 1


def test_roles_with_the_backbone():
    g = with_backbone(CausalGraph(COLS, [("death", "futime")]), "sex", "death", FIXED, AFTER)
    roles = derive_roles(g, "sex", "death")
    assert set(roles.z) == {"age", "race"} and set(roles.w) == {"smoke", "bp"} and roles.other == ("futime",)
    assert g.has_edge("sex", "death")


def test_refused_backbone_edges_are_reported_not_added():
    kn = default_knowledge(COLS, "sex", "death", FIXED, AFTER)
    kn.forbidden |= {("sex", "death"), ("race", "death"), ("race", "sex"), ("race", "smoke"), ("race", "bp")}
    rep = backbone_report(CausalGraph(COLS), "sex", "death", FIXED, AFTER, knowledge=kn)
    assert not rep.graph.has_edge("sex", "death")
    assert rep.graph.associations == (("age", "sex"),)  # the user forbade race -> sex: no association either
    assert [e[:2] for e in rep.refused] == [("race", "sex"), ("race", "smoke"), ("race", "bp"), ("race", "death"),
                                            ("sex", "death")]
    assert rep.refused[-1][2] == "edge sex -> death is forbidden"
    roles = derive_roles(rep.graph, "sex", "death")
    # a fixed column that no longer reaches Y has no role; one that does is still Z
    assert roles.z == ("age",) and "race" in roles.other
    assert backbone_edges(COLS, "sex", "death", FIXED, AFTER, knowledge=kn) == list(rep.graph.edges)


def test_a_backward_edge_is_refused_in_one_line():
    for edge, needle in [(("bp", "sex"), "'bp' is not fixed"), (("futime", "bp"), "recorded after the outcome"),
                         (("smoke", "age"), "'age' is fixed")]:
        with pytest.raises(InputError) as e:
            with_backbone(CausalGraph(COLS, [edge]), "sex", "death", FIXED, AFTER)
        msg = str(e.value)
        assert msg.startswith(f"the edge {edge[0]} -> {edge[1]} contradicts the standard fairness model")
        assert needle in msg and "\n" not in msg


@pytest.mark.parametrize("kwargs, needle", [
    (dict(fixed=("zz",)), "fixed column 'zz' is not a column"),
    (dict(fixed=("sex",)), "'sex' cannot be both fixed and the sensitive attribute"),
    (dict(after_outcome=("death",)), "'death' cannot be both recorded after the outcome and the outcome"),
    (dict(fixed=("bp",), after_outcome=("bp",)), "'bp' is marked both"),
    (dict(knowledge="tiers"), "knowledge must be BackgroundKnowledge"),
])
def test_bad_marks_are_one_line_errors(kwargs, needle):
    with pytest.raises(InputError) as e:
        with_backbone(CausalGraph(COLS), "sex", "death", **kwargs)
    assert needle in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(InputError, match="expected a CausalGraph"):
        with_backbone(COLS, "sex", "death")


def _random_case(rng, n):
    """Columns with random marks, a random DAG the knowledge allows, random forbidden edges."""
    cols = [f"c{i}" for i in range(n)]
    x, y = (str(v) for v in rng.choice(cols, 2, replace=False))
    rest = [c for c in cols if c not in (x, y)]
    marks = rng.integers(0, 3, len(rest))  # 0 mediator, 1 fixed, 2 after the outcome
    fixed = [c for c, m in zip(rest, marks) if m == 1]
    after = [c for c, m in zip(rest, marks) if m == 2]
    kn = default_knowledge(cols, x, y, fixed, after)
    pairs = [(str(a), str(b)) for a in cols for b in cols if a != b and kn.allows(a, b)]
    edges = []
    for i in rng.permutation(len(pairs)):
        if rng.random() < 0.4 and CausalGraph.find_cycle(cols, edges + [pairs[i]]) is None:
            edges.append(pairs[i])
    kn.forbidden |= {pairs[i] for i in rng.choice(len(pairs), min(3, len(pairs)), replace=False)
                     if pairs[i] not in edges}
    return CausalGraph(cols, edges), x, y, fixed, after, kn


@pytest.mark.parametrize("seed", range(40))
def test_never_a_cycle_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    graph, x, y, fixed, after, kn = _random_case(rng, int(rng.integers(3, 12)))
    rep = backbone_report(graph, x, y, fixed, after, knowledge=kn)  # CausalGraph refuses any cycle
    assert CausalGraph.find_cycle(rep.graph.nodes, rep.graph.edges) is None
    assert set(graph.edges) <= set(rep.graph.edges)
    every = Clusters(graph.nodes, x, y, fixed, after).edges()
    refused = {e[:2] for e in rep.refused if e[:2] in set(every)}
    assert set(rep.assumed) == {e for e in every if e not in refused and not graph.has_edge(*e)}
    assert all(not kn.allows(a, b) for a, b in refused) and kn.violations(rep.graph) == []
    # y points only into after-outcome columns, and into each of them unless the knowledge refuses it
    assert set(rep.graph.children(y)) == (set(after) - {b for a, b in refused if a == y}) | set(graph.children(y))
    assert set(rep.graph.children(y)) <= set(after)
    roles = derive_roles(rep.graph, x, y)
    assert set(roles.other) >= set(after)
    if (x, y) not in refused:
        assert rep.graph.has_edge(x, y)


def test_never_a_cycle_with_user_knowledge_without_tiers():
    """Any DAG whose cross-cluster edges go forward: the backbone closes no cycle."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = int(rng.integers(3, 10))
        cols = [f"v{i}" for i in range(n)]
        fixed = [c for c in cols[2:] if rng.random() < 0.3]
        after = [c for c in cols[2:] if c not in fixed and rng.random() < 0.3]
        clusters = Clusters(cols, "v0", "v1", fixed, after)
        kn = BackgroundKnowledge(no_outgoing={"v1"}, after_outcome=set(after))
        edges = []
        for a, b in (tuple(map(str, rng.choice(cols, 2, replace=False))) for _ in range(3 * n)):
            if clusters.backward(a, b) is None and kn.allows(a, b) and (a, b) not in edges \
                    and CausalGraph.find_cycle(cols, edges + [(a, b)]) is None:
                edges.append((a, b))
        g = with_backbone(CausalGraph(cols, edges), "v0", "v1", fixed, after, knowledge=kn)
        assert set(clusters.edges()) <= set(g.edges) and set(edges) <= set(g.edges)


# ------------------------------------------------------------- issue 20: marks applied at once, the roles rule

def test_a_mark_given_after_the_graph_is_built_applies_at_once():
    """futime left unmarked by discovery is a mediator with futime -> death; marking it recorded
    after the outcome removes that edge, adds death -> futime and changes the roles; the user's
    other edits are kept; taking the mark back restores the backbone's mediator edges."""
    g = with_backbone(CausalGraph(COLS, [("bp", "futime")]), "sex", "death", FIXED, ())
    assert "futime" in derive_roles(g, "sex", "death").w and g.has_edge("futime", "death")
    g = g.remove_edge("age", "smoke")  # a user's edit elsewhere
    change = apply_marks(g, "sex", "death", FIXED, AFTER, columns=["futime"])
    h = change.graph
    assert not h.has_edge("futime", "death") and h.has_edge("death", "futime")
    assert ("futime", "death", "'futime' is recorded after the outcome, so it cannot cause 'death'") in change.removed
    assert ("death", "futime") in change.added and change.changed
    assert not h.has_edge("age", "smoke")  # the user's edit is not undone
    roles = derive_roles(h, "sex", "death")
    assert "futime" not in roles.w and "futime" in roles.other
    assert BackgroundKnowledge(after_outcome=["futime"]).violations(h) == []
    assert any(line.startswith("removed futime -> death") for line in change.lines())
    # idempotent: applying the same marks again changes nothing
    assert not apply_marks(h, "sex", "death", FIXED, AFTER, columns=["futime"]).changed
    # the mark taken back: futime is a possible mediator again
    back = apply_marks(h, "sex", "death", FIXED, (), columns=["futime"]).graph
    assert back.has_edge("futime", "death") and not back.has_edge("death", "futime")
    assert "futime" in derive_roles(back, "sex", "death").w


def test_a_fixed_mark_gets_its_association_with_x_and_loses_edges_into_it():
    g = with_backbone(CausalGraph(COLS), "sex", "death", ("age",), AFTER)
    assert g.has_edge("sex", "race")  # race unmarked: a mediator of sex
    change = apply_marks(g, "sex", "death", FIXED, AFTER, columns=["race"])
    h = change.graph
    assert not h.has_edge("sex", "race") and h.has_association("race", "sex")
    assert ("race", "sex", "added") in change.associations
    assert derive_roles(h, "sex", "death").z == ("age", "race")
    # negative control: marks that did not change change nothing
    assert apply_marks(g, "sex", "death", ("age",), AFTER, columns=[]).graph == g


def test_marks_changed_names_the_columns_whose_mark_moved():
    before = {"fixed": ["age"], "after_outcome": []}
    assert marks_changed(before, ["age"], ["futime"]) == ["futime"]
    assert marks_changed(before, ["age", "race"], []) == ["race"]
    assert marks_changed(before, ["age"], []) == []
    assert marks_changed(None, ["age"], ["futime"]) == []  # a graph of unknown marks: nothing to apply


def test_the_roles_rule_says_how_roles_are_made():
    line = roles_rule("sex")
    assert "not marked as baseline" in line and "possible mediators of sex" in line and "fixed before sex" in line
