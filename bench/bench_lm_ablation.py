"""What the language model contributes: pretrained SmolLM2, the same architecture randomly
initialised, and the skip tables alone, against the Bayes net, on one cohort.

Every variant is fitted on the same seeded 70% split with the same seed and step budget
(the quick preset unless --steps). For each: fit and sample seconds; the generator-level
TV, Ctf-DE, Ctf-IE, Ctf-SE (doubly robust, 95% CI) on --effect-rows sampled rows (mirror,
no steering) beside the real fitting split's; SDMetrics quality and TSTR AUROC of the
first n rows (n = the cohort's size, what a run delivers) against the fit split and the
30% holdout; and, for the language model, the held-out log loss per column (the plain
fit criterion: lower is better, judged on rows the model never saw).

    .venv/bin/python bench/bench_lm_ablation.py [--cohort demo|medpar|flchain]
        [--variants pretrained,random,skip,bayesnet] [--steps N] [--effect-rows 10000]

Cohorts: the demo (X = sex, Y = death, reviewed DAG assets/nhefs_dag.json, or with
--discovered a graph from discover with age and race fixed); medpar
(X = white 1 vs 0, Y = died, age80 fixed) and flchain (X = sex F vs M, Y = death, futime
and chapter dropped: recorded after the outcome) with a graph from causal.discovery.discover.
Writes bench/out/lm_ablation_<cohort>.json.
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

from faircause_core.causal.fairness import decompose  # noqa: E402
from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.generators.bayesnet import BayesNetGenerator  # noqa: E402
from faircause_core.generators.llm import LLMGenerator  # noqa: E402
from faircause_core.generators.lm import slots as _slots, train as _train  # noqa: E402,F401  (loaded now)
from faircause_core.io.data import load_table, table_from_frame  # noqa: E402
from faircause_core.metrics.fidelity import quality_report  # noqa: E402
from faircause_core.metrics.utility import tstr_auroc  # noqa: E402

EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se")
DATA = ROOT.parent / "shared" / "data"


def cohort(name: str, discovered: bool = False):
    """(full table, graph, roles, fit table, holdout frame) for one named cohort; the demo
    takes its reviewed DAG unless `discovered`."""
    if name == "demo":
        table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
        graph = None if discovered else CausalGraph.load(ROOT / "assets" / "nhefs_dag.json")
        x, y, x0, x1, fixed = "sex", "death", "Male", "Female", ("age", "race")
    elif name == "medpar":
        table = load_table(DATA / "medpar_cohort.csv")
        x, y, x0, x1, fixed = "white", "died", 0, 1, ("age80",)
        graph = None
    elif name == "flchain":
        df = pd.read_csv(DATA / "flchain_cohort.csv").drop(columns=["futime", "chapter"])
        table = table_from_frame(df, name="flchain_cohort.csv")
        x, y, x0, x1, fixed = "sex", "death", "M", "F", ()
        graph = None
    else:
        raise SystemExit(f"unknown cohort {name!r}")
    rows = np.random.default_rng(0).permutation(len(table.df))
    cut = int(0.7 * len(table.df))
    fit = table_from_frame(table.df.iloc[np.sort(rows[:cut])].reset_index(drop=True), name=f"{name} fit split")
    holdout = table.df.iloc[np.sort(rows[cut:])].reset_index(drop=True)
    if graph is None:
        from faircause_core.causal.discovery import discover

        graph = discover(fit, x, y, fixed=fixed)
    roles = derive_roles(graph, x, y, x0=x0, x1=x1)
    return table, graph, roles, fit, holdout


def effects(df: pd.DataFrame, roles) -> dict:
    frame = decompose(df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w).to_frame()
    return {e: [round(float(frame.loc[e, k]), 4) for k in ("estimate", "ci_low", "ci_high")] for e in EFFECTS}


def heldout_logloss(gen: LLMGenerator, holdout: pd.DataFrame) -> dict:
    """Mean -log P(value | parents) per column on rows the model never saw."""
    lay = gen.layout_
    if gen.kv_ is None:
        gen.sample(1, seed=0)  # computes the cached value keys
    codes = lay.encode(holdout)
    by_col = {c: codes[:, lay.index[c]] for c in lay.order}
    out = {}
    for c in lay.order:
        slots = lay.parent_slots(c, by_col) if lay.parents[c] else np.full((len(codes), lay.max_parents), -1)
        p = gen.slot_lm_.column_probs(gen.kv_, c, slots, memo=gen.memo_[c])
        out[c] = round(float(-np.log(np.clip(p[np.arange(len(codes)), by_col[c]], 1e-12, None)).mean()), 4)
    out["mean"] = round(float(np.mean(list(out.values()))), 4)
    return out


def make(variant: str, steps):
    if variant == "bayesnet":
        return BayesNetGenerator()
    body = {"pretrained": "pretrained", "random": "random", "skip": "none"}[variant]
    extra = {} if body == "pretrained" else {"body": body}
    return LLMGenerator(train_steps=steps, device="cpu", threads=1, cache=False, **extra)


def run(name: str, variants: list[str], steps, effect_rows: int, discovered: bool = False) -> dict:
    table, graph, roles, fit, holdout = cohort(name, discovered)
    n = len(table.df)
    out = {"cohort": name, "fit_rows": len(fit.df), "edges": sorted(map(list, graph.edges)),
           "parents_of_y": list(graph.parents(roles.y)), "real": effects(fit.df, roles), "variants": {}}
    print(f"{name}: {len(fit.df)} fit rows, Y parents {out['parents_of_y']}", flush=True)
    print("real", out["real"], flush=True)
    for v in variants:
        gen = make(v, steps)
        t0 = time.perf_counter()
        gen.fit(fit, graph, roles)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        synth = gen.sample(max(effect_rows, n), seed=0)
        sample_s = time.perf_counter() - t0
        delivered = synth.iloc[:n].reset_index(drop=True)
        q = quality_report(fit.df, delivered, table.schema)
        auc = tstr_auroc(fit.df, delivered, holdout, roles.y, table.schema, positive=roles.positive)
        rec = {"fit_s": round(fit_s, 1), "sample_s": round(sample_s, 1), "effects": effects(synth, roles),
               "quality": round(float(q["quality"]), 4), "tstr": round(auc["tstr"], 4), "trtr": round(auc["trtr"], 4)}
        if v != "bayesnet":
            rec["train"] = {k: gen.train_stats_.get(k) for k in ("steps", "seconds", "first_loss", "last_loss", "logistic_seconds", "gate_max")}
            rec["heldout_logloss"] = heldout_logloss(gen, holdout)
        rec["gap"] = {e: round(rec["effects"][e][0] - out["real"][e][0], 4) for e in EFFECTS}
        out["variants"][v] = rec
        print(v, json.dumps(rec), flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cohort", default="demo", choices=("demo", "medpar", "flchain"))
    ap.add_argument("--variants", default="pretrained,random,skip,bayesnet")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: the quick preset)")
    ap.add_argument("--effect-rows", type=int, default=10_000)
    ap.add_argument("--discovered", action="store_true", help="demo: a discovered graph instead of the reviewed DAG")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("FAIRCAUSE_CACHE", str(Path.home() / ".cache" / "faircausesyn"))
    res = run(args.cohort, args.variants.split(","), args.steps, args.effect_rows, args.discovered)
    rows = [{"variant": v, **{e: r["effects"][e][0] for e in EFFECTS}, "quality": r["quality"], "tstr": r["tstr"],
             "fit_s": r["fit_s"], "sample_s": r["sample_s"]} for v, r in res["variants"].items()]
    print(pd.DataFrame([{"variant": "real", **{e: res["real"][e][0] for e in EFFECTS}}] + rows).to_string(index=False))
    path = Path(args.out) if args.out else ROOT / "bench" / "out" / f"lm_ablation_{args.cohort}{'_discovered' if args.discovered else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
