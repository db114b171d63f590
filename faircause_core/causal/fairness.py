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

Each nuisance model fit (split, covariate set, fold, outcome or propensity model) is one task
of the current engine (faircause_core.engine: local, or Ray), seeded by its split and fold, so
the audit spreads over a cluster however few splits it takes (one from about 4.2 million rows,
splits_for) and gives the local numbers bit for bit; each split's m and pi are put together
from its tasks' held-out predictions.

The question (which observed values x0/x1 mean, which Y value counts as 1, the group
masks) is resolved by `causal.question.Question`, the rule the metrics and the app use, and
the results are the `causal.effects.Decomposition` type.

Features and missing values: rows with a missing X or Y are dropped (count reported in
.warnings), as are rows whose X is neither x0 nor x1 (a multi-group column becomes binary
by the chosen pair). String, object and categorical Z/W columns are one-hot
coded with "missing" as its own level (rare levels past the 50 most frequent are pooled);
numeric (and boolean) Z/W columns are used as they are, missing or infinite values imputed
by the median plus a 0/1 missing indicator.
"""

from __future__ import annotations

import math
import re
import warnings as _pywarnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import ThreadpoolController  # sklearn imported first: its OpenMP must be loaded to be limited

from faircause_core.causal.effects import (  # noqa: F401  (re-exported: the public contract)
    COLUMNS,
    EFFECT_LABELS,
    EFFECTS,
    QUANTITIES,
    Z95,
    Decomposition,
    as_decomposition,
)
from faircause_core.causal.overlap import median_overlap, overlap_stats, overlap_warning
from faircause_core.causal.question import SMALL_GROUP_WARNING, Question, numbers, small_group_note

OVERLAP_NOTE = "poor overlap"  # how overlap_warning's line starts (one per split, merged by the median)
from faircause_core.errors import InputError
from faircause_core.io.export import plain
from faircause_core.limits import DEFAULT_LIMITS

METHODS = ("dr", "plugin")
LEARNERS = ("gbm", "logistic")
MIN_GROUP_ROWS = DEFAULT_LIMITS.min_group_size  # error below this
MIN_ROWS_PER_FOLD = 4  # each group must put this many rows in every fold
EXTREME_SHARE = 0.01  # warn when more propensities than this fall outside the clip range
MAX_LEVELS = DEFAULT_LIMITS.max_categories
# Small trees, shrinkage and early stopping: flexible enough for the SCM tests, quick
# enough for the 10k-row target (bench/bench_fairness.py). The nuisance models already stop
# early (issue 22 asked for it): on 500 to 200,000 rows of the demo and flchain the boosting
# stopped after a median of 29-81 of its 150 iterations (bench/bench_audit_splits.py, 240
# fits per size; a few fits at most sizes ran to the cap), on its 20% validation split with a
# patience of 8 rounds; the regression fallback only fits sets too small for boosting, and an
# early stop is not where the audit's time goes (the splits are). Nothing was changed.
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

# Linear combinations of (mu0, mu1, A, B) that define each effect.
_COEF = {
    "tv": {"mu1": 1.0, "mu0": -1.0},
    "ctf_de": {"B": 1.0, "mu0": -1.0},
    "ctf_ie": {"B": 1.0, "A": -1.0},
    "ctf_se": {"A": 1.0, "mu1": -1.0},
    "ett": {"A": 1.0, "mu0": -1.0},
}


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


# ----------------------------------------------------------------------------- features


def _design_columns(df: pd.DataFrame, cols: list[str]) -> list:
    """The feature matrix's columns, each a function giving one (n,) column: one-hot for discrete
    columns, median + indicator for numbers (a constant column carries no information)."""
    out = []
    for c in cols:
        s = df[c]
        if pd.api.types.is_bool_dtype(s):
            s = s.astype(float)
        if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            v = numbers(s)
            miss = np.isnan(v)
            med = np.nanmedian(v) if (~miss).any() else 0.0
            out.append(lambda v=v, med=med: np.where(np.isnan(v), med, v))
            if miss.any():
                out.append(lambda v=v: np.isnan(v))
        else:
            labels = s.astype(object).where(s.notna(), "\x00missing").astype(str)
            counts = labels.value_counts(sort=True)
            keep = list(counts.index[:MAX_LEVELS])
            if len(counts) > MAX_LEVELS:
                labels = labels.where(labels.isin(keep), "\x00other")
                keep = keep[: MAX_LEVELS - 1] + ["\x00other"]
            keep = sorted(set(keep))
            if len(keep) <= 1:
                continue
            # small integer codes held until the fill, not the labels (a string object a row)
            codes = pd.Categorical(labels, categories=keep).codes
            out += [lambda codes=codes, k=k: codes == k for k in range(1, len(keep))]
    return out


def _design(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Numeric feature matrix: one-hot for discrete columns, median + indicator for numbers,
    filled column by column into one array (at 2,000,000 rows x 100 columns the blocks and
    their stacked copy held twice the matrix)."""
    fills = _design_columns(df, cols)
    m = np.empty((len(df), len(fills)))
    for j, column in enumerate(fills):
        m[:, j] = column()
    return m


def _standardise(m: np.ndarray) -> np.ndarray:
    """Each column centred and scaled to unit standard deviation (a constant one centred), in
    place: the same numbers as (m - mean) / sd without a second matrix-sized result."""
    sd = m.std(axis=0)
    sd[sd == 0] = 1.0
    m -= m.mean(axis=0)
    m /= sd
    return m


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


@dataclass(frozen=True)
class _FoldWork:
    """What every nuisance fit of one decompose call reads: put in the engine's object store once
    (on Ray), not copied per task. feats: the standardised matrix of each covariate set fitted
    ("A": Z, "B": Z + W), the same for every split; folds[r] and labels[r]: split r's fold id
    per row and its fold labels (None and [None] for the plug-in: all rows train and test)."""

    feats: dict
    is1: np.ndarray
    y: np.ndarray
    folds: list
    labels: list
    seeds: list
    learner: str
    binary: bool

    def items(self) -> list:
        """Every fit, one engine task each, split by split: (split, covariate set, fold, model)."""
        return [(r, name, i, model) for r in range(len(self.seeds)) for name in self.feats
                for i in range(len(self.labels[r])) for model in ("m", "pi")]

    def part(self, r: int, i: int):
        """(train, test) rows of split r's fold i: the other folds and this one."""
        fold, label = self.folds[r], self.labels[r][i]
        if fold is None:
            everything = np.ones(len(self.y), bool)
            return everything, everything
        return fold != label, fold == label


_THREADS = []  # this process's threadpoolctl controller, made on first use
#: Where the local engine cannot fork (not Linux), it runs the audit's fits on threads from this
#: many cells (rows x the widest covariate set's features) up: a small fit holds the GIL for most
#: of its time. Two threads against one on an idle 2-core machine (bench/bench_audit_threads.py):
#: 0.74x on the demo's fitting split (1,140 x 14), 0.86x flchain's (5,512 x 8), 1.32x the 5,000 x
#: 56 table's (3,500 x 82), 1.78x 100,000 x 3. Forked processes hold no GIL in common and run at
#: every size (engine.FORK; the speed-ups in docs/benchmarks.md).
THREAD_MIN_CELLS = 100_000
#: ... and up to a feature matrix of this many MB: each fit copies its training rows of it, so a
#: second fit at a time holds a second copy (in a thread or a forked process alike). The
#: 2,000,000 x 100 run's audits (1.9 GB matrix) peaked at 17.6 GB on two threads against 13.9 GB
#: on one (issue 22's bound is 16 GB).
THREAD_MAX_MB = 500


def fit_workers(rows: int, features: int, workers: int | None = None) -> int:
    """How many of an audit's fits the local engine runs at once for a rows x features matrix:
    `workers` (default engine.local_threads()) up to a THREAD_MAX_MB matrix, in forked processes
    (engine.FORK), else on threads from THREAD_MIN_CELLS cells up; else 1 (the one home of the
    rule: the audit and the audit page's estimate read it)."""
    from faircause_core import engine

    cells = rows * features
    if cells * 8 <= THREAD_MAX_MB * 2**20 and (engine.FORK or THREAD_MIN_CELLS <= cells):
        return engine.local_threads() if workers is None else workers
    return 1


def _one_thread():
    """threadpool_limits(1) from one controller per process: making one scans the loaded libraries
    (about 4 ms), which once per fit task would add 0.7 s to a 10-split demo audit."""
    if not _THREADS:
        _THREADS.append(ThreadpoolController())
    return _THREADS[0].limit(limits=1)


def _fit_nuisance(work: _FoldWork, item) -> np.ndarray:
    """One nuisance model fitted on a fold's training rows, predicted on its held-out rows: an
    engine task, seeded as the model and fold (seed + i for m = E[Y|x1,V], seed + 100 + i for
    pi = P(x1|V)), so either engine gives the same numbers."""
    with _quiet():
        return _fit_one(work, item)


@contextmanager
def _quiet():
    """No convergence chatter (separable folds) and one BLAS/OpenMP thread: on a small shared
    machine OpenMP spin-waiting made boosting 5-10x slower. The warning filters and BLAS's
    setting are the process's: set once around a threaded map, not in each thread."""
    with _pywarnings.catch_warnings(), _one_thread():
        _pywarnings.simplefilter("ignore")
        yield


def _fit_one(work: _FoldWork, item) -> np.ndarray:
    r, name, i, model = item
    feats, seed = work.feats[name], work.seeds[r]
    train, test = work.part(r, i)
    with _one_thread():  # OpenMP's thread count is each thread's own: this one's, again under a threaded map
        if model == "m":
            rows = train & work.is1
            fitted = _Model(work.learner, work.binary, seed + i).fit(feats[rows], work.y[rows])
        else:
            fitted = _Model(work.learner, True, seed + 100 + i).fit(feats[train], work.is1[train].astype(float))
        return fitted.predict(feats[test])


def _nuisances(work: _FoldWork, fits: dict, r: int, name: str):
    """Split r's out-of-fold (or in-sample for plugin) m(V) and raw pi(V) for covariate set
    `name`, put together from its fit tasks' predictions."""
    n = len(work.y)
    m = np.empty(n)
    pi = np.empty(n)
    for i in range(len(work.labels[r])):
        test = work.part(r, i)[1]
        m[test], pi[test] = fits[(r, name, i, "m")], fits[(r, name, i, "pi")]
    if work.binary:
        m = np.clip(m, 0.0, 1.0)
    return m, pi


def _fit_all(work: _FoldWork, progress: Callable[[int, int], None] | None) -> dict:
    """Every fit of every split as a task of the current engine (local, or Ray): at 1 split (the
    audit past about 4.2 million rows) a cluster still runs its 2 x 2 x n_folds fits at once.
    `progress(k, splits)` is told as a split's worth of fits has ended: split k's last one on the
    local engine (which runs them in order), on Ray whichever end first."""
    from faircause_core import engine

    items, splits = work.items(), len(work.seeds)
    per_split = len(items) // splits
    done = None
    if progress is not None and per_split:
        def done(k, total):
            if k % per_split == 0:
                progress(k // per_split, splits)
    eng = engine.current()
    workers = fit_workers(len(work.y), max((f.shape[1] for f in work.feats.values()), default=0))
    if isinstance(eng, engine.LocalEngine) and workers > 1 and engine.FORK:
        # the fits on forked copies of this process: each is seeded and independent, so the
        # numbers are those of one process, bit for bit (tests/test_engine.py)
        out = eng.map(_fit_nuisance, items, shared=work, done=done, processes=workers)
    elif isinstance(eng, engine.LocalEngine) and workers > 1:
        with _quiet():  # on threads: the process's warning filters and BLAS setting, set once
            out = eng.map(_fit_one, items, shared=work, done=done, threads=workers)
    else:
        out = eng.map(_fit_nuisance, items, shared=work, done=done)
    fits = dict(zip(items, out))
    if progress is not None and not per_split:  # no covariates: nothing to fit
        for k in range(1, splits + 1):
            progress(k, splits)
    return fits


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


#: The most cross-fitting splits the audit takes (the cost cap; see splits_for).
MAX_SPLITS = 10
#: The envelope of the between-split spread, r(n) = SPREAD_A * n ** -SPREAD_B: the largest
#: SD over single-split fold seeds divided by the standard error, over TV, Ctf-DE, Ctf-IE and
#: Ctf-SE, as measured by bench/bench_audit_splits.py (see splits_for).
SPREAD_A = 4.745
SPREAD_B = 0.253


def split_spread(ratio: float, splits: int) -> float:
    """The spread over fold seeds of the median of `splits` cross-fitting splits, in standard
    errors, when one split's effects have SD `ratio` standard errors between fold seeds: the
    median of S normal draws has SD c_S * sd / sqrt(S), c_S = 1 for S <= 2 (the mean) and at
    most sqrt(pi/2) above (its large-S value, used as the bound)."""
    factor = 1.0 if splits <= 2 else math.sqrt(math.pi / 2)
    return float(ratio) * factor / math.sqrt(splits)


def splits_for(n: int) -> int:
    """The audit's cross-fitting splits for a table of n rows: the fewest whose median moves
    less than a tenth of the standard error over fold seeds (split_spread(r(n), S) < 0.1), at
    most MAX_SPLITS. The one rule for the real audit and the synthetic one (pipeline.audit,
    pipeline.synthetic_splits); a given count (the CLI's --splits) overrides it.

    r(n) = SPREAD_A * n ** -SPREAD_B is the upper envelope of one split's between-seed SD over
    its SE (the largest of TV, Ctf-DE, Ctf-IE, Ctf-SE; 12 fold seeds) measured on the demo and
    flchain at 500 to 200,000 rows (bench/bench_audit_splits.py, bench/results/audit_splits.md):
    the spread shrinks as n grows, but more slowly than the SE. Measured SD/SE, worst effect:
    demo 0.93 (500 rows), 0.47 (5,000), 0.26 (20,000), 0.17 (100,000), 0.16 (200,000); flchain
    0.59, 0.29, 0.20, 0.16, 0.10. One split meets SE/10 only where r < 0.1 (flchain at 200,000
    rows, not the demo), 10 splits where r < 0.25 (from 20,000-100,000 rows). So the rule
    gives 10 up to about 134,000 rows, 8 at 200,000, 4 at 1,000,000, 2 from about 1,070,000 and
    1 from about 4,200,000. Below about 109,000 rows even 10 splits leave a spread of
    0.10-0.37 SE (measured): 10 is the cost cap, kept from before (a split costs 0.3-2.4 s up
    to 20,000 rows on this 2-core machine, 15-22 s at 200,000)."""
    if n <= 0:
        return MAX_SPLITS
    ratio = SPREAD_A * float(n) ** -SPREAD_B
    for s in range(1, MAX_SPLITS + 1):
        if split_spread(ratio, s) < 0.1:
            return s
    return MAX_SPLITS


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
    positive=None,
    learner: str | None = None,
    clip: float = 0.01,
    continuous_outcome: bool = False,
    normalize: bool = True,
    splits: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Decomposition:
    """Decompose the x1-vs-x0 disparity in y into direct, indirect and spurious parts.

    splits > 1 (method "dr"): repeated cross-fitting, the median over that many fold splits
    (seeds seed, seed + 1, ...), as double machine learning recommends for small samples: on
    the demo's 1,140 fitting rows one split's Ctf-DE ranged from -0.101 to -0.033 over ten fold
    seeds (bench/bench_estimators.py). The medians are taken of A and B, so TV = DE - IE - SE
    still holds exactly; each effect's standard error is the median over splits of
    sqrt(se_s^2 + (effect_s - effect)^2), which adds the spread between splits. The fits of all
    splits are tasks of the current engine (see the module docstring). `progress(k, splits)`,
    where given, is told as each split's worth of fits ends, one split included (the time-left
    estimate's pace).

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
    if isinstance(splits, bool) or not isinstance(splits, (int, np.integer)) or splits < 1:
        raise InputError(f"splits {splits!r} must be a whole number >= 1")

    notes: list[str] = []
    question = Question.resolve(data, x, x0, x1, y, threshold=threshold, positive=positive,
                                continuous=continuous_outcome)
    v0, v1 = question.x0, question.x1
    yv = question.outcomes(data)
    if np.isnan(yv).all():
        raise InputError(f"outcome {y!r} has no observed values")
    if question.outcome.values is not None and len(question.outcome.values) == 1:
        notes.append(f"outcome {y!r} has the single value {question.outcome.values[0]!r}: every effect is 0")

    missing = data[x].isna().to_numpy() | np.isnan(yv)
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} rows with missing {x!r} or {y!r}")
    in0, in1 = question.masks(data)
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
        if cnt < SMALL_GROUP_WARNING:
            notes.append(small_group_note(x, val, cnt))

    # Group means and their influence functions.
    mu = {}
    inf = {}
    for name, mask, cnt in (("mu0", ~is1, n0), ("mu1", is1, n1)):
        mu[name] = float(yk[mask].mean())
        inf[name] = np.where(mask, (n / cnt) * (yk - mu[name]), 0.0)

    binary = not continuous_outcome
    plugin = method == "plugin"
    seeds = [seed] if plugin else [seed + r for r in range(int(splits))]
    folds = [None] * len(seeds) if plugin else [_folds(is1, yk, n_folds, s, binary) for s in seeds]
    # A with V = Z, B with V = (Z, W); an empty Z (W) makes A = mu1 (B = A) exactly, nothing fitted.
    sets = {name: cols for name, cols, given in (("A", z, z), ("B", z + w, w)) if given}
    work = _FoldWork(  # trees do not mind the standardising; regressions need it
        feats={name: _standardise(_design(frame, cols)) for name, cols in sets.items()},
        is1=is1, y=yk, folds=folds, labels=[[None] if f is None else list(np.unique(f)) for f in folds],
        seeds=seeds, learner=learner, binary=binary)
    fits = _fit_all(work, progress)
    settings = {
        "x": x, "x0": v0, "x1": v1, "y": y, "positive": question.outcome.positive, "z": list(z), "w": list(w),
        "seed": seed, "n_folds": n_folds, "threshold": threshold, "learner": learner, "clip": clip,
        "continuous_outcome": bool(continuous_outcome), "normalize": bool(normalize),
    }
    runs = []  # each split's A and B from its fits, then its effects
    for r, s in enumerate(seeds):
        split_mu, split_inf, split_notes, overlap = dict(mu), dict(inf), list(notes), {}
        for name, fallback in (("A", "mu1"), ("B", "A")):
            if name not in sets:
                split_mu[name], split_inf[name] = split_mu[fallback], split_inf[fallback]
                continue
            m, pi = _nuisances(work, fits, r, name)
            overlap = overlap_stats(pi, is1, clip, sets[name])  # (Z, W) when there are mediators: the harder one
            out = ((pi < clip) | (pi > 1.0 - clip)).mean()
            if out > EXTREME_SHARE:
                given = "Z" if name == "A" else "Z, W"
                split_notes.append(
                    f"extreme propensities: {out:.1%} of P({x}={v1!r} | {given}) fall outside "
                    f"[{clip:g}, {1 - clip:g}]; estimates may be unstable"
                )
            split_mu[name], split_inf[name] = _theta(m, pi, is1, yk, clip, plugin, normalize)
        runs.append(_one_split(split_mu, split_inf, split_notes, overlap, dict(settings, seed=s), n, n0, n1, method))
    return runs[0] if len(runs) == 1 else _median_of_splits(runs)


def _one_split(mu, inf, notes, overlap, settings, n, n0, n1, method) -> Decomposition:
    """One cross-fitting split's Decomposition, from its four means and their influence functions."""
    estimates, ses = {}, {}
    for eff in EFFECTS:
        coef = _COEF[eff]
        estimates[eff] = float(sum(c * mu[q] for q, c in coef.items()))
        ses[eff] = _se(sum(c * inf[q] for q, c in coef.items()))
    # Exact collapses: no floating noise in an effect that is zero by construction.
    quantities = {q: {"estimate": mu[q], "se": _se(inf[q])} for q in QUANTITIES}
    if overlap:
        overlap.update(x0=str(settings["x0"]), x1=str(settings["x1"]))
        low = overlap_warning(overlap, str(settings["x0"]), str(settings["x1"]))
        notes += [low] if low else []
    return Decomposition(
        estimates=estimates, ses=ses, quantities=quantities, n=n, n0=n0, n1=n1,
        method=method, warnings=notes, settings=plain(settings), overlap=plain(overlap),
    )


def _median_of_splits(runs: list) -> Decomposition:
    """One Decomposition from several cross-fitting splits of the same rows (decompose's
    `splits`): median A and B (the group means do not depend on the folds), effects from them,
    and Chernozhukov et al.'s median standard error with the between-split spread added."""
    def median_se(pairs, centre: float) -> float:  # (se_s, estimate_s) per split
        return float(np.median([math.hypot(se, est - centre) for se, est in pairs]))

    first = runs[0]
    mu = {q: float(np.median([r.quantities[q]["estimate"] for r in runs])) for q in QUANTITIES}
    estimates = {eff: float(sum(c * mu[q] for q, c in _COEF[eff].items())) for eff in EFFECTS}
    ses = {eff: median_se([(r.ses[eff], r.estimates[eff]) for r in runs], estimates[eff]) for eff in EFFECTS}
    quantities = {q: {"estimate": mu[q], "se": median_se([(r.quantities[q]["se"], r.quantities[q]["estimate"])
                                                          for r in runs], mu[q])} for q in QUANTITIES}
    notes = _merged_extreme_notes([n for r in runs for n in r.warnings if not n.startswith(OVERLAP_NOTE)], len(runs))
    overlap = median_overlap([r.overlap for r in runs])
    low = overlap_warning(overlap, overlap.get("x0", "x0"), overlap.get("x1", "x1")) if overlap else None
    notes += [low] if low else []
    settings = dict(first.settings, splits=len(runs))
    return Decomposition(estimates=estimates, ses=ses, quantities=quantities, n=first.n, n0=first.n0, n1=first.n1,
                         method=first.method, warnings=notes, settings=settings, overlap=plain(overlap))


def _merged_extreme_notes(notes: list[str], splits: int) -> list[str]:
    """Each split's notes, once: the extreme-propensity note differs between splits only in its
    share (1.7%, 1.9%, 3.6%...), and a reader needs one line, the median share of the splits
    that warned and how many did, not one line per split."""
    shares: dict[str, list[float]] = {}
    for note in notes:
        found = _EXTREME_SHARE_TEXT.match(note)
        if found:
            shares.setdefault(found.group(2), []).append(float(found.group(1)))
    out = []
    for note in notes:
        found = _EXTREME_SHARE_TEXT.match(note)
        if not found:
            out.append(note)
            continue
        rest, seen = found.group(2), shares.get(found.group(2))
        if seen is None:
            continue  # already said
        del shares[rest]
        which = f" (the median of the {len(seen)} of {splits} cross-fitting splits that warned)" if splits > 1 else ""
        out.append(f"extreme propensities: {float(np.median(seen)):.1f}%{rest}{which}")
    return list(dict.fromkeys(out))


_EXTREME_SHARE_TEXT = re.compile(r"^extreme propensities: ([0-9.]+)%(.*)$", re.S)


def _se(infl: np.ndarray) -> float:
    """sd(IF)/sqrt(n); exactly 0 for an identically zero influence function."""
    if not np.any(infl):
        return 0.0
    return float(np.std(infl, ddof=1) / math.sqrt(len(infl)))
