"""Speed and memory of the default language-model generator on the demo cohort, against
the Bayes net in the same run.

The demo cohort (assets/nhefs_cohort.csv) as a user gets it: the default graph (discover
with the fairness backbone, age and race fixed, seed 0), the pipeline's 70/30 split
(split_holdout, seed 0), X = sex (Male -> Female), Y = death, the bundled SmolLM2-135M,
the quick preset, no fine-tune cache. Each repetition runs in a fresh process (imports and
model load included, GGUF conversion excluded: it happens once per machine and is timed
separately) and records: fit, sampling 1,629 rows, their sum, re-sampling the same rows
with DE removed, the Bayes net's fit + 1,629 rows, the delay between a cancel pressed at
2.5 s into training and fit() raising, and peak RSS. The median of --repeats runs is reported
beside the load average, since the machine is shared.

    .venv/bin/python bench/bench_llm.py [--repeats 3] [--rows 1629] [--threads N]

Writes bench/out/llm.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def once(rows: int, threads: int) -> dict:
    """One repetition in this process; returns its timings."""
    t_start = time.perf_counter()
    from faircause_core.causal.discovery import discover
    from faircause_core.causal.graph import derive_roles
    from faircause_core.generators.base import CancelToken, Cancelled, FairnessSpec
    from faircause_core.generators.bayesnet import BayesNetGenerator
    from faircause_core.generators.llm import LLMGenerator
    from faircause_core.io.data import load_table
    from faircause_core.workflow.pipeline import split_holdout

    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = discover(table, "sex", "death", fixed=("age", "race"), seed=0)
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    fit, _ = split_holdout(table, 0.3, 0)
    setup_s = time.perf_counter() - t_start
    extra = {"threads": threads} if threads else {}
    gen = LLMGenerator(cache=False, **extra)
    t0 = time.perf_counter()
    gen.fit(fit, graph, roles)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gen.sample(rows, seed=0)
    sample_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gen.sample(rows, FairnessSpec(de=1.0), seed=0)
    resample_s = time.perf_counter() - t0
    load_after = os.getloadavg()[0]
    t0 = time.perf_counter()
    BayesNetGenerator().fit(fit, graph, roles).sample(rows, seed=0)
    bayesnet_s = time.perf_counter() - t0

    token, at = CancelToken(), {}

    def press_later():  # a user's click lands anywhere inside a step, not just between steps
        time.sleep(2.5)
        at["t"] = time.perf_counter()
        token.cancel()

    def progress(stage, done, total):
        if stage == "fine-tuning" and "thread" not in at:
            at["thread"] = threading.Thread(target=press_later, daemon=True)
            at["thread"].start()

    try:
        LLMGenerator(cache=False, train_steps=64, **extra).fit(fit, graph, roles, progress=progress, cancel=token)
        cancel_s = None  # training ended before the click
    except Cancelled:
        cancel_s = time.perf_counter() - at["t"]
    stats = gen.train_stats_
    return {"setup_s": setup_s, "fit_s": fit_s, "load_model_s": gen.load_seconds_, "train_s": stats["seconds"],
            "steps": stats["steps"], "best_step": stats["best_step"], "lm_columns": stats["lm_columns"],
            "sample_s": sample_s, "fit_plus_sample_s": fit_s + sample_s, "resample_de_removed_s": resample_s,
            "bayesnet_fit_plus_sample_s": bayesnet_s, "cancel_in_training_s": cancel_s,
            "threads": gen.threads, "load_avg": round(load_after, 1),
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rows", type=int, default=1629)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = the generator's default)")
    ap.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.once:
        print(json.dumps(once(args.rows, args.threads)))
        return 0
    from faircause_core.generators.lm import store as lm_store

    t0 = time.perf_counter()
    lm_store.ensure_default_model()  # conversion once per machine, not counted below
    convert_s = time.perf_counter() - t0
    env = {**os.environ, "PYTHONHASHSEED": "0", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    runs = []
    for i in range(args.repeats):
        load_before = os.getloadavg()[0]
        out = subprocess.run([sys.executable, __file__, "--once", "--rows", str(args.rows), "--threads", str(args.threads)],
                             env=env, capture_output=True, text=True, check=True)
        run = json.loads(out.stdout.strip().splitlines()[-1])
        run["load_before"] = round(load_before, 1)
        runs.append(run)
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in run.items()),
              flush=True)
    frame = pd.DataFrame(runs)
    numeric = [c for c in frame.columns if c not in ("lm_columns",) and pd.api.types.is_numeric_dtype(frame[c])]
    median = frame[numeric].median().round(2).to_dict()
    summary = {"convert_s_once": round(convert_s, 1), "repeats": args.repeats, "rows": args.rows, "median": median,
               "max_peak_rss_gb": round(float(frame["peak_rss_gb"].max()), 2),
               "targets": {"fit_plus_sample_s": 60, "resample_de_removed_s": 5, "peak_rss_gb": 2.5,
                           "cancel_in_training_s": 5}}
    print(pd.Series(median).to_string())
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "llm.json").write_text(json.dumps({"summary": summary, "runs": runs}, indent=1, default=float) + "\n")
    print(f"wrote {out / 'llm.json'}")
    return 0 if np.isfinite(median["fit_plus_sample_s"]) else 1


if __name__ == "__main__":
    sys.exit(main())
