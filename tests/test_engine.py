"""Issue 22 item 3: the engines. The audit's cross-fitting splits map over the current engine;
on a local Ray (2 CPUs) the same seeds give bit-for-bit the local numbers, in the pipeline and
through `audit --engine ray`; a worker killed mid-task is retried by Ray; bad engine settings
are one line and exit 2."""

import json

import pandas as pd
import pytest

from faircause_core import engine
from faircause_core.errors import InputError
from tests.clirun import run_cli
from tests.conftest import DEMO, ROOT
from tests.ray_tasks import die_once

AUDIT = ["audit", "--data", DEMO, "--dag", ROOT / "assets" / "nhefs_dag.json", "--sensitive", "sex",
         "--x0", "Male", "--x1", "Female", "--outcome", "death", "--splits", "4"]


def _square(shared, item):
    return shared * item * item


def test_the_local_engine_keeps_order_and_shares_one_object():
    assert engine.current().name == "local"
    assert engine.make().map(_square, [1, 2, 3], shared=2) == [2, 8, 18]


def test_bad_engine_settings_are_one_line():
    with pytest.raises(InputError, match="unknown engine 'spark'"):
        engine.make("spark")
    with pytest.raises(InputError, match="--ray-address needs --engine ray"):
        engine.make("local", "10.0.0.1:6379")
    proc = run_cli(*AUDIT, "--ray-address", "10.0.0.1:6379")
    assert proc.returncode == 2 and proc.stderr.strip() == "error: --ray-address needs --engine ray"


def test_the_app_uses_ray_only_when_ray_address_is_set(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert engine.from_environment().name == "local"


@pytest.fixture(scope="module")
def ray_engine():
    import ray

    eng = engine.make("ray", num_cpus=2)
    yield eng
    ray.shutdown()


def test_the_audit_on_ray_equals_the_local_audit(ray_engine, demo_table, demo_roles):
    from faircause_core.workflow.pipeline import audit

    here, there = [], []  # each split's end, told as it happens (the run's time-left estimate)
    local = audit(demo_table, demo_roles, seed=0, splits=4, progress=lambda k, n: here.append((k, n)))
    with engine.use(ray_engine):
        assert engine.current() is ray_engine
        remote = audit(demo_table, demo_roles, seed=0, splits=4, progress=lambda k, n: there.append((k, n)))
    assert engine.current().name == "local"
    pd.testing.assert_frame_equal(local.to_frame(), remote.to_frame(), check_exact=True)
    assert here == there == [(1, 4), (2, 4), (3, 4), (4, 4)]
    # negative control: other fold seeds do move the numbers, so equality above is not vacuous
    other = audit(demo_table, demo_roles, seed=1, splits=4).to_frame()
    assert not other["estimate"].equals(local.to_frame()["estimate"])


def test_cli_audit_engine_ray_writes_the_local_json(ray_engine, tmp_path):
    here, there = tmp_path / "local.json", tmp_path / "ray.json"
    assert run_cli(*AUDIT, "--json", here).returncode == 0
    proc = run_cli(*AUDIT, "--json", there, "--engine", "ray")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(here.read_text())["decomposition"] == json.loads(there.read_text())["decomposition"]


def test_a_killed_worker_is_retried_by_ray(ray_engine, tmp_path):
    assert ray_engine.map(die_once, [1, 2, 3], shared=str(tmp_path)) == [10, 20, 30]
    assert all((tmp_path / f"ran-{i}").read_text() == "2" for i in (1, 2, 3))  # each ran again after its death
