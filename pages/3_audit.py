"""Step 3: the real data's fairness decomposition, as a chart, a table and plain sentences.

Groups and outcome are named in the user's words (question.ValueLabels); the method's
symbols (x0, x1, Ctf-DE, ETT...) are kept in tooltips."""

from dataclasses import replace

import streamlit as st

from faircause_app import cache, nav, state, text
from faircause_app.text import md
from faircause_core.causal.effects import Decomposition
from faircause_core.causal.implications import direct_effect_warning
from faircause_core.errors import InputError
from faircause_core.present.explain import (EFFECT_WORDS, SYMBOL_HELP, SYMBOLS, effects_title, explain_roles,
                                           identity_line, question_line, shown, sign_note)
from faircause_core.causal.overlap import OVERLAP_HELP, overlap_line
from faircause_core.present.explain import names
from faircause_core.present.plots import effects_bar
from faircause_core.workflow.progress import audit_wait
from faircause_core.workflow.pipeline import AUDIT_SPLITS

tab, roles = nav.page_start("audit", "Fairness audit of the real data",
                            "Choose the sensitive attribute, the outcome and a causal graph first (step 2).",
                            fix_label="Fix the question or the graph in step 2")

labels = {"dr": f"Doubly robust (default: median of up to {AUDIT_SPLITS} cross-fitting splits, "
                "with confidence intervals)",
          "plugin": "Quick plug-in preview"}
saved_method = st.session_state.get("method") or "dr"
method = st.radio("Estimator", list(labels), format_func=labels.get, horizontal=True,
                  index=list(labels).index(saved_method), key="w_method")
if method != saved_method:
    st.session_state.method = method
    state.persist()

wait = audit_wait(tab.n_rows, tab.df.shape[1]) if method == "dr" else ""
with st.spinner(wait or "Estimating the decomposition (cached after the first time)..."):
    try:  # the words for the values change no number: the cache key leaves them out
        result = cache.audit(st.session_state.data_id, state.kinds_json(), state.excluded(),
                             state.roles_json(replace(roles, labels=None)), method, state.root())
    except InputError as err:
        text.error(err)
        st.stop()
decomposition = Decomposition.from_dict(result)

st.caption(f"{md(question_line(roles))} X = {md(roles.x)}, Y = {md(roles.y)}; n = {decomposition.n:,} "
           f"({decomposition.n0:,} vs {decomposition.n1:,}).", help=SYMBOL_HELP)
for note in decomposition.warnings:
    text.warning(note)
direct_note = direct_effect_warning(state.graph(), decomposition, labels=roles.labels)
if direct_note:  # the graph omits X -> Y, yet the direct effect's interval excludes 0
    text.warning(direct_note[:1].upper() + direct_note[1:])

st.plotly_chart(effects_bar({"real": decomposition}, title=effects_title(roles)), width="stretch",
                key="audit_chart")
identity = identity_line(decomposition)
st.caption(f"{md(sign_note(roles))} Bars carry 95% intervals, and the sentences and the table below show the "
           f"same numbers{md(': ' + identity) if identity else ''}.", help=SYMBOL_HELP)

if decomposition.overlap:  # how far the groups overlap given the covariates, with every audit
    st.caption(md(overlap_line(decomposition.overlap, *names(roles))), help=OVERLAP_HELP)

st.subheader("In plain words", help=SYMBOL_HELP)
for effect, line in explain_roles(decomposition, roles).items():
    st.markdown(f"- **{md(EFFECT_WORDS[effect])}**: {md(line)}", help=f"{SYMBOLS[effect]} in the method")
st.caption("Direct: the sensitive attribute's effect on the outcome not through the mediators; indirect: "
           "through the mediators; spurious: through the confounders, not caused by the sensitive attribute.",
           help="Mediators are W, confounders Z, the sensitive attribute X and the outcome Y in the method.")

frame = shown(decomposition) * 100
frame.index = [f"{EFFECT_WORDS[e]} ({SYMBOLS[e]})" for e in frame.index]
frame.columns = ["estimate (pp)", "std. error (pp)", "95% CI low (pp)", "95% CI high (pp)"]
signed = {c: st.column_config.NumberColumn(format="%+.2f") for c in ("95% CI low (pp)", "95% CI high (pp)")}
st.dataframe(frame.round(4), width="stretch",  # signed: a bound of -0.003 reads -0.00, on its side of 0
             column_config={"estimate (pp)": st.column_config.NumberColumn(help=SYMBOL_HELP, format="%+.2f"),
                            "std. error (pp)": st.column_config.NumberColumn(format="%.2f"), **signed})
nav.next_step("generate", "Next: generate synthetic data")
