"""Is one cross-fitting split enough for synthetic rows? (issue 20 item 5)

The real audit is the median of 10 cross-fitting splits (pipeline.AUDIT_SPLITS): on the
demo's 1,140 fitting rows one split's Ctf-DE moved by several points with the fold seed.
Synthetic rows are measured by the same estimator; this measures, per synthetic size, how
far one split's effects lie from the 10-split median (the spread between splits) and what
the 10 splits cost, on Bayes-net mirror rows of the demo (shipped graph, 70% fitting split).

    .venv/bin/python bench/bench_same_estimator.py [--sizes 1140,5000,20000,100000]

Writes bench/out/same_estimator.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faircause_core.causal.fairness import decompose  # noqa: E402
from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.generators.bayesnet import BayesNetGenerator  # noqa: E402
from faircause_core.io.data import load_table  # noqa: E402
from faircause_core.workflow.pipeline import split_holdout  # noqa: E402

EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1140,5000,20000,100000")
    ap.add_argument("--splits", type=int, default=10)
    args = ap.parse_args()
    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = CausalGraph.load(ROOT / "assets" / "nhefs_dag.json")
    roles = derive_roles(graph, "sex", "death", "Male", "Female")
    fit, _ = split_holdout(table, 0.3, 0)
    gen = BayesNetGenerator().fit(fit, graph, roles)
    out = {"sizes": {}}
    for n in (int(v) for v in args.sizes.split(",")):
        rows = gen.sample(n, seed=1)
        runs, seconds = [], []
        for s in range(args.splits):
            t = time.perf_counter()
            runs.append(decompose(rows, "sex", "Male", "Female", "death", roles.z, roles.w, seed=s))
            seconds.append(time.perf_counter() - t)
        med = decompose(rows, "sex", "Male", "Female", "death", roles.z, roles.w, seed=0, splits=args.splits)
        row = {"one_split_s": round(float(np.median(seconds)), 2), "splits_s": round(float(sum(seconds)), 1)}
        for e in EFFECTS:
            one = np.array([r.estimates[e] for r in runs])
            row[e] = {"median_of_splits": round(med.estimates[e], 4), "se_one_split": round(runs[0].ses[e], 4),
                      "sd_between_splits": round(float(one.std(ddof=1)), 4),
                      "max_abs_one_minus_median": round(float(np.abs(one - med.estimates[e]).max()), 4)}
        out["sizes"][n] = row
        print(n, json.dumps(row), flush=True)
    dest = ROOT / "bench" / "out"
    dest.mkdir(exist_ok=True)
    (dest / "same_estimator.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
