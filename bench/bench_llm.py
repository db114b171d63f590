"""Speed, memory and quality of the default LLM generator on the demo cohort.

Demo cohort (assets/nhefs_cohort.csv), 70% fit split (seed 0), graph assets/nhefs_dag.json,
x=sex (Male -> Female), y=death, the bundled SmolLM2-135M, the "quick" preset. Times:
GGUF conversion (into a fresh cache folder), model load + fine-tuning, sampling 1,629
rows, re-sampling with DE removed, a second fit that hits the fine-tune cache; the cost
of one training step with and without the lower layers frozen; peak RSS. Quality: the
fidelity report of the synthetic rows against the fit split, and the plug-in
decomposition of real, mirror and DE-removed rows. The machine is shared: the load
average is recorded with each timing.

    .venv/bin/python bench/bench_llm.py [--preset quick] [--threads N] [--rows 1629]

Writes bench/out/llm.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faircause_core.generators.lm import store as lm_store  # noqa: E402
from faircause_core.io.data import load_table, table_from_frame  # noqa: E402
from faircause_core.causal.fairness import decompose  # noqa: E402
from faircause_core.generators.base import FairnessSpec  # noqa: E402
from faircause_core.generators.llm import LLMGenerator, default_threads  # noqa: E402
from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.generators.lm.slots import SlotLayout, SlotLM  # noqa: E402
from faircause_core.generators.lm.train import TrainSettings, train  # noqa: E402

EFFECTS = ["tv", "ctf_de", "ctf_ie", "ctf_se"]
GREAT_ROWS_PER_S = 1.0  # GReaT on this machine (issue): ~1 row/s, ~48 min end to end


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def load() -> float:
    return round(os.getloadavg()[0], 1)


def peak_rss_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2)


def step_seconds(table, graph, folder, freeze: int, steps: int = 3) -> dict:
    """Seconds per training step (after one warm-up step) with `freeze` lower layers frozen."""
    model, tokenizer, _ = lm_store.load_model(folder, "cpu")
    slot_lm = SlotLM(model, tokenizer, SlotLayout(table, graph, 24))
    codes = slot_lm.layout.encode(table.df)
    train(slot_lm, codes, TrainSettings(steps=1, freeze_layers=freeze))
    stats, secs = timed(lambda: train(slot_lm, codes, TrainSettings(steps=steps, freeze_layers=freeze, seed=1)))
    return {"freeze_layers": freeze, "s_per_step": round(secs / steps, 2),
            "trainable_parameters": stats["trainable_parameters"], "load_avg": load()}


def effects(df, roles) -> dict:
    frame = decompose(df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, method="plugin").to_frame()
    return {e: round(float(frame.loc[e, "estimate"]), 4) for e in EFFECTS}


def quality(real, synth, schema) -> dict:
    from faircause_core.metrics.fidelity import quality_report

    q = quality_report(real, synth, schema)
    return {k: round(float(q[k]), 3) for k in ("shape", "trend", "quality")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = the generator's default)")
    ap.add_argument("--rows", type=int, default=1629)
    ap.add_argument("--steps", type=int, default=None, help="override the preset's step budget (smoke runs)")
    ap.add_argument("--skip-freeze", action="store_true", help="skip the frozen/unfrozen step timing")
    args = ap.parse_args()
    threads = args.threads or default_threads()
    if threads:
        torch.set_num_threads(threads)
    os.environ["FAIRCAUSE_CACHE"] = tempfile.mkdtemp(prefix="bench_llm_")
    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = CausalGraph.load(ROOT / "assets" / "nhefs_dag.json")
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    fit_rows = np.sort(np.random.default_rng(0).permutation(len(table.df))[: int(0.7 * len(table.df))])
    fit_table = table_from_frame(table.df.iloc[fit_rows].reset_index(drop=True), name="nhefs fit split")
    timing = {"threads": torch.get_num_threads(), "fit_rows": len(fit_table.df), "preset": args.preset}

    folder, timing["convert_s"] = timed(lambda: lm_store.ensure_default_model())
    timing["convert_load_avg"] = load()
    gen = LLMGenerator(preset=args.preset, train_steps=args.steps, device="cpu", threads=threads)
    _, timing["fit_s"] = timed(lambda: gen.fit(fit_table, graph, roles))
    timing.update(load_model_s=round(gen.load_seconds_, 1), fine_tune_s=round(gen.train_stats_["seconds"], 1),
                  steps=gen.train_stats_["steps"], batch_size=gen.settings_.batch_size,
                  freeze_layers=gen.settings_.freeze_layers, first_loss=round(gen.train_stats_["first_loss"], 3),
                  last_loss=round(gen.train_stats_["last_loss"], 3), fit_load_avg=load())
    mirror, timing["sample_s"] = timed(lambda: gen.sample(args.rows, seed=0))
    de_removed, timing["resample_de_removed_s"] = timed(lambda: gen.sample(args.rows, FairnessSpec(de=1), seed=0))
    timing["sample_load_avg"] = load()
    timing["rows_per_s"] = round(args.rows / timing["sample_s"], 1)
    timing["speedup_vs_great_sampling"] = round(timing["rows_per_s"] / GREAT_ROWS_PER_S, 1)
    timing["end_to_end_s"] = round(timing["convert_s"] + timing["fit_s"] + timing["sample_s"], 1)
    again = LLMGenerator(preset=args.preset, train_steps=args.steps, device="cpu", threads=threads)
    _, timing["cached_fit_s"] = timed(lambda: again.fit(fit_table, graph, roles))
    timing["cached_fit_hit"] = again.from_cache_
    timing["peak_rss_gb"] = peak_rss_gb()
    timing = {k: round(v, 1) if isinstance(v, float) else v for k, v in timing.items()}
    print(pd.Series(timing).to_string(), flush=True)

    freeze = []
    if not args.skip_freeze:
        n_layers = lm_store.load_model(folder, "cpu")[0].config.num_hidden_layers
        freeze = [step_seconds(fit_table, graph, folder, f) for f in (0, n_layers // 2)]
        print(pd.DataFrame(freeze).to_string(index=False), flush=True)

    runs = {"real": {"effects": effects(fit_table.df, roles)}}
    for label, synth in (("mirror", mirror), ("de_removed", de_removed)):
        runs[label] = {"effects": effects(synth, roles), "quality": quality(fit_table.df, synth, table.schema)}
    print(pd.DataFrame([{"run": k, **v["effects"], **v.get("quality", {})} for k, v in runs.items()]).to_string(index=False))

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "llm.json").write_text(json.dumps({"timing": timing, "freeze": freeze, "runs": runs,
                                              "peak_rss_gb": peak_rss_gb()}, indent=2) + "\n")
    print(f"wrote {out / 'llm.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
