"""The causal DAG the user sees and edits, and the fairness roles read off it.

A `CausalGraph` is immutable: every edit returns a new graph, so the dashboard can keep an
undo history and a generator can never see a graph change under it. Every invalid graph
(unknown node, self loop, duplicate, cycle) is refused with one line naming the culprit.
The graph algorithms (cycles, ancestors, topological order) are networkx's, run on a frozen
`nx.DiGraph` whose nodes and edges are inserted in node order, which makes them deterministic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import networkx as nx

from faircause_core.causal.question import ValueLabels
from faircause_core.errors import InputError

_KEYS = ("nodes", "edges")
#: Optional key of the graph JSON: Z - X associations (the standard fairness model's Z <-> X).
ASSOCIATIONS = "associations"


def _fmt_cycle(cycle: Sequence[str]) -> str:
    return " -> ".join(str(n) for n in cycle)


def edge_pair(e: object) -> tuple | None:
    """`e` as a (parent, child) tuple, or None when it is not a pair (a string is not)."""
    try:
        pair = tuple(e) if not isinstance(e, (str, bytes)) else ()
    except TypeError:
        return None
    return pair if len(pair) == 2 else None


def _ordered_digraph(nodes: Iterable[str], edges: Iterable[Sequence[str]]) -> nx.DiGraph:
    """A DiGraph with the nodes (then unlisted endpoints) first-seen first and edges in node order.

    networkx walks nodes and neighbours in insertion order, so this order is what makes its
    searches (which cycle is found first, tie order) deterministic.
    """
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    edges = [tuple(e) for e in edges]
    for e in edges:
        g.add_nodes_from(e)
    pos = {n: i for i, n in enumerate(g)}
    g.add_edges_from(sorted(edges, key=lambda e: (pos[e[0]], pos[e[1]])))
    return g


def _cycle_in(g: nx.DiGraph) -> list[str] | None:
    """The first cycle a depth-first search in node order meets, closed: [a, b, c, a]."""
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return None
    return [a for a, _ in cycle] + [cycle[-1][1]]


class CausalGraph:
    """Immutable DAG over named columns; edges are (parent, child) in node order.

    `associations` are (a, b) pairs joined by an association without a causal direction: the
    standard fairness model's bidirected Z <-> X (the women in a cohort are older, and nothing
    in the table causes sex). They are no edges: parents, ancestors, descendants and the
    roles ignore them. A generator draws b given a (`for_sampling`), so the association is
    kept in the synthetic rows; the topological order puts a before b, and a pair may not be
    both associated and joined by an edge.
    """

    __slots__ = ("_nodes", "_edges", "_index", "_g", "_parents", "_children", "_topo", "_assoc")

    def __init__(self, nodes: Iterable[str], edges: Iterable[Sequence[str]] = (),
                 associations: Iterable[Sequence[str]] = ()):
        nodes = tuple(nodes)
        index: dict[str, int] = {}
        for n in nodes:
            if not isinstance(n, str) or not n:
                raise InputError(f"graph node {n!r} is not a non-empty string")
            if n in index:
                raise InputError(f"graph node '{n}' appears twice")
            index[n] = len(index)
        seen: set[tuple[str, str]] = set()
        for e in edges:
            a, b = _named_pair(e, index, "edge", "[parent, child]", "->")
            if a == b:
                raise InputError(f"graph edge '{a}' -> '{b}' is a self loop")
            if (a, b) in seen:
                raise InputError(f"graph edge '{a}' -> '{b}' appears twice")
            seen.add((a, b))
        g = _ordered_digraph(nodes, seen)
        if not nx.is_directed_acyclic_graph(g):
            raise InputError(f"graph has a cycle: {_fmt_cycle(_cycle_in(g))}")
        assoc = _check_associations(associations, index, seen)
        if assoc:
            full = _ordered_digraph(nodes, seen | set(assoc))
            if not nx.is_directed_acyclic_graph(full):
                cycle = _cycle_in(full)
                raise InputError(f"graph associations and edges form a cycle ({_fmt_cycle(cycle)}, each association "
                                 f"drawn from its first column): remove an association or an edge")
        set_ = object.__setattr__
        set_(self, "_nodes", nodes)
        set_(self, "_edges", tuple(g.edges))  # (parent, child) sorted by node order
        set_(self, "_index", index)
        set_(self, "_g", nx.freeze(g))
        # Insertion order makes both lists follow node order.
        set_(self, "_parents", {n: tuple(g.pred[n]) for n in nodes})
        set_(self, "_children", {n: tuple(g.succ[n]) for n in nodes})
        set_(self, "_topo", None)
        pos = {n: i for i, n in enumerate(nodes)}
        set_(self, "_assoc", tuple(sorted(assoc, key=lambda e: (pos[e[1]], pos[e[0]]))))

    def __setattr__(self, name, value):
        raise AttributeError("CausalGraph is immutable; use add_edge/remove_edge/reverse_edge")

    def __reduce__(self):
        # Rebuild through __init__ (pickle, deepcopy, st.cache_data), re-validating on load.
        return (CausalGraph, (self._nodes, self._edges, self._assoc))

    # ----------------------------------------------------------------- basics
    @property
    def nodes(self) -> tuple[str, ...]:
        return self._nodes

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        return self._edges

    @property
    def associations(self) -> tuple[tuple[str, str], ...]:
        """(a, b) pairs associated without a causal direction; b is drawn given a."""
        return self._assoc

    def associated(self, node: str) -> tuple[str, ...]:
        """The columns `node` is drawn given through an association (the a of each (a, node))."""
        self._check(node)
        return tuple(a for a, b in self._assoc if b == node)

    def has_association(self, a: str, b: str) -> bool:
        """Whether a and b are associated, in either orientation."""
        return (a, b) in self._assoc or (b, a) in self._assoc

    def for_sampling(self) -> "CausalGraph":
        """The graph a generator fits: each association (a, b) as the edge a -> b, so b's
        mechanism reads a and the association is kept in the rows (for Z - X: X drawn from
        P(X | Z), and removing the spurious effect draws X from its marginal instead)."""
        if not self._assoc:
            return self
        return CausalGraph(self._nodes, self._edges + self._assoc)

    def __contains__(self, node: object) -> bool:
        return node in self._index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CausalGraph):
            return NotImplemented
        return (self._nodes == other._nodes and set(self._edges) == set(other._edges)
                and set(self._assoc) == set(other._assoc))

    def __hash__(self) -> int:
        return hash((self._nodes, frozenset(self._edges), frozenset(self._assoc)))

    def __repr__(self) -> str:
        more = f", {len(self._assoc)} associations" if self._assoc else ""
        return f"CausalGraph({len(self._nodes)} nodes, {len(self._edges)} edges{more})"

    def has_edge(self, a: str, b: str) -> bool:
        return b in self._children.get(a, ())

    def _check(self, node: str) -> str:
        if node not in self._index:
            raise InputError(f"'{node}' is not a node of the graph")
        return node

    def parents(self, node: str) -> tuple[str, ...]:
        """Parents in node order (a stable order for conditional tables and prompts)."""
        return self._parents[self._check(node)]

    def children(self, node: str) -> tuple[str, ...]:
        return self._children[self._check(node)]

    def ancestors(self, node: str) -> frozenset[str]:
        """All nodes with a directed path into `node` (not the node itself)."""
        return frozenset(nx.ancestors(self._g, self._check(node)))

    def descendants(self, node: str) -> frozenset[str]:
        """All nodes reachable from `node` (not the node itself)."""
        return frozenset(nx.descendants(self._g, self._check(node)))

    def topological_order(self) -> tuple[str, ...]:
        """Parents before children; among ready nodes the earliest in node order goes first.

        Deterministic so the language model always sees columns in the same order.
        """
        if self._topo is None:
            g = _ordered_digraph(self._nodes, self._edges + self._assoc) if self._assoc else self._g
            order = nx.lexicographical_topological_sort(g, key=self._index.__getitem__)
            object.__setattr__(self, "_topo", tuple(order))
        return self._topo

    # ----------------------------------------------------------------- cycles
    @staticmethod
    def find_cycle(nodes: Iterable[str], edges: Iterable[Sequence[str]]) -> list[str] | None:
        """A directed cycle as a closed node list [a, b, c, a], or None when acyclic.

        Tolerates edge endpoints missing from `nodes` (the dashboard checks a candidate edge
        before building a graph). Deterministic: search in node order, then edge order.
        """
        return _cycle_in(_ordered_digraph(nodes, edges))

    # ----------------------------------------------------------------- edits
    def _with_edges(self, edges: Iterable[tuple[str, str]], associations=None) -> "CausalGraph":
        edges = tuple(edges)
        assoc = self._assoc if associations is None else tuple(associations)
        # an edge between two associated columns replaces their association
        assoc = tuple(p for p in assoc if p not in edges and (p[1], p[0]) not in edges)
        return CausalGraph(self._nodes, edges, assoc)

    def add_edge(self, a: str, b: str) -> "CausalGraph":
        """New graph with a -> b; refuses an edge that would close a cycle, naming it. An
        association between a and b gives way to the edge (it states more: a direction)."""
        self._check(a), self._check(b)
        if a == b:
            raise InputError(f"edge '{a}' -> '{b}' would be a self loop")
        if self.has_edge(a, b):
            return self
        if self.has_edge(b, a):
            raise InputError(f"edge '{a}' -> '{b}' would close a cycle: {a} -> {b} -> {a}; "
                             f"reverse the edge '{b}' -> '{a}' instead")
        edges = self._edges + ((a, b),)
        cycle = CausalGraph.find_cycle(self._nodes, edges)
        if cycle is not None:
            raise InputError(f"edge '{a}' -> '{b}' would close a cycle: {_fmt_cycle(cycle)}")
        assoc = [p for p in self._assoc if set(p) != {a, b}]
        cycle = CausalGraph.find_cycle(self._nodes, edges + tuple(assoc))
        if cycle is not None:
            raise InputError(f"edge '{a}' -> '{b}' would close a cycle through an association: {_fmt_cycle(cycle)} "
                             f"(an association is drawn from its first column); remove that association first")
        return self._with_edges(edges, assoc)

    def add_association(self, a: str, b: str) -> "CausalGraph":
        """New graph with a and b associated (b drawn given a), e.g. a confounder and X."""
        self._check(a), self._check(b)
        if self.has_association(a, b):
            return self
        return CausalGraph(self._nodes, self._edges, self._assoc + ((a, b),))

    def remove_association(self, a: str, b: str) -> "CausalGraph":
        """New graph without the association between a and b (either orientation)."""
        self._check(a), self._check(b)
        if not self.has_association(a, b):
            raise InputError(f"the graph has no association between '{a}' and '{b}'")
        return CausalGraph(self._nodes, self._edges, [p for p in self._assoc if set(p) != {a, b}])

    def remove_edge(self, a: str, b: str) -> "CausalGraph":
        self._check(a), self._check(b)
        if not self.has_edge(a, b):
            raise InputError(f"the graph has no edge '{a}' -> '{b}'")
        return self._with_edges(e for e in self._edges if e != (a, b))

    def reverse_edge(self, a: str, b: str) -> "CausalGraph":
        """New graph with a -> b turned into b -> a; refuses it if that closes a cycle."""
        self._check(a), self._check(b)
        if not self.has_edge(a, b):
            raise InputError(f"the graph has no edge '{a}' -> '{b}' to reverse")
        edges = tuple(e for e in self._edges if e != (a, b)) + ((b, a),)
        cycle = CausalGraph.find_cycle(self._nodes, edges)
        if cycle is not None:
            raise InputError(f"reversing '{a}' -> '{b}' would close a cycle: {_fmt_cycle(cycle)}")
        return self._with_edges(edges)

    def subgraph(self, nodes: Iterable[str]) -> "CausalGraph":
        """The graph on these nodes (kept in this graph's order) and the edges among them."""
        keep = {self._check(n) for n in nodes}
        return CausalGraph([n for n in self._nodes if n in keep],
                           [e for e in self._edges if e[0] in keep and e[1] in keep],
                           [e for e in self._assoc if e[0] in keep and e[1] in keep])

    def renamed(self, names: dict) -> "CausalGraph":
        """The same graph with nodes renamed by `names` (old -> new; others kept)."""
        r = lambda n: names.get(n, n)  # noqa: E731
        return CausalGraph([r(n) for n in self._nodes], [(r(a), r(b)) for a, b in self._edges],
                           [(r(a), r(b)) for a, b in self._assoc])

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        """{"nodes", "edges"}, and "associations" when there are any (older readers' shape)."""
        d = {"nodes": list(self._nodes), "edges": [[a, b] for a, b in self._edges]}
        if self._assoc:
            d[ASSOCIATIONS] = [[a, b] for a, b in self._assoc]
        return d

    @classmethod
    def from_dict(cls, d: object, source: str = "graph") -> "CausalGraph":
        """Validate the {"nodes": [...], "edges": [[parent, child], ...]} shape, then build."""
        if not isinstance(d, dict):
            raise InputError(f"{source}: expected an object with keys 'nodes' and 'edges', got {type(d).__name__}")
        missing = [k for k in _KEYS if k not in d]
        if missing:
            raise InputError(f"{source}: missing key '{missing[0]}' (expected 'nodes' and 'edges')")
        extra = sorted(str(k) for k in d if k not in _KEYS + (ASSOCIATIONS,))
        if extra:
            raise InputError(f"{source}: unknown key '{extra[0]}' (expected only 'nodes', 'edges' and "
                             f"'{ASSOCIATIONS}')")
        nodes, edges = d["nodes"], d["edges"]
        if not isinstance(nodes, list):
            raise InputError(f"{source}: 'nodes' must be a list of column names")
        for n in nodes:
            if not isinstance(n, str):
                raise InputError(f"{source}: node {n!r} is not a string")
        if not isinstance(edges, list):
            raise InputError(f"{source}: 'edges' must be a list of [parent, child] pairs")
        for e in edges:
            if not (isinstance(e, list) and len(e) == 2 and all(isinstance(n, str) for n in e)):
                raise InputError(f"{source}: edge {json.dumps(e)} is not a [parent, child] pair of names")
        assoc = d.get(ASSOCIATIONS, [])
        if not isinstance(assoc, list):
            raise InputError(f"{source}: '{ASSOCIATIONS}' must be a list of [column, column] pairs")
        for e in assoc:
            if not (isinstance(e, list) and len(e) == 2 and all(isinstance(n, str) for n in e)):
                raise InputError(f"{source}: association {json.dumps(e)} is not a [column, column] pair of names")
        try:
            return cls(nodes, edges, assoc)
        except InputError as err:
            raise InputError(f"{source}: {err}") from None

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text; with an indent, one edge per line so a diff shows one edit per line."""
        if indent is None:
            return json.dumps(self.to_dict())
        pad = " " * indent
        edges = f",\n{pad * 2}".join(json.dumps([a, b]) for a, b in self._edges)
        edges = f"[\n{pad * 2}{edges}\n{pad}]" if self._edges else "[]"
        more = ""
        if self._assoc:
            pairs = f",\n{pad * 2}".join(json.dumps([a, b]) for a, b in self._assoc)
            more = f',\n{pad}"{ASSOCIATIONS}": [\n{pad * 2}{pairs}\n{pad}]'
        return f'{{\n{pad}"nodes": {json.dumps(list(self._nodes))},\n{pad}"edges": {edges}{more}\n}}'

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "graph JSON") -> "CausalGraph":
        try:
            d = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as err:
            raise InputError(f"{source} is not valid JSON: {err}") from None
        except RecursionError:  # "[[[[..." deeper than the decoder's recursion limit
            raise InputError(f"{source} is nested too deeply to be a graph") from None
        return cls.from_dict(d, source=source)

    @classmethod
    def load(cls, path: str | Path) -> "CausalGraph":
        """Read a DAG JSON file; errors name the file."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{p}: DAG file not found") from None
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"{p}: cannot read DAG file ({err})") from None
        return cls.from_json(text, source=str(p))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


#: Why an association is drawn dashed and without an arrowhead (the editor's tooltip, the CLI).
ASSOCIATION_WHY = ("the standard fairness model lets {a} and {b} go together (the women of a cohort may be older, "
                   "or more often of one race) with nothing in the table causing {b}: {a} <-> {b}, an assumption, "
                   "not a measured association, and no causal arrow. The generators draw {b} given {a}, so any "
                   "spurious part of the gap it carries is kept unless you remove it")


def _named_pair(e, index: dict, what: str, shape: str, sep: str) -> tuple[str, str]:
    """`e` as (a, b) of two known node names, else one line naming what is wrong."""
    pair = edge_pair(e)
    if pair is None:
        raise InputError(f"graph {what} {e!r} is not a {shape} pair")
    a, b = pair
    for n in (a, b):
        if not isinstance(n, str) or n not in index:
            raise InputError(f"graph {what} {a!r} {sep} {b!r} names unknown node {n!r}")
    return a, b


def _check_associations(associations, index: dict, edges: set) -> list[tuple[str, str]]:
    """The association pairs, validated in one line each: known nodes, no self pair, no pair
    twice (in either orientation), none between columns an edge already joins."""
    out: list[tuple[str, str]] = []
    for e in associations or ():
        a, b = _named_pair(e, index, "association", "[column, column]", "-")
        if a == b:
            raise InputError(f"graph association '{a}' - '{b}' joins a column to itself")
        if (a, b) in out or (b, a) in out:
            raise InputError(f"graph association '{a}' - '{b}' appears twice")
        if (a, b) in edges or (b, a) in edges:
            raise InputError(f"'{a}' and '{b}' are joined by an edge and an association; keep one")
        out.append((a, b))
    return out


@dataclass(frozen=True)
class Roles:
    """The fairness roles: X sensitive, Y outcome, Z confounders, W mediators, other."""

    x: str
    y: str
    z: tuple = ()
    w: tuple = ()
    other: tuple = ()
    x0: object = None
    x1: object = None
    threshold: float | None = None
    positive: object = None  # the Y value that counts as 1 (None: the coding rule decides)
    labels: object = None  # question.ValueLabels: the words for X's groups and Y's values

    def to_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "z": list(self.z), "w": list(self.w),
                "other": list(self.other), "x0": self.x0, "x1": self.x1, "threshold": self.threshold,
                "positive": self.positive, "labels": self.labels.to_dict() if self.labels else None}

    @classmethod
    def from_dict(cls, d: dict) -> "Roles":
        return cls(d["x"], d["y"], tuple(d.get("z", ())), tuple(d.get("w", ())),
                   tuple(d.get("other", ())), d.get("x0"), d.get("x1"), d.get("threshold"), d.get("positive"),
                   ValueLabels.from_dict(d.get("labels")) or None)


def derive_roles(graph: CausalGraph, x: str, y: str, x0=None, x1=None, threshold=None, positive=None,
                 labels=None) -> Roles:
    """Read Z, W and the rest off the DAG (standard fairness model), in topological order.

    Z: not descendants of X, ancestors of Y. W: descendants of X, ancestors of Y.
    Refuses a graph where the outcome causes the sensitive attribute.
    """
    for role, n in (("sensitive attribute", x), ("outcome", y)):
        if n not in graph:
            raise InputError(f"{role} '{n}' is not a node of the graph")
    if x == y:
        raise InputError(f"sensitive attribute and outcome are the same column '{x}'")
    if y in graph.ancestors(x):
        raise InputError(f"outcome '{y}' is an ancestor of sensitive attribute '{x}' in the graph; "
                         f"the outcome cannot cause X")
    de_x, an_y = graph.descendants(x), graph.ancestors(y)
    z, w, other = [], [], []
    for n in graph.topological_order():
        if n in (x, y):
            continue
        if n in an_y:
            (w if n in de_x else z).append(n)
        else:
            other.append(n)
    return Roles(x, y, tuple(z), tuple(w), tuple(other), x0, x1, threshold, positive,
                 ValueLabels.from_dict(labels) or None)
