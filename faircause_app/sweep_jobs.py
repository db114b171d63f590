"""The sweep (workflow.sweep) in a process of its own, so the compare page stays responsive.

A sweep belongs to the saved run it starts from (its data, graph, question and generator) and
to the browser session that started it: jobs are keyed (workspace, session id, run id), so a
refresh of the tab finds its sweep again while another tab never sees or cancels it. It runs
like a generation (jobs.launch, job_process): a process of its own at a lower priority, in one
of the slots generations use, killed if a cancel is not honoured within seconds. It reuses
jobs.Job's fields and keeps its own progress: points done of points asked.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from faircause_app import jobs
from faircause_app.jobs import Job
from faircause_core.errors import InputError


@dataclass
class SweepJob(Job):
    """A sweep running in its process: progress is the point being measured, the result its dict."""

    result: dict = field(default_factory=dict)
    points: int = 0
    points_started: float = 0.0  # when the first dial value began (after the fit)

    def finish(self, result: dict) -> None:  # noqa: D102 - the sweep reports its result, not a run id
        self.result, self.finished, self.status = result, time.time(), "done"

    def progress(self, stage: str, done: int, total: int) -> None:  # noqa: D102 - the sweep's own bar
        self.stage, self.done, self.total = str(stage), int(done), int(total)
        if self.sweeping and not self.points_started:
            self.points_started = time.time()

    @property
    def sweeping(self) -> bool:
        return self.stage.startswith("sweep point") or self.stage == "sweep done"

    def fraction(self) -> float:
        """Fitting counts as the first step, then one step per dial value."""
        steps = 1 + max(self.points, 1)
        if self.sweeping:
            return min(1.0, (1 + self.done) / steps)
        return (min(1.0, self.done / self.total) if self.total else 0.0) / steps

    def eta(self) -> str:
        """From the points measured so far (fitting time says nothing about a point's)."""
        if not self.sweeping or self.done < 1:
            return ""
        per = (time.time() - self.points_started) / self.done
        return f"about {per * (self.points - self.done):.0f} s left"


@st.cache_resource(show_spinner=False)
def _sweeps() -> dict:
    """{(workspace, session id, run id): SweepJob}, process-wide (a refresh finds its sweep)."""
    return {}


_LOCK = threading.Lock()


def start_sweep(run_id: str, run: dict, ws: str, session: str, pathway: str, points, rows: int | None,
                model_dir: str | None = None) -> SweepJob:
    """Fit the run's generator once on the run's data and graph, then sweep, in a process."""
    from faircause_core.generators.base import CancelToken
    from faircause_core.workflow.sweep import parse_pathway, parse_points, swept_pathways

    pathway, alphas = parse_pathway(pathway), parse_points(points)  # one line before any process
    if not run.get("data_id"):
        raise InputError(f"run {run_id} does not record the data it was made from: it cannot be swept")
    settings, graph, roles = run["result"].settings, run["graph"], run["roles"]
    swept_pathways(graph, roles, pathway)  # a pathway the graph has no path for: refused here, in one line
    key = (*jobs.session_key(ws, session), str(run_id))
    with _LOCK:
        old = _sweeps().get(key)
        if old is not None and old.status == "running":
            raise InputError("a sweep of this run is already running: cancel it or wait")
        job = SweepJob(job_id=f"sweep-{run_id}-{time.time_ns()}", token=CancelToken(), session=session,
                       points=len(alphas),
                       label=f"{settings.generator}, {pathway.upper()} through {', '.join(f'{a:g}' for a in alphas)}")
        _sweeps()[key] = job
    jobs.launch(job, {"task": "sweep", "graph": graph, "roles": roles, "settings": settings, "ws": str(ws),
                      "data_id": run["data_id"], "kinds": run.get("kinds"), "pathway": pathway,
                      "alphas": alphas, "rows": rows, "model_dir": model_dir})
    return job


def current_sweep(ws: str, session: str, run_id: str) -> SweepJob | None:
    """This session's sweep of this run (never another session's)."""
    if not session:
        return None
    return _sweeps().get((str(ws), str(session), str(run_id)))
