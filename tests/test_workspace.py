"""Workspace folder: uploads kept byte for byte, runs saved/listed/reopened/deleted, session kept."""

import json

import pandas as pd
import pytest

from faircause_core.workflow import workspace
from faircause_core.errors import InputError
from tests.conftest import DEMO


def test_data_round_trip_with_kind_override(tmp_path):
    content = DEMO.read_bytes()
    data_id = workspace.save_data(content, "nhefs_cohort.csv", root=tmp_path)
    assert workspace.save_data(content, "again.csv", root=tmp_path) == data_id  # content-addressed
    assert workspace.data_file(data_id, root=tmp_path) == (content, "nhefs_cohort.csv")
    tab = workspace.load_data(data_id, {"income_bracket": "categorical"}, root=tmp_path)
    assert tab.schema.kind("income_bracket").value == "categorical" and tab.n_rows == 1629
    with pytest.raises(InputError, match="not a workspace data id"):
        workspace.load_data("../../etc", root=tmp_path)


def test_run_save_list_load_delete(tmp_path, bayes_run, demo_graph, demo_roles):
    data_id = workspace.save_data(DEMO.read_bytes(), "nhefs_cohort.csv", root=tmp_path)
    run_id = workspace.save_run(bayes_run, graph=demo_graph, roles=demo_roles, data_id=data_id,
                                name="bn test", root=tmp_path)
    runs = workspace.list_runs(root=tmp_path)
    assert [r["run_id"] for r in runs] == [run_id]
    s = runs[0]
    assert s["generator"] == "bayesnet" and s["rows"] == 400 and s["removed"] == "DE"
    assert s["quality"] == pytest.approx(bayes_run.metrics["fidelity"]["quality"])
    assert s["fairness_gap"] == pytest.approx(abs(bayes_run.synthetic_effects["estimates"]["ctf_de"]) * 100)

    run = workspace.load_run(run_id, root=tmp_path)
    assert run["graph"] == demo_graph and run["roles"] == demo_roles and run["data_id"] == data_id
    res = run["result"]
    assert res.settings.to_dict() == bayes_run.settings.to_dict()
    assert res.real_effects == json.loads(json.dumps(bayes_run.real_effects))
    pd.testing.assert_frame_equal(res.synthetic, bayes_run.synthetic.reset_index(drop=True),
                                  check_dtype=False)

    workspace.delete_run(run_id, root=tmp_path)
    assert workspace.list_runs(root=tmp_path) == []
    with pytest.raises(InputError, match="not found"):
        workspace.delete_run(run_id, root=tmp_path)
    with pytest.raises(InputError, match="not a run id"):
        workspace.load_run("../x", root=tmp_path)


def test_incomplete_or_corrupt_runs_are_skipped_not_fatal(tmp_path):
    bad = tmp_path / "runs" / "20260101-000000-abcdef"
    bad.mkdir(parents=True)
    (bad / "run.json").write_text("{not json")
    (tmp_path / "runs" / "20260101-000001-abcdef").mkdir()  # no run.json: still being written
    assert workspace.list_runs(root=tmp_path) == []
    with pytest.raises(InputError, match="unreadable"):
        workspace.load_run("20260101-000000-abcdef", root=tmp_path)


def test_session_and_root_resolution(tmp_path, monkeypatch):
    assert workspace.load_session(root=tmp_path / "new") == {}
    workspace.save_session({"data_id": "0" * 16, "problem": {"x": "sex"}}, root=tmp_path)
    assert workspace.load_session(root=tmp_path)["problem"] == {"x": "sex"}
    (tmp_path / "session.json").write_text("garbage")
    assert workspace.load_session(root=tmp_path) == {}
    monkeypatch.setenv(workspace.ENV_VAR, str(tmp_path / "envws"))
    assert workspace.workspace_root() == tmp_path / "envws" and (tmp_path / "envws" / "runs").is_dir()
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        workspace.workspace_root(f)
