"""Step 5: real against synthetic, for one saved run; the runs of one data set on a trade-off
chart; and a sweep of one pathway's dial with a one-page summary for stakeholders."""

import streamlit as st

from faircause_app import cache, compare, evaluate, nav, panels, state, text
from faircause_app.text import md
from faircause_core.errors import InputError
from faircause_core.generators.lm.record import sentence as lm_sentence
from faircause_core.present import plots
from faircause_core.present.explain import measure_note, sampled_lines, sources_line
from faircause_core.workflow import workspace
from faircause_core.workflow.pipeline import EXTERNAL

nav.step_bar("compare")

st.title("Compare real and synthetic data")
compare.flash()
runs = compare.runs_with_data(workspace.list_runs(root=state.root()), state.root())
evaluate.evaluate_block(has_runs=bool(runs))
if not runs:
    st.info("No runs yet in this workspace. Generate synthetic data first (step 4).")
    nav.next_step("generate", "Go to step 4: generate")
    st.stop()

ids = [r["run_id"] for r in runs]
by_id = {r["run_id"]: r for r in runs}
current = st.session_state.get("run_id")
labels = plots.run_labels(runs)  # by settings, unique
choice = st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0, key="w_run",
                      format_func=lambda i: f"{labels[i]} · data {by_id[i]['data']}")
state.keep("run_id", choice)
try:
    run = cache.saved_run(choice, state.root())
except InputError as err:
    text.error(err)
    st.stop()
result = run["result"]

made = (f"rows made elsewhere ({md(result.settings.source or 'uploaded table')}), evaluated here"
        if result.settings.generator == EXTERNAL else
        f"{md(result.settings.fairness.label())}; generator {md(result.settings.generator)}")
st.caption(f"Run {md(choice)} from {md(by_id[choice]['data'])}: {made}, "
           f"{len(result.synthetic):,} rows, seed {result.settings.seed}. "
           f"{md(sources_line(result))}.")  # the real data (all rows) named first, each with its interval
panels.why_two_real_note(result)  # the real data is all rows; the fitting split is the generator's target
lm_line = lm_sentence(result.language_model)
if lm_line:  # what the language model did in this run, or that none was run
    st.caption(f"{md(lm_line[:1].upper() + lm_line[1:])}.")
light = measure_note(result.settings)
if light:  # a light run's wider intervals
    st.info(f"{light[:1].upper()}{light[1:]}.")
sampled = sampled_lines(result.metrics, result.fitting_rows, len(result.synthetic))
if sampled:  # which numbers came from a seeded sample, and how large (our words and numbers only)
    st.caption("Computed on samples: " + "; ".join(sampled) + ".")
for note in result.warnings:
    text.warning(note)
compare.delete_run(choice, labels[choice], state.root())

# Only the open tab is drawn (Streamlit's lazy tabs): drawing all six sent 8 charts on every
# rerun, and a browser showing a run for the first time spent seconds painting them.
DRAW = {"Fairness": lambda: panels.fairness_tab(result, run["roles"]),
        "Fidelity": lambda: panels.fidelity_tab(choice, run),
        "Utility and privacy": lambda: panels.utility_tab(result),
        "Trade-off (runs of this data set)": lambda: compare.tradeoff_tab(runs, choice),
        "Sweep a pathway": lambda: compare.sweep_tab(choice, run, state.root()),
        "Downloads": lambda: panels.downloads_tab(choice, run)}
for tab, draw in zip(st.tabs(list(DRAW), key="w_cmp_tab", on_change="rerun"), DRAW.values()):
    if tab.open:
        with tab:
            draw()
