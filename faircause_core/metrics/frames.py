"""Reading a schema and checking frames: the one home of what fidelity, utility and privacy share.

Every metric checks its inputs the same way (one-line InputError naming the table and the
column) and reads discrete values the same way (1, 1.0 and True are one category, the
number 1 is not the text "1"), so results agree across the three modules. The SDMetrics
helpers at the end turn our schema kinds into SDMetrics' metadata: binary, categorical and
ordinal columns are "categorical", integer and continuous columns are "numerical" and
identifiers are left out, as they carry no statistical information.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from faircause_core.errors import InputError

KINDS = ("binary", "categorical", "ordinal", "integer", "continuous", "identifier")
NUMERIC_KINDS = ("integer", "continuous")
SDTYPES = {"binary": "categorical", "categorical": "categorical", "ordinal": "categorical",
           "integer": "numerical", "continuous": "numerical"}
TABLE = "table"  # the table name SDMetrics' single-table metadata asks for


def model_kinds(schema) -> dict[str, str]:
    """{column: kind string} for the model columns of a Schema or a plain {col: kind} dict.

    Accepting a dict keeps the metrics usable (and testable) without the schema module.
    """
    if isinstance(schema, Mapping):
        items = list(schema.items())
    elif isinstance(getattr(schema, "columns", None), Mapping):
        items = list(schema.columns.items())
    else:
        raise InputError(f"schema must be a Schema or a {{column: kind}} dict, got {type(schema).__name__}")
    out = {}
    for name, kind in items:
        kind = getattr(kind, "kind", kind)  # a ColumnSchema
        kind = str(getattr(kind, "value", kind)).lower()  # a Kind enum
        if kind not in KINDS:
            raise InputError(f"column '{name}': unknown kind '{kind}' (expected one of {', '.join(KINDS)})")
        if kind != "identifier":
            out[str(name)] = kind
    if not out:
        raise InputError("schema has no model columns to compare")
    return out


def subsample(df: pd.DataFrame, max_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most max_rows of df's rows, drawn by rng without replacement, in table order."""
    if len(df) <= max_rows:
        return df
    return df.iloc[np.sort(rng.choice(len(df), size=max_rows, replace=False))]


def check_frame(df, which: str, columns) -> None:
    """A table must be a non-empty DataFrame holding every schema column."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{which} table must be a DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise InputError(f"{which} table has no rows")
    for col in columns:
        if col not in df.columns:
            raise InputError(f"{which} table has no column '{col}'")


def numbers(series: pd.Series, which: str) -> np.ndarray:
    """float64 values of a numeric column; a non-number is a user error naming the value."""
    try:
        return series.astype("float64").to_numpy()
    except (TypeError, ValueError):
        conv = pd.to_numeric(series, errors="coerce")
        bad = series[conv.isna() & series.notna()].iloc[0]
        raise InputError(f"{which} column '{series.name}' has a non-numeric value {bad!r}") from None


def canonical(series: pd.Series) -> np.ndarray:
    """Raw discrete values with numbers as float, so 1, 1.0 and np.int64(1) are one category."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64").to_numpy()

    def key(v):
        if isinstance(v, (bool, np.bool_)):
            return float(v)
        if isinstance(v, (int, float, np.integer, np.floating)):
            return float(v)
        return v

    # key() once per distinct value, not per row (a 200,000-row synthetic pool has a handful
    # of distinct values per column): the values that compare equal (1, 1.0, True) share one
    # entry and have one key anyway; missing values keep their own key.
    values = series.to_numpy(dtype=object)
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # an unhashable value (a list in a cell): one key per row
        return np.array([key(v) for v in values], dtype=object)
    keys = np.empty(len(uniques), dtype=object)
    keys[:] = [key(v) for v in uniques]
    out = np.empty(len(values), dtype=object)
    known = codes >= 0
    out[known] = keys[codes[known]]
    missing = np.flatnonzero(~known)
    if missing.size:
        fill = np.empty(missing.size, dtype=object)
        fill[:] = [key(v) for v in values[missing]]
        out[missing] = fill
    return out


# ----------------------------------------------------------------------------- SDMetrics
def sdmetrics_columns(kinds: Mapping[str, str]) -> dict:
    """SDMetrics' per-column metadata {column: {"sdtype": ...}} for our model columns."""
    return {col: {"sdtype": SDTYPES[kind]} for col, kind in kinds.items()}


def sdmetrics_frame(df: pd.DataFrame, kinds: Mapping[str, str], which: str) -> pd.DataFrame:
    """The model columns as SDMetrics should read them: numbers as float, categories canonical.

    Categories are kept as object even when they are numbers (death 0/1): SDMetrics picks
    some steps by dtype, e.g. DCRBaselineProtection would draw uniform floats for a float
    column, which no real category equals. A fresh RangeIndex, since SDMetrics aligns on it.
    """
    return pd.DataFrame({col: numbers(df[col], which) if kind in NUMERIC_KINDS else canonical(df[col]).astype(object)
                         for col, kind in kinds.items()})


def wilson(k: int, n: int) -> tuple[float, float, float]:
    """A share k/n with its Wilson 95% interval (privacy's copy shares, fidelity's broken rules)."""
    from math import sqrt

    from faircause_core.causal.effects import Z95

    p = k / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return p, max(0.0, centre - half), min(1.0, centre + half)
