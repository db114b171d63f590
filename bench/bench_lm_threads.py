"""The language model's fit on one torch thread, on two, and with llm.ThreadGovernor choosing,
on a free machine and beside a process that keeps one core busy.

The demo as a user gets it (discover with age and race fixed, seed 0; the pipeline's 70/30
split; sex, Male -> Female; death), `LLMGenerator(cache=False)` at default settings, each fit
in a fresh process, imports and discovery apart. Records the fit's seconds, a hash of 1,629
sampled rows (the thread count must change the time, never the rows) and the governor's
seconds on each count.

    .venv/bin/python bench/bench_lm_threads.py [--threads 1,2,auto] [--busy off,on]

Writes bench/out/lm_threads.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def once(threads: str) -> dict:
    """One fit in this process."""
    from faircause_core.causal.discovery import discover
    from faircause_core.causal.graph import derive_roles
    from faircause_core.generators.llm import LLMGenerator
    from faircause_core.generators.lm.threads import AUTO
    from faircause_core.io.data import load_table
    from faircause_core.workflow.pipeline import split_holdout

    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = discover(table, "sex", "death", fixed=("age", "race"), seed=0)
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    fit, _ = split_holdout(table, 0.3, 0)
    gen = LLMGenerator(cache=False, threads=AUTO if threads == "auto" else int(threads))
    t0 = time.perf_counter()
    gen.fit(fit, graph, roles)
    fit_s = time.perf_counter() - t0
    rows = gen.sample(1629, seed=0)
    return {"threads": threads, "fit_s": round(fit_s, 2), "rows_md5": hashlib.md5(rows.to_csv().encode()).hexdigest(),
            "governor": gen.language_model_.get("torch_threads"), "load_avg": round(os.getloadavg()[0], 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2,auto")
    ap.add_argument("--busy", default="off,on")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(once(args.one)))
        return 0
    env = {**os.environ, "PYTHONHASHSEED": "0", "HF_HUB_OFFLINE": "1"}
    out = []
    for busy in args.busy.split(","):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy == "on" else None
        try:
            for threads in args.threads.split(","):
                done = subprocess.run([sys.executable, __file__, "--one", threads], env=env, capture_output=True,
                                      text=True, check=True)
                row = {"busy": busy, **json.loads(done.stdout.strip().splitlines()[-1])}
                print(row, flush=True)
                out.append(row)
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
    path = ROOT / "bench" / "out" / "lm_threads.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
