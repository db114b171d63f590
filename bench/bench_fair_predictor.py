"""The fair predictor on the demo over several 70/30 splits: issue 8's acceptance (mirror
mode's reduction interval contains 0; with DE removed its lower bound is above 0) per split.

Built as run_generation builds it (tests/test_fair_predictor_demo.py does the same at seed 0):
the Bayes net fitted on the split's 70% (reviewed DAG), the delivered draw at the run's seed,
pipeline.predictor_tables, then metrics.utility.fair_predictor on the 30% holdout.

    .venv/bin/python bench/bench_fair_predictor.py [--seeds 0,1,2,3,4,5]

Writes bench/out/fair_predictor.json and prints the README's table.
"""

from __future__ import annotations

import os

os.environ.setdefault("FAIRCAUSE_AUDIT_CACHE", "off")  # every audit computed and timed (workflow.audit_store)

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.generators.base import FairnessSpec  # noqa: E402
from faircause_core.generators.bayesnet import BayesNetGenerator  # noqa: E402
from faircause_core.io.data import load_table  # noqa: E402
from faircause_core.metrics.utility import fair_predictor  # noqa: E402
from faircause_core.present.explain import percent  # noqa: E402
from faircause_core.workflow.pipeline import GenerationSettings, predictor_roles, predictor_tables, split_holdout  # noqa: E402
from faircause_core.workflow.refine import fresh_seed  # noqa: E402


def pct(v) -> str:
    return "undefined" if v is None else percent(v)


def one(seed: int, table, graph, roles, mode: str) -> dict:
    fit, holdout = split_holdout(table, 0.3, seed)
    gen = BayesNetGenerator().fit(fit, graph, roles)
    fairness = FairnessSpec(de=1.0) if mode == "DE" else FairnessSpec()
    settings = GenerationSettings(generator="bayesnet", rows=len(table.df), seed=seed, fairness=fairness)
    delivered = gen.sample(settings.rows, fairness, seed=fresh_seed(seed))
    pool, control = predictor_tables(gen, settings, delivered, fairness, len(fit.df))
    out = fair_predictor(fit.df, pool, holdout, predictor_roles(graph, roles), fit.schema, seed=seed, control=control,
                         exclude=tuple(sorted(graph.descendants(roles.y))))
    return dict(seed=seed, mode=mode, **{k: out[k] for k in (
        "synthetic_sets", "train_rows", "real_trained_de", "real_trained_de_ci_low", "real_trained_de_ci_high",
        "synthetic_trained_de", "synthetic_trained_de_ci_low", "synthetic_trained_de_ci_high",
        "reduction", "reduction_ci_low", "reduction_ci_high")},
        control=None if out["control"] is None else {k: out["control"][k] for k in (
            "synthetic_trained_de", "reduction", "reduction_ci_low", "reduction_ci_high")})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2,3,4,5")
    args = ap.parse_args()
    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = CausalGraph.from_json((ROOT / "assets" / "nhefs_dag.json").read_text())
    roles = derive_roles(graph, "sex", "death", "Male", "Female")
    rows = []
    print("| split seed | mode | sets | real-trained DE | synthetic-trained DE | reduction [95% CI] | acceptance |")
    print("|---|---|---|---|---|---|---|")
    for seed in [int(s) for s in args.seeds.split(",")]:
        for mode in ("mirror", "DE"):
            t = time.perf_counter()
            r = one(seed, table, graph, roles, mode)
            r["seconds"] = time.perf_counter() - t
            rows.append(r)
            lo, hi = r["reduction_ci_low"], r["reduction_ci_high"]
            ok = (lo is not None and lo > 0) if mode == "DE" else (lo is None or lo < 0 < hi)
            print(f"| {seed} | {mode} | {r['synthetic_sets']} | {r['real_trained_de']:+.3f} "
                  f"[{r['real_trained_de_ci_low']:+.3f}, {r['real_trained_de_ci_high']:+.3f}] | "
                  f"{r['synthetic_trained_de']:+.3f} [{r['synthetic_trained_de_ci_low']:+.3f}, "
                  f"{r['synthetic_trained_de_ci_high']:+.3f}] | {pct(r['reduction'])} [{pct(lo)}, {pct(hi)}] | "
                  f"{'met' if ok else 'missed'} |", flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fair_predictor.json").write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
