"""Suggested column marks, each with a one-line reason the user can check and overrule.

Two marks matter before discovery. "after_outcome": a column recorded after Y (follow-up
time, cause of death) adjusted for as a confounder answers the wrong question, so it must
never be a cause. "fixed": a baseline trait (age, race, sex when it is not X, birth year)
that nothing in the table can cause; with the standard fairness model backbone a column
that is not fixed is treated as a mediator of X, so the fixed ones are the confounders Z.

The firm rules read names and missingness, so they hold on tables nobody tuned them for:
- a column whose missingness is (nearly) determined by Y (a cause of death recorded only
  for the dead): the share missing differs by at least MISSING_GAP between Y = 0 and 1;
  never a baseline name (`data_may_flag`: a baseline lab missing for every death is a gap);
- a name that reads as follow-up ("fu", not the drug "5-FU"), survival or time to an event
  (also glued: "rectime", "dtime"), the last contact, censoring ("cens", not "census"), a
  length of stay, a bare time, days, duration or status (also with a unit: "time_days",
  "time (yrs)"), or a record of the death (date, cause, age at death);
- fixed: a name that reads as age, race or ethnicity, sex or gender, birth, or the
  calendar year of entry (sample, enrolment, baseline year).
Leakage (`leakage`), read from the data whatever the name: a column that alone predicts Y
far better than every other column does. Each column's cross-fitted AUROC (its binned
outcome rate, learned on the other folds) is compared with the best other column's, with
bootstrap intervals; no fixed AUROC cut-off (an unseen cohort's follow-up time reached 0.84
against 0.68, another's 0.78 against 0.72). Firm when the two columns' 95% intervals do not
overlap; offered to check when only the paired difference's interval excludes 0. A column
whose name reads as a baseline trait or a baseline measurement (`baseline_measurement_name`:
ejection fraction, creatinine, blood pressure...) is never suggested as recorded after the
outcome by the data rules (missingness, leakage, discovery; one guard, `data_may_flag`): a
strong baseline predictor is no leak.
A weaker rule, `suggest_from_discovery`, runs a search that may put edges out of Y and
offers each column it makes a child of Y alone as one to check; it is never pre-selected,
never offered for a baseline name, and shown below the name and leakage suggestions.
Names are split into words first (snake_case, camelCase, dots, letters|digits), so "age80"
is the word "age" while "stage" or "average" are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faircause_core.errors import InputError
from faircause_core.io.schema import plain_value, unknown_column_message
from faircause_core.causal.question import Outcome, name_words

MARKS = ("after_outcome", "fixed")
#: Smallest difference in the share missing between Y = 0 and Y = 1 rows read as "missing
#: because of the outcome": measurement gaps that merely differ by group stay far below it.
MISSING_GAP = 0.8
#: Each outcome group needs this many rows before its missing share is read at all.
MIN_GROUP_ROWS = 20

_UNIT = r"(?:time|days?|weeks?|months?|mos?|years?|yrs?|dur|duration)"
#: A unit written after a bare time or duration ("time_days", "time (yrs)", "duration_d").
_SUFFIX = r"(?:days?|d|weeks?|wks?|w|months?|mos?|m|years?|yrs?|y|hours?|hrs?|h)"
#: Short event words glued to a unit in one word ("rectime", "dtime", "evttime"); survival
#: acronyms also with a space ("ostime", "os months"). Only a time or a plural unit: "event
#: year" or "recyear" is a calendar year, often of the index event at entry.
_GLUED = r"(?:rec|recur|dth|death|evt|event|censor|fail|prog|obs)"
_GLUED_UNIT = r"(?:time|days|dur|mos|months|years|yrs)"
#: Words before a time that make it history, not follow-up ("prior_event_years").
_HISTORY = r"(?<!prior )(?<!prev )(?<!previous )(?<!index )(?<!baseline )(?<!history )"
_EVENT = (r"(?:death|die|dying|event|last|censor\w*|follow|relapse|recurrence|progression|failure|"
          r"readmission|discharge|outcome|endpoint|end|exit|loss|dropout|contact)")
_AFTER_NAMES = [
    (re.compile(rf"\bfu ?{_UNIT}\b|\bfup\b|\bfollow ?ups?\b"), "follow-up time"),
    (re.compile(rf"\b{_UNIT} (?:to|until|till) {_EVENT}\b"), "the time to an event"),
    (re.compile(rf"\bsurv(?:ival)? ?(?:{_UNIT}|status)\b|\b(?:os|pfs|dfs|efs|rfs|dss) (?:{_UNIT}|status)\b"),
     "survival time"),
    (re.compile(r"\blast (?:contact|follow ?up|fu|seen|visit|known|alive|observation)\b|\bdate last\b"),
     "the last contact"),
    # "cens" as a whole name or beside a status or time word, "censrec", "censored"; not "census"
    # or "cens_tract" (a census tract is a baseline place)
    (re.compile(r"^cens(?:rec|stat)?$|\bcens (?:status|stat|time|date|flag|ind\w*)\b|\bcensor(?:ed|ing|ship)?\b|"
                r"\bevent time\b"), "censoring or event time"),
    (re.compile(r"\b(?:date|day|time|cause|place|age|year|month) (?:of|at) death\b|\bdeath (?:date|day|time|cause|"
                r"place|year|age|cert\w*)\b|\b(?:dod|cod)\b|\bage at (?:event|last|censor\w*|exit|end)\b"),
     "a record of the death"),
    (re.compile(r"\bdischarge (?:destination|disposition|date)\b|\b(?:at|on) discharge\b"),
     "a record of the discharge"),
    (re.compile(r"\blength of (?:hospital |icu )?stay\b|\blos\b|\b(?:hospital|icu|inpatient) (?:stay|days)\b|"
                r"\bdays (?:in|at) (?:hospital|icu)\b"), "a length of stay (it ends with the discharge or the death)"),
    # not a survival probability predicted at baseline ("surv2md1": a prognostic model's estimate
    # of surviving two months, made at entry; "predicted_survival", "surv_prob")
    (re.compile(r"(?<!predicted )(?<!estimated )(?<!expected )(?<!pred )(?<!est )\bsurv(?:ival|ived)?\b"
                r"(?! (?:\d+ )*(?:md|model|prob\w*|est\w*|pred\w*|score|index)\b)|\btte\b"), "survival time"),
    (re.compile(rf"^(?:(?:obs|observation|observed|study|total|followed|follow) )?{_UNIT}(?: {_SUFFIX})?"
                rf"(?: (?:at risk|observed|followed|of follow ?up|in study))?$|"
                rf"^(?:time|days) (?:at risk|in study|on study)$"),
     "follow-up time (a bare time, days or duration)"),
    (re.compile(r"^(?:(?:vital|survival|censor\w*|event|death|fu|follow ?up|outcome|final) )?status$|"
                r"^(?:fustat|vstatus|vital)$"), "the status at the end of follow-up"),
    (re.compile(rf"{_HISTORY}(?:\b{_GLUED}(?:{_GLUED_UNIT}| time)\b|\b(?:os|pfs|dfs|efs|rfs|dss|ttp) ?{_GLUED_UNIT}\b)|"
                rf"^[dsf] ?time(?: {_SUFFIX})?$"), "the time to an event"),
    # bare "fu" ("fu", "FU_visit") last, so a fuller reading wins; not the drug 5-FU ("5fu", "5_FU")
    (re.compile(r"(?<!\b5 )\bfu\b"), "follow-up"),
]
#: Words of names that read as a measurement or condition taken at baseline (labs, vitals,
#: scores, history): a strong predictor of the outcome, never a record made after it.
_MEASURE_WORDS = (
    "ejection fraction|ef|lvef|creatinine|creat|phosphokinase|cpk|ck|sodium|na|potassium|chloride|platelets?|"
    "plt|bilirubin|bili|albumin|alb|cholesterol|chol|ldl|hdl|triglycerides?|trig|glucose|glu|hba1c|a1c|"
    "hemoglobin|haemoglobin|hb|hgb|hematocrit|hct|wbc|rbc|lymphocytes?|neutrophils?|bmi|weight|height|waist|"
    "blood pressure|bp|sbp|dbp|sys|systolic|diastolic|map|heart rate|hr|pulse|resp|respiratory rate|spo2|"
    "temperature|temp|kappa|lambda|flc|copper|alk phos|alkaline phosphatase|alp|ast|alt|sgot|sgpt|protime|"
    "prothrombin|inr|ptt|aptt|egfr|gfr|bun|urea|troponin|tnt|tni|bnp|nt ?probnp|crp|esr|ferritin|iron|ldh|"
    "psa|cea|ca ?125|tsh|insulin|lactate|ph|pao2|fio2|ascites|hepato|hepatomegaly|spiders|edema|oedema|"
    "anaemia|anemia|diabetes|diabetic|hypertension|hyp|high blood pressure|smoking|smoker|smokes|cigs|alcohol|"
    "stage|grade|nyha|score|apache|sofa|gcs|charlson|tumou?r size|nodes|comorbidit\\w*|history|prevalent|prior|"
    "previous|chronic|meds|medication|dose|mgus|education|income|insurance|hmo|type|admission type|"
    "exercise|activity|serum|plasma|urine|lab|vital signs?|smoke|heart failure|stroke|cancer|copd|asthma|ckd|"
    "chf|cad|afib|atrial fibrillation|angina|infarction|renal|cirrhosis|hepatitis|hiv|trt|treatment arm|arm")
_BASELINE_MEASURE = [
    (re.compile(r"\b(?:baseline|bl|admission|admit|initial|pre|pretreatment|pre treatment|screening|enrol\w*|"
                r"entry|index|at entry|at baseline)\b"), "a value taken at baseline"),
    (re.compile(rf"\b(?:{_MEASURE_WORDS})\b"), "a measurement or condition taken at baseline"),
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
    #: which rule made it: "name", "missing", "determines", "leakage" (the data) or "discovery" (the weak hint)
    rule: str = "name"


def words(name: str) -> str:
    """A column name as lower-case words, one string for the name patterns (question.name_words)."""
    return " ".join(name_words(name))


def after_outcome_name(name: str) -> str | None:
    """What the name reads as when it reads as recorded after the outcome, else None."""
    text = words(name)
    return next((what for pattern, what in _AFTER_NAMES if pattern.search(text)), None)


def baseline_measurement_name(name: str) -> str | None:
    """What the name reads as when it reads as a baseline measurement or condition (a lab,
    a vital sign, a score, a history: ejection fraction, creatinine, blood pressure, stage)
    and not as recorded after the outcome, else None. Such a column may be a mediator of X
    (it is not `fixed`), but a data rule never calls it recorded after the outcome."""
    if after_outcome_name(name):
        return None
    text = words(name)
    return next((what for pattern, what in _BASELINE_MEASURE if pattern.search(text)), None)


def reads_as_baseline(name: str) -> bool:
    """A baseline trait (`fixed_name`) or a baseline measurement (`baseline_measurement_name`)."""
    return bool(fixed_name(name) or baseline_measurement_name(name))


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


def data_may_flag(column: str) -> bool:
    """Whether a data rule (missingness, leakage, the discovery hint) may suggest `column` as
    recorded after the outcome: never a name that reads as a baseline trait or measurement
    (`reads_as_baseline`). A baseline lab missing for every death is a gap in the record and a
    strong baseline predictor is no leak; only the name rules may overrule a baseline name."""
    return not reads_as_baseline(column)


def _missing_reason(column: str, series: pd.Series, groups) -> str | None:
    """Why `column` reads as recorded because of the outcome from its missingness, else None."""
    if not data_may_flag(column):
        return None
    in0, in1, (label0, label1) = groups
    if in0.sum() < MIN_GROUP_ROWS or in1.sum() < MIN_GROUP_ROWS:
        return None
    missing = series.isna().to_numpy()
    p0, p1 = float(missing[in0].mean()), float(missing[in1].mean())
    if abs(p0 - p1) < MISSING_GAP:
        return None
    return (f"missing in {_share(p0)} of rows with {label0} and {_share(p1)} with {label1}: "
            f"it is recorded because of the outcome")


#: A value of a column held by at least this share of the rows (and MIN_GROUP_ROWS) whose rows
#: ALL have Y = 1 reads as defined from the outcome ("died within 30 days" = Yes: every one died).
DETERMINES_SHARE = 0.05
#: Columns with more distinct values than this are not read value by value (a measurement).
DETERMINES_MAX_VALUES = 12


def _determines_reason(column: str, series: pd.Series, groups) -> str | None:
    """Why `column` reads as defined from the outcome: one of its values (held by a real share of
    the rows) occurs only with Y = 1, while Y = 0 is common. Found probing an RHC-like cohort,
    where 'dth30' (death within 30 days) passed the leakage rule (AUROC 0.63 against another
    column's 0.65) and entered as a cause of death. A baseline value with every patient
    positive over DETERMINES_SHARE of the rows is not met in practice (p ** n for n >= 20)."""
    if not data_may_flag(column):
        return None
    in0, in1, (label0, label1) = groups
    if in0.sum() < MIN_GROUP_ROWS or in1.sum() < MIN_GROUP_ROWS:
        return None
    values = series.dropna()
    if values.nunique() > DETERMINES_MAX_VALUES:
        return None
    need = max(MIN_GROUP_ROWS, DETERMINES_SHARE * len(series))
    for value, count in values.value_counts().items():
        rows = (series == value).to_numpy()
        if count >= need and not in0[rows].any() and in1[rows].all():
            return (f"'{column}' = {plain_value(value)} in {count:,} rows, every one with {label1} (and none with "
                    f"{label0}): it reads as defined from the outcome")
    return None


#: Bootstrap resamples behind the leakage intervals, and the rows they are drawn from at most.
LEAK_BOOTSTRAP = 300
LEAK_MAX_ROWS = 20_000
LEAK_FOLDS = 5
LEAK_BINS = 10


@dataclass(frozen=True)
class Leakage:
    """How well each column alone predicts Y (cross-fitted AUROC), and the leading column
    against the best other one, with 95% bootstrap intervals (`leakage`)."""

    auroc: dict          # column -> AUROC alone
    top: str | None      # the column that predicts Y best alone
    other: str | None    # the best other column
    top_ci: tuple = (float("nan"), float("nan"))
    other_ci: tuple = (float("nan"), float("nan"))
    gap_ci: tuple = (float("nan"), float("nan"))  # paired: AUROC(top) - AUROC(other)
    n: int = 0

    @property
    def clear(self) -> bool:
        """The paired difference's 95% interval lies above 0."""
        return self.top is not None and self.gap_ci[0] > 0

    @property
    def far(self) -> bool:
        """The two columns' own 95% intervals do not overlap."""
        return self.clear and self.top_ci[0] > self.other_ci[1]

    def numbers(self, y: str) -> str:
        a, b = self.auroc[self.top], self.auroc[self.other]
        return (f"alone it predicts '{y}' with AUROC {a:.2f} (95% CI {self.top_ci[0]:.2f} to {self.top_ci[1]:.2f}); "
                f"the best other column, '{self.other}', reaches {b:.2f} ({self.other_ci[0]:.2f} to "
                f"{self.other_ci[1]:.2f}), a difference of {a - b:.2f} ({self.gap_ci[0]:.2f} to {self.gap_ci[1]:.2f})")

    def to_dict(self) -> dict:
        return {"auroc": dict(self.auroc), "top": self.top, "other": self.other, "top_ci": list(self.top_ci),
                "other_ci": list(self.other_ci), "gap_ci": list(self.gap_ci), "n": self.n}


def _auroc(score: np.ndarray, y: np.ndarray) -> float:
    """Mann-Whitney AUROC (ties count half)."""
    from scipy.stats import rankdata

    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _bins(s: pd.Series) -> np.ndarray:
    """Small integer codes: quantile bins for numbers, categories (the 50 most frequent) for
    the rest, missing as a code of its own."""
    num = pd.to_numeric(s, errors="coerce") if not isinstance(s.dtype, pd.CategoricalDtype) else None
    if num is not None and num.notna().sum() >= 0.9 * s.notna().sum() and num.nunique() > LEAK_BINS:
        v = num.to_numpy(dtype=float)
        edges = np.unique(np.nanquantile(v, np.linspace(0, 1, LEAK_BINS + 1)[1:-1]))
        codes = np.searchsorted(edges, v, side="right")
        return np.where(np.isnan(v), -1, codes)
    text = s.astype(object).where(s.notna(), "\x00missing").astype(str)
    keep = set(text.value_counts().index[:50])
    text = text.where(text.isin(keep), "\x00other")
    return pd.factorize(text)[0]


def _oof_rate(codes: np.ndarray, y: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Each row's outcome rate in its bin, learned on the other folds (shrunk to the mean)."""
    out = np.empty(len(y))
    base = codes - codes.min()
    k = int(base.max()) + 1
    for f in np.unique(fold):
        tr, te = fold != f, fold == f
        n = np.bincount(base[tr], minlength=k).astype(float)
        e = np.bincount(base[tr], weights=y[tr], minlength=k)
        prior = y[tr].mean()
        out[te] = ((e + 10 * prior) / (n + 10))[base[te]]
    return out


def leakage(table, x: str, y: str, threshold: float | None = None, *, skip=(), seed: int = 0) -> Leakage | None:
    """Every column's cross-fitted AUROC for Y alone (not X's, not Y's; X is a comparator),
    and the leading column against the best other one (columns in `skip`, already known to
    be recorded after the outcome, are left out of both). None when Y cannot be coded 0/1 or
    has fewer than MIN_GROUP_ROWS rows of either value."""
    df = table if isinstance(table, pd.DataFrame) else getattr(table, "df", None)
    groups = _outcome_groups(df[y], threshold)
    if groups is None:
        return None
    in0, in1, _ = groups
    keep = np.asarray(in0 | in1)
    if in0.sum() < MIN_GROUP_ROWS or in1.sum() < MIN_GROUP_ROWS:
        return None
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(keep)
    if len(rows) > LEAK_MAX_ROWS:
        rows = np.sort(rng.choice(rows, LEAK_MAX_ROWS, replace=False))
    yv = np.asarray(in1)[rows].astype(float)
    fold = rng.permutation(len(rows)) % LEAK_FOLDS
    cols = [str(c) for c in df.columns if str(c) != y and str(c) not in set(skip)]
    scores, auroc = {}, {}
    for c in cols:
        score = _oof_rate(_bins(df[c].iloc[rows]), yv, fold)
        scores[c], auroc[c] = score, _auroc(score, yv)
    ranked = sorted((c for c in cols if auroc[c] == auroc[c]), key=lambda c: -auroc[c])
    if len(ranked) < 2:
        return Leakage(auroc, None, None, n=len(rows))
    top, other = ranked[0], ranked[1]
    boot = np.empty((LEAK_BOOTSTRAP, 2))
    for b in range(LEAK_BOOTSTRAP):
        i = rng.integers(0, len(rows), len(rows))
        boot[b] = _auroc(scores[top][i], yv[i]), _auroc(scores[other][i], yv[i])
    boot = boot[~np.isnan(boot).any(axis=1)]
    q = lambda v: (float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975)))  # noqa: E731
    return Leakage(auroc, top, other, q(boot[:, 0]), q(boot[:, 1]), q(boot[:, 0] - boot[:, 1]), len(rows))


def _leak_suggestion(leak: Leakage | None, x: str, y: str) -> Suggestion | None:
    """The leading column as possibly recorded after the outcome when it predicts Y alone
    clearly better than every other column: firm when the intervals do not overlap, to check
    when only the paired difference is clear; never X, never a baseline name."""
    if leak is None or not leak.clear or leak.top == x or not data_may_flag(leak.top):
        return None
    return Suggestion(leak.top, "after_outcome",
                      f"'{leak.top}' may leak the outcome: {leak.numbers(y)}; a column that predicts the outcome far "
                      f"better than every other is often recorded after it (check that it is known before the "
                      f"outcome)", firm=leak.far, rule="leakage")


def suggest_marks(table, x: str, y: str, threshold: float | None = None) -> list[Suggestion]:
    """At most one suggestion per column (not X, not Y), in column order, then the leakage
    suggestion (`leakage`) if any.

    After the outcome wins over fixed ("age at death" is not a baseline age). An outcome
    that cannot be coded 0/1 (many values and no threshold) only skips the missingness and
    leakage rules. A name suggestion for the column that leads the leakage ranking carries
    its numbers too.
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
        why = _missing_reason(col, df[col], groups) if groups is not None else None
        if why:
            out.append(Suggestion(col, "after_outcome", f"'{col}' is {why}", rule="missing"))
            continue
        why = _determines_reason(col, df[col], groups) if groups is not None else None
        if why:
            out.append(Suggestion(col, "after_outcome", why, rule="determines"))
            continue
        what = fixed_name(col)
        if what:
            out.append(Suggestion(col, "fixed", f"the name '{col}' reads as {what}: a baseline trait "
                                                f"nothing in the table can cause"))
    missing = [s.column for s in out if s.rule in ("missing", "determines")]
    leak = leakage(df, x, y, threshold, skip=missing) if groups is not None else None
    named = {s.column: i for i, s in enumerate(out) if s.mark == "after_outcome" and s.rule == "name"}
    if leak is not None and leak.clear and leak.top in named:  # the name's suggestion shows the numbers too
        i = named[leak.top]
        out[i] = Suggestion(out[i].column, out[i].mark, f"{out[i].reason}; {leak.numbers(y)}")
    extra = _leak_suggestion(leak, x, y)
    if extra is not None and extra.column not in {s.column for s in out}:
        out.append(extra)
    return out


def suggest_from_discovery(table, x: str, y: str, *, fixed=(), after_outcome=(), seed: int = 0) -> list[Suggestion]:
    """Columns a free search makes children of Y alone (`discovery.outcome_leaves`), offered to
    check as recorded after the outcome, never firm: the search's evidence is weak. Never a
    column whose name reads as a baseline trait or measurement (`reads_as_baseline`: on an
    unseen heart-failure cohort it had offered ejection fraction)."""
    from faircause_core.causal.discovery import outcome_leaves

    df = table if isinstance(table, pd.DataFrame) else getattr(table, "df", None)
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"suggest_from_discovery needs a loaded table, got {type(table).__name__}")
    leaves = outcome_leaves(table, x, y, fixed=fixed, after_outcome=after_outcome, seed=seed)
    return [Suggestion(c, "after_outcome", f"discovery finds that '{c}' depends on the other columns only "
                                           f"through '{y}' ('{y}' is its only parent): weak evidence, check whether "
                                           f"it is recorded after the outcome", firm=False, rule="discovery")
            for c in leaves if data_may_flag(c)]


def worth_checking(suggestions, hints=(), marked=None) -> list[Suggestion]:
    """What to offer without pre-selecting it, strongest evidence first: the not-firm
    suggestions of the name and data rules (`suggest_marks`: a leakage that is clear but not
    far), in their order, then the discovery hints (`suggest_from_discovery`) for columns those
    did not offer. The hint is weak evidence, so it never sits above a name or leakage
    suggestion. `marked` maps a mark to the columns already given it: those are left out."""
    marked = {m: set(cols or ()) for m, cols in (marked or {}).items()}
    out, seen = [], set()
    for s in [*[s for s in suggestions if not s.firm], *hints]:
        if s.column not in seen and s.column not in marked.get(s.mark, ()):
            out.append(s)
            seen.add(s.column)
    return out


def suggested(suggestions: list[Suggestion], mark: str) -> list[str]:
    """The columns firmly suggested for one mark, in order (what a form pre-selects)."""
    if mark not in MARKS:
        raise InputError(f"unknown mark '{mark}'; use one of: {', '.join(MARKS)}")
    return [s.column for s in suggestions if s.mark == mark and s.firm]

