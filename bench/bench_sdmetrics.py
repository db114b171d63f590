"""Our fidelity and privacy numbers next to SDMetrics' own, with the time each takes.

On the demo cohort (assets/nhefs_cohort.csv) and the two other cohorts in ../shared/data
(flchain 7,874 rows, medpar 1,495 rows) the real rows are split, seeded, into a training
half, a holdout quarter (the privacy baseline) and a fresh quarter. Three stand-in
"synthetic" tables are scored against the training half, since their right answers are
known without a generator:
- fresh: the unseen real quarter (same law, never seen: high fidelity, no privacy risk);
- shuffled: the training half with each column permuted on its own (shapes exact,
  dependencies broken, every value copied from a training row);
- copy: the training half itself (perfect fidelity, no privacy at all).

For each: our quality_report (SDMetrics inside) beside SDMetrics' QualityReport called
directly (they must be equal), the mean over every pair (SDMetrics' trend without its
"related in the real data" filter), our DCR and SDMetrics' DCRBaselineProtection,
DCROverfittingProtection and DisclosureProtection (sensitive = the outcome, known = the
protected attribute and the background columns of the cohort's natural question), each on
seeded samples of SDMETRICS_ROWS rows per table, and the seconds each took. The machine is
shared: each row records the load average when it started. --full also times SDMetrics'
DCR metrics on all rows (minutes on flchain).

    .venv/bin/python bench/bench_sdmetrics.py [--full]

Writes bench/out/sdmetrics.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sdmetrics.reports import QualityReport  # noqa: E402
from sdmetrics.single_table import (  # noqa: E402
    DCRBaselineProtection, DCROverfittingProtection, DisclosureProtection,
)

from faircause_core.io.data import load_table  # noqa: E402
from faircause_core.metrics.fidelity import quality_report  # noqa: E402
from faircause_core.metrics.frames import model_kinds, sdmetrics_columns, sdmetrics_frame  # noqa: E402
from faircause_core.metrics.privacy import SDMETRICS_ROWS, distance_to_closest_record  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
# (file, sensitive outcome, known columns: the protected attribute and background columns)
COHORTS = [
    (ROOT / "assets" / "nhefs_cohort.csv", "death", ["sex", "age", "race"]),
    (SHARED / "flchain_cohort.csv", "death", ["sex", "age", "sample.yr"]),
    (SHARED / "medpar_cohort.csv", "died", ["white", "age80", "hmo"]),
]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t0, 2)


def split(df: pd.DataFrame, seed: int = 0):
    """Seeded training half, holdout quarter, fresh quarter."""
    perm = np.random.default_rng(seed).permutation(len(df))
    a, b = len(df) // 2, (3 * len(df)) // 4
    return (df.iloc[perm[:a]].reset_index(drop=True), df.iloc[perm[a:b]].reset_index(drop=True),
            df.iloc[perm[b:]].reset_index(drop=True))


def sdmetrics_direct(train, synth, kinds) -> dict:
    """SDMetrics' QualityReport on the same columns, called the way a user would."""
    meta = {"tables": {"t": {"columns": sdmetrics_columns(kinds)}}}
    report = QualityReport()
    report.num_rows_subsample = None
    report.generate({"t": train[list(kinds)]}, {"t": synth[list(kinds)]}, meta, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return {"quality": report.get_score(), "shape": props["Column Shapes"], "trend": props["Column Pair Trends"]}


def privacy_full(train, synth, hold, kinds) -> dict:
    """SDMetrics' DCR metrics on every row (no sample), timed."""
    meta = {"tables": {"t": {"columns": sdmetrics_columns(kinds)}}}
    frames = [sdmetrics_frame(f, kinds, w) for f, w in ((train, "train"), (synth, "synthetic"), (hold, "holdout"))]
    base, base_s = timed(lambda: DCRBaselineProtection.compute(frames[0], frames[1], meta, "t"))
    over, over_s = timed(lambda: DCROverfittingProtection.compute(*frames, meta, "t"))
    return {"dcr_baseline_protection_all_rows": base, "dcr_baseline_all_rows_s": base_s,
            "dcr_overfitting_protection_all_rows": over, "dcr_overfitting_all_rows_s": over_s}


def one(path: Path, sensitive: str, known: list[str], full: bool) -> list[dict]:
    table = load_table(path)
    kinds = model_kinds(table.schema)
    train, hold, fresh = split(table.df)
    rng = np.random.default_rng(1)
    shuffled = pd.DataFrame({c: train[c].to_numpy()[rng.permutation(len(train))] for c in train})
    rows = []
    for name, synth in (("fresh", fresh), ("shuffled", shuffled), ("copy", train.copy())):
        load = os.getloadavg()[0]
        ours, ours_s = timed(lambda: quality_report(train, synth, table.schema))
        direct, direct_s = timed(lambda: sdmetrics_direct(train, synth, kinds))
        priv, priv_s = timed(lambda: distance_to_closest_record(train, synth, hold, table.schema, seed=0,
                                                                sensitive=sensitive, known=known))
        row = {
            "cohort": path.name, "synthetic": name, "train_rows": len(train), "synthetic_rows": len(synth),
            "holdout_rows": len(hold), "load_avg": round(load, 1),
            "quality": ours["quality"], "shape": ours["shape"], "trend": ours["trend"],
            "sdmetrics_quality": direct["quality"], "sdmetrics_shape": direct["shape"],
            "sdmetrics_trend": direct["trend"],
            "equal_to_sdmetrics": bool(np.allclose([ours[k] for k in ("quality", "shape", "trend")],
                                                   [direct[k] for k in ("quality", "shape", "trend")],
                                                   rtol=0, atol=1e-12, equal_nan=True)),
            "pairs_counted": int(ours["pairs"]["counted"].sum()), "pairs": len(ours["pairs"]),
            "trend_every_pair": float(ours["pairs"]["score"].mean()),
            "quality_report_s": ours_s, "sdmetrics_report_s": direct_s,
            "exact_copy_share": priv["exact_copy_share"], "dcr_ratio": priv["ratio"],
            "dcr_synth_median": priv["dcr_synth_median"], "dcr_holdout_median": priv["dcr_holdout_median"],
            "dcr_baseline_protection": priv["dcr_baseline_protection"],
            "dcr_overfitting_protection": priv["dcr_overfitting_protection"],
            "closer_to_training_share": priv["closer_to_training_share"],
            "disclosure_protection": priv["disclosure_protection"],
            "disclosure_sensitive": sensitive, "disclosure_known": known,
            "sdmetrics_rows": priv["sdmetrics_rows"], "privacy_s": priv_s,
        }
        row.update(privacy_timings(train, synth, hold, kinds, sensitive, known))
        if full:
            row.update(privacy_full(train, synth, hold, kinds))
        rows.append(row)
        print(json.dumps(row, default=float), flush=True)
    return rows


def privacy_timings(train, synth, hold, kinds, sensitive, known) -> dict:
    """Seconds of each SDMetrics privacy metric on the seeded samples the wrapper uses."""
    rng = np.random.default_rng(0)

    def sample(df, which):
        idx = np.sort(rng.choice(len(df), size=min(SDMETRICS_ROWS, len(df)), replace=False))
        return sdmetrics_frame(df.iloc[idx], kinds, which)

    tr, sy, ho = sample(train, "train"), sample(synth, "synthetic"), sample(hold, "holdout")
    meta = {"tables": {"t": {"columns": sdmetrics_columns(kinds)}}}
    numeric = [c for c in known if kinds[c] in ("integer", "continuous")] or None
    _, base_s = timed(lambda: DCRBaselineProtection.compute(tr, sy, meta, "t"))
    _, over_s = timed(lambda: DCROverfittingProtection.compute(tr, sy, ho, meta, "t"))
    _, dis_s = timed(lambda: DisclosureProtection.compute(tr, sy, known, [sensitive], continuous_column_names=numeric))
    return {"dcr_baseline_s": base_s, "dcr_overfitting_s": over_s, "disclosure_s": dis_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also time SDMetrics' DCR metrics on all rows")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for path, sensitive, known in COHORTS:
        if not path.exists():
            print(f"{path}: missing, skipped")
            continue
        rows.extend(one(path, sensitive, known, args.full))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sdmetrics.json").write_text(json.dumps(rows, indent=1, default=float))
    print(pd.DataFrame(rows)[["cohort", "synthetic", "quality", "sdmetrics_quality", "trend_every_pair",
                              "dcr_ratio", "dcr_baseline_protection", "dcr_overfitting_protection",
                              "disclosure_protection", "quality_report_s", "privacy_s"]].to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
