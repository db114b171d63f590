"""The app's shape: pages only draw, the app's own code lives in faircause_app.

Checked on the source text: every page is short, holds no cache, thread or session
persistence, pages/ holds only the five step pages, and the engine never imports the app.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "pages").glob("*.py"))
MAX_PAGE_LINES = 120
# What belongs in faircause_app (cache.py, jobs.py, state.py), never in a page script.
FORBIDDEN = {
    "a cache": re.compile(r"\bst\.cache_|\bcache_(data|resource)\b"),
    "a thread": re.compile(r"\bthreading\b|\bThread\("),
    "session persistence": re.compile(r"session\.json|\b(save|load)_session\b|\bdef persist\b|\bdef restore\b"),
}


def page_problems(source: str) -> list[str]:
    """What a page's source holds that it must not: too many lines, a cache, a thread, persistence."""
    found = []
    lines = len(source.splitlines())
    if lines > MAX_PAGE_LINES:
        found.append(f"{lines} lines (at most {MAX_PAGE_LINES})")
    found += [f"defines {what}" for what, pattern in FORBIDDEN.items() if pattern.search(source)]
    return found


def app_imports(source: str) -> list[str]:
    """Every import of faircause_app in a module's source, in functions too."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
        found += [f"line {node.lineno}: {n}" for n in names if n.split(".")[0] == "faircause_app"]
    return found


def test_pages_holds_only_the_five_step_pages():
    from faircause_app.nav import PAGE_FILES

    assert sorted(p.relative_to(ROOT).as_posix() for p in PAGES) == sorted(PAGE_FILES.values())
    app = (ROOT / "app.py").read_text(encoding="utf-8")
    assert all(f'st.Page("{f}"' in app for f in PAGE_FILES.values())


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_page_only_draws(path):
    assert page_problems(path.read_text(encoding="utf-8")) == []


def test_the_page_check_catches_what_belongs_elsewhere():
    too_long = "import streamlit as st\n" * (MAX_PAGE_LINES + 1)
    assert page_problems(too_long) == [f"{MAX_PAGE_LINES + 1} lines (at most {MAX_PAGE_LINES})"]
    assert page_problems("@st.cache_data\ndef f(): pass\n") == ["defines a cache"]
    assert page_problems("import threading\n") == ["defines a thread"]
    assert page_problems("workspace.save_session(state)\n") == ["defines session persistence"]
    assert page_problems("from faircause_app import state\nstate.persist()\n") == []


def test_the_engine_never_imports_the_app():
    engine = sorted((ROOT / "faircause_core").rglob("*.py"))
    assert len(engine) > 30
    for path in engine:
        assert app_imports(path.read_text(encoding="utf-8")) == [], path
    assert app_imports("def f():\n    from faircause_app.state import root\n") == ["line 2: faircause_app.state"]
    assert app_imports("import faircause_app.cache as c\n") == ["line 1: faircause_app.cache"]


def test_the_servers_engine_warm_up_does_not_load_torch():
    """The app server imports cache.ENGINE_MODULES on its first page; the runs, which need
    SDMetrics and torch, happen in the fork server's children (job_process.PRELOAD). SDMetrics
    imports torch (2.6 s of CPU and its memory in the server), so metrics.fidelity imports it
    only where it scores. Negative control: importing SDMetrics itself does load torch."""
    import subprocess
    import sys

    probe = ("import importlib, sys\nfrom faircause_app.cache import ENGINE_MODULES\n"
             "[importlib.import_module(m) for m in ENGINE_MODULES{extra}]\nprint('torch' in sys.modules)")
    seen = []
    for extra in ("", " + ('sdmetrics.reports',)"):
        proc = subprocess.run([sys.executable, "-c", probe.format(extra=extra)], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        seen.append(proc.stdout.strip().splitlines()[-1])
    assert seen == ["False", "True"]
