from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faircause_core.io.data import load_table, table_from_frame
from faircause_core.errors import InputError
from faircause_core.limits import Limits
from faircause_core.causal.question import (
    FairnessProblem,
    Outcome,
    Question,
    binary_outcome,
    group_mask,
    resolve_value,
    validate_problem,
)

DEMO = Path(__file__).resolve().parents[1] / "assets" / "nhefs_cohort.csv"


@pytest.fixture(scope="module")
def demo():
    return load_table(DEMO)


def _cohort(n0=100, n1=100, rate0=0.3, rate1=0.5, seed=0):
    """Group A (n0 rows) and B (n1 rows) with a 0/1 outcome at the given rates."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "g": ["A"] * n0 + ["B"] * n1,
            "y": np.concatenate([rng.random(n0) < rate0, rng.random(n1) < rate1]).astype(int),
            "score": np.round(rng.normal(50, 10, n0 + n1), 1),
        }
    )


def _error(data, problem, **kw) -> str:
    with pytest.raises(InputError) as info:
        validate_problem(data, problem, **kw)
    assert "\n" not in str(info.value)
    return str(info.value)


# ------------------------------------------------------------------------ resolve_value

def test_resolve_numbers_from_text(demo):
    assert resolve_value(demo.df["death"], "1") == 1
    assert resolve_value(demo.df["death"], "1.0") == 1
    assert resolve_value(demo.df["death"], 0) == 0
    assert resolve_value(pd.Series([1, 2, 3], name="i"), "2") == 2
    assert resolve_value(pd.Series([1.5, 2.5], name="f"), "2.50") == 2.5


def test_resolve_text(demo):
    assert resolve_value(demo.df["sex"], "Female") == "Female"
    assert resolve_value(demo.df["sex"], " female ") == "Female"
    assert resolve_value(pd.Series(["1", "2"], name="codes"), "1.0") == "1"
    assert resolve_value(pd.Series(["1", "2"], name="codes"), 2) == "2"


def test_resolve_lists_available_values(demo):
    with pytest.raises(InputError, match=r"^value 'F' does not occur in column 'sex'; available: 'Female', 'Male'$"):
        resolve_value(demo.df["sex"], "F")
    with pytest.raises(InputError) as info:
        resolve_value(demo.df["age"], "200")
    message = str(info.value)
    assert "'25', '26'" in message and "(39 more)" in message and message.count("'") == 2 * 10 + 4
    with pytest.raises(InputError, match="no group value given for column 'sex'"):
        resolve_value(demo.df["sex"], "  ")


# --------------------------------------------------------------------------- group_mask

def test_group_mask_skips_missing():
    s = pd.Series(["a", np.nan, "b", "a"], name="s")
    assert group_mask(s, "a").tolist() == [True, False, False, True]
    n = pd.Series([1.0, np.nan, 2.0], name="n")
    assert group_mask(n, 1).tolist() == [True, False, False]
    assert group_mask(n, "2").tolist() == [False, False, True]
    assert group_mask(n, "x").dtype == bool and not group_mask(n, "x").any()


# ----------------------------------------------------------------------- binary_outcome

def test_outcome_two_numbers_larger_is_one():
    out = binary_outcome(pd.Series([3.0, 7.0, np.nan, 3.0], name="y"))
    assert out[[0, 1, 3]].tolist() == [0.0, 1.0, 0.0] and np.isnan(out[2])


def test_outcome_threshold():
    out = binary_outcome(pd.Series([1.0, 5.0, 10.0, np.nan], name="y"), threshold=5)
    assert out[:3].tolist() == [0.0, 1.0, 1.0] and np.isnan(out[3])
    # numeric text works too
    assert binary_outcome(pd.Series(["1", "9"], name="t"), threshold="5").tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "values, positive",
    [
        (["No", "Yes"], "Yes"),
        (["alive", "Dead"], "Dead"),
        (["died", "survived"], "died"),
        (["FALSE", "TRUE"], "TRUE"),
        (["0", "1"], "1"),
        (["no", "maybe"], "maybe"),  # the one that is not negative-looking
        (["Male", "Female"], "Male"),  # neither: second in sorted order
    ],
)
def test_outcome_text_labels(values, positive):
    s = pd.Series(values + [np.nan], name="y")
    out = binary_outcome(s)
    assert out[: len(values)].tolist() == [1.0 if v == positive else 0.0 for v in values]
    assert np.isnan(out[-1])


def test_outcome_single_value_is_read_by_its_label():
    assert binary_outcome(pd.Series(["Yes", "Yes"], name="y")).tolist() == [1.0, 1.0]
    assert binary_outcome(pd.Series([0.0, 0.0], name="y")).tolist() == [0.0, 0.0]
    assert binary_outcome(pd.Series([1, 1], name="y")).tolist() == [1.0, 1.0]


def test_outcome_booleans_and_a_named_positive_value():
    assert binary_outcome(pd.Series([True, False, True], name="b")).tolist() == [1.0, 0.0, 1.0]
    s = pd.Series(["Yes", "No", "Maybe", None], name="y")
    out = Outcome.resolve(s, positive=" yes").code(s)  # one versus the rest
    assert out[:3].tolist() == [1.0, 0.0, 0.0] and np.isnan(out[3])
    with pytest.raises(InputError, match="^positive value 'Sure' does not occur in column 'y'"):
        Outcome.resolve(s, positive="Sure")


def test_outcome_meaning_is_fixed_on_the_rows_it_was_resolved_on():
    real = pd.Series(["Living", "Deceased", "Living"], name="y")
    outcome = Outcome.resolve(real)
    assert outcome.positive == "Deceased" and outcome.label == "y=Deceased"
    synth = pd.Series(["Deceased", "Deceased", "unknown", None], name="y")
    coded = outcome.code(synth)
    assert coded[:2].tolist() == [1.0, 1.0] and np.isnan(coded[2:]).all()
    assert outcome.unknown(synth) == 1
    assert binary_outcome(synth[:2]).tolist() == [1.0, 1.0]  # read on its own: the same meaning
    with pytest.raises(InputError, match="not both"):
        Outcome.resolve(pd.Series([1.0, 2.0], name="y"), threshold=1, continuous=True)


def test_question_resolves_groups_and_outcome_once(demo):
    q = FairnessProblem("sex", "female", " Male", "death").resolve(demo)
    assert (q.x0, q.x1, q.y, q.threshold, q.outcome.positive) == ("Female", "Male", "death", None, 1)
    in0, in1 = q.masks(demo.df)
    assert in0.tolist() == (demo.df["sex"] == "Female").tolist() and not (in0 & in1).any()
    assert q.outcomes(demo.df).tolist() == demo.df["death"].astype(float).tolist()
    t = Question.resolve(demo.df, "death", "0", "1.0", "cholesterol", threshold=240)
    assert (t.x0, t.x1) == (0, 1) and t.outcome.label == "cholesterol >= 240"
    with pytest.raises(InputError, match=r"^x0 value 'F' does not occur in column 'sex'"):
        Question.resolve(demo.df, "sex", "F", "Male", "death")
    with pytest.raises(InputError, match=r"^x0 and x1 are the same group \('Male'\) of 'sex'"):
        Question.resolve(demo.df, "sex", "male", "MALE", "death")


def test_outcome_errors(demo):
    with pytest.raises(InputError, match="outcome 'high_bp' has 3 distinct values; give a threshold"):
        binary_outcome(demo.df["high_bp"])
    with pytest.raises(InputError, match=r"outcome 'sex' is not numeric \(e.g. 'Male'\), so a threshold cannot apply"):
        binary_outcome(demo.df["sex"], threshold=1)
    with pytest.raises(InputError, match="threshold 'high' for outcome 'age' is not a number"):
        binary_outcome(demo.df["age"], threshold="high")


# --------------------------------------------------------------------- validate_problem

def test_demo_problem_is_valid(demo):
    assert validate_problem(demo, FairnessProblem("sex", "Male", "Female", "death")) == []
    assert validate_problem(demo.df, FairnessProblem("sex", "male", "female", "death")) == []
    warnings = validate_problem(demo, FairnessProblem("race", "White", "Black or other", "cholesterol", threshold=240))
    assert warnings == ["outcome 'cholesterol' is missing in 16 rows: they are left out"]


@pytest.mark.parametrize(
    "problem, message",
    [
        (FairnessProblem("gender", "Male", "Female", "death"), "sensitive attribute: column 'gender' not found; columns: sex, race"),
        (FairnessProblem("sex", "Male", "Female", "dead"), "outcome: column 'dead' not found"),
        (FairnessProblem("sex", "Male", "Female", "sex"), "the sensitive attribute and the outcome are the same column 'sex'"),
        (FairnessProblem("sex", "Male", "Other", "death"), "x1 value 'Other' does not occur in column 'sex'; available: 'Female', 'Male'"),
        (FairnessProblem("sex", "Male", "MALE", "death"), "x0 and x1 are the same group ('Male') of 'sex'"),
        (FairnessProblem("death", "0", "1.0", "sex"), None),
        (FairnessProblem("sex", "Male", "Female", "education"), "outcome 'education' has 5 distinct values; give a threshold"),
        (FairnessProblem("sex", "Male", "Female", "exercise", threshold=1), "outcome 'exercise' is not numeric"),
        (FairnessProblem("sex", "Male", "Female", "age", threshold=100), "outcome 'age' is constant (age >= 100 is false in every row)"),
        (FairnessProblem("sex", "Male", "Female", "age", threshold=20), "outcome 'age' is constant (age >= 20 is true in every row)"),
        (FairnessProblem("heart_failure", "No", "Yes", "death"),
         "group heart_failure=Yes has 8 rows with an outcome, fewer than the minimum of 20"),
        (FairnessProblem("age", "25", "74", "death"),
         "sensitive attribute 'age' is a measurement with 49 distinct numbers, not a set of groups (at most 10); "
         "choose a column of groups (sex, race...) or make groups of it first"),
    ],
)
def test_problem_errors(demo, problem, message):
    if message is None:  # "0" and "1.0" are different groups: valid
        assert isinstance(validate_problem(demo, problem), list)
        return
    assert message in _error(demo, problem)


def test_identifier_column_is_named(tmp_path):
    df = _cohort()
    df.insert(0, "pid", [f"P{i}" for i in range(len(df))])
    table = table_from_frame(df, name="c")
    message = _error(table, FairnessProblem("pid", "P1", "P2", "y"))
    assert message == "sensitive attribute column 'pid' is an identifier (left out of the model); change its kind first"


def test_one_group_and_constant_outcome():
    df = _cohort()
    only_a = df[df.g == "A"]
    assert _error(only_a, FairnessProblem("g", "A", "B", "y")) == (
        "sensitive attribute 'g' has only one group ('A'); it needs at least two groups"
    )
    flat = df.assign(y=0)
    assert _error(flat, FairnessProblem("g", "A", "B", "y")) == (
        "outcome 'y' is constant ('0' in every row); nothing to compare"
    )


def test_group_size_limits():
    small = _cohort(n0=100, n1=19)
    assert _error(small, FairnessProblem("g", "A", "B", "y")) == (
        "group g=B has 19 rows with an outcome, fewer than the minimum of 20"
    )
    # The limit is configurable.
    assert validate_problem(small, FairnessProblem("g", "A", "B", "y"), Limits(min_group_size=10)) == [
        "group g=B is small (19 rows with an outcome): estimates will be noisy"
    ]
    # Rows without an outcome do not count.
    df = _cohort(n0=100, n1=30)
    df.loc[df.index[-15:], "y"] = np.nan
    assert "group g=B has 15 rows with an outcome" in _error(df, FairnessProblem("g", "A", "B", "y"))
    assert validate_problem(_cohort(100, 49), FairnessProblem("g", "A", "B", "y")) == [
        "group g=B is small (49 rows with an outcome): estimates will be noisy"
    ]
    assert validate_problem(_cohort(100, 50), FairnessProblem("g", "A", "B", "y")) == []


def test_groups_without_events_or_non_events():
    df = _cohort()
    df.loc[df.g == "B", "y"] = 0
    assert _error(df, FairnessProblem("g", "A", "B", "y")) == (
        "group g=B has no rows with y=1; the outcome cannot be estimated there"
    )
    df.loc[df.g == "B", "y"] = 1
    assert _error(df, FairnessProblem("g", "A", "B", "y")) == (
        "every row of group g=B has y=1; the outcome cannot be estimated there"
    )
    thr = _cohort()
    thr.loc[thr.g == "B", "score"] = 40.0
    assert "group g=B has no rows with score >= 60" in _error(thr, FairnessProblem("g", "A", "B", "score", threshold=60))


def test_extra_groups_and_missing_values_warn():
    df = pd.concat([_cohort(), _cohort(n0=30, n1=0, seed=1).assign(g="C")], ignore_index=True)
    df.loc[:4, "g"] = np.nan
    warnings = validate_problem(df, FairnessProblem("g", "A", "B", "y"))
    assert warnings == [
        "'g' has 3 groups; only 'A' and 'B' are compared (30 rows of other groups are left out)",
        "sensitive attribute 'g' is missing in 5 rows: they are left out",
    ]


def test_problem_is_frozen():
    p = FairnessProblem("sex", "Male", "Female", "death")
    with pytest.raises(AttributeError):
        p.x = "race"
    assert p.threshold is None


def test_bad_data_type():
    with pytest.raises(InputError, match="expected a Table or DataFrame, got list"):
        validate_problem([1, 2], FairnessProblem("a", "1", "2", "b"))


# ------------------------------------------------------------------------ value labels

def test_labels_resolve_to_the_columns_spelling_and_name_the_groups(demo):
    from faircause_core.causal.question import ValueLabels

    labels = {"x": {"female": "women", "MALE": "men"}, "y": {"1.0": "died", "0": "survived"}}
    q = FairnessProblem("sex", "Male", "Female", "death", labels=labels).resolve(demo)
    assert q.labels.to_dict() == {"x": {"Female": "women", "Male": "men"}, "y": {"1": "died", "0": "survived"}}
    assert (q.name0, q.name1, q.outcome_label) == ("men", "women", "death=1 (died)")
    plain = FairnessProblem("death", "0", "1", "sex").resolve(demo)  # numeric codes, no labels
    assert (plain.name0, plain.name1) == ("death = 0", "death = 1")
    text = FairnessProblem("sex", "Male", "Female", "death").resolve(demo)  # text values as they are
    assert (text.name0, text.name1, text.outcome_label) == ("Male", "Female", "death=1")
    assert ValueLabels.from_dict({"x": {"0": "  "}}).x == ()  # an empty box is no label
    assert hash(FairnessProblem("sex", "Male", "Female", "death", labels=labels))  # still a frozen value


@pytest.mark.parametrize("labels, message", [
    ({"x": {"F": "women"}}, r"^labelled value 'F' does not occur in column 'sex'; available: 'Female', 'Male'"),
    ({"y": {"2": "died"}}, r"^labelled value '2' does not occur in column 'death'"),
    ({"x": {"Male": "people", "Female": "People"}}, r"^the two groups of 'sex' have the same label 'people'"),
    ({"x": {"Male": "x" * 61}}, r"^label for X = Male is 61 characters; at most 60"),
    ({"x": ["men"]}, r"^labels for 'X' must map values to words"),
])
def test_bad_labels_are_one_line(demo, labels, message):
    with pytest.raises(InputError, match=message) as info:
        FairnessProblem("sex", "Male", "Female", "death", labels=labels).resolve(demo)
    assert "\n" not in str(info.value)


def test_outcome_labels_need_a_two_valued_outcome(demo):
    with pytest.raises(InputError, match="labels for outcome 'cholesterol' need a two-valued outcome"):
        FairnessProblem("sex", "Male", "Female", "cholesterol", threshold=240, labels={"y": {"1": "high"}}).resolve(demo)


def test_cli_label_syntax():
    from faircause_core.causal.question import ValueLabels

    got = ValueLabels.parse(["sex:0=men,1=women", "death:1=died"], "sex", "death")
    assert got.to_dict() == {"x": {"0": "men", "1": "women"}, "y": {"1": "died"}}
    odd = ValueLabels.parse(["T Stage :1=early, 2 = late stage"], "T Stage ", "y")  # colon-free prefix match
    assert odd.to_dict()["x"] == {"1": "early", "2": "late stage"}
    for specs, message in ((["age:0=young"], "column 'age' is neither the sensitive attribute 'sex'"),
                           (["sex0=men"], "'sex0=men' is not COLUMN:VALUE=LABEL"),
                           (["sex:0men"], "'0men' in 'sex:0men' is not VALUE=LABEL"),
                           (["sex:0="], "is not VALUE=LABEL"),
                           (["sex:0=men,0=boys"], "value '0' of 'sex' is labelled twice")):
        with pytest.raises(InputError, match=message):
            ValueLabels.parse(specs, "sex", "death")


def test_roles_carry_the_labels_through_their_stored_form(demo_graph):
    from faircause_core.causal.graph import Roles, derive_roles

    r = derive_roles(demo_graph, "sex", "death", "Male", "Female", labels={"x": {"Male": "men"}})
    back = Roles.from_dict(r.to_dict())
    assert back == r and back.labels.x_label("Male") == "men" and r.to_dict()["labels"]["x"] == {"Male": "men"}
    assert derive_roles(demo_graph, "sex", "death").labels is None and Roles.from_dict({"x": "a", "y": "b"}).labels is None
