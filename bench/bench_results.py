"""The measured results the README shows: the demo setting, each generator, each mode.

Demo setting: assets/nhefs_cohort.csv, X = sex (x0 = Male, x1 = Female), Y = death, the
discovered-then-reviewed DAG assets/nhefs_dag.json; fit on a seeded 70%, the other 30% is
the real holdout for utility, privacy and the fair predictor.

    .venv/bin/python bench/bench_results.py [--generators bayesnet,llm] [--modes mirror,DE]

Writes bench/out/results.json and bench/out/results.md (the tables pasted in the README).
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

from faircause_core.errors import InputError  # noqa: E402
from faircause_core.io.data import load_table  # noqa: E402
from faircause_core.generators.base import FairnessSpec  # noqa: E402
from faircause_core.present.explain import percent  # noqa: E402
from faircause_core.causal.graph import CausalGraph, derive_roles  # noqa: E402
from faircause_core.workflow.pipeline import GenerationSettings, effect_table, run_generation  # noqa: E402

MODES = {
    "mirror": FairnessSpec(),
    "DE": FairnessSpec(de=1.0),
    "IE": FairnessSpec(ie=1.0),
    "SE": FairnessSpec(se=1.0),
    "DE+IE+SE": FairnessSpec(de=1.0, ie=1.0, se=1.0),
}
EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se", "ett")


def effects(d: dict) -> dict:
    return effect_table(d)


def run(generators, modes, rows, seed, rounds, preset="quick"):
    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = CausalGraph.from_json((ROOT / "assets" / "nhefs_dag.json").read_text())
    roles = derive_roles(graph, "sex", "death", "Male", "Female")
    out = []
    for gen in generators:
        for mode in modes:
            settings = GenerationSettings(generator=gen, rows=rows, seed=seed, fairness=MODES[mode],
                                          max_rounds=rounds, preset=preset)
            t = time.perf_counter()
            try:
                res = run_generation(table, graph, roles, settings, progress=lambda s, d, n: print(
                    f"\r[{gen}/{mode}] {s}: {d}/{n}   ", end="", file=sys.stderr))
            except InputError as err:  # an edit the graph has no path for is refused, and said so
                print(f"{gen:9s} {mode:9s} refused: {err}", flush=True)
                out.append({"generator": gen, "mode": mode, "refused": str(err)})
                continue
            print(file=sys.stderr)
            rec = res.to_dict()
            rec["generator"], rec["mode"], rec["wall_s"] = gen, mode, time.perf_counter() - t
            out.append(rec)
            print(f"{gen:9s} {mode:9s} quality {rec['metrics']['fidelity']['quality']:.3f} "
                  f"tstr {rec['metrics']['utility']['tstr']:.3f} wall {rec['wall_s']:.0f}s", flush=True)
    return out


def fmt_ci(e: dict) -> str:
    return f"{e['estimate']:+.3f} [{e['ci_low']:+.3f}, {e['ci_high']:+.3f}]"


def fmt_key(d: dict, key: str, spec: str) -> str:
    """"value [low, high]" of a metric with its `key_ci_low/high`; "n/a" when it is undefined
    (a reduction is None when the real-trained effect's interval contains 0)."""
    if d.get(key) is None:
        return "n/a"
    lo, hi = d.get(f"{key}_ci_low"), d.get(f"{key}_ci_high")
    f = percent if spec == "%" else (lambda v: f"{v:{spec}}")
    return f(d[key]) + ("" if lo is None or hi is None else f" [{f(lo)}, {f(hi)}]")


def table_head(lines: list, caption: str, columns: list) -> None:
    """A blank line, the caption, a blank line, then a markdown table's header rows."""
    lines += ["", caption, "", "| " + " | ".join(columns) + " |", "| --- " * len(columns) + "|"]


def markdown(records) -> str:
    refused = [r for r in records if "refused" in r]
    records = [r for r in records if "refused" not in r]
    lines = [f"Refused before any work: {r['generator']} {r['mode']}: {r['refused']}" for r in refused]
    lines += [""] if refused else []
    real = effects(records[0]["real_effects"])
    lines.append("Real fitting split (70%, doubly robust, 95% CI): " + ", ".join(
        f"{k} {fmt_ci(real[k])}" for k in EFFECTS))
    table_head(lines, "Delivered rows (their own decomposition, 95% CI), and what the refinement loop measured on "
               "its larger generator-level sample in the round it kept:",
               ["generator", "mode", "TV", "Ctf-DE", "Ctf-IE", "Ctf-SE", "loop: TV / DE / IE / SE (rows)",
                "alphas DE / IE / SE", "rounds", "converged"])
    for r in records:
        s = effects(r["synthetic_effects"])
        kept = min(r["rounds"], key=lambda rd: max(abs(e) / max(t, 1e-9) for e, t in
                                                     zip(rd["errors"].values(), rd["tolerances"].values())))
        loop_tv = effect_table(kept["decomposition"])["tv"]["estimate"]
        loop = f"{loop_tv:+.3f} / " + " / ".join(f"{kept['measured'][e]:+.3f}" for e in ("ctf_de", "ctf_ie", "ctf_se"))
        n_loop = kept["decomposition"]["n"]
        alphas = " / ".join(f"{kept['alphas'][p]:.2f}" for p in ("de", "ie", "se"))
        lines.append(f"| {r['generator']} | {r['mode']} | " + " | ".join(fmt_ci(s[k]) for k in EFFECTS[:4])
                     + f" | {loop} ({n_loop}) | {alphas} | {len(r['rounds'])} | {r['converged']} |")
    lines.append("")
    lines.append("Mirror-mode deviation from the real estimate (synthetic - real, with the synthetic 95% CI "
                 "shifted by the real estimate; 'inside' = the real estimate lies in the synthetic CI):")
    lines.append("")
    lines.append("| generator | effect | real | synthetic | deviation | relative | real inside synthetic CI |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- |")
    for r in records:
        if r["mode"] != "mirror":
            continue
        s, rl = effects(r["synthetic_effects"]), effects(r["real_effects"])
        for k in EFFECTS:
            dev = s[k]["estimate"] - rl[k]["estimate"]
            rel = abs(dev) / abs(rl[k]["estimate"]) if abs(rl[k]["estimate"]) > 1e-9 else float("nan")
            inside = s[k]["ci_low"] <= rl[k]["estimate"] <= s[k]["ci_high"]
            lines.append(f"| {r['generator']} | {k} | {rl[k]['estimate']:+.4f} | {s[k]['estimate']:+.4f} | "
                         f"{dev:+.4f} | {rel:.0%} | {'yes' if inside else 'no'} |")
    lines.append("")
    lines.append("| generator | mode | quality | shape | trend | AUROC TSTR | AUROC TRTR | outcome rate | "
                 "exact copies | DCR synth / holdout (median) | seconds |")
    lines.append("| --- " * 11 + "|")
    for r in records:
        m = r["metrics"]
        pv = m["privacy"]
        copies = f"{pv['exact_copies']:,} of {pv['synthetic_rows']:,}" if "exact_copies" in pv else f"{pv['exact_copy_share']:.1%}"
        lines.append(
            f"| {r['generator']} | {r['mode']} | {m['fidelity']['quality']:.3f} | {m['fidelity']['shape']:.3f} | "
            f"{m['fidelity']['trend']:.3f} | {m['utility']['tstr']:.3f} | {m['utility']['trtr']:.3f} | "
            f"{m['outcome']['synthetic_rate']:.3f} | {copies} | "
            f"{pv['dcr_synth_median']:.3f} / {pv['dcr_holdout_median']:.3f} | {r['wall_s']:.0f} |")
    table_head(lines, "Fair predictor (metrics.utility.fair_predictor: exact direct effect of X on a logistic "
               "model's predictions for the holdout's x0 rows, 95% paired bootstrap CI over holdout rows, refits on "
               "resampled real rows and independent synthetic training sets of the real size; control = the same "
               "generator with nothing removed):",
               ["generator", "mode", "real-trained DE", "synthetic-trained DE (sets)", "reduction",
                "abs(real) - abs(synthetic)", "control: synthetic-trained DE", "control: reduction"])
    for r in records:
        fp = r["metrics"]["fair_predictor"]
        if "error" in fp:
            lines.append(f"| {r['generator']} | {r['mode']} | not measured: {fp['error']} |" + " |" * 5)
            continue
        ctrl = fp.get("control") or {}
        lines.append(
            f"| {r['generator']} | {r['mode']} | {fmt_key(fp, 'real_trained_de', '+.4f')} | "
            f"{fmt_key(fp, 'synthetic_trained_de', '+.4f')} ({fp.get('synthetic_sets', 0)}) | "
            f"{fmt_key(fp, 'reduction', '%')} | {fmt_key(fp, 'magnitude_reduction', '+.4f')} | "
            f"{fmt_key(ctrl, 'synthetic_trained_de', '+.4f') if ctrl else '(mirror: its own control)'} | "
            f"{fmt_key(ctrl, 'reduction', '%') if ctrl else ''} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--generators", default="bayesnet,llm")
    ap.add_argument("--modes", default="mirror,DE,IE,SE,DE+IE+SE")
    ap.add_argument("--rows", type=int, default=1629)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--preset", choices=["quick", "thorough"], default="quick")
    args = ap.parse_args()
    records = run(args.generators.split(","), args.modes.split(","), args.rows, args.seed, args.rounds, args.preset)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    tag = args.generators.replace(",", "_") + ("" if args.preset == "quick" else f"_{args.preset}")
    (out / f"results_{tag}.json").write_text(json.dumps(records, indent=2, default=str))
    md = markdown(records)
    (out / f"results_{tag}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
