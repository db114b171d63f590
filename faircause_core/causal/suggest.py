"""Suggested column marks, each with a one-line reason the user can check and overrule.

Two marks matter before discovery. "after_outcome": a column recorded after Y (follow-up
time, cause of death) adjusted for as a confounder answers the wrong question, so it must
never be a cause. "fixed": a baseline trait (age, race, sex when it is not X, birth year)
that nothing in the table can cause; with the standard fairness model backbone a column
that is not fixed is treated as a mediator of X, so the fixed ones are the confounders Z.

The firm rules read only names and missingness, so they hold on tables nobody tuned them for:
- a column whose missingness is (nearly) determined by Y (a cause of death recorded only
  for the dead): the share missing differs by at least MISSING_GAP between Y = 0 and 1;
- a name that reads as follow-up, survival or time to an event, the last contact, censoring,
  or a record of the death (date, cause, age at death);
- fixed: a name that reads as age, race or ethnicity, sex or gender, birth, or the
  calendar year of entry (sample, enrolment, baseline year).
A weaker rule, `suggest_from_discovery`, runs a search that may put edges out of Y and
offers each column it makes a child of Y alone as one to check; it is never pre-selected.
Names are split into words first (snake_case, camelCase, dots, letters|digits), so "age80"
is the word "age" while "stage" or "average" are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from faircause_core.errors import InputError
from faircause_core.io.schema import plain_value, unknown_column_message
from faircause_core.causal.question import Outcome

MARKS = ("after_outcome", "fixed")
#: Smallest difference in the share missing between Y = 0 and Y = 1 rows read as "missing
#: because of the outcome": measurement gaps that merely differ by group stay far below it.
MISSING_GAP = 0.8
#: Each outcome group needs this many rows before its missing share is read at all.
MIN_GROUP_ROWS = 20

_UNIT = r"(?:time|days?|weeks?|months?|mos?|years?|yrs?|dur|duration)"
_EVENT = (r"(?:death|die|dying|event|last|censor\w*|follow|relapse|recurrence|progression|failure|"
          r"readmission|discharge|outcome|endpoint|end|exit|loss|dropout|contact)")
_AFTER_NAMES = [
    (re.compile(rf"\bfu ?{_UNIT}\b|\bfup\b|\bfollow ?ups?\b"), "follow-up time"),
    (re.compile(rf"\b{_UNIT} (?:to|until|till) {_EVENT}\b"), "the time to an event"),
    (re.compile(rf"\bsurv(?:ival)? ?(?:{_UNIT}|status)\b|\b(?:os|pfs|dfs|efs|rfs|dss) (?:{_UNIT}|status)\b"),
     "survival time"),
    (re.compile(r"\blast (?:contact|follow ?up|fu|seen|visit|known|alive|observation)\b|\bdate last\b"),
     "the last contact"),
    (re.compile(r"\bcensor(?:ed|ing|ship)?\b|\bevent time\b"), "censoring or event time"),
    (re.compile(r"\b(?:date|day|time|cause|place|age|year|month) (?:of|at) death\b|\bdeath (?:date|day|time|cause|"
                r"place|year|age|cert\w*)\b|\b(?:dod|cod)\b|\bage at (?:event|last|censor\w*|exit|end)\b"),
     "a record of the death"),
    (re.compile(r"\bdischarge (?:destination|disposition|date)\b"), "a record of the discharge"),
]
_FIXED_NAMES = [
    (re.compile(r"\bage(?:s|yrs|years|group|grp|cat|band)?\b"), "age"),
    (re.compile(r"\brace\b|\bethnic(?:ity|ities|group)?\b"), "race or ethnicity"),
    (re.compile(r"\bsex\b|\bgender\b"), "sex or gender"),
    (re.compile(r"\bbirth\w*|\b(?:dob|yob|born)\b"), "birth"),
    (re.compile(r"\b(?:sample|sampling|enrol\w*|entry|baseline|calendar|recruitment|index) (?:yr|year)\b"),
     "the calendar year of entry"),
]
#: Whole names that are a race or sex indicator column on their own ("white" = 0/1).
_FIXED_WHOLE = {"white": "race or ethnicity", "black": "race or ethnicity", "hispanic": "race or ethnicity",
                "latino": "race or ethnicity", "asian": "race or ethnicity", "nonwhite": "race or ethnicity",
                "non white": "race or ethnicity", "female": "sex or gender", "male": "sex or gender"}


@dataclass(frozen=True)
class Suggestion:
    """Mark `column` as `mark` ("after_outcome" or "fixed"), because of `reason` (one line).

    `firm` suggestions are pre-selected (and applied by the CLI when the flag is not given);
    the others are only offered for the user to check.
    """

    column: str
    mark: str
    reason: str
    firm: bool = True


def words(name: str) -> str:
    """A column name as lower-case words: 'daysToDeath' -> 'days to death', 'age80' -> 'age 80'."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", str(name))
    return " ".join(re.sub(r"[^0-9A-Za-z]+", " ", text).lower().split())


def after_outcome_name(name: str) -> str | None:
    """What the name reads as when it reads as recorded after the outcome, else None."""
    text = words(name)
    return next((what for pattern, what in _AFTER_NAMES if pattern.search(text)), None)


def fixed_name(name: str) -> str | None:
    """What the name reads as when it reads as a baseline trait, else None."""
    text = words(name)
    if text in _FIXED_WHOLE:
        return _FIXED_WHOLE[text]
    return next((what for pattern, what in _FIXED_NAMES if pattern.search(text)), None)


def _share(p: float) -> str:
    return "<1%" if 0 < p < 0.005 else ">99%" if 0.995 <= p < 1 else f"{p:.0%}"


def _outcome_groups(series: pd.Series, threshold):
    """(rows with Y = 0, rows with Y = 1, their labels), or None when Y cannot be coded 0/1."""
    try:
        outcome = Outcome.resolve(series, threshold)
        coded = outcome.code(series)
    except InputError:
        return None
    y = series.name
    if outcome.threshold is not None:
        t = plain_value(outcome.threshold)
        labels = (f"{y} < {t}", f"{y} >= {t}")
    else:
        others = [v for v in (outcome.values or ()) if v != outcome.positive]
        zero = f"{y} = {plain_value(others[0])}" if len(others) == 1 else f"{y} != {plain_value(outcome.positive)}"
        labels = (zero, f"{y} = {plain_value(outcome.positive)}")
    return coded == 0, coded == 1, labels


def _missing_reason(series: pd.Series, groups) -> str | None:
    in0, in1, (label0, label1) = groups
    if in0.sum() < MIN_GROUP_ROWS or in1.sum() < MIN_GROUP_ROWS:
        return None
    missing = series.isna().to_numpy()
    p0, p1 = float(missing[in0].mean()), float(missing[in1].mean())
    if abs(p0 - p1) < MISSING_GAP:
        return None
    return (f"missing in {_share(p0)} of rows with {label0} and {_share(p1)} with {label1}: "
            f"it is recorded because of the outcome")


def suggest_marks(table, x: str, y: str, threshold: float | None = None) -> list[Suggestion]:
    """At most one suggestion per column (not X, not Y), in column order.

    After the outcome wins over fixed ("age at death" is not a baseline age). An outcome
    that cannot be coded 0/1 (many values and no threshold) only skips the missingness rule.
    """
    df = table if isinstance(table, pd.DataFrame) else getattr(table, "df", None)
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"suggest_marks needs a loaded table, got {type(table).__name__}")
    cols = [str(c) for c in df.columns]
    for n in (x, y):
        if n not in cols:
            raise InputError(unknown_column_message(n, cols))
    groups = _outcome_groups(df[y], threshold)
    out = []
    for col in cols:
        if col in (x, y):
            continue
        what = after_outcome_name(col)
        if what:
            out.append(Suggestion(col, "after_outcome", f"the name '{col}' reads as {what}, known only after the outcome"))
            continue
        why = _missing_reason(df[col], groups) if groups is not None else None
        if why:
            out.append(Suggestion(col, "after_outcome", f"'{col}' is {why}"))
            continue
        what = fixed_name(col)
        if what:
            out.append(Suggestion(col, "fixed", f"the name '{col}' reads as {what}: a baseline trait "
                                                f"nothing in the table can cause"))
    return out


def suggest_from_discovery(table, x: str, y: str, *, fixed=(), after_outcome=(), seed: int = 0) -> list[Suggestion]:
    """Columns a free search makes children of Y alone (`discovery.outcome_leaves`), offered to
    check as recorded after the outcome, never firm: the search's evidence is weak."""
    from faircause_core.causal.discovery import outcome_leaves

    df = table if isinstance(table, pd.DataFrame) else getattr(table, "df", None)
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"suggest_from_discovery needs a loaded table, got {type(table).__name__}")
    leaves = outcome_leaves(table, x, y, fixed=fixed, after_outcome=after_outcome, seed=seed)
    return [Suggestion(c, "after_outcome", f"discovery finds that '{c}' depends on the other columns only "
                                           f"through '{y}' ('{y}' is its only parent): check whether it is "
                                           f"recorded after the outcome", firm=False) for c in leaves]


def suggested(suggestions: list[Suggestion], mark: str) -> list[str]:
    """The columns firmly suggested for one mark, in order (what a form pre-selects)."""
    if mark not in MARKS:
        raise InputError(f"unknown mark '{mark}'; use one of: {', '.join(MARKS)}")
    return [s.column for s in suggestions if s.mark == mark and s.firm]

