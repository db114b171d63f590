"""Step 5's "Evaluate a synthetic table": rows made elsewhere (SDV, MOSTLY AI, another tool, a
hand-edited copy) measured against this session's data, question and graph exactly as a
generation is (workflow.evaluate), in the background, and saved as a run shown like any other."""

from __future__ import annotations

import streamlit as st

from faircause_app import jobs, panels, state, text
from faircause_app.text import md
from faircause_app.upload import reading_bar
from faircause_core.errors import InputError

FILE_TYPES = ["csv", "tsv", "txt", "parquet", "xlsx"]


def _rows(upload):
    """An uploaded file read as the real data is read (same parser, limits, one-line errors),
    with the upload's stage bar (a synthetic table can be as big as the real one)."""
    from faircause_core.io.data import load_table

    content = upload.getvalue()
    with reading_bar(upload.name, len(content)):
        table = load_table(content, name=upload.name)
    return table.raw if table.raw is not None else table.df


def evaluate_block(has_runs: bool) -> None:
    """Upload a synthetic table (and optionally real holdout rows), measure it, show it as a run."""
    with st.expander("Evaluate a synthetic table made elsewhere", expanded=not has_runs):
        st.caption("Measures rows from any tool with the same fairness, fidelity, utility, fair-predictor and "
                   "privacy measures as a generation, against the real data, question and graph of steps 1-2.")
        tab = state.model_table()
        if tab is None or state.problem() is None or state.graph() is None:
            st.info("Load the real data and choose the question and graph first (steps 1 and 2): the table is "
                    "measured against them.")
            return
        try:
            roles = state.roles()
        except InputError as err:
            text.error(err)
            return
        left, right = st.columns(2)
        syn = left.file_uploader("Synthetic rows (CSV, Parquet or Excel)", type=FILE_TYPES, key="w_eval_syn")
        hold = right.file_uploader("Real rows its maker never saw (optional holdout)", type=FILE_TYPES,
                                   key="w_eval_hold")
        st.caption("Without a holdout, the real rows are split as a generation splits them (70% fitting, 30% held "
                   "out, by the seed); the privacy measures then assume the synthetic rows were made from the "
                   "fitting 70% only.")
        seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="w_eval_seed")
        job = jobs.current_job(state.root(), state.session_id())
        running = job is not None and job.status == "running"
        if st.button("Evaluate", type="primary", disabled=syn is None or running, key="w_eval_start"):
            try:
                from faircause_core.workflow.evaluate import conform

                synthetic = _rows(syn)
                conform(synthetic, tab, f"synthetic table {syn.name}")  # a missing column: said now, not in a job
                holdout = _rows(hold) if hold is not None else None
                job = jobs.start_evaluate(tab, state.graph(), roles, synthetic, syn.name, holdout,
                                          hold.name if hold is not None else None, int(seed),
                                          st.session_state.data_id, dict(st.session_state.get("kinds") or {}),
                                          state.root(), state.session_id(), owner=state.owner())
                running = True
            except InputError as err:
                text.error(err)
        if job is not None and job.task == "evaluate":
            st.fragment(run_every=1.0 if running else None)(panels.job_progress)()
            if job.status == "done":
                st.caption(f"The evaluated table is the run {md(job.run_id)}, chosen below.")
