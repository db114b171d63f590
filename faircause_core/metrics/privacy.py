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

Beside it, SDMetrics' privacy metrics, so the numbers match what users get from SDMetrics
and cover part of what Anonymeter measures (Anonymeter itself pins numpy < 1.27 and
pyarrow < 22, so it cannot join this stack):
- DCRBaselineProtection: median DCR of synthetic rows over that of uniformly random rows
  (1 = no closer than random data).
- DCROverfittingProtection: share of synthetic rows closer to the training rows than to
  the holdout rows (score 1 when at most half are).
- DisclosureProtection (CAP): how well an attacker who knows some columns of a person
  (`known`, default every other column) guesses a sensitive column from the synthetic
  rows, against guessing by chance; numbers cut into 10 bins. It measures inferability,
  which a faithful synthetic table shares with the real one: read it beside the holdout.
Their distances are all pairs (a pandas cross join), so each table is first cut to a
seeded sample of `sdmetrics_rows` rows, as SDMetrics' own num_rows_subsample does (1,000:
8-9 s per DCR metric on the flchain training half on a busy 2-core machine, where all
3,937 rows would take minutes). Like SDMetrics' sampling this dilutes copying: a copied
row is found only when its source row was drawn too (a full copy of flchain scored 0.04
baseline and 0.57 overfitting protection on 1,000-row samples), so exact_copy_share (all
rows) and our DCR (up to max_rows rows) are the copy checks. SDMetrics' sampling and its
random baseline table are unseeded; here both use `seed`, so a result can be reproduced.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sdmetrics.single_table import DCRBaselineProtection, DCROverfittingProtection, DisclosureProtection
from sklearn.neighbors import NearestNeighbors

from faircause_core.errors import InputError
from faircause_core.metrics.frames import (
    NUMERIC_KINDS, TABLE, canonical, check_frame, model_kinds, numbers, sdmetrics_columns, sdmetrics_frame,
)

ONE_HOT_WEIGHT = 0.5  # two coordinates differ on a category mismatch: 2 * 0.5 = 1
SDMETRICS_ROWS = 1000


def _row_hashes(df: pd.DataFrame, kinds: dict, which: str) -> np.ndarray:
    """One 64-bit hash per row of the raw values, types kept apart ("1" is not 1)."""
    cols = {}
    for col, kind in kinds.items():
        if kind in NUMERIC_KINDS:
            cols[col] = numbers(df[col], which)
            continue
        vals = canonical(df[col])
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
                v = numbers(real[col], "real training")
                seen = v[~np.isnan(v)]
                lo, hi = (seen.min(), seen.max()) if seen.size else (0.0, 1.0)
                span = hi - lo if hi > lo else 1.0
                centre = (np.median(seen) - lo) / span if seen.size else 0.0
                self.numeric_[col] = (lo, span, centre)
            else:
                allv = pd.Series(np.concatenate([canonical(f[col]).astype(object) for f in (real, *others)]))
                self.categories_[col] = pd.Index(pd.unique(allv.dropna()), dtype=object)
        return self

    def transform(self, df: pd.DataFrame, which: str) -> np.ndarray:
        blocks = []
        for col in self.kinds:
            if col in self.numeric_:
                lo, span, centre = self.numeric_[col]
                v = numbers(df[col], which)
                miss = np.isnan(v)
                blocks.append(np.where(miss, centre, (v - lo) / span)[:, None])
                blocks.append(miss.astype(float)[:, None])
            else:
                cats = self.categories_[col]
                codes = cats.get_indexer(pd.Index(canonical(df[col]), dtype=object))
                codes = np.where(codes < 0, len(cats), codes)  # missing: its own column
                onehot = np.zeros((len(df), len(cats) + 1))
                onehot[np.arange(len(df)), codes] = ONE_HOT_WEIGHT
                blocks.append(onehot)
        return np.hstack(blocks)


def _subsample(df: pd.DataFrame, max_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(df) <= max_rows:
        return df
    return df.iloc[np.sort(rng.choice(len(df), size=max_rows, replace=False))]


def _check_rows(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name} {value!r} must be a whole number >= 1")


def distance_to_closest_record(real_train, synth, real_holdout, schema, seed=0, max_rows=5000,
                               sensitive=None, known=None, sdmetrics_rows=SDMETRICS_ROWS) -> dict:
    """Exact-copy shares and DCR of synthetic rows vs the holdout baseline, and SDMetrics'
    DCR and disclosure protections (see module doc); sensitive=None skips disclosure."""
    kinds = model_kinds(schema)
    _check_rows("max_rows", max_rows)
    _check_rows("sdmetrics_rows", sdmetrics_rows)
    known = _attack_columns(kinds, sensitive, known)
    frames = {"real training": real_train, "synthetic": synth}
    if real_holdout is not None:
        frames["real holdout"] = real_holdout
    for which, df in frames.items():
        check_frame(df, which, kinds)

    hashes = {which: _row_hashes(df, kinds, which) for which, df in frames.items()}
    train_set = hashes["real training"]
    copies = np.isin(hashes["synthetic"], train_set)
    # counts beside the share: one copy in 4,024 rows printed as "0.0%" read as none
    out = dict(exact_copy_share=float(copies.mean()), exact_copies=int(copies.sum()), synthetic_rows=int(copies.size))

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
    out.update(sdmetrics_privacy(frames, kinds, seed, int(sdmetrics_rows), sensitive, known, notes))
    out["notes"] = notes
    return out


# ----------------------------------------------------------------------------- SDMetrics
def _attack_columns(kinds: dict, sensitive, known) -> list[str] | None:
    """The columns a disclosure attacker knows: checked names, default every other column."""
    if sensitive is None:
        return None
    if sensitive not in kinds:
        raise InputError(f"sensitive column '{sensitive}' is not a model column of the schema")
    if known is None:
        return [c for c in kinds if c != sensitive]
    known = [known] if isinstance(known, str) else list(known)
    for col in known:
        if col not in kinds:
            raise InputError(f"known column '{col}' is not a model column of the schema")
    if sensitive in known:
        raise InputError(f"sensitive column '{sensitive}' cannot also be a known column")
    if not known:
        raise InputError("a disclosure attack needs at least one known column")
    return known


@contextmanager
def _numpy_global_seed(seed: int):
    """SDMetrics draws the random baseline's missing cells from numpy's global generator: seed
    it for the call and give the caller its state back."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _score(value) -> float:
    return float(value) if value is not None else float("nan")


def sdmetrics_privacy(frames: dict, kinds: dict, seed: int, rows: int, sensitive, known, notes: list) -> dict:
    """SDMetrics' DCRBaselineProtection, DCROverfittingProtection and DisclosureProtection on
    seeded samples of `rows` rows per table (frames: {"real training", "synthetic", ["real holdout"]})."""
    rng = np.random.default_rng([seed, 1])
    sub = {which: sdmetrics_frame(_subsample(df, rows, rng), kinds, which) for which, df in frames.items()}
    train, synth, hold = sub["real training"], sub["synthetic"], sub.get("real holdout")
    metadata = {"tables": {TABLE: {"columns": sdmetrics_columns(kinds)}}}
    nan = float("nan")
    out = dict(sdmetrics_rows=max(len(t) for t in sub.values()))
    if any(len(sub[w]) < len(df) for w, df in frames.items()):
        notes.append(f"SDMetrics privacy metrics use a seeded sample of {rows} rows per table")

    seeded = type("DCRBaselineProtection", (DCRBaselineProtection,), {"_seed": seed})
    with warnings.catch_warnings(), _numpy_global_seed(seed):
        warnings.simplefilter("ignore")
        base = seeded.compute_breakdown(train, synth, metadata, TABLE)
    out.update(dcr_baseline_protection=_score(base["score"]),
               dcr_baseline_synth_median=_score(base["median_DCR_to_real_data"]["synthetic_data"]),
               dcr_baseline_random_median=_score(base["median_DCR_to_real_data"]["random_data_baseline"]))

    if hold is None:
        out.update(dcr_overfitting_protection=nan, closer_to_training_share=nan)
    else:
        with warnings.catch_warnings():  # SDMetrics warns when the holdout is under half the training rows
            warnings.simplefilter("ignore")
            over = DCROverfittingProtection.compute_breakdown(train, synth, hold, metadata, TABLE)
        out.update(dcr_overfitting_protection=_score(over["score"]),
                   closer_to_training_share=_score(over["synthetic_data_percentages"]["closer_to_training"]))

    out.update(disclosure_protection=nan, disclosure_cap_protection=nan, disclosure_baseline_protection=nan,
               disclosure_sensitive=sensitive, disclosure_known=list(known) if known else [])
    if sensitive is None:
        notes.append("no sensitive column given: no disclosure protection")
        return out
    numeric = [c for c in known if kinds[c] in NUMERIC_KINDS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dis = DisclosureProtection.compute_breakdown(train, synth, known, [sensitive],
                                                     continuous_column_names=numeric or None)
    out.update(disclosure_protection=_score(dis["score"]), disclosure_cap_protection=_score(dis["cap_protection"]),
               disclosure_baseline_protection=_score(dis["baseline_protection"]))
    if np.isnan(out["disclosure_cap_protection"]):
        notes.append("no real row's known values occur in the synthetic rows: the disclosure attack "
                     "has nothing to match (SDMetrics gives no score)")
    elif np.isnan(out["disclosure_protection"]):
        notes.append(f"sensitive column '{sensitive}' has one value in the real rows: no disclosure baseline")
    return out
