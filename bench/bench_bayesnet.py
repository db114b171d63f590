"""Speed and fairness of the Bayes-net generator (the fast preview and the baseline).

Times fit + sample on the demo cohort (1,629 rows) and on the cohort bootstrapped to 10k
and 100k rows (graph: assets/nhefs_dag.json, x=sex, x0=Male, x1=Female, y=death); then, on
the real cohort, the plug-in decomposition of the real rows, of a mirror sample and of a
DE-removed sample (with and without the refinement loop), and the fidelity quality report
of each. The machine is shared: each row records the load average when it started.

    .venv/bin/python bench/bench_bayesnet.py [--sizes 1629,10000,100000] [--rows 5000]

Then, per cohort (demo, flchain, medpar), the acceptance protocol of
tests/test_faithful_bayesnet.py with both CPD kinds (posterior, logistic): the default
discovered graph with the fairness backbone, a 30% holdout (seed 0), a plain fit, 10,000
mirror and DE-removed rows; the doubly robust decomposition (estimate, 95% CI) of the real
fitting split and of each sample, the generator's own effects (BayesNetGenerator.effects)
and SDMetrics scores beside the real holdout's; plus one whole bayesnet run_generation on
the demo. `--skip-faithful` leaves that out.

Writes bench/out/bayesnet.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("FAIRCAUSE_AUDIT_CACHE", "off")  # every audit computed and timed (workflow.audit_store)

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faircause_core.io.data import load_table, table_from_frame  # noqa: E402
from faircause_core.causal.fairness import decompose  # noqa: E402
from faircause_core.generators.base import FairnessSpec  # noqa: E402
from faircause_core.generators.bayesnet import BayesNetGenerator  # noqa: E402
from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.workflow.refine import refine  # noqa: E402

EFFECTS = ["tv", "ctf_de", "ctf_ie", "ctf_se", "ett"]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def speed(table, graph, roles, sizes, rows) -> list[dict]:
    """fit + sample seconds on the cohort bootstrapped to each size."""
    out = []
    for size in sizes:
        load = os.getloadavg()[0]
        if size == len(table.df):
            t = table
        else:
            idx = np.random.default_rng(size).integers(0, len(table.df), size)
            t = table_from_frame(table.df.iloc[idx].reset_index(drop=True), name=f"nhefs x{size}")
        gen, fit_s = timed(lambda: BayesNetGenerator().fit(t, graph, roles))
        _, sample_s = timed(lambda: gen.sample(rows, FairnessSpec(de=1), seed=0))
        _, sample_100k = timed(lambda: gen.sample(100_000, FairnessSpec(de=1), seed=0))
        out.append({"train_rows": size, "fit_s": round(fit_s, 2), f"sample_{rows}_s": round(sample_s, 3),
                    "sample_100000_s": round(sample_100k, 3), "load_avg": round(load, 1)})
        print(out[-1], flush=True)
    return out


def effects(df, roles) -> dict:
    frame = decompose(df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, method="plugin").to_frame()
    return {e: {"estimate": round(float(frame.loc[e, "estimate"]), 4), "se": round(float(frame.loc[e, "se"]), 4)}
            for e in EFFECTS}


def quality(real, synth, schema) -> dict:
    try:
        from faircause_core.metrics.fidelity import quality_report
    except ImportError:
        return {}
    q = quality_report(real, synth, schema)
    return {k: round(float(q[k]), 3) for k in ("shape", "trend", "quality")}


def fairness_runs(table, graph, roles, rows) -> dict:
    gen = BayesNetGenerator().fit(table, graph, roles)
    real = decompose(table.df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, method="plugin")
    runs = {"real": {"effects": effects(table.df, roles)}}
    for label, spec in (("mirror", FairnessSpec()), ("de_removed", FairnessSpec(de=1))):
        synth, secs = timed(lambda: gen.sample(rows, spec, seed=0))
        runs[label] = {"effects": effects(synth, roles), "quality": quality(table.df, synth, table.schema),
                       "sample_s": round(secs, 3)}
    res, secs = timed(lambda: refine(gen, rows, FairnessSpec(de=1), roles, real, method="plugin", max_rounds=5))
    runs["de_removed_refined"] = {
        "effects": effects(res.data, roles), "quality": quality(table.df, res.data, table.schema),
        "converged": res.converged, "rounds": len(res.rounds), "final_alpha_de": round(res.final_fairness.de, 3),
        "message": res.message, "seconds": round(secs, 2),
    }
    return runs


COHORTS = {  # path, x, x0, x1, y, fixed, recorded after the outcome (as in tests/test_faithful_bayesnet.py)
    "demo": (ROOT / "assets" / "nhefs_cohort.csv", "sex", "Male", "Female", "death", ("age", "race"), ()),
    "flchain": (ROOT.parent / "shared" / "data" / "flchain_cohort.csv", "sex", "M", "F", "death", ("age",),
                ("futime", "chapter")),
    "medpar": (ROOT.parent / "shared" / "data" / "medpar_cohort.csv", "white", 0, 1, "died", ("age80",), ()),
}


def interval(frame, e) -> dict:
    est, se = float(frame.loc[e, "estimate"]), float(frame.loc[e, "se"])
    return {"estimate": round(est, 4), "ci": [round(est - 1.96 * se, 4), round(est + 1.96 * se, 4)], "se": round(se, 4)}


def faithful(rows: int = 10_000) -> dict:
    """The acceptance protocol per cohort and CPD kind (module docstring)."""
    from faircause_core.causal.discovery import discover
    from faircause_core.workflow.pipeline import audit, split_holdout

    out = {}
    for name, (path, x, x0, x1, y, fixed, after) in COHORTS.items():
        if not path.exists():
            continue
        table = load_table(path)
        graph = discover(table, x, y, fixed=fixed, after_outcome=after, seed=0)
        roles = derive_roles(graph, x, y, x0=x0, x1=x1)
        fit, hold = split_holdout(table, 0.3, 0)
        dr = lambda df: decompose(df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, seed=0).to_frame()  # noqa: E731
        real = audit(fit, roles, seed=0).to_frame()  # as the product audits it (median of cross-fitting splits)
        res = {"edges": len(graph.edges), "y_parents": len(graph.parents(y)),
               "real": {e: interval(real, e) for e in EFFECTS}, "holdout_quality": quality(fit.df, hold, fit.schema)}
        for cpd in ("posterior", "logistic"):
            gen, fit_s = timed(lambda: BayesNetGenerator(cpd=cpd).fit(fit, graph, roles))
            mirror, sample_s = timed(lambda: gen.sample(rows, seed=0))
            removed = gen.sample(rows, FairnessSpec(de=1.0), seed=0)
            res[cpd] = {
                "fit_s": round(fit_s, 2), f"sample_{rows}_s": round(sample_s, 3),
                "mirror": {e: interval(dr(mirror), e) for e in EFFECTS},
                "de_removed": {e: interval(dr(removed), e) for e in EFFECTS},
                "generator_mirror": {e: round(float(v), 4) for e, v in gen.effects().items()},
                "generator_de_removed": {e: round(float(v), 4) for e, v in gen.effects(fairness=FairnessSpec(de=1)).items()},
                "quality": quality(fit.df, mirror, fit.schema),
            }
        out[name] = res
        print(name, json.dumps(res), flush=True)
    return out


def whole_run() -> dict:
    """One bayesnet run_generation on the demo with the default (backbone) graph and settings."""
    from faircause_core.causal.discovery import discover
    from faircause_core.workflow.pipeline import GenerationSettings, run_generation

    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = discover(table, "sex", "death", fixed=("age", "race"), seed=0)
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    out = {}
    for label, spec in (("mirror", FairnessSpec()), ("de_removed", FairnessSpec(de=1.0))):
        settings = GenerationSettings(generator="bayesnet", rows=1629, fairness=spec)
        res, secs = timed(lambda: run_generation(table, graph, roles, settings))
        out[label] = {"seconds": round(secs, 2), "timings": res.timings}
    print("whole demo run:", out, flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1629,10000,100000")
    ap.add_argument("--rows", type=int, default=5000, help="synthetic rows per sample")
    ap.add_argument("--skip-faithful", action="store_true", help="leave out the per-cohort acceptance runs")
    args = ap.parse_args()
    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = CausalGraph.load(ROOT / "assets" / "nhefs_dag.json")
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    # pgmpy's first import is slow (it pulls in torch): time it once, apart from fit.
    _, import_s = timed(lambda: __import__("pgmpy.models"))
    print(f"pgmpy import: {import_s:.1f} s")
    timing = speed(table, graph, roles, sizes, args.rows)
    print(pd.DataFrame(timing).to_string(index=False))
    runs = fairness_runs(table, graph, roles, args.rows)
    rows = []
    for label, r in runs.items():
        row = {"run": label, **{e: r["effects"][e]["estimate"] for e in EFFECTS}}
        row.update(r.get("quality", {}))
        rows.append(row)
    print(pd.DataFrame(rows).to_string(index=False))
    print("refinement:", runs["de_removed_refined"]["message"])

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    result = {"pgmpy_import_s": round(import_s, 2), "timing": timing, "fairness": runs}
    if not args.skip_faithful:
        result["faithful"] = faithful()
        result["whole_run"] = whole_run()
    (out / "bayesnet.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out / 'bayesnet.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
