"""Record what a real run reports, and when: the stage reports (stage, done, total) of one
Bayes-net run at default settings with their wall-clock times, saved as the app's job saves it
(workspace.save_run into a temporary workspace, reported as "saving the run"), on the demo
(1,629 x 15), the 5,000 x 56 widened flchain table (bench_measure.wide_table), flchain
(7,874 x 11) and medpar. tests/test_progress.py replays them with a fake clock and checks the
time-left estimate against what the run really took; progress.STAGE_COST's costs and
SIZE_EXPONENTS come from these files (medpar is held out: fitted on the other three).
All four take about 5 minutes on an idle 2-core machine.

    .venv/bin/python bench/record_timelines.py [--cohorts demo,wide,flchain,medpar] [--out tests/data/timelines]
        [--generator bayesnet|llm|external] [--fresh-yardsticks]
    .venv/bin/python bench/record_timelines.py --fit   # the plan and SIZE_EXPONENTS they give

tests/data/timelines/earlier/ keeps a second recording of the same runs (--out
tests/data/timelines/earlier): --fit takes each stage's geometric mean over both, as one stage
took up to 1.7x as long in one run as in another on this shared machine. Both were recorded
again on an idle machine on 2026-12-07 (before, at load 3.4-4.4, the fair predictor's two
threads had made it look 2.5x dearer than on an idle machine).

Each file: {cohort, generator, rows, columns, load_avg, events: [[t, stage, done, total], ...],
end, timings} (timings: the run's own measured seconds, RunResult.timings).
"""

from __future__ import annotations

import os

os.environ.setdefault("FAIRCAUSE_AUDIT_CACHE", "off")  # every audit computed and timed (workflow.audit_store)

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def record(name: str, generator: str = "bayesnet") -> dict:
    from bench_measure import cohort

    from faircause_core.workflow import workspace
    from faircause_core.workflow.pipeline import GenerationSettings, run_generation

    table, graph, roles = cohort(name)
    events, t0 = [], time.perf_counter()

    def progress(stage, done, total):
        events.append([round(time.perf_counter() - t0, 3), str(stage), int(done), int(total)])

    load = os.getloadavg()[0]
    if generator == "external":  # evaluate: a bootstrap copy of the fitting rows, made "elsewhere"
        from faircause_core.workflow.evaluate import evaluate
        from faircause_core.workflow.pipeline import DEFAULT_HOLDOUT, split_holdout

        fit_rows = split_holdout(table, DEFAULT_HOLDOUT, 0)[0].df
        copy = fit_rows.sample(len(fit_rows), replace=True, random_state=0).reset_index(drop=True)
        t0 = time.perf_counter()
        result = evaluate(table, copy, graph, roles, seed=0, progress=progress)
    else:
        result = run_generation(table, graph, roles, GenerationSettings(generator=generator, rows=len(table.df),
                                                                        seed=0), progress=progress)
    progress("saving the run", 0, 1)  # what the app's job does next (job_process._generate)
    with tempfile.TemporaryDirectory() as ws:
        workspace.save_run(result, graph=graph, roles=roles, data_id="recorded", name="recorded", root=ws)
    end = time.perf_counter() - t0
    return {"cohort": name, "generator": generator, "rows": len(table.df), "columns": int(table.df.shape[1]),
            "load_avg": round(load, 2), "events": events, "end": round(end, 3), "timings": result.timings}


FIT_ON = ("demo", "wide", "flchain")  # medpar is held out


def fit(folders: list[Path], generator: str = "bayesnet") -> dict:
    """Each stage's seconds on the demo (the default plan) and the exponents (a, b) of
    seconds = plan x (rows / DEMO_ROWS) ** a x (columns / DEMO_COLUMNS) ** b that the wide table
    and flchain give (two equations in log space, solved exactly; clamped to [0, 2.5]). A cohort
    recorded in several folders counts with the geometric mean of its runs' seconds per stage:
    on a shared 2-core machine one stage took up to 1.7x as long in one run as in another."""
    import numpy as np

    from faircause_core.workflow.progress import DEMO_COLUMNS, DEMO_ROWS, STAGES, stage_seconds

    size, took = {}, {}
    for n in FIT_ON:
        runs = [json.loads(f.read_text()) for d in folders for f in [d / f"{n}_{generator}.json"] if f.exists()]
        size[n] = (runs[0]["rows"], runs[0]["columns"])
        each = [stage_seconds(r["events"], r["end"]) for r in runs]
        took[n] = {st: float(np.exp(np.mean([np.log(max(e[st], 1e-3)) for e in each])))
                   for st in STAGES if all(st in e for e in each)}
    plan, exponents = {}, {}
    for stage in STAGES:
        base = took["demo"].get(stage)
        if base is None:
            continue
        plan[stage] = round(base, 2)
        sizes, logs = [], []
        for n in FIT_ON[1:]:
            if took[n].get(stage, 0) > 0 and base > 0:
                sizes.append([np.log(size[n][0] / DEMO_ROWS), np.log(size[n][1] / DEMO_COLUMNS)])
                logs.append(np.log(took[n][stage] / base))
        if len(sizes) == 2:
            a, b = np.clip(np.linalg.solve(np.array(sizes), np.array(logs)), 0.0, 2.5)
            exponents[stage] = (round(float(a), 2), round(float(b), 2))
    return {"plan": plan, "exponents": exponents, "seconds": took}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cohorts", default="demo,wide,flchain,medpar")
    ap.add_argument("--generator", default="bayesnet", choices=("bayesnet", "llm", "external"),
                    help="llm: the default generator (the bundled model), whose first run in a workspace is "
                         "planned from progress.DEFAULT_PLAN['llm']; external: evaluate of a bootstrap copy of "
                         "the fitting rows")
    ap.add_argument("--out", default=str(ROOT / "tests" / "data" / "timelines"))
    ap.add_argument("--fresh-yardsticks", action="store_true",
                    help="privacy's yardsticks measured in the run (a first run on new data), not read from "
                         "disk: FAIRCAUSE_YARDSTICK_CACHE=off (tests/data/timelines/cold and lm_first)")
    ap.add_argument("--fit", action="store_true", help="print the plan and exponents the recorded files give "
                    "(--out and its earlier/ folder: runs recorded before the audit reported its splits)")
    args = ap.parse_args()
    out = Path(args.out)
    if args.fit:  # the language model's: its first runs (lm/, lm_first/), no fine-tune kept from before
        folders = [out / "lm", out / "lm_first"] if args.generator == "llm" else [out, out / "earlier"]
        print(json.dumps(fit(folders, args.generator), indent=1))
        return 0
    out.mkdir(parents=True, exist_ok=True)
    if args.fresh_yardsticks:  # not FAIRCAUSE_CACHE: the converted model stays where it is
        os.environ["FAIRCAUSE_YARDSTICK_CACHE"] = "off"
    if args.generator == "llm":  # a first run: no fine-tune kept from before (the converted model is)
        from faircause_core.generators.lm.store import cache_root

        models = cache_root() / "models"
        fresh = Path(tempfile.mkdtemp(prefix="faircause-first-run-"))
        if models.is_dir():
            (fresh / "models").symlink_to(models, target_is_directory=True)
        os.environ["FAIRCAUSE_CACHE"] = str(fresh)
    for name in args.cohorts.split(","):
        rec = record(name, args.generator)
        (out / f"{name}_{args.generator}.json").write_text(json.dumps(rec, indent=1))
        print(f"{name}: {rec['rows']} x {rec['columns']}, {len(rec['events'])} reports, {rec['end']:.1f} s "
              f"(load {rec['load_avg']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
