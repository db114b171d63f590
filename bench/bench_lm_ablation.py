"""What the language model contributes: pretrained SmolLM2, the same architecture randomly
initialised, and the logistic posterior alone, against the Bayes net, on one cohort.

Every variant is fitted on the same split with the same seed and step budget (the quick
preset unless --steps). The protocol is tests/test_faithful_*.py's: the default graph
(discover with the fairness backbone on all rows, seed 0), the pipeline's 70/30 split
(split_holdout, seed 0). For each variant: fit and sample seconds; TV, Ctf-DE, Ctf-IE,
Ctf-SE (doubly robust, 95% CI) on --effect-rows sampled rows (mirror, no steering) beside
the real fitting split's; SDMetrics quality and TSTR AUROC of the first n rows (n = the
cohort's size) against the fit split and the holdout; for the language model, the held-out
log loss per column on the 30% holdout, and which columns kept the LM residual.

Variants: pretrained (the default: SmolLM2's first 8 layers), pretrained30 (all 30
layers), random (8 layers, random weights), skip (the logistic posterior alone, no LM),
bayesnet.

    .venv/bin/python bench/bench_lm_ablation.py [--cohort demo|medpar|flchain]
        [--variants pretrained,random,skip,bayesnet] [--steps N] [--first N] [--effect-rows 10000]

--first N keeps the cohort's first N rows (small cohorts: where pretrained knowledge could
matter most). Writes bench/out/lm_ablation_<cohort>[_firstN].json.
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
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faircause_core.causal.fairness import decompose  # noqa: E402
from faircause_core.causal.graph import derive_roles  # noqa: E402
from faircause_core.generators.bayesnet import BayesNetGenerator  # noqa: E402
from faircause_core.generators.llm import LLMGenerator  # noqa: E402
from faircause_core.generators.lm import slots as _slots, train as _train  # noqa: E402,F401  (loaded now)
from faircause_core.io.data import load_table, table_from_frame  # noqa: E402
from faircause_core.metrics.fidelity import quality_report  # noqa: E402
from faircause_core.metrics.frames import model_kinds  # noqa: E402
from faircause_core.metrics.utility import tstr_auroc  # noqa: E402

EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se")
DATA = ROOT.parent / "shared" / "data"


COHORTS = {
    "demo": (ROOT / "assets" / "nhefs_cohort.csv", "sex", "Male", "Female", "death", ("age", "race"), ()),
    "flchain": (DATA / "flchain_cohort.csv", "sex", "M", "F", "death", ("age",), ("futime", "chapter")),
    "medpar": (DATA / "medpar_cohort.csv", "white", 0, 1, "died", ("age80",), ()),
}


def cohort(name: str, first: int | None = None):
    """(full table, graph, roles, fit table, holdout frame) for one named cohort, as the
    faithfulness tests build them; `first` keeps only the first rows."""
    from faircause_core.causal.discovery import discover
    from faircause_core.workflow.pipeline import split_holdout

    path, x, x0, x1, y, fixed, after = COHORTS[name]
    table = load_table(path)
    if first:
        table = table_from_frame(table.df.iloc[:first].reset_index(drop=True), name=f"{name} first {first}")
    graph = discover(table, x, y, fixed=fixed, after_outcome=after, seed=0)
    roles = derive_roles(graph, x, y, x0=x0, x1=x1)
    fit, holdout = split_holdout(table, 0.3, 0)
    return table, graph, roles, fit, holdout


def real_effects(fit, roles) -> dict:
    """The fitting split's effects as the product audits them (pipeline.audit: the median of
    cross-fitting splits), in effects()'s form."""
    from faircause_core.workflow.pipeline import audit

    return _rounded(audit(fit, roles, seed=0).to_frame())


def effects(df: pd.DataFrame, roles) -> dict:
    return _rounded(decompose(df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, seed=0,
                              threshold=roles.threshold).to_frame())


def _rounded(frame) -> dict:
    return {e: [round(float(frame.loc[e, k]), 4) for k in ("estimate", "ci_low", "ci_high")] for e in EFFECTS}


def heldout_logloss(gen: LLMGenerator, holdout: pd.DataFrame) -> dict:
    """Mean -log P(value | parents) per column on rows the model never saw."""
    lay = gen.layout_
    if gen.kv_ is None:
        with torch.inference_mode():
            gen.kv_ = gen.slot_lm_.prefix_kv()
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
    extra = {"pretrained": {}, "pretrained30": {"layers": None}, "random": {"body": "random"},
             "skip": {"body": "none"}}[variant]
    return LLMGenerator(train_steps=steps, device="cpu", cache=False, **extra)


def run(name: str, variants: list[str], steps, effect_rows: int, first: int | None = None) -> dict:
    table, graph, roles, fit, holdout = cohort(name, first)
    n = len(table.df)
    out = {"cohort": name, "fit_rows": len(fit.df), "edges": sorted(map(list, graph.edges)),
           "parents_of_y": list(graph.parents(roles.y)), "real": real_effects(fit, roles), "variants": {}}
    print(f"{name}: {len(fit.df)} fit rows, Y parents {out['parents_of_y']}", flush=True)
    print("real", out["real"], flush=True)
    # as the pipeline measures utility: columns recorded after the outcome are no feature
    after = graph.descendants(roles.y)
    features = {c: k for c, k in model_kinds(table.schema).items() if c not in after}
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
        auc = tstr_auroc(fit.df, delivered, holdout, roles.y, features, positive=roles.positive,
                         threshold=roles.threshold)
        rec = {"load": round(os.getloadavg()[0], 1), "fit_s": round(fit_s, 1), "sample_s": round(sample_s, 1), "effects": effects(synth, roles),
               "quality": round(float(q["quality"]), 4), "tstr": round(auc["tstr"], 4), "trtr": round(auc["trtr"], 4)}
        if v != "bayesnet":
            rec["train"] = {k: gen.train_stats_.get(k) for k in ("steps", "best_step", "seconds", "val_loss_logistic",
                                                                  "val_loss", "lm_columns", "logistic_seconds", "gate_max")}
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
    ap.add_argument("--first", type=int, default=None, help="keep only the cohort's first N rows")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    os.environ.setdefault("FAIRCAUSE_CACHE", str(Path.home() / ".cache" / "faircausesyn"))
    res = run(args.cohort, args.variants.split(","), args.steps, args.effect_rows, args.first)
    rows = [{"variant": v, **{e: r["effects"][e][0] for e in EFFECTS}, "quality": r["quality"], "tstr": r["tstr"],
             "heldout": r.get("heldout_logloss", {}).get("mean"), "lm_cols": len(r.get("train", {}).get("lm_columns") or []),
             "fit_s": r["fit_s"], "sample_s": r["sample_s"], "load": r["load"]} for v, r in res["variants"].items()]
    print(pd.DataFrame([{"variant": "real", **{e: res["real"][e][0] for e in EFFECTS}}] + rows).to_string(index=False))
    path = Path(args.out) if args.out else ROOT / "bench" / "out" / f"lm_ablation_{args.cohort}{f'_first{args.first}' if args.first else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
