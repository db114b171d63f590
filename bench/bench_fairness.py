"""Speed of the fairness decomposition (targets: dr <= 10 s and plugin <= 1 s at 10k x 15).

Times method="dr" (default gbm, 5 folds) and method="plugin" on 1k, 10k and 100k rows of
(a) a synthetic SCM with 15 columns (X, Y, 4 confounders, 9 mediators, mixed kinds) and
(b) the demo cohort bootstrapped (x=sex, x0=Male, x1=Female, y=death, z=[age, race],
w=the rest), then prints the real cohort's decomposition. The machine is shared, so the
table also records the load average at the start of each row.

    .venv/bin/python bench/bench_fairness.py [--sizes 1000,10000,100000] [--repeat 1]

Writes bench/out/fairness.json.
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

from faircause_core.fairness import decompose  # noqa: E402

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs per cell")
    args = ap.parse_args()
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
