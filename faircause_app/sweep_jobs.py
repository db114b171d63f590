"""The sweep (workflow.sweep) in a background thread, so the compare page stays responsive.

A sweep belongs to the saved run it starts from (its data, graph, question and generator),
so jobs are kept process-wide per (workspace, run id): a refresh, or another tab looking at
the same run, finds the running or finished sweep again. It reuses jobs.Job's fields (id,
label, cancel token, status, error) and keeps its own progress: points done of points asked.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from faircause_app.jobs import Job
from faircause_core.errors import InputError


@dataclass
class SweepJob(Job):
    """A sweep running in a thread: progress is the point being measured, the result its dict."""

    result: dict = field(default_factory=dict)
    points: int = 0
    points_started: float = 0.0  # when the first dial value began (after the fit)

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
    """{(workspace, run id): SweepJob}, process-wide."""
    return {}


_LOCK = threading.Lock()


def start_sweep(run_id: str, run: dict, ws: str, pathway: str, points, rows: int | None,
                model_dir: str | None = None) -> SweepJob:
    """Fit the run's generator once on the run's data and graph, then sweep in a thread."""
    from faircause_core.generators.base import CancelToken, Cancelled
    from faircause_core.io.data import exclude_columns
    from faircause_core.workflow import workspace
    from faircause_core.workflow.sweep import parse_pathway, parse_points, run_sweep, swept_pathways

    pathway, alphas = parse_pathway(pathway), parse_points(points)  # one line before any thread
    if not run.get("data_id"):
        raise InputError(f"run {run_id} does not record the data it was made from: it cannot be swept")
    settings, graph, roles = run["result"].settings, run["graph"], run["roles"]
    swept_pathways(graph, roles, pathway)  # a pathway the graph has no path for: refused here, in one line
    key = (str(ws), str(run_id))
    with _LOCK:
        old = _sweeps().get(key)
        if old is not None and old.status == "running":
            raise InputError("a sweep of this run is already running: cancel it or wait")
        job = SweepJob(job_id=f"sweep-{run_id}-{time.time_ns()}", token=CancelToken(), points=len(alphas),
                       label=f"{settings.generator}, {pathway.upper()} through {', '.join(f'{a:g}' for a in alphas)}")
        _sweeps()[key] = job

    def work():
        try:
            tab = workspace.load_data(run["data_id"], run.get("kinds") or None, root=ws)
            tab = exclude_columns(tab, [c for c in tab.schema.names if c not in graph.nodes])
            result = run_sweep(tab, graph, roles, pathway, alphas, generator=settings.generator,
                               model_dir=settings.model_dir or model_dir, preset=settings.preset,
                               train_steps=settings.train_steps, rows=rows, seed=settings.seed,
                               holdout=settings.holdout, reference=settings.fairness.reference,
                               progress=job.progress, cancel=job.token)
            job.result = json.loads(json.dumps(result.to_dict()))  # plain data only, as the CLI writes it
            job.status = "done"
        except Cancelled:
            job.status = "cancelled"
        except InputError as err:
            job.status, job.error = "failed", str(err)
        except Exception as err:  # one line; the thread must never die silently
            job.status, job.error = "failed", f"sweep failed: {type(err).__name__}: {err}"
        finally:
            job.finished = time.time()

    threading.Thread(target=work, name=f"faircause-{job.job_id}", daemon=True).start()
    return job


def current_sweep(ws: str, run_id: str) -> SweepJob | None:
    return _sweeps().get((str(ws), str(run_id)))
