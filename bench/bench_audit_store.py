"""What the kept audits (workflow.audit_store) save a run: the demo's default Bayes-net run
(reviewed demo DAG, X = sex Male -> Female, Y = death, DE removed, seed 0, 1,629 rows, full
measuring) as `python -m faircause_core generate` runs it, each call a fresh process as each
app run is: first with an empty audit folder (the run fits both audits), then again (it reads
them), `--repeats` times each, alternating, every run's own timings (audit_s, total_s) and
the process's wall time recorded. The numbers of the two runs must be the same: checked.

    .venv/bin/python bench/bench_audit_store.py [--repeats 3]

Writes bench/out/audit_store.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "assets" / "nhefs_cohort.csv"
DAG = ROOT / "assets" / "nhefs_dag.json"


def generate(folder: Path, out: Path) -> dict:
    env = dict(os.environ, FAIRCAUSE_AUDIT_CACHE=str(folder), PYTHONHASHSEED="0", HF_HUB_OFFLINE="1",
               FAIRCAUSE_MEASURE="full")
    report = out / "report.json"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "faircause_core", "generate", "--data", str(DATA), "--sensitive", "sex",
                    "--x0", "Male", "--x1", "Female", "--outcome", "death", "--dag", str(DAG), "--rows", "1629",
                    "--generator", "bayesnet", "--remove", "DE", "--seed", "0", "--out", str(out / "rows.csv"),
                    "--report", str(report)], cwd=ROOT, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t
    rep = json.loads(report.read_text())
    return {"wall_s": round(wall, 2), "timings": rep["timings"], "real": rep["real_effects"]["estimates"],
            "synthetic": rep["synthetic_effects"]["estimates"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    first, second = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            folder, out = Path(tmp) / "audits", Path(tmp)
            first.append(generate(folder, out))
            second.append(generate(folder, out))
            assert second[-1]["timings"]["audits_reused"] == 1 and first[-1]["timings"]["audits_reused"] == 0
            assert (first[-1]["real"], first[-1]["synthetic"]) == (second[-1]["real"], second[-1]["synthetic"])

    def med(runs, key):
        return round(statistics.median(r["timings"][key] if key != "wall_s" else r["wall_s"] for r in runs), 2)

    result = {"load_average": os.getloadavg(), "repeats": args.repeats,
              "fitted": {k: med(first, k) for k in ("audit_s", "total_s", "wall_s")},
              "read": {k: med(second, k) for k in ("audit_s", "total_s", "wall_s")},
              "runs": {"fitted": first, "read": second}}
    out = ROOT / "bench" / "out" / "audit_store.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("load_average", "fitted", "read")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
