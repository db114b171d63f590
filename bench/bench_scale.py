"""How cost grows with rows (issue 22 item 4): time and peak memory per step on a table from a
structural model with known effects, at 10,000 to 1,000,000 rows.

The table is tests/test_bayesnet.py's SCM (6 columns: z -> x, x -> w, x -> bmi, w/bmi/z -> y,
x -> y with a direct effect of +0.2 on the probability scale, age with 5% missing), written
as CSV once per size under bench/out/. Each (size, step) runs in a fresh process, so its peak
resident memory (ru_maxrss) is that step's alone, reading the file included:

- read: load_table of the CSV (size limits raised to 2,000,000 rows);
- audit: pipeline.audit (doubly robust, splits by causal.fairness.splits_for(n)), its
  Ctf-DE against the truth 0.2;
- audit_ray: the same on a local Ray with 2 CPUs (engine "ray"), its numbers checked equal;
- bayesnet: BayesNetGenerator fit on all rows, then sample n rows;
- generate: pipeline.run_generation, Bayes net, mirror, no refinement loop, n rows, at most
  1,000,000 (what `generate --generator bayesnet --rows n --no-refine` does), with the run's
  own timings;
- read_wide: load_table of an n x 100 CSV (60 measurements with 1 decimal, 30 integer codes,
  10 text categories; seeded), the issue's width.
- wide_run: the user's path at the issue's width: the structural model's 6 columns beside 94
  of the wide table's (54 measurements, 30 codes, 10 text categories: noise, no effect),
  discovery (the app's default: hill climbing with the backbone; timed alone), then the
  generate step with the discovered graph; 100 columns in all.

    .venv/bin/python bench/bench_scale.py [--sizes 10000,100000,1000000]
        [--steps read,audit,audit_ray,bayesnet] [--out bench/out/scale.json]

Prints one line per (size, step) and writes the JSON; the machine is shared, so each line
also has the 1-minute load average when the step started.
"""

from __future__ import annotations

import os

os.environ.setdefault("FAIRCAUSE_AUDIT_CACHE", "off")  # every audit computed and timed (workflow.audit_store)

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
EDGES = [("z", "x"), ("z", "w"), ("x", "w"), ("x", "y"), ("w", "y"), ("z", "y"),
         ("x", "bmi"), ("z", "bmi"), ("bmi", "y"), ("z", "age")]
TRUE_DE = 0.2


def csv_for(n: int) -> Path:
    path = OUT / f"scale_{n}.csv"
    if not path.exists():
        from tests.test_bayesnet import simulate_scm

        OUT.mkdir(parents=True, exist_ok=True)
        simulate_scm(n=n, seed=0).to_csv(path, index=False)
    return path


def wide_csv_for(n: int) -> Path:
    path = OUT / f"scale_wide_{n}.csv"
    if not path.exists():
        import numpy as np
        import pandas as pd

        rng = np.random.default_rng(0)
        cols = {f"m{i}": np.round(rng.normal(50, 10, n), 1) for i in range(60)}
        cols.update({f"c{i}": rng.integers(0, 6, n) for i in range(30)})
        words = np.array(["none", "mild", "moderate", "severe"])
        cols.update({f"t{i}": words[rng.integers(0, 4, n)] for i in range(10)})
        OUT.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(cols).to_csv(path, index=False)
    return path


def wide_scm_csv_for(n: int) -> Path:
    """The structural model's n rows beside 94 of the wide table's columns (wide_run)."""
    path = OUT / f"scale_widescm_{n}.csv"
    if not path.exists():
        import pandas as pd

        wide = pd.read_csv(wide_csv_for(n))
        keep = [c for c in wide.columns if not (c.startswith("m") and int(c[1:]) >= 54)]
        pd.concat([pd.read_csv(csv_for(n)), wide[keep]], axis=1).to_csv(path, index=False)
    return path


def one(step: str, n: int) -> dict:
    """One step at one size, in this (fresh) process."""
    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.io.data import load_table
    from faircause_core.limits import Limits

    limits = Limits(max_rows=2_000_000, max_file_mb=2_000.0)
    if step == "read_wide":
        t = time.perf_counter()
        table = load_table(wide_csv_for(n), limits=limits)
        return {"read_s": time.perf_counter() - t, "columns": table.df.shape[1],
                "frame_mb": float(table.df.memory_usage(deep=True).sum() / 2**20),
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    t = time.perf_counter()
    table = load_table(wide_scm_csv_for(n) if step == "wide_run" else csv_for(n), limits=limits)
    out = {"read_s": time.perf_counter() - t}
    if step == "wide_run":
        from faircause_core.causal.discovery import discover_report

        t = time.perf_counter()
        found = discover_report(table, "x", "y")
        out["discover_s"] = time.perf_counter() - t
        out["searched_rows"] = int(found.searched_rows)
        graph = found.graph
        out["edges"] = len(graph.edges)
    else:
        graph = CausalGraph(list(table.df.columns), EDGES)
    roles = derive_roles(graph, "x", "y", x0="M", x1="F")
    t = time.perf_counter()
    if step in ("audit", "audit_ray"):
        from faircause_core import engine
        from faircause_core.workflow.pipeline import audit

        eng = engine.make("ray", num_cpus=2) if step == "audit_ray" else engine.make()
        t = time.perf_counter()  # a Ray start is not the audit's cost
        with engine.use(eng):
            done = audit(table, roles, seed=0)
        dec = done.to_frame()
        out["splits"] = int(done.settings.get("splits", 1))
        out["ctf_de"] = float(dec.loc["ctf_de", "estimate"])
        out["ctf_de_ci"] = [float(dec.loc["ctf_de", "ci_low"]), float(dec.loc["ctf_de", "ci_high"])]
        out["de_error"] = out["ctf_de"] - TRUE_DE
    elif step in ("generate", "wide_run"):
        from faircause_core.workflow.pipeline import GenerationSettings, run_generation

        # a run delivers at most a million rows (generators.base.check_rows), whatever it reads
        result = run_generation(table, graph, roles, GenerationSettings(generator="bayesnet", rows=min(n, 1_000_000),
                                                                        seed=0, refine=False))
        out["timings"] = {k: round(v, 2) for k, v in result.timings.items()}
    elif step == "bayesnet":
        from faircause_core.generators.bayesnet import BayesNetGenerator

        gen = BayesNetGenerator().fit(table, graph, roles)
        out["fit_s"] = time.perf_counter() - t
        t2 = time.perf_counter()
        gen.sample(n, seed=0)
        out["sample_s"] = time.perf_counter() - t2
    out["step_s"] = time.perf_counter() - t
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def in_fresh_process(script: str, key: str, what: str, n: int, env: dict) -> dict:
    """`script --one what n` in a fresh process: its JSON line as a row, with the 1-minute load
    average when it started, or the last line of its error."""
    load = os.getloadavg()[0]
    proc = subprocess.run([sys.executable, script, "--one", what, str(n)], capture_output=True, text=True,
                          env=env, cwd=ROOT)
    if proc.returncode:
        return {"n": n, key: what, "failed": proc.stderr.strip().splitlines()[-1:]}
    return {"n": n, key: what, "load": load, **json.loads(proc.stdout.strip().splitlines()[-1])}


def args_or_one(ap: argparse.ArgumentParser, one_fn, what: str) -> argparse.Namespace:
    """The parsed arguments; in a child process (the hidden --one WHAT N of in_fresh_process), run
    one_fn(WHAT, N), print its JSON line and exit."""
    ap.add_argument("--one", nargs=2, metavar=(what, "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_fn(args.one[0], int(args.one[1]))))
        sys.exit(0)
    return args


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--steps", default="read,audit,audit_ray,bayesnet")
    ap.add_argument("--out", default=str(OUT / "scale.json"))
    args = args_or_one(ap, one, "STEP")
    rows = []
    env = dict(os.environ, PYTHONHASHSEED="0", HF_HUB_OFFLINE="1")
    for n in (int(s) for s in args.sizes.split(",")):
        csv_for(n) if "read_wide" not in args.steps else wide_csv_for(n)
        if "wide_run" in args.steps:
            wide_scm_csv_for(n)
        for step in args.steps.split(","):
            row = in_fresh_process(__file__, "step", step, n, env)
            rows.append(row)
            print(json.dumps(row), flush=True)
            Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
