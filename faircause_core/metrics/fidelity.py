"""Fidelity: how closely a synthetic table mirrors the real one, column by column and in pairs.

What was chosen and why. The scores follow the semantics of SDMetrics' quality report
(the de-facto standard for tabular synthetic data) but are computed here with numpy and
scipy, so no extra package is needed and every number can be traced:

- Column shapes. Numbers: KS complement, 1 - the two-sample Kolmogorov-Smirnov statistic
  (scipy.stats.ks_2samp) on the non-missing values, multiplied by the missing-rate match
  1 - |missing share real - missing share synthetic|; so a column scores 1 only when both
  its value distribution and how often it is missing agree, and an all-missing side
  against an observed one scores 0. Discrete columns: TV complement, 1 - the total
  variation distance of the category frequencies, with "missing" as its own category.
- Column pair trends. Two numbers: correlation similarity 1 - |rho_real - rho_synth| / 2
  (Pearson, pairwise complete; an undefined correlation, e.g. a constant column, counts
  as 0). Any pair with a discrete column: contingency similarity 1 - TVD of the joint
  frequency tables, numbers cut into at most 10 quantile bins of the REAL data
  (binning.Binner), missing as its own state in both columns.
- quality = (mean shape score + mean pair score) / 2, as in SDMetrics.
- Association heatmaps (correlation_matrices): signed Pearson for two numbers, Cramer's V
  for two discrete columns, the correlation ratio eta for a number and a discrete column
  (both one-hot free and in [0, 1]); pairwise complete rows; undefined counts as 0.

The small helpers here that read a schema and align frames are shared by utility.py and
privacy.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from faircause_core.io.binning import Binner
from faircause_core.errors import InputError

KINDS = ("binary", "categorical", "ordinal", "integer", "continuous", "identifier")
NUMERIC_KINDS = ("integer", "continuous")
TREND_BINS = 10


# ----------------------------------------------------------------------------- helpers
def _kinds(schema) -> dict[str, str]:
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


def _check_frame(df, which: str, columns) -> None:
    """A table must be a non-empty DataFrame holding every schema column."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{which} table must be a DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise InputError(f"{which} table has no rows")
    for col in columns:
        if col not in df.columns:
            raise InputError(f"{which} table has no column '{col}'")


def _numeric(series: pd.Series, which: str) -> np.ndarray:
    """float64 values of a numeric column; a non-number is a user error naming the value."""
    try:
        return series.astype("float64").to_numpy()
    except (TypeError, ValueError):
        conv = pd.to_numeric(series, errors="coerce")
        bad = series[conv.isna() & series.notna()].iloc[0]
        raise InputError(f"{which} column '{series.name}' has a non-numeric value {bad!r}") from None


def _canonical(series: pd.Series) -> np.ndarray:
    """Raw discrete values with numbers as float, so 1, 1.0 and np.int64(1) are one category."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64").to_numpy()

    def key(v):
        if isinstance(v, (bool, np.bool_)):
            return float(v)
        if isinstance(v, (int, float, np.integer, np.floating)):
            return float(v)
        return v

    return np.array([key(v) for v in series.to_numpy(dtype=object)], dtype=object)


def _discrete_codes(*series: pd.Series) -> tuple[list[np.ndarray], int]:
    """Integer codes shared across frames, 0 = missing; returns (codes per series, n levels)."""
    parts = [_canonical(s) for s in series]
    allv = np.concatenate([p.astype(object) for p in parts])
    codes, uniques = pd.factorize(allv, use_na_sentinel=True)
    codes = codes + 1
    out, start = [], 0
    for p in parts:
        out.append(codes[start:start + len(p)])
        start += len(p)
    return out, len(uniques) + 1


def _numeric_codes(real: np.ndarray, synth: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Quantile-bin codes fitted on the REAL values, 0 = missing."""
    seen = real[~np.isnan(real)]
    if seen.size == 0:  # nothing to bin on: observed vs missing only
        return [(~np.isnan(v)).astype(np.int64) for v in (real, synth)], 2
    b = Binner(max_bins=TREND_BINS).fit(seen)
    return [b.transform(v) + 1 for v in (real, synth)], b.n_bins_ + 1


def _tvd(a: np.ndarray, b: np.ndarray, n_levels: int) -> float:
    """Total variation distance between the frequency tables of two code arrays."""
    if n_levels > 1_000_000:  # a huge sparse joint table: count only the codes that occur
        _, both = np.unique(np.concatenate([a, b]), return_inverse=True)
        a, b, n_levels = both[:len(a)], both[len(a):], int(both.max()) + 1
    p = np.bincount(a, minlength=n_levels) / len(a)
    q = np.bincount(b, minlength=n_levels) / len(b)
    return 0.5 * float(np.abs(p - q).sum())


def _prepare(real, synth, schema):
    """Validate and turn both frames into per-column arrays (numbers) and shared codes."""
    kinds = _kinds(schema)
    _check_frame(real, "real", kinds)
    _check_frame(synth, "synthetic", kinds)
    values, codes = {}, {}
    for col, kind in kinds.items():
        if kind in NUMERIC_KINDS:
            r, s = _numeric(real[col], "real"), _numeric(synth[col], "synthetic")
            values[col] = (r, s)
            codes[col] = _numeric_codes(r, s)
        else:
            codes[col] = _discrete_codes(real[col], synth[col])
    return kinds, values, codes


# ----------------------------------------------------------------------------- shapes
def _ks_complement(r: np.ndarray, s: np.ndarray) -> float:
    """(1 - KS on observed values) * (1 - |missing-rate difference|)."""
    ro, so = r[~np.isnan(r)], s[~np.isnan(s)]
    if ro.size and so.size:
        ks = 1.0 - float(ks_2samp(ro, so).statistic)
    else:
        ks = 1.0 if ro.size == so.size == 0 else 0.0
    missing_match = 1.0 - abs(np.isnan(r).mean() - np.isnan(s).mean())
    return ks * float(missing_match)


def column_shapes(real: pd.DataFrame, synth: pd.DataFrame, schema) -> pd.DataFrame:
    """One score per column in [0, 1]: KS complement for numbers, TV complement otherwise."""
    kinds, values, codes = _prepare(real, synth, schema)
    return _shapes(kinds, values, codes)


def _shapes(kinds, values, codes) -> pd.DataFrame:
    rows = []
    for col, kind in kinds.items():
        if kind in NUMERIC_KINDS:
            rows.append((col, kind, "KSComplement", _ks_complement(*values[col])))
        else:
            (a, b), n = codes[col]
            rows.append((col, kind, "TVComplement", 1.0 - _tvd(a, b, n)))
    return pd.DataFrame(rows, columns=["column", "kind", "metric", "score"])


# ----------------------------------------------------------------------------- pairs
def _pearson_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """Pairwise-complete Pearson; undefined (constant or < 2 rows) as 0."""
    return frame.corr(method="pearson", min_periods=2).fillna(0.0)


def column_pair_trends(real: pd.DataFrame, synth: pd.DataFrame, schema) -> pd.DataFrame:
    """One score per column pair in [0, 1]: correlation or contingency similarity."""
    kinds, values, codes = _prepare(real, synth, schema)
    return _pairs(kinds, values, codes)


def _pairs(kinds, values, codes) -> pd.DataFrame:
    nums = [c for c, k in kinds.items() if k in NUMERIC_KINDS]
    rho_r = _pearson_matrix(pd.DataFrame({c: values[c][0] for c in nums}))
    rho_s = _pearson_matrix(pd.DataFrame({c: values[c][1] for c in nums}))
    rows = []
    for a, b in combinations(kinds, 2):
        if kinds[a] in NUMERIC_KINDS and kinds[b] in NUMERIC_KINDS:
            score = 1.0 - abs(rho_r.loc[a, b] - rho_s.loc[a, b]) / 2.0
            rows.append((a, b, "CorrelationSimilarity", float(score)))
        else:
            (ra, sa), na = codes[a]
            (rb, sb), nb = codes[b]
            tvd = _tvd(ra * nb + rb, sa * nb + sb, na * nb)
            rows.append((a, b, "ContingencySimilarity", 1.0 - tvd))
    return pd.DataFrame(rows, columns=["column_a", "column_b", "metric", "score"])


def quality_report(real: pd.DataFrame, synth: pd.DataFrame, schema) -> dict:
    """Shapes, pair trends and their SDMetrics-style overall quality (a single column: no trend)."""
    kinds, values, codes = _prepare(real, synth, schema)
    columns = _shapes(kinds, values, codes)
    pairs = _pairs(kinds, values, codes)
    shape = float(columns["score"].mean())
    trend = float(pairs["score"].mean()) if len(pairs) else float("nan")
    quality = shape if np.isnan(trend) else (shape + trend) / 2.0
    return dict(shape=shape, trend=trend, quality=quality, columns=columns, pairs=pairs)


# ----------------------------------------------------------------------------- heatmaps
def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramer's V of two code arrays (missing already removed); 0 when undefined."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    r, c = a.max() + 1 if a.size else 0, b.max() + 1 if b.size else 0
    if min(r, c) < 2:
        return 0.0
    table = np.bincount(a * c + b, minlength=r * c).reshape(r, c).astype(float)
    n = table.sum()
    expected = np.outer(table.sum(1), table.sum(0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / n / (min(r, c) - 1)))


def _eta(y: np.ndarray, g: np.ndarray) -> float:
    """Correlation ratio: sqrt(between-group / total variance) of numbers y by groups g."""
    if y.size < 2:
        return 0.0
    total = float(((y - y.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    _, g = np.unique(g, return_inverse=True)
    sums, counts = np.bincount(g, weights=y), np.bincount(g)
    between = float((counts * (sums / counts - y.mean()) ** 2).sum())
    return float(np.sqrt(min(between / total, 1.0)))


def _association(kinds, arrays, codes) -> pd.DataFrame:
    """Association matrix of one frame: Pearson / Cramer's V / eta, pairwise complete."""
    names = list(kinds)
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for a, b in combinations(names, 2):
        na, nb = kinds[a] in NUMERIC_KINDS, kinds[b] in NUMERIC_KINDS
        if na and nb:
            x, y = arrays[a], arrays[b]
            ok = ~np.isnan(x) & ~np.isnan(y)
            v = 0.0
            if ok.sum() >= 2 and x[ok].std() > 0 and y[ok].std() > 0:
                v = float(np.corrcoef(x[ok], y[ok])[0, 1])
        elif na or nb:
            num, disc = (a, b) if na else (b, a)
            y, g = arrays[num], codes[disc]
            ok = ~np.isnan(y) & (g > 0)
            v = _eta(y[ok], g[ok])
        else:
            ok = (codes[a] > 0) & (codes[b] > 0)
            v = _cramers_v(codes[a][ok], codes[b][ok])
        out.loc[a, b] = out.loc[b, a] = v
    return out


def correlation_matrices(real: pd.DataFrame, synth: pd.DataFrame, schema):
    """(real association, synthetic association, synthetic - real) for heatmaps."""
    kinds, values, codes = _prepare(real, synth, schema)
    mats = []
    for side in (0, 1):
        arrays = {c: values[c][side] for c in values}
        side_codes = {c: codes[c][0][side] for c, k in kinds.items() if k not in NUMERIC_KINDS}
        mats.append(_association(kinds, arrays, side_codes))
    return mats[0], mats[1], mats[1] - mats[0]
