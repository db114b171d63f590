"""The engine calls the pages repeat on every rerun, remembered by Streamlit's caches.

Keys are plain text (data hash, kinds and roles as sorted JSON, workspace folder), so a
result is reused exactly when its inputs are the same. Nothing here computes: each function
only calls faircause_core; the calls that take seconds run in a worker process
(job_process.call), so one session's discovery never stalls another's page.
"""

from __future__ import annotations

import json
import weakref

import pandas as pd
import streamlit as st

from faircause_app.job_process import call
from faircause_core.workflow import workspace


#: The engine modules the pages need, with the libraries that take seconds to import (scikit-learn,
#: scipy.stats, SDMetrics, plotly).
ENGINE_MODULES = ("faircause_core.workflow.pipeline", "faircause_core.causal.implications",
                  "faircause_core.metrics.fidelity", "faircause_core.present.plots")


@st.cache_resource(show_spinner="Starting the engine (once per server start)...")
def warm() -> bool:
    """Import the engine once, on the server's first page, not in the middle of later pages:
    imported on demand, they held the server's interpreter lock for seconds while other
    sessions were running, and stalled their page switches."""
    import importlib

    from faircause_app.job_process import start_early

    start_early()  # the runs' and page calls' fork server imports the engine meanwhile
    for name in ENGINE_MODULES:
        importlib.import_module(name)
    return True


#: Tables read by `load_new`, each taken once by `table` (then Streamlit's cache holds it).
_just_loaded: dict = {}


def load_new(data_id: str, ws: str):
    """Read an upload here, outside Streamlit's cache, and leave it to `table`: inside a cached
    function Streamlit replays page elements, and refuses the upload's progress bar (drawn
    before the call) as a "CacheReplayClosureError"."""
    key = (data_id, ws)
    _just_loaded[key] = workspace.load_data(data_id, None, root=ws)
    try:
        return table(data_id, "{}", ws)
    finally:
        _just_loaded.pop(key, None)  # already cached from an earlier upload: not kept twice


@st.cache_resource(show_spinner=False, max_entries=8)
def table(data_id: str, kinds_json: str, ws: str):
    """The Table for a workspace data copy with the user's kinds (shared, not copied)."""
    kinds = json.loads(kinds_json) or None
    ready = _just_loaded.pop((data_id, ws), None) if kinds is None else None
    return ready if ready is not None else workspace.load_data(data_id, kinds, root=ws)


#: Each loaded Table's distinct counts per column (causal.question.distinct_counts), for as long
#: as the Table is held (`table` keeps one object per data and kinds across reruns): by id, a
#: Table (a dataclass with ==) being unhashable; dropped when the Table is.
_counts: dict = {}


def distinct_counts(tab) -> dict:
    """question.distinct_counts(tab.df), counted once per Table: the question form proposes its
    defaults from them on every rerun of the graph page (1.3 s a rerun on 2,000,000 x 100)."""
    from faircause_core.causal.question import distinct_counts as count

    held = _counts.get(id(tab))
    if held is None or held[0]() is not tab:
        held = _counts[id(tab)] = (weakref.ref(tab), count(tab.df))
        weakref.finalize(tab, _counts.pop, id(tab), None)
    return held[1]


@st.cache_resource(show_spinner=False, max_entries=8)
def model_table(data_id: str, kinds_json: str, exclude: tuple, ws: str):
    """The Table without the excluded columns (shared, not copied)."""
    from faircause_core.io.data import exclude_columns

    return exclude_columns(table(data_id, kinds_json, ws), exclude)


@st.cache_data(show_spinner=False, max_entries=32)
def audit(data_id: str, kinds: str, exclude: tuple, roles_json: str, method: str, ws: str) -> dict:
    """Decomposition.to_dict(), keyed on the data hash + kinds + exclusions + roles + method."""
    from faircause_core.causal.graph import Roles
    from faircause_core.workflow.pipeline import audit as run_audit

    tab = model_table(data_id, kinds, exclude, ws)
    return call(run_audit, tab, Roles.from_dict(json.loads(roles_json)), method=method, seed=0).to_dict()


@st.cache_data(show_spinner=False, max_entries=32)
def suggestions(data_id: str, kinds: str, x: str, y: str, threshold, ws: str) -> list:
    """suggest_marks on the loaded table, as (column, mark, reason, firm) tuples (firm ones are
    pre-selected; the others, a leakage that is clear but not far, are only offered)."""
    from faircause_core.causal.suggest import suggest_marks

    return [(s.column, s.mark, s.reason, s.firm) for s in suggest_marks(table(data_id, kinds, ws), x, y, threshold)]


@st.cache_data(show_spinner=False, max_entries=32)
def leaves_to_check(data_id: str, kinds: str, x: str, y: str, fixed: tuple, after_outcome: tuple, ws: str) -> list:
    """suggest_from_discovery on the loaded table, as (column, reason) pairs: offered, never pre-selected."""
    from faircause_core.causal.suggest import suggest_from_discovery

    found = call(suggest_from_discovery, table(data_id, kinds, ws), x, y, fixed=fixed, after_outcome=after_outcome)
    return [(s.column, s.reason) for s in found]


@st.cache_data(show_spinner=False, max_entries=16)
def discover(data_id: str, kinds: str, x: str, y: str, fixed: tuple, after_outcome: tuple, exclude: tuple,
             ws: str) -> dict:
    """discover_report as plain JSON: {graph, found (what the search found), assumed, refused,
    searched_rows (all rows, or the seeded stratified subsample's size)}.

    Keyed on every mark: a search takes seconds and a rerun must not repeat it.
    """
    from faircause_core.causal.discovery import discover_report

    report = call(discover_report, model_table(data_id, kinds, exclude, ws), x, y, fixed=fixed,
                  after_outcome=after_outcome, seed=0)
    return {"graph": report.graph.to_dict(), "found": report.found.to_dict(),
            "assumed": [list(e) for e in report.assumed], "refused": [list(r) for r in report.refused],
            "searched_rows": int(report.searched_rows)}


@st.cache_data(show_spinner=False, max_entries=32)
def graph_check(data_id: str, kinds: str, exclude: tuple, graph_json: str, problem_json: str,
                 ws: str) -> list[dict]:
    """check_graph's implications (to_dict) for the graph and question, on the rows the audit uses.

    Keyed on the data, kinds, exclusions, graph and question, so an edit reruns it and nothing
    else (the fixed and after-outcome marks act only through the graph, which is in the key).
    """
    from faircause_core.causal.graph import CausalGraph
    from faircause_core.causal.implications import check_graph
    from faircause_core.causal.question import FairnessProblem

    tab = model_table(data_id, kinds, exclude, ws)
    p = json.loads(problem_json)
    problem = FairnessProblem(p["x"], p["x0"], p["x1"], p["y"], p.get("threshold"), p.get("positive"))
    q = problem.resolve(tab)
    found = call(check_graph, tab, CausalGraph.from_json(graph_json), p["x"], p["y"], x0=q.x0, x1=q.x1,
                 threshold=p.get("threshold"), schema=tab.schema, seed=0)
    return [i.to_dict() for i in found]


@st.cache_resource(show_spinner=False, max_entries=16)
def saved_run(run_id: str, ws: str) -> dict:
    """A saved run (result, roles, graph, data id, kinds); clear() after deleting one."""
    return workspace.load_run(run_id, root=ws)


@st.cache_data(show_spinner=False, max_entries=8)
def real_frame(data_id: str, kinds: str, ws: str) -> pd.DataFrame:
    """The real rows a run was made from (a copy per call: plots may not alter the Table)."""
    return workspace.load_data(data_id, json.loads(kinds) or None, root=ws).df


@st.cache_data(show_spinner=False, max_entries=8)
def associations(run_id: str, data_id: str, kinds: str, ws: str):
    """(real, synthetic) association matrices of a run, for the heatmaps (over the run's
    columns: a column excluded from the run is not in its synthetic rows)."""
    from faircause_core.io.data import exclude_columns
    from faircause_core.metrics.fidelity import correlation_matrices

    tab = workspace.load_data(data_id, json.loads(kinds) or None, root=ws)
    synth = saved_run(run_id, ws)["result"].synthetic
    tab = exclude_columns(tab, [c for c in tab.schema.names if c not in synth.columns])
    real_m, synth_m, _ = correlation_matrices(tab.df, synth, tab.schema)
    return real_m, synth_m
