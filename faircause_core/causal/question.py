"""The fairness question on a table: sensitive attribute X (x0 vs x1) and binary outcome Y.

The one home of the question's rules, used by the decomposition, the metrics, the loop,
the CLI and the app alike. Users type x0/x1 as text, so `resolve_value` maps "1" to 1,
"female" to "Female" and so on. `Outcome` fixes once which Y value counts as 1 (or the
threshold) and codes any table with it, real or synthetic; `Question` is a
`FairnessProblem` resolved on a table: the two observed X values and Y's coding, with
the group masks. `ValueLabels` are the words the user types for X's groups and Y's values
("0" -> "men", "1" -> "died"); `group_name` and `outcome_name` turn a value into the words
every sentence, chart and report uses (a typed label, else a text value as it is, else
"sex = 0": never a bare "0"). `validate_problem` refuses a question that cannot be estimated (one group, absent
values, constant outcome, groups too small or without events) with one clear line, and
returns warnings for questions that can be estimated but only roughly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from faircause_core.errors import InputError
from faircause_core.limits import DEFAULT_LIMITS, Limits
from faircause_core.io.schema import Kind, plain_value, unknown_column_message

#: Labels read as "the event happened" / "it did not" when an outcome is text.
POSITIVE_LABELS = frozenset({"yes", "y", "true", "t", "1", "positive", "pos", "dead", "died", "death", "deceased", "event"})
NEGATIVE_LABELS = frozenset({"no", "n", "false", "f", "0", "negative", "neg", "alive", "survived", "none"})
SMALL_GROUP_WARNING = 50
_MAX_LISTED = 10
MAX_LABEL = 60  # characters in a typed label: it goes inside sentences and chart titles


def _label_pairs(mapping, column: str) -> tuple:
    """((value text, label), ...) from a {value: label} mapping; an empty label is no label."""
    if mapping is None:
        return ()
    if not isinstance(mapping, dict):
        raise InputError(f"labels for '{column}' must map values to words, got {type(mapping).__name__}")
    pairs = {}
    for value, label in mapping.items():
        key = str(plain_value(value) if not isinstance(value, str) else value).strip()
        word = "" if label is None else " ".join(str(label).split())  # one line, single spaces
        if not word:
            continue
        if not key:
            raise InputError(f"a label for '{column}' ('{word}') names no value")
        if len(word) > MAX_LABEL:
            raise InputError(f"label for {column} = {key} is {len(word)} characters; at most {MAX_LABEL}")
        pairs[key] = word
    return tuple(pairs.items())


@dataclass(frozen=True)
class ValueLabels:
    """Words for values of X and Y, typed by the user: a code 0/1 reads "men"/"women".

    Keys are values as text ("0", "Female"); `Question.resolve` checks each names a value of
    its column and spells it as the column does. Stored as {"x": {...}, "y": {...}}.
    """

    x: tuple = ()  # ((value text, label), ...)
    y: tuple = ()

    @classmethod
    def from_dict(cls, d) -> "ValueLabels":
        if d is None or isinstance(d, ValueLabels):
            return d or cls()
        if not isinstance(d, dict):
            raise InputError(f"labels must be {{'x': {{value: label}}, 'y': {{value: label}}}}, got {type(d).__name__}")
        return cls(_label_pairs(d.get("x"), "X"), _label_pairs(d.get("y"), "Y"))

    def to_dict(self) -> dict:
        return {"x": dict(self.x), "y": dict(self.y)}

    def __bool__(self) -> bool:
        return bool(self.x or self.y)

    def x_label(self, value) -> str | None:
        return dict(self.x).get(_key(value))

    def y_label(self, value) -> str | None:
        return dict(self.y).get(_key(value))

    @classmethod
    def parse(cls, specs, x: str, y: str) -> "ValueLabels":
        """The CLI's `--labels sex:0=men,1=women death:1=died`: COLUMN:VALUE=LABEL[,VALUE=LABEL...]
        per argument, COLUMN being the sensitive attribute or the outcome."""
        found = {"x": {}, "y": {}}
        for spec in specs or ():
            spec = str(spec).strip()
            column = next((c for c in (x, y) if c is not None and spec.startswith(f"{c}:")), None)
            if column is None:
                head = spec.split(":", 1)[0] if ":" in spec else spec
                if ":" in spec and head not in (x, y):
                    raise InputError(f"--labels: column '{head}' is neither the sensitive attribute '{x}' "
                                     f"nor the outcome '{y}'")
                raise InputError(f"--labels: '{spec}' is not COLUMN:VALUE=LABEL[,VALUE=LABEL] "
                                 f"(e.g. {x}:0=men,1=women)")
            role = "x" if column == x else "y"
            for item in spec[len(column) + 1:].split(","):
                value, eq, word = item.partition("=")
                if not eq or not value.strip() or not word.strip():
                    raise InputError(f"--labels: '{item.strip()}' in '{spec}' is not VALUE=LABEL "
                                     f"(e.g. {column}:1=women)")
                if value.strip() in found[role]:
                    raise InputError(f"--labels: value '{value.strip()}' of '{column}' is labelled twice")
                found[role][value.strip()] = word
        return cls.from_dict(found)

    def resolved(self, xs: pd.Series, ys: pd.Series) -> "ValueLabels":
        """The same labels keyed by the values as the columns spell them; a value that does
        not occur in its column is one InputError line listing those that do."""
        def on(series, pairs):
            out = {}
            for value, word in pairs:
                key = _key(resolve_value(series, value, role="labelled"))
                if key in out and out[key] != word:
                    raise InputError(f"value '{key}' of '{series.name}' has two labels: '{out[key]}' and '{word}'")
                out[key] = word
            return tuple(out.items())

        return ValueLabels(on(xs, self.x), on(ys, self.y))


def _key(value) -> str:
    return str(plain_value(value))


def _is_code(value) -> bool:
    """A number, or text that reads as one ('0', '1.0'): shown with its column's name."""
    return _as_float(value) is not None


def group_name(x: str, value, labels: ValueLabels | None = None) -> str:
    """How a group of X reads in a sentence: its typed label, a text value as it is
    ('Female'), else 'sex = 0' (never a bare code)."""
    word = labels.x_label(value) if labels else None
    if word:
        return word
    text = _key(value)
    return f"{x} = {text}" if x and _is_code(value) else text


def outcome_name(y: str, value, labels: ValueLabels | None = None) -> str:
    """How a value of Y reads: its typed label, else 'death = 1'."""
    word = labels.y_label(value) if labels else None
    return word or f"{y} = {_key(value)}"


@dataclass(frozen=True)
class FairnessProblem:
    """X compared between groups x0 (baseline) and x1, on outcome Y (made binary)."""

    x: str
    x0: str
    x1: str
    y: str
    threshold: float | None = None
    positive: str | None = None  # the Y value that counts as 1 (None: the coding rule decides)
    labels: ValueLabels | None = None  # words for X's groups and Y's values ({"x": {...}, "y": {...}} too)

    def __post_init__(self):
        object.__setattr__(self, "labels", ValueLabels.from_dict(self.labels))

    def resolve(self, data) -> "Question":
        """This question on a table: X's two observed values and Y's 0/1 coding."""
        df, schema = _frame_and_schema(data)
        return Question.resolve(df, self.x, self.x0, self.x1, self.y, self.threshold, self.positive,
                                labels=self.labels, schema=schema)


#: Words that make a column's name read as an outcome (whole words of the name, plural too),
#: then endings (TenYearCHD, outcome, label, target), then "status", the weakest.
OUTCOME_WORDS = ("death", "died", "deceased", "mortality", "event", "readmission", "readmitted", "complication",
                 "survived", "survival")
OUTCOME_ENDINGS = ("chd", "outcome", "label", "target")
#: Parts of a name that mark an obvious exposure or treatment, never a default outcome.
EXPOSURE_PARTS = ("smok", "cig", "treat", "expos", "therap", "medica", "meds", "drug", "vaccin", "interven",
                  "dose")


def fold_accents(name) -> str:
    """A name with its letters' accents dropped ('Âge' -> 'Age', 'décès' -> 'deces'), so the name
    rules read it as they read plain letters."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", str(name)) if not unicodedata.combining(c))


def name_words(name: str) -> list[str]:
    """A column name's words, lower case (the one rule for reading names: the question's and
    the marks' suggestions, causal.suggest): 'TenYearCHD' -> ten, year, chd; 'DEATH_EVENT' ->
    death, event; 'daysToDeath' -> days, to, death; 'age80' -> age, 80; 'FUtime' -> futime
    (capitals then small letters stay one word); 'Âge' -> age."""
    import re

    text = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", fold_accents(name))
    return re.sub(r"[^0-9A-Za-z]+", " ", text).lower().split()


def is_exposure_name(name: str) -> bool:
    """True for a name that reads as an exposure or treatment (smoker, currentSmoker, BPMeds,
    treatment, ...): never offered as the default outcome."""
    low = str(name).lower()
    return any(part in low for part in EXPOSURE_PARTS)


def _outcome_tier(name: str) -> int:
    """0: reads as an outcome by a word; 1: by its ending; 2: 'status'; 3: not at all."""
    words = name_words(name)
    if any(w in OUTCOME_WORDS or (w.endswith("s") and w[:-1] in OUTCOME_WORDS) for w in words):
        return 0
    if str(name).lower().rstrip("_ -.").endswith(OUTCOME_ENDINGS):
        return 1
    if "status" in words:
        return 2
    return 3


def distinct_counts(df: pd.DataFrame) -> dict:
    """{column: its distinct values, missing left out}: what default_outcome and
    default_sensitive read, counted once per table by a caller that asks again and again (the
    graph page on every rerun: 1.3 s a time on 2,000,000 x 100, most of it the text columns)."""
    return {c: int(df[c].nunique(dropna=True)) for c in df.columns}


def _count(df: pd.DataFrame, column, counts) -> int:
    return int(counts[column]) if counts is not None and column in counts else int(df[column].nunique(dropna=True))


def default_outcome(df: pd.DataFrame, columns=None, exclude=(), counts=None) -> str | None:
    """The outcome a form proposes: among the two-valued columns (not `exclude`d, not an
    obvious exposure), the one whose name reads most as an outcome (death, died, event,
    mortality...; then a name ending in CHD, outcome, label or target; then status), the last
    such; else the last two-valued column that is not an exposure; else None. Never a number
    cut at its median. `counts`: distinct_counts(df), where the caller keeps them."""
    columns = [c for c in (df.columns if columns is None else columns) if c not in set(exclude)]
    two = [c for c in columns if _count(df, c, counts) == 2 and not is_exposure_name(c)]
    if not two:
        return None
    tiers = {c: _outcome_tier(c) for c in two}
    best = min(tiers.values())
    return [c for c in two if tiers[c] == best][-1]


#: Words of a name that read as a protected attribute (whole words, any case): the sensitive
#: attribute a form proposes first.
SENSITIVE_WORDS = ("sex", "gender", "male", "female", "race", "racial", "ethnicity", "ethnic", "white", "black",
                   "hispanic", "latino", "asian", "religion", "disability", "disabled", "nationality",
                   "citizenship", "language", "caste", "minority")
#: A numeric X with more distinct values than this is a measurement, not a pair of groups: the
#: generators keep a number's exact values only up to their 10 bins (`max_bins`), and a
#: comparison of, say, a stay of 1 day with one of 10 days drops every other row. Integer codes
#: of at most ORDINAL_MAX_VALUES values are ordinal (io.schema), discrete and kept exactly.
MAX_NUMERIC_GROUPS = 10


def is_measurement(series: pd.Series, numeric: bool | None = None) -> bool:
    """Whether a column cannot be X's groups (MAX_NUMERIC_GROUPS). `numeric`: the schema's word
    (its kind is a number: integer or continuous); without a schema, integer-valued codes of at
    most ORDINAL_MAX_VALUES values are discrete, as the schema would type them."""
    from faircause_core.io.schema import ORDINAL_MAX_VALUES

    n = series.nunique(dropna=True)
    if n <= MAX_NUMERIC_GROUPS:
        return False
    if numeric is not None:
        return bool(numeric)
    if not _is_numeric(series):
        return False
    values = series.dropna().to_numpy(dtype=float)
    return not (n <= ORDINAL_MAX_VALUES and bool(np.all(values == np.round(values))))


def default_sensitive(df: pd.DataFrame, columns=None, exclude=(), counts=None) -> str | None:
    """The sensitive attribute a form proposes: the first column whose name reads as a
    protected attribute (sex, gender, race, ethnicity, white...) and that has 2 to 50 groups;
    else the first two-valued column that is neither an obvious exposure nor the default
    outcome; else None. Never a measurement such as a length of stay (the first column of
    medpar, which the form used to propose). `counts`: distinct_counts(df), where the caller
    keeps them."""
    columns = [c for c in (df.columns if columns is None else columns) if c not in set(exclude)]

    def groups_ok(c):
        return 2 <= _count(df, c, counts) <= DEFAULT_LIMITS.max_categories and not is_measurement(df[c])

    named = [c for c in columns if set(name_words(c)) & set(SENSITIVE_WORDS) and groups_ok(c)]
    if named:
        return named[0]
    outcome = default_outcome(df, columns, counts=counts)
    two = [c for c in columns if c != outcome and _count(df, c, counts) == 2 and not is_exposure_name(c)]
    return two[0] if two else None


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)


def _distinct(series: pd.Series) -> list:
    """Observed values, sorted (numbers numerically, text alphabetically)."""
    values = pd.unique(series.dropna())
    try:
        return sorted(values)
    except TypeError:  # mixed types in an object column
        return sorted(values, key=str)


def _listing(values: list) -> str:
    shown = ", ".join(f"'{plain_value(v)}'" for v in values[:_MAX_LISTED])
    more = len(values) - _MAX_LISTED
    return shown + (f", ... ({more} more)" if more > 0 else "")


def _as_float(value: object) -> float | None:
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
        return float(value)
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def resolve_value(series: pd.Series, text: object, role: str = "") -> object:
    """The value in `series` that the user's text means; InputError listing the options.

    `role` ("x0", "x1", "positive") names the value in the message.
    """
    name = series.name
    values = _distinct(series)
    typed = "" if text is None else str(plain_value(text) if not isinstance(text, str) else text).strip()
    if typed == "":
        raise InputError(f"no {role or 'group'} value given for column '{name}'; available: {_listing(values)}")
    if _is_numeric(series):
        f = _as_float(typed)
        for v in values:
            if f is not None and float(v) == f:
                return plain_value(v)
    else:
        for v in values:
            if str(v) == typed:
                return v
        folded = [v for v in values if str(v).strip().casefold() == typed.casefold()]
        if len(folded) == 1:
            return folded[0]
        f = _as_float(typed)
        numeric_match = [v for v in values if f is not None and _as_float(v) == f]
        if len(numeric_match) == 1:
            return numeric_match[0]
    raise InputError(f"{role + ' ' if role else ''}value '{typed}' does not occur in column '{name}'; "
                     f"available: {_listing(values)}")


def group_mask(series: pd.Series, value: object) -> np.ndarray:
    """Rows whose value equals `value` (missing rows are never in a group)."""
    if _is_numeric(series):
        f = _as_float(value)
        if f is None:
            return np.zeros(len(series), dtype=bool)
        return series.to_numpy(dtype=float, na_value=np.nan) == f
    return (series == value).fillna(False).to_numpy(dtype=bool)


def _positive_value(values: list, numeric: bool) -> object | None:
    """Which of an outcome's (at most two) values counts as 1; None when none does."""
    if not values:
        return None
    if numeric:
        if len(values) == 2:
            return values[-1]
        return values[0] if float(values[0]) > 0 else None
    labels = [str(v).strip().casefold() for v in values]
    positive = [v for v, lab in zip(values, labels) if lab in POSITIVE_LABELS]
    if len(positive) == 1:
        return positive[0]
    if len(values) == 1:
        return None
    negative = [lab in NEGATIVE_LABELS for lab in labels]
    if sum(negative) == 1:
        return values[negative.index(False)]
    return values[-1]


def numbers(series: pd.Series) -> np.ndarray:
    """Float values with NaN for missing and for +-inf (an inf is no usable measurement)."""
    v = np.array(series.astype("float64").to_numpy(dtype=float, na_value=np.nan), dtype=float)
    v[~np.isfinite(v)] = np.nan
    return v


@dataclass(frozen=True)
class Outcome:
    """Y as 0/1, its meaning fixed once on the rows it was resolved on.

    Resolved on the real rows and applied to synthetic ones, a table that only has one
    outcome value is still read correctly. `positive` is the value counted as 1 (None:
    a threshold decides, or no observed value means the event); `values` are the values
    the coding knows, others code as missing (None: every value but `positive` is 0).
    """

    name: str
    threshold: float | None = None
    positive: object = None
    values: tuple | None = None
    continuous: bool = False

    @classmethod
    def resolve(cls, series: pd.Series, threshold: float | None = None, positive: object = None,
                continuous: bool = False) -> "Outcome":
        """The coding rules of ARCHITECTURE.md: two numbers -> the larger is 1; text -> the
        event-like label (Yes, Dead, Deceased...) is 1, else the one that is not
        negative-looking, else the later in sorted order; `positive` names it outright."""
        name = series.name
        if continuous:
            if threshold is not None:
                raise InputError(f"outcome '{name}': give either a threshold or a continuous outcome, not both")
            if not _is_numeric(series):
                raise InputError(f"outcome '{name}' is not numeric, so it cannot be a continuous outcome")
            return cls(name, continuous=True)
        if threshold is not None:
            t = _as_float(threshold)
            if t is None or not np.isfinite(t):
                raise InputError(f"threshold '{threshold}' for outcome '{name}' is not a number")
            outcome = cls(name, threshold=t)
            outcome.code(series)  # refuses text that is not a number
            return outcome
        if positive is not None:
            return cls(name, positive=resolve_value(series, positive, role="positive"))
        values = _distinct(series)
        if len(values) > 2:
            raise InputError(
                f"outcome '{name}' has {len(values)} distinct values; give a threshold (numeric outcome) "
                "or choose a two-valued outcome"
            )
        return cls(name, positive=_positive_value(values, _is_numeric(series)), values=tuple(values))

    def _known(self, series: pd.Series) -> np.ndarray:
        known = np.zeros(len(series), dtype=bool)
        for value in self.values or ():
            known |= group_mask(series, value)
        return known

    def code(self, series: pd.Series) -> np.ndarray:
        """This outcome in `series` as float 0/1 (raw numbers if continuous), NaN for missing."""
        missing = series.isna().to_numpy()
        if self.continuous:
            return numbers(series)
        if self.threshold is not None:
            values = pd.to_numeric(series, errors="coerce") if not _is_numeric(series) else series
            bad = values.isna().to_numpy() & ~missing
            if bad.any():
                example = series[bad].iloc[0]
                raise InputError(f"outcome '{self.name}' is not numeric (e.g. '{example}'), so a threshold cannot apply")
            arr = values.to_numpy(dtype=float, na_value=np.nan)
            return np.where(missing, np.nan, (arr >= self.threshold).astype(float))
        hit = group_mask(series, self.positive) if self.positive is not None else np.zeros(len(series), dtype=bool)
        unknown = missing | (~self._known(series) if self.values is not None else False)
        return np.where(unknown, np.nan, hit.astype(float))

    def unknown(self, series: pd.Series) -> int:
        """Rows whose value this coding never saw (coded as missing)."""
        if self.values is None or self.continuous or self.threshold is not None:
            return 0
        return int((series.notna().to_numpy() & ~self._known(series)).sum())

    @property
    def label(self) -> str:
        """How 'Y = 1' reads for this outcome, for messages ('death=1', 'y >= 5')."""
        if self.threshold is not None:
            return f"{self.name} >= {plain_value(self.threshold)}"
        return f"{self.name}={plain_value(self.positive)}"


def binary_outcome(series: pd.Series, threshold: float | None = None) -> np.ndarray:
    """Outcome as float 0/1 with NaN for missing, coded by `Outcome`'s rule on itself."""
    return Outcome.resolve(series, threshold).code(series)


@dataclass(frozen=True)
class Question:
    """A fairness question resolved on a table: the observed X values x0 and x1 and Y's coding."""

    x: str
    x0: object
    x1: object
    outcome: Outcome
    labels: ValueLabels = ValueLabels()

    @property
    def y(self) -> str:
        return self.outcome.name

    @property
    def name0(self) -> str:
        """The baseline group in words ('men', 'Female', 'sex = 0')."""
        return group_name(self.x, self.x0, self.labels)

    @property
    def name1(self) -> str:
        return group_name(self.x, self.x1, self.labels)

    @property
    def outcome_label(self) -> str:
        """'death=1 (died)': the coding with the typed word for Y = 1 when there is one."""
        word = self.labels.y_label(self.outcome.positive) if self.outcome.positive is not None else None
        return self.outcome.label + (f" ({word})" if word else "")

    @property
    def threshold(self) -> float | None:
        return self.outcome.threshold

    @classmethod
    def resolve(cls, df: pd.DataFrame, x: str, x0: object, x1: object, y: str, threshold: float | None = None,
                positive: object = None, continuous: bool = False, labels=None, schema=None) -> "Question":
        """Resolve the user's x0/x1 text, Y's positive value and the typed labels once
        (columns must exist). `schema`: the table's; where it says X is a number of more than
        MAX_NUMERIC_GROUPS values, X is refused (the generators bin it). A bare frame (the
        audit's, the graph check's) is not judged: comparing two values of a number is well
        defined there, and a number the user typed as categories stays groups."""
        xs = df[x]
        try:
            numeric = bool(schema[x].is_numeric) if schema is not None else None
        except (KeyError, TypeError, AttributeError):
            numeric = None
        if numeric and is_measurement(xs, numeric):
            distinct = xs.nunique(dropna=True)
            raise InputError(f"sensitive attribute '{x}' is a measurement with {distinct} distinct numbers, not a set "
                             f"of groups (at most {MAX_NUMERIC_GROUPS}); choose a column of groups (sex, race...) or "
                             "make groups of it first")
        v0, v1 = resolve_value(xs, x0, role="x0"), resolve_value(xs, x1, role="x1")
        if v0 == v1 or str(v0) == str(v1):
            raise InputError(f"x0 and x1 are the same group ('{plain_value(v0)}') of '{x}'; choose two different groups")
        outcome = Outcome.resolve(df[y], threshold, positive, continuous)
        labels = ValueLabels.from_dict(labels)
        if labels.y and outcome.positive is None:
            raise InputError(f"labels for outcome '{y}' need a two-valued outcome; with a threshold it reads "
                             f"as '{outcome.label}'")
        labels = labels.resolved(xs, df[y])
        w0, w1 = group_name(x, v0, labels), group_name(x, v1, labels)
        if w0.casefold() == w1.casefold():
            raise InputError(f"the two groups of '{x}' have the same label '{w0}'; give them different words")
        return cls(x, v0, v1, outcome, labels)

    def masks(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Rows of group x0 and of group x1 (a missing X is in neither)."""
        xs = df[self.x]
        return group_mask(xs, self.x0), group_mask(xs, self.x1)

    def outcomes(self, df: pd.DataFrame) -> np.ndarray:
        """Y of every row coded 0/1 (raw if continuous), NaN where missing or unknown."""
        return self.outcome.code(df[self.y])


def _frame_and_schema(data):
    if isinstance(data, pd.DataFrame):
        return data, None
    df, schema = getattr(data, "df", None), getattr(data, "schema", None)
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"expected a Table or DataFrame, got {type(data).__name__}")
    return df, schema


def _check_column(df: pd.DataFrame, schema, column: str, role: str) -> None:
    if column in df.columns:
        return
    if schema is not None and column in schema and schema[column].kind is Kind.IDENTIFIER:
        raise InputError(f"{role} column '{column}' is an identifier (left out of the model); change its kind first")
    raise InputError(f"{role}: {unknown_column_message(column, df.columns)}")


def small_group_note(x: str, value, n: int) -> str:
    """The one sentence for a group with under SMALL_GROUP_WARNING rows with an outcome: the
    question's check says it before any work and each decomposition of the rows again, in the
    same words, so a list of both keeps one (notes are joined with dict.fromkeys)."""
    return f"group {x}={plain_value(value)} is small ({n} rows with an outcome): estimates will be noisy"


def validate_problem(data, problem: FairnessProblem, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Errors (InputError) for a question that cannot be estimated; warnings otherwise."""
    df, schema = _frame_and_schema(data)
    x, y = problem.x, problem.y
    _check_column(df, schema, x, "sensitive attribute")
    _check_column(df, schema, y, "outcome")
    if x == y:
        raise InputError(f"the sensitive attribute and the outcome are the same column '{x}'")
    xs = df[x]
    groups = _distinct(xs)
    if len(groups) < 2:
        only = f"only one group ('{plain_value(groups[0])}')" if groups else "no values"
        raise InputError(f"sensitive attribute '{x}' has {only}; it needs at least two groups")
    question = problem.resolve(data)
    v0, v1 = question.x0, question.x1
    outcome = question.outcomes(df)
    observed = ~np.isnan(outcome)
    label = question.outcome_label
    if not observed.any():
        raise InputError(f"outcome '{y}' has no values")
    if np.nanmin(outcome) == np.nanmax(outcome):
        if problem.threshold is None:
            detail = f"'{plain_value(_distinct(df[y])[0])}' in every row"
        else:
            detail = f"{label} is {'true' if np.nanmax(outcome) == 1 else 'false'} in every row"
        raise InputError(f"outcome '{y}' is constant ({detail}); nothing to compare")

    warnings: list[str] = []
    in0, in1 = question.masks(df)
    for value, mask in ((v0, in0), (v1, in1)):
        in_group = mask & observed
        n, events = int(in_group.sum()), float(outcome[in_group].sum())
        word = question.labels.x_label(value)
        group = f"group {x}={plain_value(value)}" + (f" ({word})" if word else "")
        if n < limits.min_group_size:
            raise InputError(
                f"{group} has {n} rows with an outcome, fewer than the minimum of {limits.min_group_size}"
            )
        if events == 0:
            raise InputError(f"{group} has no rows with {label}; the outcome cannot be estimated there")
        if events == n:
            raise InputError(f"every row of {group} has {label}; the outcome cannot be estimated there")
        if n < SMALL_GROUP_WARNING:
            warnings.append(small_group_note(x, value, n))
    if len(groups) > 2:
        others = int((~in0 & ~in1 & xs.notna().to_numpy()).sum())
        warnings.append(
            f"'{x}' has {len(groups)} groups; only '{plain_value(v0)}' and '{plain_value(v1)}' are compared "
            f"({others} rows of other groups are left out)"
        )
    for column, role in ((x, "sensitive attribute"), (y, "outcome")):
        n_missing = int(df[column].isna().sum())
        if n_missing:
            warnings.append(f"{role} '{column}' is missing in {n_missing} rows: they are left out")
    return warnings
