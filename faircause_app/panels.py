"""Drawing blocks too long for a page, one piece each, so a page reads as its outline.

Step 2: the fairness question form and the row of graph sources (discover, reset, empty,
import); the column marks and the graph check are in graph_blocks. Step 4: the progress of
the background job. Step 5: the fairness, fidelity, utility-and-privacy and downloads tabs
of a run.
"""

from __future__ import annotations

import json
import time

import pandas as pd
import streamlit as st

from faircause_app import cache, editor, jobs, nav, state, text
from faircause_app.text import label, md
from faircause_core.causal.graph import CausalGraph
from faircause_core.causal import question as question_rules
from faircause_core.causal.question import MAX_LABEL, FairnessProblem, validate_problem
from faircause_core.errors import InputError
from faircause_core.io.export import graph_json_bytes, json_bytes, safe_filename, to_csv_bytes
from faircause_core.present import plots
from faircause_core.present.explain import (OWN_EFFECTS_NOTE, SYMBOL_HELP, TARGET_LABEL, effect_sources,
                                           effects_title, own_effects_rows,
                                           fair_predictor_lines, fair_predictor_notes, is_mirror, question_line,
                                           heatmap_note, known_edit, outcome_rate_lines, rule_rows, rules_warning,
                                           run_why_two_real, searched_note)
from faircause_core.present.report import build_report, rounds_verdict


#: The placeholder of a box for a group's words: an example of what to type, never a guess
#: at what a code means ("e.g. men" sat in the box for sex = Female, and for male = 0).
GROUP_HINT = "e.g. the group's name"
OUTCOME_HINT = "e.g. what this value means"


def _index(options, value, default=0):
    return options.index(value) if value in options else default


def _proposed(rule, tab, options: list[str]) -> int:
    """The index among `options` of the column `rule` (a causal.question default) proposes, else 0
    (the table's distinct counts read once: cache.distinct_counts)."""
    best = rule(tab.df, options, counts=cache.distinct_counts(tab))
    return options.index(best) if best in options else 0


def default_outcome(tab, options: list[str]) -> int:
    """question.default_outcome's index (a two-valued column named like an outcome, else the
    last two-valued one, never an obvious exposure), else 0."""
    return _proposed(question_rules.default_outcome, tab, options)


def default_sensitive(tab, options: list[str]) -> int:
    """question.default_sensitive's index (a column named like a protected attribute with a few
    groups, else the first two-valued one), else 0."""
    return _proposed(question_rules.default_sensitive, tab, options)


def _rule_positive(tab, y: str) -> str | None:
    """The value the coding rule counts as 1 (the select box's default), as text."""
    from faircause_core.causal.question import Outcome
    from faircause_core.io.schema import plain_value

    try:
        return str(plain_value(Outcome.resolve(tab.df[y]).positive))
    except InputError:
        return None


def groups(tab, col: str) -> list[str]:
    """The values of X offered as groups, as text (categories, else up to 50 seen values)."""
    cs = tab.schema[col]
    if cs.categories:
        return [str(v) for v in cs.categories]
    return sorted({str(v) for v in tab.df[col].dropna().unique()})[:50]


def _label_inputs(column: str, values: list[str], saved: dict, where, hints: tuple) -> dict:
    """A text box per value: the words every sentence, chart and report says for it."""
    out = {}
    for value, box, hint in zip(dict.fromkeys(values), where, hints):  # x0 = x1 (refused below): one box
        out[value] = box.text_input(f"Words for {label(column)} = {label(value)}", value=saved.get(value, ""),
                                    key=f"w_lab_{column}_{value}", max_chars=MAX_LABEL, placeholder=hint,
                                    help=f"Optional. Without words, a number reads '{md(f'{column} = {value}')}' "
                                         "and text as it is.")
    return {v: w.strip() for v, w in out.items() if w.strip()}


def question_form(tab) -> tuple[FairnessProblem, bool]:
    """X, its two groups and Y (with a threshold for a numeric Y), and the words for their
    values; the column marks follow (graph_blocks.marks_form).

    Keeps the choice in session (and session.json); returns (problem, valid), showing the
    problem's warnings, or its one-line error when it is not valid.
    """
    names = tab.schema.names
    saved = st.session_state.get("problem") or {}
    c1, c2, c3 = st.columns(3)
    x = c1.selectbox("Sensitive attribute (X)", names, index=_index(names, saved.get("x"), default_sensitive(tab, names)),
                     key="w_x")
    options = groups(tab, x)
    x0 = c2.selectbox("Baseline group", options, index=_index(options, saved.get("x0")), key=f"w_x0_{x}",
                      help="The group the other is compared with (x0 in the method's symbols).")
    x1 = c3.selectbox("Comparison group", options,
                      index=_index(options, saved.get("x1"), 1 if len(options) > 1 else 0), key=f"w_x1_{x}",
                      help="The group compared with the baseline (x1 in the method's symbols).")
    saved_labels = saved.get("labels") or {}
    same_x, same_y = saved.get("x") == x, saved.get("y")
    _, l2, l3 = st.columns(3)
    x_words = _label_inputs(x, [x0, x1], saved_labels.get("x") or {} if same_x else {}, (l2, l3),
                            (GROUP_HINT, GROUP_HINT))
    c4, c5 = st.columns(2)
    y_options = [n for n in names if n != x]
    y = c4.selectbox("Outcome (Y)", y_options, index=_index(y_options, saved.get("y"), default_outcome(tab, y_options)),
                     key="w_y")
    threshold, positive, y_words = None, None, {}
    if tab.schema[y].is_numeric and tab.df[y].nunique() > 2:
        cs = tab.schema[y]
        threshold = c5.number_input(f"Count {label(y)} as 'yes' when it is at least", value=float(
            saved.get("threshold") if saved.get("threshold") is not None else tab.df[y].median()),
            min_value=float(cs.minimum), max_value=float(cs.maximum), key=f"w_thr_{y}")
        c5.caption(f"Share at or above: {(tab.df[y] >= threshold).mean():.1%}")
    elif len(values := groups(tab, y)) == 2:
        rule = _rule_positive(tab, y)
        positive = c5.selectbox(f"Which value of {label(y)} counts as the outcome (Y = 1)?", values,
                                index=_index(values, saved.get("positive"), _index(values, rule)), key=f"w_pos_{y}")
        first = [positive] + [v for v in values if v != positive]
        l4, l5 = st.columns(2)
        y_words = _label_inputs(y, first, saved_labels.get("y") or {} if same_y == y else {}, (l4, l5),
                                (OUTCOME_HINT, OUTCOME_HINT))
    labels = {"x": x_words, "y": y_words}
    problem = FairnessProblem(x, x0, x1, y, threshold, positive, labels)
    try:
        for note in validate_problem(tab, problem):
            text.warning(note)
        valid = True
    except InputError as err:
        text.error(err)
        valid = False
    if valid:
        q = problem.resolve(tab)
        st.caption(f"Y = 1 means {md(q.outcome_label)}. Comparing {md(q.name1)} with {md(q.name0)}.")
    state.keep("problem", {"x": x, "x0": x0, "x1": x1, "y": y, "threshold": threshold, "positive": positive,
                           "labels": labels})
    return problem, valid


def graph_sources(tab, problem: FairnessProblem, valid: bool, marks, all_names) -> None:
    """Where a graph comes from: discovery (cached, with the column marks), the discovered one
    again, empty, or a JSON file (over all columns: excluded ones are dropped afterwards)."""
    b1, b2, b3, b4 = st.columns(4)
    if b1.button("Discover the graph from the data", type="primary", disabled=not valid, key="w_discover"):
        with st.spinner("Searching for a causal graph that fits the data and your tiers..."):
            try:
                state.set_discovered(cache.discover(st.session_state.data_id, state.kinds_json(), problem.x,
                                                    problem.y, marks.fixed, marks.after_outcome, marks.exclude,
                                                    state.root()))
            except InputError as err:
                text.error(err)
    searched = st.session_state.get("searched_rows")
    if searched and st.session_state.get("discovered") and searched < tab.n_rows:  # issue 22: stated sizes
        st.caption(searched_note(searched, tab.n_rows))
    if b2.button("Reset to discovered", disabled=not st.session_state.get("discovered"), key="w_reset"):
        state.set_graph(CausalGraph.from_dict(st.session_state.discovered))
    if b3.button("Start from an empty graph", key="w_empty"):
        state.set_graph(CausalGraph(tab.schema.names, []))
    with b4.popover("Import DAG JSON"):
        dag_file = st.file_uploader("DAG JSON", type=["json"], key="w_dag_upload")
        if dag_file is not None and st.session_state.get("_dag_seen") != dag_file.file_id:
            st.session_state._dag_seen = dag_file.file_id
            try:
                g = editor.imported(dag_file.getvalue(), dag_file.name, all_names, tab.name)
                state.set_graph(g)
                st.success(f"Imported {len(g.edges)} edges from {md(dag_file.name)}.")
            except InputError as err:
                text.error(err)


# ------------------------------------------------------------------------- step 4

def model_folder(choice: str, saved_dir: str) -> str | None:
    """The language model folder a generator choice uses: FAIRCAUSE_MODEL_DIR's (said), or the
    user's own, checked at once (one error line, and None, for an unusable folder)."""
    model_dir = jobs.model_dir_from_env() if choice in ("llm", "prompt") else None
    if model_dir:
        st.caption(f"Language model folder from FAIRCAUSE_MODEL_DIR: {md(model_dir)}")
    if choice != "own":
        return model_dir
    typed = st.text_input("Model folder (a Hugging Face causal LM with safetensors weights)",
                          key="w_model_dir", value=saved_dir)
    model_dir = typed.strip() or None
    if model_dir:
        from faircause_core.generators.lm.store import check_model_folder

        try:
            check_model_folder(model_dir)
            st.success("Model folder looks usable.")
        except InputError as err:
            text.error(err)
            model_dir = None
    return model_dir



def job_progress() -> None:
    """Polls this session's background job: one bar and ETA for the whole run, "cancelling..."
    from the press of Cancel until the job stops; hands over to the whole page once at its end."""
    job = jobs.current_job(state.root(), state.session_id())
    other = job is not None and job.owner != state.owner()  # started for another data set or question
    if job is None or (other and job.status != "running"):
        st.caption("No generation started yet for this data set and question in this browser session.")
        return
    if other:
        st.info(f"Still running from another data set or question: {md(job.label)}. It is saved to the run list "
                "when it ends; cancel it here to start one for this data set.")
    if job.status == "running":
        st.progress(job.fraction(), text=f"{job.fraction():.0%} of the whole run, {job.eta()}")
        st.caption(f"Running {md(job.label)} for {time.time() - job.started:.0f} s. Now: {md(job.stage)}.")
        if not job.cancelling and st.button("Cancel", key="w_cancel"):
            job.cancel()
        if job.cancelling:
            st.warning(f"cancelling... (pressed {time.time() - job.cancel_pressed:.0f} s ago; "
                       "the run stops at its next check, within a few seconds)")
        return
    if st.session_state.get("_job_seen") != job.job_id:  # first look at the ended job: stop polling
        st.session_state._job_seen = job.job_id
        if job.status == "done":
            st.session_state.run_id = job.run_id
            state.persist()
        st.rerun(scope="app")
    if job.status == "done":
        st.success(f"Finished in {job.ended_at() - job.started:.0f} s and saved as run {md(job.run_id)}.")
        if job.fit_reused:
            st.info("This run reused the fitted model of an earlier run with the same data, graph and "
                    "training settings, so training was skipped; only sampling and measuring ran again.")
        nav.next_step("compare", "Next: compare real and synthetic data")
    elif job.status == "cancelled":
        took = f" It stopped {job.ended_at() - job.cancel_pressed:.1f} s after Cancel." if job.cancel_pressed else ""
        st.info(f"The last generation was cancelled; nothing was saved.{took}")
    else:
        text.error(job.error)


def interrupted_runs() -> None:
    """Runs a crash or a killed server interrupted: said once each, with a button to forget them."""
    from faircause_core.workflow import workspace

    for run in workspace.interrupted_runs(root=state.root())[:5]:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run["started"])) if run["started"] else "earlier"
        c1, c2 = st.columns([5, 1])
        c1.warning(f"A generation started {when} ({md(run['name'] or run['run_id'])}) was interrupted: the "
                   "server stopped while it ran. Nothing of it was saved; earlier runs are intact.")
        if c2.button("Dismiss", key=f"w_dismiss_{run['run_id']}"):
            workspace.dismiss_interrupted(run["run_id"], root=state.root())
            st.rerun()


# ----------------------------------------------------------------------------- step 5 tabs

def fairness_tab(result, roles=None) -> None:
    """Effects of real, synthetic and target side by side (groups named in the run's words
    when its roles are given), then the refinement rounds."""
    sources = effect_sources(result)  # the real data (all rows, step 3's numbers) first, then the fitting split
    if roles is not None:
        st.caption(md(question_line(roles)), help=SYMBOL_HELP)
    st.plotly_chart(plots.effects_bar(sources, **({"title": effects_title(roles)} if roles is not None else {})),
                    width="stretch", key="cmp_effects")
    real_data_caption(result)
    own = own_effects_rows(result)
    if own:
        with st.expander("The generator's own effects beside the audit of its rows"):
            st.dataframe(pd.DataFrame(own), hide_index=True, width="stretch")
            st.caption(OWN_EFFECTS_NOTE)
    if result.rounds:
        st.plotly_chart(plots.rounds_plot(result.rounds, result.decompositions().get("target")), width="stretch",
                        key="cmp_rounds")
        n_measured = (result.rounds[-1].get("decomposition") or {}).get("n")
        sample = f" on a generator sample of {n_measured:,} rows" if n_measured else ""
        st.caption(f"{md(rounds_verdict(result))} Each round is measured{sample}, then the delivered rows are a "
                   f"fresh draw. A point inside its shaded band is within tolerance; the band is the tolerance "
                   f"widened by that round's measurement noise.")
    if result.alphas_used:
        st.caption("Alphas used (share of each pathway removed): " + ", ".join(
            f"{p.upper()} {a:.2f}" for p, a in result.alphas_used.items()))
    for pathway, why in (result.frozen or {}).items():
        st.info(f"{pathway.upper()} cannot be edited: {md(why)}")


def real_data_caption(result) -> None:
    """What each bar of the effects chart is and which rows the real data is (the page says
    why it and the generator's target differ: why_two_real_note)."""
    sources = effect_sources(result)
    first = next(iter(sources))
    if first.startswith("real data"):
        said = f"{first}: the audit of every real row, as step 3 shows it (doubly robust estimator)."
    else:  # saved before runs recorded the audit of all rows
        said = f"{first}: this run records no audit of all the real rows; step 3 shows it."
    target = (f" {TARGET_LABEL[:1].upper() + TARGET_LABEL[1:]}: what the chosen edits ask of the fitting split "
              "(0 = pathway removed)." if TARGET_LABEL in sources else "")
    st.caption(f"{md(said)} Synthetic: the delivered rows; intervals are wide on a small sample.{md(target)}")


def why_two_real_note(result) -> None:
    """The one line saying why the real data and the generator's target differ (none when a
    run shows one set of real rows)."""
    why = run_why_two_real(result)
    if why:
        st.caption(md(why))


def fidelity_tab(run_id: str, run: dict) -> None:
    """Quality scores, one column's distributions and the association heatmaps."""
    result = run["result"]
    fid = result.metrics.get("fidelity") or {}
    if fid:
        st.plotly_chart(plots.quality_bars(fid.get("columns", []), fid.get("shape"), fid.get("trend"),
                                           fid.get("quality")), width="stretch", key="cmp_quality")
        for line in outcome_rate_lines(result.metrics.get("outcome"), known_edit(result.settings), run["roles"]):
            st.caption(md(line[:1].upper() + line[1:]))
        if said := rules_warning(fid):
            text.warning(said)
        if rows := rule_rows(fid):
            st.markdown("**Rules every real row keeps**, and the synthetic rows that break them")
            st.dataframe(pd.DataFrame(rows), hide_index=True)
    if not run.get("data_id"):
        return
    kinds = json.dumps(run.get("kinds") or {}, sort_keys=True)
    try:
        real = cache.real_frame(run["data_id"], kinds, state.root())
        cols = [c for c in result.synthetic.columns if c in real.columns]
        col = st.selectbox("Column", cols, key="w_cmp_col")
        numeric = pd.api.types.is_numeric_dtype(real[col]) and real[col].nunique() > 12
        st.plotly_chart(plots.distribution_overlay(real[col], result.synthetic[col], col, numeric),
                        width="stretch", key="cmp_dist")
        real_m, synth_m = cache.associations(run_id, run["data_id"], kinds, state.root())
        st.plotly_chart(plots.correlation_heatmaps(real_m, synth_m), width="stretch", key="cmp_heat")
        sampled = heatmap_note(len(real), len(result.synthetic))
        if sampled:
            st.caption(md(sampled))
    except InputError as err:
        text.error(err)


def utility_tab(result) -> None:
    """TRTR against TSTR, the fair predictor's direct effect, and the DCR privacy table."""
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
        mirror = is_mirror(result.settings)
        c2.plotly_chart(plots.predictor_effects(fair, mirror), width="stretch", key="cmp_fair")
        if mirror:
            c2.caption("A mirror run (nothing removed) is its own control: a model trained on its rows should "
                       "carry about the same direct effect as one trained on the real rows.")
        for line in fair_predictor_lines(fair, mirror):
            c2.markdown(f"- {md(line)}")
        for note in fair_predictor_notes(fair, mirror):
            text.warning(note, c2)
    elif fair:
        text.warning(fair["error"], c2)
    if priv:
        from faircause_app.compare import privacy_block

        privacy_block(priv)  # readable names, yardsticks and a one-line verdict


def downloads_tab(run_id: str, run: dict) -> None:
    """The synthetic rows, the DAG, the settings and (built on request) the HTML report."""
    result, roles, graph = run["result"], run["roles"], run["graph"]
    stem = safe_filename(f"{run_id}_{result.settings.generator}")
    # written when clicked (Streamlit runs the callable on its own thread), not on every rerun of
    # the page: a million rows x 100 columns is hundreds of MB of CSV; the click reruns nothing
    st.download_button("Synthetic rows (CSV)", lambda: to_csv_bytes(result.synthetic),
                       file_name=f"{stem}_synthetic.csv", mime="text/csv", key="dl_csv", type="primary",
                       on_click="ignore")
    st.download_button("Causal graph (DAG JSON)", graph_json_bytes(graph), file_name=f"{stem}_dag.json",
                       mime="application/json", key="dl_dag")
    st.download_button("Run settings (JSON)", json_bytes({**result.settings.to_dict(), "alphas_used": result.alphas_used}),
                       file_name=f"{stem}_settings.json", mime="application/json", key="dl_settings")
    if st.button("Build the HTML report", key="w_build_report"):
        st.session_state.report_html = (run_id, build_report(result, roles, graph=graph,
                                                             data_name=f"workspace data {run.get('data_id')}"))
    rep = st.session_state.get("report_html")
    if rep and rep[0] == run_id:
        st.download_button("HTML report (self-contained)", rep[1].encode("utf-8"), file_name=f"{stem}_report.html",
                           mime="text/html", key="dl_report")
