"""Speed of the trade-off sweep (issue 10): five dial values, one fitted generator.

Targets: a five-point sweep takes at most 30 s with the Bayes net on the demo, and at most
60 s with a cached language model. Demo cohort (assets/nhefs_cohort.csv), the reviewed demo
DAG (assets/nhefs_dag.json), X = sex (Male -> Female), Y = death, DE swept through
0, 0.25, 0.5, 0.75, 1, seed 0, defaults of workflow.sweep.run_sweep (rows per point: the
fitting split's 1,140; effects on 20,000 rows for the Bayes net).

For the language model (the bundled SmolLM2-135M, quick preset, built as `generate` builds
it, pipeline.make_generator) the fit is first warmed into the fine-tune cache (timed and
reported apart), then the sweep is timed, so "cached" means a fine-tune cache hit. Its
points use --lm-rows rows each, for the effects too (sampling, not fitting, is its cost).
The machine is shared: the load average is recorded beside every number, and the process's
CPU time beside the wall time (the work is single-threaded, so on an idle core the wall time
would be close to the CPU time).

    .venv/bin/python bench/bench_sweep.py [--skip-lm] [--lm-rows 1140] [--points 0,0.25,0.5,0.75,1]

Writes bench/out/sweep.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.io.data import load_table  # noqa: E402
from faircause_core.workflow.pipeline import GenerationSettings, make_generator, split_holdout  # noqa: E402
from faircause_core.workflow.sweep import parse_points, run_sweep  # noqa: E402

TARGETS = {"bayesnet": 30.0, "llm": 60.0}


def load() -> float:
    return round(os.getloadavg()[0], 2)


def one(name: str, table, graph, roles, points, **options) -> dict:
    before = load()
    t, cpu = time.perf_counter(), time.process_time()
    result = run_sweep(table, graph, roles, "de", points, generator=name, seed=0, **options)
    total, cpu = time.perf_counter() - t, time.process_time() - cpu
    d = result.to_dict()
    return {
        "generator": name, "points": len(points), "total_s": round(total, 2), "cpu_s": round(cpu, 2),
        "target_s": TARGETS[name],
        "met": total <= TARGETS[name], "fit_s": result.timings["fit_s"], "fit_reused": d["settings"]["fit_reused"],
        "per_point_s": [p["seconds"] for p in d["points"]], "rows": d["settings"]["rows"],
        "measure_rows": d["settings"]["measure_rows"], "load_before": before, "load_after": load(),
        "ctf_de": [round(p["effects"]["ctf_de"]["estimate"], 4) for p in d["points"]],
        "quality": [round(p["quality"], 3) for p in d["points"]],
        "auroc_tstr": [round(p["auroc_tstr"], 3) for p in d["points"]],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="0,0.25,0.5,0.75,1")
    ap.add_argument("--skip-lm", action="store_true")
    ap.add_argument("--lm-rows", type=int, default=1140)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "sweep.json"))
    args = ap.parse_args()
    points = parse_points(args.points)
    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = CausalGraph.from_json((ROOT / "assets" / "nhefs_dag.json").read_text())
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    rows = [one("bayesnet", table, graph, roles, points)]
    warm = None
    if not args.skip_lm:
        fit_table, _ = split_holdout(table, 0.3, 0)
        gen = make_generator(GenerationSettings(generator="llm"))
        before, t = load(), time.perf_counter()
        gen.fit(fit_table, graph, roles)
        warm = {"fit_s": round(time.perf_counter() - t, 1), "was_cached": bool(getattr(gen, "from_cache_", False)),
                "load_before": before, "load_after": load()}
        rows.append(one("llm", table, graph, roles, points, rows=args.lm_rows, measure_rows=args.lm_rows))
    print(f"{'generator':<10}{'points':>7}{'fit s':>8}{'cached':>8}{'points s':>10}{'total s':>9}{'CPU s':>7}"
          f"{'target':>8}{'met':>5}{'load':>12}")
    for r in rows:
        print(f"{r['generator']:<10}{r['points']:>7}{r['fit_s']:>8.1f}{str(r['fit_reused']):>8}"
              f"{sum(r['per_point_s']):>10.1f}{r['total_s']:>9.1f}{r['cpu_s']:>7.1f}{r['target_s']:>8.0f}{'yes' if r['met'] else 'NO':>5}"
              f"{r['load_before']:>6.1f}-{r['load_after']:<5.1f}")
    if warm:
        print(f"language model warm-up fit (into the fine-tune cache): {warm['fit_s']:.1f} s "
              f"(already cached: {warm['was_cached']}), load {warm['load_before']}-{warm['load_after']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"sweeps": rows, "lm_warm_fit": warm, "cpus": os.cpu_count(),
                                          "when": time.strftime("%Y-%m-%d %H:%M")}, indent=2))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
