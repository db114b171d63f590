"""One generation (or sweep) in its own process, so the server stays responsive and a cancel always works.

Run in threads, four generations held the server's one interpreter lock: page switches took
up to 48 s and the runs 5x longer. In a process of its own a run uses another core, a crash
(out of memory) cannot take the server with it, and a cancel that the engine does not honour
within CANCEL_GRACE_S ends with the process killed. The child reports over a pipe; it exits at
once when the pipe closes (the server died), so nothing runs on unowned.
No Streamlit here: the child imports only the engine.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from faircause_core.errors import InputError

CANCEL_GRACE_S = 3.0  # then the process is killed: cancel within 5 s whatever the stage
NICE = 10  # a run's scheduling priority below the server's, so page switches stay quick
_CONTEXT = []
#: The settings the engine reads from the environment (model folder, caches, offline mode). The
#: fork server keeps the environment it started with, so each run carries the server's current one.
#: RAY_ADDRESS set: the engine's tasks run on that Ray cluster (faircause_core.engine says which).
ENV_PREFIXES = ("FAIRCAUSE_", "HF_", "TRANSFORMERS_", "TOKENIZERS_", "RAY_")


def _engine_env() -> dict:
    return {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)}


def _adopt_env(env: dict) -> None:
    """The child's engine settings become the server's at the time of the run."""
    for k in [k for k in os.environ if k.startswith(ENV_PREFIXES) and k not in env]:
        del os.environ[k]
    os.environ.update(env)


#: What the fork server imports once, so no run or page call imports it again: the workflow, and
#: the metrics, generators and libraries every run reaches (SDMetrics, scikit-learn, Anonymeter
#: with numba, torch): imports a run's process paid before (measured in a fresh interpreter after
#: the workflow: 1.6 s for a Bayes-net run, 4.4 s for a language-model run).
PRELOAD = ("faircause_core.workflow.pipeline", "faircause_core.workflow.sweep", "faircause_core.workflow.workspace",
           "faircause_core.workflow.evaluate", "faircause_core.metrics.fidelity", "faircause_core.metrics.privacy",
           "faircause_core.metrics.utility", "faircause_core.generators.bayesnet", "faircause_core.generators.llm",
           "sdmetrics.reports", "sdmetrics.single_column", "anonymeter.evaluators", "numba")


def context():
    """A forkserver context (forking a threaded server is unsafe; spawning re-imports all each
    time): the fork server imports the engine once (PRELOAD), each run is a fast fork of it."""
    if not _CONTEXT:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        _CONTEXT.append(ctx)
    return _CONTEXT[0]


def start_early() -> None:
    """Start the fork server (and its imports: several seconds) in the background now, at the
    server's first page, instead of inside the first page call or run that needs it."""
    from multiprocessing import forkserver

    context()
    threading.Thread(target=forkserver.ensure_running, name="faircause-forkserver", daemon=True).start()


# ------------------------------------------------------------------ page calls (cache.py)

CALL_WORKERS = 2  # one per core here; a page's call waits for a free worker
CALL_NICE = 5  # between the server's page runs (0) and the runs (NICE)
_POOL: list = []
_POOL_LOCK = threading.Lock()


def _lower_priority(step: int) -> None:
    """Yield the CPU to the server's page runs (a process may already be at the floor)."""
    try:
        os.nice(step)
    except OSError:
        pass


def _call_body(env: dict, fn, args, kwargs):
    from faircause_core import engine

    _adopt_env(env)
    with engine.use(engine.from_environment()):
        return fn(*args, **kwargs)


class WorkerStopped(InputError):
    """A page's engine call whose worker process ended twice in a row (killed, out of memory):
    an InputError, so the page says it in one line as it says every other refusal."""


def call(fn, *args, **kwargs):
    """fn(*args, **kwargs) in a worker process, for the pages' seconds-long engine calls (a
    discovery, the graph check, the audit). In the server's threads they held its one
    interpreter lock: with four sessions on their graph page, a fifth's page switch took 3-6 s.
    The result (or the InputError) comes back as if called here; a worker that died is replaced
    once, and a second death in a row is a WorkerStopped line, not a traceback on the page."""
    for attempt in (0, 1):
        with _POOL_LOCK:
            if not _POOL:
                _POOL.append(ProcessPoolExecutor(max_workers=CALL_WORKERS, mp_context=context(),
                                                 initializer=_lower_priority, initargs=(CALL_NICE,)))
            pool = _POOL[0]
        try:
            return pool.submit(_call_body, _engine_env(), fn, args, kwargs).result()
        except BrokenProcessPool:
            with _POOL_LOCK:
                if _POOL and _POOL[0] is pool:
                    _POOL.clear()
            if attempt:
                raise WorkerStopped("the calculation stopped: its worker process ended twice in a row (out of "
                                    "memory, or killed); try again, or with fewer rows or columns") from None


# ------------------------------------------------------------------------- runs and sweeps

def _generate(p: dict, progress, token) -> tuple:
    """A generation: run, save the run folder; reports (run id, fit reused)."""
    from faircause_core.workflow import workspace
    from faircause_core.workflow.pipeline import run_generation

    result = run_generation(p["table"], p["graph"], p["roles"], p["settings"], progress=progress, cancel=token)
    token.check()
    progress("saving the run", 0, 1)
    run_id = workspace.save_run(result, graph=p["graph"], roles=p["roles"], data_id=p["data_id"],
                                kinds=p["kinds"], name=p["label"], root=p["ws"], run_id=p["run_id"])
    return run_id, bool(result.fit_reused)


def _sweep(p: dict, progress, token) -> tuple:
    """A sweep of a saved run (workflow.sweep): reports its result as plain data, as the CLI writes it."""
    import json

    from faircause_core.io.data import exclude_columns
    from faircause_core.workflow import workspace
    from faircause_core.workflow.sweep import run_sweep

    graph, settings = p["graph"], p["settings"]
    tab = workspace.load_data(p["data_id"], p.get("kinds") or None, root=p["ws"])
    tab = exclude_columns(tab, [c for c in tab.schema.names if c not in graph.nodes])
    result = run_sweep(tab, graph, p["roles"], p["pathway"], p["alphas"], generator=settings.generator,
                       model_dir=settings.model_dir or p.get("model_dir"), preset=settings.preset,
                       train_steps=settings.train_steps, rows=p.get("rows"), seed=settings.seed,
                       holdout=settings.holdout, reference=settings.fairness.reference,
                       progress=progress, cancel=token)
    return (json.loads(json.dumps(result.to_dict())),)


def _evaluate(p: dict, progress, token) -> tuple:
    """An evaluation of a synthetic table made elsewhere (workflow.evaluate), saved as a run."""
    from faircause_core.workflow import workspace
    from faircause_core.workflow.evaluate import evaluate

    result = evaluate(p["table"], p["synthetic"], p["graph"], p["roles"], holdout=p.get("holdout"), seed=p["seed"],
                      source=p["source"], holdout_source=p.get("holdout_source"), progress=progress, cancel=token)
    token.check()
    progress("saving the run", 0, 1)
    run_id = workspace.save_run(result, graph=p["graph"], roles=p["roles"], data_id=p["data_id"],
                                kinds=p["kinds"], name=p["label"], root=p["ws"], run_id=p["run_id"])
    return run_id, False


TASKS = {"generate": _generate, "sweep": _sweep, "evaluate": _evaluate}
WORDS = {"generate": "generation", "sweep": "sweep", "evaluate": "evaluation"}  # in messages


def child(conn, payload: dict) -> None:
    """The process's body: run the payload's task, report (progress, then done | cancelled | failed)."""
    from faircause_core.errors import InputError
    from faircause_core.generators.base import Cancelled, CancelToken

    token, lock = CancelToken(), threading.Lock()

    def listen():
        while True:
            try:
                if conn.recv() == "cancel":
                    token.cancel()
            except (EOFError, OSError):
                os._exit(3)  # the server is gone: stop now; its run stays unsaved (marked interrupted)

    def send(*msg):
        with lock:
            conn.send(msg)

    threading.Thread(target=listen, name="faircause-listen", daemon=True).start()
    _adopt_env(payload.get("env") or {})
    _lower_priority(NICE)  # the pages come first
    task = payload.get("task", "generate")
    try:
        from faircause_core import engine

        with engine.use(engine.from_environment()):
            send("done", *TASKS[task](payload, lambda s, d, t: send("progress", str(s), int(d), int(t)), token))
    except Cancelled:
        send("cancelled")
    except InputError as err:
        send("failed", str(err))
    except Exception as err:  # one line for the page; the process ends either way
        send("failed", f"{WORDS[task]} failed: {type(err).__name__}: {err}")


def run(job, payload: dict) -> None:
    """Run `payload` (its "task": generate or sweep) in a child process and mirror its reports
    onto `job` (a jobs.Job) until it ends; kill it CANCEL_GRACE_S after a cancel it has not honoured."""
    ctx = context()
    payload = {**payload, "env": _engine_env()}
    mine, theirs = ctx.Pipe()
    proc = ctx.Process(target=child, args=(theirs, payload), name=f"faircause-{job.job_id}", daemon=True)
    proc.start()
    theirs.close()
    asked = 0.0
    try:
        while True:
            if job.token.cancelled and not asked:
                asked = time.monotonic()
                try:
                    mine.send("cancel")
                except OSError:
                    pass
            if asked and time.monotonic() - asked > CANCEL_GRACE_S:
                proc.kill()
                job.status = "cancelled"
                return
            if not mine.poll(0.1):
                continue
            try:
                kind, *rest = mine.recv()
            except (EOFError, OSError):
                proc.join(5)
                job.status = "cancelled" if asked else "failed"
                job.error = "" if asked else f"the generation process stopped unexpectedly (exit code {proc.exitcode})"
                return
            if kind == "progress":
                job.progress(*rest)
            elif kind == "done":
                job.finish(*rest)
                return
            elif kind == "cancelled":
                job.status = "cancelled"
                return
            else:
                job.status, job.error = "failed", rest[0]
                return
    finally:
        mine.close()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
