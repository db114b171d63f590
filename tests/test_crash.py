"""Crash recovery (issue 12 item 5): a real process killed with SIGKILL during fine-tuning and
again while saving a run. Afterwards the workspace opens, earlier runs are intact, and the
interrupted run is listed as interrupted, never half-written, never breaking the run list."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from faircause_core.workflow import workspace
from tests.conftest import DEMO, ROOT


def spawn(tmp_path, *args):
    log = open(tmp_path / "child.log", "wb")
    env = dict(os.environ, PYTHONHASHSEED="0", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               FAIRCAUSE_CACHE=str(tmp_path / "cache"))
    return subprocess.Popen([sys.executable, str(ROOT / "tests" / "crash_child.py"), *map(str, args)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_flag(proc, flag: Path, tmp_path, timeout=300) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if flag.exists() and flag.read_text():
            return flag.read_text()
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    pytest.fail("the child never reached the point to kill it at: " + (tmp_path / "child.log").read_text()[-3000:])


def kill(proc) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def earlier_run(ws, bayes_run, demo_graph, demo_roles) -> str:
    data_id = workspace.save_data(DEMO.read_bytes(), DEMO.name, root=ws)
    return workspace.save_run(bayes_run, graph=demo_graph, roles=demo_roles, data_id=data_id, name="earlier",
                              root=ws)


def assert_earlier_intact(ws, run_id, bayes_run):
    assert [r["run_id"] for r in workspace.list_runs(root=ws)] == [run_id]
    run = workspace.load_run(run_id, root=ws)
    pd.testing.assert_frame_equal(run["result"].synthetic, bayes_run.synthetic.reset_index(drop=True),
                                  check_dtype=False)


def test_sigkill_during_fine_tuning(tmp_path, bayes_run, demo_graph, demo_roles, monkeypatch):
    from faircause_core.generators.lm.store import tiny_model

    ws = tmp_path / "ws"
    earlier = earlier_run(ws, bayes_run, demo_graph, demo_roles)
    model = tiny_model(path=tmp_path / "tiny", seed=0)
    proc = spawn(tmp_path, "train", ws, model, tmp_path / "flag")
    job_id = wait_flag(proc, tmp_path / "flag", tmp_path)
    assert (ws / "pending" / f"{job_id}.json").is_file()
    assert workspace.interrupted_runs(root=ws) == []  # its process is alive: running, not interrupted
    kill(proc)

    # a restart: another process opens the workspace
    assert_earlier_intact(ws, earlier, bayes_run)
    gone = workspace.interrupted_runs(root=ws)
    assert [(r["run_id"], r["status"]) for r in gone] == [(job_id, "interrupted")]
    assert not (ws / "runs" / job_id).exists()

    # the app opens on it and the generate page says what happened
    data_id = workspace.list_runs(root=ws)[0]["data_id"]
    workspace.save_session({"data_id": data_id, "graph": demo_graph.to_dict(), "run_id": earlier,
                            "problem": {"x": "sex", "x0": "Male", "x1": "Female", "y": "death"}}, root=ws)
    monkeypatch.setenv("FAIRCAUSE_WORKSPACE", str(ws))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/4_generate.py").run()
    assert not at.exception, [e.value for e in at.exception]
    notes = [w.value for w in at.warning]
    assert any("was interrupted" in w and "earlier runs are intact" in w for w in notes), notes
    at.button(key=f"w_dismiss_{job_id}").click().run()
    assert workspace.interrupted_runs(root=ws) == [] and not any("was interrupted" in w.value for w in at.warning)
    at.switch_page("pages/5_compare.py").run()
    assert not at.exception, [e.value for e in at.exception]


def test_sigkill_while_saving_a_run(tmp_path, bayes_run, demo_graph, demo_roles):
    ws = tmp_path / "ws"
    earlier = earlier_run(ws, bayes_run, demo_graph, demo_roles)
    proc = spawn(tmp_path, "save", ws, earlier, tmp_path / "flag")
    half = Path(wait_flag(proc, tmp_path / "flag", tmp_path))
    assert (half / workspace.ROWS_FILE).is_file() and not (half / "run.json").exists()
    kill(proc)

    assert half.name.startswith(".tmp.") and half.parent == ws / "runs"  # never under a run id
    assert_earlier_intact(ws, earlier, bayes_run)
    (pending,) = workspace.interrupted_runs(root=ws)
    assert pending["status"] == "interrupted" and not (ws / "runs" / pending["run_id"]).exists()
    removed = workspace.recover(root=ws)
    assert removed == [f"runs/{half.name}"] and not half.exists()
    assert_earlier_intact(ws, earlier, bayes_run)


def test_list_and_load_survive_half_written_and_malformed_folders(tmp_path, bayes_run, demo_graph, demo_roles):
    ws = tmp_path / "ws"
    earlier = earlier_run(ws, bayes_run, demo_graph, demo_roles)
    runs = ws / "runs"
    for name, files in {"20260101-000000-aaaaaa": {"synthetic.csv": "a,b\n1,2\n"},  # no run.json
                        "20260101-000001-bbbbbb": {"run.json": '{"result": [1, 2]}'},  # wrong shape
                        "20260101-000002-cccccc": {"run.json": '{"result": {"settings": "x"}, "created": "x"}'},
                        "20260101-000003-dddddd": {"run.json": '{"id": "x"}', "synthetic.csv": ""},
                        ".tmp.1.20260101-000004-eeeeee.x": {"synthetic.csv": "a\n1\n"}}.items():
        (runs / name).mkdir()
        for f, text in files.items():
            (runs / name / f).write_text(text)
    (ws / "pending").mkdir(exist_ok=True)
    (ws / "pending" / "20260101-000005-ffffff.json").write_text("{half")
    listed = workspace.list_runs(root=ws)
    assert [r["run_id"] for r in listed] == [earlier]
    for bad in ("20260101-000000-aaaaaa", "20260101-000001-bbbbbb", "20260101-000002-cccccc",
                "20260101-000003-dddddd"):
        with pytest.raises(workspace.InputError):
            workspace.load_run(bad, root=ws)
    assert [r["run_id"] for r in workspace.interrupted_runs(root=ws)] == ["20260101-000005-ffffff"]


def test_an_upload_cut_between_its_two_files_is_completed_on_the_next_try(tmp_path):
    content = DEMO.read_bytes()
    data_id = workspace.save_data(content, DEMO.name, root=tmp_path)
    (tmp_path / "data" / data_id / "meta.json").unlink()  # as if killed after the source file
    assert workspace.save_data(content, DEMO.name, root=tmp_path) == data_id
    assert workspace.data_file(data_id, root=tmp_path) == (content, DEMO.name)


def test_save_run_never_merges_into_an_existing_run(tmp_path, bayes_run, demo_graph, demo_roles):
    first = workspace.save_run(bayes_run, graph=demo_graph, roles=demo_roles, root=tmp_path)
    second = workspace.save_run(bayes_run, graph=demo_graph, roles=demo_roles, root=tmp_path, run_id=first)
    assert second != first and {r["run_id"] for r in workspace.list_runs(root=tmp_path)} == {first, second}
