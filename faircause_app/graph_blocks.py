"""Step 2's blocks for columns that are not causes and for a graph checked against the data.

The column marks (fixed, recorded after the outcome, excluded) default to the engine's
suggestions, each shown with its one-line reason; a saved graph is fitted to the marks
(excluded columns dropped); the editor tells found from assumed edges; and every pathway
edge the graph omits is tested on the data, with a one-click fix for a contradicted one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import streamlit as st

from faircause_app import cache, editor, state, text
from faircause_app.text import label, md
from faircause_core.causal.backbone import apply_marks, backbone_associations, backbone_edges, marks_changed
from faircause_core.causal.graph import CausalGraph
from faircause_core.causal.knowledge import BackgroundKnowledge, check_column_marks
from faircause_core.causal.suggest import Suggestion, worth_checking
from faircause_core.errors import InputError

MARKS = ("fixed", "after_outcome", "exclude")
MARK_LABELS = {
    "fixed": "Baseline columns fixed before everything else (nothing can cause them; e.g. age, race)",
    "after_outcome": "Recorded after the outcome (follow-up time, survival, cause of death: generated after Y, "
                     "never a cause)",
    "exclude": "Excluded (left out entirely)",
}
SHORT = {"fixed": "fixed baseline column", "after_outcome": "recorded after the outcome"}


@dataclass(frozen=True)
class Marks:
    """The user's column marks for the current question, and whether they agree with each other."""

    fixed: tuple = ()
    after_outcome: tuple = ()
    exclude: tuple = ()
    valid: bool = True


def mark_defaults(found: list, options: list[str], question: list[str]) -> dict[str, list[str]]:
    """What each multiselect starts with: the saved marks when they were chosen for this X and Y,
    else the suggestions (excluded columns are kept: they do not depend on the question)."""
    ss = st.session_state
    if ss.get("marks_for") == question:
        return {m: [c for c in (ss.get(m) or []) if c in options] for m in MARKS}
    exclude = [c for c in (ss.get("exclude") or []) if c in options]
    out = {m: [c for c, mark, _, firm in found if mark == m and firm and c in options and c not in exclude]
           for m in ("fixed", "after_outcome")}
    return {**out, "exclude": exclude}


def marks_form(tab, problem) -> Marks:
    """Three multiselects (fixed, after the outcome, excluded), pre-selected from suggest_marks,
    the suggestions with their reasons, and the marks' one-line error when they contradict."""
    names = tab.schema.names
    x, y = problem.x, problem.y
    options = [n for n in names if n not in (x, y)]
    try:
        found = cache.suggestions(st.session_state.data_id, state.kinds_json(), x, y, problem.threshold, state.root())
    except InputError as err:
        text.error(err)
        found = []
    defaults = mark_defaults(found, options, [x, y])
    chosen = {}
    for column, mark in zip(st.columns(3), MARKS):
        chosen[mark] = column.multiselect(MARK_LABELS[mark], options, default=defaults[mark], key=f"w_{mark}_{x}_{y}")
        state.keep(mark, chosen[mark])
    state.keep("marks_for", [x, y])
    if any(firm for *_, firm in found):
        lines = [f"- {md(c)}: {SHORT[mark]}, because {md(reason)}" for c, mark, reason, firm in found if firm]
        st.markdown("**Suggested because...**\n" + "\n".join(lines))
    try:
        checks = cache.leaves_to_check(st.session_state.data_id, state.kinds_json(), x, y, tuple(chosen["fixed"]),
                                       tuple(chosen["after_outcome"]), state.root())
    except InputError:
        checks = []
    # suggest.worth_checking: a not-firm name or leakage suggestion first, the weak discovery hint last
    offered = worth_checking([Suggestion(c, mark, reason, firm) for c, mark, reason, firm in found],
                             [Suggestion(c, "after_outcome", why, firm=False, rule="discovery") for c, why in checks],
                             chosen)
    checks = [(s.column, s.reason) for s in offered]
    if checks:
        st.caption("Worth checking (not pre-selected):\n" + "\n".join(f"- {md(c)}: {md(why)}" for c, why in checks))
    try:
        check_column_marks(names, x, y, chosen["fixed"], chosen["after_outcome"], chosen["exclude"])
        valid = True
    except InputError as err:
        text.error(err)
        valid = False
    return Marks(*(tuple(chosen[m]) for m in MARKS), valid)


def fit_graph(g: CausalGraph, tab, marks: Marks, problem=None) -> CausalGraph:
    """A saved graph on the model table's columns: excluded columns dropped (said in one info
    line); a mark given or taken back since the graph was made applied to it at once
    (backbone.apply_marks: the edges the mark refuses removed, the backbone's edges for it
    added; the roles, the check and the audit follow the new graph), said in one info line
    that stays until the next change; and a warning for each edge out of a column recorded
    after the outcome that is still there."""
    dropped = [n for n in g.nodes if n in marks.exclude]
    if dropped:
        g = g.subgraph([n for n in g.nodes if n not in marks.exclude])
        st.info(f"Left out of the graph because they are excluded: {md(', '.join(dropped))}.")
    g = editor.on_columns(g, tab.schema.names)
    g = _apply_new_marks(g, marks, problem)
    after = [c for c in marks.after_outcome if c in g.nodes]
    for line in BackgroundKnowledge(after_outcome=after).violations(g):
        text.warning(line)
    return g


def _apply_new_marks(g: CausalGraph, marks: Marks, problem) -> CausalGraph:
    """The graph with the marks changed since it was made or last fitted applied (state key
    graph_marks: the marks the graph agrees with; a graph from before this key, or imported,
    takes the marks in force as its own without a change)."""
    ss = st.session_state
    now = {"fixed": list(marks.fixed), "after_outcome": list(marks.after_outcome)}
    changed = marks_changed(ss.get("graph_marks"), marks.fixed, marks.after_outcome)
    if problem is not None and marks.valid and changed and problem.x in g.nodes and problem.y in g.nodes:
        try:
            change = apply_marks(g, problem.x, problem.y, [c for c in marks.fixed if c in g.nodes],
                                 [c for c in marks.after_outcome if c in g.nodes], columns=changed)
        except InputError as err:
            text.error(err)
            return g
        if change.changed:
            ss.mark_changes = {"graph": change.graph.to_json(), "lines": change.lines(), "columns": changed}
            g = change.graph
    if ss.get("graph_marks") != now and (marks.valid or ss.get("graph_marks") is None):
        state.keep("graph_marks", now)
    kept = ss.get("mark_changes")
    if kept and kept["graph"] == g.to_json():
        st.info(f"The marks of {md(', '.join(kept['columns']))} were applied to the graph: "
                f"{md('; '.join(kept['lines']))}. The roles below, the graph check and the audit follow it.")
    return g


def editor_state(g: CausalGraph, r, problem, marks: Marks, found_only: bool = False):
    """The editor's content with each edge drawn by its origin (found, assumed, drawn), newer
    than the editor's last value so the editor takes it in place; with `found_only`, without
    the assumed edges."""
    try:
        cols = (g.nodes, problem.x, problem.y, [c for c in marks.fixed if c in g.nodes],
                [c for c in marks.after_outcome if c in g.nodes])
        backbone = backbone_edges(*cols) + backbone_associations(*cols)
    except InputError:
        backbone = []
    return editor.build_state(g, r, editor.edge_origins(g, state.found(), backbone),
                              after=st.session_state.get("flow_seen", 0), found_only=found_only)


FOUND_ONLY = "Show only edges found in the data"


def editor_view(g: CausalGraph, r, problem, marks: Marks):
    """The editor's content for this run, with the "found in the data only" toggle above it (after a
    discovery) and how many assumed edges that view hides. The content is rebuilt when the graph
    changed (state.set_graph drops it) or the toggle did. The toggle's row is always drawn, so the
    editor below keeps its place and is not reloaded."""
    ss = st.session_state
    toggle, said = st.columns([2, 3], vertical_alignment="center")
    found_only = toggle.toggle(FOUND_ONLY, key="w_found_only", disabled=state.found() is None,
                               help="Hide the edges assumed by the standard fairness model (dashed), to follow "
                                    "what the search found. Edits here keep the hidden edges.")
    found_only = bool(found_only and state.found() is not None)
    if "flow_state" not in ss or ss.get("flow_found_only", False) != found_only:
        ss.flow_state = editor_state(g, r, problem, marks, found_only)
        ss.flow_found_only = found_only
    if found_only:
        said.caption(hidden_line(g, getattr(ss.flow_state, "hidden", []), len(ss.flow_state.edges)))
    return ss.flow_state


def hidden_line(g: CausalGraph, hidden, shown: int) -> str:
    """What the found-only view leaves out, e.g. "38 assumed edges and 2 assumed associations
    hidden; 12 shown." (associations with X: the backbone's z - X, not found by the search)."""
    def count(n, what):
        return f"{n} assumed {what}{'s' if n != 1 else ''}"

    links = sum(1 for e in hidden if tuple(e) in set(g.associations))
    said = count(len(hidden) - links, "edge") + (f" and {count(links, 'association')}" if links else "")
    return f"{said} hidden; {shown} shown."


def editor_edit(g: CausalGraph, given, returned, problem, marks: Marks) -> None:
    """Take the editor's edits: a changed graph is kept (the editor then gets it back rebuilt, with
    its new roles' colours); a refused edge is named and the editor gets the graph back without
    it. The refusal stays on screen until the next action (`editor_messages`)."""
    ss = st.session_state
    ss.flow_seen = max(ss.get("flow_seen", 0), returned.timestamp)
    if editor.acted(given, returned):
        ss.pop("flow_messages", None)
    if not editor.fresh(given, returned):
        return
    in_editor = editor.with_hidden(given, [(e.source, e.target) for e in returned.edges])  # hidden: not deleted
    base, pairs, refused = editor.editor_associations(g, in_editor)
    edited = editor.apply_editor_edges(base, pairs, editor.mark_rule(
        g.nodes, problem.x, problem.y, marks.fixed, marks.after_outcome))
    if edited is None and base == g and not refused:
        return
    new, lines = edited if edited is not None else (base, [])
    lines = refused + lines
    ss.flow_messages = {"graph": new.to_json(), "lines": lines}
    if new != g:
        state.set_graph(new)
    else:
        ss.pop("flow_state", None)
    st.rerun()


def editor_messages(g: CausalGraph, where) -> None:
    """The last edit's refusals, while the graph is the one they were made on."""
    kept = st.session_state.get("flow_messages")
    for line in kept["lines"] if kept and kept["graph"] == g.to_json() else []:
        text.error(line, where)


def edge_legend() -> None:
    if state.found() is not None:
        st.caption(editor.EDGE_LEGEND)
    else:
        st.caption("No discovery has run on this data, so every edge is drawn solid: found and assumed edges "
                   "cannot be told apart.")


def check_verdict(found: list, tested: list) -> tuple[str, str]:
    """(kind, line) of the graph check when nothing is contradicted: "success" (green) only when
    something was tested; with nothing tested, "info" (neutral) saying there was nothing to test."""
    if tested:
        return "success", f"The data contradicts none of the graph's omitted pathway edges ({len(tested)} checked)."
    why = ("the graph keeps every pathway edge, so it claims no independence the data could contradict"
           if not found else "none of the pathway edges the graph omits could be tested on these data")
    return "info", f"Nothing to test: {why}."


def graph_check(g: CausalGraph) -> None:
    """Each omitted pathway edge the data contradicts, in plain words, with a button that adds it
    through the editor's own path (state.edit_graph, which refuses a cycle)."""
    try:
        with st.spinner("Checking the graph against the data..."):
            found = cache.graph_check(st.session_state.data_id, state.kinds_json(), state.excluded(), g.to_json(),
                                      json.dumps(st.session_state.get("problem"), sort_keys=True), state.root())
    except InputError as err:
        text.error(err)
        return
    hits = [i for i in found if i["contradicted"]]
    tested = [i for i in found if i["p_value"] is not None]
    for imp in hits:
        a, b = imp["edge"]
        said, button = st.columns([4, 1])
        text.warning(imp["sentence"][:1].upper() + imp["sentence"][1:], said)
        if button.button(f"Add the edge {label(a)} -> {label(b)}", key=f"w_fix_{a}_{b}"):
            state.edit_graph(lambda a=a, b=b: g.add_edge(a, b))
    if not hits:
        kind, line = check_verdict(found, tested)
        (st.success if kind == "success" else st.info)(line, icon=None if kind == "success" else ":material/info:")
    for imp in found:
        if imp["p_value"] is None:
            st.caption(md(imp["sentence"]))
    st.caption("Each edge of the standard fairness model that the graph leaves out claims an independence; it is "
               "tested with a likelihood-ratio test of nested models, Holm-adjusted over the checks.")
