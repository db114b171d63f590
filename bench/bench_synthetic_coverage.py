"""Are the audit's intervals honest on synthetic rows? The Bayes net fitted to the demo's seed-0
fitting split (reviewed DAG, DE removed) knows its own effects: Monte Carlo on its mechanisms,
1,000,000 rows (BayesNetGenerator.effects). Each fresh draw of `rows` rows is audited as a run
audits its delivered rows (doubly robust, `splits` cross-fitting splits); an honest 95% interval
covers the generator's own effect in about 95% of draws, and the draws' spread matches the
reported standard error.

    .venv/bin/python bench/bench_synthetic_coverage.py --rows 1629 --draws 40 --splits 3
    .venv/bin/python bench/bench_synthetic_coverage.py --rows 20000 --draws 16 --splits 3

Writes bench/out/synthetic_coverage_<rows>.json and prints one line per effect.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("PYTHONHASHSEED", "0")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from faircause_core.causal.fairness import decompose  # noqa: E402
from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.generators.base import FairnessSpec  # noqa: E402
from faircause_core.generators.bayesnet import BayesNetGenerator  # noqa: E402
from faircause_core.io.data import load_table  # noqa: E402
from faircause_core.workflow.pipeline import DEFAULT_HOLDOUT, split_holdout  # noqa: E402

EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se")


def summary(truth: dict, draws: list) -> dict:
    """Per effect: the truth, the draws' mean and SD, the median reported SE, and coverage."""
    out = {}
    for k in EFFECTS:
        est = np.array([d["estimates"][k] for d in draws])
        se = np.array([d["ses"][k] for d in draws])
        out[k] = {"truth": truth[k], "mean": float(est.mean()), "sd": float(est.std(ddof=1)),
                  "median_se": float(np.median(se)), "coverage": float(np.mean(np.abs(est - truth[k]) <= 1.96 * se))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1629)
    ap.add_argument("--draws", type=int, default=40)
    ap.add_argument("--splits", type=int, default=3)
    args = ap.parse_args()
    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = CausalGraph.from_json((ROOT / "assets" / "nhefs_dag.json").read_text())
    roles = derive_roles(graph, "sex", "death", "Male", "Female")
    fit, _ = split_holdout(table, DEFAULT_HOLDOUT, 0)
    gen = BayesNetGenerator().fit(fit, graph, roles)
    spec = FairnessSpec(de=1.0)
    own = gen.effects(n=1_000_000, fairness=spec, seed=0)
    truth = {k: float(own[k]) for k in EFFECTS}
    draws = []
    for d in range(args.draws):
        syn = gen.sample(args.rows, spec, seed=1000 + d)
        r = decompose(syn, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, seed=d, splits=args.splits)
        draws.append({"estimates": dict(r.estimates), "ses": dict(r.ses)})
        print(f"draw {d}: " + " ".join(f"{k} {r.estimates[k] * 100:+.2f}" for k in EFFECTS), flush=True)
    result = {"rows": args.rows, "draws": args.draws, "splits": args.splits, "truth_rows": 1_000_000,
              "summary": summary(truth, draws), "each": draws}
    out = ROOT / "bench" / "out" / f"synthetic_coverage_{args.rows}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    for k, s in result["summary"].items():
        print(f"{k}: truth {s['truth'] * 100:+.2f}, draws {s['mean'] * 100:+.2f} (sd {s['sd'] * 100:.2f}), "
              f"median reported se {s['median_se'] * 100:.2f}, coverage {s['coverage']:.2f} of {args.draws}")


if __name__ == "__main__":
    main()
