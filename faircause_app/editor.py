"""The DAG editor (streamlit-flow) as plain functions: layout, and the diff of its edits.

The editor returns its whole node and edge lists. `apply_editor_edges` compares them with
the canonical graph, removes what was removed, adds what was added and refuses an edge
that would close a cycle, naming it; the page then gives the editor (same key, so it is not
reloaded) a rebuilt content with a newer timestamp, so a refused edge disappears, new edges
get their arrowheads and nodes their new roles' colours. The layout keeps the role columns (or,
when they are too many to read in the frame's width, the same layers as rows down the page) and
places nodes so that no drawn edge passes through a node it does not join. Nothing here draws.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import NamedTuple

from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
from streamlit_flow.state import StreamlitFlowState

from faircause_core.causal.backbone import assumed_edges
from faircause_core.causal.graph import ASSOCIATION_WHY, CausalGraph
from faircause_core.errors import InputError
from faircause_core.present.plots import ROLE_COLORS

#: Node and layout sizes in flow pixels. The first view is never zoomed below FIT_MIN_ZOOM, so
#: labels are drawn at least FONT_PX * FIT_MIN_ZOOM (12.04 px) high. The gap between layers is
#: the widest of GAPS_X that fits WIDTH (a 1440 px window's editor, about 1,040 px, at that
#: zoom) without a crossing: the demo's eight layers need the narrowest. A graph with more layers
#: than fit (a 16-column cohort's 11 layers were 2,087 px wide) is laid out in rows down the page
#: instead: every node cell_width wide, GAP_CELL apart, within WIDTH_ROWS (which the frame shows whole
#: at FIT_MIN_ZOOM, margins included), rows GAP_ROWS apart.
FONT_PX, FIT_MIN_ZOOM, WIDTH = 14, 0.86, 1200
NODE_H, GAP_Y = 40, 22
GAPS_X = (84, 72, 60, 48)
WIDTH_ROWS, GAP_CELL, GAP_ROWS, LINE_PX = 1120, 24, 48, 17
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


def _letters(text: str) -> float:
    """Text width at FONT_PX from generous per-letter widths (wide fonts included)."""
    return sum(13.5 if c in "mwMW@%" else 10.5 if c.isupper() else 5.5 if c in "ijlftr!|.,:;' ()[]" else 9.0
               for c in str(text))


def node_width(name: str) -> int:
    """A node's width for its label on one line at FONT_PX; the label is kept to one line by
    style, so the box is what was laid out."""
    return int(min(340, max(72, _letters(name) + 28)))


BREAKS = "_.- "  # a label laid out in rows may break after one of these (node_label's zero-width spaces)


def _two_lines(name: str) -> float:
    """The wider line of a label on two lines, broken after a BREAKS character where it has one
    (the best such place), else anywhere (half its width and a letter)."""
    text = str(name)
    cuts = [i + 1 for i, c in enumerate(text[:-1]) if c in BREAKS]
    if not cuts:
        return _letters(text) / 2 + 14
    return min(max(_letters(text[:i]), _letters(text[i:])) for i in cuts)


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


class Box(NamedTuple):
    """A node's place in flow pixels: its top-left corner and width (its height is NODE_H), and
    whether the graph runs down the page in rows (edges leave below, arrive above) rather than
    across it in columns (edges leave right, arrive left)."""

    x: int
    y: int
    w: int
    down: bool = False


def _along(box) -> tuple:
    """(u, v, u_len, v_len) of a Box (or an (x, y, w) tuple): u runs the way the edges point."""
    b = Box(*box)
    return (b.y, b.x, NODE_H, b.w) if b.down else (b.x, b.y, b.w, NODE_H)


def _bezier(x0, y0, x3, y3, points: int = 96):
    """Points (u, v), each shaped (..., points), of React Flow's "default" edge from a source
    handle at (u0, v0) to a target handle at (u3, v3), u the way the handles face (its
    getBezierPath, curvature 0.25; the same curve right to left and bottom to top)."""
    import numpy as np

    x0, y0, x3, y3 = (np.asarray(v, dtype=float)[..., None] for v in (x0, y0, x3, y3))
    t = np.linspace(0.0, 1.0, points)
    d = x3 - x0
    off = np.where(d >= 0, 0.5 * d, 6.25 * np.sqrt(np.abs(d)))
    a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3
    return a * x0 + b * (x0 + off) + c * (x3 - off) + e * x3, (a + b) * y0 + (c + e) * y3


def _ends(boxes: dict, edges):
    """The drawn start and end points (u, v) of each edge, for boxes {node: (u, v, u_len, v_len)}."""
    return ([boxes[a][0] + boxes[a][2] + HANDLE_OUT for a, _ in edges],
            [boxes[a][1] + boxes[a][3] / 2 for a, _ in edges],
            [boxes[b][0] - HANDLE_OUT for _, b in edges], [boxes[b][1] + boxes[b][3] / 2 for _, b in edges])


def _inside(pu, pv, u, v, u_len, v_len, margin):
    return (pu >= u - margin) & (pu <= u + u_len + margin) & (pv >= v - margin) & (pv <= v + v_len + margin)


def crossings(graph: CausalGraph, boxes: dict, margin: float = CLEARANCE) -> list[tuple[tuple[str, str], str]]:
    """Each (edge, node) where the drawn edge comes within `margin` of a node it does not join,
    for boxes {node: Box} (or (x, y, width): top-left corners in flow pixels, across the page)."""
    return _crossed(graph, {n: _along(b) for n, b in boxes.items()}, margin)


def cell_width(names, most: int = 1) -> int:
    """The one node width of a graph laid out in rows with at most `most` nodes in a layer: every
    label on one line where twice `most` such cells fit WIDTH_ROWS (half of each row is kept for
    the edges that pass it), else every label on two lines at FONT_PX (never below 96 px)."""
    one = max((node_width(n) for n in names), default=72)
    two = int(min(340, max(96, max((_two_lines(n) + 28 for n in names), default=0))))
    return max(two, min(one, (WIDTH_ROWS + GAP_CELL) // max(1, 2 * most) - GAP_CELL))


def layout(graph: CausalGraph, roles) -> dict[str, Box]:
    """Node boxes: layers left to right (`layers`), one width per layer, and heights chosen so
    that no drawn edge passes within CLEARANCE of a node it does not join; or, when no such
    layout fits WIDTH, the same layers as rows down the page (`_rows`), so the first view shows
    every node at FIT_MIN_ZOOM instead of cutting the last layers (the outcome) off on the right.

    Across the page, the gap between layers is the widest of GAPS_X that fits WIDTH without a
    crossing. Failing that and rows alike, the widest gap without a crossing (the user then pans);
    failing that, the fewest crossings. Per arrangement, `_placed` tries ATTEMPTS starting orders.
    """
    role = tuple(role_of(n, roles) for n in graph.nodes)
    return dict(_layout(tuple(graph.nodes), tuple(graph.edges), role))


@functools.lru_cache(maxsize=16)
def _layout(nodes: tuple, edges: tuple, role: tuple) -> tuple:
    """`layout` as ((node, Box), ...), kept for the page's reruns (a 56-column graph takes seconds)."""
    graph = CausalGraph(list(nodes), list(edges))
    of = dict(zip(nodes, role))
    roles = None if set(role) == {"other"} else SimpleNamespace(
        x=next((n for n in nodes if of[n] == "x"), None), y=next((n for n in nodes if of[n] == "y"), None),
        z=[n for n in nodes if of[n] == "z"], w=[n for n in nodes if of[n] == "w"])
    return tuple(_laid_out(graph, roles).items())


def _laid_out(graph: CausalGraph, roles) -> dict[str, Box]:
    layer = layers(graph, roles)
    nodes = list(graph.nodes)
    count = max(layer.values(), default=-1) + 1
    widths = [max((node_width(n) for n in nodes if layer[n] == i), default=0) for i in range(count)]
    tried = []  # (crossings, rank, boxes): fits across, rows, too wide across

    def across(gap):
        us = [sum(widths[:i]) + gap * i for i in range(count)]
        crossed, v = _placed(graph, layer, us, widths, NODE_H, NODE_H + GAP_Y)
        fits = sum(widths) + gap * max(count - 1, 0) <= WIDTH
        return crossed, 0 if fits else 2, {n: Box(us[layer[n]], v[n], widths[layer[n]]) for n in nodes}

    for gap in [g for g in GAPS_X if sum(widths) + g * max(count - 1, 0) <= WIDTH]:  # widest first
        tried.append(across(gap))
        if tried[-1][0] == 0:
            return tried[-1][2]
    tried.append(_rows(graph, layer))
    if tried[-1][0] == 0:
        return tried[-1][2]
    for gap in [g for g in GAPS_X if sum(widths) + g * max(count - 1, 0) > WIDTH]:
        tried.append(across(gap))
        if tried[-1][0] == 0:
            return tried[-1][2]
    return min(tried, key=lambda t: t[:2])[2]


def _rows(graph: CausalGraph, layer: dict) -> tuple[int, int, dict]:
    """(crossings, 1, boxes) of the layers as rows down the page, each node cell_width wide with its
    label on up to two lines; a layer with more nodes than fit WIDTH_ROWS is split over several
    rows (no edge joins two nodes of a layer, so every edge still points down; those whose
    children are furthest down go first). Places along each row as `layout` chooses heights."""
    nodes = list(graph.nodes)
    cell = cell_width(nodes, max(Counter(layer.values()).values(), default=1))
    pitch = cell + GAP_CELL
    per_row = max(1, (WIDTH_ROWS + GAP_CELL) // pitch)
    rank = {n: i for i, n in enumerate(graph.topological_order())}
    row, r = {}, 0
    for i in range(max(layer.values(), default=-1) + 1):
        members = sorted((n for n in nodes if layer[n] == i),
                         key=lambda n: (-min((layer[c] for c in graph.children(n)), default=i + 1), rank[n]))
        row.update({n: r + j // per_row for j, n in enumerate(members)})
        r += -(-len(members) // per_row)
    us = [i * (NODE_H + GAP_ROWS) for i in range(r)]
    crossed, v = _placed(graph, row, us, [NODE_H] * r, cell, pitch, WIDTH_ROWS - cell)
    return crossed, 1, {n: Box(v[n], us[row[n]], cell, True) for n in nodes}


def _placed(graph, layer, us, lens, v_len, pitch, v_max=None) -> tuple[int, dict]:
    """(crossings, places along the layers) of the best of ATTEMPTS starting orders, for layers at
    us, lens long (the way edges point), and nodes v_len across, at least `pitch` apart."""
    best = None
    for attempt in range(ATTEMPTS):  # a few starting orders (seeded): the first without a crossing wins
        order = list(graph.topological_order())
        if attempt:
            random.Random(attempt).shuffle(order)
        v = _heights(graph, order, layer, us, lens, v_len, pitch, v_max)
        boxes = {n: (us[layer[n]], v[n], lens[layer[n]], v_len) for n in graph.nodes}
        score = (len(_crossed(graph, boxes)), max(v.values(), default=0))
        if best is None or score < best[0]:
            best = score, v
        if score[0] == 0:
            break
    return best[0][0], best[1]


def _crossed(graph, boxes, margin: float = CLEARANCE) -> list:
    """crossings() for boxes {node: (u, v, u_len, v_len)}."""
    edges = list(graph.edges)
    if not edges:
        return []
    import numpy as np

    pu, pv = _bezier(*_ends(boxes, edges))  # (edge, point)
    names = list(boxes)
    u, v, u_len, v_len = (np.array([boxes[m][k] for m in names], dtype=float)[None, :, None] for k in range(4))
    hit = _inside(pu[:, None, :], pv[:, None, :], u, v, u_len, v_len, margin).any(axis=2)  # (edge, node)
    return [(edges[i], names[j]) for i, j in zip(*np.nonzero(hit)) if names[j] not in edges[i]]


def _heights(graph, order, layer, us, lens, v_len, pitch, v_max=None) -> dict[str, int]:
    """`layout`'s places along the layers (heights, across the page) from one starting order of
    the nodes within their layers; with v_max, none is placed beyond it."""
    import numpy as np

    nodes = list(graph.nodes)
    count = len(us)
    rows = [[n for n in order if layer[n] == i] for i in range(count)]
    y = {n: float(i * pitch) for row in rows for i, n in enumerate(row)}
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
                top += pitch
    low = min(y.values(), default=0.0)
    y = {n: round((v - low) / (pitch / 2)) * pitch / 2 for n, v in y.items()}  # on the half-pitch grid
    end = (max(map(len, rows), default=0) + 6) * pitch if v_max is None else v_max + 1
    slots = np.arange(0, end, pitch / 2)
    for _ in range(12):
        moved = False
        for n in [n for row in rows for n in row]:
            mates = np.array([y[m] for m in rows[layer[n]] if m != n])
            free = slots[np.all(np.abs(slots[:, None] - mates[None, :]) >= pitch, axis=1)] if len(mates) else slots
            free = np.union1d(free, [y[n]])
            box = {m: (us[layer[m]], y[m], lens[layer[m]], v_len) for m in nodes}
            hits = _slot_hits(graph, n, free, box)
            cost = hits * 1000 + np.abs(free - wanted(n)) / pitch + 0.05 * free / pitch
            if v_max is not None:
                cost = cost + 1e6 * (free > v_max)
            best = float(free[int(np.argmin(cost))])
            if cost.min() < cost[int(np.searchsorted(free, y[n]))] - 1e-9:
                y[n], moved = best, True
        if not moved:
            break
    low = min(y.values(), default=0.0)
    return {n: int(y[n] - low) for n in nodes}


def _slot_hits(graph, n, free, box):
    """For each candidate place of node n: how many (edge, node) crossings there would be, for
    boxes {node: (u, v, u_len, v_len)}. Vectorised (the layout's hot loop: a 56-column graph
    took 2 s a layout with a numpy call per node): moving n changes only the v of its own edges'
    points, u runs between the layers, which stay put."""
    import numpy as np

    hits = np.zeros(len(free))
    own = [e for e in graph.edges if n in e]
    others = [e for e in graph.edges if n not in e]
    if own:  # n's own edges, redrawn from each candidate place, against every other node
        ends = [np.broadcast_to(np.asarray(v, dtype=float), (len(free), len(own))).copy() for v in _ends(box, own)]
        for j, (a, b) in enumerate(own):
            ends[1 if a == n else 3][:, j] = free + box[n][3] / 2
        pu, pv = _bezier(*ends)  # (place, edge, point); pu the same at every place
        names = [m for m in box if m != n]
        u, v, u_len, v_len = (np.array([box[m][k] for m in names], dtype=float)[:, None, None] for k in range(4))
        across = (pu[0][None] >= u - CLEARANCE) & (pu[0][None] <= u + u_len + CLEARANCE)  # (node, edge, point)
        joins = np.array([[m in e for e in own] for m in names])
        node, edge = np.nonzero(across.any(axis=2) & ~joins)
        if len(node):
            vs = pv[:, edge, :]  # (place, pair, point)
            inside = ((vs >= v[node, 0, 0][None, :, None] - CLEARANCE)
                      & (vs <= (v + v_len)[node, 0, 0][None, :, None] + CLEARANCE) & across[node, edge][None])
            hits += inside.any(axis=2).sum(axis=1)
    if others:  # every other edge against n's box at each candidate place
        u, _, u_len, v_len = box[n]
        pu, pv = _bezier(*_ends(box, others))
        near = (pu >= u - CLEARANCE) & (pu <= u + u_len + CLEARANCE)  # (edge, point)
        edge = np.flatnonzero(near.any(axis=1))
        if len(edge):
            vs = pv[edge][None]  # (1, edge, point)
            inside = ((vs >= free[:, None, None] - CLEARANCE) & (vs <= free[:, None, None] + v_len + CLEARANCE)
                      & near[edge][None])
            hits += inside.any(axis=2).sum(axis=1)
    return hits


def frame_height(state: StreamlitFlowState) -> int:
    """The editor's height in page pixels: the whole laid-out graph at zoom 1, within 320-2400
    (a graph laid out in rows can be taller than the window: the page scrolls)."""
    bottom = max((n.position["y"] for n in state.nodes), default=0) + NODE_H
    return int(min(2400, max(320, bottom + 110)))


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


def node_label(name: str, breaks: bool = False) -> str:
    """A column name as inert node content: streamlit-flow renders `data.content` as Markdown
    with raw HTML, GFM autolinks and KaTeX math, so every character but an ASCII letter or digit
    becomes a numeric character reference, which the Markdown parser turns back into plain text
    after block, inline, HTML and math syntax have been recognised (none is, from a reference).
    With `breaks` (a label on two lines), a zero-width space after each BREAKS character lets the
    line break there (glucose_ | visit_1), not inside a word."""
    def inert(c: str) -> str:
        if c.isascii() and c.isalnum():
            return c
        return f"&#{ord(c) or 0xFFFD};" + ("&#8203;" if breaks and c in BREAKS else "")

    return "".join(map(inert, str(name)))


def _node_style(role: str, box: Box) -> dict:
    """A node's style: its role's colour, its box; the label on one line, or in rows centred on
    up to two lines (broken anywhere when a word is longer than the cell)."""
    style = {"background": ROLE_COLORS[role], "color": "white", "border": "1px solid #33415c",
             "borderRadius": "8px", "fontSize": f"{FONT_PX}px", "fontWeight": 600, "boxSizing": "border-box",
             "width": f"{box.w}px", "height": f"{NODE_H}px", "lineHeight": f"{NODE_H - 2}px",
             "padding": "0 10px", "whiteSpace": "nowrap"}
    if box.down:
        style.update({"lineHeight": f"{LINE_PX}px", "whiteSpace": "normal", "overflowWrap": "anywhere",
                      "display": "flex", "alignItems": "center", "justifyContent": "center", "textAlign": "center"})
    return style


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
        id=n, pos=(b.x, b.y), data={"content": node_label(n, b.down)}, node_type="default",
        source_position="bottom" if b.down else "right", target_position="top" if b.down else "left",
        connectable=True, draggable=True, selectable=True, style=_node_style(role_of(n, roles), b),
        className=f"{NODE_CLASS}{index[n]}")
        for n, b in layout(graph.for_sampling(), roles).items()]  # associations laid out as edges
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
