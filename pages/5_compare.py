"""Step 5: real against synthetic, for one saved run, plus every run on a trade-off chart."""

import json

import pandas as pd
import streamlit as st

from faircause_core.present import plots
from faircause_core.workflow import workspace
from faircause_core.errors import InputError
from faircause_core.present.explain import summary_line
from faircause_core.io.export import graph_json_bytes, json_bytes, safe_filename, to_csv_bytes
from faircause_core.present.report import build_report
from pages import ui

ui.step_bar("compare")

st.title("Compare real and synthetic data")
runs = workspace.list_runs(root=ui.root())
if not runs:
    st.info("No runs yet in this workspace. Generate synthetic data first (step 4).")
    ui.next_step("generate", "Go to step 4: generate")
    st.stop()

ids = [r["run_id"] for r in runs]
by_id = {r["run_id"]: r for r in runs}
current = st.session_state.get("run_id")
choice = st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0, key="w_run",
                      format_func=lambda i: f"{i} · {by_id[i]['label']} · {by_id[i]['rows']} rows")
if choice != current:
    st.session_state.run_id = choice
    ui.persist()
try:
    run = ui.run_cached(choice, ui.root())
except InputError as err:
    st.error(str(err))
    st.stop()
result, roles, graph = run["result"], run["roles"], run["graph"]


@st.cache_data(show_spinner=False, max_entries=8)
def _real_frame(data_id: str, kinds: str, ws: str) -> pd.DataFrame:
    return workspace.load_data(data_id, json.loads(kinds) or None, root=ws).df


@st.cache_data(show_spinner=False, max_entries=8)
def _associations(run_id: str, data_id: str, kinds: str, ws: str):
    from faircause_core.metrics.fidelity import correlation_matrices

    tab = workspace.load_data(data_id, json.loads(kinds) or None, root=ws)
    synth = ui.run_cached(run_id, ws)["result"].synthetic
    real_m, synth_m, _ = correlation_matrices(tab.df, synth, tab.schema)
    return real_m, synth_m


st.caption(f"{ui.md(result.settings.fairness.label())}; generator {result.settings.generator}, "
           f"{len(result.synthetic):,} rows, seed {result.settings.seed}. {ui.md(summary_line(result.real_effects, result.synthetic_effects))}.")
for note in result.warnings:
    st.warning(note)

fair_tab, fid_tab, util_tab, trade_tab, dl_tab = st.tabs(
    ["Fairness", "Fidelity", "Utility and privacy", "Trade-off (all runs)", "Downloads"])

with fair_tab:
    st.plotly_chart(plots.effects_bar({"real": result.real_effects, "synthetic": result.synthetic_effects,
                                       "target": result.target}), width="stretch", key="cmp_effects")
    n_real = (result.real_effects or {}).get("n")
    st.caption(f"real: the {f'{n_real:,}' if n_real else 'fitting'} real rows the generator learned from (the other "
               f"{result.settings.holdout:.0%} are held out for utility and privacy), so the numbers can differ "
               f"a little from step 3. synthetic: the {len(result.synthetic):,} delivered rows; intervals are wide "
               f"on a small sample. target: what the chosen edits ask for (0 = pathway removed).")
    if result.rounds:
        st.plotly_chart(plots.rounds_plot(result.rounds, result.target), width="stretch", key="cmp_rounds")
        n_measured = (result.rounds[-1].get("decomposition") or {}).get("n")
        sample = f" on a generator sample of {n_measured:,} rows" if n_measured else ""
        st.caption(("Converged within tolerance" if result.converged else
                    "Did not converge within the round limit: the best round was kept")
                   + f"; each round is measured{sample}.")

kinds = json.dumps(run.get("kinds") or {}, sort_keys=True)
with fid_tab:
    fid = result.metrics.get("fidelity") or {}
    if fid:
        st.plotly_chart(plots.quality_bars(fid.get("columns", []), fid.get("shape"), fid.get("trend"),
                                           fid.get("quality")), width="stretch", key="cmp_quality")
    if run.get("data_id"):
        try:
            real = _real_frame(run["data_id"], kinds, ui.root())
            cols = [c for c in result.synthetic.columns if c in real.columns]
            col = st.selectbox("Column", cols, key="w_cmp_col")
            numeric = pd.api.types.is_numeric_dtype(real[col]) and real[col].nunique() > 12
            st.plotly_chart(plots.distribution_overlay(real[col], result.synthetic[col], col, numeric),
                            width="stretch", key="cmp_dist")
            real_m, synth_m = _associations(choice, run["data_id"], kinds, ui.root())
            st.plotly_chart(plots.correlation_heatmaps(real_m, synth_m), width="stretch", key="cmp_heat")
        except InputError as err:
            st.error(str(err))

with util_tab:
    util = result.metrics.get("utility") or {}
    fair = result.metrics.get("fair_predictor") or {}
    priv = result.metrics.get("privacy") or {}
    c1, c2 = st.columns(2)
    if util:
        c1.plotly_chart(plots.score_bars({"TRTR (trained on real)": util.get("trtr"),
                                          "TSTR (trained on synthetic)": util.get("tstr")},
                                         "Utility: AUROC on held-out real rows", "AUROC", range_=(0, 1.05)),
                        width="stretch", key="cmp_util")
    if fair and "error" not in fair:
        c2.plotly_chart(plots.score_bars({"trained on real": abs(fair.get("ctf_de_real_model") or 0) * 100,
                                          "trained on synthetic": abs(fair.get("ctf_de_synth_model") or 0) * 100},
                                         f"Fair predictor: |Ctf-DE| of predictions (reduction "
                                         f"{(fair.get('reduction') or 0):.0%})", "percentage points"),
                        width="stretch", key="cmp_fair")
    elif fair:
        c2.warning(fair["error"])
    if priv:
        st.markdown("**Privacy: distance to the closest real record (DCR)**")
        st.dataframe(pd.DataFrame([priv]), hide_index=True, width="stretch")
        st.caption("Synthetic rows should be no closer to the training rows than unseen real rows are "
                   "(compare the synthetic and holdout medians); exact copies should be near 0%.")

with trade_tab:
    axis = st.radio("Plot fairness against", ["quality", "tstr"], horizontal=True, key="w_trade_axis",
                    format_func={"quality": "fidelity", "tstr": "utility (TSTR AUROC)"}.get)
    st.plotly_chart(plots.tradeoff_scatter(runs, y=axis), width="stretch", key="cmp_trade")
    st.dataframe(pd.DataFrame(runs)[["run_id", "label", "rows", "removed", "fairness_gap", "quality", "tstr",
                                     "bias_reduction", "converged"]], hide_index=True, width="stretch")
    if st.button("Delete the selected run", key="w_delete_run"):
        try:
            workspace.delete_run(choice, root=ui.root())
            ui.run_cached.clear()
            st.session_state.pop("run_id", None)
            ui.persist()
            st.rerun()
        except InputError as err:
            st.error(str(err))

with dl_tab:
    stem = safe_filename(f"{choice}_{result.settings.generator}")
    st.download_button("Synthetic rows (CSV)", to_csv_bytes(result.synthetic), file_name=f"{stem}_synthetic.csv",
                       mime="text/csv", key="dl_csv", type="primary")
    st.download_button("Causal graph (DAG JSON)", graph_json_bytes(graph), file_name=f"{stem}_dag.json",
                       mime="application/json", key="dl_dag")
    st.download_button("Run settings (JSON)", json_bytes(result.settings.to_dict()),
                       file_name=f"{stem}_settings.json", mime="application/json", key="dl_settings")
    if st.button("Build the HTML report", key="w_build_report"):
        st.session_state.report_html = (choice, build_report(result, roles, graph=graph, data_name=f"workspace data {run.get('data_id')}"))
    rep = st.session_state.get("report_html")
    if rep and rep[0] == choice:
        st.download_button("HTML report (self-contained)", rep[1].encode("utf-8"), file_name=f"{stem}_report.html",
                           mime="text/html", key="dl_report")
