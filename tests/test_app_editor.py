"""The DAG editor's logic without a browser: the diff of the editor's edges with the canonical
graph (cycles refused and named), the role-column layout, and the rebuilt editor content."""

from __future__ import annotations

import pytest
from streamlit_flow.state import StreamlitFlowState

from faircause_app import editor
from faircause_core.causal.graph import CausalGraph, derive_roles
from faircause_core.errors import InputError

NODES = ["age", "sex", "smoke", "death", "weight"]
EDGES = [("age", "smoke"), ("sex", "smoke"), ("smoke", "death"), ("age", "death")]


@pytest.fixture()
def graph():
    return CausalGraph(NODES, EDGES)


def test_unchanged_editor_is_no_edit(graph):
    assert editor.apply_editor_edges(graph, list(reversed(EDGES))) is None


def test_added_edge_is_accepted(graph):
    new, messages = editor.apply_editor_edges(graph, EDGES + [("sex", "weight")])
    assert messages == []
    assert set(new.edges) == set(EDGES) | {("sex", "weight")}
    assert new.nodes == graph.nodes


def test_removed_edge_is_removed(graph):
    new, messages = editor.apply_editor_edges(graph, [e for e in EDGES if e != ("age", "death")])
    assert messages == []
    assert set(new.edges) == set(EDGES) - {("age", "death")}


def test_edge_closing_a_cycle_is_refused_and_the_cycle_named(graph):
    new, messages = editor.apply_editor_edges(graph, EDGES + [("death", "age"), ("sex", "weight")])
    assert messages == ["edge death -> age refused: it would close the cycle age -> smoke -> death -> age"]
    assert set(new.edges) == set(EDGES) | {("sex", "weight")}  # the fine edge beside it is kept
    longer, messages = editor.apply_editor_edges(graph, EDGES + [("death", "sex")])
    assert messages == ["edge death -> sex refused: it would close the cycle smoke -> death -> sex -> smoke"]
    assert set(longer.edges) == set(EDGES)


def test_removals_come_before_additions(graph):
    """Reversing an edge by hand (drop smoke -> death, draw death -> smoke) is one accepted edit."""
    edges = [e for e in EDGES if e != ("smoke", "death")] + [("death", "smoke")]
    new, messages = editor.apply_editor_edges(graph, edges)
    assert messages == []
    assert set(new.edges) == set(edges)


def test_self_loop_and_unknown_column_are_refused(graph):
    new, messages = editor.apply_editor_edges(graph, EDGES + [("sex", "sex"), ("sex", "height")])
    assert messages == ["edge sex -> sex refused: not an edge between two different columns",
                        "edge sex -> height refused: not an edge between two different columns"]
    assert new == graph


def test_layout_keeps_role_columns_left_to_right_deterministically(graph):
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    boxes = editor.layout(graph, roles)
    shuffled = CausalGraph(NODES, list(reversed(EDGES)))
    assert boxes == editor.layout(graph, roles) == editor.layout(shuffled, roles)
    assert set(boxes) == set(NODES)
    x = {n: b[0] for n, b in boxes.items()}
    assert x["age"] < x["sex"] < x["smoke"] < x["death"] < x["weight"]  # Z | X | W | Y | other
    assert all(x[a] < x[b] for a, b in graph.edges)  # every edge points right


def test_layers_split_a_role_by_depth_so_no_edge_runs_inside_a_column():
    g = CausalGraph(["sex", "death", "a", "b", "c", "m1", "m2"],
                    [("sex", "m1"), ("m1", "m2"), ("m2", "death"), ("sex", "death"), ("a", "b"), ("b", "c")])
    roles = derive_roles(g, "sex", "death", x0="Male", x1="Female")
    layer = editor.layers(g, roles)
    assert layer == {"sex": 0, "m1": 1, "m2": 2, "death": 3, "a": 4, "b": 5, "c": 6}
    assert editor.layers(g, None)["c"] == 2  # no roles: every node "other", layered by depth


def _dense_graph(seed: int) -> CausalGraph:
    import random

    rng = random.Random(seed)
    names = [f"col_{i:02d}" for i in range(16)]
    g = CausalGraph(names, [(names[i], names[j]) for i in range(16) for j in range(i + 1, 16) if rng.random() < 0.22])
    return g if g.has_edge("col_03", "col_12") else g.add_edge("col_03", "col_12")


@pytest.mark.parametrize("seed", range(12))
def test_no_drawn_edge_passes_a_node_it_does_not_join(seed):
    """Issue 10 item 1 on seeded 16-column graphs: the curve React Flow draws for each edge keeps
    CLEARANCE from every other node (the browser test checks the drawn paths themselves)."""
    g = _dense_graph(seed)
    roles = derive_roles(g, "col_03", "col_12")
    assert editor.crossings(g, editor.layout(g, roles)) == []


def _width_across(g: CausalGraph, roles) -> int:
    """The narrowest layout of g across the page (the only one before rows): its layers' widths
    and the narrowest gap between them."""
    layer = editor.layers(g, roles)
    count = max(layer.values()) + 1
    return sum(max(editor.node_width(n) for n in g.nodes if layer[n] == i) for i in range(count)) \
        + min(editor.GAPS_X) * (count - 1)


@pytest.mark.parametrize("name", ["demo", "sixteen", "fifty_six"])
def test_the_first_view_fits_the_frame_at_readable_labels(name):
    """Issue 19 item 9: every node within the width the frame shows at FIT_MIN_ZOOM (labels 12 px),
    across the page (the demo) or, when its layers are too many for that, in rows down the page
    (16 and 56 columns), with no edge drawn through a node. Negative control: across the page,
    the 16-column graph's 11 layers are at least 1,727 px wide (1,485 px at 0.86 zoom in a 1,044 px
    frame: in Chromium its outcome's box began at x = 1,364 px and the last layer ended at 1,811)."""
    from pathlib import Path

    from tests.wide_graphs import fifty_six_graph, sixteen_graph

    g = {"demo": lambda: CausalGraph.from_json((Path(__file__).parents[1] / "assets" / "nhefs_dag.json").read_text()),
         "sixteen": sixteen_graph, "fifty_six": fifty_six_graph}[name]()
    roles = derive_roles(g, "sex", "death", x0="Male", x1="Female")
    boxes = editor.layout(g, roles)
    down = {b.down for b in boxes.values()}
    assert len(down) == 1 and set(boxes) == set(g.nodes)
    left, right = min(b.x for b in boxes.values()), max(b.x + b.w for b in boxes.values())
    assert left == 0 and right <= (editor.WIDTH_ROWS if down == {True} else editor.WIDTH)
    assert editor.crossings(g, boxes) == []
    if name == "demo":
        assert down == {False}  # the demo keeps its role columns across the page
        return
    assert down == {True} and _width_across(g, roles) > editor.WIDTH  # the old layout does not fit
    layer, y = editor.layers(g, roles), {n: b.y for n, b in boxes.items()}
    assert all(y[a] < y[b] for a, b in g.edges)  # every edge points down
    assert len(set(y.values())) == max(layer.values()) + 1  # one row per layer (none has too many nodes)
    most = max(list(layer.values()).count(i) for i in set(layer.values()))
    cell = editor.cell_width(g.nodes, most)
    assert {b.w for b in boxes.values()} == {cell}
    if name == "sixteen":  # two nodes at most in a layer: every label on one line
        assert cell == max(map(editor.node_width, g.nodes))
    else:  # eight: the longest label on two lines
        assert cell < max(map(editor.node_width, g.nodes)) and len({b.x for b in boxes.values()}) > 1
    assert editor.frame_height(editor.build_state(g, roles)) >= max(y.values()) + editor.NODE_H


def test_a_wide_layer_is_split_over_rows_that_fit():
    """A layer with more nodes than a row holds (12 unrelated causes of a chain) is split over
    rows, each within WIDTH_ROWS, and every edge still points down without a crossing."""
    names = [f"cause_{i:02d}" for i in range(12)] + [f"step_{i:02d}" for i in range(12)]
    edges = [(c, f"step_{i % 4:02d}") for i, c in enumerate(names[:12])] + list(zip(names[12:], names[13:]))
    g = CausalGraph(names, edges)
    boxes = editor.layout(g, None)
    assert all(b.down for b in boxes.values())
    assert max(b.x + b.w for b in boxes.values()) <= editor.WIDTH_ROWS
    per_row = (editor.WIDTH_ROWS + editor.GAP_CELL) // (editor.cell_width(names, 12) + editor.GAP_CELL)
    assert per_row < 12 and len({b.y for n, b in boxes.items() if n.startswith("cause")}) == -(-12 // per_row)
    assert all(boxes[a].y < boxes[b].y for a, b in g.edges) and editor.crossings(g, boxes) == []


def test_a_label_on_two_lines_breaks_after_an_underscore_not_inside_a_word():
    assert editor.node_label("glucose_visit_1") == "glucose&#95;visit&#95;1"
    assert editor.node_label("glucose_visit_1", breaks=True) == "glucose&#95;&#8203;visit&#95;&#8203;1"
    assert editor.node_label("<b>", breaks=True) == "&#60;b&#62;"  # still inert
    # the cell holds the wider of "glucose_" and "visit_1", not half of "glucose_visit_1" plus a letter
    assert editor.cell_width(["glucose_visit_1"], most=99) == 96 < editor.node_width("glucose_visit_1")


def test_the_crossing_check_finds_an_edge_through_a_node():
    g = CausalGraph(["a", "b", "c"], [("a", "c")])
    w = editor.node_width("a")
    in_line = {"a": (0, 0, w), "b": (w + editor.GAPS_X[0], 0, w), "c": (2 * (w + editor.GAPS_X[0]), 0, w)}
    assert editor.crossings(g, in_line) == [(("a", "c"), "b")]
    assert editor.crossings(g, {**in_line, "b": (w + editor.GAPS_X[0], 200, w)}) == []


def test_a_refused_reversal_keeps_the_edge(graph):
    """The edge menu's Reverse Edge sends b -> a in place of a -> b; if b -> a is refused the edge
    stays as it was instead of vanishing."""
    rule = editor.mark_rule(graph.nodes, "sex", "death", fixed=("age",))
    edges = [e for e in EDGES if e != ("age", "smoke")] + [("smoke", "age")]
    new, messages = editor.apply_editor_edges(graph, edges, rule)
    assert new.has_edge("age", "smoke") and not new.has_edge("smoke", "age") and len(messages) == 1


def test_a_stale_editor_value_is_not_an_action(graph):
    given = editor.build_state(graph, None)
    old = StreamlitFlowState(nodes=given.nodes, edges=given.edges[:1], timestamp=given.timestamp - 5)
    assert not editor.fresh(given, old) and not editor.acted(given, old)
    echo = StreamlitFlowState(nodes=given.nodes, edges=given.edges, timestamp=given.timestamp + 5)
    assert editor.fresh(given, echo) and not editor.acted(given, echo)
    clicked = StreamlitFlowState(nodes=given.nodes, edges=given.edges, selected_id="smoke->death",
                                 timestamp=given.timestamp + 9)
    assert editor.acted(given, clicked)
    assert editor.build_state(graph, None, after=given.timestamp + 10 ** 6).timestamp > given.timestamp + 10 ** 6


def test_rebuilt_editor_matches_the_graph(graph):
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    state = editor.build_state(graph, roles)
    assert {n.id for n in state.nodes} == set(NODES)
    assert [(e.source, e.target) for e in state.edges] == list(graph.edges)
    assert all(e.id == f"{e.source}->{e.target}" and e.marker_end["type"] == "arrowclosed" for e in state.edges)
    assert {n.id: tuple(n.position.values()) for n in state.nodes} == {
        n: (b.x, b.y) for n, b in editor.layout(graph, roles).items()}
    colours = {n.id: n.style["background"] for n in state.nodes}
    assert colours["sex"] != colours["death"] != colours["weight"]


def test_selected_edge(graph):
    state = editor.build_state(graph, None)
    assert editor.selected_edge(state) is None
    picked = StreamlitFlowState(nodes=state.nodes, edges=state.edges, selected_id="smoke->death")
    assert editor.selected_edge(picked) == ("smoke", "death")


def test_saved_graph_fitted_to_the_columns(graph):
    assert editor.on_columns(graph, NODES) is graph
    fitted = editor.on_columns(graph, ["age", "sex", "death", "bmi"])
    assert fitted.nodes == ("age", "sex", "death", "bmi") and set(fitted.edges) == {("age", "death")}


def test_imported_dag_must_use_the_table_columns(graph):
    g = editor.imported(graph.to_json().encode(), "dag.json", NODES + ["bmi"], "cohort.csv")
    assert g.nodes == tuple(NODES + ["bmi"]) and set(g.edges) == set(EDGES)
    with pytest.raises(InputError, match="dag.json: node 'weight' is not a column of cohort.csv"):
        editor.imported(graph.to_json().encode(), "dag.json", ["age", "sex", "smoke", "death"], "cohort.csv")


def test_edge_origins_tell_found_assumed_and_drawn_edges_apart(graph):
    """After edits: edges the search found are solid, backbone edges it did not find dashed,
    the user's own edges neither; with no search run there is nothing to tell."""
    found = CausalGraph(NODES, [("age", "smoke"), ("smoke", "death")])
    backbone = [("sex", "smoke"), ("age", "death"), ("sex", "death")]
    edited = graph.add_edge("sex", "weight").remove_edge("smoke", "death")
    origins = editor.edge_origins(edited, found, backbone)
    assert origins == {("age", "smoke"): "found", ("sex", "smoke"): "assumed", ("age", "death"): "assumed",
                       ("sex", "weight"): "drawn"}
    assert editor.edge_origins(edited, None, backbone) == {}
    styles = {(e.source, e.target): e.style for e in
              editor.build_state(edited, derive_roles(edited, "sex", "death"), origins).edges}
    assert styles[("sex", "smoke")]["strokeDasharray"] and "strokeDasharray" not in styles[("age", "smoke")]
    assert styles[("sex", "weight")] == editor.EDGE_STYLES["drawn"] != editor.EDGE_STYLES["found"]
    plain = editor.build_state(edited, None).edges
    assert all(e.style == editor.EDGE_STYLES["found"] for e in plain)


def test_an_edge_into_a_fixed_column_or_out_of_an_after_outcome_column_is_refused_with_its_reason():
    """Issue 10 item 5: refused like a cycle, with the reason, instead of accepted silently."""
    from faircause_app import editor
    from faircause_core.causal.graph import CausalGraph

    g = CausalGraph(["age", "sex", "bp", "death", "futime"], [("age", "sex"), ("sex", "death")])
    rule = editor.mark_rule(g.nodes, "sex", "death", fixed=("age",), after_outcome=("futime",))
    new, messages = editor.apply_editor_edges(
        g, list(g.edges) + [("bp", "age"), ("futime", "bp"), ("bp", "death"), ("death", "futime")], rule)
    assert set(new.edges) == {("age", "sex"), ("sex", "death"), ("bp", "death"), ("death", "futime")}
    assert messages == ["edge bp -> age refused: 'age' is fixed (a baseline column), so 'bp' cannot cause it",
                        "edge futime -> bp refused: 'futime' is recorded after the outcome, so it cannot cause 'bp'"]
    assert editor.apply_editor_edges(g, list(g.edges) + [("bp", "age")])[1] == []  # no marks: no refusal


# ------------------------------------------------------------ associations (issue 20 item 3)

def test_an_association_is_drawn_dashed_without_an_arrowhead_with_its_reason(graph):
    g = graph.add_association("age", "sex")
    state = editor.build_state(g, derive_roles(g, "sex", "death"))
    assoc = next(e for e in state.edges if (e.source, e.target) == ("age", "sex"))
    assert assoc.marker_end == "" and assoc.marker_start == "" and "strokeDasharray" in assoc.style
    d = assoc.asdict()
    assert d["className"].split()[0] == editor.ASSOCIATION_CLASS and "nothing in the table causing sex" in d["ariaLabel"]
    arrows = [e for e in state.edges if (e.source, e.target) != ("age", "sex")]
    assert all(e.marker_end["type"] == "arrowclosed" and "ariaLabel" not in e.asdict() for e in arrows)


def test_the_editor_deletes_an_association_and_refuses_to_reverse_one(graph):
    g = graph.add_association("age", "sex")
    drawn = list(g.edges) + list(g.associations)
    same, pairs, msgs = editor.editor_associations(g, drawn)
    assert same == g and set(pairs) == set(g.edges) and msgs == []
    gone, pairs, msgs = editor.editor_associations(g, list(g.edges))  # deleted in the editor
    assert gone.associations == () and msgs == []
    kept, pairs, msgs = editor.editor_associations(g, list(g.edges) + [("sex", "age")])  # the menu's reversal
    assert kept.associations == (("age", "sex"),) and ("sex", "age") not in pairs
    assert msgs and "no direction to reverse" in msgs[0]
    # an edge drawn in the editor between associated columns replaces the association
    new, _ = editor.apply_editor_edges(g, list(g.edges) + [("age", "sex")])
    assert new.has_edge("age", "sex") and new.associations == ()
    # fitted and imported graphs keep their associations
    assert editor.on_columns(g, NODES + ["bmi"]).associations == (("age", "sex"),)
    assert editor.imported(g.to_json().encode(), "dag.json", NODES, "c.csv").associations == (("age", "sex"),)


# ------------------------------------------- issue 19 item 10: follow a node's edges, found-only view

def test_each_edge_is_classed_by_its_two_ends_and_the_style_sheet_fades_the_others(graph):
    """A node's edges can be told from the rest by class (indices, never names), and the patched
    style sheet has one hover and one selection rule per node index that fades the rest."""
    from faircause_app import flow

    g = graph.add_association("age", "sex")
    state = editor.build_state(g, derive_roles(g, "sex", "death"))
    index = {n: i for i, n in enumerate(g.nodes)}
    assert {n.id: n.asdict()["className"] for n in state.nodes} == {n: f"fc-n{i}" for n, i in index.items()}
    for e in state.edges:
        ends = {c for c in e.asdict()["className"].split() if c.startswith(editor.EDGE_CLASS)}
        assert ends == {f"fc-e{index[e.source]}", f"fc-e{index[e.target]}"}, e.id
    css = flow.highlight_css(3)
    assert css.endswith("{opacity:0.15}") and css.count(".react-flow__edge:not(") == 6
    assert ".react-flow:has(.fc-n2:hover) .react-flow__edge:not(.fc-e2)" in css
    assert ":has(.fc-n2.selected) .react-flow__edge:not(.fc-e2)" in css
    index_html = (flow.build_dir() / "index.html").read_text()
    assert f".fc-n{editor.LIT_NODES - 1}.selected" in index_html and "fc-n0:hover" in index_html


def test_the_found_only_view_hides_the_assumed_edges_and_keeps_the_layout(graph):
    found = CausalGraph(NODES, [("age", "smoke"), ("smoke", "death")])
    edited = graph.add_edge("sex", "weight")
    origins = editor.edge_origins(edited, found, [("sex", "smoke"), ("age", "death")])
    roles = derive_roles(edited, "sex", "death")
    whole = editor.build_state(edited, roles, origins)
    only = editor.build_state(edited, roles, origins, found_only=True)
    assert whole.hidden == [] and len(whole.edges) == len(edited.edges)
    assert set(only.hidden) == {("sex", "smoke"), ("age", "death")}  # assumed: hidden; drawn by the user: shown
    assert {(e.source, e.target) for e in only.edges} == {("age", "smoke"), ("smoke", "death"), ("sex", "weight")}
    assert [(n.id, n.position) for n in only.nodes] == [(n.id, n.position) for n in whole.nodes]
    assert editor.build_state(edited, roles, {}, found_only=True).hidden == []  # no search: nothing to hide


def test_the_found_only_view_hides_a_backbone_association_and_an_edit_there_keeps_it(graph):
    """The backbone's z - X association is assumed too (the search finds none): hidden in the
    found-only view, counted as an association, and not deleted by an edit made there."""
    from faircause_app.graph_blocks import hidden_line

    g = graph.add_association("age", "sex")
    found = CausalGraph(NODES, [("age", "smoke"), ("smoke", "death")])
    origins = editor.edge_origins(g, found, [("sex", "smoke"), ("age", "death"), ("sex", "age")])
    assert origins[("age", "sex")] == "assumed"
    assert editor.edge_origins(g, found, [("sex", "smoke")])[("age", "sex")] == "drawn"  # not the backbone's
    only = editor.build_state(g, derive_roles(g, "sex", "death"), origins, found_only=True)
    assert set(only.hidden) == {("sex", "smoke"), ("age", "death"), ("age", "sex")}
    assert ("age", "sex") not in {(e.source, e.target) for e in only.edges}
    assert hidden_line(g, only.hidden, len(only.edges)) == "2 assumed edges and 1 assumed association hidden; 2 shown."
    shown = [(e.source, e.target) for e in only.edges]
    kept, pairs, msgs = editor.editor_associations(g, editor.with_hidden(only, shown))
    assert kept == g and msgs == [] and editor.apply_editor_edges(kept, pairs) is None


def test_an_edit_in_the_found_only_view_keeps_the_hidden_edges(graph):
    """The editor returns only the edges it shows: the hidden ones are put back before the diff, so
    they are not taken as deleted; a visible edge deleted there is removed, and only it."""
    found = CausalGraph(NODES, [("age", "smoke"), ("smoke", "death")])
    origins = editor.edge_origins(graph, found, [("sex", "smoke"), ("age", "death")])
    given = editor.build_state(graph, derive_roles(graph, "sex", "death"), origins, found_only=True)
    shown = [(e.source, e.target) for e in given.edges]
    assert set(editor.apply_editor_edges(graph, shown)[0].edges) == set(found.edges)  # the diff alone would delete
    assert editor.apply_editor_edges(graph, editor.with_hidden(given, shown)) is None  # nothing changed
    new, messages = editor.apply_editor_edges(
        graph, editor.with_hidden(given, [e for e in shown if e != ("smoke", "death")] + [("sex", "weight")]))
    assert messages == [] and set(new.edges) == set(EDGES) - {("smoke", "death")} | {("sex", "weight")}
    again = editor.with_hidden(given, shown + [("age", "death")])  # a hidden edge drawn again: once
    assert sorted(again) == sorted(EDGES)
    new, messages = editor.apply_editor_edges(graph, editor.with_hidden(given, shown + [("death", "age")]))
    assert new == graph and messages and "cycle" in messages[0]  # the reverse of a hidden edge: refused
    plain = editor.build_state(graph, None)  # an unfiltered view hides nothing: a deletion is a deletion
    assert editor.with_hidden(plain, shown) == shown
