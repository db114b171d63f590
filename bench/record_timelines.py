"""Record what a real run reports, and when: the stage reports (stage, done, total) of one
Bayes-net run at default settings with their wall-clock times, on the demo (1,629 x 16) and on
the 5,000 x 56 widened flchain table (bench_measure.wide_table). tests/test_progress.py replays
them with a fake clock and checks the time-left estimate against what the run really took.

    .venv/bin/python bench/record_timelines.py [--cohorts demo,wide] [--out tests/data/timelines]

Each file: {cohort, generator, rows, columns, load_avg, events: [[t, stage, done, total], ...], end}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def record(name: str, generator: str = "bayesnet") -> dict:
    from bench_measure import cohort

    from faircause_core.workflow.pipeline import GenerationSettings, run_generation

    table, graph, roles = cohort(name)
    events, t0 = [], time.perf_counter()

    def progress(stage, done, total):
        events.append([round(time.perf_counter() - t0, 3), str(stage), int(done), int(total)])

    load = os.getloadavg()[0]
    run_generation(table, graph, roles, GenerationSettings(generator=generator, rows=len(table.df), seed=0),
                   progress=progress)
    end = time.perf_counter() - t0
    events.append([round(end, 3), "saving the run", 0, 1])  # the app's job saves the run next
    return {"cohort": name, "generator": generator, "rows": len(table.df), "columns": int(table.df.shape[1]),
            "load_avg": round(load, 2), "events": events, "end": round(end + 0.2, 3)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cohorts", default="demo,wide")
    ap.add_argument("--out", default=str(ROOT / "tests" / "data" / "timelines"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.cohorts.split(","):
        rec = record(name)
        (out / f"{name}_bayesnet.json").write_text(json.dumps(rec, indent=1))
        print(f"{name}: {rec['rows']} x {rec['columns']}, {len(rec['events'])} reports, {rec['end']:.1f} s "
              f"(load {rec['load_avg']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
