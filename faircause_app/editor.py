"""The DAG editor (streamlit-flow) as plain functions: layout, and the diff of its edits.

The editor returns its whole node and edge lists. `apply_editor_edges` compares them with
the canonical graph, removes what was removed, adds what was added and refuses an edge
that would close a cycle, naming it; the page then gives the editor (same key, so it is not
reloaded) a rebuilt content with a newer timestamp, so a refused edge disappears, new edges
get their arrowheads and nodes their new roles' colours. The layout keeps the role columns and
places nodes so that no drawn edge passes through a node it does not join. Nothing here draws.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
from streamlit_flow.state import StreamlitFlowState

from faircause_core.causal.backbone import assumed_edges
from faircause_core.causal.graph import ASSOCIATION_WHY, CausalGraph
from faircause_core.errors import InputError
from faircause_core.present.plots import ROLE_COLORS

#: Node and layout sizes in flow pixels. The first view is never zoomed below FIT_MIN_ZOOM, so
#: labels are drawn at least FONT_PX * FIT_MIN_ZOOM (12.04 px) high. The gap between layers is
#: the widest of GAPS_X that fits WIDTH (a 1440 px window's editor, about 1,040 px, at that
#: zoom) without a crossing: the demo's eight layers need the narrowest.
FONT_PX, FIT_MIN_ZOOM, WIDTH = 14, 0.86, 1200
NODE_H, GAP_Y = 40, 22
GAPS_X = (84, 72, 60, 48)
HANDLE = 14  # a connection handle's side inside its 1 px border (faircause_app.flow's style sheet)
HANDLE_OUT = HANDLE // 2 + 1  # how far an edge starts right of its source and ends left of its target
CLEARANCE = 8  # kept between a drawn edge and every node it does not join
ATTEMPTS = 16  # starting orders tried per gap by layout (most graphs need one)
BAND = {"z": 0, "x": 1, "w": 2, "y": 3, "other": 4}  # the role columns, left to right
ARROW = {"type": "arrowclosed", "width": 18, "height": 18, "color": "#5b6b7b"}
#: How an edge is drawn by where it comes from: found by the search, assumed by the standard
#: fairness model (dashed, lighter: its removal is a claim), or drawn by the user.
EDGE_STYLES = {
    "found": {"stroke": "#5b6b7b", "strokeWidth": 1.6},
    "assumed": {"stroke": "#9aa8b6", "strokeWidth": 1.4, "strokeDasharray": "6 4"},
    "drawn": {"stroke": "#1f6f8b", "strokeWidth": 1.6},
}
EDGE_LEGEND = ("solid: found in the data; dashed: assumed by the standard fairness model (remove one only on "
               "purpose: its absence is a causal claim); blue: added by you or imported; purple dashes without an "
               "arrowhead: an association with X (no causal direction; point at it for why)")
#: An association (CausalGraph.associations): no arrowhead, purple dashes, its reason as a tooltip.
ASSOCIATION_STYLE = {"stroke": "#8e5ea2", "strokeWidth": 1.8, "strokeDasharray": "2 4"}
ASSOCIATION_CLASS = "fc-association"
#: While the pointer rests on a node, or a node is selected, its edges stay as drawn and every
#: other edge fades to DIM_OPACITY (faircause_app.flow's style sheet, by these classes: node i
#: has NODE_CLASS + i, an edge has EDGE_CLASS + i for each of its two ends; indices, never names).
#: The style sheet has rules for the first LIT_NODES nodes.
NODE_CLASS, EDGE_CLASS, DIM_OPACITY, LIT_NODES = "fc-n", "fc-e", 0.15, 400


@dataclass
class EditorState(StreamlitFlowState):
    """The editor's content, and the edges of the graph it leaves out (the "found in the data
    only" view hides the assumed ones): an edit in that view keeps them (`with_hidden`)."""

    hidden: list = field(default_factory=list)


def role_of(node: str, roles) -> str:
    """z, x, w, y or other for a node; every node is "other" while no roles can be derived."""
    if roles is None:
        return "other"
    if node == roles.x:
        return "x"
    if node == roles.y:
        return "y"
    return "z" if node in roles.z else "w" if node in roles.w else "other"


def node_width(name: str) -> int:
    """A node's width for its label on one line at FONT_PX, from generous per-letter widths (wide
    fonts included); the label is kept to one line by style, so the box is what was laid out."""
    text = str(name)
    letters = sum(13.5 if c in "mwMW@%" else 10.5 if c.isupper() else 5.5 if c in "ijlftr!|.,:;' ()[]" else 9.0
                  for c in text)
    return int(min(340, max(72, letters + 28)))


def layers(graph: CausalGraph, roles) -> dict[str, int]:
    """Each node's layer, left to right: the role columns Z | X | W | Y | other, each split into
    sub-columns by depth among its own role, so every edge points right (none runs inside a column).

    A node is moved into the column of its earliest child when that column is further left (an
    "other" cause of X, possible only when X does not reach Y), for the same reason.
    """
    order = graph.topological_order()
    band = {n: BAND[role_of(n, roles)] for n in order}
    for n in reversed(order):
        band[n] = min([band[n]] + [band[c] for c in graph.children(n)])
    depth: dict[str, int] = {}
    for n in order:
        depth[n] = 1 + max((depth[p] for p in graph.parents(n) if band[p] == band[n]), default=-1)
    layer, offset = {}, 0
    for b in sorted(set(band.values())):
        members = [n for n in order if band[n] == b]
        layer.update({n: offset + depth[n] for n in members})
        offset += 1 + max(depth[n] for n in members)
    return layer


def _bezier(x0, y0, x3, y3, points: int = 96):
    """Points (x, y), each shaped (..., points), of React Flow's "default" edge from a right
    handle at (x0, y0) to a left handle at (x3, y3) (its getBezierPath, curvature 0.25)."""
    import numpy as np

    x0, y0, x3, y3 = (np.asarray(v, dtype=float)[..., None] for v in (x0, y0, x3, y3))
    t = np.linspace(0.0, 1.0, points)
    d = x3 - x0
    off = np.where(d >= 0, 0.5 * d, 6.25 * np.sqrt(np.abs(d)))
    a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3
    return a * x0 + b * (x0 + off) + c * (x3 - off) + e * x3, (a + b) * y0 + (c + e) * y3


def _ends(boxes: dict, edges):
    """The drawn start and end points of each edge, for boxes {node: (x, y, width)}."""
    return ([boxes[a][0] + boxes[a][2] + HANDLE_OUT for a, _ in edges], [boxes[a][1] + NODE_H / 2 for a, _ in edges],
            [boxes[b][0] - HANDLE_OUT for _, b in edges], [boxes[b][1] + NODE_H / 2 for _, b in edges])


def _inside(px, py, x, y, w, margin):
    return (px >= x - margin) & (px <= x + w + margin) & (py >= y - margin) & (py <= y + NODE_H + margin)


def crossings(graph: CausalGraph, boxes: dict, margin: float = CLEARANCE) -> list[tuple[tuple[str, str], str]]:
    """Each (edge, node) where the drawn edge comes within `margin` of a node it does not join,
    for boxes {node: (x, y, width)} (top-left corners in flow pixels)."""
    edges = list(graph.edges)
    if not edges:
        return []
    px, py = _bezier(*_ends(boxes, edges))
    return [((a, b), n) for i, (a, b) in enumerate(edges) for n, (x, y, w) in boxes.items()
            if n not in (a, b) and _inside(px[i], py[i], x, y, w, margin).any()]


def layout(graph: CausalGraph, roles) -> dict[str, tuple[int, int, int]]:
    """Node boxes {node: (x, y, width)}: layers left to right (`layers`), one width per layer, and
    heights chosen so that no drawn edge passes within CLEARANCE of a node it does not join.

    The gap between layers is the widest of GAPS_X whose layout fits WIDTH without a crossing;
    when none does, the widest without a crossing (the user then pans); failing that, the fewest
    crossings. Per gap, `_placed` tries ATTEMPTS starting orders.
    """
    layer = layers(graph, roles)
    nodes = list(graph.nodes)
    count = max(layer.values(), default=-1) + 1
    widths = [max((node_width(n) for n in nodes if layer[n] == i), default=0) for i in range(count)]
    total = {gap: sum(widths) + gap * max(count - 1, 0) for gap in GAPS_X}
    best = None
    for gap in sorted(GAPS_X, key=lambda g: (total[g] > WIDTH, -g)):  # those that fit first, widest first
        xs = [sum(widths[:i]) + gap * i for i in range(count)]
        crossed, boxes = _placed(graph, nodes, layer, xs, widths)
        if best is None or crossed < best[0]:
            best = crossed, boxes
        if crossed == 0:
            break
    return best[1]


def _placed(graph, nodes, layer, xs, widths) -> tuple[int, dict]:
    """(crossings, boxes) of the best of ATTEMPTS starting orders at these layer positions."""
    best = None
    for attempt in range(ATTEMPTS):  # a few starting orders (seeded): the first without a crossing wins
        order = list(graph.topological_order())
        if attempt:
            random.Random(attempt).shuffle(order)
        y = _heights(graph, order, layer, xs, widths)
        boxes = {n: (xs[layer[n]], y[n], widths[layer[n]]) for n in nodes}
        score = (len(crossings(graph, boxes)), max(y.values(), default=0))
        if best is None or score < best[0]:
            best = score, boxes
        if score[0] == 0:
            break
    return best[0][0], best[1]


def _heights(graph, order, layer, xs, widths) -> dict[str, int]:
    """`layout`'s heights from one starting order of the nodes within their layers."""
    import numpy as np

    nodes = list(graph.nodes)
    count = len(xs)
    row_h = NODE_H + GAP_Y
    rows = [[n for n in order if layer[n] == i] for i in range(count)]
    y = {n: float(i * row_h) for row in rows for i, n in enumerate(row)}
    near = {n: graph.parents(n) + graph.children(n) for n in nodes}

    def wanted(n):
        return sum(y[m] for m in near[n]) / len(near[n]) if near[n] else y[n]

    for _ in range(4):
        for row in rows:
            goal = {n: wanted(n) for n in row}
            row.sort(key=lambda n: goal[n])
            top = -float("inf")
            for n in row:
                y[n] = top = max(goal[n], top)
                top += row_h
    low = min(y.values(), default=0.0)
    y = {n: round((v - low) / (row_h / 2)) * row_h / 2 for n, v in y.items()}  # on the half-row grid
    slots = np.arange(0, (max(map(len, rows), default=0) + 6) * row_h, row_h / 2)
    edges = list(graph.edges)
    for _ in range(12):
        moved = False
        for n in [n for row in rows for n in row]:
            mates = np.array([y[m] for m in rows[layer[n]] if m != n])
            free = slots[np.all(np.abs(slots[:, None] - mates[None, :]) >= row_h, axis=1)] if len(mates) else slots
            free = np.union1d(free, [y[n]])
            hits = _slot_hits(graph, n, free, {m: (xs[layer[m]], y[m], widths[layer[m]]) for m in nodes})
            cost = hits * 1000 + np.abs(free - wanted(n)) / row_h + 0.05 * free / row_h
            best = float(free[int(np.argmin(cost))])
            if cost.min() < cost[int(np.searchsorted(free, y[n]))] - 1e-9:
                y[n], moved = best, True
        if not moved:
            break
    low = min(y.values(), default=0.0)
    return {n: int(y[n] - low) for n in nodes}


def _slot_hits(graph, n, free, box):
    """For each candidate height of node n: how many (edge, node) crossings there would be."""
    import numpy as np

    hits = np.zeros(len(free))
    own = [e for e in graph.edges if n in e]
    others = [e for e in graph.edges if n not in e]
    if own:  # n's own edges, redrawn from each candidate height, against every other node
        ends = [np.broadcast_to(np.asarray(v, dtype=float), (len(free), len(own))).copy() for v in _ends(box, own)]
        for j, (a, b) in enumerate(own):
            ends[1 if a == n else 3][:, j] = free + NODE_H / 2
        px, py = _bezier(*ends)
        for m, (bx, by, bw) in box.items():
            if m != n:
                hit = _inside(px, py, bx, by, bw, CLEARANCE).any(axis=2)
                hits += (hit & np.array([m not in e for e in own])[None, :]).sum(axis=1)
    if others:  # every other edge against n's box at each candidate height
        x, _, w = box[n]
        px, py = _bezier(*_ends(box, others))
        for xs_, ys_ in zip(px, py):
            ys = ys_[(xs_ >= x - CLEARANCE) & (xs_ <= x + w + CLEARANCE)]
            if len(ys):
                hits += ((ys[None, :] >= free[:, None] - CLEARANCE)
                         & (ys[None, :] <= free[:, None] + NODE_H + CLEARANCE)).any(axis=1)
    return hits


def frame_height(state: StreamlitFlowState) -> int:
    """The editor's height in page pixels: the whole laid-out graph at zoom 1, within 320-900."""
    bottom = max((n.position["y"] for n in state.nodes), default=0) + NODE_H
    return int(min(900, max(320, bottom + 110)))


def fresh(given: StreamlitFlowState, returned: StreamlitFlowState) -> bool:
    """Whether the editor's value was made since it was given `given`. The key stays the same
    (a new key would reload the editor), so the value it sent for the previous graph is still
    returned until it sends another: that one is stale. (Before any value, `given` itself.)"""
    return returned.timestamp >= given.timestamp


def acted(given: StreamlitFlowState, returned: StreamlitFlowState) -> bool:
    """Whether the user did something in the editor since it was given `given`: an edge added,
    removed or turned round, an edge selected, or a node moved (its echo of `given` is no action)."""
    def seen(s):
        return ({(e.source, e.target) for e in s.edges}, s.selected_id,
                {n.id: (round(n.position["x"]), round(n.position["y"])) for n in s.nodes})
    return fresh(given, returned) and seen(given) != seen(returned)


def edge_origins(graph: CausalGraph, found: CausalGraph | None, backbone) -> dict[tuple[str, str], str]:
    """"found", "assumed" or "drawn" for each edge and association; {} when no search has run.

    Edges the search did not find (backbone.assumed_edges) are "assumed" when the standard
    fairness model's backbone holds them, else the user's own. An association (z - X) is
    "assumed" when the backbone holds it (in `backbone`, either way round) and the search did
    not find it, else "found" or "drawn" alike.
    """
    if found is None:
        return {}
    not_found = set(assumed_edges(graph, found))
    backbone = set(map(tuple, backbone))
    origins = {e: ("found" if e not in not_found else "assumed" if e in backbone else "drawn") for e in graph.edges}
    found_pairs = {frozenset(p) for p in found.associations}
    backbone_pairs = {frozenset(p) for p in backbone}
    for a, b in graph.associations:
        pair = frozenset((a, b))
        origins[(a, b)] = "found" if pair in found_pairs else "assumed" if pair in backbone_pairs else "drawn"
    return origins


def node_label(name: str) -> str:
    """A column name as inert node content: streamlit-flow renders `data.content` as Markdown
    with raw HTML, GFM autolinks and KaTeX math, so every character but an ASCII letter or digit
    becomes a numeric character reference, which the Markdown parser turns back into plain text
    after block, inline, HTML and math syntax have been recognised (none is, from a reference)."""
    return "".join(c if c.isascii() and c.isalnum() else f"&#{ord(c) or 0xFFFD};" for c in str(name))


def build_state(graph: CausalGraph, roles, origins: dict | None = None, after: int = 0,
                found_only: bool = False) -> EditorState:
    """The editor's content: laid-out nodes in role colours, an arrowhead on every edge, each
    edge drawn by its origin (EDGE_STYLES; solid when unknown) and classed by its two ends'
    indices (a node's edges light up when it is pointed at or selected). Its timestamp is later
    than `after` (the editor's last value), so the editor takes it in place instead of its own.

    With `found_only`, the edges and associations `origins` calls "assumed" are left out (listed in
    `hidden`); the nodes keep their places in the whole graph's layout, so the two views compare."""
    index = {n: i for i, n in enumerate(graph.nodes)}

    def ends(a, b):
        return f"{EDGE_CLASS}{index[a]} {EDGE_CLASS}{index[b]}"

    nodes = [StreamlitFlowNode(
        id=n, pos=(x, y), data={"content": node_label(n)}, node_type="default", source_position="right",
        target_position="left", connectable=True, draggable=True, selectable=True,
        style={"background": ROLE_COLORS[role_of(n, roles)], "color": "white", "border": "1px solid #33415c",
               "borderRadius": "8px", "fontSize": f"{FONT_PX}px", "fontWeight": 600, "boxSizing": "border-box",
               "width": f"{w}px", "height": f"{NODE_H}px", "lineHeight": f"{NODE_H - 2}px",
               "padding": "0 10px", "whiteSpace": "nowrap"}, className=f"{NODE_CLASS}{index[n]}")
        for n, (x, y, w) in layout(graph.for_sampling(), roles).items()]  # associations laid out as edges
    hidden = [e for e in graph.edges + graph.associations if found_only and (origins or {}).get(e) == "assumed"]
    edges = [StreamlitFlowEdge(id=f"{a}->{b}", source=a, target=b, marker_end=dict(ARROW), deletable=True,
                               focusable=True, style=dict(EDGE_STYLES[(origins or {}).get((a, b), "found")]),
                               className=ends(a, b))
             for a, b in graph.edges if (a, b) not in hidden]
    edges += [StreamlitFlowEdge(id=f"{a}->{b}", source=a, target=b, marker_start="", marker_end="",
                                deletable=True, focusable=True,
                                style=dict(ASSOCIATION_STYLE), className=f"{ASSOCIATION_CLASS} {ends(a, b)}",
                                ariaLabel=ASSOCIATION_WHY.format(a=a, b=b))
              for a, b in graph.associations if (a, b) not in hidden]
    state = EditorState(nodes=nodes, edges=edges, hidden=hidden)
    state.timestamp = max(state.timestamp, after + 1)
    return state


def with_hidden(given: StreamlitFlowState, in_editor) -> list:
    """The editor's (source, target) list with the edges `given` left out of view put back: an
    edge the user could not see was not deleted (one drawn again is not added twice; its reverse
    drawn is then refused as a cycle, and named)."""
    in_editor = list(in_editor)
    seen = set(in_editor)
    return in_editor + [tuple(e) for e in getattr(given, "hidden", []) if tuple(e) not in seen]


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
    user's marks: see `mark_rule`) is refused with that reason. A refused reversal (b -> a in
    place of a -> b, the edge menu's "Reverse Edge") keeps a -> b.
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
        kept = [p for p in new.associations if set(p) != {a, b}]  # an edge replaces an association
        cycle = CausalGraph.find_cycle(new.nodes, list(new.edges) + kept + [(a, b)])
        if why or cycle is not None:
            messages.append(f"edge {a} -> {b} refused: " + (why or f"it would close the cycle {' -> '.join(cycle)}"))
            back = graph.has_edge(b, a) and (b, a) not in in_editor
            if back and CausalGraph.find_cycle(new.nodes, list(new.edges) + list(new.associations) + [(b, a)]) is None:
                new = new.add_edge(b, a)  # a refused reversal: the edge stays as it was
        else:
            new = new.add_edge(a, b)
    return new, messages


def editor_associations(graph: CausalGraph, in_editor) -> tuple[CausalGraph, list, list[str]]:
    """Split the editor's (source, target) list into the graph's associations and its edges.

    Returns the graph without the associations the editor no longer draws (deleted there),
    the remaining pairs (edges, for `apply_editor_edges`) and one message per refused change:
    an association has no direction, so "Reverse Edge" on one keeps it as it is."""
    in_editor = list(in_editor)
    drawn = set(in_editor)
    messages, new = [], graph
    pairs = [e for e in in_editor if e not in set(graph.associations)]
    for a, b in graph.associations:
        if (a, b) in drawn:
            continue
        if (b, a) in drawn and not graph.has_edge(b, a):  # the edge menu's reversal of an association
            messages.append(f"{a} - {b} is an association, not an arrow: it has no direction to reverse "
                            f"(delete it to say that {a} and {b} are unrelated)")
            pairs = [e for e in pairs if e != (b, a)]
            continue
        new = new.remove_association(a, b)
    return new, pairs, messages


def selected_edge(state: StreamlitFlowState) -> tuple[str, str] | None:
    """The (source, target) of the edge clicked in the editor, if an edge is selected."""
    return next(((e.source, e.target) for e in state.edges if e.id == state.selected_id), None)


def on_columns(graph: CausalGraph, names) -> CausalGraph:
    """A saved graph fitted to the table's columns: edges between columns that remain are kept."""
    if set(graph.nodes) == set(names):
        return graph
    return CausalGraph(names, [e for e in graph.edges if e[0] in names and e[1] in names],
                       [e for e in graph.associations if e[0] in names and e[1] in names])


def imported(content: bytes, source: str, names, table_name: str) -> CausalGraph:
    """A DAG JSON upload over the table's columns; InputError naming a node that is not one."""
    g = CausalGraph.from_json(content, source=source)
    unknown = [n for n in g.nodes if n not in names]
    if unknown:
        raise InputError(f"{source}: node '{unknown[0]}' is not a column of {table_name}")
    return CausalGraph(names, g.edges, g.associations)
