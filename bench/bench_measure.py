"""What one Bayes-net run costs, step by step: audit, fit, sample and every measuring metric.

Runs the Bayes net at default settings, as `python -m faircause_core generate --generator
bayesnet` and the dashboard's Generate page do (pipeline.run_generation: a 30% holdout,
seed 0, as many rows as the cohort has, refinement on, at most 4 rounds), on

- demo: assets/nhefs_cohort.csv with the reviewed DAG (assets/nhefs_dag.json), X = sex,
  Y = death (1,629 x 15);
- flchain, medpar, pbc: the shared cohorts (../shared/data) with the default discovered
  graph (discover with the fairness backbone, seed 0), roles as in bench_bayesnet.py (pbc:
  X = sex, m vs f, Y = status 2, dead, as status >= 2; follow-up time recorded after the
  outcome);
- wide: a 5,000-row x 56-column table, flchain widened (wide_table below): 5,000 of its
  rows (seeded) and 45 derived columns (labs, counts, flags, categories and grades made
  from the pre-outcome columns plus seeded noise, some with missing values), discovered
  the same way.

each with nothing removed (mirror, the page's default) and with DE removed (which also
draws the fair predictor's control). Each run's own `timings` give audit_s, fit_s,
sample_s, measure_s and each measuring step's cost (measure_<step>_s: the synthetic audit,
the fair predictor's synthetic sets, fidelity, utility, privacy, the fair predictor).
Each configuration runs `--repeats` times (the same seed: the same work) and the medians
are reported; the machine is shared, so every run records the 1-minute load average when
it started and the process's CPU seconds beside its wall time. On a loaded machine
`--clock cpu` makes every step's time its CPU seconds (the run's own timings, counted by
time.process_time: close to an idle machine's wall clock where the work is single-threaded).

    .venv/bin/python bench/bench_measure.py [--cohorts demo,flchain,medpar,pbc,wide]
        [--modes mirror,de] [--repeats 3] [--generators bayesnet,llm] [--clock wall|cpu]
        [--measure full,light] [--workers 1,2]
        [--out bench/out/measure.json]

--workers runs each configuration with FAIRCAUSE_THREADS set to each count in turn (the local
engine's workers: forked processes for the audits, the Bayes net's fits and privacy's distances;
a key ends in "xN"); without it, the machine's default (its cores, at most 4). With workers,
read the wall clock: --clock cpu counts this process only, not its forked workers.

Writes bench/out/measure.json and prints one line per run and a table of medians.
"""

from __future__ import annotations

import os

os.environ.setdefault("FAIRCAUSE_AUDIT_CACHE", "off")  # every audit computed and timed (workflow.audit_store)

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data"
COHORTS = {  # path (None: built), x, x0, x1, y, fixed, recorded after the outcome, Y >= threshold is 1
    "demo": (ROOT / "assets" / "nhefs_cohort.csv", "sex", "Male", "Female", "death", ("age", "race"), (), None),
    "flchain": (SHARED / "flchain_cohort.csv", "sex", "M", "F", "death", ("age",), ("futime", "chapter"), None),
    "medpar": (SHARED / "medpar_cohort.csv", "white", 0, 1, "died", ("age80",), (), None),
    "pbc": (SHARED / "pbc_cohort.csv", "sex", "m", "f", "status", ("age",), ("time",), 2),  # 2: dead
    "wide": (None, "sex", "M", "F", "death", ("age",), ("futime", "chapter"), None),
}
MODES = {"mirror": {}, "de": {"de": 1.0}}
STEPS = ("audit_s", "fit_s", "sample_s", "measure_s", "total_s")


def wide_table(rows: int = 5000, extra: int = 45, seed: int = 0) -> pd.DataFrame:
    """flchain widened to `rows` x (11 + extra) columns: its own columns on a seeded sample
    of rows, then derived columns that depend on the pre-outcome ones (age, sex, kappa,
    lambda, creatinine, mgus) and on seeded noise: continuous labs (a sixth with 5% missing),
    integer counts, binary flags, categories (3-5 levels) and three-level grades, in turn."""
    real = pd.read_csv(SHARED / "flchain_cohort.csv")
    rng = np.random.default_rng(seed)
    df = real.iloc[np.sort(rng.choice(len(real), rows, replace=False))].reset_index(drop=True)
    z = lambda s: (s - s.mean()) / s.std()  # noqa: E731
    base = np.column_stack([
        z(df["age"].astype(float)), (df["sex"] == "M").astype(float) - 0.5,
        z(np.log(df["kappa"].astype(float))), z(np.log(df["lambda"].astype(float))),
        z(df["creatinine"].astype(float).fillna(df["creatinine"].median())), df["mgus"].astype(float),
    ])
    kinds = ("lab", "count", "flag", "group", "grade")
    for j in range(extra):
        kind = kinds[j % len(kinds)]
        weights = rng.normal(0, 0.6, base.shape[1]) * (rng.random(base.shape[1]) < 0.5)
        latent = base @ weights + rng.normal(0, 1, rows)
        name = f"{kind}_{j // len(kinds) + 1:02d}"
        if kind == "lab":
            values = np.round(np.exp(0.3 * latent + rng.normal(2, 0.5)), 2)
            if j % 6 == 0:
                values[rng.random(rows) < 0.05] = np.nan
        elif kind == "count":
            values = rng.poisson(np.exp(0.4 * latent + 0.5))
        elif kind == "flag":
            values = (rng.random(rows) < 1 / (1 + np.exp(-(latent - 1.0)))).astype(int)
        elif kind == "group":
            levels = [f"g{k}" for k in range(3 + j % 3)]
            cuts = np.quantile(latent, np.linspace(0, 1, len(levels) + 1)[1:-1])
            values = np.array(levels, dtype=object)[np.searchsorted(cuts, latent)]
        else:
            values = np.array(["low", "mid", "high"], dtype=object)[np.searchsorted(np.quantile(latent, [0.5, 0.85]), latent)]
        df[name] = values
    return df


def cohort(name: str):
    """(table, graph, roles) as the default run sees them."""
    from faircause_core.causal.discovery import discover
    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.io.data import load_table, table_from_frame

    path, x, x0, x1, y, fixed, after, threshold = COHORTS[name]
    table = table_from_frame(wide_table(), name="flchain widened") if path is None else load_table(path)
    if name == "demo":
        graph = CausalGraph.load(ROOT / "assets" / "nhefs_dag.json")
    else:
        graph = discover(table, x, y, fixed=fixed, after_outcome=after, seed=0)
    return table, graph, derive_roles(graph, x, y, x0=x0, x1=x1, threshold=threshold)


def one_run(table, graph, roles, mode: str, generator: str = "bayesnet", measure: str = "full") -> dict:
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.workflow.pipeline import GenerationSettings, run_generation

    settings = GenerationSettings(generator=generator, rows=len(table.df), seed=0,
                                  fairness=FairnessSpec(**MODES[mode]), measure=measure)
    from faircause_core.workflow import pipeline

    pipeline._AUDITS.clear()  # this process's memo of audits: every run fits its own (as FAIRCAUSE_AUDIT_CACHE=off)
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_generation(table, graph, roles, settings)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    fair = result.metrics.get("fair_predictor", {})
    trend = result.metrics.get("fidelity", {})
    return {"load_avg": round(load, 2), "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "timings": result.timings,
            "fair_predictor": {k: fair.get(k) for k in (
                "synthetic_sets", "train_rows", "real_trained_de", "real_trained_de_ci_low",
                "real_trained_de_ci_high", "synthetic_trained_de", "synthetic_trained_de_ci_low",
                "synthetic_trained_de_ci_high", "synthetic_trained_de_mc_se", "reduction", "reduction_ci_low",
                "reduction_ci_high")},
            "control": {k: (fair.get("control") or {}).get(k) for k in (
                "synthetic_trained_de", "synthetic_trained_de_ci_low", "synthetic_trained_de_ci_high",
                "synthetic_trained_de_mc_se")} if fair.get("control") else None,
            "fidelity": {k: trend.get(k) for k in ("shape", "trend", "quality", "trend_pairs_total", "trend_pairs_checked",
                                                   "trend_pairs_sampled", "trend_pairs_counted", "trend_ci_low",
                                                   "trend_ci_high") if k in trend}}


def flat(timings: dict) -> dict:
    """The run's step times (audit_s ... total_s) and its measuring steps' (measure_<step>_s)."""
    return {k: v for k, v in timings.items() if isinstance(v, (int, float))}


def _counts(text: str) -> list[str]:
    """--workers: whole numbers >= 1, comma-separated (argparse says a bad one in one line)."""
    counts = [w.strip() for w in text.split(",") if w.strip()]
    if not all(w.isdigit() and int(w) >= 1 for w in counts):
        raise argparse.ArgumentTypeError(f"worker counts must be whole numbers >= 1, got {text!r}")
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cohorts", default="demo,flchain,medpar,pbc,wide")
    ap.add_argument("--modes", default="mirror,de")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--generators", default="bayesnet",
                    help="bayesnet and/or llm (the bundled language model, quick preset: slow, so name it)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "measure.json"))
    ap.add_argument("--measure", default="full",
                    help="measuring profiles to run, full and/or light (pipeline.MEASURE_PROFILES); a light "
                         "run's key ends in @light")
    ap.add_argument("--workers", default="", type=_counts,
                    help="FAIRCAUSE_THREADS values to run each configuration with, e.g. 1,2")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: time every step by this process's CPU seconds (a shared, loaded machine)")
    args = ap.parse_args()
    if args.clock == "cpu":  # run_generation's own timings then count CPU seconds, not waiting for a core
        import types

        from faircause_core.workflow import pipeline

        pipeline.time = types.SimpleNamespace(perf_counter=time.process_time)
    names = [c for c in args.cohorts.split(",") if c]
    modes = [m for m in args.modes.split(",") if m]
    for n in names:
        if n not in COHORTS:
            sys.exit(f"unknown cohort {n!r}: use {', '.join(COHORTS)}")
    for m in modes:
        if m not in MODES:
            sys.exit(f"unknown mode {m!r}: use {', '.join(MODES)}")
    profiles = [m for m in args.measure.split(",") if m]
    for m in profiles:
        if m not in ("full", "light"):
            sys.exit(f"unknown measuring profile {m!r}: use full or light")
    generators = [g for g in args.generators.split(",") if g]
    for g in generators:
        if g not in ("bayesnet", "llm"):
            sys.exit(f"unknown generator {g!r}: use bayesnet or llm")
    t = time.perf_counter()
    from faircause_core.workflow.pipeline import run_generation  # noqa: F401  (imports apart from the runs)
    import faircause_core.generators.bayesnet  # noqa: F401
    import faircause_core.metrics.fidelity, faircause_core.metrics.privacy, faircause_core.metrics.utility  # noqa: E401,F401
    results = {"cpus": os.cpu_count(), "clock": args.clock, "import_s": round(time.perf_counter() - t, 2),
               "repeats": args.repeats,
               "runs": {}, "medians": {}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in names:
        t = time.perf_counter()
        table, graph, roles = cohort(name)
        prep = time.perf_counter() - t
        shape = f"{len(table.df):,} x {len(table.df.columns)}"
        workers = args.workers or [None]
        for gen, mode, profile, count in [(g, m, p, w) for g in generators for m in modes for p in profiles
                                          for w in workers]:
            key = (f"{name}/{mode}" if gen == "bayesnet" else f"{gen}:{name}/{mode}") + \
                ("" if profile == "full" else f"@{profile}") + ("" if count is None else f" x{count}")
            if count is not None:
                os.environ["FAIRCAUSE_THREADS"] = count
            runs = []
            for r in range(args.repeats):
                runs.append(one_run(table, graph, roles, mode, gen, profile))
                print(key, f"({shape})", json.dumps({"load": runs[-1]["load_avg"], **flat(runs[-1]["timings"])}),
                      flush=True)
            cols = sorted({c for run in runs for c in flat(run["timings"])}, key=lambda c: (c not in STEPS, c))
            med = {c: round(statistics.median(flat(run["timings"]).get(c, float("nan")) for run in runs), 3)
                   for c in cols}
            med["min_total_s"] = min(run["timings"]["total_s"] for run in runs)
            med["measure_within_budget"] = bool(med["measure_s"] <= med["audit_s"] + med["fit_s"] + med["sample_s"])
            results["runs"][key] = {"shape": shape, "prepare_s": round(prep, 2), "runs": runs}
            results["medians"][key] = med
            out.write_text(json.dumps(results, indent=2, default=str) + "\n")  # after each: a long run may stop
    print()
    print(pd.DataFrame(results["medians"]).T.to_string())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
