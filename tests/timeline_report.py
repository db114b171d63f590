"""Where `make test`'s wall time goes: each test file's seconds, each worker's busy time, and
how long a worker idled at the end (pytest-xdist --dist loadfile keeps a file on one worker).

    FAIRCAUSE_TEST_TIMELINE=/tmp/tl.jsonl make test
    .venv/bin/python tests/timeline_report.py /tmp/tl.jsonl [--top 30]

The lines are written by tests/conftest.py (pytest_runtest_logreport), one per test phase.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    rows = [json.loads(line) for line in open(args.path) if line.strip()]
    if any(r["worker"] != "main" for r in rows):
        rows = [r for r in rows if r["worker"] != "main"]
    if not rows:
        print("no test phases recorded")
        return 1
    t0, t1 = min(r["start"] for r in rows), max(r["stop"] for r in rows)
    files, workers, tests = defaultdict(float), defaultdict(list), defaultdict(float)
    for r in rows:
        took = r["stop"] - r["start"]
        files[r["test"].split("::")[0]] += took
        tests[r["test"]] += took
        workers[r["worker"]].append((r["start"], r["stop"]))
    print(f"wall {t1 - t0:.0f} s; test seconds {sum(files.values()):.0f} over {len(files)} files, {len(tests)} tests")
    for w, spans in sorted(workers.items()):
        busy, last = sum(b - a for a, b in spans), max(b for _, b in spans)
        print(f"  {w}: busy {busy:.0f} s, done at {last - t0:.0f} s (idle at the end {t1 - last:.0f} s)")
    print(f"\nfiles by seconds (top {args.top}):")
    for f, s in sorted(files.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {s:7.1f}  {f}")
    print(f"\ntests by seconds (top {args.top}):")
    for t, s in sorted(tests.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {s:7.1f}  {t}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
