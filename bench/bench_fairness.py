"""Speed of the fairness decomposition (targets: dr <= 10 s and plugin <= 1 s at 10k x 15).

Times method="dr" (default gbm, 5 folds) and method="plugin" on 1k, 10k and 100k rows of
(a) a synthetic SCM with 15 columns (X, Y, 4 confounders, 9 mediators, mixed kinds) and
(b) the demo cohort bootstrapped (x=sex, x0=Male, x1=Female, y=death, z=[age, race],
w=the rest), then prints the real cohort's decomposition. The machine is shared, so the
table also records the load average at the start of each row.

    .venv/bin/python bench/bench_fairness.py [--sizes 1000,10000,100000] [--repeat 1]
    .venv/bin/python bench/bench_fairness.py --coverage 10   # calibration, slow

Writes bench/out/fairness.json. --coverage R re-runs the default estimator on R fresh
samples (n = 8,000) of every SCM in tests/test_fairness.py and reports, per effect, the mean
and sd of (estimate - truth)/se (0 and 1 when calibrated), how often the 95% interval
covers the truth and how often |error| <= max(0.02, 3 se); writes bench/out/fairness_coverage.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faircause_core.causal.fairness import decompose  # noqa: E402

TARGETS = {("dr", 10_000): 10.0, ("plugin", 10_000): 1.0}


def synthetic(n: int, seed: int = 0) -> tuple[pd.DataFrame, list, list]:
    """15 columns: X, Y, Z1..Z4 (2 numeric, 1 binary, 1 categorical), W1..W9 (mixed)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(50, 12, n)
    bmi0 = rng.normal(26, 4, n)
    race = (rng.random(n) < 0.3).astype(int)
    region = rng.choice(np.array(["north", "south", "east", "west"], dtype=object), n)
    lx = 0.03 * (age - 50) - 0.6 * race + 0.4 * (region == "south")
    x = np.where(rng.random(n) < 1 / (1 + np.exp(-lx)), "Female", "Male").astype(object)
    f = (x == "Female").astype(float)
    w = {
        "chol": 190 + 0.6 * (age - 50) + 12 * f + rng.normal(0, 25, n),
        "sbp": 120 + 0.5 * (age - 50) - 5 * f + 0.8 * (bmi0 - 26) + rng.normal(0, 12, n),
        "smoker": (rng.random(n) < 0.35 - 0.12 * f).astype(int),
        "cigs": np.maximum(0, rng.normal(10 - 4 * f, 8, n)).round(),
        "diet": rng.choice(np.array(["poor", "fair", "good"], dtype=object), n),
        "exercise": np.where(rng.random(n) < 0.4 + 0.1 * f, "yes", "no").astype(object),
        "weight": 80 - 12 * f + 2 * (bmi0 - 26) + rng.normal(0, 8, n),
        "alcohol": rng.poisson(3 - 1.2 * f),
        "stress": rng.normal(0, 1, n) + 0.3 * f,
    }
    ly = -1.5 + 0.04 * (age - 50) + 0.3 * race - 0.4 * f + 0.01 * (w["chol"] - 190) + 0.02 * (w["sbp"] - 120)
    ly = ly + 0.5 * w["smoker"] + 0.2 * (w["diet"] == "poor") - 0.3 * (w["exercise"] == "yes")
    y = (rng.random(n) < 1 / (1 + np.exp(-ly))).astype(int)
    df = pd.DataFrame({"sex": x, "age": age, "bmi0": bmi0, "race": race, "region": region, **w, "death": y})
    return df, ["age", "bmi0", "race", "region"], list(w)


def cohort(n: int | None = None, seed: int = 0) -> tuple[pd.DataFrame, list, list]:
    df = pd.read_csv(ROOT / "assets" / "nhefs_cohort.csv")
    if n is not None:
        df = df.sample(n=n, replace=True, random_state=seed).reset_index(drop=True)
    z = ["age", "race"]
    return df, z, [c for c in df.columns if c not in ("sex", "death", *z)]


def time_one(df, z, w, method, repeat):
    best, res = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        res = decompose(df, "sex", "Male", "Female", "death", z, w, method=method)
        best = min(best, time.perf_counter() - t)
    return best, res


def coverage(reps: int) -> int:
    """Calibration of the default estimator on the test SCMs over fresh samples."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_fairness as T  # the SCMs and their exact truths live with the tests

    effects = T.EFFECTS
    rows = []
    print(f"{'scm':26s} {'effect':7s} {'mean z':>7s} {'sd z':>6s} {'cover95':>8s} {'within':>7s}")
    for scm in T.SCMS:
        true = T.truth(scm)
        z_cols, w_cols = T.roles(scm)
        zs, cover, within = {e: [] for e in effects}, {e: 0 for e in effects}, {e: 0 for e in effects}
        for r in range(reps):
            df = T.simulate(scm, T.N, seed=50_000 + r)
            d = decompose(df, "x", *scm.labels, "y", z_cols, w_cols, continuous_outcome=scm.continuous)
            f = d.to_frame()
            for e in effects:
                est, se = f.loc[e, "estimate"], f.loc[e, "se"]
                if se > 0:
                    zs[e].append((est - true[e]) / se)
                cover[e] += f.loc[e, "ci_low"] <= true[e] <= f.loc[e, "ci_high"] or se == 0
                within[e] += abs(est - true[e]) <= max(0.02, 3 * se)
        for e in effects:
            z = np.array(zs[e]) if zs[e] else np.zeros(1)
            row = {"scm": scm.name, "effect": e, "reps": reps, "mean_z": float(z.mean()), "sd_z": float(z.std()),
                   "coverage95": cover[e] / reps, "within_tolerance": within[e] / reps}
            rows.append(row)
            print(f"{scm.name:26s} {e:7s} {row['mean_z']:+7.2f} {row['sd_z']:6.2f} {row['coverage95']:8.2f} "
                  f"{row['within_tolerance']:7.2f}", flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fairness_coverage.json").write_text(json.dumps(rows, indent=2))
    print(f"\nwrote {out / 'fairness_coverage.json'}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs per cell")
    ap.add_argument("--coverage", type=int, default=0, metavar="R", help="calibration over R samples per SCM")
    args = ap.parse_args()
    if args.coverage:
        return coverage(args.coverage)
    sizes = [int(s) for s in args.sizes.split(",")]

    decompose(*synthetic(500)[:1], "sex", "Male", "Female", "death", ["age"], ["chol"])  # warm imports
    rows = []
    print(f"{'data':10s} {'rows':>7s} {'cols':>4s} {'method':7s} {'seconds':>8s} {'target':>7s} {'load':>5s}  "
          f"{'tv':>7s} {'ctf_de':>7s} {'ctf_ie':>7s} {'ctf_se':>7s}")
    for name, make in (("synthetic", synthetic), ("cohort", cohort)):
        for n in sizes:
            df, z, w = make(n)
            for method in ("dr", "plugin"):
                load = os.getloadavg()[0]
                secs, res = time_one(df, z, w, method, args.repeat)
                target = TARGETS.get((method, n)) if name == "synthetic" else None
                rows.append({
                    "data": name, "rows": n, "columns": df.shape[1], "method": method, "seconds": secs,
                    "target_seconds": target, "load_avg_1m": load, "effects": res.to_dict()["estimates"],
                    "warnings": res.warnings,
                })
                e = res.to_dict()["estimates"]
                tgt = f"{target:7.1f}" if target else " " * 7
                print(f"{name:10s} {n:7d} {df.shape[1]:4d} {method:7s} {secs:8.2f} {tgt} {load:5.1f}  "
                      f"{e['tv']:+.4f} {e['ctf_de']:+.4f} {e['ctf_ie']:+.4f} {e['ctf_se']:+.4f}", flush=True)

    real = {}
    df, z, w = cohort()
    for method in ("dr", "plugin"):
        d = decompose(df, "sex", "Male", "Female", "death", z, w, method=method)
        real[method] = d.to_dict()
        print(f"\nDemo cohort (n={d.n}, Male n0={d.n0}, Female n1={d.n1}), method={method}:")
        print(d.to_frame().round(4).to_string())
        for msg in d.warnings:
            print("  warning:", msg)

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fairness.json").write_text(json.dumps({"timings": rows, "demo_cohort": real}, indent=2))
    print(f"\nwrote {out / 'fairness.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
