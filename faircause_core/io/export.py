"""Downloads: synthetic CSV safe to open in a spreadsheet, DAG JSON, settings JSON.

A cell such as `=HYPERLINK(...)` in a CSV is executed by Excel/LibreOffice (CSV/formula
injection, OWASP). Text cells that start with = + - @ tab or carriage return and are not
plain numbers get a leading apostrophe, which spreadsheets show as text. Numeric columns
are left alone: a number such as -3.5 is never a formula.
"""

from __future__ import annotations

import io
import json
import math
import re

import numpy as np
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralize_cell(value):
    """Prefix an apostrophe to text a spreadsheet would run as a formula; keep all else."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    if _PLAIN_NUMBER.match(value.strip()) and not value.startswith(("\t", "\r")):
        return value
    return "'" + value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names cannot run as spreadsheet formulas."""
    columns = {}
    for i, col in enumerate(df.columns):
        series = df.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            series = series.astype(object).map(neutralize_cell)
        columns[i] = series.reset_index(drop=True)
    out = pd.DataFrame(columns)
    out.columns = [neutralize_cell(str(c)) for c in df.columns]
    return out


def whole_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """Float columns whose every value is a whole number as nullable integers, so a CSV says
    45 and 0, not 45.0 and 0.0 (numeric columns are float64 inside the engine, for NaN)."""
    out = df.copy()
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if pd.api.types.is_float_dtype(s):
            v = s.to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(v)
            if ok.any() and np.all(np.isfinite(v[ok])) and np.all(v[ok] == np.round(v[ok])) \
                    and np.all(np.abs(v[ok]) < 2 ** 53):
                out.isetitem(i, s.astype("Int64"))
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV of `safe_frame(df)` (missing values as empty cells, whole numbers whole)."""
    buf = io.StringIO()
    safe_frame(whole_numbers(df)).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def plain(obj):
    """JSON types only, so settings, metrics and results always serialise: the one sanitiser.

    numpy and pandas values become Python ones, tuples and sets lists, keys text, NaN and
    infinities null (json.dumps would write NaN, which strict JSON readers reject), objects
    with to_dict() their dict, and anything else its text.
    """
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [plain(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return plain(obj.to_dict(orient="records"))
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if hasattr(obj, "to_dict"):
        return plain(obj.to_dict())
    return str(obj)


def json_bytes(obj) -> bytes:
    """Pretty UTF-8 JSON of settings, a DAG dict or metrics."""
    return (json.dumps(plain(obj), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def graph_json_bytes(graph) -> bytes:
    """The DAG as JSON in CausalGraph.to_json's format (importable again)."""
    return (graph.to_json() + "\n").encode("utf-8")


def safe_filename(text: str, default: str = "data") -> str:
    """A file-name stem from a table or run name (no paths, no odd characters)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._")
    return stem[:80] or default
