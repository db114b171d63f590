"""Run every benchmark in turn (`make bench`); each writes its JSON under bench/out/."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "bench_discovery.py",
    "bench_fairness.py",
    "bench_bayesnet.py",
    "bench_llm.py",
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
]


def main() -> int:
    failed = []
    for name in SCRIPTS:
        path = HERE / name
        if not path.exists():
            print(f"== {name}: missing, skipped")
            continue
        print(f"== {name}", flush=True)
        if subprocess.call([sys.executable, str(path)], cwd=HERE.parent) != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
