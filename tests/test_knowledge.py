"""Background knowledge: tiers, sinks, forbidden/required edges, violations, dict form."""

import pytest

from faircause_core.errors import InputError
from faircause_core.causal.graph import CausalGraph
from faircause_core.causal.knowledge import BackgroundKnowledge, check_column_marks, default_knowledge

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


# --------------------------------------------------------------------- after the outcome

FL = ["age", "sex", "kappa", "creatinine", "death", "futime", "chapter"]


@pytest.fixture
def fl():
    return default_knowledge(FL, "sex", "death", fixed=("age",), after_outcome=("futime", "chapter"))


def test_after_outcome_is_the_last_tier(fl):
    assert fl.tiers == [["age"], ["sex"], ["kappa", "creatinine"], ["death"], ["futime", "chapter"]]
    assert fl.after_outcome == {"futime", "chapter"} and fl.no_outgoing == {"death"}


def test_after_outcome_columns_depend_on_anything_and_cause_nothing_earlier(fl):
    # Y may point into them (and only into them); anything may.
    for n in ("age", "sex", "kappa", "death"):
        assert fl.allows(n, "futime") and fl.allows(n, "chapter")
    assert not fl.allows("death", "kappa")
    assert fl.allows("futime", "chapter") and fl.allows("chapter", "futime")
    for n in ("age", "sex", "kappa", "creatinine", "death"):
        assert not fl.allows("futime", n) and not fl.allows("chapter", n)
    # The rule holds without tiers too: it is the after_outcome set, not the order.
    k = BackgroundKnowledge(after_outcome={"futime"}, no_outgoing={"death"})
    assert not k.allows("futime", "death") and not k.allows("futime", "kappa")
    assert k.allows("death", "futime") and not k.allows("death", "kappa")


def test_after_outcome_violation_names_the_edge(fl):
    g = CausalGraph(FL, [("futime", "death"), ("death", "chapter"), ("chapter", "kappa")])
    assert fl.violations(g) == [
        "The edge futime -> death is not allowed: 'futime' is recorded after the outcome, so it cannot cause 'death'.",
        "The edge chapter -> kappa is not allowed: 'chapter' is recorded after the outcome, so it cannot cause 'kappa'.",
    ]
    with pytest.raises(InputError, match="required edge futime -> death contradicts the background knowledge: "
                                         "'futime' is recorded after the outcome"):
        BackgroundKnowledge(required={("futime", "death")}, after_outcome={"futime"})


def test_after_outcome_dict_round_trip_and_old_dicts(fl):
    d = fl.to_dict()
    assert d["after_outcome"] == ["chapter", "futime"]
    assert BackgroundKnowledge.from_dict(d) == fl
    old = {k: v for k, v in d.items() if k != "after_outcome"}
    back = BackgroundKnowledge.from_dict(old)
    assert back.after_outcome == set() and back.tiers == fl.tiers
    with pytest.raises(InputError, match="kb: 'after_outcome' must be a list of column names"):
        BackgroundKnowledge.from_dict({"after_outcome": [1]}, source="kb")
    with pytest.raises(InputError, match="after_outcome entry 1 is not a column name"):
        BackgroundKnowledge(after_outcome={1})


@pytest.mark.parametrize("marks, needle", [
    (dict(fixed=("age",), after_outcome=("age",)), "'age' is marked both fixed and recorded after the outcome; choose one"),
    (dict(after_outcome=("futime",), exclude=("futime",)), "'futime' is marked both recorded after the outcome and excluded"),
    (dict(after_outcome=("sex",)), "'sex' cannot be both recorded after the outcome and the sensitive attribute"),
    (dict(exclude=("death",)), "'death' cannot be both excluded and the outcome"),
    (dict(exclude=("zz",)), "excluded column 'zz' is not a column"),
    (dict(after_outcome=("zz",)), "after-outcome column 'zz' is not a column"),
    (dict(fixed="zz"), "fixed column 'zz' is not a column"),
])
def test_check_column_marks(marks, needle):
    with pytest.raises(InputError) as e:
        check_column_marks(FL, "sex", "death", **marks)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_check_column_marks_accepts_consistent_marks():
    assert check_column_marks(FL, "sex", "death", fixed=("age", "age"), after_outcome="futime",
                              exclude=("chapter",)) is None
    with pytest.raises(InputError, match="'age' is marked both fixed and recorded after the outcome"):
        default_knowledge(FL, "sex", "death", fixed=("age",), after_outcome=("age",))
