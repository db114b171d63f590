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


def test_layout_puts_roles_in_columns_deterministically(graph):
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    positions = editor.layout(graph, roles)
    shuffled = CausalGraph(NODES, list(reversed(EDGES)))
    assert positions == editor.layout(graph, roles) == editor.layout(shuffled, roles)
    assert set(positions) == set(NODES)
    assert positions["age"] == (editor.COLUMN_X["z"], 40)  # confounder
    assert positions["sex"] == (editor.COLUMN_X["x"], 40)
    assert positions["smoke"] == (editor.COLUMN_X["w"], 40)  # mediator
    assert positions["death"] == (editor.COLUMN_X["y"], 40)
    assert positions["weight"] == (editor.COLUMN_X["other"], 120)  # right of Y, one row below it


def test_other_nodes_step_right_by_depth():
    g = CausalGraph(["sex", "death", "a", "b", "c"], [("sex", "death"), ("a", "b"), ("b", "c")])
    roles = derive_roles(g, "sex", "death", x0="Male", x1="Female")
    positions = editor.layout(g, roles)
    other = editor.COLUMN_X["other"]
    assert [positions[n] for n in ("a", "b", "c")] == [
        (other, 120), (other + editor.OTHER_STEP, 120), (other + 2 * editor.OTHER_STEP, 120)]
    step = editor.OTHER_STEP  # without roles every node is "other": sub-columns by depth, rows in graph order
    assert editor.layout(g, None) == {"sex": (other, 120), "a": (other, 200), "death": (other + step, 120),
                                      "b": (other + step, 200), "c": (other + 2 * step, 120)}


def test_rebuilt_editor_matches_the_graph(graph):
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    state = editor.build_state(graph, roles)
    assert {n.id for n in state.nodes} == set(NODES)
    assert [(e.source, e.target) for e in state.edges] == list(graph.edges)
    assert all(e.id == f"{e.source}->{e.target}" and e.marker_end["type"] == "arrowclosed" for e in state.edges)
    assert {n.id: tuple(n.position.values()) for n in state.nodes} == editor.layout(graph, roles)
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
