"""Audits kept on disk between processes, so a run does not refit what the audit page (or an
earlier run) already computed.

Each app run is a process of its own, and so is each page's audit call: in-process memory
(pipeline._AUDITS) dies with them. A run's two real audits (the fitting split at the run's
seed, every row at ALL_ROWS_SEED, which is the audit page's) took 9-10 s of a 25 s demo run;
a second run of the same data and question, or the first after the audit page, refitted both.

An audit is a pure function of its rows, question, method, seed, splits and engine kind
(pipeline._audit_key), and of the code and libraries that compute it. The key adds the text
of every module of faircause_core (the audit reaches causal, io, limits and the engine; any
change is a new key) and the versions of Python, numpy, pandas, scipy and scikit-learn: a
changed estimator is never answered from an old file. Stored as Decomposition.to_dict() JSON (tested to read back equal),
under $FAIRCAUSE_CACHE/audits beside the converted models and the privacy yardsticks.
FAIRCAUSE_AUDIT_CACHE names another folder (the test suite's: one per test run, shared by its
workers, app servers and CLI calls), or "off" turns it off (the benchmarks that time audits).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Optional

from faircause_core.causal.effects import Decomposition

SWITCH = "FAIRCAUSE_AUDIT_CACHE"  # a folder, or "off": every audit is computed
KEEP = 400  # files kept; past that the oldest half goes (each is a few kB)
_CODE: list = []


def enabled() -> bool:
    return os.environ.get(SWITCH, "").strip().lower() not in ("off", "0", "no", "false")


def _code() -> str:
    """A digest of the code and libraries an audit's numbers depend on (computed once)."""
    if not _CODE:
        import numpy
        import pandas
        import scipy
        import sklearn

        core = Path(__file__).resolve().parents[1]
        h = hashlib.sha256(repr((platform.python_version(), numpy.__version__, pandas.__version__,
                                 scipy.__version__, sklearn.__version__)).encode())
        for path in sorted(core.rglob("*.py")):  # the whole engine: the audit reaches causal, io, limits...
            h.update(path.relative_to(core).as_posix().encode())
            h.update(path.read_bytes())
        _CODE.append(h.hexdigest())
    return _CODE[0]


def folder() -> Path:
    """Where the audits are kept: $FAIRCAUSE_AUDIT_CACHE if it names a folder, else the cache's."""
    from faircause_core.generators.lm.store import cache_root

    named = os.environ.get(SWITCH, "").strip()
    return Path(named).expanduser() if named and enabled() else cache_root() / "audits"


def _file(key: tuple) -> Path:
    digest = hashlib.sha256(repr((key, _code())).encode()).hexdigest()
    return folder() / f"{digest}.json"


def load(key: tuple) -> Optional[Decomposition]:
    """The stored audit for `key` (pipeline._audit_key), or None (absent, off or unreadable)."""
    if not enabled():
        return None
    try:
        return Decomposition.from_dict(json.loads(_file(key).read_text()))
    except Exception:  # noqa: BLE001 - absent, damaged or from a foreign hand: compute it again
        return None


def save(key: tuple, dec: Decomposition) -> None:
    """Keep `dec` for `key`; written whole (a temporary file renamed), silently skipped where the
    cache folder cannot be written (the in-process memo still holds it)."""
    if not enabled():
        return
    path = _file(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as fh:
            json.dump(dec.to_dict(), fh)
        os.replace(fh.name, path)
        kept = sorted(path.parent.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in kept[: len(kept) // 2] if len(kept) > KEEP else []:
            old.unlink(missing_ok=True)
    except OSError:
        pass
