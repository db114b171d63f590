"""The Bayes net's prior strength: chosen per column by cross-validation against the fixed 5.

Each node's mechanism is the Dirichlet posterior (N(v, c) + s * logit(v | c)) / (N(c) + s)
(generators/bayesnet.py). Until this benchmark s was 5 pseudo rows everywhere; the default is
now s chosen per column by 5-fold cross-validation of the held-out log loss
(`bayesnet.cv_strength`). On each cohort (bench_measure.py's: the demo with its reviewed DAG,
flchain, medpar and pbc with the default discovered graph; a 30% holdout, seed 0) it fits both
on the fitting split and reports

- the held-out log loss per row, summed over columns, of the fixed 5 minus the chosen
  strengths (positive: the chosen fit the unseen rows better), with its standard error over
  holdout rows, and per column with the strength chosen;
- the network's own TV, Ctf-DE, Ctf-IE and Ctf-SE (Monte Carlo, 200,000 rows) under both,
  beside the real fitting split's audit (the mirror's target) and its standard errors;
- SDMetrics' quality of as many mirror rows as the fitting split against the fitting split
  (what a run reports: closeness to the rows it was fitted on) and against the holdout (rows
  neither fit saw);
- the privacy measures' membership and rare-patient AUCs (metrics.privacy, no yardsticks) of
  those rows;
- the fit time of each.

    .venv/bin/python bench/bench_strength.py [--cohorts demo,flchain,medpar,pbc]
        [--out bench/out/strength.json] [--report]
"""

from __future__ import annotations

import os

os.environ.setdefault("FAIRCAUSE_AUDIT_CACHE", "off")

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se")


def holdout_losses(gen, holdout) -> dict:
    """Per column, each holdout row's -log P(value | parents) under the fitted network."""
    codes = {c: gen.cols_[c].encode(holdout[c]) for c in gen.columns_}
    rows = np.arange(len(holdout))
    return {v: -np.log(np.clip(gen.cpd_[v](codes, len(holdout))[rows, codes[v]], 1e-300, None))
            for v in gen.order_}


def mean_se(x: np.ndarray) -> list:
    return [round(float(x.mean()), 4), round(float(x.std(ddof=1) / np.sqrt(len(x))), 4)]


def one_cohort(name: str) -> dict:
    from bench_measure import cohort

    from faircause_core.generators.bayesnet import BayesNetGenerator
    from faircause_core.metrics.fidelity import quality_report
    from faircause_core.metrics.privacy import distance_to_closest_record
    from faircause_core.workflow.pipeline import audit, split_holdout

    table, graph, roles = cohort(name)
    fit, holdout = split_holdout(table, 0.3, 0)
    real = audit(fit, roles, seed=0)
    out = {"rows_fit": len(fit.df), "rows_holdout": len(holdout),
           "real": {e: [round(real.estimates[e], 4), round(real.ses[e], 4)] for e in EFFECTS}, "variants": {}}
    losses = {}
    for label, ess in (("fixed 5", 5.0), ("cv", "cv")):
        t0 = time.perf_counter()
        gen = BayesNetGenerator(equivalent_sample_size=ess).fit(fit, graph, roles)
        fit_s = time.perf_counter() - t0
        losses[label] = holdout_losses(gen, holdout)
        own = gen.effects(200_000)
        rows = gen.sample(len(fit.df), seed=1)
        quality = quality_report(fit.df, rows, fit.schema, every_pair=False)
        unseen = quality_report(holdout, rows, fit.schema, every_pair=False)
        privacy = distance_to_closest_record(fit.df, rows, holdout, fit.schema, seed=0, sensitive=roles.y, x=roles.x,
                                             yardsticks=False)
        out["variants"][label] = {
            "fit_s": round(fit_s, 2), "own": {e: round(own[e], 4) for e in EFFECTS},
            "quality": round(quality["quality"], 4), "quality_holdout": round(unseen["quality"], 4),
            "privacy": {k: round(float(privacy[k]), 3) for k in (
                "membership_auc", "membership_auc_ci_low", "membership_auc_ci_high", "rare_auc", "rare_auc_ci_low",
                "rare_auc_ci_high")} | {"verdict": privacy["verdict"]},
            "strengths": {v: gen.cpd_[v].ess for v in gen.order_ if gen.parents_[v]}}
    gain = {v: losses["fixed 5"][v] - losses["cv"][v] for v in losses["cv"]}
    out["gain_per_row"] = mean_se(sum(gain.values()))
    out["gain_by_column"] = {v: mean_se(g) for v, g in gain.items() if v in out["variants"]["cv"]["strengths"]}
    return out


def report(results: dict) -> str:
    lines = ["| cohort | rows (fit / holdout) | held-out gain, nats a row (SE) | fit s (5 / cv) | quality vs fitting rows (5 / cv) | "
             "quality vs holdout (5 / cv) | largest own-effect move (5 to cv) / real SE |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        f, c = r["variants"]["fixed 5"], r["variants"]["cv"]
        move = max(EFFECTS, key=lambda e: abs(c["own"][e] - f["own"][e]))
        lines.append(f"| {name} | {r['rows_fit']:,} / {r['rows_holdout']:,} | {r['gain_per_row'][0]:+.3f} "
                     f"({r['gain_per_row'][1]:.3f}) | {f['fit_s']:.1f} / {c['fit_s']:.1f} | {f['quality']:.3f} / "
                     f"{c['quality']:.3f} | {f['quality_holdout']:.3f} / {c['quality_holdout']:.3f} | {move} {c['own'][move] - f['own'][move]:+.4f} / {r['real'][move][1]:.4f} |")
    lines += ["", "| cohort | membership AUC (5) | membership AUC (cv) | rare-patient AUC (5) | rare-patient AUC (cv) |",
              "|---|---|---|---|---|"]
    for name, r in results.items():
        cells = []
        for key in ("membership_auc", "rare_auc"):
            for label in ("fixed 5", "cv"):
                p = r["variants"][label]["privacy"]
                cells.append(f"{p[key]:.3f} [{p[key + '_ci_low']:.3f}, {p[key + '_ci_high']:.3f}]")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cohorts", default="demo,flchain,medpar,pbc")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "strength.json"))
    ap.add_argument("--report", action="store_true", help="print the tables from --out without running")
    args = ap.parse_args()
    if args.report:
        print(report(json.loads(Path(args.out).read_text())))
        return 0
    results = {}
    for name in args.cohorts.split(","):
        results[name] = one_cohort(name)
        print(name, json.dumps(results[name]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
