"""Quality of single draws on the demo setting (reviewed DAG, seed-0 70/30 split): how much
SDMetrics' score moves between draws of the same fitted generator, Bayes net and language
model (default preset), at the delivered size (1,629 rows). The README's results table has one
draw per run; this says how far one draw can be trusted.

    .venv/bin/python bench/bench_quality_draws.py [--draws 8]

Writes bench/out/quality_draws.json and prints the README's table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.generators.base import FairnessSpec  # noqa: E402
from faircause_core.generators.bayesnet import BayesNetGenerator  # noqa: E402
from faircause_core.generators.llm import LLMGenerator  # noqa: E402
from faircause_core.io.data import load_table  # noqa: E402
from faircause_core.metrics.fidelity import quality_report  # noqa: E402
from faircause_core.workflow.pipeline import split_holdout  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=8)
    args = ap.parse_args()
    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = CausalGraph.from_json((ROOT / "assets" / "nhefs_dag.json").read_text())
    roles = derive_roles(graph, "sex", "death", "Male", "Female")
    fit, _ = split_holdout(table, 0.3, 0)
    out = {}
    print("| generator | quality: median [min, max] | column shapes | column pair trends |")
    print("|---|---|---|---|")
    for name, gen in (("Bayes net", BayesNetGenerator()), ("language model", LLMGenerator())):
        gen.fit(fit, graph, roles)
        scores = [quality_report(fit.df, gen.sample(len(table.df), FairnessSpec(), seed=10 + s), fit.schema)
                  for s in range(args.draws)]
        out[name] = [{k: q[k] for k in ("quality", "shape", "trend")} for q in scores]
        cells = []
        for k in ("quality", "shape", "trend"):
            v = [q[k] for q in scores]
            cells.append(f"{statistics.median(v):.3f} [{min(v):.3f}, {max(v):.3f}]")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    dest = ROOT / "bench" / "out"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "quality_draws.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
