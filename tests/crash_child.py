"""A process for tests/test_crash.py to kill with SIGKILL at a known moment.

python tests/crash_child.py train WORKSPACE MODEL FLAG
    starts a real generation job (faircause_app.jobs, the code the server runs) with the
    tiny language model and a training budget far too long to finish, and touches FLAG once
    fine-tuning has made a step; then it waits to be killed.
python tests/crash_child.py save WORKSPACE RUN_ID FLAG
    re-saves a stored run as a new run the way a job does (begin_run, then save_run), and
    touches FLAG after the run folder's first file is on disk, before its run.json; then it
    waits to be killed. The write itself is the real one: the wrapper only signals after it.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def train(ws: str, model: str, flag: str) -> None:
    from faircause_app import jobs
    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.io.data import load_table
    from faircause_core.workflow import workspace
    from faircause_core.workflow.pipeline import GenerationSettings
    from tests.conftest import DEMO, DEMO_EDGES

    tab = load_table(DEMO)
    g = CausalGraph(tab.schema.names, DEMO_EDGES)
    r = derive_roles(g, "sex", "death", x0="Male", x1="Female")
    data_id = workspace.save_data(DEMO.read_bytes(), DEMO.name, root=ws)
    settings = GenerationSettings(generator="llm", model_dir=model, train_steps=1_000_000, rows=200,
                                  refine=False, fairness=FairnessSpec(de=1.0))
    job = jobs.start_job(tab, g, r, settings, data_id, {}, ws, "a" * 32)
    while not (job.stage == "fine-tuning" and job.done >= 1):
        if job.status != "running":
            raise SystemExit(f"the job ended before training: {job.status} {job.error}")
        time.sleep(0.05)
    Path(flag).write_text(job.job_id)
    time.sleep(600)


def save(ws: str, run_id: str, flag: str) -> None:
    from faircause_core.workflow import workspace

    run = workspace.load_run(run_id, root=ws)
    real_write = workspace._write_atomic

    def write_then_signal(path, content):
        real_write(path, content)
        if path.name == workspace.ROWS_FILE:  # the folder is half-written: rows on disk, no run.json yet
            Path(flag).write_text(str(path.parent))
            time.sleep(600)

    workspace._write_atomic = write_then_signal
    new_id = workspace.begin_run("re-saved", root=ws)
    workspace.save_run(run["result"], graph=run["graph"], roles=run["roles"], data_id=run["data_id"],
                       name="re-saved", root=ws, run_id=new_id)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    mode, *args = sys.argv[1:]
    {"train": train, "save": save}[mode](*args)
