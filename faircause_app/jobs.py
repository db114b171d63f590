"""Generation in a background thread, so the page stays responsive and shows progress.

One job per workspace, kept process-wide: a browser refresh finds a running job again.
The page polls the Job; the thread saves the run to the workspace when it finishes.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from faircause_core.errors import InputError
from faircause_core.workflow import workspace


@dataclass
class Job:
    """A generation running in a background thread; the page polls it."""

    job_id: str
    label: str
    token: object
    started: float = field(default_factory=time.time)
    stage: str = "starting"
    done: int = 0
    total: int = 0
    stage_started: float = field(default_factory=time.time)
    status: str = "running"  # running | done | failed | cancelled
    error: str = ""
    run_id: str = ""
    finished: float = 0.0

    def progress(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.stage, self.stage_started = stage, time.time()
        self.done, self.total = int(done), int(total)

    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def eta(self) -> str:
        if not self.total or self.done <= 0 or self.done >= self.total:
            return ""
        rest = (time.time() - self.stage_started) / self.done * (self.total - self.done)
        return f"about {rest:.0f} s left in this stage" if rest < 120 else f"about {rest / 60:.1f} min left"


@st.cache_resource(show_spinner=False)
def _jobs() -> dict:
    """Jobs per workspace, process-wide, so a browser refresh finds a running job again."""
    return {}


def start_job(tab, g, r, settings, data_id: str, kinds: dict, ws: str) -> Job:
    """Run pipeline.run_generation in a thread and save the run to the workspace."""
    from faircause_core.generators.base import CancelToken, Cancelled
    from faircause_core.workflow.pipeline import run_generation

    job = Job(job_id=workspace.new_run_id(), label=f"{settings.generator}, {settings.fairness.label()}",
              token=CancelToken())

    def work():
        try:
            result = run_generation(tab, g, r, settings, progress=job.progress, cancel=job.token)
            job.progress("saving the run", 0, 1)
            job.run_id = workspace.save_run(result, graph=g, roles=r, data_id=data_id, kinds=kinds,
                                            name=job.label, root=ws, run_id=job.job_id)
            job.status = "done"
        except Cancelled:
            job.status = "cancelled"
        except InputError as err:
            job.status, job.error = "failed", str(err)
        except Exception as err:  # shown as one line; the thread must never die silently
            job.status, job.error = "failed", f"generation failed: {type(err).__name__}: {err}"
        finally:
            job.finished = time.time()

    _jobs()[ws] = job
    threading.Thread(target=work, name=f"faircause-{job.job_id}", daemon=True).start()
    return job


def current_job(ws: str) -> Job | None:
    return _jobs().get(ws)


def model_dir_from_env() -> str | None:
    """FAIRCAUSE_MODEL_DIR picks the language model folder (tests use a tiny model)."""
    return os.environ.get("FAIRCAUSE_MODEL_DIR") or None
