"""Run every benchmark in turn (`make bench`); each writes its JSON under bench/out/.

`--long` adds the ones that take hours on a 2-core machine (a million and two million rows,
the language model's learning curves, prompt mode's copies, the app with a 2,000,000-row
file). Every script in bench/ is in one of the two lists (tests/test_docs.py checks)."""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "bench_discovery.py",
    "bench_fairness.py",
    "bench_bayesnet.py",
    "bench_llm.py",
    "bench_lm_threads.py",
    "bench_great.py",
    "bench_sdmetrics.py",
    "bench_results.py",
    "bench_sweep.py",
    "bench_lm_ablation.py",
    "bench_estimators.py",
    "bench_fair_predictor.py",
    "bench_quality_draws.py",
    "bench_measure.py",
    "bench_audit_store.py",
    "bench_strength.py",
    "bench_overlap.py",
    "bench_audit_splits.py",
    "bench_audit_threads.py",
    "bench_same_estimator.py",
    "bench_synthetic_coverage.py",
    "record_timelines.py",
    "bench_page_reruns.py",
]
#: Hours each on a 2-core machine; `project_scale.py` reads what bench_audit_tasks.py and
#: bench_scale.py wrote, so it runs after them.
LONG = [
    "bench_lm_schedule.py",
    ["bench_lm_where.py", "--part", "small"],
    ["bench_lm_where.py", "--part", "text"],
    ["bench_lm_where.py", "--part", "large"],
    "bench_prompt_copies.py",
    "bench_read.py",
    "bench_audit_tasks.py",
    "bench_scale.py",
    "project_scale.py",
    "bench_app_big.py",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--long", action="store_true", help="also the benchmarks that take hours")
    failed = []
    for entry in SCRIPTS + (LONG if ap.parse_args().long else []):
        name, *args = [entry] if isinstance(entry, str) else entry
        path = HERE / name
        if not path.exists():
            print(f"== {name}: missing, skipped")
            continue
        print(f"== {' '.join([name, *args])}", flush=True)
        if subprocess.call([sys.executable, str(path), *args], cwd=HERE.parent) != 0:
            failed.append(" ".join([name, *args]))
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
