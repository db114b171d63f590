import numpy as np
import pandas as pd
import pytest

from faircause_core.errors import InputError
from faircause_core.metrics.fidelity import (
    column_pair_trends,
    column_shapes,
    correlation_matrices,
    quality_report,
)

KINDS = {"age": "integer", "sbp": "continuous", "sex": "binary", "smoker": "categorical", "id": "identifier"}


def cohort(n=400, seed=0):
    """A small seeded table with strong dependencies between every column."""
    rng = np.random.default_rng(seed)
    age = rng.integers(30, 80, n).astype(float)
    sex = np.where(rng.random(n) < 0.5, "Male", "Female")
    sbp = 90 + 0.8 * age + 8 * (sex == "Male") + rng.normal(0, 4, n)
    sbp[rng.random(n) < 0.05] = np.nan
    smoker = np.where(sex == "Male", np.where(age > 55, "former", "current"), "never")
    smoker = smoker.astype(object)
    smoker[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"id": np.arange(n), "age": age, "sbp": sbp, "sex": sex, "smoker": smoker})


def independent_columns(df, seed=1):
    """Each column permuted on its own: marginals kept exactly, every dependency broken."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: df[c].to_numpy()[rng.permutation(len(df))] for c in df})


def test_identical_data_scores_one():
    df = cohort()
    rep = quality_report(df, df.copy(), KINDS)
    assert rep["shape"] == 1.0 and rep["trend"] == 1.0 and rep["quality"] == 1.0
    assert list(rep["columns"]["column"]) == ["age", "sbp", "sex", "smoker"]  # identifier skipped
    assert len(rep["pairs"]) == 6
    assert set(rep["pairs"]["metric"]) == {"CorrelationSimilarity", "ContingencySimilarity"}


def test_independent_columns_keep_shapes_but_lose_trends():
    df = cohort()
    rep = quality_report(df, independent_columns(df), KINDS)
    assert rep["shape"] == pytest.approx(1.0)
    assert rep["trend"] < 0.85
    pairs = rep["pairs"].set_index(["column_a", "column_b"])["score"]
    assert pairs[("age", "sbp")] < 0.7  # rho ~0.9 became ~0
    assert rep["quality"] < rep["shape"]


def test_shifted_distribution_scores_lower():
    df = cohort()
    shifted = df.copy()
    shifted["age"] = shifted["age"] + 10
    shapes = column_shapes(df, shifted, KINDS).set_index("column")["score"]
    assert shapes["age"] < 0.85
    assert shapes["sex"] == 1.0 and shapes["sbp"] == 1.0


def test_hand_computed_scores():
    real = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [1.0, 2, 3, 4], "c": ["a", "a", "b", "b"]})
    synth = pd.DataFrame({"x": [3.0, 4, 5, 6], "y": [4.0, 3, 2, 1], "c": ["a", "a", "a", "b"]})
    kinds = {"x": "continuous", "y": "continuous", "c": "categorical"}
    shapes = column_shapes(real, synth, kinds).set_index("column")["score"]
    assert shapes["x"] == pytest.approx(0.5)  # KS = 0.5
    assert shapes["c"] == pytest.approx(0.75)  # TVD = 0.25
    pairs = column_pair_trends(real, synth, kinds).set_index(["column_a", "column_b"])["score"]
    assert pairs[("x", "y")] == pytest.approx(0.0)  # rho +1 vs -1


def test_missing_rate_is_blended_into_number_shapes():
    real = pd.DataFrame({"x": np.arange(100, dtype=float)})
    synth = real.copy()
    synth.loc[::2, "x"] = np.nan  # same range of observed values, half missing
    score = column_shapes(real, synth, {"x": "continuous"})["score"].iloc[0]
    ks = 1 - 0.01  # observed halves differ by at most one step of the CDF
    assert score == pytest.approx(ks * 0.5, abs=0.01)
    # all-missing against observed scores 0
    synth["x"] = np.nan
    assert column_shapes(real, synth, {"x": "continuous"})["score"].iloc[0] == 0.0


def test_missing_is_its_own_category_and_numbers_match_across_types():
    real = pd.DataFrame({"c": pd.Series([1, 0, 1, 0], dtype="int64")})
    synth = pd.DataFrame({"c": pd.Series([1.0, 0.0, 1.0, np.nan])})
    score = column_shapes(real, synth, {"c": "binary"})["score"].iloc[0]
    assert score == pytest.approx(0.75)  # only the missing quarter differs


def test_contingency_uses_real_quantile_bins():
    rng = np.random.default_rng(3)
    real = pd.DataFrame({"x": rng.normal(size=500), "g": rng.choice(["a", "b"], 500)})
    synth = real.copy()
    synth["x"] = synth["x"] + 5  # all synthetic values land in the top real bin
    pairs = column_pair_trends(real, synth, {"x": "continuous", "g": "binary"})
    assert pairs["score"].iloc[0] < 0.2


def test_correlation_matrices():
    df = cohort()
    r, s, d = correlation_matrices(df, df, KINDS)
    assert list(r.index) == ["age", "sbp", "sex", "smoker"]
    assert np.allclose(d.to_numpy(), 0.0)
    assert np.allclose(np.diag(r.to_numpy()), 1.0)
    assert r.loc["age", "sbp"] > 0.8  # Pearson
    assert r.loc["sex", "smoker"] == pytest.approx(1.0)  # Cramer's V: smoker determines sex
    assert 0.2 < r.loc["sex", "sbp"] < 1.0  # correlation ratio
    r, s, d = correlation_matrices(df, independent_columns(df), KINDS)
    assert (d.loc["sex", "smoker"] < -0.8) and abs(s.loc["age", "sbp"]) < 0.2
    assert np.allclose(d.to_numpy(), d.to_numpy().T)


def test_bad_inputs_raise_one_line_input_errors():
    df = cohort()
    with pytest.raises(InputError, match="synthetic table has no column 'sbp'"):
        quality_report(df, df.drop(columns="sbp"), KINDS)
    with pytest.raises(InputError, match="unknown kind 'text'"):
        column_shapes(df, df, {"age": "text"})
    bad = df.copy()
    bad["age"] = bad["age"].astype(object)
    bad.loc[3, "age"] = "old"
    with pytest.raises(InputError, match="synthetic column 'age' has a non-numeric value 'old'"):
        column_shapes(df, bad, KINDS)
    with pytest.raises(InputError, match="real table has no rows"):
        column_shapes(df.iloc[:0], df, KINDS)
    with pytest.raises(InputError, match="schema must be"):
        column_shapes(df, df, ["age"])


def test_accepts_schema_like_objects():
    """Anything with .columns = {name: obj with .kind (str enum)} works, like schema.Schema."""
    from dataclasses import dataclass
    from enum import Enum

    class K(str, Enum):
        INTEGER = "integer"
        BINARY = "binary"

    @dataclass
    class Col:
        kind: K

    @dataclass
    class S:
        columns: dict

    df = cohort()
    rep = quality_report(df, df, S({"age": Col(K.INTEGER), "sex": Col(K.BINARY)}))
    assert rep["quality"] == 1.0 and len(rep["pairs"]) == 1


def test_demo_cohort_independent_columns():
    """The real demo cohort once: permuting columns keeps shapes and visibly breaks trends."""
    df = pd.read_csv("assets/nhefs_cohort.csv")
    kinds = {"sex": "binary", "age": "integer", "education": "ordinal", "income_bracket": "integer",
             "cholesterol": "integer", "weight_kg_1971": "continuous", "high_bp": "categorical",
             "death": "binary"}
    for c in ("age", "income_bracket", "cholesterol"):
        df[c] = df[c].astype(float)
    rep = quality_report(df, independent_columns(df), kinds)
    assert rep["shape"] == pytest.approx(1.0)
    assert rep["trend"] < 0.97
    pairs = rep["pairs"].set_index(["column_a", "column_b"])["score"]
    assert pairs[("education", "income_bracket")] < 0.85  # strongly related in the cohort
    assert pairs[("sex", "weight_kg_1971")] < 0.85


def test_many_distinct_categories_do_not_blow_up_memory():
    """Joint tables of two near-unique text columns are counted sparsely."""
    n = 1500
    real = pd.DataFrame({"a": [f"a{i}" for i in range(n)], "b": [f"b{i}" for i in range(n)]})
    kinds = {"a": "categorical", "b": "categorical"}
    pairs = column_pair_trends(real, real, kinds)
    assert pairs["score"].iloc[0] == 1.0
    other = real.assign(b=real["b"].to_numpy()[::-1])
    assert column_pair_trends(real, other, kinds)["score"].iloc[0] == pytest.approx(0.0)
