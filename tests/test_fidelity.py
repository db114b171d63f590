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


def test_missing_values_are_scored_apart_from_shapes():
    """SDMetrics' shapes read observed values only; MissingValueSimilarity shows the missing share."""
    real = pd.DataFrame({"x": np.arange(100, dtype=float)})
    synth = real.copy()
    synth.loc[::2, "x"] = np.nan  # same range of observed values, half missing
    row = column_shapes(real, synth, {"x": "continuous"}).iloc[0]
    assert row["score"] == pytest.approx(1 - 0.01)  # observed halves differ by one step of the CDF
    assert row["missing_similarity"] == pytest.approx(0.5)
    # all-missing against observed: no shape score (SDMetrics leaves it out), no missing match, a note
    synth["x"] = np.nan
    rep = quality_report(real.assign(y=1.0), synth.assign(y=1.0), {"x": "continuous", "y": "continuous"})
    row = rep["columns"].set_index("column").loc["x"]
    assert np.isnan(row["score"]) and row["missing_similarity"] == 0.0
    assert rep["shape"] == 1.0  # the mean over the columns SDMetrics could score
    assert any("column 'x': no observed values" in n for n in rep["notes"])


def test_numbers_match_across_types_and_missing_is_apart():
    real = pd.DataFrame({"c": pd.Series([1, 0, 1, 0], dtype="int64")})
    synth = pd.DataFrame({"c": pd.Series([1.0, 0.0, 1.0, np.nan])})
    row = column_shapes(real, synth, {"c": "binary"}).iloc[0]
    assert row["score"] == pytest.approx(1 - 1 / 6)  # observed shares 2/3 vs 1/2: 1 equals 1.0
    assert row["missing_similarity"] == pytest.approx(0.75)


def test_contingency_bins_each_table_on_its_own_range():
    """SDMetrics cuts a number into 10 equal-width bins of each table's own range: a shift shows
    in the column shape, a reversed dependency in the pair."""
    rng = np.random.default_rng(3)
    g = rng.choice(["a", "b"], 500)
    real = pd.DataFrame({"x": rng.normal(size=500) + 3 * (g == "a"), "g": g})
    kinds = {"x": "continuous", "g": "binary"}
    shifted = real.assign(x=real["x"] + 50)
    assert column_pair_trends(real, shifted, kinds)["score"].iloc[0] == pytest.approx(1.0)
    assert column_shapes(real, shifted, kinds).set_index("column").loc["x", "score"] == 0.0
    flipped = real.assign(g=np.where(g == "a", "b", "a"))
    pair = column_pair_trends(real, flipped, kinds).iloc[0]
    assert pair["counted"] and pair["real_association"] > 0.3
    assert pair["score"] < 0.2


def test_scores_are_exactly_sdmetrics():
    """Our wrapper gives SDMetrics' own numbers: the single-table QualityReport with metadata
    from the kinds (identifier dropped) and the single metrics on each column and pair."""
    import warnings

    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity
    from sdmetrics.single_column import KSComplement, TVComplement

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the single-table report is deprecated
        from sdmetrics.reports.single_table import QualityReport

    df = cohort(300)
    synth = cohort(250, seed=5)
    synth["sbp"] = synth["sbp"] * 1.05
    kinds = {**KINDS, "grade": "ordinal", "income": "continuous"}
    rng = np.random.default_rng(7)
    df["grade"], synth["grade"] = rng.integers(1, 4, 300), rng.integers(1, 4, 250).astype(float)
    df["income"], synth["income"] = 2 * df["age"] + rng.normal(0, 30, 300), rng.normal(200, 30, 250)
    rep = quality_report(df, synth, kinds)

    metadata = {"columns": {"age": {"sdtype": "numerical"}, "sbp": {"sdtype": "numerical"},
                            "sex": {"sdtype": "categorical"}, "smoker": {"sdtype": "categorical"},
                            "grade": {"sdtype": "categorical"}, "income": {"sdtype": "numerical"}}}
    cols = list(metadata["columns"])
    ref = QualityReport()
    ref.generate(df[cols], synth[cols].reset_index(drop=True), metadata, verbose=False)
    props = ref.get_properties().set_index("Property")["Score"]
    assert rep["quality"] == ref.get_score()
    assert (rep["shape"], rep["trend"]) == (props["Column Shapes"], props["Column Pair Trends"])
    assert list(rep["properties"]["property"]) == ["SDMetrics Quality Score", "Column Shapes", "Column Pair Trends"]
    assert list(rep["properties"]["score"]) == [rep["quality"], rep["shape"], rep["trend"]]

    shapes = rep["columns"].set_index("column")["score"]
    assert shapes["age"] == KSComplement.compute(df["age"], synth["age"])
    assert shapes["sbp"] == KSComplement.compute(df["sbp"], synth["sbp"])
    assert shapes["smoker"] == TVComplement.compute(df["smoker"], synth["smoker"])
    assert shapes["grade"] == TVComplement.compute(df["grade"], synth["grade"])
    pairs = rep["pairs"].set_index(["column_a", "column_b"])
    assert pairs.loc[("age", "sbp"), "score"] == CorrelationSimilarity.compute(df[["age", "sbp"]], synth[["age", "sbp"]])
    assert pairs.loc[("sex", "smoker"), "score"] == ContingencySimilarity.compute(
        df[["sex", "smoker"]], synth[["sex", "smoker"]])
    # the trend is the mean over the pairs related in the real data, as SDMetrics' default
    assert pairs["counted"].sum() < len(pairs)  # grade is unrelated to everything
    assert rep["trend"] == pytest.approx(pairs.loc[pairs["counted"], "score"].mean(), abs=1e-12)
    assert not pairs.loc[pairs.index.get_level_values(0) == "grade", "counted"].any()


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


def test_the_heatmaps_read_a_seeded_sample_of_a_large_table():
    """Above max_rows a side is read on a seeded sample: the same matrices twice, others with
    another seed (so the sample is real), within sampling error of all the rows; at or below it
    every row, exactly; the page's line says how many of how many rows."""
    from faircause_core.metrics.fidelity import HEATMAP_ROWS
    from faircause_core.present.explain import heatmap_note

    df = cohort(n=4000)
    every, _, _ = correlation_matrices(df, df, KINDS, max_rows=None)
    a, _, _ = correlation_matrices(df, df, KINDS, max_rows=1000, seed=0)
    b, _, _ = correlation_matrices(df, df, KINDS, max_rows=1000, seed=0)
    c, _, _ = correlation_matrices(df, df, KINDS, max_rows=1000, seed=1)
    assert a.equals(b) and not a.equals(c) and not a.equals(every)
    assert np.abs(a.to_numpy() - every.to_numpy()).max() < 0.1
    whole, _, _ = correlation_matrices(df, df, KINDS, max_rows=4000)
    assert whole.equals(every)
    assert heatmap_note(HEATMAP_ROWS, 1629) == ""
    assert heatmap_note(2_000_000, 1629) == f"Associations computed on a seeded {HEATMAP_ROWS:,} of the 2,000,000 real rows."
    assert heatmap_note(2_000_000, 1_000_000).endswith(f"and a seeded {HEATMAP_ROWS:,} of the 1,000,000 synthetic rows.")


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


def _stays(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Hospital stays: admission day, discharge 1-30 days later, last contact after it; a
    smoker flag with 0 cigarettes for every non-smoker; heart rate and cholesterol (scales
    apart: heart rate is always the smaller, which is no rule)."""
    rng = np.random.default_rng(seed)
    adm = rng.integers(10_000, 12_000, n).astype(float)
    dis = adm + rng.integers(1, 31, n)
    last = dis + rng.integers(0, 400, n)
    smoker = (rng.random(n) < 0.45).astype(int)
    cigs = np.where(smoker == 1, rng.integers(1, 41, n), 0).astype(float)
    df = pd.DataFrame({"admitted": adm, "discharged": dis, "last_contact": last, "smoker": smoker, "cigs": cigs,
                       "heart_rate": rng.integers(50, 110, n).astype(float),
                       "cholesterol": rng.integers(150, 320, n).astype(float)})
    kinds = {"admitted": "integer", "discharged": "integer", "last_contact": "integer", "smoker": "binary",
             "cigs": "integer", "heart_rate": "integer", "cholesterol": "integer"}
    return df, kinds


def test_rules_every_real_row_keeps_and_the_rows_that_break_them():
    from faircause_core.metrics.fidelity import kept_rules

    real, kinds = _stays()
    same = kept_rules(real, real.sample(frac=1.0, random_state=1), kinds)
    names = {r["rule"] for r in same["rules"]}
    assert {"admitted <= discharged", "discharged <= last_contact", "admitted <= last_contact",
            "smoker = 0 => cigs = 0"} <= names, names
    assert "heart_rate <= cholesterol" not in names  # the ranges alone keep it
    assert same["broken"] == [] and all(r["broken"] == 0 for r in same["rules"])
    # control: each column drawn on its own breaks them, and the interval says how surely
    rng = np.random.default_rng(2)
    apart = pd.DataFrame({c: rng.permutation(real[c].to_numpy()) for c in real.columns})
    found = kept_rules(real, apart, kinds)
    by = {r["rule"]: r for r in found["rules"]}
    assert {"admitted <= discharged", "smoker = 0 => cigs = 0"} <= set(found["broken"])
    r = by["admitted <= discharged"]
    assert 0.3 < r["ci_low"] <= r["broken_share"] <= r["ci_high"] < 0.7 and r["synthetic_rows"] == len(apart)
    # a rule must hold on every real row: one stay discharged before its admission, no rule
    bad = real.copy()
    bad.loc[0, "discharged"] = bad.loc[0, "admitted"] - 1
    assert "admitted <= discharged" not in {x["rule"] for x in kept_rules(bad, apart, kinds)["rules"]}


def test_a_run_reports_the_rules_and_the_words_warn_when_one_is_broken():
    from faircause_core.metrics.fidelity import kept_rules
    from faircause_core.present.explain import rule_rows, rules_warning

    real, kinds = _stays()
    rng = np.random.default_rng(3)
    apart = pd.DataFrame({c: rng.permutation(real[c].to_numpy()) for c in real.columns})
    fid = {"rules": kept_rules(real, apart, kinds)}
    rows = rule_rows(fid)
    assert rows[0]["rule every real row keeps"] in fid["rules"]["broken"] and "%" in rows[0]["synthetic rows breaking it"]
    said = rules_warning(fid)
    assert said.startswith("impossible rows: the synthetic rows break") and "admitted <= discharged" in said
    assert rules_warning({"rules": kept_rules(real, real, kinds)}) is None
    assert rules_warning({}) is None and rule_rows({}) == []


def test_pairs_counted_by_a_column_of_many_categories_are_said():
    """A date kept as text has about one real row a value: its Cramer's V with any column is high
    by chance, so SDMetrics counts its pairs and the trend falls though nothing related was lost.
    The note names the column; control: the same table without it has no such note."""
    rng = np.random.default_rng(0)
    n = 600
    real = pd.DataFrame({"day": [f"2015-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in rng.permutation(n)],
                         "ward": rng.choice(["a", "b", "c"], n), "age": rng.integers(20, 90, n).astype(float)})
    synth = real.assign(day=real["day"].sample(frac=1, random_state=1).to_numpy())
    kinds = {"day": "categorical", "ward": "categorical", "age": "integer"}
    report = quality_report(real, synth, kinds)
    said = [x for x in report["notes"] if "more than 50 categories" in x]
    assert report["pairs"]["counted"].sum() >= 1 and said and "2 of the 2 pairs" in said[0] and "'day' (84)" in said[0], (report["notes"], report["pairs"])
    plain = quality_report(real.drop(columns="day"), synth.drop(columns="day"), {"ward": "categorical", "age": "integer"})
    assert not [x for x in plain["notes"] if "categories" in x]
