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


# ------------------------------------------------- issue 12: paths read from workspace files

def one_line_refusal(call) -> str:
    with pytest.raises(InputError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("file", ["/etc/hostname", "../../../../../../etc/hostname", "../other/source.csv",
                                  "sub/../../other/source.csv"])
def test_meta_file_outside_the_upload_folder_is_refused(tmp_path, file):
    """A crafted meta.json (absolute path, ..) cannot make the workspace read another file,
    not even another upload in the same workspace."""
    data_id = workspace.save_data(b"a,b\n1,2\n", "t.csv", root=tmp_path)
    other = tmp_path / "data" / "other"
    other.mkdir()
    (other / "source.csv").write_text("secret,1\n")
    meta = tmp_path / "data" / data_id / "meta.json"
    meta.write_text(json.dumps({"filename": "t.csv", "file": file}))
    message = one_line_refusal(lambda: workspace.data_file(data_id, root=tmp_path))
    assert "outside the workspace" in message and data_id in message
    with pytest.raises(InputError, match="outside the workspace"):
        workspace.load_data(data_id, root=tmp_path)


@pytest.mark.parametrize("file", [None, 7, ["source.csv"], "", "a\x00b", "."])
def test_meta_file_that_is_not_a_file_name_is_refused(tmp_path, file):
    data_id = workspace.save_data(b"a,b\n1,2\n", "t.csv", root=tmp_path)
    (tmp_path / "data" / data_id / "meta.json").write_text(json.dumps({"file": file}))
    one_line_refusal(lambda: workspace.data_file(data_id, root=tmp_path))


def test_symlinks_out_of_the_workspace_are_refused(tmp_path):
    """A source file, meta.json, data folder, run folder, run file or session.json that is a
    symlink to a file outside the workspace is refused (or skipped), never read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("secret,1\n2,3\n")
    (outside / "meta.json").write_text(json.dumps({"file": "secret.csv"}))
    (outside / "run.json").write_text(json.dumps({"id": "x", "graph": {}, "roles": {}, "result": {}}))
    ws = tmp_path / "ws"

    data_id = workspace.save_data(b"a,b\n1,2\n", "t.csv", root=ws)
    folder = ws / "data" / data_id
    (folder / "source.csv").unlink()
    (folder / "source.csv").symlink_to(outside / "secret.csv")
    assert "outside the workspace" in one_line_refusal(lambda: workspace.data_file(data_id, root=ws))

    (folder / "meta.json").unlink()
    (folder / "meta.json").symlink_to(outside / "meta.json")
    assert "outside the workspace" in one_line_refusal(lambda: workspace.data_file(data_id, root=ws))

    linked_id = "f" * 16
    (ws / "data" / linked_id).symlink_to(outside, target_is_directory=True)
    assert "outside the workspace" in one_line_refusal(lambda: workspace.data_file(linked_id, root=ws))

    run_id = "20260101-000000-abcdef"
    (ws / "runs" / run_id).symlink_to(outside, target_is_directory=True)
    assert workspace.list_runs(root=ws) == []  # skipped, the list still opens
    assert "outside the workspace" in one_line_refusal(lambda: workspace.load_run(run_id, root=ws))
    workspace.delete_run(run_id, root=ws)  # removes the planted link only
    assert not (ws / "runs" / run_id).exists() and (outside / "secret.csv").exists()

    inner = ws / "runs" / "20260101-000001-abcdef"
    inner.mkdir()
    (inner / "run.json").symlink_to(outside / "run.json")
    assert workspace.list_runs(root=ws) == []
    assert "outside the workspace" in one_line_refusal(lambda: workspace.load_run(inner.name, root=ws))
    (inner / "run.json").unlink()
    (inner / "run.json").write_text(json.dumps({"id": inner.name}))
    (inner / "synthetic.csv").symlink_to(outside / "secret.csv")
    assert "outside the workspace" in one_line_refusal(lambda: workspace.load_run(inner.name, root=ws))
    (inner / "synthetic.csv").unlink()
    (inner / workspace.ROWS_FILE).symlink_to(outside / "secret.csv")  # the rows as runs keep them now
    assert "outside the workspace" in one_line_refusal(lambda: workspace.load_run(inner.name, root=ws))

    (outside / "session.json").write_text(json.dumps({"data_id": data_id}))
    (ws / "session.json").symlink_to(outside / "session.json")
    assert workspace.load_session(root=ws) == {}


def test_a_symlinked_workspace_and_links_inside_it_still_work(tmp_path):
    """The checks resolve the workspace too: a workspace reached through a symlink, and a
    source file linked to another file inside its own folder, are read as before."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    data_id = workspace.save_data(b"a,b\n1,2\n", "t.csv", root=tmp_path / "link")
    assert workspace.data_file(data_id, root=tmp_path / "link") == (b"a,b\n1,2\n", "t.csv")
    folder = real / "data" / data_id
    (folder / "source.csv").rename(folder / "kept.csv")
    (folder / "source.csv").symlink_to(folder / "kept.csv")
    assert workspace.data_file(data_id, root=tmp_path / "link")[0] == b"a,b\n1,2\n"


def test_each_tab_keeps_its_own_session(tmp_path):
    """Two browser tabs (session ids) never overwrite each other's saved graph; a new tab starts
    from the latest of any tab; an id that is not 32 hex digits is never used as a file name."""
    a, b = "a" * 32, "b" * 32
    workspace.save_session({"graph": "A's"}, root=tmp_path, session=a)
    workspace.save_session({"graph": "B's"}, root=tmp_path, session=b)
    assert workspace.load_session(root=tmp_path, session=a) == {"graph": "A's"}
    assert workspace.load_session(root=tmp_path, session=b) == {"graph": "B's"}
    assert workspace.load_session(root=tmp_path, session="c" * 32) == {"graph": "B's"}  # new tab: the latest
    workspace.save_session({"graph": "bad"}, root=tmp_path, session="../../x")
    assert sorted(p.name for p in (tmp_path / "sessions").iterdir()) == [f"{a}.json", f"{b}.json"]
    (tmp_path / "sessions" / f"{a}.json").write_text("garbage")  # unreadable: falls back to the latest
    assert workspace.load_session(root=tmp_path, session=a) == {"graph": "bad"}


def test_session_folder_symlinked_out_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "sessions").symlink_to(outside)
    with pytest.raises(InputError, match="outside the workspace"):
        workspace.save_session({"graph": "x"}, root=ws, session="a" * 32)
    assert list(outside.iterdir()) == []


def _same_table(a, b):
    pd.testing.assert_frame_equal(a.df, b.df, check_exact=True)
    pd.testing.assert_frame_equal(a.raw, b.raw, check_exact=True)
    assert a.schema == b.schema and a.name == b.name and a.limits == b.limits
    assert a.warnings == b.warnings and a.file_warnings == b.file_warnings and a.column_warnings == b.column_warnings


AWKWARD = ("\ufeffT Stage ,,zip,sex,score,note\n"
           + "".join(f"{i % 3},{i},{'0213' + str(i % 9)},{' Male' if i % 2 else 'Female'},"
                     f"{'NA' if i % 7 == 0 else i * 0.25},{'x' if i % 5 else ''}\n" for i in range(60)) + ",,,,,\n")


@pytest.mark.parametrize("content", [DEMO.read_bytes(), AWKWARD.encode()], ids=["demo", "awkward"])
def test_the_first_load_keeps_a_parquet_copy_and_later_loads_read_it(tmp_path, monkeypatch, content):
    """Issue 22 item 1: the typed table is stored once; a reload reads it instead of parsing,
    and gives the same table, kinds and notes included."""
    from faircause_core.io import data

    data_id = workspace.save_data(content, "t.csv", root=tmp_path)
    parsed = data.load_table(content, name="t.csv")
    first = workspace.load_data(data_id, root=tmp_path)
    folder = tmp_path / "data" / data_id
    assert (folder / "table.parquet").is_file() and (folder / "table.json").is_file()
    assert (folder / "source.csv").read_bytes() == content  # the upload stays, byte for byte
    _same_table(first, parsed)
    monkeypatch.setattr(data, "load_table", lambda *a, **k: pytest.fail("parsed again"))
    again = workspace.load_data(data_id, root=tmp_path)
    _same_table(again, parsed)
    column = parsed.schema.model_columns[0]
    _same_table(workspace.load_data(data_id, {column: "categorical"}, root=tmp_path),
                parsed.with_kinds({column: "categorical"}))


@pytest.mark.parametrize("damage", ["garbage", "flip", "empty", "missing", "info", "other_source", "limits"])
def test_a_damaged_or_stale_parquet_copy_falls_back_to_parsing(tmp_path, damage):
    """A corrupt, cut, missing or foreign copy is never used: the file is parsed again, the same
    table comes back, and the copy is written afresh."""
    from faircause_core.io import data

    content = AWKWARD.encode()
    data_id = workspace.save_data(content, "t.csv", root=tmp_path)
    parsed = data.load_table(content, name="t.csv")
    workspace.load_data(data_id, root=tmp_path)
    folder = tmp_path / "data" / data_id
    stored, info = folder / "table.parquet", folder / "table.json"
    good, good_info = stored.read_bytes(), info.read_text()
    record = json.loads(good_info)
    if damage == "garbage":
        stored.write_bytes(b"PAR1 not really parquet PAR1")
    elif damage == "flip":
        raw = bytearray(good)
        raw[len(raw) // 2] ^= 0xFF
        stored.write_bytes(bytes(raw))
    elif damage == "empty":
        stored.write_bytes(b"")
    elif damage == "missing":
        stored.unlink()
    elif damage == "info":
        info.write_text("{not json")
    elif damage in ("other_source", "limits"):
        record["source_sha256" if damage == "other_source" else "limits"] = "0" * 64 if damage == "other_source" else {}
        info.write_text(json.dumps(record))
    _same_table(workspace.load_data(data_id, root=tmp_path), parsed)
    assert stored.read_bytes() == good and info.read_text() == good_info


def test_a_stored_copy_is_not_used_under_other_limits(tmp_path, monkeypatch):
    """Lower limits set after the first load still refuse the file with its one line."""
    from faircause_core.io import data
    from faircause_core.limits import Limits

    data_id = workspace.save_data(AWKWARD.encode(), "t.csv", root=tmp_path)
    workspace.load_data(data_id, root=tmp_path)
    monkeypatch.setattr(data, "DEFAULT_LIMITS", Limits(max_rows=10))
    with pytest.raises(InputError, match=r"^t.csv has 60 rows, over the limit of 10$"):
        workspace.load_data(data_id, root=tmp_path)


def test_loading_tells_each_stage_in_order_and_a_reload_skips_the_parse(tmp_path):
    """Issue 22 item 5: the upload's bar (faircause_app.upload.load) follows these stages; a
    re-typing of a loaded table and a load outside reading_progress report nothing."""
    from faircause_core.io import data

    content = DEMO.read_bytes()
    data_id = workspace.save_data(content, "demo.csv", root=tmp_path)
    seen = []
    with data.reading_progress(lambda *told: seen.append(told)):
        tab = workspace.load_data(data_id, root=tmp_path)
    n = len(tab.raw.columns)
    assert seen == ([("reading the stored copy", 0, 1), ("reading the file", 0, 1), ("reading the file", 1, 1)]
                    + [("parsing columns", k, n) for k in range(1, n + 1)]
                    + [("typing columns", k, n) for k in range(1, n + 1)]
                    + [("keeping a typed copy", 0, 1), ("keeping a typed copy", 1, 1)])
    shares = [data.reading_share(*told) for told in seen]
    assert shares == sorted(shares) and shares[-1] == 1.0 and shares[0] == 0.0
    seen.clear()
    with data.reading_progress(lambda *told: seen.append(told)):
        workspace.load_data(data_id, root=tmp_path)  # the stored copy: no parse, no typing
        assert seen == [("reading the stored copy", 0, 1), ("keeping a typed copy", 1, 1)]
        tab.with_kinds({"income_bracket": "categorical"})
    assert len(seen) == 2  # a re-typing is not a read
    workspace.load_data(data_id, root=tmp_path)  # outside the block: nobody is told
    assert len(seen) == 2


def test_a_runs_rows_read_back_as_they_were_generated(tmp_path, bayes_run, demo_graph, demo_roles):
    """The rows shown and downloaded after a reload are the rows generated: kept as Parquet. As
    CSV (how runs were kept before, still read) text 'NA' came back missing, 'True' a boolean
    and all-digit codes numbers; a table Parquet cannot hold is kept as CSV."""
    import io
    from dataclasses import replace

    rows = bayes_run.synthetic.head(3).copy()
    rows["code"] = ["001", "010", "NA"]  # an ICD-like code column
    rows["flag"] = ["True", "False", "True"]
    run_id = workspace.save_run(replace(bayes_run, synthetic=rows), graph=demo_graph, roles=demo_roles,
                                root=tmp_path)
    folder = tmp_path / "runs" / run_id
    assert (folder / workspace.ROWS_FILE).is_file() and not (folder / "synthetic.csv").exists()
    back = workspace.load_run(run_id, root=tmp_path)["result"].synthetic
    pd.testing.assert_frame_equal(back, rows.reset_index(drop=True))
    # the control: the same rows through a CSV, as before
    old = pd.read_csv(io.StringIO(rows.to_csv(index=False)))
    assert old["code"].tolist() != ["001", "010", "NA"] and old["flag"].dtype == bool
    # a run saved before (synthetic.csv only) still opens
    (folder / workspace.ROWS_FILE).unlink()
    (folder / "synthetic.csv").write_text(rows.to_csv(index=False))
    assert len(workspace.load_run(run_id, root=tmp_path)["result"].synthetic) == 3
    # a column mixing numbers and text (an evaluated table) is kept as CSV rather than refused
    mixed = rows.assign(code=[1, "a", 2.5])
    other = workspace.save_run(replace(bayes_run, synthetic=mixed), graph=demo_graph, roles=demo_roles,
                               root=tmp_path)
    assert (tmp_path / "runs" / other / "synthetic.csv").is_file()
    assert len(workspace.load_run(other, root=tmp_path)["result"].synthetic) == 3
