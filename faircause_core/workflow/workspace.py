"""A local workspace folder, so a browser refresh or a restart loses nothing.

Layout (plain files a user can inspect, back up or delete):
  <root>/data/<data_id>/source.<ext> + meta.json   the uploaded file as given (by content hash)
  <root>/data/<data_id>/table.parquet + table.json the typed table, kept after the first parse
  <root>/runs/<run_id>/run.json + synthetic.parquet one generation: DAG, roles, settings, metrics
  <root>/pending/<run_id>.json                     a run under way: which process runs it
  <root>/sessions/<session id>.json                what one browser tab was showing
  <root>/session.json                              what any tab showed last (a new tab starts there)

The source file is kept byte for byte and read with data.load_table (plus the user's kind
overrides), so a reopened run sees exactly the table it was made from; later loads read the
typed Parquet copy instead while it matches the source bytes, the limits and its own hash.

Crashes (a SIGKILL, a power cut) are expected: every file is written to a temporary name
and renamed, a run folder is assembled under a temporary name and renamed whole, so a run
is either complete or absent. A run under way has a marker in pending/ naming its process;
when that process is gone the run is reported by interrupted_runs(), and recover() removes
what a dead process left half-written.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd

from faircause_core.errors import InputError
from faircause_core.causal.effects import as_decomposition
from faircause_core.io.export import json_bytes

ENV_VAR = "FAIRCAUSE_WORKSPACE"
_RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
_DATA_ID = re.compile(r"^[0-9a-f]{16}$")
_TMP = re.compile(r"^\.tmp\.(\d+)\.")  # .tmp.<pid>.<...>: what a writer leaves until its rename


def default_root() -> Path:
    """FAIRCAUSE_WORKSPACE, else ./workspace."""
    return Path(os.environ.get(ENV_VAR) or "workspace").expanduser()


def workspace_root(root=None, create: bool = True) -> Path:
    """The workspace folder (created on demand); one-line error if it cannot be used."""
    path = Path(root).expanduser() if root not in (None, "") else default_root()
    if path.exists() and not path.is_dir():
        raise InputError(f"workspace {path} is a file, not a folder")
    if create:
        try:
            (path / "runs").mkdir(parents=True, exist_ok=True)
            (path / "data").mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"workspace {path} cannot be created: {err.strerror or err}")
    return path


def _inside(base: Path, path, what: str) -> Path:
    """`path` resolved (symlinks followed), refused with one line unless it stays inside `base`:
    a crafted meta.json, run folder or symlink must not make the app read another file."""
    try:
        home, real = Path(base).resolve(), (Path(base) / path).resolve()
    except (OSError, RuntimeError, ValueError, TypeError) as err:
        raise InputError(f"{what}: the path {str(path)[:200]!r} cannot be resolved ({err}); refused")
    if not real.is_relative_to(home):
        raise InputError(f"{what}: the path {str(path)[:200]!r} points outside the workspace; refused")
    return real


def _tmp_prefix() -> str:
    """Temporary names carry the writer's pid, so recover() knows when their writer is gone."""
    return f".tmp.{os.getpid()}."


def _write_atomic(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename: a reader sees
    the old file or the new one, never half of one, even after a SIGKILL or a power cut."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(), dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_json(path: Path, obj) -> None:
    _write_atomic(path, json_bytes(obj))


def _read_json(path: Path, what: str, base: Path) -> dict:
    """A JSON object from a workspace file, which must resolve inside `base` and be a plain file."""
    path = _inside(base, path, what)
    if path.exists() and not path.is_file():
        raise InputError(f"{what} in the workspace is not a file ({path})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} not found in the workspace ({path})")
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:  # RecursionError: "[[[[..."
        raise InputError(f"{what} in the workspace is unreadable ({path}: {err})")
    if not isinstance(data, dict):
        raise InputError(f"{what} in the workspace is not a JSON object ({path})")
    return data


# --------------------------------------------------------------------------- data files

def save_data(content: bytes, filename: str, root=None) -> str:
    """Keep an uploaded file by content hash (idempotent); returns its data_id."""
    base = workspace_root(root)
    data_id = hashlib.sha256(content).hexdigest()[:16]
    folder = base / "data" / data_id
    suffix = Path(str(filename)).suffix.lower() or ".csv"
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ".csv"
    source = folder / f"source{suffix}"
    # both files are checked: a crash between the two writes must not leave an upload that
    # a second try would never complete
    if not source.is_file() or not (folder / "meta.json").is_file():
        _write_atomic(source, content)
        _write_json(folder / "meta.json", {"filename": Path(str(filename)).name, "file": source.name,
                                           "bytes": len(content), "saved": time.time()})
    return data_id


def _data_folder(data_id: str, root=None) -> Path:
    """The resolved data/<data_id> folder, inside the workspace's data folder."""
    if not isinstance(data_id, str) or not _DATA_ID.match(data_id):
        raise InputError(f"not a workspace data id: {data_id!r}")
    base = workspace_root(root) / "data"
    return _inside(base, data_id, f"data {data_id}")


def data_file(data_id: str, root=None) -> tuple[bytes, str]:
    """(bytes, original file name) of a saved upload; meta.json's "file" must name a plain
    file inside the upload's own folder (no absolute path, no .., no symlink out)."""
    folder = _data_folder(data_id, root)
    what = f"data {data_id}"
    meta = _read_json(folder / "meta.json", what, folder)
    name = meta.get("file")
    if not isinstance(name, str) or not name:
        raise InputError(f"{what} in the workspace is incomplete: meta.json names no file")
    path = _inside(folder, name, what)
    if not path.is_file():
        raise InputError(f"{what} in the workspace is unreadable: {name[:200]!r} is not a file")
    try:
        return path.read_bytes(), str(meta.get("filename") or name)
    except OSError as err:
        raise InputError(f"{what} in the workspace is unreadable: {err.strerror or err}")


def load_data(data_id: str, kinds: dict | None = None, root=None):
    """A saved upload as a Table, applying the user's kind overrides.

    The first load parses the file and keeps the typed columns beside it (table.parquet, and
    table.json with the schema and notes); later loads read that copy when it belongs to the
    same file bytes, the same limits and this cache version, and is intact (its hash), else
    parse the file again. The kinds are applied after, on either, as on a fresh parse."""
    from faircause_core.io import data

    content, filename = data_file(data_id, root)
    folder = _data_folder(data_id, root)
    digest = hashlib.sha256(content).hexdigest()
    data.tell_reading("reading the stored copy", 0, 1)
    table = _stored_table(folder, digest, filename, data.DEFAULT_LIMITS)
    if table is None:
        table = data.load_table(content, name=filename, limits=data.DEFAULT_LIMITS)
        data.tell_reading("keeping a typed copy", 0, 1)
        _store_table(folder, table, digest)
    data.tell_reading("keeping a typed copy", 1, 1)
    return table.with_kinds(kinds) if kinds else table


TABLE_FILE, TABLE_INFO, TABLE_VERSION = "table.parquet", "table.json", 1


def _limits_dict(limits) -> dict:
    from dataclasses import asdict

    return {k: float(v) for k, v in asdict(limits).items()}


def _store_table(folder: Path, table, digest: str) -> None:
    """Keep `table`'s typed columns as Parquet (table.json is written last and names the
    Parquet's hash, so a reader never pairs a new record with an old or half file). Best effort:
    a table that would not read back the same, or a full disk, just leaves no copy."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from faircause_core.io.schema import Schema

    raw = table.raw if table.raw is not None else table.df
    info = {"version": TABLE_VERSION, "source_sha256": digest, "name": table.name,
            "limits": _limits_dict(table.limits), "rows": len(raw),
            "dtypes": [str(t) for t in raw.dtypes], "schema": table.schema.to_dict(),
            "file_warnings": list(table.file_warnings),
            "column_warnings": [[c, list(table.column_warnings.get(c, []))] for c in raw.columns]}
    try:
        if list(raw.columns) != table.schema.names or any(
                str(t) not in ("float64", "object") for t in raw.dtypes) or Schema.from_dict(
                json.loads(json_bytes(info["schema"]))) != table.schema:
            return
        buf = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(raw, preserve_index=False), buf)
        content = buf.getvalue()
        info["parquet_sha256"] = hashlib.sha256(content).hexdigest()
        _write_atomic(_inside(folder, TABLE_FILE, "stored table"), content)
        _write_json(_inside(folder, TABLE_INFO, "stored table"), info)
    except (OSError, InputError, ValueError, TypeError, pa.ArrowException):
        return


def _stored_table(folder: Path, digest: str, filename: str, limits):
    """The Table kept by _store_table, or None when there is none or it is not for these bytes,
    limits and version, or does not read back whole (then the caller parses the file)."""
    import io

    import pyarrow.parquet as pq

    from faircause_core.io.data import assembled_table
    from faircause_core.io.schema import Schema

    try:
        info_path, table_path = _inside(folder, TABLE_INFO, "stored table"), _inside(folder, TABLE_FILE, "stored table")
        if not info_path.is_file() or not table_path.is_file():
            return None
        info = _read_json(info_path, "stored table", folder)
        if (info.get("version") != TABLE_VERSION or info.get("source_sha256") != digest
                or info.get("limits") != _limits_dict(limits)):
            return None
        content = table_path.read_bytes()
        if hashlib.sha256(content).hexdigest() != info.get("parquet_sha256"):
            return None
        schema = Schema.from_dict(info["schema"])
        raw = pq.read_table(io.BytesIO(content)).to_pandas()
        notes = {str(c): [str(w) for w in ws] for c, ws in info["column_warnings"]}
        if (list(raw.columns) != schema.names or len(raw) != info["rows"] or list(notes) != schema.names
                or [str(t) for t in raw.dtypes] != info["dtypes"]):
            return None
        for col, dtype in zip(raw.columns, info["dtypes"]):
            if dtype == "object" and not all(v is None or type(v) is str for v in pd.unique(raw[col].to_numpy())):
                return None
        return assembled_table(raw, schema, filename, [str(w) for w in info["file_warnings"]], notes, limits)
    except Exception:  # anything odd in a stored copy (pyarrow, json, a hand edit): parse the file
        return None


# ------------------------------------------------------------------------------ session

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")  # a browser tab's id (faircause_app.state)


def _session_file(root, session: str | None, create: bool) -> Path | None:
    """sessions/<id>.json for a well-formed id (128-bit hex, never a path), else None."""
    if not session or not SESSION_ID.match(str(session)):
        return None
    return workspace_root(root, create=create) / "sessions" / f"{session}.json"


def save_session(state: dict, root=None, session: str | None = None) -> None:
    """Store what the app shows now (data id, kinds, problem, DAGs, selected run).

    With a session id, each browser tab keeps its own file, so two tabs never overwrite each
    other's graph; session.json is always the latest of any tab, where a new tab starts."""
    own = _session_file(root, session, create=True)
    if own is not None:
        own.parent.mkdir(exist_ok=True)
        _write_json(_inside(own.parent.parent, own, "session"), state)  # never through a symlink out
    _write_json(workspace_root(root) / "session.json", state)


def load_session(root=None, session: str | None = None) -> dict:
    """This tab's stored session, else the latest of any tab, else {} (none or unreadable)."""
    base = workspace_root(root, create=False)
    own = _session_file(root, session, create=False)
    for path in ([own] if own is not None else []) + [base / "session.json"]:
        if not path.exists():
            continue
        try:
            return _read_json(path, "session", base)
        except InputError:
            continue
    return {}


# --------------------------------------------------------------------------------- runs

def _run_folder(run_id: str, root=None, resolve: bool = True) -> Path:
    """runs/<run_id>, resolved and refused unless inside the workspace's runs folder."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InputError(f"not a run id: {run_id!r}")
    base = workspace_root(root) / "runs"
    return _inside(base, run_id, f"run {run_id}") if resolve else base / run_id


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


# ---------------------------------------------------------- runs under way, crash recovery

def _proc_start(pid: int):
    """The process's start time in clock ticks since boot (Linux), or None: with the pid it
    names one process, so a pid reused after a restart is not taken for the old one."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _owner() -> dict:
    return {"pid": os.getpid(), "proc_start": _proc_start(os.getpid())}


def _alive(owner) -> bool:
    """Whether the process an owner record names still runs (malformed records count as gone)."""
    try:
        pid = int(owner["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    except OSError:
        return False
    started = owner.get("proc_start")
    now = _proc_start(pid)
    return started is None or now is None or now == started


def _pending(root=None) -> Path:
    return workspace_root(root) / "pending"


def begin_run(name: str = "", info: dict | None = None, root=None) -> str:
    """Reserve a new run id and mark the run as under way by this process (pending/<id>.json,
    created exclusively, so two sessions never get one id); returns the id."""
    folder = _pending(root)
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(20):
        run_id = new_run_id()
        if (workspace_root(root) / "runs" / run_id).exists():
            continue
        record = {"id": run_id, "name": str(name), "started": time.time(), **_owner(), **(info or {})}
        fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(), dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(json_bytes(record))
                fh.flush()
                os.fsync(fh.fileno())
            os.link(tmp, folder / f"{run_id}.json")  # fails if the name exists: exclusive
            return run_id
        except FileExistsError:
            continue
        finally:
            Path(tmp).unlink(missing_ok=True)
    raise InputError(f"workspace {workspace_root(root)}: no free run id after 20 tries")


def end_run(run_id: str, root=None) -> None:
    """Drop a run's under-way marker (after it was saved, cancelled or failed)."""
    if isinstance(run_id, str) and _RUN_ID.match(run_id):
        (_pending(root) / f"{run_id}.json").unlink(missing_ok=True)


def interrupted_runs(root=None) -> list[dict]:
    """Runs that were under way when their process died (a crash, a kill): {run_id, name,
    started, status "interrupted"}, newest first. Nothing of them was saved."""
    folder = workspace_root(root, create=False) / "pending"
    if not folder.is_dir():
        return []
    out = []
    for marker in folder.glob("*.json"):
        run_id = marker.stem
        if not _RUN_ID.match(run_id) or marker.is_symlink():
            continue
        try:
            record = json.loads(marker.read_text(encoding="utf-8"))
            record = record if isinstance(record, dict) else {}
        except (OSError, UnicodeDecodeError, ValueError):
            record = {}  # a marker is written whole; an unreadable one has no live owner to wait for
        if record and _alive(record):
            continue
        started = record.get("started")
        out.append({"run_id": run_id, "name": str(record.get("name") or ""), "status": "interrupted",
                    "started": started if isinstance(started, (int, float)) else None})
    out.sort(key=lambda r: (r["started"] or 0, r["run_id"]), reverse=True)
    return out


def dismiss_interrupted(run_id: str, root=None) -> None:
    """Forget an interrupted run's marker (a run whose process still lives is left alone)."""
    if run_id in {r["run_id"] for r in interrupted_runs(root)}:
        end_run(run_id, root)


def recover(root=None) -> list[str]:
    """Remove temporary files and half-assembled run folders left by processes that are gone
    (a crash mid-write); returns what was removed. Safe while other processes write."""
    base = workspace_root(root, create=False)
    if not base.is_dir():
        return []
    places = [base, base / "runs", base / "pending", base / "sessions", *(p for p in (base / "data").glob("*") if p.is_dir())]
    removed = []
    for place in places:
        if not place.is_dir() or place.is_symlink():
            continue
        for item in place.iterdir():
            m = _TMP.match(item.name)
            if not m or _alive({"pid": m.group(1)}):
                continue
            try:
                if item.is_dir() and not item.is_symlink():
                    shutil.rmtree(item)
                else:
                    item.unlink()
                removed.append(str(item.relative_to(base)))
            except OSError:
                continue
    return removed


def save_run(result, *, graph, roles, data_id: str | None = None, kinds: dict | None = None,
             name: str | None = None, root=None, run_id: str | None = None) -> str:
    """Persist a pipeline.RunResult with the DAG, roles and the data it was made from.

    The folder is written under a temporary name and renamed whole, so a crash leaves no
    half run; a rename never replaces a complete run (another id is taken instead). Returns
    the id the run was saved under and clears its under-way marker."""
    reserved = run_id
    run_id = run_id or new_run_id()
    _run_folder(run_id, root)  # checks the id
    runs = workspace_root(root) / "runs"
    summary = result.to_dict()
    record = {
        "id": run_id,
        "created": time.time(),
        "name": name or summary["settings"].get("generator", "run"),
        "data_id": data_id,
        "kinds": kinds or {},
        "graph": graph.to_dict(),
        "roles": roles.to_dict(),
        "result": summary,
    }
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix() + run_id + ".", dir=runs))
    try:
        name, content = _rows_file(result.synthetic)
        _write_atomic(tmp / name, content)
        for _ in range(20):
            record["id"] = run_id
            _write_json(tmp / "run.json", record)
            try:
                os.rename(tmp, runs / run_id)  # replaces at most an empty folder, never a run
                break
            except OSError as err:
                if err.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                    raise
                run_id = new_run_id()
        else:
            raise InputError(f"workspace {runs}: no free run id after 20 tries")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(runs)
    if reserved:
        end_run(reserved, root)
    return run_id


#: A run's rows: Parquet, whose types read back as written; a CSV read back turned text such as
#: "NA" into missing, "True" into a boolean and all-digit codes ("001") into numbers, so the
#: rows shown and downloaded after a reload were not the rows generated. Runs saved before
#: keep their synthetic.csv, still read.
ROWS_FILE, OLD_ROWS_FILE = "synthetic.parquet", "synthetic.csv"


def _rows_file(frame: pd.DataFrame) -> tuple[str, bytes]:
    """(file name, bytes) of a run's rows: Parquet, or CSV for a table Parquet cannot hold (an
    evaluated table's column mixing numbers and text)."""
    import io

    import pyarrow as pa

    buf = io.BytesIO()
    try:
        frame.to_parquet(buf, index=False, engine="pyarrow")
    except (pa.ArrowException, TypeError, ValueError):
        return OLD_ROWS_FILE, frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return ROWS_FILE, buf.getvalue()


def _read_rows(folder: Path, run_id: str) -> pd.DataFrame:
    """A run's synthetic rows: its Parquet, or the CSV of a run saved before; one-line errors."""
    import io

    parquet = _inside(folder, ROWS_FILE, f"run {run_id}")  # a link out of the folder is refused here
    rows = parquet if parquet.exists() or parquet.is_symlink() else _inside(folder, OLD_ROWS_FILE, f"run {run_id}")
    try:
        if not rows.is_file():
            raise OSError(f"{rows.name} is not a file")
        content = rows.read_bytes()
        return pd.read_parquet(io.BytesIO(content)) if rows is parquet else pd.read_csv(io.BytesIO(content))
    except Exception as err:  # OSError, a pandas or pyarrow parse error: the run is unreadable, said in one line
        why = (str(err).splitlines() or [type(err).__name__])[0][:200]
        raise InputError(f"run {run_id}: synthetic rows are unreadable ({why})") from None


def _fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _estimate(effects: dict, effect: str):
    """One effect of a stored result, or None when the record lacks it."""
    try:
        return as_decomposition(effects)[effect]
    except (InputError, KeyError):
        return None


def _summary(record: dict) -> dict:
    """The few numbers a run list and the trade-off chart need."""
    res = record.get("result", {})
    settings = res.get("settings", {})
    metrics = res.get("metrics", {}) or {}
    fid, util = metrics.get("fidelity", {}) or {}, metrics.get("utility", {}) or {}
    fair = metrics.get("fair_predictor", {}) or {}
    de = _estimate(res.get("synthetic_effects", {}), "ctf_de")
    spec = settings.get("fairness", {})
    removed = [p.upper() for p in ("de", "ie", "se") if float(spec.get(p, 0) or 0) > 0]
    return {
        "run_id": record.get("id"),
        "created": record.get("created"),
        "name": record.get("name"),
        "generator": settings.get("generator"),
        "source": settings.get("source"),  # an evaluated table's file name
        "rows": settings.get("rows"),
        "seed": settings.get("seed"),
        "measure": settings.get("measure") or "full",  # the measuring profile (a run saved before it: full)
        "removed": ", ".join(removed) or "none",
        "converged": res.get("converged"),
        "ctf_de_real": _estimate(res.get("real_effects", {}), "ctf_de"),
        "ctf_de_synth": de,
        "fairness_gap": None if de is None else abs(de) * 100,
        "quality": fid.get("quality"),
        "tstr": util.get("tstr"),
        "trtr": util.get("trtr"),
        "bias_reduction": fair.get("reduction"),
        "label": f"{settings.get('generator', '?')} {'-'.join(removed) or 'mirror'}",
        "status": "complete",
        "preset": settings.get("preset"),
        "data_id": record.get("data_id"),
        "timings": res.get("timings") if isinstance(res.get("timings"), dict) else {},
    }


def _checked_summary(record: dict, run_id: str) -> dict:
    """_summary of a stored record, or InputError when the record is not shaped like a run
    (a hand-edited or foreign run.json must not break the whole run list)."""
    result = record.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("settings"), dict) or not all(
            isinstance(record.get(k), dict) for k in ("graph", "roles")):
        raise InputError(f"run {run_id} in the workspace is incomplete: no result, settings, graph or roles")
    try:
        out = _summary(record)
    except (AttributeError, TypeError, ValueError, KeyError) as err:
        raise InputError(f"run {run_id} in the workspace is malformed ({type(err).__name__})")
    out["run_id"] = run_id  # the folder's name is the id the app opens it by
    if not isinstance(out["created"], (int, float)) or isinstance(out["created"], bool):
        out["created"] = None
    return out


def list_runs(root=None) -> list[dict]:
    """Summaries of every complete run, newest first (unreadable folders are skipped)."""
    base = workspace_root(root, create=False) / "runs"
    if not base.is_dir():
        return []
    out = []
    for folder in base.iterdir():
        if not _RUN_ID.match(folder.name) or not (folder / "run.json").is_file():
            continue
        try:
            inside = _inside(base, folder.name, f"run {folder.name}")
            out.append(_checked_summary(_read_json(inside / "run.json", f"run {folder.name}", inside), folder.name))
        except InputError:
            continue
    out.sort(key=lambda r: (r.get("created") or 0, r["run_id"]), reverse=True)
    return out


def load_run(run_id: str, root=None) -> dict:
    """A saved run: id, name, created, data_id, kinds, graph, roles, result (RunResult)."""
    from faircause_core.causal.graph import CausalGraph, Roles
    from faircause_core.workflow.pipeline import RunResult

    folder = _run_folder(run_id, root)
    record = _read_json(folder / "run.json", f"run {run_id}", folder)
    synthetic = _read_rows(folder, run_id)
    try:
        return {
            "id": run_id,
            "name": record.get("name"),
            "created": record.get("created"),
            "data_id": record.get("data_id"),
            "kinds": record.get("kinds") or {},
            "graph": CausalGraph.from_dict(record["graph"]),
            "roles": Roles.from_dict(record["roles"]),
            "result": RunResult.from_dict(record["result"], synthetic),
            "summary": _checked_summary(record, run_id),
        }
    except KeyError as err:
        raise InputError(f"run {run_id} in the workspace is incomplete: missing {err}")
    except (TypeError, ValueError, AttributeError) as err:
        raise InputError(f"run {run_id} in the workspace is malformed: {str(err)[:200]}")


def delete_run(run_id: str, root=None) -> None:
    """Remove a run folder (an unknown id is an InputError)."""
    folder = _run_folder(run_id, root, resolve=False)
    if folder.is_symlink():  # a link planted in runs/: remove the link, never what it points to
        folder.unlink()
        return
    if not folder.is_dir():
        raise InputError(f"run {run_id} not found in the workspace")
    # renamed away first: a crash mid-delete leaves a temporary folder recover() removes,
    # never a run with some of its files gone
    gone = folder.with_name(f"{_tmp_prefix()}deleted.{run_id}.{uuid.uuid4().hex[:6]}")
    os.rename(folder, gone)
    shutil.rmtree(gone)
