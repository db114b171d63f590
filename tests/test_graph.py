"""CausalGraph: validation, cycle naming, edits, JSON, and roles read off small DAGs."""

import copy
import json
import pickle
import re
from pathlib import Path

import pytest

from faircause_core.errors import InputError
from faircause_core.causal.graph import CausalGraph, Roles, derive_roles

ROOT = Path(__file__).resolve().parents[1]


def G(nodes, edges=(), associations=()):
    return CausalGraph(list(nodes), [tuple(e) for e in edges], associations)


def one_line_error(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


# --------------------------------------------------------------------- JSON

def test_json_round_trip_keeps_nodes_edges_and_order():
    g = G("abcd", [("a", "b"), ("c", "d"), ("a", "c")])
    text = g.to_json()
    back = CausalGraph.from_json(text)
    assert back == g
    assert back.nodes == ("a", "b", "c", "d")
    assert json.loads(text) == {"nodes": ["a", "b", "c", "d"], "edges": [["a", "b"], ["a", "c"], ["c", "d"]]}
    assert CausalGraph.from_json(g.to_json(indent=None)) == g
    assert CausalGraph.from_dict(g.to_dict()) == g


def test_pickle_and_deepcopy():
    import copy
    import pickle

    g = G("abc", [("a", "b"), ("b", "c")])
    assert pickle.loads(pickle.dumps(g)) == g
    assert copy.deepcopy(g) == g and copy.copy(g).edges == g.edges


def test_save_and_load_file(tmp_path):
    g = G("xyz", [("x", "y"), ("z", "y")])
    p = tmp_path / "dag.json"
    g.save(p)
    assert CausalGraph.load(p) == g
    with pytest.raises(InputError, match="not found"):
        CausalGraph.load(tmp_path / "missing.json")


@pytest.mark.parametrize("text, needle", [
    ("{not json", "not valid JSON"),
    ("", "not valid JSON"),
    ("[1, 2]", "expected an object"),
    ('{"edges": []}', "missing key 'nodes'"),
    ('{"nodes": ["a"]}', "missing key 'edges'"),
    ('{"nodes": ["a"], "edges": [], "notes": "x"}', "unknown key 'notes'"),
    ('{"nodes": "ab", "edges": []}', "'nodes' must be a list"),
    ('{"nodes": ["a", 3], "edges": []}', "node 3 is not a string"),
    ('{"nodes": ["a", null], "edges": []}', "node None is not a string"),
    ('{"nodes": ["a", "b"], "edges": {"a": "b"}}', "'edges' must be a list"),
    ('{"nodes": ["a", "b"], "edges": [["a"]]}', 'edge ["a"] is not a [parent, child] pair'),
    ('{"nodes": ["a", "b"], "edges": [["a", "b", "c"]]}', "is not a [parent, child] pair"),
    ('{"nodes": ["a", "b"], "edges": [["a", 1]]}', "is not a [parent, child] pair"),
    ('{"nodes": ["a", "b"], "edges": [["a", "q"]]}', "unknown node 'q'"),
    ('{"nodes": ["a", "b"], "edges": [["a", "a"]]}', "self loop"),
    ('{"nodes": ["a", "b", "a"], "edges": []}', "node 'a' appears twice"),
    ('{"nodes": ["a", ""], "edges": []}', "not a non-empty string"),
    ('{"nodes": ["a", "b"], "edges": [["a", "b"], ["a", "b"]]}', "'a' -> 'b' appears twice"),
    ('{"nodes": ["a", "b", "c"], "edges": [["a", "b"], ["b", "c"], ["c", "a"]]}',
     "graph has a cycle: a -> b -> c -> a"),
])
def test_from_json_rejects_malformed_input(text, needle):
    with pytest.raises(InputError) as e:
        CausalGraph.from_json(text, source="dag.json")
    msg = one_line_error(e)
    assert needle in msg
    assert msg.startswith("dag.json")


def test_constructor_rejects_bad_edges_directly():
    with pytest.raises(InputError, match="not a \\[parent, child\\] pair"):
        CausalGraph(["a", "b"], [5])
    with pytest.raises(InputError, match="not a \\[parent, child\\] pair"):
        CausalGraph(["a", "b"], ["ab"])


# --------------------------------------------------------------------- cycles

def test_cycle_error_names_the_cycle():
    with pytest.raises(InputError) as e:
        G("abcd", [("d", "a"), ("a", "b"), ("b", "c"), ("c", "a")])
    assert one_line_error(e) == "graph has a cycle: a -> b -> c -> a"


def test_two_cycle_is_named():
    with pytest.raises(InputError, match="graph has a cycle: a -> b -> a"):
        G("ab", [("a", "b"), ("b", "a")])


def test_find_cycle_static():
    assert CausalGraph.find_cycle(["a", "b", "c"], [("a", "b"), ("b", "c")]) is None
    assert CausalGraph.find_cycle(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "b")]) == ["b", "c", "b"]
    # Endpoints not listed as nodes still count (the dashboard checks a candidate edge).
    assert CausalGraph.find_cycle([], [("x", "y"), ("y", "x")]) == ["x", "y", "x"]
    assert CausalGraph.find_cycle(["a"], []) is None


def test_find_cycle_returns_a_real_closed_cycle_on_random_graphs():
    import random

    rng = random.Random(0)
    for _ in range(300):
        nodes = list("abcdefg")[: rng.randint(1, 7)]
        edges = list({(rng.choice(nodes), rng.choice(nodes)) for _ in range(rng.randint(0, 10))} - {(n, n) for n in nodes})
        cycle = CausalGraph.find_cycle(nodes, edges)
        if cycle is None:
            CausalGraph(nodes, edges)  # acyclic: builds
            continue
        assert cycle[0] == cycle[-1] and len(set(cycle)) == len(cycle) - 1
        assert all(e in edges for e in zip(cycle, cycle[1:]))
        with pytest.raises(InputError, match="graph has a cycle: " + " -> ".join(cycle)):
            CausalGraph(nodes, edges)


def test_add_and_reverse_refuse_a_cycle_naming_it():
    g = G("abc", [("a", "b"), ("b", "c")])
    with pytest.raises(InputError) as e:
        g.add_edge("c", "a")
    assert "a -> b -> c -> a" in one_line_error(e)
    with pytest.raises(InputError, match="would close a cycle: b -> a -> b"):
        g.add_edge("b", "a")
    g2 = g.add_edge("a", "c")
    with pytest.raises(InputError, match="reversing 'a' -> 'c' would close a cycle"):
        g2.reverse_edge("a", "c")


# --------------------------------------------------------------------- edits

def test_edits_return_new_graphs_and_leave_the_original():
    g = G("abc", [("a", "b")])
    g2 = g.add_edge("b", "c")
    assert g.edges == (("a", "b"),)
    assert g2.edges == (("a", "b"), ("b", "c"))
    assert g2.add_edge("b", "c") is g2
    g3 = g2.reverse_edge("a", "b")
    assert g3.edges == (("b", "a"), ("b", "c"))
    assert g3.remove_edge("b", "a").edges == (("b", "c"),)
    with pytest.raises(InputError, match="no edge 'a' -> 'c'"):
        g.remove_edge("a", "c")
    with pytest.raises(InputError, match="no edge 'c' -> 'a' to reverse"):
        g.reverse_edge("c", "a")
    with pytest.raises(InputError, match="self loop"):
        g.add_edge("a", "a")
    with pytest.raises(InputError, match="'q' is not a node"):
        g.add_edge("a", "q")
    with pytest.raises(AttributeError):
        g.nodes = ("x",)


def test_parents_children_ancestors_descendants():
    g = G("abcde", [("c", "d"), ("a", "c"), ("b", "c"), ("d", "e")])
    assert g.parents("c") == ("a", "b")  # node order, not insertion order
    assert g.children("a") == ("c",)
    assert g.ancestors("e") == {"a", "b", "c", "d"}
    assert g.descendants("a") == {"c", "d", "e"}
    assert g.ancestors("a") == set() and g.descendants("e") == set()
    with pytest.raises(InputError, match="'z' is not a node"):
        g.parents("z")


def test_subgraph_keeps_order_and_inner_edges():
    g = G("abcd", [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])
    s = g.subgraph(["d", "a", "b"])
    assert s.nodes == ("a", "b", "d")
    assert set(s.edges) == {("a", "b"), ("a", "d")}
    with pytest.raises(InputError):
        g.subgraph(["a", "nope"])


def test_topological_order_is_deterministic_by_node_order():
    edges = [("d", "b"), ("c", "a")]
    assert G("abcd", edges).topological_order() == ("c", "a", "d", "b")
    assert G("dcba", edges).topological_order() == ("d", "c", "b", "a")
    # Same graph built from edges in another order: same result, equal graphs.
    g1, g2 = G("abcde", [("a", "e"), ("b", "e"), ("c", "d")]), G("abcde", [("c", "d"), ("b", "e"), ("a", "e")])
    assert g1 == g2 and g1.edges == g2.edges
    assert g1.topological_order() == g2.topological_order() == ("a", "b", "c", "d", "e")


def test_topological_order_takes_the_earliest_ready_node_on_random_dags():
    import random

    rng = random.Random(1)
    for _ in range(200):
        rank = list(range(8))
        rng.shuffle(rank)  # a hidden order makes the graph acyclic; node order is another
        nodes = [f"n{i}" for i in rng.sample(range(8), 8)]  # names not in node order either
        edges = [(nodes[a], nodes[b]) for a in range(8) for b in range(8) if rank[a] < rank[b] and rng.random() < 0.3]
        g = CausalGraph(nodes, edges)
        expected, placed = [], set()
        while len(expected) < len(nodes):
            ready = next(n for n in nodes if n not in placed and set(g.parents(n)) <= placed)
            expected.append(ready)
            placed.add(ready)
        assert g.topological_order() == tuple(expected)


def test_topological_order_puts_parents_first_on_a_larger_graph():
    g = CausalGraph.load(ROOT / "assets" / "nhefs_dag.json")
    order = g.topological_order()
    pos = {n: i for i, n in enumerate(order)}
    assert sorted(order) == sorted(g.nodes)
    assert all(pos[a] < pos[b] for a, b in g.edges)


# --------------------------------------------------------------------- roles

def test_roles_confounder_and_mediator():
    g = G(["z", "x", "w", "y"], [("z", "x"), ("z", "y"), ("x", "w"), ("w", "y"), ("x", "y")])
    r = derive_roles(g, "x", "y", x0="a", x1="b", threshold=0.5)
    assert r == Roles("x", "y", ("z",), ("w",), (), "a", "b", 0.5)


def test_roles_collider_and_nodes_not_reaching_y_are_other():
    # c is a collider (x -> c <- y) and a descendant of Y; n is unconnected; s is a child of x
    # that does not reach y; u causes only s: none of them are Z or W.
    g = G(["u", "x", "y", "c", "s", "n"], [("u", "s"), ("x", "y"), ("x", "c"), ("y", "c"), ("x", "s")])
    r = derive_roles(g, "x", "y")
    assert r.z == () and r.w == ()
    assert r.other == ("u", "c", "s", "n")
    # A cause of X only (instrument) reaches Y through X: by the contract it is in Z.
    assert derive_roles(g.add_edge("n", "x"), "x", "y").z == ("n",)


def test_roles_are_in_topological_order():
    g = G(["y", "w2", "w1", "x", "z2", "z1"],
          [("z1", "z2"), ("z2", "x"), ("z1", "y"), ("z2", "y"), ("x", "w1"), ("w1", "w2"), ("w2", "y")])
    r = derive_roles(g, "x", "y")
    assert r.z == ("z1", "z2") and r.w == ("w1", "w2")


def test_roles_on_demo_dag():
    g = CausalGraph.load(ROOT / "assets" / "nhefs_dag.json")
    r = derive_roles(g, "sex", "death")
    assert set(r.z) == {"age", "race"}
    assert {"smoke_years", "high_bp", "weight_kg_1971"} <= set(r.w)
    assert set(r.z) | set(r.w) | set(r.other) | {"sex", "death"} == set(g.nodes)
    assert not (set(r.z) & set(r.w))


@pytest.mark.parametrize("x, y, needle", [
    ("q", "y", "sensitive attribute 'q' is not a node"),
    ("x", "q", "outcome 'q' is not a node"),
    ("x", "x", "same column 'x'"),
    ("a", "y", "outcome 'y' is an ancestor of sensitive attribute 'a'"),
])
def test_roles_reject_bad_choices(x, y, needle):
    g = G(["x", "y", "a"], [("x", "y"), ("y", "a")])
    with pytest.raises(InputError) as e:
        derive_roles(g, x, y)
    assert needle in one_line_error(e)


def test_roles_dict_round_trip():
    r = Roles("x", "y", ("z",), ("w",), ("o",), 0, 1, None)
    assert Roles.from_dict(r.to_dict()) == r


# --------------------------------------------------------------------- associations (issue 20 item 3)

def test_associations_are_held_round_tripped_and_not_edges():
    g = G(["age", "race", "sex", "w", "y"], [("sex", "w"), ("w", "y"), ("age", "y"), ("race", "y"), ("sex", "y")],
          associations=[("age", "sex"), ("race", "sex")])
    assert g.associations == (("age", "sex"), ("race", "sex"))
    assert g.parents("sex") == () and g.associated("sex") == ("age", "race") and g.has_association("sex", "age")
    assert "age" not in g.ancestors("sex")  # no causal claim: roles ignore it
    assert derive_roles(g, "sex", "y").z == ("age", "race")
    order = g.topological_order()
    assert order.index("age") < order.index("sex") and order.index("race") < order.index("sex")
    assert CausalGraph.from_json(g.to_json()) == g and CausalGraph.from_dict(g.to_dict()) == g
    assert pickle.loads(pickle.dumps(g)) == g and copy.deepcopy(g) == g
    assert g != CausalGraph(g.nodes, g.edges)  # the association is part of the graph
    sampled = g.for_sampling()
    assert sampled.parents("sex") == ("age", "race") and sampled.associations == ()
    # older readers' shape when there is none; edits keep them
    assert "associations" not in CausalGraph(g.nodes, g.edges).to_dict()
    assert g.remove_edge("w", "y").associations == g.associations
    assert g.subgraph(["age", "sex", "y"]).associations == (("age", "sex"),)
    assert g.renamed({"sex": "Sex"}).associations == (("age", "Sex"), ("race", "Sex"))
    # an edge between associated columns replaces the association
    assert g.add_edge("age", "sex").associations == (("race", "sex"),)
    assert g.remove_association("sex", "age").associations == (("race", "sex"),)


@pytest.mark.parametrize("edges, assoc, needle", [
    ([], [("a", "q")], "names unknown node 'q'"),
    ([], [("a", "a")], "joins a column to itself"),
    ([], [("a", "b"), ("b", "a")], "appears twice"),
    ([("a", "b")], [("a", "b")], "joined by an edge and an association"),
    ([("b", "c"), ("c", "a")], [("a", "b")], "form a cycle"),
    ([], ["ab"], "is not a [column, column] pair"),
])
def test_bad_associations_are_one_line_errors(edges, assoc, needle):
    with pytest.raises(InputError) as err:
        G(["a", "b", "c"], edges, associations=assoc)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_association_json_is_checked():
    base = {"nodes": ["a", "b"], "edges": []}
    for bad, needle in [({**base, "associations": "a-b"}, "must be a list"),
                        ({**base, "associations": [["a"]]}, "is not a [column, column] pair"),
                        ({**base, "links": []}, "unknown key 'links'")]:
        with pytest.raises(InputError, match=re.escape(needle)):
            CausalGraph.from_dict(bad)


def test_the_demo_dag_holds_the_confounders_association_with_sex():
    g = CausalGraph.load(ROOT / "assets" / "nhefs_dag.json")
    assert set(g.associations) == {("age", "sex"), ("race", "sex")} and g.parents("sex") == ()


def test_an_edge_closing_a_cycle_through_an_association_is_refused_in_one_line():
    g = G(["z", "x", "w"], [("x", "w")], associations=[("z", "x")])
    with pytest.raises(InputError) as err:
        g.add_edge("w", "z")
    assert "would close a cycle through an association: z -> x -> w -> z" in one_line_error(err)
