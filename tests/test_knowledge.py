"""Background knowledge: tiers, sinks, forbidden/required edges, violations, dict form."""

import pytest

from faircause_core.errors import InputError
from faircause_core.causal.graph import CausalGraph
from faircause_core.causal.knowledge import BackgroundKnowledge, default_knowledge

NODES = ["sex", "race", "age", "smoke", "bp", "weight", "death"]


@pytest.fixture
def kn():
    return default_knowledge(NODES, "sex", "death", fixed=("age", "race"))


def test_default_tiers(kn):
    assert kn.tiers == [["age", "race"], ["sex"], ["smoke", "bp", "weight"], ["death"]]
    assert kn.no_outgoing == {"death"}
    assert not kn.forbidden and not kn.required
    assert default_knowledge(["x", "m", "y"], "x", "y").tiers == [["x"], ["m"], ["y"]]


def test_default_rules(kn):
    # forward across tiers and within a tier
    assert kn.allows("age", "sex") and kn.allows("sex", "smoke") and kn.allows("smoke", "death")
    assert kn.allows("sex", "death") and kn.allows("age", "death")
    assert kn.allows("smoke", "bp") and kn.allows("bp", "smoke")
    assert kn.allows("age", "race")  # both fixed: within the baseline tier
    # backwards: the edges unconstrained discovery proposed on the demo cohort
    assert not kn.allows("weight", "sex")
    assert not kn.allows("death", "bp")
    assert not kn.allows("death", "smoke")
    # nothing into a fixed column from a non-fixed one
    for n in ("sex", "smoke", "bp", "weight", "death"):
        assert not kn.allows(n, "age") and not kn.allows(n, "race")
    assert not kn.allows("sex", "sex")


def test_disallowed_lists_every_refused_pair(kn):
    bad = kn.disallowed(NODES)
    assert ("weight", "sex") in bad and ("death", "age") in bad and ("sex", "smoke") not in bad
    assert bad == {(a, b) for a in NODES for b in NODES if a != b and not kn.allows(a, b)}
    assert all(("death", n) in bad for n in NODES if n != "death")


def test_forbidden_and_unknown_nodes():
    k = BackgroundKnowledge(forbidden={("a", "b")}, tiers=[["a"], ["b"]])
    assert not k.allows("a", "b") and not k.allows("b", "a")
    assert k.allows("a", "c") and k.allows("c", "a")  # c in no tier: unconstrained
    assert BackgroundKnowledge.empty().allows("death", "sex")


def test_violations_are_sentences(kn):
    g = CausalGraph(NODES, [("sex", "smoke"), ("weight", "sex"), ("death", "bp"), ("smoke", "death")])
    v = kn.violations(g)
    assert len(v) == 2
    assert v[0] == "The edge weight -> sex is not allowed: 'weight' (tier 3) comes after 'sex' (tier 2)."
    assert v[1] == "The edge death -> bp is not allowed: 'death' may have no outgoing edges."
    assert kn.violations(CausalGraph(NODES, [("sex", "smoke"), ("smoke", "death")])) == []


def test_violations_report_missing_required_and_forbidden():
    k = BackgroundKnowledge(forbidden={("a", "c")}, required={("a", "b"), ("b", "q")})
    v = k.violations(CausalGraph(["a", "b", "c"], [("a", "c")]))
    assert v == [
        "The edge a -> c is not allowed: edge a -> c is forbidden.",
        "The required edge a -> b is missing.",
        "The required edge b -> q names 'q', which is not in the graph.",
    ]


@pytest.mark.parametrize("kwargs, needle", [
    (dict(required={("smoke", "age")}, tiers=[["age"], ["smoke"]]),
     "required edge smoke -> age contradicts the background knowledge: 'smoke' (tier 2) comes after 'age' (tier 1)"),
    (dict(required={("y", "a")}, no_outgoing={"y"}), "'y' may have no outgoing edges"),
    (dict(required={("a", "b")}, forbidden={("a", "b")}), "edge a -> b is forbidden"),
    (dict(required={("a", "a")}), "self loop"),
    (dict(required={("a", "b"), ("b", "a")}), "required edges form a cycle: a -> b -> a"),
    (dict(tiers=[["a", "b"], ["b"]]), "column 'b' is in two tiers (1 and 2)"),
    (dict(tiers=["ab"]), "tier 'ab' is not a list"),
    (dict(forbidden={("a",)}), "forbidden edge ('a',) is not a [parent, child] pair"),
    (dict(required=[3]), "required edge 3 is not a [parent, child] pair"),
    (dict(no_outgoing={3}), "no_outgoing entry 3 is not a column name"),
])
def test_invalid_knowledge_is_one_line_error(kwargs, needle):
    with pytest.raises(InputError) as e:
        BackgroundKnowledge(**kwargs)
    assert needle in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("args, needle", [
    (("q", "death", ()), "sensitive attribute 'q' is not a column"),
    (("sex", "q", ()), "outcome 'q' is not a column"),
    (("sex", "sex", ()), "same column 'sex'"),
    (("sex", "death", ("zzz",)), "fixed column 'zzz' is not a column"),
    (("sex", "death", ("sex",)), "'sex' cannot be both fixed and the sensitive attribute"),
    (("sex", "death", ("death",)), "'death' cannot be both fixed and the outcome"),
])
def test_default_knowledge_rejects_bad_roles(args, needle):
    with pytest.raises(InputError, match=needle.replace("(", "\\(").replace(")", "\\)")):
        default_knowledge(NODES, *args)


def test_dict_round_trip(kn):
    k = BackgroundKnowledge(forbidden={("bp", "smoke")}, required={("age", "bp")},
                            tiers=kn.tiers, no_outgoing={"death"})
    d = k.to_dict()
    assert d["forbidden"] == [["bp", "smoke"]] and d["required"] == [["age", "bp"]]
    back = BackgroundKnowledge.from_dict(d)
    assert back == k
    assert back.allows("age", "bp") and not back.allows("bp", "smoke")
    assert BackgroundKnowledge.from_dict({}) == BackgroundKnowledge.empty()


@pytest.mark.parametrize("d, needle", [
    ([], "expected an object"),
    ({"tier": []}, "unknown key 'tier'"),
    ({"tiers": "a"}, "'tiers' must be a list"),
    ({"required": [["a", "b"], ["b", "a"]]}, "required edges form a cycle"),
    ({"no_outgoing": [["a"]]}, "'no_outgoing' must be a list of column names"),
])
def test_from_dict_rejects_bad_input(d, needle):
    with pytest.raises(InputError) as e:
        BackgroundKnowledge.from_dict(d, source="knowledge.json")
    assert needle in str(e.value) and str(e.value).startswith("knowledge.json")


def test_in_place_edits_are_seen(kn):
    """The dataclass is mutable (the dashboard edits it); rules follow the edits."""
    assert kn.allows("smoke", "extra")  # in no tier yet
    kn.tiers.insert(2, ["extra"])
    assert not kn.allows("smoke", "extra") and kn.allows("extra", "smoke")
    kn.forbidden.add(("extra", "smoke"))
    assert not kn.allows("extra", "smoke")
    kn.tiers[0].append("bp")
    with pytest.raises(InputError, match="column 'bp' is in two tiers"):
        kn.allows("a", "b")
