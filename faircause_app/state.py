"""Session state: the canonical values the pages share, and their copy in session.json.

Pages keep canonical values in plain session keys (table, problem, graph, ...) and use
separate widget keys, because Streamlit drops a widget's state when its page is left.
What a tab shows is written to <workspace>/sessions/<session id>.json, so a refresh or a
restart of that tab finds it and another tab's edits never overwrite it; a new tab starts from
the latest saved one (workspace.load_session).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import streamlit as st

from faircause_app import cache, text
from faircause_core.errors import InputError
from faircause_core.workflow import workspace

DEMO_PATH = Path(__file__).resolve().parents[1] / "assets" / "nhefs_cohort.csv"
SAVED_KEYS = ("data_id", "kinds", "problem", "fixed", "graph", "discovered", "run_id", "method",
              "after_outcome", "exclude", "marks_for", "found", "generate_forms", "graph_marks", "searched_rows")
#: What belongs to one table: dropped when new data is loaded.
DATA_KEYS = ("problem", "graph", "discovered", "found", "flow_state", "fixed", "after_outcome", "exclude",
             "marks_for", "graph_marks", "mark_changes", "searched_rows")



def session_id() -> str:
    """This browser tab's id, the key of its generation job (faircause_app.jobs).

    Kept in session state and mirrored in the address (?sid=...): a refresh starts a new
    Streamlit session but keeps the address, so the tab finds its running job again, while
    another tab or user gets its own id and never sees or cancels this one's job. The id is
    random (128 bits), so it cannot be guessed from another session."""
    sid = st.session_state.get("session_id")
    if not sid:
        given = st.query_params.get("sid")
        sid = given if isinstance(given, str) and workspace.SESSION_ID.match(given) else uuid.uuid4().hex
        st.session_state.session_id = sid
    if st.query_params.get("sid") != sid:  # a page switch drops the query string: put it back
        st.query_params["sid"] = sid
    return sid


def owner() -> list:
    """The data set and question this tab works on now: what a generate form and a job banner
    belong to (JSON-safe, so it survives in session.json)."""
    p = st.session_state.get("problem") or {}
    return [st.session_state.get("data_id")] + [None if p.get(k) is None else str(p[k]) for k in ("x", "x0", "x1", "y")]


#: Generate forms kept, one per data set and question (the latest ones).
MAX_FORMS = 20


def form_value(name: str, default):
    """A generate-form field as last saved for this data set and question (survives a reload),
    else `default`: "Direct: remove" set on one cohort was pre-set on the next one, where a
    clinician could remove the direct effect without meaning to."""
    form = (st.session_state.get("generate_forms") or {}).get(json.dumps(owner())) or {}
    value = form.get(name, default)
    return value if value is not None and type(value) is type(default) else default


def measure_default() -> str:
    """The measuring profile a new run's form starts at: FAIRCAUSE_MEASURE (full or light), else
    full; a misspelt value is said as one error line and full is used."""
    from faircause_core.workflow.pipeline import default_measure

    try:
        return default_measure()
    except InputError as err:
        text.error(err)
        return "full"


def keep_form(values: dict) -> None:
    """Save the generate form's fields under the data set and question they belong to."""
    key = json.dumps(owner())
    forms = {k: v for k, v in (st.session_state.get("generate_forms") or {}).items() if k != key}
    keep("generate_forms", dict(list(forms.items())[-(MAX_FORMS - 1):] + [(key, values)]))


def root() -> str:
    """The workspace folder chosen in the sidebar (the engine's default until then)."""
    return st.session_state.get("workspace_root") or str(workspace.default_root())


def kinds_json() -> str:
    return json.dumps(st.session_state.get("kinds") or {}, sort_keys=True)


def roles_json(r) -> str:
    return json.dumps(r.to_dict(), sort_keys=True, default=str)


# --------------------------------------------------------------------------------- data

def table():
    """The current Table as loaded, every column (rebuilt from the workspace copy through the
    cache), or None. The data page and the column marks use it; the model uses model_table()."""
    data_id = st.session_state.get("data_id")
    if not data_id:
        return None
    try:
        return cache.table(data_id, kinds_json(), root())
    except InputError as err:
        text.error(err)
        return None


def excluded() -> tuple[str, ...]:
    return tuple(st.session_state.get("exclude") or ())


def model_table():
    """The Table everything after the marks uses: the loaded one without the excluded columns
    (the one home of exclusion: discovery, the graph, the check, the audit and generation)."""
    data_id = st.session_state.get("data_id")
    if not data_id:
        return None
    try:
        return cache.model_table(data_id, kinds_json(), excluded(), root())
    except InputError as err:
        text.error(err)
        return None


def set_data(content: bytes, filename: str) -> None:
    """Keep an upload in the workspace and make it the current table (resets the rest)."""
    data_id = workspace.save_data(content, filename, root=root())
    cache.load_new(data_id, root())  # load now so a bad file fails here, with its message
    if data_id != st.session_state.get("data_id"):
        for key in DATA_KEYS:
            st.session_state.pop(key, None)
    st.session_state.data_id = data_id
    st.session_state.kinds = {}
    persist()


# ------------------------------------------------------------------------- problem / graph

def problem():
    """The FairnessProblem in session (x, x0, x1 as text, y, threshold, positive, labels) or None."""
    from faircause_core.causal.question import FairnessProblem

    p = st.session_state.get("problem")
    if not p:
        return None
    return FairnessProblem(p["x"], p["x0"], p["x1"], p["y"], p.get("threshold"), p.get("positive"), p.get("labels"))


def graph():
    from faircause_core.causal.graph import CausalGraph

    g = st.session_state.get("graph")
    return CausalGraph.from_dict(g) if g else None


def set_graph(g) -> None:
    """Keep a new graph; the editor is rebuilt under a new key so it shows exactly this one."""
    st.session_state.graph = g.to_dict()
    st.session_state.flow_version = st.session_state.get("flow_version", 0) + 1
    st.session_state.pop("flow_state", None)
    persist()


def set_discovered(report: dict) -> None:
    """Keep cache.discover's result: its graph becomes the current and the "reset" one, and
    what the search found alone is kept so assumed edges stay known after edits."""
    from faircause_core.causal.graph import CausalGraph

    st.session_state.discovered = report["graph"]
    st.session_state.found = report["found"]
    st.session_state.searched_rows = report.get("searched_rows")
    set_graph(CausalGraph.from_dict(report["graph"]))


def found():
    """The graph the last discovery found in the data (without assumed edges), or None."""
    from faircause_core.causal.graph import CausalGraph

    f = st.session_state.get("found")
    return CausalGraph.from_dict(f) if f else None


def edit_graph(change) -> None:
    """Keep the graph `change()` returns and rerun; a refused edit is one error line."""
    try:
        set_graph(change())
    except InputError as err:
        text.error(err)
        return
    st.rerun()


def roles(tab=None, g=None, p=None):
    """Roles read off the DAG for the chosen question; InputError if they cannot be."""
    from faircause_core.causal.graph import derive_roles

    tab = tab if tab is not None else model_table()
    g = g if g is not None else graph()
    p = p if p is not None else problem()
    if tab is None or g is None or p is None:
        return None
    q = p.resolve(tab)
    return derive_roles(g, p.x, p.y, x0=q.x0, x1=q.x1, threshold=p.threshold, positive=q.outcome.positive,
                        labels=q.labels)


# ------------------------------------------------------------------------------ persistence

def keep(key: str, value) -> None:
    """Set a canonical session value and save the session when it changed."""
    if st.session_state.get(key) != value:
        st.session_state[key] = value
        persist()


def persist() -> None:
    """Write what this tab shows to the workspace (survives refresh/restart)."""
    state = {k: st.session_state.get(k) for k in SAVED_KEYS}
    try:
        workspace.save_session(state, root=root(), session=session_id())
    except (InputError, OSError) as err:
        text.warning(f"could not save the session to the workspace: {err}")


def restore() -> None:
    """Once per browser session: bring back this tab's data, DAG, roles and run (a new tab:
    the latest saved), and clear what crashed writers left in the workspace (workspace.recover)."""
    sid = session_id()
    if st.session_state.get("_restored_from") == root():
        return
    st.session_state._restored_from = root()
    try:
        workspace.recover(root())
        saved = workspace.load_session(root=root(), session=sid)
    except InputError as err:
        text.error(err)
        return
    for key in SAVED_KEYS:
        if saved.get(key) is not None:
            st.session_state[key] = saved[key]
