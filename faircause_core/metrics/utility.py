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
- fair_predictor (method.md section 4): the predictions of both models on the real test
  rows are decomposed as a continuous outcome with fairness.decompose; bias reduction =
  1 - |Ctf-DE(synthetic-trained)| / |Ctf-DE(real-trained)|.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from faircause_core.errors import InputError
from faircause_core.metrics.frames import NUMERIC_KINDS, canonical, check_frame, model_kinds, numbers
from faircause_core.causal.question import Outcome

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
                seen.update(v for v in canonical(df[col]) if not pd.isna(v))
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


def _fit_predict(encoder, X_train, y_train, X_test, seed: int) -> np.ndarray:
    """P(y = 1) on X_test from the one seeded classifier; a one-class training set predicts it."""
    classes = np.unique(y_train)
    if classes.size == 1:
        return np.full(len(X_test), float(classes[0]))
    mask = encoder.categorical_mask
    model = HistGradientBoostingClassifier(
        random_state=seed, categorical_features=mask if mask.any() else None
    )
    with threadpool_limits(1):
        model.fit(X_train, y_train)
        return model.predict_proba(X_test)[:, list(model.classes_).index(1.0)]


# ----------------------------------------------------------------------------- outcome
def _outcomes(target: str, real_frames, synth: pd.DataFrame, threshold, positive, notes: list):
    """0/1/NaN labels for each real frame and the synthetic one, with one shared meaning:
    question.Outcome resolved on the real rows, applied to both."""
    real = pd.concat([f[target] for f in real_frames], ignore_index=True)
    synth_s = synth[target].reset_index(drop=True)
    coding = Outcome.resolve(real, threshold=threshold, positive=positive)
    real_y, synth_y = coding.code(real), coding.code(synth_s)
    unknown = coding.unknown(synth_s)
    if unknown:
        notes.append(f"{unknown} synthetic rows have an outcome value not seen in the real data; dropped")
    parts, start = [], 0
    for f in real_frames:
        parts.append(real_y[start:start + len(f)])
        start += len(f)
    return parts, synth_y


# ----------------------------------------------------------------------------- TSTR
def _setup(real_train, synth, real_test, target, schema, threshold, positive):
    """Shared checks, feature encoding and labels for both utility metrics."""
    kinds = model_kinds(schema)
    if target not in kinds:
        raise InputError(f"outcome column '{target}' is not a model column of the schema")
    for df, which in ((real_train, "real training"), (synth, "synthetic"), (real_test, "real test")):
        check_frame(df, which, kinds)
    features = [c for c in kinds if c != target]
    if not features:
        raise InputError(f"no feature columns besides the outcome '{target}'")
    notes: list[str] = []
    (y_tr, y_te), y_syn = _outcomes(target, [real_train, real_test], synth, threshold, positive, notes)
    for y, which in ((y_tr, "real training"), (y_te, "real test")):
        if np.unique(y[~np.isnan(y)]).size < 2:
            raise InputError(f"{which} rows have only one class of outcome '{target}'; AUROC needs both")
    if np.isnan(y_syn).all():
        raise InputError(f"synthetic table has no rows with a known outcome '{target}'")
    enc = FeatureEncoder(kinds, features).fit(real_train, synth, real_test)
    data = {
        "train": (enc.transform(real_train, "real training"), y_tr),
        "synth": (enc.transform(synth, "synthetic"), y_syn),
        "test": (enc.transform(real_test, "real test"), y_te),
    }
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
def fair_predictor(real_train, synth, real_test, roles, schema, seed=0) -> dict:
    """Ctf-DE of the predictions of a real-trained and a synthetic-trained model (method.md 4)."""
    from faircause_core.causal.fairness import decompose

    target = roles.y
    kinds = model_kinds(schema)
    for role, col in [("x", roles.x), ("y", target)] + [("z", c) for c in roles.z] + [("w", c) for c in roles.w]:
        if col not in kinds:
            raise InputError(f"{role} column '{col}' is not a model column of the schema")
    enc, data, notes = _setup(real_train, synth, real_test, target, schema, roles.threshold, roles.positive)
    X_te = data["test"][0]
    out = dict(n_test=int(len(X_te)), notes=notes)
    for key, part in (("real", "train"), ("synth", "synth")):
        X, y = _labelled(*data[part])
        if np.unique(y).size < 2:
            notes.append(f"{'synthetic' if key == 'synth' else 'real'} outcome has one class: "
                         "the model predicts a constant, which has no effects")
        frame = real_test.loc[:, [roles.x, *roles.z, *roles.w]].copy()
        frame[target] = _fit_predict(enc, X, y, X_te, seed)
        with threadpool_limits(1):
            dec = decompose(frame, roles.x, roles.x0, roles.x1, target, tuple(roles.z), tuple(roles.w),
                            seed=seed, continuous_outcome=True)
        table = dec.to_frame()
        out[f"ctf_de_{key}_model"] = float(table.loc["ctf_de", "estimate"])
        out[f"ctf_de_{key}_model_se"] = float(table.loc["ctf_de", "se"])
        out[f"tv_{key}_model"] = float(table.loc["tv", "estimate"])
        notes.extend(f"{key} model: {w}" for w in dec.warnings)
    de_real, de_synth = abs(out["ctf_de_real_model"]), abs(out["ctf_de_synth_model"])
    if de_real == 0:
        out["reduction"] = float("nan")
        notes.append("the real-trained model has no direct effect, so there is nothing to reduce")
    else:
        out["reduction"] = 1.0 - de_synth / de_real
        if de_real < 1.96 * out["ctf_de_real_model_se"]:
            notes.append("the real-trained model's Ctf-DE is within noise of 0: the reduction is noisy")
    return out
