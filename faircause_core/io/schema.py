"""Column kinds: what each column of a patient table is, so every model treats it right.

Inference rules (`infer_schema`), applied to each column after `parse_column`:

- no observed value at all -> identifier (left out of the model, with a warning);
- exactly 2 distinct values -> binary (text or numbers);
- text -> categorical; unique per row with >= 20 rows, or more distinct values than
  `limits.max_categories` and unique per row -> identifier; many values but repeats ->
  categorical with a warning;
- integer-valued numbers -> unique per row with >= 20 rows: identifier; <= 12 distinct
  values: ordinal; else integer;
- other numbers -> continuous.

Numeric-valued columns record minimum, maximum and `decimals` = the fewest decimal places
that reproduce every observed value (0 for integer-valued data, at most 8), so generated
numbers can be rounded to the precision seen (79.0 and 58.6 -> 1; 42 and 36 -> 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable

import numpy as np
import pandas as pd

from faircause_core.errors import InputError
from faircause_core.limits import DEFAULT_LIMITS, Limits

#: Cells treated as missing (compared after stripping spaces, case-insensitively).
#: "None" is deliberately absent: it is a common category label ("None / Light / Heavy").
NA_TOKENS = frozenset(
    {"", "na", "n/a", "nan", "-nan", "null", "#n/a", "#na", "<na>", "nat", "?", ".", "-"}
)
ORDINAL_MAX_VALUES = 12
IDENTIFIER_MIN_ROWS = 20
MAX_DECIMALS = 8
WHOLE_FLOATS = 2.0**53  # every float at least this large is a whole number
MISSING_SHARE_WARNING = 0.5  # warn when more than half a column is missing
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
#: Dates as text: 2017-06-24 (a time may follow), 24/06/2017, 6.24.17
_DATE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})$")


class Kind(str, Enum):
    BINARY = "binary"
    CATEGORICAL = "categorical"
    ORDINAL = "ordinal"
    INTEGER = "integer"
    CONTINUOUS = "continuous"
    IDENTIFIER = "identifier"

    @classmethod
    def parse(cls, value: object, column: str | None = None) -> "Kind":
        """A kind from user text ("Continuous", Kind.BINARY); InputError naming it otherwise."""
        if isinstance(value, Kind):
            return value
        text = str(value).strip().lower()
        for kind in cls:
            if kind.value == text:
                return kind
        where = f" for column '{column}'" if column is not None else ""
        allowed = ", ".join(k.value for k in cls)
        raise InputError(f"unknown kind '{value}'{where}; use one of: {allowed}")


DISCRETE_KINDS = frozenset({Kind.BINARY, Kind.CATEGORICAL, Kind.ORDINAL})
NUMERIC_KINDS = frozenset({Kind.INTEGER, Kind.CONTINUOUS})


def plain_value(value: object) -> object:
    """A JSON-friendly Python scalar: integer-valued floats become int (1.0 -> 1)."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return int(f) if f.is_integer() else f
    return str(value)


@dataclass
class ColumnSchema:
    """One column: its kind, missing count, observed categories or numeric range."""

    name: str
    kind: Kind
    n_missing: int = 0
    categories: list | None = None
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def is_discrete(self) -> bool:
        return self.kind in DISCRETE_KINDS

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "n_missing": int(self.n_missing),
            "categories": None if self.categories is None else [plain_value(c) for c in self.categories],
            "minimum": None if self.minimum is None else float(self.minimum),
            "maximum": None if self.maximum is None else float(self.maximum),
            "decimals": None if self.decimals is None else int(self.decimals),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "ColumnSchema":
        try:
            name = str(d["name"])
            kind = Kind.parse(d["kind"], name)
        except (KeyError, TypeError) as exc:
            raise InputError(f"schema column entry is missing {exc}") from None
        cats = d.get("categories")
        return cls(
            name=name,
            kind=kind,
            n_missing=int(d.get("n_missing", 0)),
            categories=None if cats is None else list(cats),
            minimum=None if d.get("minimum") is None else float(d["minimum"]),
            maximum=None if d.get("maximum") is None else float(d["maximum"]),
            decimals=None if d.get("decimals") is None else int(d["decimals"]),
        )


@dataclass
class Schema:
    """All columns in file order; identifiers are listed but not modelled."""

    columns: dict[str, ColumnSchema] = field(default_factory=dict)

    def __getitem__(self, name: str) -> ColumnSchema:
        try:
            return self.columns[name]
        except KeyError:
            raise InputError(unknown_column_message(name, self.names)) from None

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __iter__(self):
        return iter(self.columns.values())

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    @property
    def model_columns(self) -> list[str]:
        return [n for n, c in self.columns.items() if c.kind is not Kind.IDENTIFIER]

    def kind(self, name: str) -> Kind:
        return self[name].kind

    def to_dict(self) -> dict:
        return {"columns": [c.to_dict() for c in self.columns.values()]}

    @classmethod
    def from_dict(cls, d: dict) -> "Schema":
        if not isinstance(d, dict) or not isinstance(d.get("columns"), list):
            raise InputError("schema must be a mapping with a 'columns' list")
        cols = [ColumnSchema.from_dict(c) for c in d["columns"]]
        return cls({c.name: c for c in cols})


def unknown_column_message(name: object, names: Iterable[str], limit: int = 12) -> str:
    """'column 'x' not found; columns: a, b, ...' with at most `limit` names shown."""
    names = list(names)
    shown = ", ".join(names[:limit]) + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")
    return f"column '{name}' not found; columns: {shown}"


# ---------------------------------------------------------------------------- parsing

def parse_column(series: pd.Series, distinct: list | None = None) -> pd.Series:
    """Raw cells -> numbers (float64) or stripped text, with NaN for every missing token.

    Text that is all numbers becomes float64, unless some value has a leading zero
    ("02139"): such codes stay text so they keep their digits. Booleans become 0/1.
    `distinct`, when given, receives an object column's distinct present cells in order of
    first appearance (none for unhashable cells), so a caller needs no second pass over them.
    """
    s = series
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(float)
    if pd.api.types.is_numeric_dtype(s.dtype):
        out = s.astype(float)
        return out.where(np.isfinite(out.to_numpy()), np.nan)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "", regex=False)
    # no na_value=None: factorize gives every missing cell (None, NaN, NaT, pd.NA) the missing
    # code itself, and a pass of isna over a million text cells costs as much as the parsing
    return _parse_objects(s.to_numpy(dtype=object), s.index, s.name, distinct)


def _parse_objects(values: np.ndarray, index, name, distinct: list | None = None) -> pd.Series:
    """Object cells (str, numbers, bools, None, datetimes from Excel) -> one parsed column.

    Works on the distinct cells only (factorize), so 100k rows of a few labels are cheap.
    """
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if distinct is not None:
            distinct.extend(uniques)
    except TypeError:  # unhashable cells (lists, dicts from Parquet): compare as text
        values = np.array([None if pd.api.types.is_scalar(v) and pd.isna(v) else str(v) for v in values], dtype=object)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts: list[str | None] = []
    numbers = np.full(len(uniques), np.nan)
    from_text = np.zeros(len(uniques), dtype=bool)
    for i, v in enumerate(uniques):
        if isinstance(v, (bool, np.bool_)):
            texts.append("1" if v else "0")
            numbers[i] = float(v)
        elif isinstance(v, (int, float, np.integer, np.floating)):
            f = float(v)
            texts.append(None if f != f else repr(f))
            numbers[i] = f
        else:
            t = str(v).strip()
            texts.append(None if t.casefold() in NA_TOKENS else t)
            from_text[i] = texts[-1] is not None
    present = np.array([t is not None for t in texts], dtype=bool)
    if not present.any():
        return pd.Series(np.nan, index=index, name=name, dtype=float)
    if from_text.any():
        # "265,000" is a number with a thousands separator (only the strict 1,234,567 pattern:
        # a decimal comma like "1,5" stays text)
        plain = [(t.replace(",", "") if _THOUSANDS.match(t) else t) if f else None for t, f in zip(texts, from_text)]
        parsed = pd.to_numeric(pd.Series(plain, dtype=object), errors="coerce")
        numbers[from_text] = parsed.to_numpy(dtype=float, na_value=np.nan)[from_text]
    numbers[~np.isfinite(numbers)] = np.nan
    all_numeric = not np.isnan(numbers[present]).any()
    leading_zero = any(f and _LEADING_ZERO.match(t) for t, f in zip(texts, from_text))
    if all_numeric and not leading_zero:
        out = np.where(codes >= 0, numbers[np.maximum(codes, 0)], np.nan)
        return pd.Series(out, index=index, name=name, dtype=float)
    labels = np.array(texts + [None], dtype=object)  # index -1 (missing) -> None
    return pd.Series(labels[codes], index=index, name=name, dtype="str")


# -------------------------------------------------------------------------- inference

def _decimals(values: np.ndarray) -> int:
    """Fewest decimal places (<= MAX_DECIMALS) that reproduce every value."""
    v = pd.unique(values)  # the distinct values, unsorted (a hash, not a sort of every row)
    v = v[np.abs(v) < WHOLE_FLOATS]  # larger floats are whole numbers, and 1e308 * 10**d overflows
    for d in range(MAX_DECIMALS + 1):
        scaled = v * (10.0**d)
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return d
    return MAX_DECIMALS


def _sorted_values(observed: pd.Series) -> list:
    return [plain_value(v) for v in sorted(pd.unique(observed))]


def _observed(parsed: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The present values of a parsed column and its distinct ones (one hash pass, shared by
    infer_kind and describe_column)."""
    observed = parsed.dropna()
    return observed, np.asarray(pd.unique(observed))


def describe_column(name: str, parsed: pd.Series, kind: Kind, order: list | None = None, *,
                    seen: tuple[pd.Series, np.ndarray] | None = None) -> ColumnSchema:
    """Schema of a parsed column for a given kind (categories, range, decimals); `seen` is
    _observed(parsed) when the caller has it."""
    observed, distinct = seen if seen is not None else _observed(parsed)
    col = ColumnSchema(name=name, kind=kind, n_missing=len(parsed) - len(observed))
    numeric = pd.api.types.is_float_dtype(parsed.dtype)
    if kind in DISCRETE_KINDS:
        col.categories = list(order) if order is not None else [plain_value(v) for v in sorted(distinct)]
    if numeric and len(observed) and kind is not Kind.IDENTIFIER:
        arr = observed.to_numpy(dtype=float)
        col.minimum, col.maximum = float(arr.min()), float(arr.max())
        col.decimals = _decimals(distinct.astype(float))
    return col


def _mostly_dates(distinct: np.ndarray, share: float = 0.9) -> bool:
    """Whether at least `share` of a text column's distinct values (the first 1,000) read as dates."""
    sample = [str(v) for v in distinct[:1000]]
    return bool(sample) and sum(bool(_DATE.match(v)) for v in sample) >= share * len(sample)


def infer_kind(name: str, parsed: pd.Series, limits: Limits, *,
               seen: tuple[pd.Series, np.ndarray] | None = None) -> tuple[Kind, list[str]]:
    """Kind of one parsed column by the module rules, with warnings for odd cases; `seen` is
    _observed(parsed) when the caller has it."""
    observed, distinct_values = seen if seen is not None else _observed(parsed)
    n_rows, n_obs = len(parsed), len(observed)
    if n_obs == 0:
        return Kind.IDENTIFIER, [f"column '{name}' is empty: left out of the model"]
    n_distinct = len(distinct_values)
    unique_per_row = n_distinct == n_obs
    warnings: list[str] = []
    if n_distinct == 1:
        warnings.append(f"column '{name}' has a single value ('{plain_value(observed.iloc[0])}')")
    if n_distinct == 2:
        return Kind.BINARY, warnings
    if not pd.api.types.is_float_dtype(parsed.dtype):  # text
        if unique_per_row and (n_rows >= IDENTIFIER_MIN_ROWS or n_distinct > limits.max_categories):
            return Kind.IDENTIFIER, [f"column '{name}' looks like an identifier (unique text per row): left out of the model"]
        if n_distinct > limits.max_categories and _mostly_dates(distinct_values):
            # a date is a category to the models: the synthetic rows would reuse real patients' dates
            warnings.append(
                f"column '{name}' looks like dates ({n_distinct:,} distinct): each date is a category, so "
                "synthetic rows reuse the real patients' dates, which can identify them; leave it out "
                "(exclude it) or give it as a number, such as days since admission"
            )
        elif n_distinct > limits.max_categories:
            warnings.append(
                f"column '{name}' has {n_distinct} categories (more than {limits.max_categories}): "
                "models may be slow or sparse"
            )
        distinct = pd.Series(distinct_values, dtype=object)
        # "inf" parses as a number here but was kept as text by parse_column: it counts as odd
        finite = np.isfinite(pd.to_numeric(distinct, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
        if finite.mean() >= 0.9 and not finite.all():
            odd = distinct[~finite].iloc[0]
            warnings.append(f"column '{name}' is mostly numbers but has text like '{odd}': treated as categorical")
        return Kind.CATEGORICAL, warnings
    arr = observed.to_numpy(dtype=float)
    if np.all(arr == np.round(arr)):
        if unique_per_row and n_rows >= IDENTIFIER_MIN_ROWS:
            return Kind.IDENTIFIER, [f"column '{name}' looks like an identifier (unique integer per row): left out of the model"]
        return (Kind.ORDINAL if n_distinct <= ORDINAL_MAX_VALUES else Kind.INTEGER), warnings
    return Kind.CONTINUOUS, warnings


def infer_column(name: str, parsed: pd.Series, limits: Limits = DEFAULT_LIMITS) -> tuple[ColumnSchema, list[str]]:
    """Schema of one parsed column by the module rules, with its warnings."""
    seen = _observed(parsed)
    kind, notes = infer_kind(name, parsed, limits, seen=seen)
    col = describe_column(name, parsed, kind, seen=seen)
    share = col.n_missing / max(len(parsed), 1)
    if kind is not Kind.IDENTIFIER and share > MISSING_SHARE_WARNING:
        notes.append(f"column '{name}' is {share:.0%} missing")
    return col, notes


def infer_schema(df: pd.DataFrame, limits: Limits = DEFAULT_LIMITS) -> tuple[Schema, list[str]]:
    """Schema of a frame (raw or parsed) and the warnings a user should see."""
    columns: dict[str, ColumnSchema] = {}
    warnings: list[str] = []
    for name in df.columns:
        columns[str(name)], notes = infer_column(str(name), parse_column(df[name]), limits)
        warnings.extend(notes)
    return Schema(columns), warnings


# ------------------------------------------------------------------------- conversion

def convert_column(name: str, parsed: pd.Series, kind: Kind | str, order: list | None = None) -> tuple[pd.Series, ColumnSchema]:
    """Type a parsed column as `kind`; InputError when the values cannot be that kind.

    `order` (ordinal only) is the user's category order; every observed value must be in it.
    """
    kind = Kind.parse(kind, name)
    observed = parsed.dropna()
    numeric = pd.api.types.is_float_dtype(parsed.dtype)
    if kind in NUMERIC_KINDS:
        if not numeric:
            example = observed.iloc[0] if len(observed) else ""
            raise InputError(f"column '{name}' has text values (e.g. '{example}'); it cannot be {kind.value}")
        arr = observed.to_numpy(dtype=float)
        if kind is Kind.INTEGER and not np.all(arr == np.round(arr)):
            bad = arr[arr != np.round(arr)][0]
            raise InputError(f"column '{name}' has non-integer values (e.g. {bad:g}); it cannot be integer, use continuous")
    if kind is Kind.BINARY and observed.nunique() > 2:
        raise InputError(f"column '{name}' has {observed.nunique()} distinct values; binary needs at most two")
    if order is not None:
        if kind is not Kind.ORDINAL:
            raise InputError(f"a category order was given for column '{name}' but its kind is {kind.value}, not ordinal")
        order = _match_order(name, observed, order, numeric)
    return parsed, describe_column(name, parsed, kind, order)


def _match_order(name: str, observed: pd.Series, order: list, numeric: bool) -> list:
    """The user's ordinal order mapped onto the column's actual values, checked complete."""
    out = []
    for item in order:
        if numeric:
            try:
                out.append(plain_value(float(item)))
            except (TypeError, ValueError):
                raise InputError(f"ordinal order for column '{name}' has '{item}', but the column holds numbers") from None
        else:
            out.append(str(item).strip())
    if len(set(out)) != len(out):
        raise InputError(f"ordinal order for column '{name}' repeats a value")
    missing = [v for v in _sorted_values(observed) if v not in set(out)]
    if missing:
        raise InputError(f"ordinal order for column '{name}' lacks the observed value '{missing[0]}'")
    return out
