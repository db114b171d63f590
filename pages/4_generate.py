"""Step 4: choose a generator and the fairness edits, then run in the background with progress."""

import streamlit as st

from faircause_app import jobs, nav, panels, state, text
from faircause_app.text import md
from faircause_core.errors import InputError
from faircause_core.generators.base import FairnessSpec, pathway_gaps
from faircause_core.present.explain import REFERENCE_HELP, reference_options
from faircause_core.workflow.pipeline import GenerationSettings

tab, roles = nav.page_start("generate", "Generate synthetic data",
                            "Choose the question and a causal graph first (step 2).")

GENERATORS = {
    "llm": "Local language model (default)",
    "own": "Your own model folder",
    "bayesnet": "Bayesian network (quick preview)",
    "prompt": "Prompt mode (no training)",
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
    model_dir = jobs.model_dir_from_env() if choice in ("llm", "prompt") else None
    if model_dir:
        st.caption(f"Language model folder from FAIRCAUSE_MODEL_DIR: {md(model_dir)}")
    if choice == "own":
        typed = st.text_input("Model folder (a Hugging Face causal LM with safetensors weights)",
                              key="w_model_dir", value=saved("model_dir", ""))
        model_dir = typed.strip() or None
        if model_dir:
            from faircause_core.generators.lm.store import check_model_folder

            try:
                check_model_folder(model_dir)
                st.success("Model folder looks usable.")
            except InputError as err:
                text.error(err)
                model_dir = None

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
    rows = st.number_input("Rows to generate", min_value=50, max_value=200_000, step=50, key="w_rows",
                           value=saved("rows", min(200_000, max(50, len(tab.df)))))  # the cohort's size
    seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=saved("seed", 0), step=1, key="w_seed")
    preset = st.selectbox("Training preset (language model)", ["quick", "thorough"], key="w_preset",
                          disabled=choice not in ("llm", "own"), index=pick(["quick", "thorough"], "preset"),
                          help="Only the language models are trained; the Bayesian network and prompt "
                               "mode ignore it.")
    refine = st.checkbox("Refine until the measured effects hit the targets", value=saved("refine", True),
                         key="w_refine")
    rounds = st.number_input("Refinement rounds at most", min_value=1, max_value=20, value=saved("rounds", 4),
                             key="w_rounds", disabled=not refine)
state.keep_form({"generator": choice, "model_dir": st.session_state.get("w_model_dir", saved("model_dir", "")),
                 "reference": reference, "rows": int(rows), "seed": int(seed), "preset": preset,
                 "refine": bool(refine), "rounds": int(rounds),
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
            refine=bool(refine), max_rounds=int(rounds))
        job = jobs.start_job(tab, state.graph(), roles, settings, st.session_state.data_id,
                             dict(st.session_state.get("kinds") or {}), state.root(), state.session_id(),
                             owner=state.owner())
        running = True
    except InputError as err:
        text.error(err)


# Poll once a second only while a job runs, so an idle page does not keep rerunning.
polling = running or (job is not None and job.status == "running")
st.fragment(run_every=1.0 if polling else None)(panels.job_progress)()
