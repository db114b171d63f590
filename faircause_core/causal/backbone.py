"""The standard fairness model as the graph's backbone: its edges are assumed, not searched.

Plecko & Bareinboim's standard fairness model has the cluster edges Z -> X, Z -> W, Z -> Y,
X -> W, X -> Y and W -> Y. Leaving one out is a strong causal claim (e.g. "sex has no
direct effect on death"), and a BIC search on a few thousand binned rows is no evidence of
it: on real cohorts it dropped X -> Y although the audit measured a direct effect whose
interval excluded 0. So the backbone keeps every one of them unless the user removes it.

Column-level rule. Z = the fixed (baseline) columns; A = the columns recorded after the
outcome; W = every other column (not X, not Y, not fixed, not after-outcome), i.e. the
columns between X and Y in the tiers. The backbone adds z -> X for every z, X -> w and
z -> w for every w, X -> Y, z -> Y, w -> Y, and Y -> a for every a (an after-outcome
column is recorded because of the outcome or after it, so the graph says so: the
descendants of Y are exactly what a predictor of Y must never see). Edges within Z and
within W, and the other edges into or within A, come from the input graph (discovery's). A
backbone edge that the background knowledge refuses (e.g. a user-forbidden edge) is not
added and is reported in `BackboneResult.refused`.

Why the result has no cycle. Order the clusters Z < X < W < Y < A. Every backbone edge
goes from an earlier cluster to a later one, and an input edge across clusters must go
forward too (`Clusters.backward` refuses the others; the default tiers and discovery's
knowledge never produce one). A directed cycle returns to where it started, so it
cannot cross a cluster boundary, which only ever moves forward: it would lie inside one
cluster, where every edge is the input graph's, and that graph is a DAG.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from faircause_core.errors import InputError
from faircause_core.causal.graph import CausalGraph
from faircause_core.causal.knowledge import BackgroundKnowledge, check_column_marks, default_knowledge

_Z, _X, _W, _Y, _A = range(5)


class Clusters:
    """The standard fairness model's clusters of a column list, in the order Z < X < W < Y < A."""

    def __init__(self, columns: Iterable[str], x: str, y: str, fixed: Iterable[str] = (),
                 after_outcome: Iterable[str] = ()):
        columns = list(columns)
        fixed, after = _names(fixed), _names(after_outcome)
        check_column_marks(columns, x, y, fixed, after)
        self.columns, self.x, self.y = columns, x, y
        self.rank = {}
        for n in columns:
            self.rank[n] = (_X if n == x else _Y if n == y else _Z if n in fixed else _A if n in after else _W)
        self.z = [n for n in columns if self.rank[n] == _Z]
        self.w = [n for n in columns if self.rank[n] == _W]
        self.after = [n for n in columns if self.rank[n] == _A]

    def edges(self) -> list[tuple[str, str]]:
        """Every backbone edge, in node order of the parent then the child."""
        x, y = self.x, self.y
        out = [(z, x) for z in self.z] + [(x, w) for w in self.w] + [(z, w) for z in self.z for w in self.w]
        out += [(x, y)] + [(z, y) for z in self.z] + [(w, y) for w in self.w] + [(y, a) for a in self.after]
        pos = {n: i for i, n in enumerate(self.columns)}
        return sorted(out, key=lambda e: (pos[e[0]], pos[e[1]]))

    def backward(self, a: str, b: str) -> str | None:
        """Why a -> b runs against the cluster order (one clause), or None when it does not."""
        ra, rb = self.rank[a], self.rank[b]
        if ra <= rb:
            return None
        if ra == _A:
            return f"'{a}' is recorded after the outcome, so it cannot cause '{b}'"
        if ra == _Y:
            return f"'{a}' is the outcome, so it can only point into columns recorded after it"
        if rb == _Z:
            return f"'{b}' is fixed (a baseline column), so '{a}' cannot cause it"
        return (f"'{a}' is not fixed, so the standard fairness model places it after '{b}'; "
                f"mark '{a}' fixed if nothing in the table can cause it")


def _names(names) -> list[str]:
    return [names] if isinstance(names, str) else list(dict.fromkeys(names or ()))


@dataclass(frozen=True)
class BackboneResult:
    """A graph with the backbone, and where each of its edges comes from.

    `found`: the input (discovered) graph; `assumed`: backbone edges it lacked, now added;
    `refused`: (parent, child, reason) for backbone edges the knowledge does not allow.
    Every edge of `graph` is in `found.edges` or in `assumed`, never both.
    """

    graph: CausalGraph
    found: CausalGraph
    assumed: tuple = ()
    refused: tuple = ()

    @property
    def found_edges(self) -> tuple:
        return self.found.edges


def _knowledge(columns, x, y, fixed, after, knowledge) -> BackgroundKnowledge:
    if knowledge is None:
        return default_knowledge(columns, x, y, fixed, after)
    if isinstance(knowledge, dict):
        return BackgroundKnowledge.from_dict(knowledge)
    if not isinstance(knowledge, BackgroundKnowledge):
        raise InputError(f"knowledge must be BackgroundKnowledge, got {type(knowledge).__name__}")
    return knowledge


def _split(columns, x, y, fixed, after_outcome, knowledge):
    """(clusters, allowed backbone edges, refused ones with reasons)."""
    kn = _knowledge(columns, x, y, fixed, after_outcome, knowledge)
    clusters = Clusters(columns, x, y, fixed, set(_names(after_outcome)) | (kn.after_outcome & set(columns)))
    allowed, refused = [], []
    for a, b in clusters.edges():
        why = kn.why_not(a, b)
        if why:
            refused.append((a, b, why))
        else:
            allowed.append((a, b))
    return clusters, allowed, refused


def backbone_edges(columns: Iterable[str], x: str, y: str, fixed: Iterable[str] = (),
                   after_outcome: Iterable[str] = (), knowledge=None) -> list[tuple[str, str]]:
    """The backbone's edges over `columns` that the knowledge allows (None: the default tiers)."""
    return _split(list(columns), x, y, fixed, after_outcome, knowledge)[1]


def backbone_report(graph: CausalGraph, x: str, y: str, fixed: Iterable[str] = (),
                    after_outcome: Iterable[str] = (), knowledge=None) -> BackboneResult:
    """`graph` plus every allowed backbone edge it lacks, with which edges were assumed.

    Refuses (one line) a graph edge that runs against the cluster order, e.g. a mediator
    pointing into X or a fixed column: the merged graph could otherwise have a cycle.
    """
    if not isinstance(graph, CausalGraph):
        raise InputError(f"expected a CausalGraph, got {type(graph).__name__}")
    clusters, allowed, refused = _split(list(graph.nodes), x, y, fixed, after_outcome, knowledge)
    for a, b in graph.edges:
        why = clusters.backward(a, b)
        if why:
            raise InputError(f"the edge {a} -> {b} contradicts the standard fairness model: {why}")
    assumed = tuple(e for e in allowed if not graph.has_edge(*e))
    merged = CausalGraph(graph.nodes, graph.edges + assumed)
    return BackboneResult(merged, graph, assumed, tuple(refused))


def with_backbone(graph: CausalGraph, x: str, y: str, fixed: Iterable[str] = (),
                  after_outcome: Iterable[str] = (), knowledge=None) -> CausalGraph:
    """`graph` with every allowed backbone edge added (see `backbone_report`)."""
    return backbone_report(graph, x, y, fixed, after_outcome, knowledge).graph


def assumed_edges(graph: CausalGraph, found: CausalGraph) -> list[tuple[str, str]]:
    """Edges of `graph` (e.g. the edited graph) that discovery did not find, in node order.

    The dashboard keeps the discovered graph; after edits this still tells the edges the
    data supported from those assumed by the backbone or drawn by the user.
    """
    return [e for e in graph.edges if not found.has_edge(*e)]
