"""Shared dashboard helpers: session state, workspace persistence, caches, step bar.

Pages keep canonical values in plain session keys (table, problem, graph, ...) and use
separate widget keys, because Streamlit drops a widget's state when its page is left.
Everything that computes lives in faircause_core; the caches here only remember results.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from faircause_core.workflow import workspace
from faircause_core.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
DEMO_PATH = ROOT / "assets" / "nhefs_cohort.csv"
STEPS = [("data", "1 Data"), ("graph", "2 Causal graph"), ("audit", "3 Fairness audit"),
         ("generate", "4 Generate"), ("compare", "5 Compare")]
PAGE_FILES = {"data": "pages/1_data.py", "graph": "pages/2_graph.py", "audit": "pages/3_audit.py",
              "generate": "pages/4_generate.py", "compare": "pages/5_compare.py"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=])")


def md(text: object) -> str:
    """Data text made inert for st.markdown (no links, emphasis or HTML from data)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def root() -> str:
    return st.session_state.get("workspace_root") or str(workspace.default_root())


def step_bar(current: str) -> None:
    """The 1-5 indicator at the top of every page (static labels: safe as HTML)."""
    idx = [k for k, _ in STEPS].index(current) if current in dict(STEPS) else -1
    cells = []
    for i, (key, label) in enumerate(STEPS):
        cls = "fc-step current" if i == idx else ("fc-step done" if i < idx else "fc-step")
        cells.append(f'<div class="{cls}">{label}</div>')
    st.markdown(f'<div class="fc-steps">{"".join(cells)}</div>', unsafe_allow_html=True)


def next_step(page: str, label: str) -> None:
    st.page_link(PAGE_FILES[page], label=label, icon=":material/arrow_forward:")


# --------------------------------------------------------------------------- data / cache

@st.cache_resource(show_spinner=False, max_entries=8)
def _table(data_id: str, kinds_json: str, ws: str):
    return workspace.load_data(data_id, json.loads(kinds_json) or None, root=ws)


def kinds_json() -> str:
    return json.dumps(st.session_state.get("kinds") or {}, sort_keys=True)


def table():
    """The current Table (rebuilt from the workspace copy through the cache), or None."""
    data_id = st.session_state.get("data_id")
    if not data_id:
        return None
    try:
        return _table(data_id, kinds_json(), root())
    except InputError as err:
        st.error(str(err))
        return None


def set_data(content: bytes, filename: str) -> None:
    """Keep an upload in the workspace and make it the current table (resets the rest)."""
    data_id = workspace.save_data(content, filename, root=root())
    _table(data_id, "{}", root())  # load now so a bad file fails here, with its message
    if data_id != st.session_state.get("data_id"):
        for key in ("problem", "graph", "discovered", "flow_state", "fixed"):
            st.session_state.pop(key, None)
    st.session_state.data_id = data_id
    st.session_state.kinds = {}
    persist()


@st.cache_data(show_spinner=False, max_entries=32)
def audit_cached(data_id: str, kinds: str, roles_json: str, method: str, ws: str) -> dict:
    """Decomposition.to_dict(), keyed on the data hash + kinds + roles + method."""
    from faircause_core.causal.graph import Roles
    from faircause_core.workflow.pipeline import audit

    tab = _table(data_id, kinds, ws)
    return audit(tab, Roles.from_dict(json.loads(roles_json)), method=method, seed=0).to_dict()


@st.cache_data(show_spinner=False, max_entries=16)
def discover_cached(data_id: str, kinds: str, x: str, y: str, fixed: tuple, ws: str) -> dict:
    from faircause_core.causal.discovery import discover

    return discover(_table(data_id, kinds, ws), x, y, fixed=fixed, seed=0).to_dict()


@st.cache_resource(show_spinner=False, max_entries=16)
def run_cached(run_id: str, ws: str) -> dict:
    return workspace.load_run(run_id, root=ws)


# ------------------------------------------------------------------------- problem / roles

def problem():
    """The FairnessProblem in session (x, x0, x1 as text, y, threshold) or None."""
    from faircause_core.causal.question import FairnessProblem

    p = st.session_state.get("problem")
    if not p:
        return None
    return FairnessProblem(p["x"], p["x0"], p["x1"], p["y"], p.get("threshold"))


def graph():
    from faircause_core.causal.graph import CausalGraph

    g = st.session_state.get("graph")
    return CausalGraph.from_dict(g) if g else None


def set_graph(g, discovered: bool = False) -> None:
    st.session_state.graph = g.to_dict()
    if discovered:
        st.session_state.discovered = g.to_dict()
    st.session_state.flow_version = st.session_state.get("flow_version", 0) + 1
    st.session_state.pop("flow_state", None)
    persist()


def roles(tab=None, g=None, p=None):
    """Roles read off the DAG for the chosen question; InputError if they cannot be."""
    from faircause_core.causal.graph import derive_roles
    from faircause_core.causal.question import resolve_value

    tab = tab if tab is not None else table()
    g = g if g is not None else graph()
    p = p if p is not None else problem()
    if tab is None or g is None or p is None:
        return None
    x0 = resolve_value(tab.df[p.x], p.x0)
    x1 = resolve_value(tab.df[p.x], p.x1)
    return derive_roles(g, p.x, p.y, x0=x0, x1=x1, threshold=p.threshold)


def page_start(step: str, title: str, graph_hint: str, fix_label: str | None = None):
    """Step bar, title, then (table, roles) for a page that needs steps 1 and 2 done.

    Shows guidance and stops the page when the data, question or graph is missing;
    `graph_hint` is the info text for a missing question/graph. When the roles cannot be
    derived, shows the one-line error (plus a link back to step 2 if `fix_label`) and stops.
    """
    step_bar(step)
    st.title(title)
    tab = table()
    if tab is None:
        st.info("Load data first (step 1).")
        next_step("data", "Go to step 1: data")
        st.stop()
    if problem() is None or graph() is None:
        st.info(graph_hint)
        next_step("graph", "Go to step 2: causal graph")
        st.stop()
    try:
        r = roles()
    except InputError as err:
        st.error(str(err))
        if fix_label:
            next_step("graph", fix_label)
        st.stop()
    return tab, r


def roles_json(r) -> str:
    return json.dumps(r.to_dict(), sort_keys=True, default=str)


# ------------------------------------------------------------------------------ persistence

def persist() -> None:
    """Write what the app shows to <workspace>/session.json (survives refresh/restart)."""
    state = {k: st.session_state.get(k) for k in
             ("data_id", "kinds", "problem", "fixed", "graph", "discovered", "run_id", "method")}
    try:
        workspace.save_session(state, root=root())
    except (InputError, OSError) as err:
        st.warning(f"could not save the session to the workspace: {err}")


def restore() -> None:
    """Once per browser session: bring back the last data, DAG, roles and run."""
    if st.session_state.get("_restored_from") == root():
        return
    st.session_state._restored_from = root()
    try:
        saved = workspace.load_session(root=root())
    except InputError as err:
        st.error(str(err))
        return
    for key in ("data_id", "kinds", "problem", "fixed", "graph", "discovered", "run_id", "method"):
        if saved.get(key) is not None:
            st.session_state[key] = saved[key]


# ------------------------------------------------------------------------------ generation jobs

@dataclass
class Job:
    """A generation running in a background thread; the page polls it."""

    job_id: str
    label: str
    token: object
    started: float = field(default_factory=time.time)
    stage: str = "starting"
    done: int = 0
    total: int = 0
    stage_started: float = field(default_factory=time.time)
    status: str = "running"  # running | done | failed | cancelled
    error: str = ""
    run_id: str = ""
    finished: float = 0.0

    def progress(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.stage, self.stage_started = stage, time.time()
        self.done, self.total = int(done), int(total)

    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def eta(self) -> str:
        if not self.total or self.done <= 0 or self.done >= self.total:
            return ""
        rest = (time.time() - self.stage_started) / self.done * (self.total - self.done)
        return f"about {rest:.0f} s left in this stage" if rest < 120 else f"about {rest / 60:.1f} min left"


@st.cache_resource(show_spinner=False)
def jobs() -> dict:
    """Jobs per workspace, process-wide, so a browser refresh finds a running job again."""
    return {}


def start_job(tab, g, r, settings, data_id: str, kinds: dict, ws: str) -> Job:
    """Run pipeline.run_generation in a thread and save the run to the workspace."""
    from faircause_core.generators.base import CancelToken, Cancelled
    from faircause_core.workflow.pipeline import run_generation

    job = Job(job_id=workspace.new_run_id(), label=f"{settings.generator}, {settings.fairness.label()}",
              token=CancelToken())

    def work():
        try:
            result = run_generation(tab, g, r, settings, progress=job.progress, cancel=job.token)
            job.progress("saving the run", 0, 1)
            job.run_id = workspace.save_run(result, graph=g, roles=r, data_id=data_id, kinds=kinds,
                                            name=job.label, root=ws, run_id=job.job_id)
            job.status = "done"
        except Cancelled:
            job.status = "cancelled"
        except InputError as err:
            job.status, job.error = "failed", str(err)
        except Exception as err:  # shown as one line; the thread must never die silently
            job.status, job.error = "failed", f"generation failed: {type(err).__name__}: {err}"
        finally:
            job.finished = time.time()

    jobs()[ws] = job
    threading.Thread(target=work, name=f"faircause-{job.job_id}", daemon=True).start()
    return job


def current_job(ws: str):
    return jobs().get(ws)


def model_dir_from_env() -> str | None:
    """FAIRCAUSE_MODEL_DIR picks the language model folder (tests use a tiny model)."""
    return os.environ.get("FAIRCAUSE_MODEL_DIR") or None
