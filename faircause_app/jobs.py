"""Generation in a background thread, so the page stays responsive and shows progress.

Jobs are kept per browser session: each session sees and cancels only its own job, while
every session's runs land in the one run list of the workspace (each run reserves its own
id with an under-way marker and is saved folder-whole, see workflow.workspace). The key is
(workspace, session id); the session id lives in the page's address (state.session_id), so
a refresh of the same tab finds its running job again. At most MAX_PARALLEL jobs run at
once; the others wait, cancellable, for a free slot. Each run is a process of its own
(job_process): the server stays responsive, and a cancel ends the run within seconds.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from faircause_app import job_process
from faircause_core.errors import InputError
from faircause_core.workflow import workspace
from faircause_core.workflow.progress import RunProgress, describe_eta, plan_for, tracker_for

#: Jobs running at once in one server process (a language model fit takes ~2 GB and one
#: core's worth of threads; FAIRCAUSE_MAX_JOBS overrides).
MAX_PARALLEL = max(1, int(os.environ.get("FAIRCAUSE_MAX_JOBS") or 2))


@dataclass
class Job:
    """A generation running in a background thread; the page polls it."""

    job_id: str
    label: str
    token: object
    session: str = ""
    tracker: RunProgress = field(default_factory=lambda: tracker_for("llm", plan_for("llm")))
    started: float = field(default_factory=time.time)
    stage: str = "starting"
    done: int = 0
    total: int = 0
    status: str = "running"  # running | done | failed | cancelled
    error: str = ""
    run_id: str = ""
    finished: float = 0.0
    cancel_pressed: float = 0.0
    fit_reused: bool = False
    task: str = "generate"  # job_process.TASKS: generate | sweep | evaluate
    owner: list = field(default_factory=list)  # state.owner(): the data set and question it was started for

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = str(stage), int(done), int(total)
        self.tracker.update(stage, done, total)

    def fraction(self) -> float:
        """The whole run's share done (never back to 0 when a stage starts)."""
        return self.tracker.fraction()

    def eta(self) -> str:
        return describe_eta(self.tracker.eta_seconds())

    def finish(self, run_id: str, fit_reused: bool) -> None:
        """The process reported success (job_process.run): the saved run's id."""
        self.run_id, self.fit_reused, self.finished, self.status = run_id, bool(fit_reused), time.time(), "done"

    def ended_at(self) -> float:
        """When the job ended (now, in the moment between its status and its thread's end)."""
        return self.finished or time.time()

    def cancel(self) -> None:
        """Ask the run to stop; it stops at its next check (within a few seconds)."""
        if not self.cancel_pressed:
            self.cancel_pressed = time.time()
        self.token.cancel()

    @property
    def cancelling(self) -> bool:
        return self.status == "running" and bool(self.cancel_pressed)


_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False)
def _registry() -> dict:
    """{(workspace, session id): Job} and the slots, process-wide (a refresh finds its job)."""
    return {"jobs": {}, "slots": threading.BoundedSemaphore(MAX_PARALLEL)}


def session_key(ws: str, session: str) -> tuple[str, str]:
    if not session:
        raise InputError("no browser session id: reload the page")
    return str(ws), str(session)


def _history(ws: str, generator: str, data_id: str | None, measure: str = "full") -> list[dict]:
    """Measured timings of this workspace's latest runs of `generator` on the same data with the
    same measuring profile, for the ETA's plan (another data set's runs say little: costs grow
    with its rows and columns; a light run measures in a fraction of a full one's time)."""
    try:
        runs = workspace.list_runs(root=ws)
    except InputError:
        return []
    return [r["timings"] for r in runs if r.get("generator") == generator and r.get("timings")
            and r.get("data_id") == data_id and r.get("measure") == measure][:3]  # _summary: full if unsaid


def start_job(tab, g, r, settings, data_id: str, kinds: dict, ws: str, session: str, owner=None) -> Job:
    """Run pipeline.run_generation in a process of its own for this session and save the run.

    One running job per session: starting another while one runs is an InputError."""
    label = f"{settings.generator}, {settings.fairness.label()}"
    payload = {"task": "generate", "table": tab, "graph": g, "roles": r, "settings": settings, "data_id": data_id,
               "kinds": kinds, "label": label, "ws": ws, "owner": owner}
    return _start_run(payload, settings.generator, {"rows": settings.rows}, ws, session)


def start_evaluate(tab, g, r, synthetic, source: str, holdout, holdout_source, seed: int, data_id: str,
                   kinds: dict, ws: str, session: str, owner=None) -> Job:
    """Measure a synthetic table made elsewhere (workflow.evaluate) in a process of its own and
    save it as a run, like a generation (one job per session, the same slots)."""
    from faircause_core.workflow.pipeline import EXTERNAL

    payload = {"task": "evaluate", "table": tab, "graph": g, "roles": r, "synthetic": synthetic, "source": source,
               "holdout": holdout, "holdout_source": holdout_source, "seed": int(seed), "data_id": data_id,
               "kinds": kinds, "label": f"evaluated {source}", "ws": ws, "owner": owner}
    return _start_run(payload, EXTERNAL, {"rows": len(synthetic)}, ws, session)


def _start_run(payload: dict, generator: str, info: dict, ws: str, session: str) -> Job:
    """Reserve a run id, register this session's job and launch the payload; one running job per session."""
    from faircause_core.generators.base import CancelToken

    from faircause_core.workflow.pipeline import default_measure

    key = session_key(ws, session)
    reg = _registry()
    label = payload["label"]
    measure = getattr(payload.get("settings"), "measure", None) or default_measure()  # evaluate: the default
    with _LOCK:
        old = reg["jobs"].get(key)
        if old is not None and old.status == "running":
            raise InputError(f"a {job_process.WORDS[old.task]} is already running in this session: cancel it or wait")
        run_id = workspace.begin_run(label, {"generator": generator, "data_id": payload["data_id"], **info}, root=ws)
        job = Job(job_id=run_id, label=label, token=CancelToken(), session=session, task=payload["task"],
                  owner=list(payload.get("owner") or []),
                  tracker=tracker_for(generator, plan_for(generator, _history(ws, generator, payload["data_id"], measure),
                                                          rows=len(payload["table"].df),
                                                          columns=payload["table"].df.shape[1], measure=measure)))
        reg["jobs"][key] = job
        for k in [k for k, j in reg["jobs"].items() if j.finished and time.time() - j.finished > 3600]:
            del reg["jobs"][k]  # ended an hour ago: its session has seen it

    def release_id():  # an unsaved run gives its reserved id back
        if job.status != "done":
            workspace.end_run(job.job_id, root=ws)

    launch(job, {**payload, "run_id": run_id}, after=release_id)
    return job


def launch(job: Job, payload: dict, after=None) -> None:
    """Run `payload` in a process of its own (job_process) from a thread, once one of the
    MAX_PARALLEL slots is free (generations and sweeps share them); `after()` runs at the end."""
    reg = _registry()

    def work():
        slot = False
        try:
            while not slot:  # wait for a free slot, cancellable
                if job.token.cancelled:
                    job.status = "cancelled"
                    return
                slot = reg["slots"].acquire(timeout=0.2)
                if not slot:
                    job.progress("waiting for another session's run to finish", 0, 1)
            job.tracker.start()  # the wait is not work
            job_process.run(job, payload)
        except Exception as err:  # shown as one line; the thread must never die silently
            job.status, job.error = "failed", f"{job_process.WORDS[payload['task']]} failed: {type(err).__name__}: {err}"
        finally:
            if slot:
                reg["slots"].release()
            if after is not None:
                after()
            job.finished = job.finished or time.time()

    threading.Thread(target=work, name=f"faircause-{job.job_id}", daemon=True).start()


def current_job(ws: str, session: str) -> Job | None:
    """This session's latest job in this workspace (never another session's)."""
    if not session:
        return None
    return _registry()["jobs"].get((str(ws), str(session)))


def running_elsewhere(ws: str, session: str) -> int:
    """How many other sessions have a job running in this workspace (shown, never opened)."""
    return sum(1 for (w, s), j in list(_registry()["jobs"].items())
               if w == str(ws) and s != str(session) and j.status == "running")


def model_dir_from_env() -> str | None:
    """FAIRCAUSE_MODEL_DIR picks the language model folder (tests use a tiny model)."""
    return os.environ.get("FAIRCAUSE_MODEL_DIR") or None
