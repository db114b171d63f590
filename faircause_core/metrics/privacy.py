"""Privacy: do synthetic rows copy or sit unusually close to the real training rows?

What was chosen and why: distance to closest record (DCR), the usual first privacy check
for tabular synthetic data (e.g. SDMetrics' DCR baseline protection), compared with a
baseline: the same distance for real HOLDOUT rows that the generator never saw. Synthetic
rows that are much closer to the training rows than fresh real rows are (ratio well below
1) suggest memorisation; a ratio near or above 1 is what an honest generator gives.

- Encoding (Gower-like, so every column counts about the same): a number is scaled to
  [0, 1] by the real training range, with a 0/1 missing indicator (a missing value sits at
  the real median, so missing against a number costs 1 plus its distance to the median);
  a discrete column is one-hot (missing is its own category) with weight 1/2 per
  coordinate, so a mismatch costs exactly 1. The distance is the L1 (Manhattan) distance
  divided by the number of columns: the mean per-column mismatch, in [0, ~1].
- Nearest neighbours: sklearn.neighbors.NearestNeighbors (exact, L1), from each synthetic
  row and each holdout row to the real training rows. Each frame is subsampled to max_rows
  (seeded) first, since the search is what costs time.
- Exact copies are counted on ALL rows on the raw values (NaN equals NaN, 1 equals 1.0,
  the number 1 differs from the text "1"), by hashing rows (pandas.util.hash_pandas_object).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from faircause_core.errors import InputError
from faircause_core.metrics.fidelity import NUMERIC_KINDS, _canonical, _check_frame, _kinds, _numeric

ONE_HOT_WEIGHT = 0.5  # two coordinates differ on a category mismatch: 2 * 0.5 = 1


def _row_hashes(df: pd.DataFrame, kinds: dict, which: str) -> np.ndarray:
    """One 64-bit hash per row of the raw values, types kept apart ("1" is not 1)."""
    cols = {}
    for col, kind in kinds.items():
        if kind in NUMERIC_KINDS:
            cols[col] = _numeric(df[col], which)
            continue
        vals = _canonical(df[col])
        if vals.dtype != object:
            cols[col] = vals
        else:
            cols[col] = [("n" if isinstance(v, float) else "s") + ("NA" if pd.isna(v) else str(v)) for v in vals]
    return pd.util.hash_pandas_object(pd.DataFrame(cols), index=False).to_numpy()


class _RowEncoder:
    """Numbers scaled by the real range (+ missing flag); categories one-hot at weight 1/2."""

    def __init__(self, kinds: dict):
        self.kinds = kinds

    def fit(self, real: pd.DataFrame, *others: pd.DataFrame) -> "_RowEncoder":
        self.numeric_, self.categories_ = {}, {}
        for col, kind in self.kinds.items():
            if kind in NUMERIC_KINDS:
                v = _numeric(real[col], "real training")
                seen = v[~np.isnan(v)]
                lo, hi = (seen.min(), seen.max()) if seen.size else (0.0, 1.0)
                span = hi - lo if hi > lo else 1.0
                centre = (np.median(seen) - lo) / span if seen.size else 0.0
                self.numeric_[col] = (lo, span, centre)
            else:
                allv = pd.Series(np.concatenate([_canonical(f[col]).astype(object) for f in (real, *others)]))
                self.categories_[col] = pd.Index(pd.unique(allv.dropna()), dtype=object)
        return self

    def transform(self, df: pd.DataFrame, which: str) -> np.ndarray:
        blocks = []
        for col in self.kinds:
            if col in self.numeric_:
                lo, span, centre = self.numeric_[col]
                v = _numeric(df[col], which)
                miss = np.isnan(v)
                blocks.append(np.where(miss, centre, (v - lo) / span)[:, None])
                blocks.append(miss.astype(float)[:, None])
            else:
                cats = self.categories_[col]
                codes = cats.get_indexer(pd.Index(_canonical(df[col]), dtype=object))
                codes = np.where(codes < 0, len(cats), codes)  # missing: its own column
                onehot = np.zeros((len(df), len(cats) + 1))
                onehot[np.arange(len(df)), codes] = ONE_HOT_WEIGHT
                blocks.append(onehot)
        return np.hstack(blocks)


def _subsample(df: pd.DataFrame, max_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(df) <= max_rows:
        return df
    return df.iloc[np.sort(rng.choice(len(df), size=max_rows, replace=False))]


def distance_to_closest_record(real_train, synth, real_holdout, schema, seed=0, max_rows=5000) -> dict:
    """Exact-copy shares and DCR of synthetic rows vs the holdout baseline (see module doc)."""
    kinds = _kinds(schema)
    if isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)) or max_rows < 1:
        raise InputError(f"max_rows {max_rows!r} must be a whole number >= 1")
    frames = {"real training": real_train, "synthetic": synth}
    if real_holdout is not None:
        frames["real holdout"] = real_holdout
    for which, df in frames.items():
        _check_frame(df, which, kinds)

    hashes = {which: _row_hashes(df, kinds, which) for which, df in frames.items()}
    train_set = hashes["real training"]
    out = dict(exact_copy_share=float(np.isin(hashes["synthetic"], train_set).mean()))

    rng = np.random.default_rng(seed)
    sub = {which: _subsample(df, int(max_rows), rng) for which, df in frames.items()}
    enc = _RowEncoder(kinds).fit(*frames.values())
    nn = NearestNeighbors(n_neighbors=1, metric="manhattan").fit(enc.transform(sub["real training"], "real training"))
    notes = []

    def dcr(which):
        dist, _ = nn.kneighbors(enc.transform(sub[which], which))
        return dist[:, 0] / len(kinds)

    d_syn = dcr("synthetic")
    out.update(dcr_synth_median=float(np.median(d_syn)), dcr_synth_p5=float(np.percentile(d_syn, 5)),
               n_synth=int(len(d_syn)), n_real_train=int(len(sub["real training"])))
    if real_holdout is None:
        nan = float("nan")
        out.update(holdout_exact_copy_share=nan, dcr_holdout_median=nan, dcr_holdout_p5=nan, ratio=nan, n_holdout=0)
        notes.append("no real holdout rows: no baseline to compare with")
    else:
        d_hold = dcr("real holdout")
        out.update(holdout_exact_copy_share=float(np.isin(hashes["real holdout"], train_set).mean()),
                   dcr_holdout_median=float(np.median(d_hold)), dcr_holdout_p5=float(np.percentile(d_hold, 5)),
                   n_holdout=int(len(d_hold)))
        if out["dcr_holdout_median"] > 0:
            out["ratio"] = out["dcr_synth_median"] / out["dcr_holdout_median"]
        else:
            out["ratio"] = float("nan")
            notes.append("most holdout rows equal a training row (median distance 0): no ratio")
    if any(len(sub[w]) < len(df) for w, df in frames.items()):
        notes.append(f"distances use a seeded sample of {max_rows} rows per table")
    out["notes"] = notes
    return out
