"""Step 4: choose a generator and the fairness edits, then run in the background with progress."""

import streamlit as st

from faircause_app import cache, jobs, nav, panels, state, text
from faircause_app.text import md
from faircause_core.errors import InputError
from faircause_core.generators.base import DEFAULT_GENERATED_ROWS, MAX_GENERATED_ROWS, FairnessSpec, pathway_gaps
from faircause_core.generators.lm.record import advice as lm_advice, sentence as lm_sentence
from faircause_core.present.explain import REFERENCE_HELP, reference_options
from faircause_core.workflow.pipeline import DEFAULT_HOLDOUT, GenerationSettings

tab, roles = nav.page_start("generate", "Generate synthetic data",
                            "Choose the question and a causal graph first (step 2).")

# What each generator is (issue 21): the default's rows come from the causal model's fitted
# conditionals, with a language model only for the columns where held-out rows show a gain.
GENERATORS = {
    "llm": "Causal model + local language model where held-out rows show it helps (default)",
    "own": "Causal model + your own language model folder (same held-out test)",
    "bayesnet": "Bayesian network (quick preview)",
    "prompt": "Prompt mode: the language model writes every value (no training)",
}
job = jobs.current_job(state.root(), state.session_id())  # this browser session's job only
running = job is not None and job.status == "running"
panels.interrupted_runs()
saved = state.form_value  # the form as last saved: it survives a reload


def pick(options, name):
    return list(options).index(saved(name, list(options)[0])) if saved(name, "") in options else 0


left, right = st.columns([3, 2])
with left:
    choice = st.radio("Generator", list(GENERATORS), format_func=GENERATORS.get, key="w_generator",
                      index=pick(GENERATORS, "generator"))
    model_dir = panels.model_folder(choice, saved("model_dir", ""))

    st.markdown("**Fairness per pathway** — keep it as in the real data, remove it, or remove a share.")
    alphas = {}
    for key, label in (("de", "Direct (DE)"), ("ie", "Indirect via mediators (IE)"), ("se", "Spurious via confounders (SE)")):
        c1, c2 = st.columns([2, 3])
        modes = ["keep", "remove", "partial"]
        mode = c1.selectbox(label, modes, key=f"w_mode_{key}", index=pick(modes, f"mode_{key}"))
        if mode == "partial":
            alphas[key] = c2.slider(f"share of {key.upper()} removed", 0.0, 1.0, saved(f"alpha_{key}", 0.5), 0.05,
                                    key=f"w_alpha_{key}")
        else:
            alphas[key] = 1.0 if mode == "remove" else 0.0
    refs = {k: md(v) for k, v in reference_options(roles).items()}
    reference = st.radio("Reference group used when a pathway is removed", list(refs), format_func=refs.get,
                         help=REFERENCE_HELP,
                         horizontal=True, key="w_reference", index=pick(refs, "reference"))
with right:
    rows = st.number_input("Rows to generate", min_value=50, max_value=MAX_GENERATED_ROWS, step=50, key="w_rows",
                           value=saved("rows", min(DEFAULT_GENERATED_ROWS, max(50, len(tab.df)))))  # the cohort's size
    seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=saved("seed", 0), step=1, key="w_seed")
    preset = st.selectbox("Training preset (language model)", ["quick", "thorough"], key="w_preset",
                          disabled=choice not in ("llm", "own"), index=pick(["quick", "thorough"], "preset"),
                          help="Only the language models are trained; the Bayesian network and prompt "
                               "mode ignore it.")
    skip_lm = False
    if choice in ("llm", "own"):  # say before training what the measurement expects, and offer to skip it
        note = lm_advice(round(len(tab.df) * (1 - DEFAULT_HOLDOUT)))
        if note:
            st.caption(f"{md(note[:1].upper() + note[1:])}.")
        skip_lm = st.checkbox("Skip the language model (every column from the causal model's fitted conditionals; "
                              "nothing loaded or trained)", value=saved("skip_lm", False), key="w_skip_lm")
    refine = st.checkbox("Refine until the measured effects hit the targets", value=saved("refine", True),
                         key="w_refine")
    rounds = st.number_input("Refinement rounds at most", min_value=1, max_value=20, value=saved("rounds", 4),
                             key="w_rounds", disabled=not refine)
    light = st.checkbox("Light measuring (quick preview)", key="w_light",
                        value=saved("measure", state.measure_default()) == "light",
                        help="Fewer repetitions, so wider intervals on the synthetic side; measure in full "
                             "before sharing the table.")
state.keep_form({"generator": choice, "model_dir": st.session_state.get("w_model_dir", saved("model_dir", "")),
                 "reference": reference, "rows": int(rows), "seed": int(seed), "preset": preset,
                 "refine": bool(refine), "rounds": int(rounds), "skip_lm": bool(skip_lm),
                 "measure": "light" if light else "full",
                 **{f"mode_{k}": st.session_state.get(f"w_mode_{k}") for k in alphas},
                 **{f"alpha_{k}": float(a) for k, a in alphas.items() if 0 < a < 1}})
others = jobs.running_elsewhere(state.root(), state.session_id())
if others:
    st.caption(f"{others} generation(s) from other browser sessions running on this server; yours runs "
               "beside them (or waits for a free slot), and every run lands in the run list.")

gaps = pathway_gaps(state.graph(), roles)  # an edit the graph gives no path for would be a silent no-op
refused = [gaps[p] for p, a in alphas.items() if a != 0 and p in gaps]
for line in refused:
    st.warning(f"{md(line[:1].upper() + line[1:])}. Change the edit, or add the missing edge in step 2.")
start = st.button("Generate", type="primary", disabled=running or bool(refused), key="w_start")
if start:
    try:
        if choice == "own" and not model_dir:
            raise InputError("choose a usable model folder first")
        settings = GenerationSettings(
            generator="llm" if choice == "own" else choice, model_dir=model_dir, preset=preset,
            rows=int(rows), seed=int(seed), fairness=FairnessSpec(reference=reference, **alphas),
            refine=bool(refine), max_rounds=int(rounds), skip_lm=bool(skip_lm), measure="light" if light else "full")
        job = jobs.start_job(tab, state.graph(), roles, settings, st.session_state.data_id,
                             dict(st.session_state.get("kinds") or {}), state.root(), state.session_id(),
                             owner=state.owner())
        running = True
    except InputError as err:
        text.error(err)


# Poll once a second only while a job runs, so an idle page does not keep rerunning.
polling = running or (job is not None and job.status == "running")
st.fragment(run_every=1.0 if polling else None)(panels.job_progress)()
if job is not None and job.status == "done" and job.run_id and job.owner == state.owner():
    try:  # what the language model did in the run just finished, in one line
        lm_line = lm_sentence(cache.saved_run(job.run_id, state.root())["result"].language_model)
    except InputError:
        lm_line = None
    if lm_line:
        st.info(f"{md(lm_line[:1].upper() + lm_line[1:])}.")
