"""Why the language model's training schedule is what it is: held-out learning curves.

For each cohort (the three shared ones, as the faithfulness tests build them, plus a
simulated XOR outcome as the positive control: an interaction no additive logistic model
can express, with more parent configurations than rows) and each schedule variant, the
default generator is fitted on the pipeline's fitting split with early stopping OFF (patience
larger than the budget) for the quick preset's budget. Recorded per run: the stopping rows'
summed held-out loss after every evaluation (the curve), the step with the lowest, the
per-column held-out gains on the separate selection rows at that step (Holm-selected), the
seconds, and where the default early-stopping rule (patience counted after the settling
share of the budget) and the old rule (patience 2 from step 0, every 4 steps) would have
stopped on that same curve, with the loss they would have kept.

    nice -n 10 .venv/bin/python bench/bench_lm_schedule.py [--cohorts demo,flchain,medpar,xor]
        [--variants default,fast,gate_decay,all_layers] [--max-steps N] [--preset quick|thorough]

Writes bench/out/lm_schedule.json; docs/language_model.md quotes it.
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
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_lm_ablation import cohort  # noqa: E402
from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.generators.llm import LLMGenerator, step_budget  # noqa: E402
from faircause_core.io.data import table_from_frame  # noqa: E402

VARIANTS = {
    "default": {},
    "fast": {"lr": 3e-4, "gate_lr": 3e-2},  # 3x the body and gate learning rates
    "gate_decay": {"gate_decay": True},  # the old gate: under weight decay
    "all_layers": {"train_layers": 8},  # every kept layer and the input slots train (slower steps)
}


def xor_cohort(n: int = 3000, seed: int = 0):
    """y depends on a XOR b (P = 0.85 / 0.15); x and c are noise parents, so y has about
    2,000 parent configurations for 2,100 training rows: the posterior's counts are thin and
    its logistic centre cannot express XOR."""
    rng = np.random.default_rng(seed)
    a, b, c = (rng.normal(size=n).round(2) for _ in range(3))
    x = np.where(rng.random(n) < 0.5, "p", "q")
    y = np.where(rng.random(n) < np.where((a > 0) ^ (b > 0), 0.85, 0.15), "yes", "no")
    df = pd.DataFrame({"x": x, "a": a, "b": b, "c": c, "y": y})
    graph = CausalGraph(list(df.columns), [("x", "y"), ("a", "y"), ("b", "y"), ("c", "y")])
    from faircause_core.workflow.pipeline import split_holdout

    table = table_from_frame(df, name="xor.csv")
    fit, holdout = split_holdout(table, 0.3, 0)
    return table, graph, derive_roles(graph, "x", "y", "p", "q"), fit, holdout


def simulate_stop(curve, every: int, patience: int, after: int, min_gain: float = 1e-3):
    """(step stopped, step kept, loss kept) of an early-stopping rule replayed on a curve of
    [step, loss] pairs: patience counted only for evaluations after step `after`."""
    best_loss, best_step, stale = curve[0][1], 0, 0
    for step, loss in curve[1:]:
        if step % every:
            continue
        if loss < best_loss - min_gain:
            best_loss, best_step, stale = loss, step, 0
        elif step > after:
            stale += 1
            if stale >= patience:
                return step, best_step, best_loss
    return curve[-1][0], best_step, best_loss


def run_one(name: str, variant: str, max_steps: int | None, preset: str = "quick") -> dict:
    table, graph, roles, fit, holdout = xor_cohort() if name == "xor" else cohort(name)
    steps = step_budget(preset, len(fit.df), 32)
    if max_steps:
        steps = min(steps, max_steps)
    every = max(4, int(round(steps / 20)))
    options = {**VARIANTS[variant]}
    kw = {k: options.pop(k) for k in ("lr", "train_layers") if k in options}
    torch.manual_seed(0)
    gen = LLMGenerator(cache=False, train_steps=steps, train_options={"patience": 10_000, "eval_every": every, **options},
                       **kw)
    t0 = time.perf_counter()
    gen.fit(fit, graph, roles)
    seconds = time.perf_counter() - t0
    s = gen.train_stats_
    curve = s["stop_curve"]
    settle = max(2 * every, int(np.ceil(0.3 * steps)))
    new = simulate_stop(curve, every, 3, settle)
    old = simulate_stop([c for c in curve if c[0] % 4 == 0 or c[0] == 0], 4, 2, 0) if every == 4 else None
    rec = {"cohort": name, "variant": variant if preset == "quick" else f"{variant} {preset}", "fit_rows": len(fit.df),
           "steps": steps, "eval_every": every,
           "fit_s": round(seconds, 1), "train_s": round(s["seconds"], 1), "load": round(os.getloadavg()[0], 1),
           "best_step": s["best_step"], "curve": curve, "columns_used": s["lm_columns"],
           "per_column": {c: {k: v[k] for k in ("gain", "se", "p_holm", "used")} for c, v in s["per_column"].items()},
           "rule_default": {"stopped": new[0], "kept_step": new[1], "kept_loss": new[2]},
           "rule_old": None if old is None else {"stopped": old[0], "kept_step": old[1], "kept_loss": old[2]},
           "best_loss": min(c[1] for c in curve), "start_loss": curve[0][1]}
    print(json.dumps({k: v for k, v in rec.items() if k not in ("curve", "per_column")}), flush=True)
    return rec


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cohorts", default="demo,medpar,flchain,xor")
    ap.add_argument("--variants", default="default")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--preset", default="quick", choices=("quick", "thorough"), help="the budget's preset")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "lm_schedule.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = json.loads(path.read_text()) if path.exists() else []
    for variant in args.variants.split(","):
        for name in args.cohorts.split(","):
            rec = run_one(name, variant, args.max_steps, args.preset)
            done = [r for r in done if (r["cohort"], r["variant"]) != (name, rec["variant"])] + [rec]
            path.write_text(json.dumps(done, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
