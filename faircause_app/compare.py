"""Step 5's blocks too long for the page: the trade-off across runs of one data set, deleting
a run only after a confirmation that names it, the privacy table, and the sweep with its
one-page stakeholder summary (run in the background by sweep_jobs)."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from faircause_app import cache, state, sweep_jobs, text
from faircause_app.text import md
from faircause_core.errors import InputError
from faircause_core.generators.base import MAX_GENERATED_ROWS
from faircause_core.present import plots
from faircause_core.workflow import workspace
from faircause_core.workflow.pipeline import EXTERNAL

PATHWAY_NAMES = {"de": "DE: direct", "ie": "IE: through the mediators", "se": "SE: spurious (confounded)",
                 "all": "all pathways the graph has"}


@st.cache_data(show_spinner=False, max_entries=512)
def run_facts(run_id: str, ws: str) -> dict:
    """The data id and fairness alphas of a saved run (a run never changes once saved)."""
    try:
        run = workspace.load_run(run_id, root=ws)
    except InputError:
        return {"data_id": None, "fairness": {}}
    return {"data_id": run.get("data_id"), "fairness": run["result"].settings.fairness.to_dict()}


@st.cache_data(show_spinner=False, max_entries=64)
def data_name(data_id: str | None, ws: str) -> str:
    """The uploaded file's name of a workspace data copy."""
    if not data_id:
        return "(data not recorded)"
    try:
        return workspace.data_file(data_id, root=ws)[1]
    except InputError:
        return f"data {data_id} (missing)"


def runs_with_data(runs: list[dict], ws: str) -> list[dict]:
    """Each run summary with its data set's name (made unique when two uploads share a file
    name) and its alphas, for labels and the data-set filter."""
    out = [dict(r, **run_facts(r["run_id"], ws)) for r in runs]
    names: dict = {}
    for r in out:
        names.setdefault(data_name(r["data_id"], ws), set()).add(r["data_id"])
    for r in out:
        name = data_name(r["data_id"], ws)
        r["data"] = name if len(names[name]) == 1 else f"{name} ({str(r['data_id'])[:6]})"
    return out


def flash() -> None:
    """A message left by the last action (a deletion) before its rerun, shown once."""
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(md(message))


def delete_run(run_id: str, label: str, ws: str) -> None:
    """Delete the run shown, only after a confirmation naming it; say what was deleted."""
    if st.session_state.get("_delete_pending") != run_id:  # another run chosen: no stale confirmation
        if st.button("Delete this run...", key="w_delete_run"):
            st.session_state._delete_pending = run_id
            st.rerun()
        return
    st.warning(f"Delete run {md(label)} ({md(run_id)})? Its synthetic rows, settings and measurements are "
               "removed from the workspace; this cannot be undone.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete this run", key="w_delete_yes", type="primary"):
        try:
            workspace.delete_run(run_id, root=ws)
        except InputError as err:
            text.error(err)
            return
        cache.saved_run.clear()
        for key in ("_delete_pending", "run_id", "w_run"):
            st.session_state.pop(key, None)
        st.session_state._flash = f"Deleted run {label} ({run_id})."
        state.persist()
        st.rerun()
    if no.button("Keep it", key="w_delete_no"):
        st.session_state.pop("_delete_pending", None)
        st.rerun()


def tradeoff_tab(runs: list[dict], current: str) -> None:
    """Fairness left against fidelity or utility, for the runs (runs_with_data) of one data
    set, each labelled by its settings (unique labels)."""
    sets = sorted({r["data"] for r in runs})
    mine = next((r["data"] for r in runs if r["run_id"] == current), sets[0])
    data = st.selectbox("Data set", sets, index=sets.index(mine), key="w_trade_data")
    shown = [r for r in runs if r["data"] == data]
    labels = plots.run_labels(shown)
    for r in shown:
        r["label"] = labels[r["run_id"]]
    st.caption(f"{len(shown)} of {len(runs)} runs in this workspace were made from {md(data)}.")
    axis = st.radio("Plot fairness against", ["quality", "tstr"], horizontal=True, key="w_trade_axis",
                    format_func={"quality": "fidelity", "tstr": "utility (TSTR AUROC)"}.get)
    st.plotly_chart(plots.tradeoff_scatter(shown, y=axis, title=f"Trade-off across the runs of {data}"),
                    width="stretch", key="cmp_trade")
    table = pd.DataFrame(shown)[["label", "data", "fairness_gap", "quality", "tstr", "bias_reduction", "converged"]]
    st.dataframe(table.rename(columns={
        "label": "run (settings)", "data": "data set", "fairness_gap": "remaining |Ctf-DE| (pp)",
        "quality": "fidelity", "tstr": "TSTR AUROC", "bias_reduction": "fair-predictor reduction",
        "converged": "within tolerance"}), hide_index=True, width="stretch")


def privacy_block(priv: dict) -> None:
    """Readable privacy measures with their yardsticks and a one-line verdict."""
    from faircause_core.present.report import privacy_rows, privacy_verdict

    st.markdown("**Privacy: is this table safe to share, or does it give training patients away?**")
    verdict = privacy_verdict(priv)
    show = {"safe": st.success, "review": st.warning, "unsafe": st.error}.get(priv.get("verdict") or "")
    if show is None:  # a run saved before the verdict
        show = st.success if verdict.startswith("No sign") else st.warning
    show(md(verdict))
    rows = pd.DataFrame([(k, v) for k, v in privacy_rows(priv) if v is not None], columns=["measure", "value"])
    st.dataframe(rows, hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 3,  # every row, no scroll
                 column_config={"measure": st.column_config.TextColumn(width="large"),
                                "value": st.column_config.TextColumn(width="large")})
    st.caption("Each value: this table's estimate [95% interval]; then what a copier (the training rows handed "
               "back) and marginals-only rows (each column drawn on its own: no patient kept) score on the same data.")
    for note in priv.get("notes") or []:
        st.caption(md(note))


# ------------------------------------------------------------------------------------ sweep

def sweep_tab(run_id: str, run: dict, ws: str) -> None:
    """Start a sweep from this run, follow it, and draw its curve and summary."""
    from faircause_app.jobs import model_dir_from_env
    from faircause_core.generators.base import pathway_gaps

    settings = run["result"].settings
    if settings.generator == EXTERNAL:
        st.info("This table was made elsewhere and evaluated here: there is no generator of ours to sweep. "
                "Generate a run (step 4) to sweep a pathway's dial.")
        return
    st.caption(f"Runs one pathway's dial from 0 (as in the real data) to 1 (removed) with this run's data, graph, "
               f"question and generator ({md(settings.generator)}, seed {settings.seed}): the generator is fitted "
               "once and each dial value is one draw from it, measured like a run.")
    for p, why in pathway_gaps(run["graph"], run["roles"]).items():
        st.caption(f"{p.upper()} cannot be swept: {md(why)}")
    job = sweep_jobs.current_sweep(ws, state.session_id(), run_id)
    running = job is not None and job.status == "running"
    c1, c2, c3 = st.columns(3)
    pathway = c1.selectbox("Pathway", list(PATHWAY_NAMES), format_func=PATHWAY_NAMES.get, key="w_sweep_pathway")
    points = c2.text_input("Dial values (share removed, 0 to 1)", "0,0.25,0.5,0.75,1", key="w_sweep_points")
    rows = c3.number_input("Rows per point", min_value=50, max_value=MAX_GENERATED_ROWS, step=100,
                           value=max(50, int(settings.rows)), key="w_sweep_rows")
    if st.button("Run the sweep", type="primary", disabled=running, key="w_sweep_start"):
        try:
            sweep_jobs.start_sweep(run_id, run, ws, state.session_id(), pathway, points, int(rows),
                                   model_dir_from_env())
            st.rerun()
        except InputError as err:
            text.error(err)
    st.fragment(run_every=1.0 if running else None)(_sweep_progress)(ws, run_id)
    if job is not None and job.status == "done" and job.result:
        _sweep_result(job, run, ws)


def _sweep_progress(ws: str, run_id: str) -> None:
    job = sweep_jobs.current_sweep(ws, state.session_id(), run_id)
    if job is None:
        return
    if job.status == "running":
        st.progress(job.fraction(), text=f"{md(job.stage)} {job.eta()}".strip())
        st.caption(f"Sweeping {md(job.label)} for {time.time() - job.started:.0f} s.")
        if st.button("Cancel the sweep", key="w_sweep_cancel"):
            job.cancel()
            st.warning("Cancelling after the current step...")
        return
    if st.session_state.get("_sweep_seen") != job.job_id:  # first look at the ended sweep: redraw the tab
        st.session_state._sweep_seen = job.job_id
        st.rerun(scope="app")
    if job.status == "done":
        st.success(f"Sweep finished in {job.ended_at() - job.started:.0f} s ({md(job.label)}).")
    elif job.status == "cancelled":
        st.info("The sweep was cancelled; nothing was kept.")
    else:
        text.error(job.error)


def _sweep_result(job, run: dict, ws: str) -> None:
    from faircause_core.io.export import json_bytes, safe_filename
    from faircause_core.present.summary import build_summary, summary_sentences, sweep_why_two_real

    sweep = job.result
    alphas = [p["alpha"] for p in sweep["points"]]
    chosen = st.select_slider("Chosen dial value (marked on the curve and in the summary)", options=alphas,
                              value=alphas[-1], key="w_sweep_chosen", format_func=lambda a: f"{a:g}")
    st.plotly_chart(plots.sweep_curve(sweep, chosen), width="stretch", key="cmp_sweep")
    for line in summary_sentences(sweep, chosen):
        st.markdown(f"- {md(line)}")
    why = sweep_why_two_real(sweep)
    if why:  # the real data is all rows; the dial's "as real" is the fitting split
        st.caption(md(why))
    for note in sweep.get("warnings") or []:
        text.warning(note)
    stem = safe_filename(f"{job.job_id}_{sweep['pathway']}")
    c1, c2 = st.columns(2)
    c1.download_button("Sweep (JSON)", json_bytes(sweep), file_name=f"{stem}.json", mime="application/json",
                       key="dl_sweep_json")
    if c2.button("Build the one-page summary", key="w_build_summary"):
        page = build_summary(sweep, chosen, data_name=data_name(run.get("data_id"), ws))
        st.session_state._summary_html = (job.job_id, chosen, page)
    built = st.session_state.get("_summary_html")
    if built and built[0] == job.job_id and built[1] == chosen:
        c2.download_button("Stakeholder summary (HTML)", built[2].encode("utf-8"), file_name=f"{stem}_summary.html",
                           mime="text/html", key="dl_sweep_summary", type="primary")
