"""Step 5: real against synthetic, for one saved run, plus every run on a trade-off chart."""

import pandas as pd
import streamlit as st

from faircause_app import cache, nav, panels, state, text
from faircause_app.text import md
from faircause_core.errors import InputError
from faircause_core.present import plots
from faircause_core.present.explain import summary_line
from faircause_core.workflow import workspace

nav.step_bar("compare")

st.title("Compare real and synthetic data")
runs = workspace.list_runs(root=state.root())
if not runs:
    st.info("No runs yet in this workspace. Generate synthetic data first (step 4).")
    nav.next_step("generate", "Go to step 4: generate")
    st.stop()

ids = [r["run_id"] for r in runs]
by_id = {r["run_id"]: r for r in runs}
current = st.session_state.get("run_id")
choice = st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0, key="w_run",
                      format_func=lambda i: f"{i} · {by_id[i]['label']} · {by_id[i]['rows']} rows")
state.keep("run_id", choice)
try:
    run = cache.saved_run(choice, state.root())
except InputError as err:
    text.error(err)
    st.stop()
result = run["result"]

st.caption(f"{md(result.settings.fairness.label())}; generator {md(result.settings.generator)}, "
           f"{len(result.synthetic):,} rows, seed {result.settings.seed}. "
           f"{md(summary_line(result.real_effects, result.synthetic_effects))}.")
for note in result.warnings:
    text.warning(note)

fair_tab, fid_tab, util_tab, trade_tab, dl_tab = st.tabs(
    ["Fairness", "Fidelity", "Utility and privacy", "Trade-off (all runs)", "Downloads"])
with fair_tab:
    panels.fairness_tab(result, run["roles"])
with fid_tab:
    panels.fidelity_tab(choice, run)
with util_tab:
    panels.utility_tab(result)

with trade_tab:
    axis = st.radio("Plot fairness against", ["quality", "tstr"], horizontal=True, key="w_trade_axis",
                    format_func={"quality": "fidelity", "tstr": "utility (TSTR AUROC)"}.get)
    st.plotly_chart(plots.tradeoff_scatter(runs, y=axis), width="stretch", key="cmp_trade")
    st.dataframe(pd.DataFrame(runs)[["run_id", "label", "rows", "removed", "fairness_gap", "quality", "tstr",
                                     "bias_reduction", "converged"]], hide_index=True, width="stretch")
    if st.button("Delete the selected run", key="w_delete_run"):
        try:
            workspace.delete_run(choice, root=state.root())
            cache.saved_run.clear()
            st.session_state.pop("run_id", None)
            state.persist()
            st.rerun()
        except InputError as err:
            text.error(err)

with dl_tab:
    panels.downloads_tab(choice, run)
