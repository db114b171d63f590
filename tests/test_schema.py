import json

import numpy as np
import pandas as pd
import pytest

from faircause_core.errors import InputError
from faircause_core.limits import Limits
from faircause_core.io.schema import (
    ColumnSchema,
    Kind,
    Schema,
    convert_column,
    infer_schema,
    parse_column,
)


def _frame(n=60, seed=0):
    """Columns that each exercise one inference rule (seeded, small)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pid": [f"P{i:04d}" for i in range(n)],
            "row_no": np.arange(1000, 1000 + n),
            "sex": rng.choice(["Female", "Male"], n),
            "flag01": rng.integers(0, 2, n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "grade": rng.integers(1, 6, n),
            "count": np.concatenate([np.arange(20), rng.integers(0, 40, n - 20)]),
            "weight": np.round(rng.normal(70, 10, n), 1),
        }
    )


def test_kind_per_rule():
    schema, warnings = infer_schema(_frame())
    assert {c.name: c.kind for c in schema} == {
        "pid": Kind.IDENTIFIER,
        "row_no": Kind.IDENTIFIER,
        "sex": Kind.BINARY,
        "flag01": Kind.BINARY,
        "colour": Kind.CATEGORICAL,
        "grade": Kind.ORDINAL,
        "count": Kind.INTEGER,
        "weight": Kind.CONTINUOUS,
    }
    assert schema.model_columns == ["sex", "flag01", "colour", "grade", "count", "weight"]
    assert any("'pid'" in w and "identifier" in w for w in warnings)
    assert any("'row_no'" in w and "identifier" in w for w in warnings)


def test_categories_sorted_and_numeric_ranges():
    schema, _ = infer_schema(_frame())
    assert schema["colour"].categories == ["blue", "green", "red"]
    assert schema["flag01"].categories == [0, 1]
    assert schema["grade"].categories == [1, 2, 3, 4, 5]
    w = schema["weight"]
    assert w.is_numeric and not w.is_discrete and w.decimals == 1
    assert w.minimum == _frame()["weight"].min() and w.maximum == _frame()["weight"].max()
    assert schema["count"].decimals == 0 and schema["count"].is_numeric
    assert schema["sex"].is_discrete and schema["sex"].minimum is None


def test_ordinal_boundary_is_twelve_distinct_integers():
    df = pd.DataFrame({"a": np.tile(np.arange(12), 3), "b": np.tile(np.arange(13), 3)[:36]})
    schema, _ = infer_schema(df)
    assert schema.kind("a") is Kind.ORDINAL
    assert schema.kind("b") is Kind.INTEGER


def test_unique_columns_need_twenty_rows_to_be_identifiers():
    small = pd.DataFrame({"name": [f"n{i}" for i in range(19)], "k": np.arange(19)})
    schema, _ = infer_schema(small)
    assert schema.kind("name") is Kind.CATEGORICAL
    assert schema.kind("k") is Kind.INTEGER
    # Unique floats are measurements, never identifiers.
    floats = pd.DataFrame({"x": np.linspace(0.5, 30.5, 40)})
    assert infer_schema(floats)[0].kind("x") is Kind.CONTINUOUS


def test_many_repeated_categories_warn_but_stay_categorical():
    df = pd.DataFrame({"city": [f"c{i % 8}" for i in range(40)]})
    schema, warnings = infer_schema(df, Limits(max_categories=5))
    assert schema.kind("city") is Kind.CATEGORICAL
    assert any("'city'" in w and "8 categories" in w for w in warnings)
    # Over max_categories and unique per row -> identifier even under 20 rows.
    few = pd.DataFrame({"code": [f"z{i}" for i in range(8)]})
    assert infer_schema(few, Limits(max_categories=5))[0].kind("code") is Kind.IDENTIFIER


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M"])
def test_a_date_column_is_said_to_reuse_real_dates(fmt):
    """Dates as text are categories to the models: past max_categories the warning says the
    synthetic rows would reuse the real patients' dates. Control: codes as many are the plain
    categories warning."""
    days = pd.Timestamp("2015-01-01") + pd.to_timedelta(np.arange(40) % 12 * 37, unit="D")
    df = pd.DataFrame({"admit date": days.strftime(fmt), "ward": [f"w{i % 12}" for i in range(40)]})
    schema, warnings = infer_schema(df, Limits(max_categories=5))
    assert schema.kind("admit date") is Kind.CATEGORICAL
    said = [w for w in warnings if "'admit date'" in w]
    assert said == ["column 'admit date' looks like dates (12 distinct): each date is a category, so synthetic "
                    "rows reuse the real patients' dates, which can identify them; leave it out (exclude it) or "
                    "give it as a number, such as days since admission"], said
    assert [w for w in warnings if "'ward'" in w] == [
        "column 'ward' has 12 categories (more than 5): models may be slow or sparse"]


def test_decimals_are_the_precision_seen():
    df = pd.DataFrame({"a": [79.0, 58.6, 60.25, 61.0], "b": [1.5, 2.0, 2.5, 3.0], "c": [0.1 + 0.2, 0.4, 0.5, 0.6]})
    schema, _ = infer_schema(df)
    assert schema["a"].decimals == 2
    assert schema["b"].decimals == 1
    assert schema["c"].decimals == 1  # float noise (0.30000000000000004) is not precision


def test_huge_numbers_are_whole_and_raise_no_overflow_warning():
    """Fuzzing fed Excel cells near 1e308: 1e308 * 10**d overflowed to inf (a RuntimeWarning)
    and the column was read as having 8 decimals."""
    import warnings

    df = pd.DataFrame({"a": [1.7e308, -1e300, 2.5, 3.0], "b": [1e308, 2.0, 4.0, 1e20]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema, _ = infer_schema(df)
    assert schema["a"].decimals == 1 and schema["b"].decimals == 0


def test_missing_tokens_are_counted():
    raw = pd.Series([" 1", "NA", "", "n/a", "?", "2", "NaN", "null", "3", " 4 "], name="v", dtype=object)
    parsed = parse_column(raw)
    assert parsed.dtype == np.float64
    assert int(parsed.isna().sum()) == 6
    schema, _ = infer_schema(pd.DataFrame({"v": raw, "w": list("abcabcabca")}))
    assert schema["v"].n_missing == 6
    assert schema.kind("v") is Kind.ORDINAL


def test_none_is_a_label_not_missing_and_text_is_stripped():
    raw = pd.Series(["None", " Light", "Heavy ", "None", "NA"], name="smoking", dtype=object)
    parsed = parse_column(raw)
    assert parsed.tolist()[:4] == ["None", "Light", "Heavy", "None"]
    assert parsed.isna().tolist() == [False, False, False, False, True]


def test_leading_zero_codes_stay_text():
    parsed = parse_column(pd.Series(["02139", "10001", "02139"], name="zip", dtype=object))
    assert parsed.tolist() == ["02139", "10001", "02139"]


def test_mostly_numeric_text_warns():
    raw = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "<1"] * 3
    schema, warnings = infer_schema(pd.DataFrame({"dose": raw}))
    assert schema.kind("dose") is Kind.CATEGORICAL
    assert any("'dose'" in w and "'<1'" in w for w in warnings)


def test_empty_and_constant_columns():
    df = pd.DataFrame({"blank": [""] * 5, "same": ["x"] * 5, "y": [1, 2, 1, 2, 1]})
    schema, warnings = infer_schema(df)
    assert schema.kind("blank") is Kind.IDENTIFIER and schema["blank"].n_missing == 5
    assert any("'blank' is empty" in w for w in warnings)
    assert schema.kind("same") is Kind.CATEGORICAL
    assert any("'same' has a single value" in w for w in warnings)


def test_bool_and_nullable_columns():
    df = pd.DataFrame({"b": [True, False, True], "n": pd.array([1, None, 3], dtype="Int64")})
    schema, _ = infer_schema(df)
    assert schema.kind("b") is Kind.BINARY and schema["b"].categories == [0, 1]
    assert schema["n"].n_missing == 1 and schema.kind("n") is Kind.BINARY


def test_to_dict_from_dict_round_trip_is_json():
    schema, _ = infer_schema(_frame())
    d = schema.to_dict()
    back = Schema.from_dict(json.loads(json.dumps(d)))
    assert back == schema
    assert back.names == schema.names


def test_from_dict_rejects_unknown_kind():
    with pytest.raises(InputError, match="unknown kind 'wavy' for column 'a'"):
        Schema.from_dict({"columns": [{"name": "a", "kind": "wavy"}]})
    with pytest.raises(InputError, match="'columns' list"):
        Schema.from_dict({"cols": []})


def test_unknown_column_lookup_names_it():
    schema, _ = infer_schema(_frame())
    with pytest.raises(InputError, match="column 'nope' not found; columns: pid, row_no"):
        schema["nope"]
    assert "sex" in schema and "nope" not in schema


def test_kind_parse():
    assert Kind.parse(" Continuous ") is Kind.CONTINUOUS
    assert Kind.parse(Kind.BINARY) is Kind.BINARY
    with pytest.raises(InputError, match="unknown kind 'float'"):
        Kind.parse("float")


@pytest.mark.parametrize(
    "values, kind, message",
    [
        (["a", "b", "c"], "continuous", "column 'c' has text values \\(e.g. 'a'\\); it cannot be continuous"),
        (["a", "b", "c"], "integer", "cannot be integer"),
        ([1.5, 2.0, 3.0], "integer", "non-integer values \\(e.g. 1.5\\)"),
        ([1.0, 2.0, 3.0], "binary", "3 distinct values; binary needs at most two"),
    ],
)
def test_impossible_conversions(values, kind, message):
    with pytest.raises(InputError, match=message):
        convert_column("c", parse_column(pd.Series(values, name="c")), kind)


def test_ordinal_order_checks():
    parsed = parse_column(pd.Series(["low", "high", "mid", "low"], name="lvl"))
    _, col = convert_column("lvl", parsed, "ordinal", order=["low", "mid", "high"])
    assert col.categories == ["low", "mid", "high"]
    with pytest.raises(InputError, match="lacks the observed value 'mid'"):
        convert_column("lvl", parsed, "ordinal", order=["low", "high"])
    with pytest.raises(InputError, match="repeats a value"):
        convert_column("lvl", parsed, "ordinal", order=["low", "mid", "high", "low"])
    with pytest.raises(InputError, match="kind is categorical, not ordinal"):
        convert_column("lvl", parsed, "categorical", order=["low", "mid", "high"])
    numbers = parse_column(pd.Series([3, 1, 2], name="n"))
    assert convert_column("n", numbers, "ordinal", order=["3", "2", "1"])[1].categories == [3, 2, 1]


def test_column_schema_properties():
    c = ColumnSchema("a", Kind.ORDINAL, 0, [1, 2])
    assert c.is_discrete and not c.is_numeric
    assert ColumnSchema.from_dict(c.to_dict()) == c


def test_mostly_missing_column_warns():
    df = pd.DataFrame({"lab": [1.5, None, None, 2.5, None], "k": list("ababa")})
    schema, warnings = infer_schema(df)
    assert schema["lab"].n_missing == 3
    assert "column 'lab' is 60% missing" in warnings
    assert not any("'k'" in w for w in warnings)


def test_thousands_separators_are_read_as_numbers():
    """Issue 10: "265,000" is a number, not a 176-level category; "1,5" (a decimal comma) stays text."""
    import pandas as pd

    from faircause_core.io.data import table_from_frame

    df = pd.DataFrame({"platelets": ["265,000", "1,250,000.5", "98000", None] * 10,
                       "odd": ["1,5", "2,5", "3,5", "4,5"] * 10})
    tab = table_from_frame(df)
    assert tab.schema["platelets"].is_numeric
    assert list(tab.df["platelets"].iloc[:4].fillna(-1)) == [265000.0, 1250000.5, 98000.0, -1]
    assert not tab.schema["odd"].is_numeric
