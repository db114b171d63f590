"""Why the overlap warning fires at an effective sample size under 20% (causal/overlap.py).

A structural causal model with known effects (two confounders Z, a binary X whose
dependence on Z has strength s, two mediators W, a binary Y) is drawn at n rows for a grid
of s: larger s, worse overlap. The default estimator (decompose, one cross-fitting split,
the estimator of every synthetic measurement) runs on each draw; the truths are the exact
counterfactual means of the model, computed on 1,000,000 Monte Carlo rows. Per draw:
the x1 group's effective sample size share (ess_x1 / n1, causal.overlap), and whether each
effect's 95% interval covers its truth. Reported per band of ESS share: coverage of Ctf-DE,
Ctf-IE and Ctf-SE, and the mean |error| / se.

    .venv/bin/python bench/bench_overlap.py [--reps 25] [--n 2000]

Writes bench/out/overlap.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faircause_core.causal.fairness import decompose  # noqa: E402

STRENGTHS = (0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25)
BANDS = ((0.0, 0.1), (0.1, 0.15), (0.15, 0.2), (0.2, 0.3), (0.3, 0.5), (0.5, 1.01))


def _sig(v):
    return 1 / (1 + np.exp(-v))


def model(s: float, n: int, rng) -> pd.DataFrame:
    """n rows of the model with overlap strength s."""
    z1, z2 = rng.normal(size=n), rng.normal(size=n)
    x = (rng.random(n) < _sig(s * (z1 + 0.5 * z2))).astype(int)
    w1 = (rng.random(n) < _sig(-0.3 + 0.8 * x + 0.5 * z1)).astype(int)
    w2 = 0.7 * x + 0.4 * z2 + rng.normal(size=n)
    y = (rng.random(n) < _sig(-1.0 + 0.5 * x + 0.6 * z1 + 0.4 * z2 + 0.6 * w1 + 0.3 * w2)).astype(int)
    return pd.DataFrame({"z1": z1, "z2": z2, "x": x, "w1": w1, "w2": w2, "y": y})


def truth(s: float, n: int = 1_000_000) -> dict:
    """The model's exact effects by Monte Carlo: the same units (noise) with X set for Y's
    and W's mechanisms as each counterfactual needs."""
    rng = np.random.default_rng(1)
    z1, z2 = rng.normal(size=n), rng.normal(size=n)
    x = (rng.random(n) < _sig(s * (z1 + 0.5 * z2))).astype(int)
    uw1, ew2, uy = rng.random(n), rng.normal(size=n), rng.random(n)

    def y_of(x_y, x_w):
        w1 = (uw1 < _sig(-0.3 + 0.8 * x_w + 0.5 * z1)).astype(int)
        w2 = 0.7 * x_w + 0.4 * z2 + ew2
        return (uy < _sig(-1.0 + 0.5 * x_y + 0.6 * z1 + 0.4 * z2 + 0.6 * w1 + 0.3 * w2)).astype(float)

    in0 = x == 0
    y_f = y_of(x, x)
    a = y_of(np.ones(n), np.ones(n))[in0].mean()  # E[Y_{x1} | x0]
    b = y_of(np.ones(n), x)[in0].mean()  # E[Y_{x1, W_x0} | x0]
    mu0, mu1 = y_f[in0].mean(), y_f[~in0].mean()
    return {"ctf_de": b - mu0, "ctf_ie": b - a, "ctf_se": a - mu1, "tv": mu1 - mu0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=25)
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    rows = []
    t0 = time.perf_counter()
    for s in STRENGTHS:
        true = truth(s)
        for r in range(args.reps):
            df = model(s, args.n, np.random.default_rng([int(s * 100), r]))
            d = decompose(df, "x", 0, 1, "y", ["z1", "z2"], ["w1", "w2"], seed=r)
            f = d.to_frame()
            ov = d.overlap
            row = {"s": s, "rep": r, "ess_share_x1": ov["ess_x1"] / ov["n1"], "ess_share_x0": ov["ess_x0"] / ov["n0"],
                   "share_extreme": ov["share_extreme"], "max_weight": ov["max_weight"]}
            for e in ("ctf_de", "ctf_ie", "ctf_se"):
                row[f"{e}_covered"] = bool(f.loc[e, "ci_low"] <= true[e] <= f.loc[e, "ci_high"])
                se = f.loc[e, "se"]
                row[f"{e}_z"] = float(abs(f.loc[e, "estimate"] - true[e]) / se) if se > 0 else 0.0
            rows.append(row)
        print(f"s={s}: done ({time.perf_counter() - t0:.0f} s)", flush=True)
    table = pd.DataFrame(rows)
    bands = []
    for lo, hi in BANDS:
        sub = table[(table["ess_share_x1"] >= lo) & (table["ess_share_x1"] < hi)]
        if not len(sub):
            continue
        band = {"ess_share_x1": [lo, min(hi, 1.0)], "draws": int(len(sub))}
        for e in ("ctf_de", "ctf_ie", "ctf_se"):
            band[f"{e}_coverage"] = round(float(sub[f"{e}_covered"].mean()), 3)
            band[f"{e}_mean_abs_z"] = round(float(sub[f"{e}_z"].mean()), 2)
        bands.append(band)
        print(band, flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "overlap.json").write_text(json.dumps({"n": args.n, "reps": args.reps, "strengths": STRENGTHS,
                                                  "bands": bands, "draws": rows}, indent=1))


if __name__ == "__main__":
    main()
