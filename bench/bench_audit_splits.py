"""How many cross-fitting splits the audit needs, by n (issue 22 item 2).

The audit's doubly robust estimate depends on the fold split; the median over S splits
(decompose(..., splits=S)) shrinks that dependence. This measures, per cohort and per number
of rows n, the between-split SD of each effect (TV, Ctf-DE, Ctf-IE, Ctf-SE) over K single-split
fold seeds (0..K-1, everything else fixed) and the effect's standard error (the median of the
single-split SEs), then the ratio r = SD / SE. The S-split median's own spread over fold seeds
is about r * c_S / sqrt(S) standard errors (c_S = 1 for S <= 2, sqrt(pi/2) above: the median
of S normal draws), so the fewest splits whose spread stays below a tenth of the SE is the
smallest S with r * c_S / sqrt(S) < 0.1. The rule in faircause_core/causal/fairness.py
(`splits_for`) is the envelope of these measurements; this script prints it.

Rows: a seeded subsample (without replacement) of the real cohort where n is at most its
size; above it, rows drawn from a Bayes net fitted on the whole cohort (new rows from the same
distribution: a bootstrap would put copies of a row in the training and the predicted fold,
which shrinks the spread between splits and would make the rule too lax).

It also records the nuisance models' early stopping: the boosting iterations used (of
GBM_SETTINGS' max_iter) per fit, and what one split costs (seconds on this machine).

    .venv/bin/python bench/bench_audit_splits.py [--cohorts demo,flchain] [--sizes 500,1000,...] [--seeds 12] [--merge]
    .venv/bin/python bench/bench_audit_splits.py --rule-only   # the rule's columns again, after changing it

Measured on this 2-core machine: sizes 500-20,000 in one run (about 3 minutes), 50,000 and 100,000
with --merge (about 9 minutes), 200,000 with --merge (about 9 minutes).

Writes bench/results/audit_splits.json and bench/results/audit_splits.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import faircause_core.causal.fairness as fairness  # noqa: E402
from faircause_core.causal.fairness import decompose, split_spread, splits_for  # noqa: E402
from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.generators.bayesnet import BayesNetGenerator  # noqa: E402
from faircause_core.io.data import load_table  # noqa: E402

EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se")
SIZES = (500, 1000, 2000, 5000, 10000, 20000)


def cohort(name: str):
    """(table, graph, roles) for the whole cohort: the demo with its shipped graph, the others
    as tests/faithful.py prepares them (discovered graph at default settings)."""
    if name == "demo":
        table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
        graph = CausalGraph.load(ROOT / "assets" / "nhefs_dag.json")
        return table, graph, derive_roles(graph, "sex", "death", "Male", "Female")
    from faithful import COHORTS

    from faircause_core.causal.discovery import discover

    path, x, x0, x1, y, fixed, after = COHORTS[name]
    table = load_table(path)
    graph = discover(table, x, y, fixed=fixed, after_outcome=after, seed=0)
    return table, graph, derive_roles(graph, x, y, x0=x0, x1=x1)


class _Iterations:
    """Counts the boosting iterations of every nuisance fit (est.n_iter_) while active."""

    def __init__(self):
        self.used: list[int] = []
        self._fit = fairness._Model.fit

    def __enter__(self):
        outer = self

        def fit(model, feats, target):
            out = outer._fit(model, feats, target)
            if hasattr(model.est, "n_iter_"):
                outer.used.append(int(model.est.n_iter_))
            return out

        fairness._Model.fit = fit
        return self

    def __exit__(self, *exc):
        fairness._Model.fit = self._fit


def measure(rows, roles, seeds: int) -> dict:
    runs, seconds = [], []
    with _Iterations() as iters:
        for s in range(seeds):
            t = time.perf_counter()
            runs.append(decompose(rows, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, seed=s,
                                  threshold=roles.threshold, positive=roles.positive))
            seconds.append(time.perf_counter() - t)
    out = {"n": int(runs[0].n), "one_split_s": round(float(np.median(seconds)), 3),
           "boosting_iterations": {"median": float(np.median(iters.used)) if iters.used else None,
                                   "max": max(iters.used) if iters.used else None,
                                   "max_iter": fairness.GBM_SETTINGS["max_iter"], "fits": len(iters.used)}}
    ratios = []
    for e in EFFECTS:
        est = np.array([r.estimates[e] for r in runs])
        se = float(np.median([r.ses[e] for r in runs]))
        sd = float(est.std(ddof=1))
        ratio = sd / se if se > 0 else 0.0
        ratios.append(ratio)
        out[e] = {"sd_between_splits": round(sd, 5), "se": round(se, 5), "sd_over_se": round(ratio, 4),
                  "range": [round(float(est.min()), 4), round(float(est.max()), 4)]}
    r = max(ratios)
    out["max_sd_over_se"] = round(r, 4)
    return rule_columns(out)


def rule_columns(out: dict) -> dict:
    """What the measured spread asks for and what the rule (splits_for) gives at this n."""
    r = out["max_sd_over_se"]
    need = next((s for s in range(1, 1000) if split_spread(r, s) < 0.1), None)
    out["splits_needed"] = need  # the fewest splits whose median moves less than SE/10 (uncapped)
    out["splits_for"] = splits_for(out["n"])  # what the rule gives
    out["spread_at_rule_over_se"] = round(split_spread(r, out["splits_for"]), 4)
    return out


def fit_envelope(points: list[tuple[int, float]]) -> dict:
    """log r = log a - b log n: the slope b by least squares over every point, then a as the
    smallest constant with every measured r on or under a * n^-b (an upper envelope)."""
    ln = np.log([p[0] for p in points])
    lr = np.log([max(p[1], 1e-6) for p in points])
    b = -float(np.polyfit(ln, lr, 1)[0])
    a = float(np.max(lr + b * ln))
    return {"a": round(math.exp(a), 3), "b": round(b, 3)}


def markdown(res: dict) -> str:
    lines = ["| cohort | n | rows | one split | TV SD/SE | Ctf-DE SD/SE | Ctf-IE SD/SE | Ctf-SE SD/SE "
             "| splits needed | splits_for(n) | spread at splits_for / SE | boosting iters (median, max of 150) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, sizes in res["cohorts"].items():
        for n, row in sizes.items():
            it = row["boosting_iterations"]
            lines.append(f"| {name} | {int(n):,} | {row['source']} | {row['one_split_s']:.2f} s | "
                         + " | ".join(f"{row[e]['sd_over_se']:.2f}" for e in EFFECTS)
                         + f" | {row['splits_needed']} | {row['splits_for']} | {row['spread_at_rule_over_se']:.3f}"
                         + f" | {it['median']:.0f}, {it['max']} |")
    env = res["envelope"]
    lines.append("")
    lines.append(f"Envelope of the largest SD/SE per (cohort, n): r(n) = {env['a']} * n^-{env['b']}.")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cohorts", default="demo,flchain")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--seeds", type=int, default=12)
    ap.add_argument("--merge", action="store_true", help="add these sizes to the results already written")
    ap.add_argument("--rule-only", action="store_true",
                    help="measure nothing: recompute the rule's columns of the results already written")
    args = ap.parse_args()
    dest = ROOT / "bench" / "results"
    if args.rule_only:
        res = json.loads((dest / "audit_splits.json").read_text())
        for sizes in res["cohorts"].values():
            for row in sizes.values():
                rule_columns(row)
        (dest / "audit_splits.json").write_text(json.dumps(res, indent=1))
        (dest / "audit_splits.md").write_text(markdown(res))
        print(markdown(res))
        return
    res = {"seeds": args.seeds, "cohorts": {}}
    if args.merge and (dest / "audit_splits.json").exists():
        res = json.loads((dest / "audit_splits.json").read_text())
    for name in args.cohorts.split(","):
        table, graph, roles = cohort(name)
        gen = None
        res["cohorts"].setdefault(name, {})
        for n in (int(v) for v in args.sizes.split(",")):
            if n <= len(table.df):
                rows = table.df.sample(n=n, replace=False, random_state=n).reset_index(drop=True)
                source = "real subsample"
            else:
                if gen is None:
                    gen = BayesNetGenerator().fit(table, graph, roles)
                rows = gen.sample(n, seed=1)
                source = "Bayes net on the cohort"
            row = dict(source=source, **measure(rows, roles, args.seeds))
            res["cohorts"][name][str(n)] = row
            print(name, n, json.dumps(row), flush=True)
    for name in res["cohorts"]:  # sizes in order, whatever order they were measured in
        res["cohorts"][name] = dict(sorted(res["cohorts"][name].items(), key=lambda kv: int(kv[0])))
    res["envelope"] = fit_envelope([(row["n"], row["max_sd_over_se"]) for sizes in res["cohorts"].values()
                                    for row in sizes.values()])
    dest.mkdir(exist_ok=True)
    (dest / "audit_splits.json").write_text(json.dumps(res, indent=1))
    (dest / "audit_splits.md").write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
