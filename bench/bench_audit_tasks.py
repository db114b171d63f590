"""What each audit task costs (issue 22 item 4's projection, bench/project_scale.py): one
cross-fitting split of the 1,000,000-row structural model (bench_scale.py's table), each of its
20 nuisance fits (covariate set x fold x outcome or propensity model: the engine's tasks) timed
as it runs on the local engine. A cluster cannot finish a split faster than its largest task.

    .venv/bin/python bench/bench_audit_tasks.py [--rows 1000000]

Writes bench/out/audit_tasks_<rows>.json and prints each task's seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("PYTHONHASHSEED", "0")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_scale import EDGES, OUT, csv_for  # noqa: E402
from faircause_core import engine  # noqa: E402


class TimedEngine(engine.LocalEngine):
    """The local engine, timing each task."""

    def __init__(self):
        self.seconds: list = []

    def map(self, fn, items, shared=None, done=None):
        def timed(s, item):
            t = time.perf_counter()
            out = fn(s, item)
            self.seconds.append({"task": [str(part) for part in item] if isinstance(item, tuple) else str(item),
                                 "fn": fn.__name__, "s": time.perf_counter() - t})
            return out

        return super().map(timed, items, shared=shared, done=done)


def main() -> None:
    from faircause_core.causal.fairness import decompose
    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.io.data import load_table
    from faircause_core.limits import Limits

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    table = load_table(csv_for(args.rows), limits=Limits(max_rows=2_000_000, max_file_mb=2_000.0))
    roles = derive_roles(CausalGraph(list(table.df.columns), EDGES), "x", "y", x0="M", x1="F")
    eng = TimedEngine()
    t = time.perf_counter()
    with engine.use(eng):
        decompose(table.df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, seed=0, splits=1)
    total = time.perf_counter() - t
    fits = [s for s in eng.seconds if s["fn"] == "_fit_nuisance"]
    work = sum(s["s"] for s in fits)
    result = {"rows": args.rows, "split_s": total, "tasks": len(fits), "task_s": work,
              "largest_task_s": max(s["s"] for s in fits), "each": fits}
    for s in fits:
        print(" ".join(s["task"]), f"{s['s']:.2f} s")
    print(f"one split {total:.1f} s: {len(fits)} fit tasks {work:.1f} s, the largest {result['largest_task_s']:.1f} s")
    (OUT / f"audit_tasks_{args.rows}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
