"""Per-column state encoding shared by the Bayes net and the slot language model.

A `ColumnCodec` maps one table column to states 0..card-1 and back: numbers go to quantile
bins (binning.Binner), categories keep their observed values (schema order, else sorted),
and a column with missing values gets one extra, last state for "missing".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from faircause_core.io.binning import MISSING, Binner
from faircause_core.errors import InputError


def check_graph_matches_table(graph, table, purpose: str = "fit on") -> None:
    """InputError (one line) unless the graph's nodes are exactly the table's columns and
    the table has rows; `purpose` finishes "table ... has no rows to ..."."""
    name = getattr(table, "name", "data")
    columns = list(table.df.columns)
    nodes = list(graph.nodes)
    only_graph = [c for c in nodes if c not in set(columns)]
    only_table = [c for c in columns if c not in set(nodes)]
    if only_graph or only_table:
        raise InputError(
            f"graph nodes and columns of {name!r} differ: only in graph: {', '.join(only_graph) or '-'}; "
            f"only in table: {', '.join(only_table) or '-'}"
        )
    if len(table.df) == 0:
        raise InputError(f"table {name!r} has no rows to {purpose}")


@dataclass
class ColumnCodec:
    """How one column maps to the network's states 0..card-1 and back."""

    name: str
    numeric: bool
    dtype: object
    states: list = field(default_factory=list)  # discrete: raw values in state order
    binner: Optional[Binner] = None
    has_missing: bool = False

    @classmethod
    def from_table(cls, table, column: str, max_bins: int) -> "ColumnCodec":
        """The codec of `column` of a data.Table: `max_bins` quantile bins for numbers."""
        s = table.df[column]
        numeric = is_numeric_column(table, column)
        col = cls(column, numeric, s.dtype, has_missing=bool(s.isna().any()))
        if numeric:
            values = s.to_numpy(dtype=float, na_value=np.nan)
            if np.isnan(values).all():
                raise InputError(f"column {column!r} of {getattr(table, 'name', 'data')!r} has no observed values")
            col.binner = Binner(max_bins, spikes=True).fit(values)
        else:
            col.states = categories_of(table, column, s)
            if not col.states:
                raise InputError(f"column {column!r} of {getattr(table, 'name', 'data')!r} has no observed values")
        return col

    @property
    def n_values(self) -> int:
        return self.binner.n_bins_ if self.numeric else len(self.states)

    @property
    def card(self) -> int:
        return self.n_values + (1 if self.has_missing else 0)

    def encode(self, series: pd.Series) -> np.ndarray:
        if self.numeric:
            codes = self.binner.transform(series.to_numpy(dtype=float, na_value=np.nan))
        else:
            codes = pd.Categorical(series, categories=self.states).codes.astype(np.int64)
        codes[codes == MISSING] = self.n_values  # missing = its own (last) state
        return codes

    def decode(self, codes: np.ndarray, u: np.ndarray) -> pd.Series:
        """States back to values; numbers: the observed value at quantile u of the row's bin.

        Same result as Binner.sample (a random observed value of the bin) but driven by one
        uniform per row, so a row whose bin did not change keeps its value when alpha
        changes (common random numbers across refinement rounds).
        """
        codes = np.asarray(codes, dtype=np.int64)
        if self.numeric:
            values = np.full(codes.shape, np.nan)
            for b in np.unique(codes[codes < self.n_values]):
                rows = np.flatnonzero(codes == b)
                pool = self.binner.pool_[int(b)]
                values[rows] = pool[np.minimum((u[rows] * pool.size).astype(np.int64), pool.size - 1)]
            return pd.Series(values, dtype="float64", name=self.name)
        lookup = np.empty(self.card, dtype=object)
        lookup[: self.n_values] = self.states
        if self.has_missing:
            lookup[self.n_values] = np.nan
        out = pd.Series(lookup[codes], name=self.name)
        try:
            return out.astype(self.dtype)
        except (TypeError, ValueError):
            return out

    def state_of(self, value) -> Optional[int]:
        """State index of a group value given as raw value or text ("1" for 1)."""
        if value is None:
            return None
        if self.numeric:
            try:
                v = float(value)
            except (TypeError, ValueError):
                return None
            hits = np.flatnonzero((self.binner.low_ == v) & (self.binner.high_ == v))
            return int(hits[0]) if hits.size else None
        for i, s in enumerate(self.states):
            if s == value:
                return i
        text = str(value).strip()
        for i, s in enumerate(self.states):
            if str(s) == text or _num_equal(s, text):
                return i
        return None


def fit_columns(table, columns: list, max_bins: int) -> tuple[dict, pd.DataFrame]:
    """({column: its ColumnCodec}, the table's state codes) for `columns` of a data.Table, each
    column's codec fitted as a task of the current engine (local, or Ray): _fit_codec."""
    from faircause_core import engine

    fitted = engine.current().map(_fit_codec, list(columns), shared=(table, int(max_bins)))
    return ({c: col for c, (col, _) in zip(columns, fitted)},
            pd.DataFrame({c: codes for c, (_, codes) in zip(columns, fitted)}))


def _fit_codec(shared, column: str) -> tuple[ColumnCodec, np.ndarray]:
    """One column's codec and state codes, an engine task: a pure function of the table."""
    table, max_bins = shared
    col = ColumnCodec.from_table(table, column, max_bins)
    return col, col.encode(table.df[column])


def _num_equal(a, text: str) -> bool:
    try:
        return float(a) == float(text)
    except (TypeError, ValueError):
        return False


def is_numeric_column(table, col: str) -> bool:
    """Whether `col` is numeric by the table's schema (float dtype when there is none)."""
    try:
        return bool(table.schema[col].is_numeric)
    except (AttributeError, KeyError, TypeError):
        return pd.api.types.is_float_dtype(table.df[col])


def categories_of(table, col: str, series: pd.Series) -> list:
    """Observed values in the schema's order (ordinal order kept), else sorted."""
    seen = pd.unique(series.dropna())
    try:
        cats = list(table.schema[col].categories or [])
    except (AttributeError, KeyError, TypeError):
        cats = []
    ordered = [c for c in cats if c in set(seen)]
    rest = [v for v in seen if v not in set(ordered)]
    try:
        rest = sorted(rest)
    except TypeError:
        rest = sorted(rest, key=str)
    return ordered + rest
