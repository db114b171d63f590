"""How cost grows with rows (issue 22 item 4): time and peak memory per step on a table from a
structural model with known effects, at 10,000 to 1,000,000 rows.

The table is tests/test_bayesnet.py's SCM (6 columns: z -> x, x -> w, x -> bmi, w/bmi/z -> y,
x -> y with a direct effect of +0.2 on the probability scale, age with 5% missing), written
as CSV once per size under bench/out/. Each (size, step) runs in a fresh process, so its peak
resident memory (ru_maxrss) is that step's alone, reading the file included:

- read: load_table of the CSV (size limits raised to 2,000,000 rows);
- audit: pipeline.audit (doubly robust, splits by causal.fairness.splits_for(n)): every effect
  (TV, Ctf-DE, Ctf-IE, Ctf-SE, ETT) with its interval, against the structural model's truth
  (TRUTH, true_effects); the acceptance (issue 22) is every one of TV and the three Ctf
  effects within ACCEPT_GAP of its truth at ACCEPT_ROWS rows and more;
- audit_ray: the same on a local Ray with 2 CPUs (engine "ray"), its numbers compared with the
  local audit's, every estimate, se and bound bit for bit: the audit step's of this invocation
  (handed over in SCALE_LOCAL_AUDIT), else a local audit run in the same process after the
  timed one (local_check_s; peak_mb is taken before it);
- bayesnet: BayesNetGenerator fit on all rows, then sample n rows;
- generate: pipeline.run_generation, Bayes net, mirror, no refinement loop, n rows, at most
  1,000,000 (what `generate --generator bayesnet --rows n --no-refine` does), with the run's
  own timings;
- read_wide: load_table of an n x 100 CSV (60 measurements with 1 decimal, 30 integer codes,
  10 text categories; seeded), the issue's width.
- wide_audit: wide_run's table and discovery (z marked as recorded before x, as a user marks a
  baseline column), then the audit of every row on the discovered graph (the audit page's step,
  the largest of a run at this width), against the truth.
- wide_run: the user's path at the issue's width: the structural model's 6 columns beside 94
  of the wide table's (54 measurements, 30 codes, 10 text categories: noise, no effect),
  discovery (the app's default: hill climbing with the backbone, z marked as in wide_audit;
  timed alone), then the generate step with the discovered graph; 100 columns in all; the
  run's audits of all rows and of its fitting split, against the truth. For generate and
  wide_run, peak_by_stage_mb: the child's memory high-water mark read every 0.2 s from the
  parent, each rise charged to the run's last progress stage (where a transient is).

    .venv/bin/python bench/bench_scale.py [--sizes 10000,100000,1000000]
        [--steps read,audit,audit_ray,bayesnet] [--out bench/out/scale.json]

    .venv/bin/python bench/bench_scale.py --truth [--units 80000000]

Prints one line per (size, step) and writes the JSON; the machine is shared, so each line
also has the 1-minute load average when the step started. Ends with every failed check (an
effect off its truth by more than ACCEPT_GAP at ACCEPT_ROWS rows or more, the Ray audit unequal
to the local one, a step that failed) and exit status 1, or "every check passed". --truth prints
the truths and a Monte Carlo of the model with the counterfactuals drawn directly.
"""

from __future__ import annotations

import os

os.environ.setdefault("FAIRCAUSE_AUDIT_CACHE", "off")  # every audit computed and timed (workflow.audit_store)

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
EDGES = [("z", "x"), ("z", "w"), ("x", "w"), ("x", "y"), ("w", "y"), ("z", "y"),
         ("x", "bmi"), ("z", "bmi"), ("bmi", "y"), ("z", "age")]
EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se")  # the acceptance's four (TV = Ctf-DE - Ctf-IE - Ctf-SE)
WIDE_STEPS = ("wide_run", "wide_audit")  # the structural model beside 94 noise columns, discovered
ACCEPT_GAP, ACCEPT_ROWS = 0.01, 1_000_000  # issue 22: every effect within 0.01 of the truth at 1M rows


def true_effects() -> dict:
    """The effects of tests.test_bayesnet.simulate_scm, x0 = M (x = 0), x1 = F (x = 1), in
    docs/method.md's definitions and signs, exactly (the model's conditionals, no sampling):

        z ~ B(0.5), x ~ B(0.3 + 0.4z), w ~ B(0.2 + 0.4x + 0.2z), bmi = round(25 + 2x + 1.5z + N(0, 3^2), 1),
        E[y | x, z, w, bmi] = 0.05 + 0.2x + 0.3w + 0.15z + 0.1 [bmi > 27],  P(z = 1 | x) = 0.3 + 0.4x;

    bmi > 27 after rounding to 0.1 is bmi > 27.05 before it, so q(x, z) = P(bmi > 27 | x, z) is a
    normal tail. With m(x_y, x_w, z) = E[y | z] with Y's mechanism at x_y and the mediators (w,
    bmi) at x_w: mu_x = E[Y | x] = sum_z P(z | x) m(x, x, z), A = E[Y_x1 | x0] = sum_z P(z | x0)
    m(1, 1, z), B = E[Y_{x1, W_x0} | x0] = sum_z P(z | x0) m(1, 0, z); TV = mu1 - mu0, Ctf-DE =
    B - mu0 (0.2 exactly), Ctf-IE = B - A, Ctf-SE = A - mu1, ETT = A - mu0. age plays no part.
    monte_carlo_truth checks these by drawing each unit's counterfactuals."""
    from math import erfc, sqrt  # the normal tail without scipy: importing this module stays light

    def m(x_y: int, x_w: int, z: int) -> float:
        q = 0.5 * erfc((27.05 - (25 + 2 * x_w + 1.5 * z)) / 3 / sqrt(2))
        return 0.05 + 0.2 * x_y + 0.3 * (0.2 + 0.4 * x_w + 0.2 * z) + 0.15 * z + 0.1 * q

    pz = {x: {1: 0.3 + 0.4 * x, 0: 0.7 - 0.4 * x} for x in (0, 1)}  # P(z | x), Bayes on P(z) = 0.5
    mu0, mu1 = (sum(pz[x][z] * m(x, x, z) for z in (0, 1)) for x in (0, 1))
    a = sum(pz[0][z] * m(1, 1, z) for z in (0, 1))
    b = sum(pz[0][z] * m(1, 0, z) for z in (0, 1))
    return {"tv": mu1 - mu0, "ctf_de": b - mu0, "ctf_ie": b - a, "ctf_se": a - mu1, "ett": a - mu0}


TRUTH = true_effects()  # tv 0.43667, ctf_de 0.20000, ctf_ie -0.14498, ctf_se -0.09169, ett 0.34498


def monte_carlo_truth(units: int = 80_000_000, seed: int = 12345, chunk: int = 10_000_000) -> dict:
    """The effects by simulation of simulate_scm's mechanisms with every unit's counterfactuals
    drawn from its own noise (w, bmi and y each one uniform or normal draw, shared by the unit's
    worlds): {effect: (estimate, Monte Carlo standard error)}; the paired differences among x0
    units for Ctf-DE and Ctf-IE."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sums: dict = {}

    def add(key, v):
        n, s1, s2 = sums.get(key, (0, 0.0, 0.0))
        sums[key] = (n + v.size, s1 + float(v.sum()), s2 + float((v.astype(float) ** 2).sum()))

    for start in range(0, units, chunk):
        n = min(chunk, units - start)
        z = rng.binomial(1, 0.5, n)
        x = rng.binomial(1, 0.3 + 0.4 * z)
        uw, eb, uy = rng.random(n), rng.normal(0, 3, n), rng.random(n)
        w = {v: (uw < 0.2 + 0.4 * v + 0.2 * z).astype(int) for v in (0, 1)}
        bmi = {v: np.round(25 + 2 * v + 1.5 * z + eb, 1) for v in (0, 1)}

        def y(x_y, x_w):
            return (uy < 0.05 + 0.2 * x_y + 0.3 * w[x_w] + 0.15 * z + 0.1 * (bmi[x_w] > 27)).astype(int)

        y00, y11, y10 = y(0, 0), y(1, 1), y(1, 0)  # Y_x0, Y_x1 and Y_{x1, W_x0} of every unit
        g0, g1 = x == 0, x == 1
        add("y|x0", y00[g0])
        add("y|x1", y11[g1])
        add("y_x1|x0", y11[g0])
        add("de", (y10 - y00)[g0])
        add("ie", (y10 - y11)[g0])
        add("ett", (y11 - y00)[g0])

    def mean(key):
        n, s1, s2 = sums[key]
        mu = s1 / n
        return mu, float(np.sqrt(max(s2 / n - mu * mu, 0.0) / n))

    (m0, s0), (m1, s1), (a, sa) = mean("y|x0"), mean("y|x1"), mean("y_x1|x0")
    return {"tv": (m1 - m0, float(np.hypot(s0, s1))), "ctf_de": mean("de"), "ctf_ie": mean("ie"),
            "ctf_se": (a - m1, float(np.hypot(sa, s1))), "ett": mean("ett")}


def effects_of(dec) -> dict:
    """Every effect of a Decomposition: estimate, se and interval, as floats."""
    frame = dec.to_frame()
    return {e: {k: float(frame.loc[e, k]) for k in ("estimate", "se", "ci_low", "ci_high")} for e in frame.index}


def against_truth(effects: dict) -> dict:
    """Each effect's gap to its truth, whether its interval holds the truth, and whether the four
    of the acceptance are each within ACCEPT_GAP."""
    out = {e: {"truth": TRUTH[e], "gap": v["estimate"] - TRUTH[e],
               "truth_in_ci": v["ci_low"] <= TRUTH[e] <= v["ci_high"]} for e, v in effects.items() if e in TRUTH}
    return {"vs_truth": out, "all_within_gap": all(abs(out[e]["gap"]) <= ACCEPT_GAP for e in EFFECTS)}


def csv_for(n: int) -> Path:
    path = OUT / f"scale_{n}.csv"
    if not path.exists():
        from tests.test_bayesnet import simulate_scm

        OUT.mkdir(parents=True, exist_ok=True)
        simulate_scm(n=n, seed=0).to_csv(path, index=False)
    return path


def wide_csv_for(n: int) -> Path:
    path = OUT / f"scale_wide_{n}.csv"
    if not path.exists():
        import numpy as np
        import pandas as pd

        rng = np.random.default_rng(0)
        cols = {f"m{i}": np.round(rng.normal(50, 10, n), 1) for i in range(60)}
        cols.update({f"c{i}": rng.integers(0, 6, n) for i in range(30)})
        words = np.array(["none", "mild", "moderate", "severe"])
        cols.update({f"t{i}": words[rng.integers(0, 4, n)] for i in range(10)})
        OUT.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(cols).to_csv(path, index=False)
    return path


def wide_scm_csv_for(n: int) -> Path:
    """The structural model's n rows beside 94 of the wide table's columns (wide_run)."""
    path = OUT / f"scale_widescm_{n}.csv"
    if not path.exists():
        import pandas as pd

        wide = pd.read_csv(wide_csv_for(n))
        keep = [c for c in wide.columns if not (c.startswith("m") and int(c[1:]) >= 54)]
        pd.concat([pd.read_csv(csv_for(n)), wide[keep]], axis=1).to_csv(path, index=False)
    return path


def one(step: str, n: int) -> dict:
    """One step at one size, in this (fresh) process."""
    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.io.data import load_table
    from faircause_core.limits import Limits

    limits = Limits(max_rows=2_000_000, max_file_mb=2_000.0)
    if step == "read_wide":
        t = time.perf_counter()
        table = load_table(wide_csv_for(n), limits=limits)
        return {"read_s": time.perf_counter() - t, "columns": table.df.shape[1],
                "frame_mb": float(table.df.memory_usage(deep=True).sum() / 2**20),
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    t = time.perf_counter()
    table = load_table(wide_scm_csv_for(n) if step in WIDE_STEPS else csv_for(n), limits=limits)
    out = {"read_s": time.perf_counter() - t}
    if step in WIDE_STEPS:
        from faircause_core.causal.discovery import discover_report

        t = time.perf_counter()
        # z marked as recorded before x, as a user would (the form's column marks): unmarked, the
        # search may orient x -> z (the same fit), and the audit reads z as a mediator
        found = discover_report(table, "x", "y", fixed=("z",))
        out["discover_s"] = time.perf_counter() - t
        out["searched_rows"] = int(found.searched_rows)
        graph = found.graph
        out["edges"] = len(graph.edges)
    else:
        graph = CausalGraph(list(table.df.columns), EDGES)
    roles = derive_roles(graph, "x", "y", x0="M", x1="F")
    t = time.perf_counter()
    if step in ("audit", "audit_ray", "wide_audit"):
        from faircause_core import engine
        from faircause_core.workflow.pipeline import audit

        eng = engine.make("ray", num_cpus=2) if step == "audit_ray" else engine.make()
        t = time.perf_counter()  # a Ray start is not the audit's cost
        with engine.use(eng):
            done = audit(table, roles, seed=0)
        out["step_s"] = time.perf_counter() - t
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out["splits"] = int(done.settings.get("splits", 1))
        out["effects"] = effects_of(done)
        out.update(against_truth(out["effects"]))
        if step == "audit_ray":
            handed = os.environ.get("SCALE_LOCAL_AUDIT")
            if handed:  # the audit step's numbers, this invocation (JSON floats read back exactly)
                local, out["compared_with"] = json.loads(handed), "the audit step's"
            else:
                t2 = time.perf_counter()
                local, out["compared_with"] = effects_of(audit(table, roles, seed=0)), "a local audit here"
                out["local_check_s"] = time.perf_counter() - t2
            out["same_as_local"] = local == out["effects"]
        return out
    elif step in ("generate", "wide_run"):
        from faircause_core.workflow.pipeline import GenerationSettings, run_generation

        # a run delivers at most a million rows (generators.base.check_rows), whatever it reads
        result = run_generation(table, graph, roles, GenerationSettings(generator="bayesnet", rows=min(n, 1_000_000),
                                                                        seed=0, refine=False),
                                progress=stage_writer())
        out["timings"] = {k: round(v, 2) for k, v in result.timings.items()}
        if step == "wide_run":  # the run's two audits of the real rows, against the truth
            from faircause_core.causal.effects import Decomposition

            for key, audited in (("all_rows", result.real_effects_all_rows), ("fitting", result.real_effects)):
                if audited:
                    effects = effects_of(Decomposition.from_dict(audited))
                    out[f"effects_{key}"] = effects
                    out[f"vs_truth_{key}"] = against_truth(effects)
            out["synthetic_rows"] = len(result.synthetic)
    elif step == "bayesnet":
        from faircause_core.generators.bayesnet import BayesNetGenerator

        gen = BayesNetGenerator().fit(table, graph, roles)
        out["fit_s"] = time.perf_counter() - t
        t2 = time.perf_counter()
        gen.sample(n, seed=0)
        out["sample_s"] = time.perf_counter() - t2
    out["step_s"] = time.perf_counter() - t
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


STAGE_FILE = "SCALE_STAGE_FILE"  # where a child writes the run's current progress stage


def stage_writer():
    """A run's progress callback that writes its stage to $SCALE_STAGE_FILE (the parent reads it
    beside the child's memory high-water mark), or None."""
    path = os.environ.get(STAGE_FILE)
    if not path:
        return None
    last = [None]

    def progress(stage: str, done: int, total: int) -> None:
        # "(ended)": what follows a stage's last report before the next one (the delivered draw's
        # end is the generator's own effects, workflow.progress.stage_of)
        text = f"{stage} (ended)" if total and done >= total else stage
        if text != last[0]:
            last[0] = text
            Path(path).write_text(text)
    return progress


def hwm_mb(pid: int) -> float:
    """The process's resident high-water mark (VmHWM) in MB, 0 when it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def in_fresh_process(script: str, key: str, what: str, n: int, env: dict) -> dict:
    """`script --one what n` in a fresh process: its JSON line as a row, with the 1-minute load
    average when it started, or the last line of its error. The child's memory high-water mark is
    read every 0.2 s from here (no GIL of the child's in the way) and each rise charged to the stage
    the run reported last: peak_by_stage_mb, the highest mark reached in each stage (a run's
    transient is found where the mark jumps)."""
    import tempfile

    load = os.getloadavg()[0]
    with tempfile.NamedTemporaryFile("w", suffix=".stage", delete=False) as f:
        stage_path = f.name
    env = dict(env, **{STAGE_FILE: stage_path})
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, script, "--one", what, str(n)], stdout=out, stderr=err,
                                text=True, env=env, cwd=ROOT)
        peaks, high = {}, 0.0
        while proc.poll() is None:
            mark = hwm_mb(proc.pid)
            if mark > high:
                high = mark
                stage = Path(stage_path).read_text() or "before the run"
                peaks[stage] = round(mark)
            time.sleep(0.2)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    os.unlink(stage_path)
    if proc.returncode:
        return {"n": n, key: what, "failed": stderr.strip().splitlines()[-1:]}
    row = {"n": n, key: what, "load": load, **json.loads(stdout.strip().splitlines()[-1])}
    if peaks and what in ("generate", "wide_run"):
        row["peak_by_stage_mb"] = peaks
    return row


def args_or_one(ap: argparse.ArgumentParser, one_fn, what: str) -> argparse.Namespace:
    """The parsed arguments; in a child process (the hidden --one WHAT N of in_fresh_process), run
    one_fn(WHAT, N), print its JSON line and exit."""
    ap.add_argument("--one", nargs=2, metavar=(what, "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_fn(args.one[0], int(args.one[1]))))
        sys.exit(0)
    return args


def failed_checks(row: dict) -> list:
    """What a row fails: a step that did not finish, an acceptance effect more than ACCEPT_GAP
    off its truth at ACCEPT_ROWS rows or more, a Ray audit unequal to the local one."""
    where = f"{row['n']:,} rows, {row['step']}"
    if "failed" in row:
        return [f"{where}: failed: {' '.join(row['failed'])}"]
    bad = []
    if "vs_truth" in row and row["n"] >= ACCEPT_ROWS:
        bad += [f"{where}: {e} {row['effects'][e]['estimate']:.4f} is {row['vs_truth'][e]['gap']:+.4f} off its "
                f"truth {TRUTH[e]:.4f} (allowed {ACCEPT_GAP})"
                for e in EFFECTS if abs(row["vs_truth"][e]["gap"]) > ACCEPT_GAP]
    if row.get("same_as_local") is False:
        bad.append(f"{where}: the Ray audit's numbers differ from {row['compared_with']} local audit")
    return bad


def print_truth(units: int) -> None:
    mc = monte_carlo_truth(units)
    print(f"{'effect':7} {'truth':>9} {'Monte Carlo':>12} {'MC se':>8} {'gap / se':>8}   ({units:,} units)")
    for e, (est, se) in mc.items():
        print(f"{e:7} {TRUTH[e]:9.5f} {est:12.5f} {se:8.5f} {(est - TRUTH[e]) / se:8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--steps", default="read,audit,audit_ray,bayesnet")
    ap.add_argument("--out", default=str(OUT / "scale.json"))
    ap.add_argument("--truth", action="store_true", help="print the truths and their Monte Carlo check, and stop")
    ap.add_argument("--units", type=int, default=80_000_000, help="units of the Monte Carlo (--truth)")
    args = args_or_one(ap, one, "STEP")
    if args.truth:
        print_truth(args.units)
        return
    rows, failures = [], []
    env = dict(os.environ, PYTHONHASHSEED="0", HF_HUB_OFFLINE="1")
    for n in (int(s) for s in args.sizes.split(",")):
        csv_for(n) if "read_wide" not in args.steps else wide_csv_for(n)
        if set(args.steps.split(",")) & set(WIDE_STEPS):
            wide_scm_csv_for(n)
        env.pop("SCALE_LOCAL_AUDIT", None)
        for step in args.steps.split(","):
            row = in_fresh_process(__file__, "step", step, n, env)
            if step == "audit" and "effects" in row:  # audit_ray compares with these, not a second local run
                env["SCALE_LOCAL_AUDIT"] = json.dumps(row["effects"])
            rows.append(row)
            failures += failed_checks(row)
            print(json.dumps(row), flush=True)
            Path(args.out).write_text(json.dumps(rows, indent=1))
    print("\n".join(failures) if failures else "every check passed", flush=True)
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
