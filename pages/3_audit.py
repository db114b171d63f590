"""Step 3: the real data's fairness decomposition, as a chart, a table and plain sentences."""

import streamlit as st

from faircause_app import cache, nav, state, text
from faircause_app.text import md
from faircause_core.causal.effects import Decomposition
from faircause_core.causal.implications import direct_effect_warning
from faircause_core.errors import InputError
from faircause_core.present.explain import CONTRIBUTION_LABELS, SIGN_NOTE, contributions, explain_roles
from faircause_core.present.plots import effects_bar

tab, roles = nav.page_start("audit", "Fairness audit of the real data",
                            "Choose the sensitive attribute, the outcome and a causal graph first (step 2).",
                            fix_label="Fix the question or the graph in step 2")

labels = {"dr": "Doubly robust (default, with confidence intervals)", "plugin": "Quick plug-in preview"}
saved_method = st.session_state.get("method") or "dr"
method = st.radio("Estimator", list(labels), format_func=labels.get, horizontal=True,
                  index=list(labels).index(saved_method), key="w_method")
if method != saved_method:
    st.session_state.method = method
    state.persist()

with st.spinner("Estimating the decomposition (cached after the first time)..."):
    try:
        result = cache.audit(st.session_state.data_id, state.kinds_json(), state.excluded(), state.roles_json(roles),
                             method, state.root())
    except InputError as err:
        text.error(err)
        st.stop()
decomposition = Decomposition.from_dict(result)

st.caption(f"X = {md(roles.x)}: {md(roles.x1)} (x1) compared with {md(roles.x0)} (x0); "
           f"Y = {md(roles.y)}. n = {decomposition.n:,} ({decomposition.n0:,} vs {decomposition.n1:,}).")
for note in decomposition.warnings:
    text.warning(note)
direct_note = direct_effect_warning(state.graph(), decomposition)
if direct_note:  # the graph omits X -> Y, yet the direct effect's interval excludes 0
    text.warning(direct_note[:1].upper() + direct_note[1:])

st.plotly_chart(effects_bar({"real": decomposition}), width="stretch", key="audit_chart")
st.caption(f"{md(SIGN_NOTE)} Here x1 = {md(roles.x1)} and x0 = {md(roles.x0)}; bars carry 95% intervals, and "
           f"the sentences and the table below use the same signs.")

st.subheader("In plain words")
for effect, text in explain_roles(decomposition, roles).items():
    st.markdown(f"- **{md(CONTRIBUTION_LABELS[effect])}**: {md(text)}")
st.caption("Direct: X's effect on Y not through the mediators; indirect: through the mediators W; "
           "spurious: through the confounders Z, not caused by X.")

frame = contributions(decomposition) * 100
frame.index = [CONTRIBUTION_LABELS[e] for e in frame.index]
frame.columns = ["estimate (pp)", "std. error (pp)", "95% CI low (pp)", "95% CI high (pp)"]
st.dataframe(frame.round(2), width="stretch")
nav.next_step("generate", "Next: generate synthetic data")
