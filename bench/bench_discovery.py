"""Time causal discovery (hill climb BIC and PC) on real cohorts and bootstrapped copies.

The real cohorts are the demo (assets/nhefs_cohort.csv) and, when present, flchain and medpar
from ../shared/data (skipped with a note otherwise), each with its natural X and Y. Rows of
the demo are bootstrapped (seeded) to 1k, 10k and 100k. Above discovery.MAX_DISCOVERY_ROWS
(hill climb) / MAX_PC_ROWS (PC) the search runs on a seeded subsample, so the large sizes
time discretization plus the capped search. Bootstrapped rows repeat, which makes every
dependence look significant: graphs get denser with n. Hill climb scores with pgmpy's own
pandas-based BIC ("bic-d"), about 5-7x slower than the numpy copy we used to keep, and still
well inside the demo budget. Prints a table and writes bench/out/discovery.json. The one-off
pgmpy import (it pulls torch) is timed apart.

Usage: .venv/bin/python bench/bench_discovery.py [--sizes 1000,10000,100000] [--repeats 1]
(--sizes "" times the real cohorts only)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from faircause_core.causal import discovery  # noqa: E402
from faircause_core.io.data import load_table, table_from_frame  # noqa: E402
from faircause_core.causal.knowledge import default_knowledge  # noqa: E402

X, Y, FIXED = "sex", "death", ("age", "race")
BUDGET_S = 5.0  # demo cohort, per method
SHARED = ROOT.parent / "shared" / "data"
#: name, file, X, Y, fixed: the natural question of each cohort (see ../shared/data/README.md).
COHORTS = (
    ("cohort", ROOT / "assets" / "nhefs_cohort.csv", X, Y, FIXED),
    ("flchain", SHARED / "flchain_cohort.csv", "sex", "death", ("age",)),
    ("medpar", SHARED / "medpar_cohort.csv", "white", "died", ("age80",)),
)


def _time_once(table, roles, method: str, seed: int) -> tuple[float, int]:
    x, y, fixed = roles
    t0 = time.perf_counter()
    g = discovery.discover(table, x, y, fixed=fixed, method=method, seed=seed)
    dt = time.perf_counter() - t0
    kn = default_knowledge(g.nodes, x, y, fixed)
    assert not kn.violations(g) and not g.children(y), "discovery broke the knowledge"
    return dt, len(g.edges)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    t0 = time.perf_counter()
    import pgmpy.causal_discovery  # noqa: F401
    import_s = time.perf_counter() - t0

    datasets = []
    for name, path, x, y, fixed in COHORTS:
        if path.exists():
            datasets.append((name, load_table(path), (x, y, fixed)))
        else:
            print(f"skipping {name}: {path} not found")
    cohort = datasets[0][1]
    rng = np.random.default_rng(args.seed)
    for n in sizes:
        rows = rng.integers(0, len(cohort.df), n)
        datasets.append((f"bootstrap {n:,}", table_from_frame(cohort.df.iloc[rows].reset_index(drop=True),
                                                              name=f"bootstrap{n}"), (X, Y, FIXED)))

    results = []
    header = f"{'data':<18}{'rows':>9}{'method':>11}{'seconds':>10}{'edges':>7}"
    print(f"pgmpy import: {import_s:.2f} s (once per process, not counted below)")
    print(f"caps: hill climb runs on at most {discovery.MAX_DISCOVERY_ROWS:,} rows, "
          f"PC on at most {discovery.MAX_PC_ROWS:,}")
    print(header)
    print("-" * len(header))
    for name, table, roles in datasets:
        for method in discovery.METHODS:
            times, edges = [], 0
            for _ in range(args.repeats):
                dt, edges = _time_once(table, roles, method, args.seed)
                times.append(dt)
            best = min(times)
            rec = {"data": name, "x": roles[0], "y": roles[1], "rows": len(table.df),
                   "columns": table.df.shape[1], "method": method,
                   "seconds": round(best, 3), "all_seconds": [round(t, 3) for t in times], "edges": edges}
            if name == "cohort":
                rec["budget_s"] = BUDGET_S
                rec["within_budget"] = best <= BUDGET_S
            results.append(rec)
            print(f"{name:<18}{len(table.df):>9,}{method:>11}{best:>10.2f}{edges:>7}", flush=True)

    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "discovery",
        "x": X, "y": Y, "fixed": list(FIXED), "seed": args.seed,
        "max_discovery_rows": discovery.MAX_DISCOVERY_ROWS, "max_pc_rows": discovery.MAX_PC_ROWS,
        "pgmpy_import_seconds": round(import_s, 3),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None},
        "results": results,
    }
    (out_dir / "discovery.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out_dir / 'discovery.json'}")
    slow = [r for r in results if r.get("within_budget") is False]
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
