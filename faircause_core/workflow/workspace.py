"""A local workspace folder, so a browser refresh or a restart loses nothing.

Layout (plain files a user can inspect, back up or delete):
  <root>/data/<data_id>/source.<ext> + meta.json   the uploaded file as given (by content hash)
  <root>/runs/<run_id>/run.json + synthetic.csv    one generation: DAG, roles, settings, metrics
  <root>/session.json                              what the app was showing last

The source file is kept byte for byte and re-read with data.load_table (plus the user's
kind overrides), so a reopened run sees exactly the table it was made from. Every write
goes to a temporary file first and is then renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

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


def _write_atomic(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
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
    except (OSError, UnicodeDecodeError, ValueError) as err:
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
    if not source.exists():
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
    """Re-read a saved upload into a Table, applying the user's kind overrides."""
    from faircause_core.io.data import load_table

    content, filename = data_file(data_id, root)
    table = load_table(content, name=filename)
    return table.with_kinds(kinds) if kinds else table


# ------------------------------------------------------------------------------ session

def save_session(state: dict, root=None) -> None:
    """Store what the app shows now (data id, kinds, problem, DAGs, selected run)."""
    _write_json(workspace_root(root) / "session.json", state)


def load_session(root=None) -> dict:
    """The last stored session, or {} when there is none or it is unreadable."""
    path = workspace_root(root, create=False) / "session.json"
    if not path.exists():
        return {}
    try:
        return _read_json(path, "session", path.parent)
    except InputError:
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


def save_run(result, *, graph, roles, data_id: str | None = None, kinds: dict | None = None,
             name: str | None = None, root=None, run_id: str | None = None) -> str:
    """Persist a pipeline.RunResult with the DAG, roles and the data it was made from."""
    run_id = run_id or new_run_id()
    folder = _run_folder(run_id, root)
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
    folder.mkdir(parents=True, exist_ok=True)
    buf = result.synthetic.to_csv(index=False, lineterminator="\n").encode("utf-8")
    _write_atomic(folder / "synthetic.csv", buf)
    _write_json(folder / "run.json", record)  # written last: its presence marks a complete run
    return run_id


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
        "rows": settings.get("rows"),
        "seed": settings.get("seed"),
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
    }


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
            out.append(_summary(_read_json(inside / "run.json", f"run {folder.name}", inside)))
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
    rows = _inside(folder, "synthetic.csv", f"run {run_id}")
    try:
        if not rows.is_file():
            raise OSError(f"{rows.name} is not a file")
        synthetic = pd.read_csv(rows)
    except (OSError, ValueError) as err:
        raise InputError(f"run {run_id}: synthetic rows are unreadable ({err})")
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
            "summary": _summary(record),
        }
    except (KeyError, TypeError) as err:
        raise InputError(f"run {run_id} in the workspace is incomplete: missing {err}")


def delete_run(run_id: str, root=None) -> None:
    """Remove a run folder (an unknown id is an InputError)."""
    folder = _run_folder(run_id, root, resolve=False)
    if folder.is_symlink():  # a link planted in runs/: remove the link, never what it points to
        folder.unlink()
        return
    if not folder.is_dir():
        raise InputError(f"run {run_id} not found in the workspace")
    shutil.rmtree(folder)
