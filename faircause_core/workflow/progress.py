"""Progress and cancel for one whole run: one bar, one honest ETA, a cancel that returns.

The engine reports progress per stage ("auditing the real data" as each cross-fitting split
ends, "fine-tuning 40 of 200", "refining: round 2 of 4", "measuring privacy" as each measuring
step starts); each stage restarts its own count. RunProgress maps every report to one of the
run's stages (STAGES) and turns it into a single fraction of the whole run, which never goes
back. The stages are weighted by a plan in expected seconds (plan_for): the measured times of
this workspace's earlier runs of the same generator on the same data, else each stage's
measured cost on the demo scaled to the table's rows and columns (DEFAULT_PLAN,
SIZE_EXPONENTS: recorded real runs, bench/record_timelines.py). The ETA comes from measured
times: the current stage's own pace for its rest, and the run's measured pace (elapsed seconds
per planned second) for the stages ahead. If the plan's shares are right within a factor k,
the ETA is right within about k, whatever the speed of the machine.

Issue 19 item 6 (the ETA said "about 9.5 min left" for a 62 s run, and climbed while the bar
stood still in the measuring): tests/test_progress.py replays recorded runs (the demo, a
5,000 x 56 table, flchain, medpar) with a fake clock through the plan the app would use, and
from 20% of each run's time the ETA is within 2x of the real remaining time (within 2 s counts
as right); tests/test_browser_eta.py checks the same of what the Generate page shows, live.

interruptible() runs one long library call (an SDMetrics privacy metric, a fair predictor:
10-30 s each) in a worker thread, so a cancel returns within a fraction of a second even
where the library has no place to stop; the abandoned call ends on its own and is ignored.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

import numpy as np

from faircause_core.generators.base import Cancelled, CancelToken

PHASES = ("audit", "load", "train", "sample", "measure", "save")

#: Expected seconds per stage when the workspace has no earlier run of the generator on the same
#: data (demo cohort, quick preset, 2-core machine), before scaled_plan scales them to the table.
DEFAULT_PLAN = {
    # the demo's recorded runs, stage by stage (STAGES: the generator's own effects and each
    # measuring step on their own): the geometric mean of tests/data/timelines/demo_bayesnet.json
    # and earlier/demo_bayesnet.json (bench/record_timelines.py --fit), on an idle 2-core machine
    # (2026-12-07; recorded before at load 3.4-4.4, the fair predictor's two threads looked 2.5x
    # dearer on the 5,000 x 56 table than they are, and the language model's ETA ran 3.5x high
    # in its last seconds there)
    "bayesnet": {"audit": 7.86, "train": 2.93, "sample": 1.3, "effects": 0.73,
                 "measure synthetic audit": 4.17, "measure predictor sets": 0.35, "measure fidelity": 0.24,
                 "measure utility": 0.3, "measure privacy": 2.5, "measure fair predictor": 0.99,
                 "save": 0.04},
    # the default generator: its own stages from its first run on the demo (no fine-tune kept
    # from before; tests/data/timelines/demo_llm.json, bench/record_timelines.py --generator llm;
    # the training sized for another table by lm_train_seconds, not by SIZE_EXPONENTS), the
    # audits and the measuring as the Bayes net's (below: the same code on the same rows)
    "llm": {"load": 3.44, "train": 22.74, "sample": 0.9, "effects": 0.32},
    "prompt": {"load": 5.0, "train": 1.0, "sample": 60.0},
}
#: evaluate: a table made elsewhere is audited beside the real rows and measured as a run's rows
#: are (the same code: the Bayes net's measured stages), nothing fitted or drawn
DEFAULT_PLAN["external"] = {k: v for k, v in DEFAULT_PLAN["bayesnet"].items()
                            if k in ("audit", "save") or (k.startswith("measure ") and k != "measure predictor sets")}
# the language model's and prompt mode's audits and measuring are the Bayes net's (the same code
# on the same rows); prompt mode's own stages are not measured yet (its guesses above)
for _gen in ("llm", "prompt"):
    DEFAULT_PLAN[_gen] = {**DEFAULT_PLAN["bayesnet"], **DEFAULT_PLAN[_gen]}

# stage text (lower case) -> phase; the first match wins
_STAGE_WORDS = (
    ("measur", "measure"),  # first: "measuring synthetic audit" is the measure phase, not the audit
    ("audit", "audit"), ("convert", "load"), ("loading", "load"), ("fine-tun", "train"),
    ("fitting", "train"), ("training", "train"), ("reus", "train"), ("ready", "train"),
    ("refin", "sample"), ("drawing", "sample"), ("sampling", "sample"), ("writing rows", "sample"),
    ("measur", "measure"), ("sav", "save"),
)
#: Within the sample phase: the refinement rounds, then the delivered draw.
_ROUNDS_SHARE = 0.8


def phase_of(stage: str) -> Optional[str]:
    """The run phase a stage text belongs to, or None for a stage this module does not know."""
    text = str(stage).lower()
    for word, phase in _STAGE_WORDS:
        if word in text:
            return phase
    return None


def _within(stage: str, phase: str, done: int, total: int) -> float:
    """How far into its phase a stage report is, in [0, 1]."""
    part = min(1.0, max(0.0, done / total)) if total > 0 else 0.0
    text = str(stage).lower()
    if phase == "train" and "fine-tun" in text and total > 0:
        # "fine-tuning k/budget": early stopping ends most fine-tunes at about LM_BUDGET_RUN of
        # the budget, so that is the stage's expected length (rising to 1 as steps run past it)
        return min(1.0, max(0.0, done / max(LM_BUDGET_RUN * total, done + 1)))
    if phase == "sample":
        if "refin" in text:  # "refining: round k" is reported as round k starts
            return _ROUNDS_SHARE * min(1.0, max(0.0, (done - 1) / total)) if total > 0 else 0.0
        if "drawing" in text:
            return _ROUNDS_SHARE + (1 - _ROUNDS_SHARE) * part
    return part


def _step_within(stage: str, units: int) -> float:
    """How far into a measuring step a report inside it is (MeasureSteps.part: the synthetic
    audit's splits), from the MEASURE_COST units reported since the step's first report."""
    from faircause_core.workflow.pipeline import MEASURE_COST  # here: pipeline imports this module

    cost = MEASURE_COST.get(stage[len("measure "):]) if stage.startswith("measure ") else None
    return min(1.0, max(0.0, units / cost)) if cost else 0.0


#: Stages finer than the phases, in run order: the generator's own effects (after the delivered
#: draw, before the measuring; 14 s of a 150 s run on the 5,000 x 56 table) and each measuring
#: step (pipeline.MEASURE_COST's names; they report as they start, so each is a stage of its own,
#: planned at its own measured cost). A plan may hold the coarse "measure" instead of the steps.
MEASURE_STEPS = ("synthetic audit", "predictor sets", "fidelity", "utility", "privacy", "fair predictor")
STAGES = ("audit", "load", "train", "sample", "effects", "measure",
          *(f"measure {m}" for m in MEASURE_STEPS), "save")

#: The size the plans were measured at (the demo: 1,629 real rows, 15 columns), and how each
#: stage's cost grows with the real rows and the columns: seconds = plan x (rows / DEMO_ROWS) **
#: a x (columns / DEMO_COLUMNS) ** b, fitted in log space to the recorded runs of the demo, the
#: 5,000 x 56 table and flchain (7,874 x 11), and checked on medpar, held out
#: (bench/record_timelines.py --fit; exponents below 0 clamped to 0). The coarse "measure" of the
#: other generators' plans scales as its steps do, weighted by their cost; loading a model does not.
DEMO_ROWS, DEMO_COLUMNS = 1629, 15
SIZE_EXPONENTS = {"load": (0.0, 0.0), "measure": (0.26, 0.79), "audit": (0.41, 0.66), "train": (0.0, 0.64),
                  "sample": (0.04, 0.96), "effects": (0.14, 0.94), "measure synthetic audit": (0.39, 0.61),
                  "measure predictor sets": (0.2, 1.03), "measure fidelity": (0.15, 1.19),
                  "measure utility": (0.2, 0.59), "measure privacy": (0.14, 1.01),
                  "measure fair predictor": (0.1, 0.91), "save": (0.0, 0.54)}


#: The language model's training time: steps x seconds a step. A step costs about this much per
#: column (its rows are that many slots long), and early stopping ends training after about
#: this share of the step budget. From the recorded first runs (tests/data/timelines/*_llm.json,
#: one each, load under 1): seconds a step per column 0.042 (demo, 1,629 x 15), 0.050 (flchain,
#: 7,874 x 11), 0.026 (medpar, 1,495 x 10), 0.041 (pbc, 418 x 19); steps run of the budget 36 of
#: 81, 90 of 200, 32 of 74 and 36 of 48: medians. The 5,000 x 56 table, recorded later, took
#: 0.081 a column (a step grows faster than the columns: over the five runs seconds a step over
#: columns ** 1.5 spreads less, 0.008-0.014, but its median planned flchain's training 27% short
#: and left its first seconds 2.05x off); the stages after training no longer take its pace
#: (MODEL_STAGES).
LM_STEP_SECONDS_PER_COLUMN = 0.042
LM_BUDGET_RUN = 0.45


def lm_train_seconds(rows: int, columns: int) -> float:
    """Expected seconds of the language model's training on a table of `rows` real rows and
    `columns` columns: its default step budget (lm.budget.step_budget) on the fitting split."""
    from faircause_core.generators.lm.budget import DEFAULT_BATCH, DEFAULT_PRESET, step_budget
    from faircause_core.workflow.pipeline import DEFAULT_HOLDOUT  # here: pipeline imports this module

    steps = step_budget(DEFAULT_PRESET, round((1 - DEFAULT_HOLDOUT) * rows), DEFAULT_BATCH)
    return LM_STEP_SECONDS_PER_COLUMN * columns * LM_BUDGET_RUN * steps


#: The stages that are audits: shorter by audit_speedup where the local engine has workers.
AUDIT_STAGES = ("audit", "measure synthetic audit")


def scaled_plan(generator: str, rows: int | None = None, columns: int | None = None) -> dict[str, float]:
    """DEFAULT_PLAN for a table of `rows` real rows and `columns` columns (SIZE_EXPONENTS; the
    language model's training by lm_train_seconds; the audits by audit_speedup)."""
    plan = dict(DEFAULT_PLAN.get(generator, DEFAULT_PLAN["llm"]))
    if not rows or not columns:
        return plan
    r, c = max(rows, 1) / DEMO_ROWS, max(columns, 1) / DEMO_COLUMNS
    out = {p: s * r ** SIZE_EXPONENTS[p][0] * c ** SIZE_EXPONENTS[p][1] for p, s in plan.items()}
    faster = audit_speedup(rows, columns)  # the recorded audits ran on one core
    for p in AUDIT_STAGES:
        if p in out:
            out[p] /= faster
    if generator == "llm":
        out["train"] = lm_train_seconds(rows, columns)
    return out


#: What the light measuring profile (pipeline.MEASURE_PROFILES) costs against a full run, per
#: measuring step: its CPU seconds over the full profile's, Bayes net with DE removed, between the
#: demo's and flchain's ratios (bench/bench_measure.py --measure full,light --clock cpu:
#: synthetic audit 0.26 and 0.42, predictor sets 0.24 and 0.63, privacy 0.34 and 1.28, the fair
#: predictor 0.11 and 0.26, all measuring 0.32 and 0.64; bench/out/measure_profiles.json).
LIGHT_SHARE = {"measure synthetic audit": 0.33, "measure predictor sets": 0.4, "measure privacy": 0.66,
               "measure fair predictor": 0.17, "measure": 0.45}


def _seconds(t: dict, key: str) -> Optional[float]:
    v = t.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 else None


def plan_for(generator: str, history: list[dict] | None = None, rows: int | None = None,
             columns: int | None = None, measure: str = "full") -> dict[str, float]:
    """Expected seconds per stage: the median of up to three earlier runs' measured timings of
    this generator on the same data (a RunResult's timings: audit_s, fit_s, sample_s,
    generator_effects_s, measure_<step>_s or else measure_s), else the default plan scaled to
    the table's size (scaled_plan). fit_s is split between loading and training in the default
    proportion; measure_s, where the steps were not timed, in the plan's proportion of them.
    `measure`: the run's measuring profile; the default plan's measuring shrinks by LIGHT_SHARE
    for a light run (the history holds runs of the same profile: faircause_app.jobs._history)."""
    plan = scaled_plan(generator, rows, columns)
    if measure == "light":
        plan = {k: v * LIGHT_SHARE.get(k, 1.0) for k, v in plan.items()}
    runs = [t for t in (history or []) if isinstance(t, dict)][:3]
    if not runs:
        return plan

    def median(key, among=runs):
        vals = sorted(v for v in (_seconds(t, key) for t in among) if v is not None)
        return vals[len(vals) // 2] if vals else None

    fitted = [t for t in runs if not t.get("audits_reused")]  # runs that read their audits took ~0 s for them
    for key, stage in (("audit_s", "audit"), ("sample_s", "sample"), ("generator_effects_s", "effects")):
        m = median(key, fitted if stage == "audit" else runs)
        if m is not None:
            plan[stage] = max(m, 0.05)
    fit = median("fit_s")
    if fit is not None:
        share = plan.get("load", 0.0) / ((plan.get("load", 0.0) + plan.get("train", 0.0)) or 1.0)
        plan["load"], plan["train"] = max(fit * share, 0.05), max(fit * (1 - share), 0.05)
    steps = {m: median(f"measure_{m.replace(' ', '_')}_s") for m in MEASURE_STEPS}
    if all(v is not None for v in steps.values()):
        plan.pop("measure", None)
        plan.update({f"measure {m}": max(v, 0.05) for m, v in steps.items()})
    elif median("measure_s") is not None:
        fine = {k: v for k, v in plan.items() if k.startswith("measure ")}
        whole, planned = median("measure_s"), sum(fine.values())
        if planned > 0:
            plan.update({k: max(whole * v / planned, 0.05) for k, v in fine.items()})
        else:
            plan["measure"] = max(whole, 0.05)
    return plan


def stage_of(stage: str, done: int, total: int, plan: dict) -> Optional[str]:
    """The stage (STAGES) of one report for a run planned as `plan`, or None for a text this
    module does not know: "measuring <step>" is its step where the plan times the steps, else the
    coarse measure phase; the delivered draw's end starts the effects; "done" the save."""
    text = str(stage).lower()
    if text == "done":
        return "save"
    if text == YARDSTICKS.lower():
        return None  # a notice that changes the plan, not a stage (RunProgress.update)
    if text.startswith("measuring "):
        step = f"measure {text[len('measuring '):].split(':')[0]}"  # "measuring privacy: its yardsticks": privacy
        return step if plan.get(step, 0) > 0 else "measure"
    if "drawing" in text and total > 0 and done >= total and plan.get("effects", 0) > 0:
        return "effects"
    return phase_of(text)


def stage_seconds(events: list, end: float, plan: dict | None = None) -> dict[str, float]:
    """Seconds each stage took in a recorded run (events: [t, stage, done, total], in time order;
    a stage lasts from its first report to the next stage's): what the plans are measured from."""
    plan = plan if plan is not None else {k: 1.0 for k in STAGES}
    out: dict[str, float] = {}
    current, since = None, 0.0
    for t, text, done, total in events:
        st = stage_of(text, done, total, plan)
        if st is None or st == current or (current and STAGES.index(st) < STAGES.index(current)):
            continue
        if current is not None:
            out[current] = out.get(current, 0.0) + t - since
        current, since = st, t
    if current is not None:
        out[current] = out.get(current, 0.0) + end - since
    return out


#: The stage text of a run whose real audits were both kept from earlier (pipeline.audit_kept):
#: RunProgress plans no time for the audit stage when it sees it.
REUSED_AUDITS = "reusing the real data's audits (computed before, same rows and question)"

#: Reported as the measuring starts when privacy's copier and marginals yardsticks will be measured
#: in this run, not read from before (metrics.privacy keeps them per data, seed and size;
#: pipeline.say_yardsticks): RunProgress then adds YARDSTICK_EXTRA of the privacy step's planned
#: seconds, and the stage shown stays as it is. The plans' privacy costs are runs that read them
#: (the recorded timelines): a first run on new data took 3.0x (demo) and 3.7x (medpar) the
#: privacy seconds of the same run again (Bayes net, default settings, one process, load about 1),
#: but the plan's privacy cost is itself high on some tables (pbc's 19 columns: 2.9 s planned, 2.4 s
#: taken with the yardsticks), so the extra is below those ratios: replaying the six first runs
#: recorded with these reports (tests/data/timelines/cold, lm_first), worst ETA factor over them
#: 3.85 at 2.3, 3.22 at 1.5, 2.83 at 1.0 (where medpar's rose from 1.69 to 2.45): 1.5.
YARDSTICKS = "privacy's yardsticks (a copier and a marginals-only sampler) to measure: first time on these rows"
YARDSTICK_EXTRA = 1.5
#: Reported inside the privacy step as its yardsticks start, after the table's own measures (a
#: copier and a marginals sampler are then measured the same way): the step is taken to be
#: YARDSTICKS_SHARE done, so its length follows from what it has taken so far, not the plan.
#: The share measured on first runs: 0.40 (demo), 0.37 (medpar; tests/data/timelines/cold).
YARDSTICKS_NOW = "measuring privacy: its yardsticks"
YARDSTICKS_SHARE = 0.39

#: Stages whose length is a model's guess more than the machine's speed (the language model's
#: training: how many steps early stopping runs, and how a step grows with the columns): once
#: passed, the pace for the stages ahead leaves them out. Counted in, a fine-tune twice as long
#: as planned made the measuring after it read twice as long: on the recorded first runs of the
#: default generator the worst ratio went from 10.5x to 5.3x (5,000 x 56), 2.4x to 1.8x (pbc),
#: 5.1x to 4.2x (medpar, recorded before its privacy step said it measured its yardsticks; its
#: recording with those reports: 1.4x). The price: a machine's speed is then read from the other stages alone,
#: and on seeded runs misplanned in every phase the worst went from 2.1x to 2.3x
#: (tests/test_progress.py). Loading counts as one too: after the model is read, the fixed part's
#: strengths and fit run before the first fine-tuning report (36 s of the 41 s "loading" on the
#: 5,000 x 56 table, planned 3.4 s). While in a model stage the pace leaves that stage out as well,
#: and a fine-tune's length is read from its first step reports (its steps cost alike). With those
#: three, replayed (tests/data/timelines/lm, lm_first): 5,000 x 56 5.3x -> 3.5x (off only in
#: its last 3 s: its fair predictor planned 7 s at the run's pace, 3.8 s taken; 2.0x with the
#: Bayes net's costs recorded again idle and this run recorded again with the audit's threads),
#: demo 1.7x -> 1.3x, medpar 1.4x -> 1.5x, flchain 1.8x -> 2.0x, pbc 2.9x -> 3.4x (its fine-tune
#: ran its whole budget; its measuring of 418 rows took half its plan).
MODEL_STAGES = ("load", "train")

#: A stage with no report inside it that has run past what was expected of it is taken to be
#: this far along its true length for its rest: 1 / OVERRUN = 80% done, however long it runs.
OVERRUN = 1.25

#: A stage's own reported rate sets the run's pace for the stages ahead only once this share of
#: it is reported (before that, its own rest only).
PACE_FROM = 0.5


def tracker_for(generator: str, plan: dict[str, float], clock: Callable[[], float] = time.monotonic) -> "RunProgress":
    """The RunProgress of a run of `generator`: the language model's training is a model stage
    (MODEL_STAGES), the Bayes net's fit reads the machine's speed like any other stage."""
    return RunProgress(plan, clock=clock, model_stages=MODEL_STAGES if generator == "llm" else ())


class RunProgress:
    """One overall fraction and ETA for a run whose stages report their own counts.

    `plan`: expected seconds per stage (plan_for). `clock`: a monotonic clock in seconds,
    injectable so tests can drive time."""

    def __init__(self, plan: dict[str, float], clock: Callable[[], float] = time.monotonic,
                 model_stages: tuple = ()):
        self.plan = {p: max(0.0, float(plan.get(p, 0.0))) for p in STAGES}
        self.model_stages = tuple(model_stages)  # MODEL_STAGES for the language model (tracker_for)
        self.total = sum(self.plan.values()) or 1.0
        self.clock = clock
        self.started = clock()
        self.phase = STAGES[0]
        self.phase_started = self.started
        self.within = 0.0  # share of the current stage reported done
        self.step = 0.0  # the last report's increment of it
        self.reported = self.started  # when `within` last grew
        self.done_before = 0.0  # planned seconds of the stages already passed
        self.startup = None  # seconds from the start to the first report (the run's process starting)
        self.yardsticks = False  # whether privacy's yardsticks were reported measured in this run
        self.off_taken = 0.0  # seconds the passed MODEL_STAGES took, and what they were planned
        self.off_planned = 0.0
        self.units_from = 0  # the current stage's first report's count (a measuring step's start)
        self._fraction = 0.0

    def _privacy_seconds(self, stage: str) -> float:
        """The planned seconds of the privacy step: its own, or its share of a coarse measure
        stage by the measuring steps' costs (pipeline.MEASURE_COST)."""
        if stage == "measure privacy":
            return self.plan[stage]
        from faircause_core.workflow.pipeline import MEASURE_COST  # here: pipeline imports this module

        return self.plan[stage] * MEASURE_COST["privacy"] / sum(MEASURE_COST.values())

    def start(self) -> None:
        """Start the clock now (a run that waited for a free slot did no work meanwhile)."""
        self.started = self.phase_started = self.reported = self.clock()
        self.startup = None

    def update(self, stage: str, done: int, total: int) -> None:
        """Take one stage report; a later stage closes the earlier ones, an earlier one is ignored.
        The time before the first report (a process starting: 0.2 s to 7 s, whether the engine
        is loaded yet and how busy the machine is) is no stage's work: the first stage starts at it."""
        if stage == YARDSTICKS:  # a notice, not a stage: the privacy step ahead is that much longer
            if not self.yardsticks:
                self.yardsticks = True
                step = "measure privacy" if self.plan["measure privacy"] > 0 else "measure"
                self.plan[step] += YARDSTICK_EXTRA * self._privacy_seconds(step)
                self.total = sum(self.plan.values()) or 1.0
            return
        phase = stage_of(stage, int(done), int(total), self.plan)
        if phase is None or STAGES.index(phase) < STAGES.index(self.phase):
            return
        if stage == REUSED_AUDITS and self.plan["audit"] > 0:
            self.plan["audit"] = 0.0  # the audits were kept from before: no time for them
            self.total = sum(self.plan.values()) or 1.0
        if self.startup is None:
            self.startup = max(0.0, self.clock() - self.started)
            self.phase_started = self.reported = self.clock()
        if phase != self.phase:
            if self.phase in self.model_stages:
                self.off_taken += self.clock() - self.phase_started
                self.off_planned += self.plan[self.phase]
            self.done_before = sum(self.plan[p] for p in STAGES[:STAGES.index(phase)])
            self.phase, self.phase_started, self.within, self.step = phase, self.clock(), 0.0, 0.0
            self.units_from = int(done)
        known = phase in PHASES and str(stage).lower() != "done"  # a step or "done": reported as it starts
        now = _within(stage, phase, int(done), int(total)) if known else _step_within(phase, int(done) - self.units_from)
        if stage == YARDSTICKS_NOW and phase == "measure privacy":
            now = YARDSTICKS_SHARE
        if now > self.within:
            self.step, self.within, self.reported = now - self.within, now, self.clock()
            if stage == YARDSTICKS_NOW and phase == "measure privacy":
                self.step = 1.0 - now  # the yardsticks are the step's last part: its next report is its end
        self._fraction = max(self._fraction, (self.done_before + self.plan[self.phase] * self.within) / self.total)

    def fraction(self) -> float:
        """Share of the whole run done, in [0, 1]; it never decreases."""
        return min(1.0, self._fraction)

    def elapsed(self) -> float:
        return max(0.0, self.clock() - self.started)

    def _stage_length(self, in_stage: float) -> tuple[float, float]:
        """Expected seconds of the current stage, for its own rest and for the run's pace: from
        its own reports once they say 10% or more (the fit's columns, the refinement rounds, the
        second audit), and past the next report's time, as if that report were due now (the
        pace drops); else its plan at the pace of the stages before (the plan's own seconds for
        the first). A stage with no report inside it that runs past that is taken to be 1 /
        OVERRUN done for its rest, and done now for the pace (its overrun says the stage was
        misplanned than that the machine is slower; counted at OVERRUN x for the pace too, the
        recorded demo's worst was 1.54x, not 1.46x)."""
        at_report = self.reported - self.phase_started
        before, planned = self._paced(self.phase_started - self.started - (self.startup or 0.0), self.done_before)
        pace = before / planned if planned > 0 and before > 0 else 1.0
        expected = pace * self.plan[self.phase]
        # a model stage's steps cost alike (fine-tuning): its rate is read from its first reports
        if (self.within >= 0.1 or (self.phase in self.model_stages and self.within > 0)) and at_report > 0:
            length = max(at_report / self.within, in_stage / min(1.0, self.within + self.step))
            if self.within >= PACE_FROM or not planned or self.phase in self.model_stages:
                return length, length
            # its first parts may cost unevenly (the fit's first column carries its set-up): until
            # PACE_FROM of it is reported, its own rate sets its rest but not the run's pace
            return length, max(expected, in_stage)
        return max(expected, OVERRUN * in_stage), max(expected, in_stage)

    def _paced(self, spent: float, planned: float) -> tuple[float, float]:
        """(seconds, planned seconds) the pace is read from: without the passed model_stages,
        unless nothing else would be left to read it from (a run whose audits were kept)."""
        if self.off_planned and planned - self.off_planned > 0 and spent - self.off_taken > 0:
            return spent - self.off_taken, planned - self.off_planned
        return spent, planned

    def eta_seconds(self) -> Optional[float]:
        """Seconds left, from measured times: the current stage's rest (_stage_length), and the
        stages ahead at the run's measured pace (seconds taken per planned second, the current
        stage counted at its expected length, passed MODEL_STAGES left out)."""
        in_stage = max(0.0, self.clock() - self.phase_started)
        if self.elapsed() <= 0:
            return None
        length, paced = self._stage_length(in_stage)
        planned = self.done_before + self.plan[self.phase]
        before = self.phase_started - self.started - (self.startup or 0.0)
        if self.phase in self.model_stages:  # its length is the model's, not the machine's speed
            spent, paced_plan = self._paced(before, self.done_before)
            paced, planned_pace = 0.0, paced_plan
        else:
            spent, planned_pace = self._paced(before, planned)
        pace = (spent + paced) / planned_pace if planned_pace > 0 and spent + paced > 0 else 1.0
        ahead = self.total - planned
        return max(0.0, length - in_stage + pace * ahead)


#: One doubly robust audit of all the real rows, measured on this 2-core machine (single runs):
#: seconds = splits x exp(c) x rows ** a x columns ** b, where splits is the audit's own count
#: for that many rows (causal.fairness.splits_for: 10 up to about 134,000 rows, 2 at 2,000,000),
#: least squares in log space over the bench's 6-column structural model at 10,000 / 100,000 /
#: 1,000,000 / 2,000,000 rows (9.8, 49, 191, 211 s: docs/benchmarks.md, "Scaling with rows"),
#: the demo's audit page (1,629 x 15: 3.3 s), the 100-column run at 20,000 rows (its all-rows
#: audit about 50 s of the run's 89 s), the audit page of a 40-column table on its discovered
#: graph at 20,000 and 200,000 rows (57.8 and 374.6 s: bench/bench_page_reruns.py) and the
#: 100-column table's audit on its discovered graph at 2,000,000 rows (917 s: bench_scale.py
#: --steps wide_audit); each within 1.52x of its fit. Without the split count no power law fitted
#: both the 200,000 x 40 and the 2,000,000 x 100 audits within 2x. The run's plan scales its
#: audit stage by SIZE_EXPONENTS instead, fitted to whole runs of at most 56 columns, and
#: corrects it by the run's own pace.
AUDIT_COST = (-9.221, 0.884, 0.541)


#: What the local engine's two workers do for an audit where it uses them (causal.fairness.
#: fit_workers): forked processes (Linux) 1.76x on the demo's fitting split, 1.84x flchain's,
#: 1.90x the 5,000 x 56 table's, 1.96x 100,000 x 6 on an idle 2-core machine (bench/
#: bench_audit_threads.py, 2026-12-08; threads where it cannot fork: 1.79x at 100,000 x 6, none
#: below); more workers are not measured, so counted as 2.
PARALLEL_AUDIT_SPEEDUP = 1.85


def audit_speedup(rows: int, columns: int, workers: int | None = None) -> float:
    """How much faster than on one core an audit of rows x columns runs here: PARALLEL_AUDIT_SPEEDUP
    where the local engine runs its fits on more than one worker (default engine.local_threads()),
    else 1."""
    from faircause_core.causal.fairness import fit_workers  # here: the audit page has it loaded
    from faircause_core.errors import InputError

    try:
        parallel = fit_workers(rows, columns, workers) > 1
    except InputError:  # a bad FAIRCAUSE_THREADS: the audit itself says so
        parallel = False
    return PARALLEL_AUDIT_SPEEDUP if parallel else 1.0


def audit_seconds(rows: int, columns: int, threads: int | None = None) -> float:
    """Expected seconds of one doubly robust audit of all `rows` real rows and `columns` columns
    on a 2-core machine (AUDIT_COST, measured on one core): 2,000,000 x 6 is 194 s (measured
    211 s), 2,000,000 x 100 is 888 s (measured 917 s); shorter by audit_speedup where the local
    engine runs the fits on `threads` workers (default engine.local_threads())."""
    from faircause_core.causal.fairness import splits_for  # here: the audit page has it loaded

    c, a, b = AUDIT_COST
    seconds = float(splits_for(max(rows, 1)) * np.exp(c) * max(rows, 1) ** a * max(columns, 1) ** b)
    return seconds / audit_speedup(rows, columns, threads)


#: Below this many expected seconds the audit page says nothing of the wait.
AUDIT_WAIT_SAID = 20.0


def audit_wait(rows: int, columns: int) -> str:
    """What the audit page says while a long audit runs ('' for a short one): the expected time,
    so a clinician with a large table knows a wait of minutes is not a hang."""
    seconds = audit_seconds(rows, columns)
    if seconds < AUDIT_WAIT_SAID:
        return ""
    about = f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"  # as describe_eta says it
    return (f"The audit of {rows:,} rows and {columns} columns takes about {about} on a 2-core machine "
            f"(estimated from measured runs); it is kept for this data and question once done.")


def describe_eta(seconds: Optional[float]) -> str:
    """'about 40 s left', 'about 3.5 min left', or 'estimating time left...'."""
    if seconds is None:
        return "estimating time left..."
    if seconds < 90:
        return f"about {max(1, round(seconds)):.0f} s left"
    return f"about {seconds / 60:.1f} min left"


def interruptible(fn: Callable, cancel: Optional[CancelToken], poll: float = 0.1):
    """fn() in a worker thread, watched: raises Cancelled within `poll` seconds of a cancel
    (the abandoned call runs on to its end in the background and its result is dropped)."""
    if cancel is None:
        return fn()
    cancel.check()
    box: dict = {}

    def work():
        try:
            box["value"] = fn()
        except BaseException as err:  # handed to the caller below
            box["error"] = err

    worker = threading.Thread(target=work, name="faircause-step", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(poll)
        if cancel.cancelled and worker.is_alive():
            raise Cancelled("generation cancelled")
    if "error" in box:
        raise box["error"]
    return box.get("value")
