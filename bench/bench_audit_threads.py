"""What the local engine's workers buy the audit (issue 23: a run's audits are its largest
share; the nuisance fits ran one after another on one core of an idle 2-core machine): forked
processes on Linux (engine.FORK), with --threads-only the threads used where it cannot fork.

For each table, the audit (`workflow.pipeline.audit`, the app's and the run's: the median of
`splits_for(n)` cross-fitting splits, nothing kept between calls) with FAIRCAUSE_THREADS = 1,
then 2 (each fit on one BLAS/OpenMP thread either way), alternating, `--repeats` times each;
the numbers of every call are checked to be the one-thread numbers bit for bit. Tables: the
demo, flchain, the 5,000 x 56 widened flchain table (bench_measure.wide_table) and the
structural model's 100,000 x 6 table (bench_scale.csv_for). Read the ratio of medians from one
run: the machine is shared.

    .venv/bin/python bench/bench_audit_threads.py [--tables demo,flchain,wide,scale100k] [--repeats 3] [--threads 1,2] [--threads-only]

Writes bench/out/audit_threads.json (with --threads-only, audit_threads_only.json).
"""

from __future__ import annotations

import os

os.environ["FAIRCAUSE_AUDIT_CACHE"] = "off"  # every audit fitted

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"


def table_for(name: str):
    """(table, roles) of one benchmark table: a cohort's fitting split (a run's second audit),
    or the structural model's 100,000 rows on its true graph."""
    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.workflow.pipeline import split_holdout

    if name == "scale100k":
        from bench_scale import EDGES, csv_for

        from faircause_core.io.data import load_table

        table = load_table(csv_for(100_000))
        return table, derive_roles(CausalGraph(list(table.df.columns), EDGES), "x", "y", x0="M", x1="F")
    from bench_measure import cohort

    table, graph, roles = cohort(name)
    return split_holdout(table, 0.3, 0)[0], roles


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", default="demo,flchain,wide,scale100k")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--threads-only", action="store_true", help="threads, as where the engine cannot fork")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    args.out = args.out or str(OUT / ("audit_threads_only.json" if args.threads_only else "audit_threads.json"))
    from faircause_core import engine
    from faircause_core.workflow import pipeline

    if args.threads_only:
        engine.FORK = False

    rows = []
    for name in args.tables.split(","):
        table, roles = table_for(name)
        seconds, frames = {}, {}
        for _ in range(args.repeats):
            for th in args.threads.split(","):
                os.environ["FAIRCAUSE_THREADS"] = th
                pipeline._AUDITS.clear()  # this process's memo: fitted again
                t = time.perf_counter()
                dec = pipeline.audit(table, roles, seed=0)
                seconds.setdefault(th, []).append(time.perf_counter() - t)
                frames.setdefault(th, set()).add(dec.to_frame().to_json(double_precision=15))
        same = len(set().union(*frames.values())) == 1
        row = {"table": name, "rows": len(table.df), "columns": int(table.df.shape[1]),
               "splits": int(dec.settings.get("splits", 1)),
               "seconds": {th: [round(s, 3) for s in v] for th, v in seconds.items()},
               "median_s": {th: round(statistics.median(v), 3) for th, v in seconds.items()},
               "workers": "threads" if not engine.FORK else "processes",
               "identical_numbers": same, "load_avg": round(os.getloadavg()[0], 2)}
        first = args.threads.split(",")[0]
        row["speedup"] = {th: round(row["median_s"][first] / row["median_s"][th], 2) for th in seconds}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if not same:
            print(f"{name}: the numbers differ between thread counts", file=sys.stderr)
            return 1
    OUT.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
