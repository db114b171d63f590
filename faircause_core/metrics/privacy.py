"""Privacy: is a synthetic table safe to share, or does it give real training patients away?

Every measure is read against yardsticks on the same data: real HOLDOUT rows the generator
never saw (what an honest generator matches), a COPIER (a bootstrap resample of the training
rows, as many as the synthetic rows measured: real patients handed back) and MARGINALS (each
column drawn on its own from its training column: no patient kept). The yardsticks depend on
the real rows, the holdout, the seed and the sizes only, so they are measured once and kept
(in the process and under $FAIRCAUSE_CACHE/privacy_yardsticks).

Distances (Gower-like, every column counting about the same): a number scaled to [0, 1] by the
real training range, with a 0/1 missing flag (a missing value sits at the median); a discrete
column one-hot at weight 1/2 (missing its own category), so a mismatch costs 1. L1 over the
number of columns. Exact nearest neighbours (sklearn, k-d tree). Seeded samples of max_rows
(3,000) rows per table.

- Exact copies, counted on ALL rows by hashing the raw values (NaN equals NaN, 1 equals 1.0,
  the number 1 is not the text "1"): synthetic rows equal to a training row against the
  holdout's own share (with few discrete columns many patients share a row), and training
  patients whose row is unique among the real rows found verbatim in the synthetic table
  against unique holdout patients found there; each excess with a Newcombe 95% interval.
- DCR: median and 5th percentile distance to the closest training row, synthetic against
  holdout rows, and their ratio (about 1 for an honest generator).
- Closeness: the AUC of "a synthetic row sits closer to its closest training row than an unseen
  patient's row does" (distances as DCR's, at most 1,000 seeded rows a side; 0.5 = as close as
  new patients; bootstrap interval as membership's). Membership inference cannot see a table that copies the holdout rows too (a
  maker trained on every real row, evaluated without a holdout file: members and non-members
  then sit equally close); closeness can, as near-copies sit closer than any new patient.
- Membership inference: members (training rows, a seeded sample as large as the holdout, at
  most 1,000) and non-members (holdout rows) scored by their distance to the closest
  synthetic row; AUC = P(member closer) + half the ties (0.5 = no leak), with a percentile
  bootstrap 95% interval (1,000 resamples of each group; the synthetic rows held fixed) that
  always holds the estimate.
- Rare patients: rarity = distance to the nearest OTHER training row (the same metric, no
  bandwidth to choose, and what makes a copied row identifying); the rarest 5% of training
  rows against the rarest 5% of holdout rows (rarity: distance to the nearest training row):
  their medians of the distance to the closest synthetic row and the AUC of "rare training
  patient closer", with its bootstrap interval.
- Anonymeter 1.1.0 (Giomi et al. 2023), 200 attacks each: singling out (multivariate, 3
  columns, at most 50 candidate queries per attack), linkability (the columns in two seeded
  halves, 1 neighbour), inference of the outcome and of the protected attribute from all other
  columns. Original = the training rows, control = the holdout rows (each a seeded sample of
  50,000 above that: a row "singled out" is then unique within the sample), synthetic = a seeded
  sample of 2,000 rows: each risk is the success on training patients beyond that on unseen
  ones, with Anonymeter's 95% interval. Anonymeter leaves some draws unseeded; each call runs
  with numpy's and python's global generators, polars' sampler, its random-link baseline and
  its random-query baseline seeded, and numpy's and python's states given back. Numbers with
  missing values enter at the training median with a flag column (its distance is NaN on them).
- SDMetrics' DCR baseline/overfitting and disclosure protections are all-pairs cross joins (20 s
  per 1,000-row sample on the demo) and run only when `sdmetrics_rows` is given; membership
  inference, Anonymeter and our DCR cover them. Their sampling and random baseline are seeded.

verdict() reads these against the thresholds below and names the measure that decided it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import random
import tempfile
import threading
import warnings
from contextlib import contextmanager
from math import sqrt
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from faircause_core.causal.effects import Z95
from faircause_core.errors import InputError
from faircause_core.metrics.frames import (
    NUMERIC_KINDS, TABLE, canonical, check_frame, model_kinds, numbers, sdmetrics_columns, sdmetrics_frame, subsample,
    wilson,
)

ONE_HOT_WEIGHT = 0.5  # two coordinates differ on a category mismatch: 2 * 0.5 = 1
SDMETRICS_ROWS = 1000  # what SDMetrics' own num_rows_subsample would use, when asked for
MEMBERSHIP_ROWS = 1000  # members and non-members each, at most (seeded samples)
SYNTH_ROWS = 3000  # rows per table the distances use, at most (seeded samples): max_rows
BOOTSTRAP = 1000  # resamples for the membership and rare-patient intervals
RARE_SHARE = 0.05  # the rarest 5% of training and of holdout rows
ATTACKS = 200  # Anonymeter attacks per measure (at most the holdout's size)
ANONYMETER_ROWS = 2000  # synthetic rows the attacks see, at most (a seeded sample)
#: real training (original) and holdout (control) rows the attacks see, at most (seeded samples):
#: every real row up to this, so the shared cohorts keep their numbers; 2,000,000 rows held
#: 9 GB of text cells in the attacks' frames (issue 22). Singling out above it means within the sample.
ANONYMETER_REAL_ROWS = 50_000
SINGLING_OUT_TRIES = 50  # candidate queries per singling-out attack, at most (Anonymeter: 10 million in all)
NN_ALGORITHM = "kd_tree"  # exact; 2-6x faster than brute force here, which contends for the cores

# ----------------------------------------------------------------------------- verdict thresholds
#: unsafe when members are told from unseen patients with AUC surely above 0.6 (the interval's
#: low end): an attacker holding a patient's record learns whether they were in the data, well
#: beyond chance. A copier scores 0.70-0.85 on demo, flchain, medpar and pbc (low ends 0.67 and
#: up), the Bayes net 0.49-0.57 (high ends 0.51-0.64, the widest on pbc's 125 holdout rows).
UNSAFE_MEMBERSHIP_AUC = 0.6
#: review when that low end is above 0.5 at all (a membership signal, however small).
REVIEW_MEMBERSHIP_AUC = 0.5
#: Exact copies, two ways, each against unseen patients: the share of synthetic rows equal to a
#: training row over the holdout's share of rows equal to one (with few discrete columns many
#: patients share a row: medpar's holdout 25%), and the share of training patients whose row
#: is unique among the real rows that the synthetic table holds verbatim over the same share
#: of unique holdout patients (the sharper test where rows repeat: it caught 5% of real rows
#: mixed into medpar's Bayes net rows, where the row shares did not). unsafe when either
#: excess is surely above 10 points (a tenth of the table, or of the unique patients, handed
#: back beyond chance); review when surely above 0.
UNSAFE_COPY_EXCESS = 0.10
#: Closeness (synthetic rows against unseen patients, by distance to the closest training row):
#: unsafe when its low end is above UNSAFE_MEMBERSHIP_AUC, review when above this. Measured
#: (2026-12-07, tests/test_privacy_controls.py; pbc by hand): Bayes net rows 0.35-0.49 (high ends 0.40-0.52),
#: marginals 0.18-0.39, a copier 0.77-1.00; every real row shuffled, one number jittered by 1% of
#: its spread (a maker that saw the holdout too, evaluated without a holdout file, where
#: membership scored 0.48-0.50): demo 0.86 [0.84, 0.88], flchain 0.69 [0.67, 0.72], medpar 0.61
#: [0.57, 0.65] (a quarter of medpar's unseen rows equal a training row, so they tie a copy).
REVIEW_CLOSENESS_AUC = 0.5
#: review when the rarest training patients sit surely closer to a synthetic row than the
#: rarest unseen patients do (rare AUC's low end above 0.5): outliers memorised.
REVIEW_RARE_AUC = 0.5
#: Anonymeter: unsafe when a risk, at its interval's low end, reaches half of what a copier
#: adds over marginals on the same data (a table that leaks half of what handing back the
#: patients would), counted only where the copier is surely above marginals (an attack that
#: finds nothing even in a copy cannot decide). Marginals are the zero point, not 0: singling
#: out scores 0.08-0.13 on tables with no patient in them. review when a risk's low end is
#: above both REVIEW_ATTACK_RISK and the most marginals reach (their interval's high end).
UNSAFE_COPIER_SHARE = 0.5
REVIEW_ATTACK_RISK = 0.05
#: safe also needs the measure to have had the power to see a leak: a copier of the same size
#: must be called unsafe by membership inference, else review (48 prompt-mode rows: a copier of
#: 48 rows scored AUC 0.52 [0.49, 0.56], as it covers 4% of the training patients).
#: no verdict but review below this many holdout rows (members and non-members each): with 10,
#: a bootstrap interval can sit anywhere (a fresh sample scored "unsafe" against 1 unseen row).
MIN_HOLDOUT_ROWS = 50
VERDICT_WORDS = {"safe": "safe to share", "review": "review before sharing", "unsafe": "not safe to share"}
ATTACK_NAMES = {"singling_out": "singling out", "linkability": "linkability", "inference": "inference of {secret}",
                "inference_x": "inference of {secret}"}


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
                # each table's distinct values, in order: the categories of the stacked tables, in the same
                # order, without stacking 2,000,000-row columns of objects
                allv = pd.Series(np.concatenate([pd.unique(canonical(f[col]).astype(object)) for f in (real, *others)]))
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




def _check_rows(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name} {value!r} must be a whole number >= 1")


# ----------------------------------------------------------------------------- statistics
def _share_excess(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """k1/n1 - k2/n2 with Newcombe's hybrid score 95% interval (from the two Wilson intervals)."""
    p1, l1, u1 = wilson(k1, n1)
    p2, l2, u2 = wilson(k2, n2)
    d = p1 - p2
    return d, d - sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def _aucs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """P(a < b) + half of P(a == b) along the last axis (a: members' distances, b: others')."""
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([a, b], axis=-1), axis=-1)
    nb = b.shape[-1]
    return (ranks[..., a.shape[-1]:].sum(axis=-1) - nb * (nb + 1) / 2) / (a.shape[-1] * nb)


def auc_interval(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, reps: int = BOOTSTRAP):
    """The AUC of "a closer than b" with a percentile bootstrap 95% interval (a and b
    resampled apart), widened to hold the point estimate if it ever falls outside."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    point = float(_aucs(a, b))
    boot = _aucs(a[rng.integers(0, a.size, (reps, a.size))], b[rng.integers(0, b.size, (reps, b.size))])
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return point, float(min(lo, point)), float(max(hi, point))


# ----------------------------------------------------------------------------- the measures
def distance_to_closest_record(real_train, synth, real_holdout, schema, seed=0, max_rows=SYNTH_ROWS,
                               sensitive=None, known=None, sdmetrics_rows=None, x=None, attacks=ATTACKS,
                               yardsticks=True, on_yardsticks=None) -> dict:
    """Every privacy measure of a synthetic table (module doc), its copier and marginals
    yardsticks and the verdict. sensitive: the outcome (Anonymeter infers it; SDMetrics'
    disclosure too when sdmetrics_rows is given, from `known`); x: the protected attribute,
    inferred too; sdmetrics_rows=None leaves SDMetrics' all-pairs metrics out; attacks=None
    Anonymeter's; yardsticks=False the copier and marginals. on_yardsticks(): told as the
    yardsticks start being measured (not when they are read), after the table's own measures:
    the two take about twice as long again (the time-left estimate's cue)."""
    kinds = model_kinds(schema)
    _check_rows("max_rows", max_rows)
    if attacks is not None:
        _check_rows("attacks", attacks)
    if sdmetrics_rows is not None:
        _check_rows("sdmetrics_rows", sdmetrics_rows)
    known = _attack_columns(kinds, sensitive, known)
    if x is not None and x not in kinds:
        raise InputError(f"protected attribute '{x}' is not a model column of the schema")
    if x is not None and x == sensitive:
        raise InputError(f"protected attribute '{x}' cannot also be the inferred outcome")
    frames = {"real training": real_train, "synthetic": synth}
    if real_holdout is not None:
        frames["real holdout"] = real_holdout
    for which, df in frames.items():
        check_frame(df, which, kinds)
    secrets = _secrets(sensitive, x)

    hashes = {which: _row_hashes(df, kinds, which) for which, df in frames.items()}
    attacks = None if attacks is None else int(attacks)
    [(out, notes)] = _measure_tables([(frames, hashes)], kinds, seed, int(max_rows), secrets, attacks)
    out["sdmetrics_rows"] = 0
    if sdmetrics_rows is None:
        notes.append("SDMetrics' DCR and disclosure protections not computed (all-pairs, slow; pass sdmetrics_rows): "
                     "membership inference and Anonymeter cover them")
        nan = float("nan")
        out.update(dcr_baseline_protection=nan, dcr_baseline_synth_median=nan, dcr_baseline_random_median=nan,
                   dcr_overfitting_protection=nan, closer_to_training_share=nan, disclosure_protection=nan,
                   disclosure_cap_protection=nan, disclosure_baseline_protection=nan,
                   disclosure_sensitive=sensitive, disclosure_known=list(known) if known else [])
    else:
        out.update(sdmetrics_privacy(frames, kinds, seed, int(sdmetrics_rows), sensitive, known, notes))
    if yardsticks and real_holdout is not None:
        n_syn = min(len(synth), int(max_rows))
        key = _yardstick_key(hashes, kinds, seed, n_syn, int(max_rows), secrets, attacks)
        out["yardsticks"] = _yardsticks(real_train, real_holdout, hashes, kinds, seed, n_syn, int(max_rows),
                                        secrets, attacks, key, on_yardsticks)
        notes.append(f"yardsticks: a copier (bootstrap of the training rows) and a marginals-only sampler, "
                     f"{n_syn:,} rows each, measured the same way")
    out["verdict"], out["verdict_reason"] = verdict(out)
    out["verdict_words"] = VERDICT_WORDS[out["verdict"]]
    out["notes"] = notes
    return out


def _measure_tables(tables: list, kinds: dict, seed: int, max_rows: int, secrets: dict,
                    attacks: int | None) -> list[tuple[dict, list]]:
    """(measures, notes) of each (frames, hashes) in `tables`: their distances (_distances) in a
    forked child where the local engine has more than one worker (engine.Background) while this
    process runs their Anonymeter attacks, which take about as long; each seeded as before, so the
    numbers are those of one process (tests/test_privacy.py). The attacks stay here: Anonymeter
    uses Polars, whose thread pool deadlocks in a forked child once it has run in the parent."""
    from faircause_core import engine

    with engine.Background(_all_distances, (tables, kinds, seed, max_rows),
                           fork=engine.local_threads() > 1) as distances:
        attacked = [_attacks(frames, kinds, seed, secrets, attacks) for frames, _ in tables]
        measured = distances.result()
    return [({**d, **a}, d_notes + a_notes) for (d, d_notes), (a, a_notes) in zip(measured, attacked)]


def _all_distances(shared) -> list[tuple[dict, list]]:
    tables, kinds, seed, max_rows = shared
    out = []
    for frames, hashes in tables:
        notes: list[str] = []
        out.append((_distances(frames, hashes, kinds, seed, max_rows, notes), notes))
    return out


def _attacks(frames: dict, kinds: dict, seed: int, secrets: dict, attacks: int | None) -> tuple[dict, list]:
    """One table's Anonymeter risks and notes (none without a holdout: _distances says so)."""
    notes: list[str] = []
    if "real holdout" not in frames:
        return {}, notes
    if attacks is None:
        notes.append("Anonymeter's attacks were not run (attacks=None)")
        return dict(anonymeter={}, anonymeter_rows={}), notes
    return anonymeter_risks(frames, kinds, seed, secrets, attacks, notes), notes


def _distances(frames: dict, hashes: dict, kinds: dict, seed: int, max_rows: int, notes: list) -> dict:
    """Copies, DCR, closeness, membership and rare patients for one synthetic table."""
    train_set = hashes["real training"]
    copies = np.isin(hashes["synthetic"], train_set)
    # counts beside the share: one copy in 4,024 rows printed as "0.0%" read as none
    out = dict(exact_copy_share=float(copies.mean()), exact_copies=int(copies.sum()), synthetic_rows=int(copies.size))
    holdout = "real holdout" in frames

    rng = np.random.default_rng(seed)
    sub = {which: subsample(df, max_rows, rng) for which, df in frames.items()}
    enc = _RowEncoder(kinds).fit(*frames.values())
    X = {which: enc.transform(df, which) for which, df in sub.items()}
    width = len(kinds)
    nn_train = NearestNeighbors(n_neighbors=1, metric="manhattan", algorithm=NN_ALGORITHM).fit(X["real training"])
    d_syn = nn_train.kneighbors(X["synthetic"])[0][:, 0] / width
    out.update(dcr_synth_median=float(np.median(d_syn)), dcr_synth_p5=float(np.percentile(d_syn, 5)),
               n_synth=int(len(d_syn)), n_real_train=int(len(sub["real training"])))
    if any(len(sub[w]) < len(df) for w, df in frames.items()):
        notes.append(f"distances use a seeded sample of {max_rows:,} rows per table")
    nan = float("nan")
    if not holdout:
        out.update(holdout_exact_copy_share=nan, holdout_exact_copies=0, dcr_holdout_median=nan, dcr_holdout_p5=nan,
                   ratio=nan, n_holdout=0, closeness_auc=nan, closeness_auc_ci_low=nan, closeness_auc_ci_high=nan,
                   exact_copy_excess=nan, exact_copy_excess_ci_low=nan,
                   exact_copy_excess_ci_high=nan, membership_auc=nan, membership_auc_ci_low=nan,
                   membership_auc_ci_high=nan, membership_rows=0, rare_auc=nan, rare_auc_ci_low=nan,
                   rare_auc_ci_high=nan, rare_dcr_train_median=nan, rare_dcr_holdout_median=nan,
                   rare_train_rows=0, rare_holdout_rows=0, unique_train_rows=0, unique_train_copied=0,
                   unique_holdout_rows=0, unique_holdout_copied=0, unique_copy_excess=nan,
                   unique_copy_excess_ci_low=nan, unique_copy_excess_ci_high=nan, anonymeter={}, anonymeter_rows={})
        notes.append("no real holdout rows: no baseline to compare with, no membership inference, no Anonymeter")
        return out

    held = np.isin(hashes["real holdout"], train_set)
    out.update(_unique_copies(train_set, hashes["real holdout"], hashes["synthetic"], notes))
    d_hold = nn_train.kneighbors(X["real holdout"])[0][:, 0] / width
    excess = _share_excess(int(copies.sum()), copies.size, int(held.sum()), held.size)
    out.update(holdout_exact_copy_share=float(held.mean()), holdout_exact_copies=int(held.sum()),
               exact_copy_excess=excess[0], exact_copy_excess_ci_low=excess[1], exact_copy_excess_ci_high=excess[2],
               dcr_holdout_median=float(np.median(d_hold)), dcr_holdout_p5=float(np.percentile(d_hold, 5)),
               n_holdout=int(len(d_hold)))
    # closeness: synthetic rows against unseen patients, each by its distance to the closest
    # training row; it does not need the holdout to be unseen by the table's maker (membership does)
    c_rng = np.random.default_rng([seed, 5])  # at most MEMBERSHIP_ROWS a side: membership's cost (0.4 s, not 0.8)
    close = auc_interval(*(d if d.size <= MEMBERSHIP_ROWS else c_rng.choice(d, MEMBERSHIP_ROWS, replace=False)
                           for d in (d_syn, d_hold)), c_rng)
    out.update(closeness_auc=close[0], closeness_auc_ci_low=close[1], closeness_auc_ci_high=close[2])
    if out["dcr_holdout_median"] > 0:
        out["ratio"] = out["dcr_synth_median"] / out["dcr_holdout_median"]
    else:
        out["ratio"] = nan
        notes.append("most holdout rows equal a training row (median distance 0): no ratio")

    nn_syn = NearestNeighbors(n_neighbors=1, metric="manhattan", algorithm=NN_ALGORITHM).fit(X["synthetic"])
    # membership: as many members as non-members, drawn from the training rows
    m_rng = np.random.default_rng([seed, 3])
    n = min(len(frames["real training"]), len(frames["real holdout"]), MEMBERSHIP_ROWS)
    members = subsample(frames["real training"], n, m_rng)
    others = subsample(frames["real holdout"], n, m_rng)
    d_m = nn_syn.kneighbors(enc.transform(members, "real training"))[0][:, 0]
    d_o = nn_syn.kneighbors(enc.transform(others, "real holdout"))[0][:, 0]
    auc, lo, hi = auc_interval(d_m, d_o, m_rng)
    out.update(membership_auc=auc, membership_auc_ci_low=lo, membership_auc_ci_high=hi, membership_rows=int(n))

    out.update(_rare_patients(X, d_hold, nn_syn, width, seed))
    k_t, k_h = out["rare_train_rows"], out["rare_holdout_rows"]
    notes.append(f"membership inference: {n:,} training rows against {n:,} holdout rows, each scored by its distance "
                 f"to the closest of {len(sub['synthetic']):,} synthetic rows; rare patients: the rarest {k_t:,} "
                 f"training and {k_h:,} holdout rows; intervals from {BOOTSTRAP:,} bootstrap resamples")
    return out


def _unique_copies(train: np.ndarray, hold: np.ndarray, synth: np.ndarray, notes: list) -> dict:
    """Patients whose row occurs once among all real rows (row hashes), and how many of them the
    synthetic table holds verbatim: training ones against holdout ones, with the excess."""
    values, counts = np.unique(np.concatenate([train, hold]), return_counts=True)
    once, synth = values[counts == 1], np.unique(synth)
    u_t, u_h = np.isin(train, once), np.isin(hold, once)
    c_t, c_h = int(np.isin(train[u_t], synth).sum()), int(np.isin(hold[u_h], synth).sum())
    if u_t.any() and u_h.any():
        ex = _share_excess(c_t, int(u_t.sum()), c_h, int(u_h.sum()))
    else:
        ex = (float("nan"),) * 3
        notes.append("no patient's row is unique among the real rows: no unique-patient copy measure")
    return dict(unique_train_rows=int(u_t.sum()), unique_train_copied=c_t, unique_holdout_rows=int(u_h.sum()),
                unique_holdout_copied=c_h, unique_copy_excess=ex[0], unique_copy_excess_ci_low=ex[1],
                unique_copy_excess_ci_high=ex[2])


def _rare_patients(X: dict, d_hold: np.ndarray, nn_syn, width: int, seed: int) -> dict:
    """The rarest RARE_SHARE of training rows (rarity: distance to the nearest OTHER training
    row) and of holdout rows (d_hold: distance to the nearest training row), their distances to
    the closest synthetic row, and the AUC of "rare training patient closer" with its interval."""
    nn_real = NearestNeighbors(n_neighbors=2, metric="manhattan", algorithm=NN_ALGORITHM).fit(X["real training"])
    rarity = nn_real.kneighbors(X["real training"])[0][:, 1]  # [:, 0] is the row itself (or its twin)
    k_t = max(1, int(np.ceil(RARE_SHARE * len(rarity))))
    k_h = max(1, int(np.ceil(RARE_SHARE * len(d_hold))))
    d_rt = nn_syn.kneighbors(X["real training"][np.argsort(-rarity, kind="stable")[:k_t]])[0][:, 0]
    d_rh = nn_syn.kneighbors(X["real holdout"][np.argsort(-d_hold, kind="stable")[:k_h]])[0][:, 0]
    auc, lo, hi = auc_interval(d_rt, d_rh, np.random.default_rng([seed, 4]))
    return dict(rare_auc=auc, rare_auc_ci_low=lo, rare_auc_ci_high=hi,
                rare_dcr_train_median=float(np.median(d_rt)) / width,
                rare_dcr_holdout_median=float(np.median(d_rh)) / width, rare_train_rows=k_t, rare_holdout_rows=k_h)


# ----------------------------------------------------------------------------- Anonymeter
_ATTACK_LOCK = threading.RLock()  # the seeding below patches process-wide state
_JIT: dict = {}  # "kernel": the cached, compiled kernel; "last": the last candidates converted


def _one_signature(kernel):
    """Anonymeter's nearest-neighbour call with its arrays made C-ordered float64 first. numba
    compiles once per argument signature (dtype and memory layout): the arrays Anonymeter hands
    in are int64 or float64, F-, C- or A-ordered by the table's columns, and each new mix cost
    a 5-7 s compile inside a run's privacy step (a run's ETA then said "about 1 s left" with 6 s
    to go). Category codes are small integers, exact in float64, so the distances are the same.
    The candidates are the same array for every query row: converted once, not per row."""
    def nearest(queries, candidates, cat_cols_index, n_neighbors):
        last = _JIT.get("last")
        if last is None or last[0] is not candidates:
            last = _JIT["last"] = (candidates, np.ascontiguousarray(candidates, dtype=np.float64))
        return kernel(np.ascontiguousarray(queries, dtype=np.float64), last[1], int(cat_cols_index), int(n_neighbors))

    nearest.py_func = kernel.py_func
    return nearest


def _anonymeter():
    """Anonymeter's evaluators, its nearest-neighbour kernel compiled with numba's disk cache
    (the same function; a fresh process then loads it in 0.2 s instead of compiling for 7 s)
    and always called with one signature (_one_signature), which `make setup` compiles once
    (warm_kernel): a user's first run, or CI's, pays no compile."""
    from anonymeter.evaluators import InferenceEvaluator, LinkabilityEvaluator, SinglingOutEvaluator
    from anonymeter.neighbors import mixed_types_kneighbors as mtk

    if "kernel" not in _JIT:
        try:
            import numba

            _JIT["kernel"] = numba.njit(cache=True, nogil=True)(mtk._nearest_neighbors.py_func)
        except Exception:  # noqa: BLE001 - no writable cache: Anonymeter's own (uncached) kernel
            _JIT["kernel"] = mtk._nearest_neighbors
        mtk._nearest_neighbors = _one_signature(_JIT["kernel"])
    return SinglingOutEvaluator, LinkabilityEvaluator, InferenceEvaluator


def warm_kernel() -> int:
    """Compile the nearest-neighbour kernel into numba's disk cache (`make setup` runs this, so
    no run pays the compile); returns how many signatures the kernel has (1)."""
    _anonymeter()
    from anonymeter.neighbors import mixed_types_kneighbors as mtk

    mtk._nearest_neighbors(np.zeros((1, 2)), np.zeros((2, 2)), 1, 1)
    return len(getattr(_JIT["kernel"], "signatures", [None]))


def _ordered_random_queries(df, n_queries: int, n_cols: int, rng: np.random.Generator) -> list:
    """Anonymeter's _random_queries (the singling-out baseline), each column's values taken in
    their order of appearance: polars' unique() gives them in an arbitrary order, so the same
    seed drew other baseline queries from one call to the next."""
    from anonymeter.evaluators import singling_out_evaluator as so

    values = {col: df[col].unique(maintain_order=True).to_list() for col in df.columns}
    types = {col: so._convert_polars_dtype(df[col].dtype) for col in df.columns}
    return [so._random_query(unique_values=values, cols=rng.choice(df.columns, size=n_cols, replace=False).tolist(),
                             column_types=types, rng=rng) for _ in range(n_queries)]


@contextmanager
def _seeded_attack(seed: int):
    """Seed what Anonymeter draws from (numpy's and python's global generators, polars'
    sampler, the fresh default_rng of its random-link baseline, the order its random
    singling-out baseline reads values in); give numpy's and python's states and Anonymeter's
    functions back afterwards (polars has no state to read back)."""
    import polars as pl
    from anonymeter.evaluators import linkability_evaluator as le
    from anonymeter.evaluators import singling_out_evaluator as so

    log = logging.getLogger("anonymeter")
    with _ATTACK_LOCK:
        np_state, py_state, level = np.random.get_state(), random.getstate(), log.level
        links, queries = le._random_links, so._random_queries
        log.setLevel(logging.ERROR)  # "could generate only 120 queries" and the like: the numbers say it
        np.random.seed(seed)
        random.seed(seed)
        pl.set_random_seed(seed)
        gen = np.random.default_rng(seed)
        le._random_links = lambda n_synthetic, n_attacks, n_neighbors: np.array(
            [gen.choice(n_synthetic, size=n_neighbors, replace=False) for _ in range(n_attacks)])
        so._random_queries = _ordered_random_queries
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "attack as good as baseline" and the like: the numbers say it
                yield
        finally:
            le._random_links, so._random_queries = links, queries
            log.setLevel(level)
            np.random.set_state(np_state)
            random.setstate(py_state)


MISSING = "(missing)"


def _anonymeter_frames(frames: dict, kinds: dict) -> tuple[dict, dict]:
    """The frames as Anonymeter should read them: numbers as float (a missing one at the real
    training median, with a text flag column "<col> missing"), categories as text (missing is
    its own value), so its type detection and label encoding see one type per column.
    Returns (frames, {model column: [its columns]})."""
    train = frames["real training"]
    groups, fill = {}, {}
    for col, kind in kinds.items():
        groups[col] = [col]
        if kind in NUMERIC_KINDS:
            v = numbers(train[col], "real training")
            fill[col] = float(np.nanmedian(v)) if np.isfinite(v).any() else 0.0
            if any(pd.isna(df[col]).any() for df in frames.values()):
                groups[col].append(f"{col} missing")
    out = {}
    for which, df in frames.items():
        cols = {}
        for col, kind in kinds.items():
            if kind in NUMERIC_KINDS:
                v = numbers(df[col], which)
                cols[col] = np.where(np.isnan(v), fill[col], v)
                if len(groups[col]) > 1:
                    cols[groups[col][1]] = np.where(np.isnan(v), "yes", "no").astype(object)
            else:
                cols[col] = np.array([MISSING if pd.isna(v) else str(v) for v in canonical(df[col])], dtype=object)
        out[which] = pd.DataFrame(cols)
    return out, groups


def _risk(ev, **extra) -> dict:
    """Anonymeter's risk (its 95% interval) and the success rates behind it."""
    risk, res = ev.risk(), ev.results()
    lo, hi = (float(v) for v in risk.ci)
    value = float(risk.value)
    return dict(risk=value, ci_low=min(lo, value), ci_high=max(hi, value), attack_rate=float(res.attack_rate.value),
                control_rate=float(res.control_rate.value), baseline_rate=float(res.baseline_rate.value), **extra)


def anonymeter_risks(frames: dict, kinds: dict, seed: int, secrets: dict, attacks: int, notes: list) -> dict:
    """Anonymeter's singling out, linkability and inference risks ({name: {risk, ci_low,
    ci_high, ...}} under "anonymeter"), training rows as original, holdout as control, the
    synthetic table a seeded sample of ANONYMETER_ROWS rows at most and the real ones of
    ANONYMETER_REAL_ROWS."""
    singling, linking, inferring = _anonymeter()
    sub = dict(frames, synthetic=subsample(frames["synthetic"], ANONYMETER_ROWS, np.random.default_rng([seed, 2])))
    for which, key in (("real training", 7), ("real holdout", 8)):
        sub[which] = subsample(frames[which], ANONYMETER_REAL_ROWS, np.random.default_rng([seed, key]))
    enc, groups = _anonymeter_frames({w: df.reset_index(drop=True) for w, df in sub.items()}, kinds)
    ori, syn, ctl = enc["real training"], enc["synthetic"], enc["real holdout"]
    n = int(min(attacks, len(ori), len(ctl)))
    out: dict = {}

    def run(name: str, attack, **extra) -> None:
        """One attack, seeded; a failure inside Anonymeter is that attack's note, not the run's end."""
        try:
            with _seeded_attack(seed):
                out[name] = _risk(attack(), n_attacks=n, **extra)
        except Exception as err:  # noqa: BLE001 - e.g. its size correction's curve fit on a tiny holdout
            nan = float("nan")
            out[name] = dict(risk=nan, ci_low=nan, ci_high=nan, n_attacks=n, error=f"{type(err).__name__}: {err}",
                             **extra)
            notes.append(f"Anonymeter's {name.replace('_', ' ')} attack failed ({type(err).__name__}): not measured")

    run("singling_out", lambda: singling(ori, syn, n_attacks=n, n_cols=min(3, ori.shape[1]), control=ctl,
                                         max_attempts=SINGLING_OUT_TRIES * n, seed=seed).evaluate(mode="multivariate"))
    if len(kinds) >= 2:
        order = [str(c) for c in np.random.default_rng([seed, 5]).permutation(list(kinds))]
        halves = order[: len(order) // 2], order[len(order) // 2:]
        aux = tuple([c for col in half for c in groups[col]] for half in halves)
        run("linkability", lambda: linking(ori, syn, aux_cols=aux, n_attacks=n, control=ctl,
                                           n_neighbors=1).evaluate(n_jobs=1), halves=[list(h) for h in halves])
        for key, secret in secrets.items():
            aux_cols = [c for col in kinds if col != secret for c in groups[col]]
            run(key, lambda aux_cols=aux_cols, secret=secret: inferring(
                ori, syn, aux_cols=aux_cols, secret=secret, regression=kinds[secret] in NUMERIC_KINDS, n_attacks=n,
                control=ctl).evaluate(n_jobs=1), secret=secret)
    else:
        notes.append("one model column: no linkability or inference attack")
    sampled = [f"{len(sub[w]):,} of the {len(frames[w]):,} {w} rows" for w in ("real training", "real holdout")
               if len(sub[w]) < len(frames[w])]
    notes.append(f"Anonymeter: {n:,} attacks each on {len(ori):,} training rows (original), {len(ctl):,} holdout "
                 f"rows (control) and {len(syn):,} synthetic rows"
                 + (f"; seeded samples of {' and '.join(sampled)}: a patient singled out is unique within the "
                    f"sample, not the cohort" if sampled else ""))
    return {"anonymeter": out, "anonymeter_rows": {"original": len(ori), "control": len(ctl), "synthetic": len(syn),
                                                   "attacks": n, "original_of": len(frames["real training"]),
                                                   "control_of": len(frames["real holdout"])}}


# ----------------------------------------------------------------------------- yardsticks
_YARDSTICKS: dict = {}
_SOURCE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
_YARDSTICK_LOCK = threading.Lock()
YARDSTICK_KEYS = ("exact_copy_share", "exact_copies", "synthetic_rows", "exact_copy_excess",
                  "exact_copy_excess_ci_low", "exact_copy_excess_ci_high", "dcr_synth_median", "ratio",
                  "closeness_auc", "closeness_auc_ci_low", "closeness_auc_ci_high",
                  "membership_auc", "membership_auc_ci_low", "membership_auc_ci_high", "rare_auc", "rare_auc_ci_low",
                  "rare_auc_ci_high", "rare_dcr_train_median", "unique_train_copied", "unique_train_rows",
                  "unique_copy_excess", "unique_copy_excess_ci_low", "unique_copy_excess_ci_high", "anonymeter")


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.tobytes() if isinstance(p, np.ndarray) else repr(p).encode())
    return h.hexdigest()


def _yardstick_file(key: str):
    """Where a yardstick is kept between processes (each app run is a process of its own):
    $FAIRCAUSE_CACHE/privacy_yardsticks, as the converted models are."""
    from faircause_core.generators.lm.store import cache_root

    return cache_root() / "privacy_yardsticks" / f"{key}.json"


#: Set to "off": yardsticks are neither read from nor written to disk (each process measures its
#: own once), as FAIRCAUSE_AUDIT_CACHE=off does for the audits: for benchmarks and recordings of
#: a first run on new data (bench/record_timelines.py --fresh-yardsticks).
YARDSTICK_CACHE_ENV = "FAIRCAUSE_YARDSTICK_CACHE"


def _disk_off() -> bool:
    return os.environ.get(YARDSTICK_CACHE_ENV, "").strip().lower() == "off"


def _load_yardstick(key: str):
    if _disk_off():
        return None
    try:
        return json.loads(_yardstick_file(key).read_text())
    except (OSError, ValueError):  # absent or damaged: measure again
        return None


def _save_yardstick(key: str, value: dict) -> None:
    if _disk_off():
        return
    path = _yardstick_file(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as fh:
            json.dump(value, fh)
        os.replace(fh.name, path)
    except OSError:  # a read-only home: the in-process cache still holds it
        pass


def yardsticks_kept(real_train, real_holdout, schema, synthetic_rows: int, seed=0, max_rows=SYNTH_ROWS,
                    sensitive=None, known=None, x=None, attacks=ATTACKS) -> bool:
    """Whether distance_to_closest_record with these arguments (and `synthetic_rows` synthetic
    rows) would read its yardsticks from before rather than measure them: a first run on new
    data measures them, about 2-3x the rest of the privacy step (progress.YARDSTICKS). `known`
    is taken as that call takes it; the yardsticks do not depend on it."""
    kinds = model_kinds(schema)
    hashes = {which: _row_hashes(df, kinds, which) for which, df in (("real training", real_train),
                                                                      ("real holdout", real_holdout))}
    key = _yardstick_key(hashes, kinds, seed, min(int(synthetic_rows), int(max_rows)), int(max_rows),
                         _secrets(sensitive, x), attacks)
    return _kept_yardstick(key) is not None


def _secrets(sensitive, x) -> dict:
    """What Anonymeter's inference attacks guess: the outcome, and the protected attribute."""
    return {k: v for k, v in (("inference", sensitive), ("inference_x", x)) if v is not None}


def _yardstick_key(hashes: dict, kinds: dict, seed: int, n_syn: int, max_rows: int, secrets: dict,
                   attacks: int | None) -> str:
    """The yardsticks' cache key: the real rows' and holdout's row hashes, the columns, the seed,
    the sizes and this module's own text (a changed measure is measured again)."""
    return _digest(hashes["real training"], hashes["real holdout"], sorted(kinds.items()), seed, n_syn, max_rows,
                   sorted(secrets.items()), None if attacks is None else int(attacks), ANONYMETER_ROWS, ANONYMETER_REAL_ROWS,
                   MEMBERSHIP_ROWS, _SOURCE)


def _kept_yardstick(key: str):
    """The yardsticks kept for `key` (in this process, else on disk), or None: not measured yet."""
    with _YARDSTICK_LOCK:
        if key not in _YARDSTICKS:
            _YARDSTICKS[key] = _load_yardstick(key)
        return None if _YARDSTICKS[key] is None else copy.deepcopy(_YARDSTICKS[key])


def _yardsticks(train: pd.DataFrame, hold: pd.DataFrame, hashes: dict, kinds: dict, seed: int, n_syn: int,
                max_rows: int, secrets: dict, attacks: int | None, key: str, on_measure=None) -> dict:
    """What a copier and a marginals-only sampler of n_syn rows score; kept in the process and
    on disk under `key` (_yardstick_key), measured when not kept (on_measure() told first)."""
    kept = _kept_yardstick(key)
    if kept is not None:
        return kept
    if on_measure is not None:
        on_measure()
    rng = np.random.default_rng([seed, 6])
    cols = list(kinds)
    copier = train.iloc[rng.integers(0, len(train), n_syn)][cols].reset_index(drop=True)
    marginals = pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, len(train), n_syn)] for c in cols})
    names, tables = ("copier", "marginals"), []
    for fake in (copier, marginals):
        tables.append(({"real training": train, "synthetic": fake, "real holdout": hold},
                       dict(hashes, synthetic=_row_hashes(fake, kinds, "synthetic"))))
    measured = _measure_tables(tables, kinds, seed, max_rows, secrets, attacks)
    result = {name: {k: m[k] for k in YARDSTICK_KEYS} for name, (m, _) in zip(names, measured)}
    result = json.loads(json.dumps(result))  # what the disk copy reads back as, in this process too
    with _YARDSTICK_LOCK:
        _YARDSTICKS[key] = copy.deepcopy(result)
    _save_yardstick(key, result)
    return result


# ----------------------------------------------------------------------------- verdict
def _f(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _ci(d: dict, key: str, digits: int = 2) -> str:
    """"0.82 [0.79, 0.85]" for key, key_ci_low, key_ci_high of d (Anonymeter's: risk, ci_low, ci_high)."""
    if key == "risk":
        v, lo, hi = _f(d.get("risk")), _f(d.get("ci_low")), _f(d.get("ci_high"))
    else:
        v, lo, hi = _f(d.get(key)), _f(d.get(f"{key}_ci_low")), _f(d.get(f"{key}_ci_high"))
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _attack_name(name: str, risk: dict) -> str:
    return ATTACK_NAMES.get(name, name).format(secret=risk.get("secret", "a column"))


def verdict(priv: dict) -> tuple[str, str]:
    """("safe" | "review" | "unsafe", the sentence naming the measure that decided it), from a
    privacy dict (this module's, or one read back from a saved run, where NaN is None). The
    unsafe rules are read first, then the review rules, each in the order below."""
    yard = priv.get("yardsticks") or {}
    cop, mar = yard.get("copier") or {}, yard.get("marginals") or {}
    attacks = priv.get("anonymeter") or {}

    def beside(key):
        both = [f"{n} {_ci(y, key)}" for n, y in (("a copier", cop), ("marginals", mar)) if key in y]
        return f" ({'; '.join(both)})" if both else ""

    if np.isnan(_f(priv.get("membership_auc"))):
        return "review", ("No unseen real rows to compare with: membership inference and Anonymeter's attacks "
                          "need a holdout, so nothing shows the table is safe.")
    if _f(priv.get("membership_rows")) < MIN_HOLDOUT_ROWS:
        return "review", (f"Only {int(_f(priv.get('membership_rows')))} unseen real rows to compare with: under "
                          f"{MIN_HOLDOUT_ROWS}, no interval is wide enough to say the table is safe or not.")
    auc_lo = _f(priv.get("membership_auc_ci_low"))
    membership = f"membership inference AUC {_ci(priv, 'membership_auc')}{beside('membership_auc')}"
    rows = (f"{int(_f(priv.get('exact_copies'))):,} of {int(_f(priv.get('synthetic_rows'))):,} synthetic rows "
            f"({_f(priv.get('exact_copy_share')):.1%}) are exact copies of a training row, against "
            f"{_f(priv.get('holdout_exact_copy_share')):.1%} of unseen patients' rows (difference "
            f"{_points(priv, 'exact_copy_excess')} points)")
    unique = (f"{int(_f(priv.get('unique_train_copied'))):,} of {int(_f(priv.get('unique_train_rows'))):,} "
              f"training patients with a unique row are copied verbatim, against "
              f"{int(_f(priv.get('unique_holdout_copied'))):,} of {int(_f(priv.get('unique_holdout_rows'))):,} unseen "
              f"ones (difference {_points(priv, 'unique_copy_excess')} points)")
    if auc_lo > UNSAFE_MEMBERSHIP_AUC:
        return "unsafe", (f"Training patients are told from unseen ones by their distance to the closest synthetic "
                          f"row: {membership}, its low end above {UNSAFE_MEMBERSHIP_AUC} (0.5 = no leak).")
    if _f(priv.get("exact_copy_excess_ci_low")) > UNSAFE_COPY_EXCESS:
        return "unsafe", f"{rows[0].upper()}{rows[1:]}: its low end is above {100 * UNSAFE_COPY_EXCESS:.0f} points."
    if _f(priv.get("unique_copy_excess_ci_low")) > UNSAFE_COPY_EXCESS:
        return "unsafe", f"{unique[0].upper()}{unique[1:]}: its low end is above {100 * UNSAFE_COPY_EXCESS:.0f} points."
    closeness = (f"closeness AUC {_ci(priv, 'closeness_auc')}, 0.5 = as close as unseen patients"
                 f"{beside('closeness_auc')}; median distance {_f(priv.get('dcr_synth_median')):.3f} against unseen "
                 f"patients' {_f(priv.get('dcr_holdout_median')):.3f}")
    if _f(priv.get("closeness_auc_ci_low")) > UNSAFE_MEMBERSHIP_AUC:
        return "unsafe", (f"Synthetic rows sit closer to the real training patients than unseen patients do, near-copies "
                          f"of patients: {closeness}; its low end above {UNSAFE_MEMBERSHIP_AUC}. Membership inference "
                          f"({_ci(priv, 'membership_auc')}) cannot see this when the held-out rows were copied too.")
    for name, risk in attacks.items():
        c = (cop.get("anonymeter") or {}).get(name) or {}
        m = (mar.get("anonymeter") or {}).get(name) or {}
        base = _f(m.get("risk")) if m else 0.0
        if (_f(c.get("ci_low")) > (_f(m.get("ci_high")) if m else 0.0)
                and _f(risk.get("ci_low")) - base >= UNSAFE_COPIER_SHARE * (_f(c.get("risk")) - base)):
            return "unsafe", (f"Anonymeter's {_attack_name(name, risk)} risk {_ci(risk, 'risk')} reaches, at its low "
                              f"end, {UNSAFE_COPIER_SHARE:.0%} of what a copier adds over marginals "
                              f"(copier {_ci(c, 'risk')}" + (f", marginals {_ci(m, 'risk')}" if m else "") + ").")
    if auc_lo > REVIEW_MEMBERSHIP_AUC:
        return "review", (f"Training patients sit slightly closer to a synthetic row than unseen ones: {membership}, "
                          f"its low end above 0.5 (unsafe above {UNSAFE_MEMBERSHIP_AUC}).")
    if _f(priv.get("unique_copy_excess_ci_low")) > 0:
        return "review", f"{unique[0].upper()}{unique[1:]}: more than by chance (its low end is above 0)."
    if _f(priv.get("exact_copy_excess_ci_low")) > 0:
        return "review", f"{rows[0].upper()}{rows[1:]}: more than by chance (its low end is above 0)."
    if _f(priv.get("closeness_auc_ci_low")) > REVIEW_CLOSENESS_AUC:
        return "review", (f"Synthetic rows sit closer to the real training patients than unseen patients do: "
                          f"{closeness}; its low end above {REVIEW_CLOSENESS_AUC} (unsafe above "
                          f"{UNSAFE_MEMBERSHIP_AUC}).")
    if _f(priv.get("rare_auc_ci_low")) > REVIEW_RARE_AUC:
        return "review", (f"The rarest training patients sit closer to a synthetic row than the rarest unseen ones "
                          f"(median distance {_f(priv.get('rare_dcr_train_median')):.3f} against "
                          f"{_f(priv.get('rare_dcr_holdout_median')):.3f}): AUC {_ci(priv, 'rare_auc')}, 0.5 = as "
                          f"close{beside('rare_auc')}.")
    for name, risk in attacks.items():
        m = (mar.get("anonymeter") or {}).get(name) or {}
        floor = max(REVIEW_ATTACK_RISK, _f(m.get("ci_high")) if m else REVIEW_ATTACK_RISK)
        if _f(risk.get("ci_low")) > floor:
            return "review", (f"Anonymeter's {_attack_name(name, risk)} risk {_ci(risk, 'risk')} has its low end above "
                              f"{floor:.2f}" + (f", the most marginals alone reach ({_ci(m, 'risk')})" if m else "")
                              + ".")
    if "membership_auc_ci_low" in cop and not _f(cop["membership_auc_ci_low"]) > UNSAFE_MEMBERSHIP_AUC:
        total = int(_f(priv.get("synthetic_rows")))
        used = _f(priv.get("n_synth", total))
        sampled = not np.isnan(used) and used < total  # the distances' seeded sample is what a copier's size is
        seen = f"in the distances (a seeded {int(used):,} of the {total:,})" if sampled else f"({total:,})"
        more = "; measure with more rows (the full profile) to decide" if sampled else ""
        return "review", (f"Too few synthetic rows {seen} to show the table safe: membership inference does not "
                          f"flag even a copier of that size (AUC {_ci(cop, 'membership_auc')}), though none flags "
                          f"this table ({membership}){more}.")
    worst = max(attacks.items(), key=lambda kv: _f(kv[1].get("risk")), default=None)
    tail = (f"; Anonymeter's highest risk, {_attack_name(*worst)}, {_ci(worst[1], 'risk')}"
            f"{_beside_attack(worst[0], cop, mar)}") if worst else ""
    near = ("" if np.isnan(_f(priv.get("closeness_auc")))
            else f"; synthetic rows no closer to training patients than unseen patients are: closeness AUC "
                 f"{_ci(priv, 'closeness_auc')}")
    return "safe", (f"No measure shows a leak: {membership}{near}; {rows}{tail}.")


def _points(priv: dict, key: str) -> str:
    """An excess of two shares in percentage points with its interval: "+5.0 [+3.6, +6.4]"."""
    v, lo, hi = (100 * _f(priv.get(k)) for k in (key, f"{key}_ci_low", f"{key}_ci_high"))
    return f"{v:+.1f} [{lo:+.1f}, {hi:+.1f}]"


def _beside_attack(name: str, cop: dict, mar: dict) -> str:
    """" (a copier 0.54 [0.46, 0.61]; marginals 0.13 [0.06, 0.20])" for one Anonymeter attack."""
    both = [f"{n} {_ci(a, 'risk')}" for n, y in (("a copier", cop), ("marginals", mar))
            for a in [(y.get("anonymeter") or {}).get(name)] if a]
    return f" ({'; '.join(both)})" if both else ""


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
    from sdmetrics.single_table import DCRBaselineProtection, DCROverfittingProtection, DisclosureProtection

    rng = np.random.default_rng([seed, 1])
    sub = {which: sdmetrics_frame(subsample(df, rows, rng), kinds, which) for which, df in frames.items()}
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
