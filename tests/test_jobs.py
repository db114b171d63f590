"""Background jobs per browser session (issue 12 item 4): each session sees and cancels only
its own job, a refresh of the same tab finds it again, and the runs of every session land
safely in the one run list (unique ids, folders renamed whole)."""

import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from faircause_app import jobs
from faircause_core.errors import InputError
from faircause_core.generators.base import FairnessSpec
from faircause_core.workflow import workspace
from faircause_core.workflow.pipeline import GenerationSettings
from tests.conftest import DEMO, ROOT

A, B, C = "a" * 32, "b" * 32, "c" * 32


def quick(**kw):
    return GenerationSettings(generator="bayesnet", rows=200, refine=False, fairness=FairnessSpec(de=1.0), **kw)


def wait_end(job, timeout=300.0):
    deadline = time.time() + timeout
    while job.status == "running" and time.time() < deadline:
        time.sleep(0.1)
    assert job.status != "running", f"job {job.job_id} still running after {timeout} s ({job.stage})"


def test_two_sessions_see_and_cancel_only_their_own_job(tmp_path, demo_table, demo_graph, demo_roles):
    ws = str(tmp_path / "ws")
    data_id = workspace.save_data(DEMO.read_bytes(), DEMO.name, root=ws)
    a = jobs.start_job(demo_table, demo_graph, demo_roles, quick(), data_id, {}, ws, A)
    b = jobs.start_job(demo_table, demo_graph, demo_roles, quick(seed=1), data_id, {}, ws, B)
    assert jobs.current_job(ws, A) is a and jobs.current_job(ws, B) is b and a.job_id != b.job_id
    assert jobs.current_job(ws, C) is None and jobs.current_job(ws, "") is None
    assert jobs.current_job(str(tmp_path / "other"), A) is None  # another workspace: another list
    assert jobs.running_elsewhere(ws, A) == 1 and jobs.running_elsewhere(ws, C) == 2
    with pytest.raises(InputError, match="already running in this session"):
        jobs.start_job(demo_table, demo_graph, demo_roles, quick(), data_id, {}, ws, A)

    jobs.current_job(ws, B).cancel()  # what B's Cancel button does
    assert b.cancelling and not a.cancelling
    wait_end(b, timeout=30)
    assert b.status == "cancelled" and a.status == "running"
    wait_end(a)
    assert a.status == "done", a.error
    assert [r["run_id"] for r in workspace.list_runs(root=ws)] == [a.run_id]
    assert workspace.interrupted_runs(root=ws) == [] and not list((tmp_path / "ws" / "pending").iterdir())



def test_runs_saved_at_once_from_many_sessions_all_land(tmp_path, bayes_run, demo_graph, demo_roles):
    ws = tmp_path / "ws"
    saved, errors = [], []

    def one(i):
        try:
            run_id = workspace.begin_run(f"session {i}", root=ws)
            saved.append(workspace.save_run(bayes_run, graph=demo_graph, roles=demo_roles, name=f"session {i}",
                                            root=ws, run_id=run_id))
        except Exception as err:  # collected: a failure in a thread must fail the test
            errors.append(err)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    listed = workspace.list_runs(root=ws)
    assert len(set(saved)) == 8 and {r["run_id"] for r in listed} == set(saved)
    assert sorted(r["name"] for r in listed) == sorted(f"session {i}" for i in range(8))
    assert not list((ws / "pending").iterdir()) and not [p for p in (ws / "runs").iterdir() if p.name.startswith(".")]


def test_a_refresh_keeps_the_session_id_and_a_new_tab_gets_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRCAUSE_WORKSPACE", str(tmp_path / "ws"))
    first = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    first.run()
    sid = first.session_state["session_id"]
    assert len(sid) == 32 and first.query_params["sid"] in (sid, [sid])  # mirrored in the address
    refreshed = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    refreshed.query_params["sid"] = sid  # the same address, a new Streamlit session
    refreshed.run()
    assert refreshed.session_state["session_id"] == sid
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    other.run()
    assert other.session_state["session_id"] != sid
    forged = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    forged.query_params["sid"] = "../../etc"  # not an id: a fresh one instead
    forged.run()
    assert forged.session_state["session_id"] not in (sid, "../../etc")


def test_a_sweep_runs_in_its_own_process_for_its_own_session(tmp_path, bayes_run, demo_graph, demo_roles):
    """Sweeps are keyed per session like generations, run as a process (a cancel that the engine
    does not honour still ends it), and hand back the sweep's plain-data result."""
    import os

    from faircause_app import sweep_jobs

    ws = str(tmp_path / "ws")
    data_id = workspace.save_data(DEMO.read_bytes(), DEMO.name, root=ws)
    run_id = workspace.save_run(bayes_run, graph=demo_graph, roles=demo_roles, data_id=data_id, root=ws)
    run = workspace.load_run(run_id, root=ws)
    a = sweep_jobs.start_sweep(run_id, run, ws, A, "de", "0,1", 200)
    assert sweep_jobs.current_sweep(ws, A, run_id) is a
    assert sweep_jobs.current_sweep(ws, B, run_id) is None and sweep_jobs.current_sweep(ws, "", run_id) is None
    with pytest.raises(InputError, match="already running"):
        sweep_jobs.start_sweep(run_id, run, ws, A, "de", "0,1", 200)
    b = sweep_jobs.start_sweep(run_id, run, ws, B, "de", "0,0.5,1", 200)  # another tab: its own sweep
    b.cancel()
    wait_end(b, timeout=30)
    assert b.status == "cancelled" and a.status in ("running", "done")
    wait_end(a)
    assert a.status == "done", a.error
    assert [p["alpha"] for p in a.result["points"]] == [0.0, 1.0]
    assert a.result["settings"]["rows"] == 200


def test_a_finished_job_never_shows_a_negative_duration():
    """The page can see "done" before the job's thread records its end: the load test once read
    "Finished in -1795641189 s". The end time is taken with the status."""
    from faircause_core.generators.base import CancelToken

    job = jobs.Job(job_id="x", label="x", token=CancelToken())
    assert 0 <= job.ended_at() - job.started < 5  # still running: now
    job.finish("20260101-000000-abcdef", False)
    assert job.status == "done" and job.finished >= job.started and 0 <= job.ended_at() - job.started < 5


def child_modules() -> tuple[bool, bool]:
    """Run in a job process: did the app's session state and caches get imported (app.py ran)?"""
    import sys

    return "faircause_app.state" in sys.modules, "faircause_app.cache" in sys.modules


def test_a_process_started_while_a_page_runs_does_not_run_the_app(monkeypatch):
    """While a page runs, Streamlit makes app.py the __main__ module, and multiprocessing re-imports
    __main__ by path in every process it starts: app.py must do nothing then (it once ran the
    whole app, headless, in each generation, sweep and engine-call process)."""
    import sys
    import types

    from faircause_app import job_process

    page_main = types.ModuleType("__main__")
    page_main.__file__ = str(ROOT / "app.py")
    monkeypatch.setitem(sys.modules, "__main__", page_main)
    monkeypatch.setattr(job_process, "_POOL", [])  # a fresh worker, started now
    try:
        assert job_process.call(child_modules) == (False, False)
    finally:
        for pool in job_process._POOL:
            pool.shutdown()


def test_a_run_takes_the_servers_current_engine_settings():
    """The fork server keeps the environment it started with; each run adopts the server's engine
    settings at the time of the run: new ones set, changed ones replaced, removed ones removed,
    and anything else (PATH) left alone."""
    import os

    from faircause_app import job_process

    saved = dict(os.environ)
    try:
        os.environ.update({"FAIRCAUSE_OLD": "gone at the server", "HF_HUB_OFFLINE": "0"})
        job_process._adopt_env({"HF_HUB_OFFLINE": "1", "FAIRCAUSE_MODEL_DIR": "/models/tiny"})
        assert "FAIRCAUSE_OLD" not in os.environ
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["FAIRCAUSE_MODEL_DIR"] == "/models/tiny"
        assert os.environ.get("PATH") == saved.get("PATH")
        assert not [k for k in os.environ if k.startswith(job_process.ENV_PREFIXES)
                    and k not in ("HF_HUB_OFFLINE", "FAIRCAUSE_MODEL_DIR")]
    finally:  # the whole environment back, whatever the engine settings of this test run are
        os.environ.clear()
        os.environ.update(saved)


def die_once(marker: str) -> int:
    """Run in a worker: the first call ends its process abruptly, the next returns."""
    import os
    from pathlib import Path

    if not Path(marker).exists():
        Path(marker).write_text("died")
        os._exit(1)
    return 42


def always_die() -> None:
    import os

    os._exit(1)


def test_a_page_call_survives_one_worker_death_and_says_a_second_in_one_line(monkeypatch, tmp_path):
    """A worker killed under a page call (out of memory) is replaced and the call retried; two
    deaths in a row give the page one InputError line instead of an exception box."""
    from faircause_app import job_process
    from faircause_core.errors import InputError

    monkeypatch.setattr(job_process, "_POOL", [])
    try:
        assert job_process.call(die_once, str(tmp_path / "marker")) == 42
        with pytest.raises(InputError) as err:
            job_process.call(always_die)
        assert isinstance(err.value, job_process.WorkerStopped)
        assert str(err.value).startswith("the calculation stopped: its worker process ended twice") \
            and "\n" not in str(err.value)
        assert job_process.call(die_once, str(tmp_path / "marker")) == 42  # a fresh pool serves the next call
    finally:
        for pool in job_process._POOL:
            pool.shutdown()


def test_a_runs_audit_fits_fork_inside_its_job_process(tmp_path, demo_table, demo_graph, demo_roles, monkeypatch):
    """The app's run process (a daemon process whose steps run on a thread) forks its audits'
    fits on FAIRCAUSE_THREADS workers (the suite sets 1, so only here): the run ends done, with
    the fitting split's audit of one process, bit for bit."""
    from faircause_core import engine
    from faircause_core.workflow.pipeline import audit, split_holdout

    from faircause_core.io.data import Table

    if not engine.FORK:
        pytest.skip("forked workers are Linux only")
    rows = demo_table.df.sample(500, random_state=0).reset_index(drop=True)  # 500 rows: cheaper audits
    table = Table(rows, demo_table.schema, demo_table.name)
    here = audit(split_holdout(table, quick().holdout, 0)[0], demo_roles, seed=0).to_dict()  # one process's
    monkeypatch.setenv("FAIRCAUSE_AUDIT_CACHE", "off")  # every audit fitted, in the run's process
    monkeypatch.setenv("FAIRCAUSE_THREADS", "2")  # both read as the run's process starts
    ws = str(tmp_path / "ws")
    job = jobs.start_job(table, demo_graph, demo_roles, quick(), None, {}, ws, A)
    wait_end(job)
    assert job.status == "done", job.error
    run = workspace.load_run(job.run_id, root=ws)["result"]
    assert run.real_effects["estimates"] == here["estimates"] and run.real_effects["ses"] == here["ses"]
