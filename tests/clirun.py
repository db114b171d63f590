"""The command line, called two ways by the tests.

- `run_cli(*args)`: in this process, through `faircause_core.cli.main(argv)`, with stdout and
  stderr captured. No interpreter start-up and no imports per call (most CLI tests).
- `run_cli_process(*args)`: `python -m faircause_core ...` in a real subprocess, for the one
  smoke test per command that proves the entry point, the exit status and the stderr of a
  real process.

Both return a `subprocess.CompletedProcess` (args, returncode, stdout, stderr). In process,
Python's warnings are shown on the captured stderr as a fresh interpreter would show them
(its default filters), so a stray warning still breaks a "one line on stderr" check.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A fresh interpreter's filters (no -W, no PYTHONWARNINGS): the in-process stderr shows what
# the real command would print.
_DEFAULT_FILTERS = [("default", DeprecationWarning, "__main__"), ("ignore", DeprecationWarning, None),
                    ("ignore", PendingDeprecationWarning, None), ("ignore", ImportWarning, None),
                    ("ignore", ResourceWarning, None)]


def _env() -> dict:
    env = dict(os.environ, PYTHONHASHSEED="0", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("FAIRCAUSE_DEBUG", None)
    return env


def run_cli_process(*args, cwd=None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m faircause_core *args` in a subprocess (cwd: the repository root)."""
    env = _env()
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, "-m", "faircause_core", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=timeout)


def run_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    """`faircause_core.cli.main(args)` in this process, in `cwd` (the repository root by
    default), FAIRCAUSE_DEBUG unset; stdout and stderr captured as text."""
    from faircause_core.cli import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    here, debug = os.getcwd(), os.environ.pop("FAIRCAUSE_DEBUG", None)
    try:
        os.chdir(cwd or ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings(record=True) as caught:
            warnings.resetwarnings()
            for action, category, module in reversed(_DEFAULT_FILTERS):
                warnings.filterwarnings(action, category=category, module=module or "")
            try:
                code = main(argv)
            except SystemExit as stop:  # argparse's --help / --version
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        seen = set()
        for w in caught:  # shown once per place, as the default action does
            where = (str(w.message), w.category, w.filename, w.lineno)
            if where not in seen:
                seen.add(where)
                err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
    finally:
        os.chdir(here)
        if debug is not None:
            os.environ["FAIRCAUSE_DEBUG"] = debug
    return subprocess.CompletedProcess(["python", "-m", "faircause_core", *argv], code, out.getvalue(), err.getvalue())
