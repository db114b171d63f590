"""The DAG editor (streamlit-flow) as plain functions: layout, and the diff of its edits.

The editor returns its whole node and edge lists. `apply_editor_edges` compares them with
the canonical graph, removes what was removed, adds what was added and refuses an edge
that would close a cycle, naming it; the page then rebuilds the editor under a new key so
a refused edge disappears and new edges get their arrowheads. Nothing here draws.
"""

from __future__ import annotations

from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
from streamlit_flow.state import StreamlitFlowState

from faircause_core.causal.backbone import assumed_edges
from faircause_core.causal.graph import CausalGraph
from faircause_core.errors import InputError
from faircause_core.present.plots import ROLE_COLORS

COLUMN_X = {"z": 0, "x": 260, "w": 520, "y": 780, "other": 1040}
OTHER_STEP = 190  # each further "other" sub-column (a child of another "other" node) sits this far right
ARROW = {"type": "arrowclosed", "width": 18, "height": 18, "color": "#5b6b7b"}
#: How an edge is drawn by where it comes from: found by the search, assumed by the standard
#: fairness model (dashed, lighter: its removal is a claim), or drawn by the user.
EDGE_STYLES = {
    "found": {"stroke": "#5b6b7b", "strokeWidth": 1.6},
    "assumed": {"stroke": "#9aa8b6", "strokeWidth": 1.4, "strokeDasharray": "6 4"},
    "drawn": {"stroke": "#1f6f8b", "strokeWidth": 1.6},
}
EDGE_LEGEND = ("solid: found in the data; dashed: assumed by the standard fairness model (remove one only on "
               "purpose: its absence is a causal claim); blue: added by you or imported")


def role_of(node: str, roles) -> str:
    """z, x, w, y or other for a node; every node is "other" while no roles can be derived."""
    if roles is None:
        return "other"
    if node == roles.x:
        return "x"
    if node == roles.y:
        return "y"
    return "z" if node in roles.z else "w" if node in roles.w else "other"


def layout(graph: CausalGraph, roles) -> dict[str, tuple[int, int]]:
    """Node positions in role columns (Z, X, W, Y, other), top to bottom in graph order.

    "Other" nodes go right of the outcome, starting one row below it (so edges into them do
    not run behind the outcome node), in sub-columns by their depth among "other" nodes, so an
    edge between two of them points rightwards like every other edge.
    """
    counts: dict = {}
    depth: dict[str, int] = {}
    positions = {}
    for n in graph.topological_order():
        role = role_of(n, roles)
        if role == "other":
            d = 1 + max((depth[p] for p in graph.parents(n) if p in depth), default=-1)
            depth[n] = d
            i = counts.get(("other", d), 0)
            counts[("other", d)] = i + 1
            positions[n] = (COLUMN_X["other"] + OTHER_STEP * d, 40 + 80 * (i + 1))
        else:
            i = counts.get(role, 0)
            counts[role] = i + 1
            positions[n] = (COLUMN_X[role], 40 + 80 * i)
    return positions


def edge_origins(graph: CausalGraph, found: CausalGraph | None, backbone) -> dict[tuple[str, str], str]:
    """"found", "assumed" or "drawn" for each edge; {} when no search has run (nothing to tell).

    Edges the search did not find (backbone.assumed_edges) are "assumed" when the standard
    fairness model's backbone holds them, else the user's own.
    """
    if found is None:
        return {}
    not_found = set(assumed_edges(graph, found))
    backbone = set(map(tuple, backbone))
    return {e: ("found" if e not in not_found else "assumed" if e in backbone else "drawn") for e in graph.edges}


def node_label(name: str) -> str:
    """A column name as inert node content: streamlit-flow renders `data.content` as Markdown
    with raw HTML, GFM autolinks and KaTeX math, so every character but an ASCII letter or digit
    becomes a numeric character reference, which the Markdown parser turns back into plain text
    after block, inline, HTML and math syntax have been recognised (none is, from a reference)."""
    return "".join(c if c.isascii() and c.isalnum() else f"&#{ord(c) or 0xFFFD};" for c in str(name))


def build_state(graph: CausalGraph, roles, origins: dict | None = None) -> StreamlitFlowState:
    """The editor's content: laid-out nodes in role colours, an arrowhead on every edge, each
    edge drawn by its origin (EDGE_STYLES; solid when unknown)."""
    nodes = [StreamlitFlowNode(
        id=n, pos=pos, data={"content": node_label(n)}, node_type="default", source_position="right",
        target_position="left", connectable=True, draggable=True, selectable=True,
        style={"background": ROLE_COLORS[role_of(n, roles)], "color": "white", "border": "1px solid #33415c",
               "borderRadius": "8px", "fontSize": "13px", "width": "150px"})
        for n, pos in layout(graph, roles).items()]
    edges = [StreamlitFlowEdge(id=f"{a}->{b}", source=a, target=b, marker_end=dict(ARROW), deletable=True,
                               focusable=True, style=dict(EDGE_STYLES[(origins or {}).get((a, b), "found")]))
             for a, b in graph.edges]
    return StreamlitFlowState(nodes=nodes, edges=edges)


def mark_rule(columns, x: str, y: str, fixed=(), after_outcome=()):
    """(a, b) -> why the user's marks refuse the edge a -> b, or None: nothing causes a fixed
    column, and a column recorded after the outcome causes nothing earlier. The wording is
    the backbone's (`Clusters.backward`), the one home of the cluster order."""
    from faircause_core.causal.backbone import Clusters

    try:
        clusters = Clusters(columns, x, y, fixed, after_outcome)
    except InputError:  # marks that clash are reported by the marks form, not here
        return lambda a, b: None
    fixed, after = set(clusters.z), set(clusters.after)
    return lambda a, b: clusters.backward(a, b) if (b in fixed and a not in fixed) or (
        a in after and b not in after) else None


def apply_editor_edges(graph: CausalGraph, in_editor, refuse=None) -> tuple[CausalGraph, list[str]] | None:
    """The graph after the editor's edits and one message per refused edge; None if unchanged.

    `in_editor` is the editor's (source, target) list. Edges gone from it are removed first,
    then new ones are added in the editor's order; an edge that is a self loop, names an
    unknown column, would close a cycle, or that `refuse(a, b)` gives a reason against (the
    user's marks: see `mark_rule`) is refused with that reason.
    """
    in_editor = list(in_editor)
    if set(in_editor) == set(graph.edges):
        return None
    messages = []
    new = graph
    for a, b in [e for e in graph.edges if e not in set(in_editor)]:
        new = new.remove_edge(a, b)
    for a, b in [e for e in dict.fromkeys(in_editor) if e not in set(graph.edges)]:
        if a == b or a not in graph.nodes or b not in graph.nodes:
            messages.append(f"edge {a} -> {b} refused: not an edge between two different columns")
            continue
        why = refuse(a, b) if refuse is not None else None
        cycle = CausalGraph.find_cycle(new.nodes, list(new.edges) + [(a, b)])
        if why:
            messages.append(f"edge {a} -> {b} refused: {why}")
        elif cycle is not None:
            messages.append(f"edge {a} -> {b} refused: it would close the cycle {' -> '.join(cycle)}")
        else:
            new = new.add_edge(a, b)
    return new, messages


def selected_edge(state: StreamlitFlowState) -> tuple[str, str] | None:
    """The (source, target) of the edge clicked in the editor, if an edge is selected."""
    return next(((e.source, e.target) for e in state.edges if e.id == state.selected_id), None)


def on_columns(graph: CausalGraph, names) -> CausalGraph:
    """A saved graph fitted to the table's columns: edges between columns that remain are kept."""
    if set(graph.nodes) == set(names):
        return graph
    return CausalGraph(names, [e for e in graph.edges if e[0] in names and e[1] in names])


def imported(content: bytes, source: str, names, table_name: str) -> CausalGraph:
    """A DAG JSON upload over the table's columns; InputError naming a node that is not one."""
    g = CausalGraph.from_json(content, source=source)
    unknown = [n for n in g.nodes if n not in names]
    if unknown:
        raise InputError(f"{source}: node '{unknown[0]}' is not a column of {table_name}")
    return CausalGraph(names, g.edges)
