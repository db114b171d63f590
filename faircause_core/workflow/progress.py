"""Progress and cancel for one whole run: one bar, one honest ETA, a cancel that returns.

The engine reports progress per stage ("fine-tuning 40 of 200", "refining: round 2 of 4",
"measuring ..."); each stage restarts its own count. RunProgress maps every stage to one
of the run's phases and turns it into a single fraction of the whole run, which never goes
back. The phases are weighted by a plan in expected seconds (plan_for: the measured times
of this workspace's earlier runs of the same generator, else defaults measured on a 2-core
machine), and the ETA is computed from measured times: the current phase's own pace for its
rest, and the run's measured pace (elapsed seconds per planned second) for the phases ahead.
If the plan's shares are right within a factor k, the ETA is right within k, whatever the
speed of the machine.

interruptible() runs one long library call (an SDMetrics privacy metric, a fair predictor:
10-30 s each) in a worker thread, so a cancel returns within a fraction of a second even
where the library has no place to stop; the abandoned call ends on its own and is ignored.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from faircause_core.generators.base import Cancelled, CancelToken

PHASES = ("audit", "load", "train", "sample", "measure", "save")

#: Expected seconds per phase when the workspace has no earlier run of the generator
#: (demo cohort, quick preset, 2-core machine; the measure phase is dominated by the
#: SDMetrics privacy metrics and the fair predictor).
DEFAULT_PLAN = {
    # the demo's recorded run (bench/record_timelines.py, tests/data/timelines), at an idle machine's pace
    "bayesnet": {"audit": 3.4, "load": 0.1, "train": 0.2, "sample": 4.7, "measure": 12.9, "save": 0.5},
    "llm": {"audit": 1.0, "load": 3.0, "train": 12.0, "sample": 10.0, "measure": 40.0, "save": 0.5},
    "prompt": {"audit": 1.0, "load": 5.0, "train": 1.0, "sample": 60.0, "measure": 40.0, "save": 0.5},
    # evaluate: a table made elsewhere is audited beside the real rows and measured, nothing fitted
    "external": {"audit": 3.0, "load": 0.0, "train": 0.0, "sample": 0.0, "measure": 20.0, "save": 0.5},
}

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
    if phase == "sample":
        if "refin" in text:  # "refining: round k" is reported as round k starts
            return _ROUNDS_SHARE * min(1.0, max(0.0, (done - 1) / total)) if total > 0 else 0.0
        if "drawing" in text:
            return _ROUNDS_SHARE + (1 - _ROUNDS_SHARE) * part
    return part


#: The size DEFAULT_PLAN was measured at (the demo: 1,629 real rows, 16 columns), and how each
#: phase's cost grows with the real rows and the columns: seconds = plan x (rows / DEMO_ROWS) **
#: a x (columns / DEMO_COLUMNS) ** b. The audit, the fit and the measuring work on every real row
#: and column (the measuring's pair trends and privacy attacks more than linearly in columns);
#: the refinement rounds draw a fixed number of rows; loading a model costs what it costs.
#: Fitted to the two recorded runs (tests/data/timelines: the demo and a 5,000 x 56 table).
DEMO_ROWS, DEMO_COLUMNS = 1629, 16
SIZE_EXPONENTS = {"audit": (1.0, 0.25), "load": (0.0, 0.0), "train": (1.0, 1.0), "sample": (0.0, 0.5),
                  "measure": (0.5, 0.25), "save": (1.0, 1.0)}


def scaled_plan(generator: str, rows: int | None = None, columns: int | None = None) -> dict[str, float]:
    """DEFAULT_PLAN for a table of `rows` real rows and `columns` columns (SIZE_EXPONENTS)."""
    plan = dict(DEFAULT_PLAN.get(generator, DEFAULT_PLAN["llm"]))
    if not rows or not columns:
        return plan
    r, c = max(rows, 1) / DEMO_ROWS, max(columns, 1) / DEMO_COLUMNS
    return {p: s * r ** SIZE_EXPONENTS[p][0] * c ** SIZE_EXPONENTS[p][1] for p, s in plan.items()}


def plan_for(generator: str, history: list[dict] | None = None, rows: int | None = None,
             columns: int | None = None) -> dict[str, float]:
    """Expected seconds per phase: the median of up to three earlier runs' measured timings
    of this generator on the same data (a RunResult's timings: audit_s, fit_s, sample_s,
    measure_s), else DEFAULT_PLAN scaled to the table's size (scaled_plan). fit_s is split
    between loading and training in the default proportion."""
    plan = scaled_plan(generator, rows, columns)
    runs = [t for t in (history or []) if isinstance(t, dict)][:3]
    if not runs:
        return plan

    def median(key):
        vals = sorted(float(t[key]) for t in runs
                      if isinstance(t.get(key), (int, float)) and not isinstance(t.get(key), bool) and t[key] >= 0)
        return vals[len(vals) // 2] if vals else None

    for key, phase in (("audit_s", "audit"), ("sample_s", "sample"), ("measure_s", "measure")):
        m = median(key)
        if m is not None:
            plan[phase] = max(m, 0.05)
    fit = median("fit_s")
    if fit is not None:
        share = plan["load"] / (plan["load"] + plan["train"])
        plan["load"], plan["train"] = max(fit * share, 0.05), max(fit * (1 - share), 0.05)
    return plan


class RunProgress:
    """One overall fraction and ETA for a run whose stages report their own counts.

    `plan`: expected seconds per phase (plan_for). `clock`: a monotonic clock in seconds,
    injectable so tests can drive time."""

    def __init__(self, plan: dict[str, float], clock: Callable[[], float] = time.monotonic):
        self.plan = {p: max(0.0, float(plan.get(p, 0.0))) for p in PHASES}
        self.total = sum(self.plan.values()) or 1.0
        self.clock = clock
        self.started = clock()
        self.phase = PHASES[0]
        self.phase_started = self.started
        self.within = 0.0  # share of the current phase reported done
        self.step = 0.0  # the last report's increment of it
        self.reported = self.started  # when `within` last grew
        self.done_before = 0.0  # planned seconds of the phases already passed
        self._fraction = 0.0

    def start(self) -> None:
        """Start the clock now (a run that waited for a free slot did no work meanwhile)."""
        self.started = self.phase_started = self.reported = self.clock()

    def update(self, stage: str, done: int, total: int) -> None:
        """Take one stage report; a later phase closes the earlier ones, an earlier one is ignored."""
        phase = phase_of(stage)
        if str(stage).lower() == "done":
            phase, done, total = "measure", 1, 1
        if phase is None or PHASES.index(phase) < PHASES.index(self.phase):
            return
        if phase != self.phase:
            self.done_before = sum(self.plan[p] for p in PHASES[:PHASES.index(phase)])
            self.phase, self.phase_started, self.within, self.step = phase, self.clock(), 0.0, 0.0
        now = _within(stage, phase, int(done), int(total))
        if now > self.within:
            self.step, self.within, self.reported = now - self.within, now, self.clock()
        self._fraction = max(self._fraction, self._work(self.within) / self.total)

    def _work(self, within: float) -> float:
        return self.done_before + self.plan[self.phase] * within

    def _within_now(self, in_phase: float) -> float:
        """The current phase's share done by now, moved on from the last report at the pace
        measured so far, but never past the next report (so a slow step makes the pace drop).
        Before the phase's first report the run's pace stands in, up to half the phase."""
        if self.within <= 0:
            before = self.phase_started - self.started
            if self.plan[self.phase] <= 0:
                return 0.0
            if self.done_before <= 0 or before <= 0:
                # the first phase (the audit reports no steps), with no pace measured yet: half
                # done at its planned time, and ever closer to done past it, never there
                return in_phase / (in_phase + self.plan[self.phase])
            return min(0.5, in_phase / (before / self.done_before * self.plan[self.phase]))
        at_report = self.reported - self.phase_started
        if at_report <= 0:
            return self.within
        return min(self.within + self.step, max(self.within, self.within / at_report * in_phase), 1.0)

    def fraction(self) -> float:
        """Share of the whole run done, in [0, 1]; it never decreases."""
        return min(1.0, self._fraction)

    def elapsed(self) -> float:
        return max(0.0, self.clock() - self.started)

    def eta_seconds(self) -> Optional[float]:
        """Seconds left, from measured times; None until there is something to measure."""
        in_phase = self.clock() - self.phase_started
        within = self._within_now(in_phase)
        work, elapsed = self._work(within), self.elapsed()
        if work <= 0.01 * self.total or elapsed <= 0:
            return None
        pace = elapsed / work  # measured seconds per planned second, over the run so far
        ahead = self.total - self.done_before - self.plan[self.phase]
        if within >= 0.1 and in_phase > 0:
            rest_here = in_phase / within * (1 - within)  # this phase's own pace
        else:
            rest_here = pace * self.plan[self.phase] * (1 - within)
        return max(0.0, rest_here + pace * ahead)


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
