"""Utility: is the synthetic table useful for prediction, and are its predictors fairer?

What was chosen and why:

- One classifier everywhere: scikit-learn's HistGradientBoostingClassifier (seeded). It is
  well kept, strong on mixed tabular data with default settings, handles missing numbers
  natively and splits categorical columns natively, so no one-hot explosion and no
  imputation step to tune. It runs single-threaded (threadpoolctl, a scikit-learn
  dependency): on a small busy machine OpenMP threads fighting for cores made a 1,000-row
  fit over 10 times slower. The same model and settings are used for the real and the
  synthetic training set, so any difference in score comes from the data.
- Features are encoded by `FeatureEncoder`: numbers as float (NaN stays NaN), discrete
  columns as integer codes over the UNION of the categories seen in every frame, so a
  category that only the synthetic data produced cannot crash the model; a column with
  more categories than the model's bins (255) falls back to plain codes.
- TSTR: train on synthetic, test on held-out real rows, AUROC (sklearn.metrics.roc_auc_score);
  TRTR (train on real) on the same test rows is the yardstick.
- The outcome is binarised with problem.binary_outcome (the project's one rule); the 0/1
  meaning is fixed on the REAL rows and applied to the synthetic ones, so a synthetic table that only has one outcome value is still read correctly.
- fair_predictor (method.md section 4): the classifier is a known function f(X, Z, W), so its
  direct effect on the real holdout's x0 rows is computed exactly, mean of f(x1, z, w) -
  f(x0, z, w), with no nuisance models (the doubly robust estimator's noise was larger than
  the effect: a mirror run read 51% "reduction" where the exact value is -1%). The real rows
  the generator was fitted on are held fixed; the synthetic model's effect is averaged over
  models trained on independent synthetic sets of the real training size (the synthetic is
  free), and a paired bootstrap over holdout rows and those fits gives the intervals of both
  effects, their difference and the bias reduction 1 - |DE(synthetic-trained)| /
  |DE(real-trained)| (None when the real-trained effect's interval contains 0).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from faircause_core import engine
from faircause_core.errors import InputError
from faircause_core.metrics.frames import NUMERIC_KINDS, canonical, check_frame, model_kinds, numbers
from faircause_core.metrics.frames import subsample as seeded_rows  # `subsample` names a local below
from faircause_core.causal.question import Outcome, group_mask, resolve_value

_canonical = canonical  # the name _outcomes reads
MAX_NATIVE_CATEGORIES = 250  # HistGradientBoosting allows at most max_bins (255) categories


# ----------------------------------------------------------------------------- features
def _sort_key(v):
    """Numbers first in numeric order, then text: a stable category order for mixed values."""
    return (0, v, "") if isinstance(v, float) else (1, 0.0, str(v))


class FeatureEncoder:
    """Numbers as float; discrete columns as codes over the union of all frames' categories."""

    def __init__(self, kinds: dict, columns: list[str]):
        self.kinds = kinds
        self.columns = list(columns)

    def fit(self, *frames: pd.DataFrame) -> "FeatureEncoder":
        self.categories_ = {}
        for col in self.columns:
            if self.kinds[col] in NUMERIC_KINDS:
                continue
            seen = set()
            for df in frames:
                seen.update(v for v in pd.unique(canonical(df[col])) if not pd.isna(v))
            self.categories_[col] = pd.Index(sorted(seen, key=_sort_key), dtype=object)
        return self

    @property
    def categorical_mask(self) -> np.ndarray:
        """Which encoded columns the model should split as categories."""
        return np.array([
            col in self.categories_ and len(self.categories_[col]) <= MAX_NATIVE_CATEGORIES
            for col in self.columns
        ], dtype=bool)

    def transform(self, df: pd.DataFrame, which: str = "input") -> np.ndarray:
        out = np.empty((len(df), len(self.columns)))
        for j, col in enumerate(self.columns):
            if col in self.categories_:
                codes = self.categories_[col].get_indexer(pd.Index(canonical(df[col]), dtype=object))
                out[:, j] = np.where(codes < 0, np.nan, codes)  # missing (or unseen) -> NaN
            else:
                out[:, j] = numbers(df[col], which)
        return out


def _fit_predict(encoder, X_train, y_train, X_test, seed: int, classifier=None) -> np.ndarray:
    """P(y = 1) on X_test from the one seeded classifier (or `classifier(seed)`, any
    scikit-learn classifier); a one-class training set predicts its class."""
    classes = np.unique(y_train)
    if classes.size == 1:
        return np.full(len(X_test), float(classes[0]))
    if classifier is None:
        mask = encoder.categorical_mask
        model = HistGradientBoostingClassifier(
            random_state=seed, categorical_features=mask if mask.any() else None
        )
    else:
        model = classifier(seed)
    with threadpool_limits(1):
        model.fit(X_train, y_train)
        return model.predict_proba(X_test)[:, list(model.classes_).index(1.0)]


# ----------------------------------------------------------------------------- outcome
def _outcomes(target: str, real_frames, synth_frames, threshold, positive, notes: list):
    """0/1/NaN labels for each real frame and each synthetic one, with one shared meaning:
    question.Outcome resolved on the real rows, applied to all."""
    real = pd.concat([f[target] for f in real_frames], ignore_index=True)
    coding = Outcome.resolve(real, threshold=threshold, positive=positive)
    real_y, synth_ys = coding.code(real), []
    for which, frame in synth_frames:
        s = frame[target].reset_index(drop=True)
        synth_ys.append(coding.code(s))
        unknown = coding.unknown(s)
        if unknown:
            notes.append(f"{unknown} {which} rows have an outcome value not seen in the real data; dropped")
    parts, start = [], 0
    for f in real_frames:
        parts.append(real_y[start:start + len(f)])
        start += len(f)
    return parts, synth_ys


# ----------------------------------------------------------------------------- TSTR
def _setup(real_train, synth, real_test, target, schema, threshold, positive, control=None):
    """Shared checks, feature encoding and labels for both utility metrics (and the
    fair predictor's optional control table, keyed "control")."""
    kinds = model_kinds(schema)
    if target not in kinds:
        raise InputError(f"outcome column '{target}' is not a model column of the schema")
    others = [("synthetic", synth)] + ([("control", control)] if control is not None else [])
    for df, which in [(real_train, "real training"), (real_test, "real test")] + [(d, w) for w, d in others]:
        check_frame(df, which, kinds)
    features = [c for c in kinds if c != target]
    if not features:
        raise InputError(f"no feature columns besides the outcome '{target}'")
    notes: list[str] = []
    (y_tr, y_te), ys = _outcomes(target, [real_train, real_test], others, threshold, positive, notes)
    for y, which in ((y_tr, "real training"), (y_te, "real test")):
        if np.unique(y[~np.isnan(y)]).size < 2:
            raise InputError(f"{which} rows have only one class of outcome '{target}'; AUROC needs both")
    for (which, _), y in zip(others, ys):
        if np.isnan(y).all():
            raise InputError(f"{which} table has no rows with a known outcome '{target}'")
    enc = FeatureEncoder(kinds, features).fit(real_train, real_test, *(d for _, d in others))
    data = {"train": (enc.transform(real_train, "real training"), y_tr),
            "test": (enc.transform(real_test, "real test"), y_te)}
    for (which, df), y, key in zip(others, ys, ("synth", "control")):
        data[key] = (enc.transform(df, which), y)
    return enc, data, notes


def _labelled(X, y):
    ok = ~np.isnan(y)
    return X[ok], y[ok]


def tstr_auroc(real_train, synth, real_test, target, schema, seed=0, threshold=None, positive=None) -> dict:
    """AUROC on real test rows of a model trained on synthetic (TSTR) vs on real (TRTR) rows."""
    enc, data, notes = _setup(real_train, synth, real_test, target, schema, threshold, positive)
    X_tr, y_tr = _labelled(*data["train"])
    X_syn, y_syn = _labelled(*data["synth"])
    X_te, y_te = _labelled(*data["test"])
    trtr = float(roc_auc_score(y_te, _fit_predict(enc, X_tr, y_tr, X_te, seed)))
    if np.unique(y_syn).size < 2:
        notes.append("synthetic outcome has one class")
        tstr = 0.5
    else:
        tstr = float(roc_auc_score(y_te, _fit_predict(enc, X_syn, y_syn, X_te, seed)))
    return dict(trtr=trtr, tstr=tstr, n_train_real=int(len(y_tr)), n_synth=int(len(y_syn)),
                n_test=int(len(y_te)), notes=notes)


# ----------------------------------------------------------------------------- fairness
DRAWS = 100  # synthetic training sets used per table at most: synthetic_sets() says why
FEW_DRAWS = 16  # sets drawn at least, whatever the real training size
PREDICTOR_ROWS = 200_000  # synthetic rows drawn for the sets, unless FEW_DRAWS sets need more
MIN_DRAWS = 8  # fewer whole sets than this in a synthetic table: fit on all its rows, spread by refits
FIT_REPEATS = BOOTSTRAP = 200  # refits on resampled training rows; resamples of the holdout's x0 rows
SMALL_GROUP = 30  # fewer rows than this in a group: the note says the measure is shaky
#: The most real training rows the fair predictor's models see (a seeded subsample above it,
#: said in its notes); the synthetic sets are as large. At 700,000 fitting rows its 16 sets
#: would be 11.2 million synthetic rows (docs/benchmarks.md, "Scaling with rows").
FAIR_TRAIN_ROWS = 50_000


#: The real holdout's x0 rows the fair predictor's effects average over, at most (a seeded
#: sample; every row of the shared cohorts): the paired bootstrap holds n_boot x rows draws per
#: table, 3.4 GB at the 300,000 x0 rows of a 2,000,000-row run (issue 22's 16 GB). The bootstrap
#: over these rows is the interval's holdout part, so a sample widens it honestly.
FAIR_TEST_ROWS = 50_000


def predictor_train_rows(n_train: int) -> int:
    """The real training rows the fair predictor uses of `n_train` (and each synthetic set's size)."""
    return min(int(n_train), FAIR_TRAIN_ROWS)


FITS_PER_TASK = 10  # the fair predictor's fits per engine task: tasks of tens of ms on the demo, not a few
FIT_THREADS = 2  # threads fitting the tables' default models side by side (the machine has 2 cores)
_TABLES = {"real": ("train", "real training"), "synthetic": ("synth", "synthetic"), "control": ("control", "control")}


def fair_classifier(mask: np.ndarray):
    """The fair predictor's classifier: L2 logistic regression (C = 1) on one-hot categories and
    standardised numbers (mean-imputed, with missing indicators).

    Why not the gradient boosting used for AUROC: the interval's largest part is how the real
    model's effect would move with another real sample, estimated by refits on resampled rows.
    The bootstrap is valid for a smooth estimator like this one; trees refitted on resampled
    rows (with duplicates) overfit and shifted the effect (+0.03 on a 0.41 effect), and their
    effect comes from whichever splits happen to use X. Measured on the demo's real rows (5
    splits), a logistic model's effect was 2.0-3.2 of its standard errors from 0 against
    1.5-2.2 for the boosting model, and a fit costs 0.026 s of CPU against 0.17 s, so 200
    refits cost what 32 boosting refits do.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat, num = np.flatnonzero(mask), np.flatnonzero(~mask)
    parts = [("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1),
                                   OneHotEncoder(handle_unknown="ignore")), cat)] if cat.size else []
    parts += [("num", make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), num)] if num.size else []
    return make_pipeline(ColumnTransformer(parts), LogisticRegression(C=1.0, max_iter=1000))


class _FairFits:
    """`fair_classifier`'s model fitted many times, fast, to the same optimum.

    The fair predictor fits one model per synthetic set and per resample of the real rows (up
    to 401 fits a run). Through scikit-learn each fit rebuilt the column transformer and ran
    L-BFGS to its default tolerance: 26 ms of a 1,140-row fit on the demo, most of it
    overhead. This fits the same model on the same features, written out once:

    - categories: one indicator per code the encoder knows plus one for missing (the
      SimpleImputer's -1), unscaled; a code absent from a training set gives an all-zero
      column whose L2-penalised coefficient is exactly 0, which is what OneHotEncoder's
      handle_unknown="ignore" gives a code it never saw;
    - numbers: missing values replaced by the training mean, one missing indicator per
      number column (a column with no missing value in training gets an all-zero indicator,
      coefficient 0, as SimpleImputer's "missing-only" gives none), then standardised by the
      training mean and population standard deviation (1 for a constant column);
    - the objective 0.5 |w|^2 + C sum log-loss with the intercept unpenalised, C = 1.

    A resample is fitted with its counts as weights (the same statistics and objective as the
    duplicated rows), the model matrix is sparse (one entry per category column and row).
    The first fit of a group (the real rows, the synthetic sets, the control's) runs Newton's
    method with step halving; the group's later fits (resamples, other sets: the same law, so
    nearly the same Hessian) start from the first solution and take Newton steps solved by
    conjugate gradients preconditioned with that fit's inverse Hessian, falling back to
    Newton if that stalls. Every fit stops when its last step moved no coefficient by more
    than TOL (1e-6: the effects then agree with scikit-learn's at a tightened tolerance to
    1e-7; at its default tolerance L-BFGS stopped 3e-4 away on the demo's real model).
    Checked against the scikit-learn pipeline in tests/test_measure_cost.py. On the demo
    (DE removed, 401 fits) the fair predictor went from 13.4 s to 1.5 s of CPU, on a
    5,000 x 56 table (mirror) from 22.7 s to 6.5 s (bench/bench_measure.py --clock cpu).
    """

    TOL = 1e-6
    MAX_NEWTON = 100
    MAX_INEXACT = 30

    def __init__(self, enc: "FeatureEncoder", mask: np.ndarray, X0: np.ndarray, X1: np.ndarray):
        self.cat, self.num = np.flatnonzero(mask), np.flatnonzero(~mask)
        sizes = [len(enc.categories_[enc.columns[j]]) + 1 for j in self.cat]  # + missing
        self.offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.sizes = np.array(sizes, dtype=np.int64)
        self.n_cat = int(sum(sizes))
        self.p = 1 + self.n_cat + 2 * self.num.size  # intercept, indicators, numbers, missing flags
        self.penalty = np.r_[0.0, np.ones(self.p - 1)]
        self.eval0, self.eval1 = self.rows(X0), self.rows(X1)
        self.hessian = None  # the inverse Hessian of the group's first fit: later fits' preconditioner

    def rows(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(column index of each row's category indicators, raw numbers) of encoded rows."""
        codes = X[:, self.cat]
        codes = np.where(np.isnan(codes), self.sizes - 1, codes).astype(np.int64) + self.offsets
        return codes, X[:, self.num]

    def _design(self, part, stats):
        """The rows' model matrix (intercept, category indicators, standardised numbers and
        missing flags) as a sparse matrix: each row holds one indicator per category column."""
        from scipy.sparse import csr_matrix

        codes, raw = part
        n = len(raw)
        cols = [np.zeros((n, 1), dtype=np.int64), codes + 1]
        values = [np.ones((n, 1 + codes.shape[1]))]
        if raw.shape[1]:
            fill, mean, scale = stats
            miss = np.isnan(raw)
            values.append((np.hstack([np.where(miss, fill, raw), miss]) - mean) / scale)
            cols.append(np.broadcast_to(np.arange(1 + self.n_cat, self.p), (n, self.p - 1 - self.n_cat)))
        cols, values = np.hstack(cols), np.hstack(values)
        k = cols.shape[1]
        return csr_matrix((values.ravel(), cols.ravel(), np.arange(0, n * k + 1, k)), shape=(n, self.p))

    def _stats(self, raw: np.ndarray, weights: np.ndarray):
        """The imputer's means and the scaler's mean and scale, from weighted training rows."""
        if not raw.shape[1]:
            return None
        miss = np.isnan(raw)
        seen = weights @ ~miss
        fill = np.where(seen > 0, (weights @ np.where(miss, 0.0, raw)) / np.where(seen > 0, seen, 1.0), 0.0)
        block = np.hstack([np.where(miss, fill, raw), miss])
        total = weights.sum()
        mean = (weights @ block) / total
        var = (weights @ (block - mean) ** 2) / total
        eps = np.finfo(np.float64).eps
        constant = var <= total * eps * var + (total * mean * eps) ** 2
        scale = np.sqrt(var)
        scale[constant | (scale < 10 * eps)] = 1.0
        return fill, mean, scale

    def _objective(self, D, y, w, theta) -> tuple[float, np.ndarray]:
        """(penalised weighted log-loss, linear predictor) at theta."""
        eta = D @ theta
        return 0.5 * self.penalty @ (theta * theta) + w @ (np.logaddexp(0.0, eta) - y * eta), eta

    def _step(self, D, y, w, theta, step, value):
        """theta - step, halved until the objective does not rise: (theta, value, its linear
        predictor, the most any coefficient moved)."""
        scale = 1.0
        while True:
            new = theta - scale * step
            new_value, eta = self._objective(D, y, w, new)
            if new_value <= value + 1e-12 * abs(value) or scale < 1e-6:
                return new, new_value, eta, scale * np.max(np.abs(step))
            scale /= 2

    def _newton(self, D, y, w, theta):
        pen, dense = self.penalty, D.toarray()
        value, eta = self._objective(D, y, w, theta)
        for _ in range(self.MAX_NEWTON):
            p = _expit(eta)
            grad = pen * theta + D.T @ (w * (p - y))
            H = (dense * (w * p * (1.0 - p))[:, None]).T @ dense
            H[np.diag_indices_from(H)] += pen
            theta, value, eta, moved = self._step(D, y, w, theta, np.linalg.solve(H, grad), value)
            if moved < self.TOL:
                break
        self.hessian = np.linalg.inv(H)
        return theta

    def _inexact_newton(self, D, y, w, theta):
        """Newton's method with each step solved by conjugate gradients preconditioned with the
        group's Hessian (a Hessian-vector product costs two passes over the rows where the
        Hessian costs one per coefficient); None if that does not converge."""
        pen, DT = self.penalty, D.T.tocsr()
        value, eta = self._objective(D, y, w, theta)
        for _ in range(self.MAX_INEXACT):
            p = _expit(eta)
            grad = pen * theta + DT @ (w * (p - y))
            curv = w * p * (1.0 - p)
            step = _pcg(lambda v: pen * v + DT @ (curv * (D @ v)), grad, self.hessian, rtol=1e-2)
            if step is None:
                return None
            theta, value, eta, moved = self._step(D, y, w, theta, step, value)
            if moved < self.TOL:
                return theta
        return None

    def fit(self, part, y: np.ndarray, weights: Optional[np.ndarray] = None, start=None):
        """(coefficients, the numbers' statistics) of one fit on training rows `part`; None
        for a training set with one outcome class, whose model predicts that class."""
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
        keep = w > 0
        part, y, w = (part[0][keep], part[1][keep]), y[keep], w[keep]
        if np.unique(y).size < 2:
            return None
        stats = self._stats(part[1], w)
        D = self._design(part, stats)
        theta = None
        if start is not None and self.hessian is not None:
            theta = self._inexact_newton(D, y, w, start.copy())
        if theta is None:
            theta = self._newton(D, y, w, np.zeros(self.p) if start is None else start.copy())
        return theta, stats

    def effects(self, fitted) -> np.ndarray:
        """f(x1, z, w) - f(x0, z, w) per holdout x0 row for one fit (0 for a one-class one)."""
        if fitted is None:
            return np.zeros(len(self.eval0[1]))
        theta, stats = fitted
        return _expit(self._design(self.eval1, stats) @ theta) - _expit(self._design(self.eval0, stats) @ theta)


def _pcg(matvec, b, inverse, rtol: float, max_iter: int = 100):
    """x with matvec(x) = b to a relative residual `rtol`, by conjugate gradients preconditioned
    with `inverse` (an approximate inverse of the matrix); None if that does not converge."""
    x = np.zeros_like(b)
    r = b.copy()
    z = inverse @ r
    d, rz = z.copy(), r @ z
    stop = rtol * np.sqrt(b @ b)
    for _ in range(max_iter):
        if np.sqrt(r @ r) <= stop:
            return x
        q = matvec(d)
        dq = d @ q
        if not dq > 0:
            return None
        a = rz / dq
        x += a * d
        r -= a * q
        z = inverse @ r
        rz, old = r @ z, rz
        d = z + (rz / old) * d
    return None


def _expit(v):
    from scipy.special import expit

    return expit(v)


def _group_counts(df: pd.DataFrame, x: str, v0, v1) -> tuple[int, int]:
    return int(group_mask(df[x], v0).sum()), int(group_mask(df[x], v1).sum())


def _effect(enc, X, y, X0, X1, seed: int, classifier=None) -> np.ndarray:
    """f(x1, z, w) - f(x0, z, w) per holdout x0 row, for the model fitted on (X, y)."""
    p = _fit_predict(enc, X, y, np.vstack([X0, X1]), seed, classifier)
    return p[len(X0):] - p[:len(X0)]


def _row_effects(enc, X, y, seed: int, X0: np.ndarray, X1: np.ndarray, repeats: int,
                 classifier=None, eng=None) -> list[np.ndarray]:
    """Effects of the model fitted on all training rows (first) and on `repeats` seeded
    resamples of them: another draw of training data, which a new classifier seed alone is
    not (the logistic model and HistGradientBoosting below 10,000 rows ignore their seed).
    The resamples are tasks of the engine `eng` (_fit_task), each handed the random state
    its resamples start from, so they are the draws of one pass whatever runs them."""
    fits, part, full = None, None, None
    if isinstance(classifier, _FairFits):  # the default model: each resample as weights, started from the full fit
        fits, part = classifier, classifier.rows(X)
        fits.hessian = None
        full = fits.fit(part, y)
        first = fits.effects(full)
    else:
        first = _effect(enc, X, y, X0, X1, seed, classifier)
    rng, items = np.random.default_rng(seed), []
    for k0 in range(1, repeats + 1, FITS_PER_TASK):
        k1 = min(k0 + FITS_PER_TASK, repeats + 1)
        items.append((k0, k1, rng.bit_generator.state))
        for _ in range(k0, k1):
            rng.integers(0, len(y), len(y))
    shared = _Fits(enc, X, y, X0, X1, seed, classifier, part, None if full is None else full[0],
                   None if fits is None else fits.hessian)
    return [first] + [e for task in (eng or engine.current()).map(_fit_task, items, shared) for e in task]


@dataclass(frozen=True)
class _Fits:
    """What every engine task of one table's fair-predictor models reads: its encoded rows and
    labels, the holdout's x0 rows (as x0 and as x1), the model (a _FairFits, or a
    `classifier(seed)` factory), and for the default model its encoded rows, the first fit's
    coefficients every later fit starts from and that fit's inverse Hessian (the
    preconditioner); for synthetic sets, the seeded order of the rows and each set's size."""

    enc: "FeatureEncoder"
    X: np.ndarray
    y: np.ndarray
    X0: np.ndarray
    X1: np.ndarray
    seed: int
    model: object
    part: Optional[tuple] = None
    start: Optional[np.ndarray] = None
    hessian: Optional[np.ndarray] = None
    order: Optional[np.ndarray] = None
    size: int = 0


def _fit_task(shared: _Fits, item) -> list[np.ndarray]:
    """Effects of one engine task's models, fits k0..k1-1 of a table: synthetic set k (state
    None), or the k-th resample of the real rows, drawn from `state` on. A pure function of
    (shared, item): each default-model fit starts from the table's first fit with its
    preconditioner, never from what ran before it, so tasks run anywhere in any order."""
    f, (k0, k1, state) = shared, item
    rng = None
    if state is not None:
        bits = np.random.PCG64()
        bits.state = state
        rng = np.random.Generator(bits)
    fits = copy.copy(f.model) if isinstance(f.model, _FairFits) else None
    out = []
    for k in range(k0, k1):
        take = f.order[k * f.size:(k + 1) * f.size] if rng is None else rng.integers(0, len(f.y), len(f.y))
        if fits is None:
            out.append(_effect(f.enc, f.X[take], f.y[take], f.X0, f.X1, f.seed + k, f.model))
            continue
        fits.hessian = f.hessian
        if rng is None:
            fitted = fits.fit((f.part[0][take], f.part[1][take]), f.y[take], start=f.start)
        else:
            fitted = fits.fit(f.part, f.y, np.bincount(take, minlength=len(f.y)), start=f.start)
        out.append(fits.effects(fitted))
    return out


def synthetic_sets(n_train: int) -> int:
    """How many synthetic sets of the real training size a fitted generator draws for the fair
    predictor. The synthetic side is a simulation: its Monte Carlo error is the spread of one
    set's model over sqrt(sets), so 100 sets make it a tenth of the real model's own spread
    (same size, same classifier). At 16 sets it was a quarter, and on the demo (seed 0) one
    unlucky draw moved the DE-removed model's effect from about -0.005 to -0.014. Capped at
    PREDICTOR_ROWS rows for large cohorts, never below FEW_DRAWS sets."""
    n_train = max(int(n_train), 1)
    return max(FEW_DRAWS, min(DRAWS, PREDICTOR_ROWS // n_train))


def _synthetic_sets(enc, X, y, n: int, X0, X1, seed: int, draws: int, repeats: int, classifier=None, eng=None):
    """("sets", (k, rows) effects) of models trained on k disjoint sets of n synthetic rows, or
    ("refits", effects) for a table with fewer than MIN_DRAWS such sets.

    The synthetic table is a draw from the fitted generator, so disjoint sets of it are
    independent draws: each model is trained on as many rows as the real one (same classifier,
    same size, only the law differs; a tree model's effect depends on its training size), their
    mean is the generator's expected effect and resampling the sets gives its spread exactly,
    with no refits on duplicated rows. A seeded shuffle first, in case the rows come sorted.
    The sets are tasks of the engine `eng` (_fit_task), but for the default model's first
    fitted set, fitted here: the others start from it."""
    k = min(int(draws), len(y) // max(n, 1))
    if k < MIN_DRAWS:
        return "refits", _row_effects(enc, X, y, seed, X0, X1, repeats, classifier, eng)
    order = np.random.default_rng([seed, 7]).permutation(len(y))[: k * n]
    fits, part, head, start = None, None, [], None
    if isinstance(classifier, _FairFits):  # the default model: the sets after the first fitted one start from it
        fits, part = classifier, classifier.rows(X)
        fits.hessian = None
        while len(head) < k and start is None:
            take = order[len(head) * n:(len(head) + 1) * n]
            fitted = fits.fit((part[0][take], part[1][take]), y[take])
            start = None if fitted is None else fitted[0]
            head.append(fits.effects(fitted))
    shared = _Fits(enc, X, y, X0, X1, seed, classifier, part, start, None if fits is None else fits.hessian, order, n)
    items = [(k0, min(k0 + FITS_PER_TASK, k), None) for k0 in range(len(head), k, FITS_PER_TASK)]
    return "sets", np.vstack(head + [e for task in (eng or engine.current()).map(_fit_task, items, shared) for e in task])


def _unit_draws(units: np.ndarray, idx: np.ndarray, rng) -> np.ndarray:
    """Bootstrap draws of the mean effect over independent fits (the synthetic sets): the
    fits resampled with replacement, the holdout rows resampled by `idx`."""
    u = len(units)
    if u == 1:
        return units[0][idx].mean(axis=1)
    weights = np.apply_along_axis(np.bincount, 1, rng.integers(0, u, (len(idx), u)), minlength=u) / u
    return np.take_along_axis(weights @ units, idx, axis=1).mean(axis=1)


def _refit_draws(effects: list[np.ndarray], fit: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Bootstrap draws of the mean effect: resampled holdout rows under the full fit, plus one
    refit's deviation from the mean of the refits on the same rows. Refits on resampled rows
    (with duplicates) overfit and move the effect away from the full fit's (measured: +0.03 on
    a 0.41 effect), so only their spread is used, centred on the full fit."""
    full, refits = effects[0], np.array(effects[1:])
    k = len(refits)  # centring on the refits' own mean removes one degree of freedom: put it back
    shifted = full + (refits - refits.mean(axis=0)) * (np.sqrt(k / (k - 1)) if k > 1 else 0.0)
    return np.array([shifted[f][i].mean() for f, i in zip(fit, idx)])


def _interval(draws: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return float(lo), float(hi)


def _reduction(real_de, real_ci, synth_de, real_draws, synth_draws) -> dict:
    """1 - |DE_synth| / |DE_real| with its paired bootstrap interval; None when the real-trained
    model's interval contains 0, since a ratio to a maybe-zero effect can be any size. Beside
    it, on the same draws, the differences, defined whatever the real effect: real - synthetic,
    and |real| - |synthetic| (points of direct effect removed; its sign is the reduction's).

    The two measures through |.| are the medians of their draws, from the same computation as
    their intervals: |.| of a noisy effect near 0 is biased away from 0, so the plug-in value
    could lie outside its own interval (a sweep showed "92% [55%, 80%]")."""
    mags = np.abs(real_draws) - np.abs(synth_draws)
    out = dict(de_difference=real_de - synth_de, magnitude_reduction=float(np.median(mags)))
    out["de_difference_ci_low"], out["de_difference_ci_high"] = _interval(real_draws - synth_draws)
    out["magnitude_reduction_ci_low"], out["magnitude_reduction_ci_high"] = _interval(mags)
    if real_ci[0] <= 0.0 <= real_ci[1]:
        return dict(out, reduction=None, reduction_ci_low=None, reduction_ci_high=None)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = 1.0 - np.abs(synth_draws) / np.abs(real_draws)
    lo, hi = _interval(ratios)
    return dict(out, reduction=float(np.median(ratios)), reduction_ci_low=lo, reduction_ci_high=hi)


def fair_predictor(real_train, synth, real_test, roles, schema, seed=0, *, control=None, exclude=(),
                   repeats: int = FIT_REPEATS, n_boot: int = BOOTSTRAP, draws: int = DRAWS,
                   classifier=None) -> dict:
    """Exact direct effect of a classifier trained on real rows and of one trained on synthetic
    rows (and on a mirror-mode `control` table if given), on the real holdout's x0 rows.

    The predictor f is known, so its direct effect needs no nuisance models: the mean over
    holdout rows with X = x0 of f(x1, z, w) - f(x0, z, w), X flipped in the feature row and
    every other feature kept. Features are all model columns but Y and `exclude` (the caller
    leaves out columns recorded after the outcome).

    Uncertainty, and why: the claim is about training on data like the real rows versus on the
    generator's rows, so the real model's effect carries how it would move with another real
    sample of the same size (`repeats` refits on resampled real rows; holding the real rows
    fixed read that model's own training noise as signal: mirror runs then "differed" from
    real by -97% to +39%). The synthetic model is trained on `draws` disjoint sets of as many
    synthetic rows as the real model saw (same classifier, same size, only the law differs):
    a large synthetic table (it is free) then gives the generator's expected effect, and
    resampling those independent sets gives its spread without refits on duplicated rows. One
    resample of holdout rows is shared by every table in each bootstrap draw (paired), so the
    difference and the reduction 1 - |DE_synth| / |DE_real| get intervals from the same draws;
    the reduction is None when the real-trained interval contains 0. A synthetic table with
    fewer than MIN_DRAWS sets is fitted whole and spread like the real one. Refitting the
    generator per resample is out of reach for the language model; leaving it fixed ignores
    that a mirror generator follows its real rows, which only widens the mirror interval.
    `classifier(seed)` may give another scikit-learn classifier (default: `fair_classifier`).
    """
    target = roles.y
    kinds = model_kinds(schema)
    for role, col in [("x", roles.x), ("y", target)] + [("z", c) for c in roles.z] + [("w", c) for c in roles.w]:
        if col not in kinds:
            raise InputError(f"{role} column '{col}' is not a model column of the schema")
    exclude = (exclude,) if isinstance(exclude, str) else tuple(exclude)
    for col in exclude:  # an identifier is no feature anyway; a name in no table is a typo
        if col not in kinds and col not in getattr(real_train, "columns", ()):
            raise InputError(f"excluded column '{col}' is not a column of the real table")
    if roles.x in exclude or target in exclude:
        raise InputError(f"the sensitive attribute '{roles.x}' and the outcome '{target}' cannot be excluded")
    for name, v, low in (("repeats", repeats, 2), ("n_boot", n_boot, 20), ("draws", draws, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise InputError(f"{name} must be a whole number >= {low}, got {v!r}")
    tables = {"real": real_train, "synthetic": synth}
    if control is not None:
        tables["control"] = control
    schema_used = {c: k for c, k in kinds.items() if c not in exclude}
    check_frame(real_test, "real test", schema_used)
    v0 = resolve_value(real_test[roles.x], roles.x0, role="x0")
    v1 = resolve_value(real_test[roles.x], roles.x1, role="x1")
    if str(v0) == str(v1):
        raise InputError(f"x0 and x1 are the same group ('{v0}') of '{roles.x}'; choose two different groups")
    subsample = None
    if len(real_train) > predictor_train_rows(len(real_train)):  # a stated subsample (FAIR_TRAIN_ROWS)
        subsample = (predictor_train_rows(len(real_train)), len(real_train))
        keep = np.sort(np.random.default_rng([seed, 5]).choice(len(real_train), subsample[0], replace=False))
        real_train = real_train.iloc[keep].reset_index(drop=True)
    enc, data, notes = _setup(real_train, synth, real_test, target, schema_used, roles.threshold, roles.positive,
                              control=control)
    if subsample:
        notes.append(f"the real-trained model sees a seeded {subsample[0]:,} of the {subsample[1]:,} real training "
                     "rows, and each synthetic set is that size")
    rows0 = real_test.loc[group_mask(real_test[roles.x], v0)]
    n0 = n0_of = len(rows0)
    if n0 == 0:
        raise InputError(f"the real test rows have no '{roles.x}' = {v0!r} (x0) rows to measure the effect on")
    if n0 > FAIR_TEST_ROWS:  # a stated sample (FAIR_TEST_ROWS)
        rows0 = seeded_rows(rows0, FAIR_TEST_ROWS, np.random.default_rng([seed, 6]))
        n0 = len(rows0)
        notes.append(f"the effects average over a seeded {n0:,} of the {n0_of:,} real test rows with "
                     f"{roles.x} = {v0}")
    X0 = enc.transform(rows0, "real test")
    X1 = enc.transform(rows0.assign(**{roles.x: [v1] * n0}), "real test")
    if n0 < SMALL_GROUP:
        notes.append(f"only {n0} real test rows have {roles.x} = {v0}: the interval is wide")
    repeats, n_boot = int(repeats), int(n_boot)
    n_train = int((~np.isnan(data["train"][1])).sum())
    idx = np.random.default_rng(seed).integers(0, n0, (n_boot, n0))  # shared by every table: paired
    fit = np.arange(n_boot) % repeats  # each resample of holdout rows meets one refit
    de, draws_of, sets, mc_se, training_sd = {}, {}, {}, {}, None
    eng = engine.current()  # the tables' fits are its tasks (local, or Ray); the threads below do not inherit it

    def fits_of(name):
        """(kind, units) of one table's models. The default model is fair_classifier's, fitted
        by a _FairFits of the table's own (it keeps the table's preconditioner); it has no seed."""
        X, y = _labelled(*data[_TABLES[name][0]])
        model = _FairFits(enc, enc.categorical_mask, X0, X1) if classifier is None else classifier
        if name == "real":
            return "refits", _row_effects(enc, X, y, seed, X0, X1, repeats, model, eng)
        return _synthetic_sets(enc, X, y, n_train, X0, X1, seed, draws, repeats, model, eng)

    with threadpool_limits(1):  # many small fits: one BLAS thread each (see _fit_predict)
        if classifier is None and FIT_THREADS > 1 and len(tables) > 1:
            # the tables' fits are independent and the sparse products release the GIL: the
            # real refits on one core, the synthetic (and control) sets on the other
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(FIT_THREADS, len(tables)), thread_name_prefix="fair-fits") as workers:
                fitted = dict(zip(tables, workers.map(fits_of, list(tables))))
        else:
            fitted = {name: fits_of(name) for name in tables}
    for t, (name, df) in enumerate(tables.items()):
        key, which = _TABLES[name]
        X, y = _labelled(*data[key])
        if np.unique(y).size < 2:
            notes.append(f"the {which} outcome has one class: that model predicts a constant, so its effect is 0")
        kind, units = fitted[name]
        if name == "real":
            training_sd = float(np.std([e.mean() for e in units[1:]], ddof=1))
        if kind == "refits":
            de[name] = float(units[0].mean())
            draws_of[name] = _refit_draws(units, fit, idx)
            sets[name] = 0
            if name != "real":
                notes.append(f"the {which} table has {len(y):,} rows, fewer than {MIN_DRAWS} sets of the real "
                             f"training size ({n_train:,}): its model is trained on all of them and its spread "
                             f"estimated from {repeats} refits on resampled rows")
        else:
            de[name] = float(units.mean())
            draws_of[name] = _unit_draws(units, idx, np.random.default_rng([seed, t]))
            sets[name] = len(units)
            # the Monte Carlo error of that mean: sd of one set's effect over sqrt(sets)
            mc_se[name] = float(np.std(units.mean(axis=1), ddof=1) / np.sqrt(len(units)))
        per_set = n_train / max(len(y), 1) if kind == "sets" else 1.0
        c0, c1 = (round(c * per_set) for c in _group_counts(df, roles.x, v0, v1))
        if min(c0, c1) < SMALL_GROUP:
            per = " in each training set" if kind == "sets" else ""
            notes.append(f"the {which} rows have {c0} with {roles.x} = {v0} and {c1} with {roles.x} = {v1}{per}: "
                         f"that model learns little about the smaller group")
    ci = {k: _interval(v) for k, v in draws_of.items()}
    out = dict(method="exact", n_test=int(len(real_test)), n_x0=n0, n_x0_of=n0_of, repeats=repeats, n_boot=n_boot,
               features=[c for c in enc.columns], excluded=list(exclude), train_rows=n_train,
               synthetic_sets=sets["synthetic"],
               real_trained_de=de["real"], real_trained_de_ci_low=ci["real"][0],
               real_trained_de_ci_high=ci["real"][1], real_trained_de_training_sd=training_sd,
               synthetic_trained_de=de["synthetic"], synthetic_trained_de_ci_low=ci["synthetic"][0],
               synthetic_trained_de_ci_high=ci["synthetic"][1], synthetic_trained_de_mc_se=mc_se.get("synthetic"),
               **_reduction(de["real"], ci["real"], de["synthetic"], draws_of["real"], draws_of["synthetic"]))
    out["ctf_de_real_model"], out["ctf_de_synth_model"] = de["real"], de["synthetic"]  # names older readers use
    if out["reduction"] is None:
        notes.append("the real-trained model's direct effect has an interval containing 0, so there is no "
                     "effect to reduce: the reduction is undefined")
    if control is None:
        out["control"] = None
        notes.append("no control: compare with the same generator run in mirror mode (nothing removed), "
                     "whose reduction interval should contain 0")
    else:
        out["control"] = dict(synthetic_trained_de=de["control"], synthetic_trained_de_ci_low=ci["control"][0],
                              synthetic_trained_de_ci_high=ci["control"][1], synthetic_sets=sets["control"],
                              synthetic_trained_de_mc_se=mc_se.get("control"),
                              **_reduction(de["real"], ci["real"], de["control"], draws_of["real"], draws_of["control"]))
    out["notes"] = notes
    return out
