"""A projection on paper (issue 22 item 4): `generate --generator bayesnet --no-refine` on
10,000,000 rows on a Ray cluster of N machines like this one (2 cores each), built from the
per-task costs bench_scale.py and bench_read.py measured here. Nothing here runs the product.

Inputs (bench/out/, written by those scripts):
- scale_small.json, scale_1m.json: the audit's time per cross-fitting split at 100,000 and
  1,000,000 rows (6-column SCM), its time on a local Ray with 2 CPUs, the Bayes net's fit and
  sampling, peak memory;
- scale_gen_1m.json: `generate` at 1,000,000 rows, its own timings per step;
- read_2m.json: reading 2,000,000 x 100 columns;
- audit_tasks_1000000.json (bench_audit_tasks.py): one split's 20 nuisance fits at 1,000,000
  rows, each timed: the largest (the propensity model on Z and W) is what a cluster cannot
  divide.

The model, each line an assumption stated with the measurement behind it:
- an audit split costs time linear in rows (measured per split: 4.9 s at 100,000 rows,
  47.8 s at 1,000,000: x9.8 for x10 rows); `splits_for(n)` gives 1 split from about 4.2
  million rows;
- a run at n rows audits four tables of one split each at 10 million rows: the real fitting
  split (70%) and all real rows, the one measuring round (all n rows, one split) and the
  delivered rows (the 1,000,000-row run's timings show each: audit_s 321 s for the two real
  audits at 4 splits, the round inside sample_s 44 s, the synthetic audit 173 s);
- a task runs on one core; Ray's efficiency on this machine is the measured speed-up of the
  100,000-row audit on a local Ray (49 s -> 36 s on 2 cores: 1.34 of an ideal 2, so 0.67);
- with splits as the only audit tasks (the audit before commit 309dc6b), a one-split audit is
  one task: no machine count shortens it; with each split's 20 nuisance fits as tasks (the
  audit now), a split takes its work over the cores (times Ray's efficiency) but never less
  than its largest fit (measured: 4.3 s of 43.8 s at 1,000,000 rows, so at most about 10x);
- the Bayes net's fit is mostly fixed cost (2.5 s at 10,000 rows, 3.1 s at 100,000, 4.0 s at
  1,000,000: the slope between the last two per row); its per-column fits (6 here) and its
  sampling batches are tasks; measuring other
  than the synthetic audit (privacy, utility, the fair predictor, fidelity: stated subsamples)
  costs what it did at 1,000,000 rows;
- the driver holds every table in memory: peak memory linear in rows from the 1,000,000-row
  run.

    .venv/bin/python bench/project_scale.py [--rows 10000000] [--machines 1,4,16]

Prints the README's table (markdown).
"""

from __future__ import annotations

import os

os.environ.setdefault("FAIRCAUSE_AUDIT_CACHE", "off")  # every audit computed and timed (workflow.audit_store)

import argparse
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
CORES = 2  # per machine, like this one


def _load(name: str) -> list:
    return json.loads((OUT / name).read_text())


def measured() -> dict:
    small, big, gen = _load("scale_small.json"), _load("scale_1m.json"), _load("scale_gen_1m.json")[0]
    step = {(r["n"], r["step"]): r for r in small + big}
    audit_1m = step[(1_000_000, "audit")]
    audit_100k, ray_100k = step[(100_000, "audit")], step[(100_000, "audit_ray")]
    return {
        "split_s_per_row": audit_1m["step_s"] / audit_1m["splits"] / 1_000_000,
        "split_s_100k": audit_100k["step_s"] / audit_100k["splits"],
        "split_s_1m": audit_1m["step_s"] / audit_1m["splits"],
        "ray_efficiency": audit_100k["step_s"] / ray_100k["step_s"] / 2,
        # the fit is mostly a fixed cost (2.5 s at 10,000 rows, 3.1 s at 100,000, 4.0 s at 1,000,000):
        # its growth per row is the slope between the two larger sizes
        "fit_s_100k": step[(100_000, "bayesnet")]["fit_s"],
        "fit_s_per_row": (step[(1_000_000, "bayesnet")]["fit_s"] - step[(100_000, "bayesnet")]["fit_s"]) / 900_000,
        "sample_s_per_row": step[(1_000_000, "bayesnet")]["sample_s"] / 1_000_000,
        "other_measure_s": sum(gen["timings"][k] for k in ("measure_fidelity_s", "measure_utility_s",
                                                           "measure_privacy_s", "measure_fair_predictor_s")),
        "gen_peak_gb_per_row": gen["peak_mb"] / 1024 / 1_000_000,
        "columns": 6,
        "largest_task_share": (lambda t: t["largest_task_s"] / t["task_s"])(
            json.loads((OUT / "audit_tasks_1000000.json").read_text())),
    }


def project(m: dict, rows: int, machines: int, fold_tasks: bool) -> dict:
    """Seconds per step and in all for one run of `rows` rows on `machines` machines."""
    slots = CORES * machines
    eff = m["ray_efficiency"] if slots > 1 else 1.0

    def audit(n: float) -> float:  # one split at these sizes (splits_for)
        work = m["split_s_per_row"] * n
        if not fold_tasks or slots == 1:
            return work  # one task, or one core
        return max(work / (slots * eff), work * m["largest_task_share"])

    audits = audit(0.7 * rows) + audit(rows)  # the fitting split and all real rows
    fit = (m["fit_s_100k"] + m["fit_s_per_row"] * (rows - 100_000)) / max(1.0, min(m["columns"], slots * eff))
    sample = m["sample_s_per_row"] * rows / max(1.0, slots * eff)
    rounds = audit(rows)  # the one measuring round
    measure = audit(rows) + m["other_measure_s"]
    total = audits + fit + sample + rounds + measure
    return {"audits": audits, "fit": fit, "sample": sample + rounds, "measure": measure, "total": total,
            "driver_gb": m["gen_peak_gb_per_row"] * rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--machines", default="1,4,16")
    args = ap.parse_args()
    m = measured()
    print(f"measured: a split {m['split_s_100k']:.1f} s at 100,000 rows, {m['split_s_1m']:.1f} s at 1,000,000; "
          f"Ray efficiency {m['ray_efficiency']:.2f}; Bayes-net fit {m['fit_s_100k']:.1f} s at 100,000 rows plus "
          f"{m['fit_s_per_row'] * 1e6:.1f} s and sampling "
          f"{m['sample_s_per_row'] * 1e6:.2f} s per million rows; other measuring {m['other_measure_s']:.0f} s; "
          f"the largest audit task {m['largest_task_share']:.1%} of a split\n")
    print(f"| {args.rows:,} rows | machines (2 cores each) | real audits | fit | sampling + measuring round "
          "| measuring | in all | driver memory |")
    print("|---|---|---|---|---|---|---|---|")
    for fold_tasks in (False, True):
        what = "fits as tasks (now)" if fold_tasks else "splits as tasks (before)"
        for n in (int(x) for x in args.machines.split(",")):
            p = project(m, args.rows, n, fold_tasks)
            print(f"| {what} | {n} | {p['audits'] / 60:.0f} min | {p['fit']:.0f} s | {p['sample'] / 60:.1f} min "
                  f"| {p['measure'] / 60:.1f} min | {p['total'] / 60:.0f} min | {p['driver_gb']:.0f} GB |")


if __name__ == "__main__":
    main()
