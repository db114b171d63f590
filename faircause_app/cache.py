"""The engine calls the pages repeat on every rerun, remembered by Streamlit's caches.

Keys are plain text (data hash, kinds and roles as sorted JSON, workspace folder), so a
result is reused exactly when its inputs are the same. Nothing here computes: each function
only calls faircause_core.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from faircause_core.workflow import workspace


@st.cache_resource(show_spinner=False, max_entries=8)
def table(data_id: str, kinds_json: str, ws: str):
    """The Table for a workspace data copy with the user's kinds (shared, not copied)."""
    return workspace.load_data(data_id, json.loads(kinds_json) or None, root=ws)


@st.cache_data(show_spinner=False, max_entries=32)
def audit(data_id: str, kinds: str, roles_json: str, method: str, ws: str) -> dict:
    """Decomposition.to_dict(), keyed on the data hash + kinds + roles + method."""
    from faircause_core.causal.graph import Roles
    from faircause_core.workflow.pipeline import audit as run_audit

    tab = table(data_id, kinds, ws)
    return run_audit(tab, Roles.from_dict(json.loads(roles_json)), method=method, seed=0).to_dict()


@st.cache_data(show_spinner=False, max_entries=16)
def discover(data_id: str, kinds: str, x: str, y: str, fixed: tuple, ws: str) -> dict:
    """The discovered graph as a dict (a search takes seconds; a rerun must not repeat it)."""
    from faircause_core.causal.discovery import discover as run_discovery

    return run_discovery(table(data_id, kinds, ws), x, y, fixed=fixed, seed=0).to_dict()


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
    """(real, synthetic) association matrices of a run, for the heatmaps."""
    from faircause_core.metrics.fidelity import correlation_matrices

    tab = workspace.load_data(data_id, json.loads(kinds) or None, root=ws)
    synth = saved_run(run_id, ws)["result"].synthetic
    real_m, synth_m, _ = correlation_matrices(tab.df, synth, tab.schema)
    return real_m, synth_m
