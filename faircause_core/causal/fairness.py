"""Causal fairness decomposition: TV split into Ctf-DE, Ctf-IE, Ctf-SE (and ETT).

These are the numbers every generator, the refinement loop and the predictor metric are
judged by, so they follow docs/method.md section 2 exactly. Four means are estimated:

    mu0 = E[Y | x0],  mu1 = E[Y | x1],
    A   = E[Y_{x1} | x0]         = E[ E[Y | x1, Z]    | X = x0 ],
    B   = E[Y_{x1,W_{x0}} | x0]  = E[ E[Y | x1, Z, W] | X = x0 ],

and TV = mu1 - mu0, Ctf-DE = B - mu0, Ctf-IE = B - A, Ctf-SE = A - mu1, ETT = A - mu0,
so TV = DE - IE - SE holds exactly for the point estimates.

A and B are both "effect on the x0 group" functionals theta = E[m(V) | X = x0] with
m(V) = E[Y | x1, V] and V = Z (for A) or V = (Z, W) (for B).

method="dr" (default): one-step doubly robust estimator with K-fold cross-fitting. On each
fold, m is fitted on the x1 rows of the other folds and pi(V) = P(X = x1 | V) on all rows
of the other folds (clipped to [clip, 1 - clip]); with out-of-fold predictions

    theta = (1/n0) sum_i [ 1{x0} m(V_i) + 1{x1} (1 - pi_i)/pi_i (Y_i - m(V_i)) ]
    IF_i  = (n/n0) [ 1{x0} (m(V_i) - theta) + 1{x1} (1 - pi_i)/pi_i (Y_i - m(V_i)) ]

and IF_i = (n/n_x) 1{X=x} (Y_i - mu_x) for the group means. By default (normalize=True)
the correction term is Hajek-normalised: divided by the sum of the weights (1 - pi)/pi over
the x1 rows instead of by n0, with the matching influence function (same answer under good
overlap, about half the bias with extreme propensities in our SCM runs). Each effect's
influence function is the same linear combination as its estimate; se = sd(IF)/sqrt(n)
and the 95% interval is estimate +- 1.96 se. With Z empty A is mu1 (IF included), so
Ctf-SE is exactly 0 with se 0; with W empty B is A, so Ctf-IE is exactly 0.

method="plugin": g-formula, the outcome models fitted once on all rows (logistic
regression unless learner is given), A and B the means of m over the x0 rows. Its standard
errors come from the same influence-function formula evaluated at the plug-in nuisances
(propensities also fitted on all rows), a fast preview rather than a guarantee.

Nuisance learners: "gbm" is a regularised HistGradientBoosting model with early stopping;
"logistic" is (logistic or ridge) regression on standardised features. A training set too
small for boosting (< 100 rows or < 10 of a class) gets the regression model instead, and
a constant target a constant. Fits run on one thread: on a small shared machine OpenMP
spin-waiting made boosting several times slower, and results stay bit-for-bit repeatable.

Features and missing values: rows with a missing X or Y are dropped (count reported in
.warnings), as are rows whose X is neither x0 nor x1 (a multi-group column becomes binary
by the chosen pair). String, object and categorical Z/W columns are one-hot
coded with "missing" as its own level (rare levels past the 50 most frequent are pooled);
numeric (and boolean) Z/W columns are used as they are, missing or infinite values imputed
by the median plus a 0/1 missing indicator.
"""

from __future__ import annotations

import math
import warnings as _pywarnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import threadpool_limits  # sklearn imported first: its OpenMP must be loaded to be limited

from faircause_core.errors import InputError
from faircause_core.limits import DEFAULT_LIMITS

EFFECTS = ["tv", "ctf_de", "ctf_ie", "ctf_se", "ett"]
COLUMNS = ["estimate", "se", "ci_low", "ci_high"]
QUANTITIES = ["mu0", "mu1", "A", "B"]
Z95 = 1.959963984540054  # standard normal 97.5% quantile

METHODS = ("dr", "plugin")
LEARNERS = ("gbm", "logistic")
MIN_GROUP_ROWS = DEFAULT_LIMITS.min_group_size  # error below this
SMALL_GROUP_ROWS = 50  # warning below this
MIN_ROWS_PER_FOLD = 4  # each group must put this many rows in every fold
EXTREME_SHARE = 0.01  # warn when more propensities than this fall outside the clip range
MAX_LEVELS = DEFAULT_LIMITS.max_categories
# Small trees, shrinkage and early stopping: flexible enough for the SCM tests, quick
# enough for the 10k-row target (bench/bench_fairness.py).
GBM_SETTINGS = dict(
    learning_rate=0.1,
    max_iter=150,
    max_leaf_nodes=8,
    min_samples_leaf=40,
    l2_regularization=1.0,
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=8,
)
POSITIVE_WORDS = {"1", "yes", "y", "true", "t", "positive", "pos", "dead", "died", "death"}

# Linear combinations of (mu0, mu1, A, B) that define each effect.
_COEF = {
    "tv": {"mu1": 1.0, "mu0": -1.0},
    "ctf_de": {"B": 1.0, "mu0": -1.0},
    "ctf_ie": {"B": 1.0, "A": -1.0},
    "ctf_se": {"A": 1.0, "mu1": -1.0},
    "ett": {"A": 1.0, "mu0": -1.0},
}


# ----------------------------------------------------------------------------- result


@dataclass
class Decomposition:
    """Estimates, standard errors and intervals of the five effects, plus the four means.

    Kept JSON-safe (to_dict/from_dict) so the app, CLI and refinement log can store it.
    """

    estimates: dict
    ses: dict
    quantities: dict  # {"mu0"|"mu1"|"A"|"B": {"estimate": float, "se": float}}
    n: int
    n0: int
    n1: int
    method: str
    warnings: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def __getitem__(self, effect: str) -> float:
        if effect not in self.estimates:
            raise KeyError(f"unknown effect {effect!r}; use one of {', '.join(EFFECTS)}")
        return float(self.estimates[effect])

    def to_frame(self) -> pd.DataFrame:
        est = np.array([self.estimates[e] for e in EFFECTS], dtype=float)
        se = np.array([self.ses[e] for e in EFFECTS], dtype=float)
        out = pd.DataFrame(
            {"estimate": est, "se": se, "ci_low": est - Z95 * se, "ci_high": est + Z95 * se},
            index=pd.Index(EFFECTS),
        )
        return out[COLUMNS]

    def to_dict(self) -> dict:
        return {
            "estimates": {e: float(self.estimates[e]) for e in EFFECTS},
            "ses": {e: float(self.ses[e]) for e in EFFECTS},
            "quantities": {
                q: {"estimate": float(v["estimate"]), "se": float(v["se"])}
                for q, v in self.quantities.items()
            },
            "n": int(self.n),
            "n0": int(self.n0),
            "n1": int(self.n1),
            "method": str(self.method),
            "warnings": [str(w) for w in self.warnings],
            "settings": _jsonable(self.settings),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Decomposition":
        try:
            return cls(
                estimates={e: float(d["estimates"][e]) for e in EFFECTS},
                ses={e: float(d["ses"][e]) for e in EFFECTS},
                quantities={
                    q: {"estimate": float(v["estimate"]), "se": float(v["se"])}
                    for q, v in d["quantities"].items()
                },
                n=int(d["n"]),
                n0=int(d["n0"]),
                n1=int(d["n1"]),
                method=str(d["method"]),
                warnings=list(d.get("warnings", [])),
                settings=dict(d.get("settings", {})),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise InputError(f"not a saved decomposition: missing or bad field {err}") from None

    def __repr__(self) -> str:
        parts = ", ".join(f"{e}={self.estimates[e]:+.4f}" for e in EFFECTS)
        return f"Decomposition({self.method}, n={self.n}: {parts})"


def _jsonable(obj):
    """Numpy scalars and tuples to plain Python, so json.dumps never fails on settings."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# ----------------------------------------------------------------------------- inputs


def _as_columns(value, role: str) -> list[str]:
    """z/w may be one column name, any iterable of names, or empty/None."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        cols = list(value)
    except TypeError:
        raise InputError(f"{role} must be a column name or a list of column names, got {value!r}") from None
    return cols


def _check_roles(data, x, y, z, w):
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    known = set(map(str, data.columns))
    for role, col in [("x", x), ("y", y)] + [("z", c) for c in z] + [("w", c) for c in w]:
        try:
            hash(col)
        except TypeError:
            raise InputError(f"{role} must be one column name, got {col!r}") from None
        if col not in data.columns:
            hint = f" (columns: {', '.join(sorted(known)[:12])}{', ...' if len(known) > 12 else ''})"
            raise InputError(f"unknown column {col!r} given as {role}{hint}")
    if x == y:
        raise InputError(f"column {x!r} cannot be both the sensitive attribute x and the outcome y")
    for role, cols in (("z", z), ("w", w)):
        dup = [c for c in set(cols) if cols.count(c) > 1]
        if dup:
            raise InputError(f"column {dup[0]!r} is listed twice in {role}")
        for special, name in (("x", x), ("y", y)):
            if name in cols:
                raise InputError(f"column {name!r} is {special} and cannot also be in {role}")
    both = [c for c in z if c in w]
    if both:
        raise InputError(f"column {both[0]!r} is in both z (confounders) and w (mediators)")


def _resolve_group(series: pd.Series, value, name: str, label: str):
    """Find the observed X value a user meant: exact match, else by text ("1" -> 1)."""
    seen = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(series.dropna())]
    for v in seen:
        try:
            if bool(v == value):
                return v
        except (TypeError, ValueError):
            pass
    text = str(value).strip()
    for v in seen:
        if str(v).strip() == text:
            return v
    try:
        num = float(text)
        for v in seen:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) == num:
                return v
    except ValueError:
        pass
    shown = ", ".join(repr(v) for v in sorted(map(str, seen))[:10])
    raise InputError(f"{label} value {value!r} does not occur in column {name!r} (values: {shown})")


def _binary_outcome(series: pd.Series, name: str, threshold, continuous: bool, notes: list) -> np.ndarray:
    """Outcome as float (0/1 unless continuous); NaN kept so the caller can drop it."""
    if continuous:
        if threshold is not None:
            raise InputError(f"outcome {name!r}: give either a threshold or continuous_outcome=True, not both")
        if pd.api.types.is_bool_dtype(series):
            return series.astype(float).to_numpy()
        if not pd.api.types.is_numeric_dtype(series):
            raise InputError(f"outcome {name!r} is not numeric, so it cannot be a continuous outcome")
        return _finite(series)
    if threshold is not None:
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            raise InputError(f"outcome {name!r} is not numeric, so threshold {threshold!r} cannot apply")
        try:
            t = float(threshold)
        except (TypeError, ValueError):
            raise InputError(f"threshold {threshold!r} for outcome {name!r} is not a number") from None
        vals = _finite(series)
        out = np.where(np.isnan(vals), np.nan, (vals >= t).astype(float))
        return out
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float).to_numpy()
    seen = pd.unique(series.dropna())
    if len(seen) > 2:
        raise InputError(
            f"outcome {name!r} has {len(seen)} values; it must be binary, or give a threshold "
            f"(y >= threshold counts as 1)"
        )
    numeric = pd.api.types.is_numeric_dtype(series)
    if len(seen) == 2:
        if numeric:
            positive = max(seen)
        else:
            texts = sorted(str(v) for v in seen)
            hits = [t for t in texts if t.strip().lower() in POSITIVE_WORDS]
            positive = hits[0] if len(hits) == 1 else texts[1]
            positive = next(v for v in seen if str(v) == positive)
    elif len(seen) == 1:
        only = seen[0]
        notes.append(f"outcome {name!r} has the single value {only!r}: every effect is 0")
        if numeric:
            positive = only if float(only) != 0.0 else object()
        else:
            positive = only if str(only).strip().lower() in POSITIVE_WORDS else object()
    else:
        raise InputError(f"outcome {name!r} has no observed values")
    missing = series.isna().to_numpy()
    hit = series.eq(positive).fillna(False).to_numpy(dtype=bool)
    return np.where(missing, np.nan, hit.astype(float))


# ----------------------------------------------------------------------------- features


def _finite(series: pd.Series) -> np.ndarray:
    """Float values with NaN for missing and for +-inf (an inf is no usable measurement)."""
    v = np.array(series.astype("float64").to_numpy(dtype=float, na_value=np.nan), dtype=float)
    v[~np.isfinite(v)] = np.nan
    return v


def _design(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Numeric feature matrix: one-hot for discrete columns, median + indicator for numbers."""
    blocks = []
    for c in cols:
        s = df[c]
        if pd.api.types.is_bool_dtype(s):
            s = s.astype(float)
        if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            v = _finite(s)
            miss = np.isnan(v)
            med = np.nanmedian(v) if (~miss).any() else 0.0
            blocks.append(np.where(miss, med, v)[:, None])
            if miss.any():
                blocks.append(miss.astype(float)[:, None])
        else:
            labels = s.astype(object).where(s.notna(), "\x00missing").astype(str)
            counts = labels.value_counts(sort=True)
            keep = list(counts.index[:MAX_LEVELS])
            if len(counts) > MAX_LEVELS:
                labels = labels.where(labels.isin(keep), "\x00other")
                keep = keep[: MAX_LEVELS - 1] + ["\x00other"]
            keep = sorted(set(keep))
            if len(keep) <= 1:
                continue  # a constant column carries no information
            codes = labels.to_numpy()
            blocks.append(np.column_stack([(codes == k).astype(float) for k in keep[1:]]))
    if not blocks:
        return np.zeros((len(df), 0))
    return np.hstack(blocks)


def _standardise(m: np.ndarray) -> np.ndarray:
    sd = m.std(axis=0)
    sd[sd == 0] = 1.0
    return (m - m.mean(axis=0)) / sd


# ----------------------------------------------------------------------------- learners


class _Constant:
    """Predicts one value: a training target with a single class or value."""

    def __init__(self, value: float):
        self.value = float(value)

    def predict(self, feats: np.ndarray) -> np.ndarray:
        return np.full(len(feats), self.value)


class _Model:
    """One nuisance model: classifier (probability of 1) or regressor, fitted on features."""

    def __init__(self, learner: str, binary: bool, seed: int):
        self.learner, self.binary, self.seed = learner, binary, seed

    def fit(self, feats: np.ndarray, target: np.ndarray) -> "_Model":
        if feats.shape[1] == 0 or np.all(target == target[0]):
            self.est = _Constant(target.mean())
            return self
        small = len(target) < 100
        if self.binary:
            small = small or min(target.sum(), len(target) - target.sum()) < 10
        use_gbm = self.learner == "gbm" and not small
        if use_gbm:
            cls = HistGradientBoostingClassifier if self.binary else HistGradientBoostingRegressor
            est = cls(**GBM_SETTINGS, random_state=self.seed)
            est.fit(feats, target.astype(int) if self.binary else target)
        else:
            if self.binary:
                est = LogisticRegression(C=1.0, max_iter=1000)
                est.fit(feats, target.astype(int))
            else:
                est = Ridge(alpha=1.0)
                est.fit(feats, target)
        self.est = est
        return self

    def predict(self, feats: np.ndarray) -> np.ndarray:
        if isinstance(self.est, _Constant):
            return self.est.predict(feats)
        if self.binary:
            return self.est.predict_proba(feats)[:, 1]
        return self.est.predict(feats)


# ----------------------------------------------------------------------------- estimation


def _folds(is1: np.ndarray, y: np.ndarray, k: int, seed: int, binary: bool) -> np.ndarray:
    """Fold id per row, stratified by group (and outcome when binary), seeded."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(is1), dtype=int)
    strata = is1.astype(int) * 2 + (y.astype(int) if binary else 0)
    offset = 0
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        idx = idx[rng.permutation(len(idx))]
        fold[idx] = (np.arange(len(idx)) + offset) % k
        offset += len(idx)  # rotate so small strata do not all start at fold 0
    return fold


def _nuisances(feats, is1, y, fold, learner, binary, seed, plugin):
    """Out-of-fold (or in-sample for plugin) m(V) = E[Y|x1,V] and raw pi(V) = P(x1|V)."""
    n = len(y)
    m = np.empty(n)
    pi = np.empty(n)
    parts = [(np.ones(n, bool), np.ones(n, bool))] if plugin else [
        (fold != f, fold == f) for f in np.unique(fold)
    ]
    # One thread: on a small shared machine OpenMP spin-waiting made boosting 5-10x slower.
    with _pywarnings.catch_warnings(), threadpool_limits(limits=1):
        _pywarnings.simplefilter("ignore")  # convergence chatter on separable folds
        for i, (train, test) in enumerate(parts):
            tr1 = train & is1
            m[test] = _Model(learner, binary, seed + i).fit(feats[tr1], y[tr1]).predict(feats[test])
            pi[test] = _Model(learner, True, seed + 100 + i).fit(feats[train], is1[train].astype(float)).predict(
                feats[test]
            )
    if binary:
        m = np.clip(m, 0.0, 1.0)
    return m, pi


def _theta(m, pi, is1, y, clip, plugin, normalize):
    """Effect-on-x0 functional and its influence function (see module docstring).

    normalize=True divides the weighted residuals by the sum of weights instead of n0
    (Hajek): the same when overlap is good, less biased when propensities are extreme.
    """
    n = len(y)
    is0 = ~is1
    n0 = is0.sum()
    p = np.clip(pi, clip, 1.0 - clip)
    wt = np.where(is1, (1.0 - p) / p, 0.0)
    corr = wt * np.where(is1, y - m, 0.0)
    base = m[is0].sum() / n0
    if plugin:
        theta = base
        infl = (n / n0) * (np.where(is0, m - theta, 0.0) + corr)
    elif normalize:
        shift = corr.sum() / wt.sum()
        theta = base + shift
        infl = (n / n0) * np.where(is0, m - base, 0.0) + (n / wt.sum()) * (corr - wt * shift)
    else:
        theta = base + corr.sum() / n0
        infl = (n / n0) * (np.where(is0, m - theta, 0.0) + corr)
    return float(theta), infl


def decompose(
    data,
    x,
    x0,
    x1,
    y,
    z=(),
    w=(),
    *,
    seed: int = 0,
    method: str = "dr",
    n_folds: int = 5,
    threshold=None,
    learner: str | None = None,
    clip: float = 0.01,
    continuous_outcome: bool = False,
    normalize: bool = True,
) -> Decomposition:
    """Decompose the x1-vs-x0 disparity in y into direct, indirect and spurious parts.

    learner=None means "gbm" for method="dr" and "logistic" for method="plugin" (the plug-in
    is the fast preview). normalize=False gives the textbook 1/n0 one-step estimator instead
    of the Hajek-normalised one (kept as default: equal under good overlap, and in our SCM
    runs with poor overlap it halved the bias). See the module docstring for the estimators and missing values.
    """
    z, w = _as_columns(z, "z"), _as_columns(w, "w")
    _check_roles(data, x, y, z, w)
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    learner = learner or ("gbm" if method == "dr" else "logistic")
    if learner not in LEARNERS:
        raise InputError(f"unknown learner {learner!r}; use one of {', '.join(LEARNERS)}")
    try:
        clip = float(clip)
    except (TypeError, ValueError):
        raise InputError(f"clip {clip!r} is not a number") from None
    if not 0.0 <= clip < 0.5:
        raise InputError(f"clip {clip} must be in [0, 0.5)")
    if method == "dr" and (isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2):
        raise InputError(f"n_folds {n_folds!r} must be a whole number >= 2")
    n_folds = int(n_folds)
    seed = int(seed)

    notes: list[str] = []
    xs = data[x]
    v0 = _resolve_group(xs, x0, x, "x0")
    v1 = _resolve_group(xs, x1, x, "x1")
    if v0 == v1 or str(v0) == str(v1):
        raise InputError(f"x0 and x1 are the same value {v0!r} of column {x!r}; pick two different groups")
    yv = _binary_outcome(data[y], y, threshold, continuous_outcome, notes)

    missing = xs.isna().to_numpy() | np.isnan(yv)
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} rows with missing {x!r} or {y!r}")
    in0 = (xs == v0).to_numpy(dtype=bool)
    in1 = (xs == v1).to_numpy(dtype=bool)
    other = ~missing & ~in0 & ~in1
    if other.any():
        notes.append(f"dropped {int(other.sum())} rows whose {x!r} is neither {v0!r} nor {v1!r}")
    keep = ~missing & (in0 | in1)
    frame = data.loc[keep, list(dict.fromkeys(z + w))]
    is1 = in1[keep]
    yk = yv[keep]
    n, n1 = len(yk), int(is1.sum())
    n0 = n - n1
    for label, val, cnt in (("x0", v0, n0), ("x1", v1, n1)):
        if cnt < MIN_GROUP_ROWS:
            raise InputError(
                f"group {x}={val!r} ({label}) has only {cnt} usable rows; at least {MIN_GROUP_ROWS} are needed"
            )
        if method == "dr" and cnt < MIN_ROWS_PER_FOLD * n_folds:
            raise InputError(
                f"group {x}={val!r} ({label}) has {cnt} usable rows, too few for {n_folds} folds "
                f"(need {MIN_ROWS_PER_FOLD} per fold); lower n_folds"
            )
        if cnt < SMALL_GROUP_ROWS:
            notes.append(f"group {x}={val!r} has only {cnt} rows: estimates are rough")

    # Group means and their influence functions.
    mu = {}
    inf = {}
    for name, mask, cnt in (("mu0", ~is1, n0), ("mu1", is1, n1)):
        mu[name] = float(yk[mask].mean())
        inf[name] = np.where(mask, (n / cnt) * (yk - mu[name]), 0.0)

    binary = not continuous_outcome
    plugin = method == "plugin"
    fold = None if plugin else _folds(is1, yk, n_folds, seed, binary)
    # A with V = Z, B with V = (Z, W); empty covariate sets collapse exactly.
    for name, cols, fallback in (("A", z, "mu1"), ("B", z + w, "A")):
        if (name == "A" and not z) or (name == "B" and not w):
            mu[name], inf[name] = mu[fallback], inf[fallback]
            continue
        feats = _standardise(_design(frame, cols))  # trees do not mind; regressions need it
        m, pi = _nuisances(feats, is1, yk, fold, learner, binary, seed, plugin)
        out = ((pi < clip) | (pi > 1.0 - clip)).mean()
        if out > EXTREME_SHARE:
            given = "Z" if name == "A" else "Z, W"
            notes.append(
                f"extreme propensities: {out:.1%} of P({x}={v1!r} | {given}) fall outside "
                f"[{clip:g}, {1 - clip:g}]; estimates may be unstable"
            )
        mu[name], inf[name] = _theta(m, pi, is1, yk, clip, plugin, normalize)

    estimates, ses = {}, {}
    for eff in EFFECTS:
        coef = _COEF[eff]
        estimates[eff] = float(sum(c * mu[q] for q, c in coef.items()))
        ses[eff] = _se(sum(c * inf[q] for q, c in coef.items()))
    # Exact collapses: no floating noise in an effect that is zero by construction.
    quantities = {q: {"estimate": mu[q], "se": _se(inf[q])} for q in QUANTITIES}
    settings = {
        "x": x, "x0": v0, "x1": v1, "y": y, "z": list(z), "w": list(w), "seed": seed,
        "n_folds": n_folds, "threshold": threshold, "learner": learner, "clip": clip,
        "continuous_outcome": bool(continuous_outcome), "normalize": bool(normalize),
    }
    return Decomposition(
        estimates=estimates, ses=ses, quantities=quantities, n=n, n0=n0, n1=n1,
        method=method, warnings=notes, settings=_jsonable(settings),
    )


def _se(infl: np.ndarray) -> float:
    """sd(IF)/sqrt(n); exactly 0 for an identically zero influence function."""
    if not np.any(infl):
        return 0.0
    return float(np.std(infl, ddof=1) / math.sqrt(len(infl)))
