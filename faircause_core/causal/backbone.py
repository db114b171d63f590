"""The standard fairness model as the graph's backbone: its edges are assumed, not searched.

Plecko & Bareinboim's standard fairness model has the cluster edges Z -> W, Z -> Y, X -> W,
X -> Y and W -> Y, and Z <-> X: the confounders and X are associated, with no causal
direction claimed (nothing in a patient table causes sex or race). The backbone draws that
as an association z - X per confounder (`CausalGraph.associations`; the generators draw X
given Z, so the spurious effect is kept), not as an arrow z -> X that reads "age causes
sex". Leaving one out is a strong causal claim (e.g. "sex has no direct effect on death"),
and a BIC search on a few thousand binned rows is no evidence of it: on real cohorts it
dropped X -> Y although the audit measured a direct effect whose interval excluded 0. So the
backbone keeps every one of them unless the user removes it.

Column-level rule. Z = the fixed (baseline) columns; A = the columns recorded after the
outcome; W = every other column (not X, not Y, not fixed, not after-outcome), i.e. the
columns between X and Y in the tiers. The backbone adds the association z - X for every z
(unless an edge z -> X is there already), X -> w and z -> w for every w, X -> Y, z -> Y,
w -> Y, and Y -> a for every a (an after-outcome column is recorded because of the outcome or
after it, so the graph says so: the descendants of Y are exactly what a predictor of Y must
never see). Edges within Z and within W, and the other edges into or within A, come from the
input graph (discovery's). A backbone edge that the background knowledge refuses (e.g. a
user-forbidden edge) is not added and is reported in `BackboneResult.refused`.

Why the result has no cycle. Order the clusters Z < X < W < Y < A. Every backbone edge (and
association, drawn from z to X for sampling) goes from an earlier cluster to a later one,
and an input edge across clusters must go forward too (`Clusters.backward` refuses the
others; the default tiers and discovery's knowledge never produce one). A directed cycle
returns to where it started, so it cannot cross a cluster boundary, which only ever moves
forward: it would lie inside one cluster, where every edge is the input graph's, and that
graph is a DAG.
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
        """Every backbone edge, in node order of the parent then the child (Z - X is an
        association, not an edge: `associations`)."""
        x, y = self.x, self.y
        out = [(x, w) for w in self.w] + [(z, w) for z in self.z for w in self.w]
        out += [(x, y)] + [(z, y) for z in self.z] + [(w, y) for w in self.w] + [(y, a) for a in self.after]
        pos = {n: i for i, n in enumerate(self.columns)}
        return sorted(out, key=lambda e: (pos[e[0]], pos[e[1]]))

    def associations(self) -> list[tuple[str, str]]:
        """The standard fairness model's Z <-> X as (z, X) pairs, in node order of z."""
        return [(z, self.x) for z in self.z]

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


def roles_rule(x: str) -> str:
    """How the backbone makes roles, in one sentence for the graph page and the CLI."""
    return (f"Columns not marked as baseline (fixed) or as recorded after the outcome are treated as possible "
            f"mediators of {x}; mark the ones fixed before {x} (age, race, birth year...) as baseline, and follow-up "
            f"time or anything recorded after the outcome as such.")


def _names(names) -> list[str]:
    return [names] if isinstance(names, str) else list(dict.fromkeys(names or ()))


@dataclass(frozen=True)
class BackboneResult:
    """A graph with the backbone, and where each of its edges comes from.

    `found`: the input (discovered) graph; `assumed`: backbone edges it lacked, now added;
    `associated`: the Z - X associations added; `refused`: (parent, child, reason) for
    backbone edges (and associations) the knowledge does not allow.
    Every edge of `graph` is in `found.edges` or in `assumed`, never both.
    """

    graph: CausalGraph
    found: CausalGraph
    assumed: tuple = ()
    refused: tuple = ()
    associated: tuple = ()
    searched_rows: int = 0  # rows the search saw (a stratified subsample above its cap); 0: not recorded

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
    """(clusters, allowed backbone edges, refused ones with reasons, allowed associations).
    An association z - X the knowledge refuses as an edge z -> X (the user forbade it) is
    refused too: the user said the two are not linked that way."""
    kn = _knowledge(columns, x, y, fixed, after_outcome, knowledge)
    clusters = Clusters(columns, x, y, fixed, set(_names(after_outcome)) | (kn.after_outcome & set(columns)))
    allowed, refused, assoc = [], [], []
    pos = {n: i for i, n in enumerate(columns)}
    both = [(e, False) for e in clusters.edges()] + [(e, True) for e in clusters.associations()]
    for (a, b), is_assoc in sorted(both, key=lambda t: (pos[t[0][0]], pos[t[0][1]])):
        why = kn.why_not(a, b)
        if why:
            refused.append((a, b, why))
        else:
            (assoc if is_assoc else allowed).append((a, b))
    return clusters, allowed, refused, assoc


def backbone_edges(columns: Iterable[str], x: str, y: str, fixed: Iterable[str] = (),
                   after_outcome: Iterable[str] = (), knowledge=None) -> list[tuple[str, str]]:
    """The backbone's edges over `columns` that the knowledge allows (None: the default tiers)."""
    return _split(list(columns), x, y, fixed, after_outcome, knowledge)[1]


def backbone_associations(columns: Iterable[str], x: str, y: str, fixed: Iterable[str] = (),
                          after_outcome: Iterable[str] = (), knowledge=None) -> list[tuple[str, str]]:
    """The backbone's Z - X associations over `columns` that the knowledge allows."""
    return _split(list(columns), x, y, fixed, after_outcome, knowledge)[3]


def backbone_report(graph: CausalGraph, x: str, y: str, fixed: Iterable[str] = (),
                    after_outcome: Iterable[str] = (), knowledge=None) -> BackboneResult:
    """`graph` plus every allowed backbone edge it lacks, with which edges were assumed.

    Refuses (one line) a graph edge that runs against the cluster order, e.g. a mediator
    pointing into X or a fixed column: the merged graph could otherwise have a cycle.
    """
    if not isinstance(graph, CausalGraph):
        raise InputError(f"expected a CausalGraph, got {type(graph).__name__}")
    clusters, allowed, refused, assoc = _split(list(graph.nodes), x, y, fixed, after_outcome, knowledge)
    for a, b in graph.edges:
        why = clusters.backward(a, b)
        if why:
            raise InputError(f"the edge {a} -> {b} contradicts the standard fairness model: {why}")
    assumed = tuple(e for e in allowed if not graph.has_edge(*e))
    associated = tuple(e for e in assoc if not graph.has_edge(*e) and not graph.has_association(*e))
    merged = CausalGraph(graph.nodes, graph.edges + assumed, graph.associations + associated)
    return BackboneResult(merged, graph, assumed, tuple(refused), associated)


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


@dataclass(frozen=True)
class MarkChange:
    """`apply_marks`'s result: the graph with the marks applied and what changed, in words."""

    graph: CausalGraph
    removed: tuple = ()      # (parent, child, why)
    added: tuple = ()        # (parent, child)
    associations: tuple = ()  # (a, b, "added" | "removed")

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.added or self.associations)

    def lines(self) -> list[str]:
        out = [f"removed {a} -> {b}: {why}" for a, b, why in self.removed]
        out += [f"added {a} -> {b} (the standard fairness model's edge for the new mark)" for a, b in self.added]
        out += [f"{what} the association {a} - {b}" for a, b, what in self.associations]
        return out


def apply_marks(graph: CausalGraph, x: str, y: str, fixed: Iterable[str] = (), after_outcome: Iterable[str] = (),
                columns: Iterable[str] | None = None) -> MarkChange:
    """The current graph with the marks of `columns` (default: every column) applied at once,
    as discovery would have drawn them: each edge at such a column that the marks now refuse
    is removed (out of a column recorded after the outcome into an earlier one; into a fixed
    column from a later one; out of Y into a column no longer recorded after it), and the
    backbone's edges at it are added (Y -> a for a column recorded after the outcome; the
    association z - X, z -> w and z -> Y for a fixed one; X -> w, z -> w, w -> Y for a column
    that is neither). Edges at other columns are left as the user drew them, so a mark changed
    later never undoes an edit elsewhere. An added edge that would close a cycle is skipped.
    """
    if not isinstance(graph, CausalGraph):
        raise InputError(f"expected a CausalGraph, got {type(graph).__name__}")
    nodes = list(graph.nodes)
    fixed = [c for c in _names(fixed) if c in graph]
    after = [c for c in _names(after_outcome) if c in graph]
    clusters, allowed, _, assoc = _split(nodes, x, y, fixed, after, None)
    kn = default_knowledge(nodes, x, y, fixed, after)
    touched = set(nodes if columns is None else (c for c in _names(columns) if c in graph)) - {x, y}
    removed, added, assoc_changes = [], [], []
    g = graph
    for a, b in graph.edges:
        if a in touched or b in touched:
            why = clusters.backward(a, b) or kn.why_not(a, b)
            if why:
                g = g.remove_edge(a, b)
                removed.append((a, b, why))
    for a, b in graph.associations:
        if (a in touched or b in touched) and (a, b) not in assoc:
            g = g.remove_association(a, b)
            assoc_changes.append((a, b, "removed"))
    for a, b in allowed:
        if (a in touched or b in touched) and not g.has_edge(a, b) and not g.has_association(a, b):
            if CausalGraph.find_cycle(g.nodes, g.edges + g.associations + ((a, b),)) is None:
                g = g.add_edge(a, b)
                added.append((a, b))
    for a, b in assoc:
        if (a in touched or b in touched) and not g.has_edge(a, b) and not g.has_association(a, b):
            if CausalGraph.find_cycle(g.nodes, g.edges + g.associations + ((a, b),)) is None:
                g = g.add_association(a, b)
                assoc_changes.append((a, b, "added"))
    return MarkChange(g, tuple(removed), tuple(added), tuple(assoc_changes))


def marks_changed(before: dict | None, fixed: Iterable[str], after_outcome: Iterable[str]) -> list[str]:
    """The columns whose mark (fixed, after the outcome, none) differs from `before`
    ({"fixed": [...], "after_outcome": [...]}, the marks a graph was made or last fitted with)."""
    if not before:
        return []
    old_f, old_a = set(before.get("fixed") or ()), set(before.get("after_outcome") or ())
    new_f, new_a = set(_names(fixed)), set(_names(after_outcome))
    return sorted((old_f ^ new_f) | (old_a ^ new_a))

