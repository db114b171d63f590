"""Background knowledge that constrains discovery and checks a user-edited DAG.

Unconstrained structure search on the demo cohort proposes edges such as weight -> sex
and death -> cholesterol: statistically fine, causally absurd. Tiers (baseline columns,
then X, then everything else, then Y) and "nothing leaves the outcome" rule them out.
Columns recorded after the outcome (follow-up time, cause of death) form a last tier:
they may depend on anything, Y included, but cause nothing that is not after-outcome,
so they can never act as confounders or mediators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import permutations
from typing import Iterable

from faircause_core.errors import InputError
from faircause_core.causal.graph import CausalGraph, edge_pair


def _name_set(names, what: str) -> set[str]:
    if isinstance(names, str):
        names = {names}
    out = set(names or ())
    for n in out:
        if not isinstance(n, str):
            raise InputError(f"{what} entry {n!r} is not a column name")
    return out


def _edge_set(edges, what: str) -> set[tuple[str, str]]:
    out = set()
    for e in edges or ():
        pair = edge_pair(e)
        if pair is None or not all(isinstance(n, str) for n in pair):
            raise InputError(f"{what} edge {e!r} is not a [parent, child] pair of column names")
        out.add(pair)
    return out


@dataclass
class BackgroundKnowledge:
    """Forbidden/required edges, ordered tiers (no edge back to an earlier tier), sinks.

    Nodes in no tier are unconstrained by tiers. Edges within a tier are allowed.
    `after_outcome` columns are recorded after Y: an edge from one of them into a column
    that is not after-outcome is refused, and a `no_outgoing` column (Y) may still point
    into them (death -> cause of death).
    """

    forbidden: set = field(default_factory=set)
    required: set = field(default_factory=set)
    tiers: list = field(default_factory=list)
    no_outgoing: set = field(default_factory=set)
    after_outcome: set = field(default_factory=set)

    def __post_init__(self):
        self.forbidden = _edge_set(self.forbidden, "forbidden")
        self.required = _edge_set(self.required, "required")
        tiers = []
        for t in self.tiers or ():
            if isinstance(t, (str, bytes)) or not isinstance(t, Iterable) or not all(isinstance(n, str) for n in t):
                raise InputError(f"tier {t!r} is not a list of column names")
            tiers.append(list(t))
        self.tiers = tiers
        self.no_outgoing = _name_set(self.no_outgoing, "no_outgoing")
        self.after_outcome = _name_set(self.after_outcome, "after_outcome")
        self._tier_cache = None
        self._tiers_map()
        for a, b in sorted(self.required):
            why = self._refusal(a, b)
            if why:
                raise InputError(f"required edge {a} -> {b} contradicts the background knowledge: {why}")
        cycle = CausalGraph.find_cycle([], sorted(self.required))
        if cycle:
            raise InputError(f"required edges form a cycle: {' -> '.join(cycle)}")

    @classmethod
    def empty(cls) -> "BackgroundKnowledge":
        """No constraints at all (discovery still keeps the outcome a sink)."""
        return cls()

    def _tiers_map(self) -> dict[str, int]:
        """Column -> tier index, rebuilt if `tiers` was edited in place (the dataclass is mutable)."""
        key = tuple(tuple(t) for t in self.tiers)
        if self._tier_cache is None or self._tier_cache[0] != key:
            tier_of: dict[str, int] = {}
            for i, t in enumerate(self.tiers):
                for n in t:
                    if n in tier_of:
                        raise InputError(f"column '{n}' is in two tiers ({tier_of[n] + 1} and {i + 1})")
                    tier_of[n] = i
            self._tier_cache = (key, tier_of)
        return self._tier_cache[1]

    def tier_of(self, node: str) -> int | None:
        return self._tiers_map().get(node)

    def _refusal(self, a: str, b: str) -> str | None:
        """Why a -> b is not allowed (one clause), or None."""
        if a == b:
            return f"'{a}' -> '{b}' is a self loop"
        if a in self.after_outcome and b not in self.after_outcome:
            return f"'{a}' is recorded after the outcome, so it cannot cause '{b}'"
        if a in self.no_outgoing and b not in self.after_outcome:
            return f"'{a}' may have no outgoing edges"
        if (a, b) in self.forbidden:
            return f"edge {a} -> {b} is forbidden"
        tier_of = self._tiers_map()
        ta, tb = tier_of.get(a), tier_of.get(b)
        if ta is not None and tb is not None and ta > tb:
            return f"'{a}' (tier {ta + 1}) comes after '{b}' (tier {tb + 1})"
        return None

    def allows(self, a: str, b: str) -> bool:
        return self._refusal(a, b) is None

    def why_not(self, a: str, b: str) -> str | None:
        """Why the edge a -> b is refused (one clause), or None when it is allowed."""
        return self._refusal(a, b)

    def disallowed(self, nodes: Iterable[str]) -> set[tuple[str, str]]:
        """Every ordered pair among `nodes` that may not be an edge (for the search)."""
        return {(a, b) for a, b in permutations(list(nodes), 2) if not self.allows(a, b)}

    def violations(self, graph: CausalGraph) -> list[str]:
        """Human sentences, one per problem: edges the knowledge refuses, required edges missing."""
        out = []
        for a, b in graph.edges:
            why = self._refusal(a, b)
            if why:
                out.append(f"The edge {a} -> {b} is not allowed: {why}.")
        for a, b in sorted(self.required):
            if a not in graph or b not in graph:
                missing = a if a not in graph else b
                out.append(f"The required edge {a} -> {b} names '{missing}', which is not in the graph.")
            elif not graph.has_edge(a, b):
                out.append(f"The required edge {a} -> {b} is missing.")
        return out

    def to_dict(self) -> dict:
        return {
            "forbidden": [list(e) for e in sorted(self.forbidden)],
            "required": [list(e) for e in sorted(self.required)],
            "tiers": [list(t) for t in self.tiers],
            "no_outgoing": sorted(self.no_outgoing),
            "after_outcome": sorted(self.after_outcome),
        }

    @classmethod
    def from_dict(cls, d: object, source: str = "background knowledge") -> "BackgroundKnowledge":
        if not isinstance(d, dict):
            raise InputError(f"{source}: expected an object, got {type(d).__name__}")
        keys = ("forbidden", "required", "tiers", "no_outgoing", "after_outcome")  # dicts may omit any
        extra = sorted(str(k) for k in d if k not in keys)
        if extra:
            raise InputError(f"{source}: unknown key '{extra[0]}' (expected {', '.join(keys)})")
        for k in keys:
            if k in d and not isinstance(d[k], list):
                raise InputError(f"{source}: '{k}' must be a list")
        try:
            for k in ("no_outgoing", "after_outcome"):
                if not all(isinstance(n, str) for n in d.get(k, [])):
                    raise InputError(f"'{k}' must be a list of column names")
            return cls(d.get("forbidden", []), d.get("required", []), d.get("tiers", []),
                       set(d.get("no_outgoing", [])), set(d.get("after_outcome", [])))
        except InputError as err:
            raise InputError(f"{source}: {err}") from None


def check_column_marks(columns: Iterable[str], x: str, y: str, fixed: Iterable[str] = (),
                       after_outcome: Iterable[str] = (), exclude: Iterable[str] = ()) -> None:
    """Refuse, in one line, marks that contradict each other or name no column.

    A column has at most one mark (fixed, after the outcome, excluded); X and Y have none,
    since the question needs them as they are.
    """
    columns = list(columns)
    known = set(columns)
    for role, n in (("sensitive attribute", x), ("outcome", y)):
        if n not in known:
            raise InputError(f"{role} '{n}' is not a column")
    if x == y:
        raise InputError(f"sensitive attribute and outcome are the same column '{x}'")
    marked: dict[str, str] = {}
    for label, mark, names in (("fixed", "fixed", fixed), ("after-outcome", "recorded after the outcome", after_outcome),
                               ("excluded", "excluded", exclude)):
        for n in ((names,) if isinstance(names, str) else names):
            if n not in known:
                raise InputError(f"{label} column '{n}' is not a column")
            if n in (x, y):
                role = "sensitive attribute" if n == x else "outcome"
                raise InputError(f"'{n}' cannot be both {mark} and the {role}")
            if n in marked and marked[n] != mark:
                raise InputError(f"'{n}' is marked both {marked[n]} and {mark}; choose one")
            marked[n] = mark


def default_knowledge(nodes: Iterable[str], x: str, y: str, fixed: Iterable[str] = (),
                      after_outcome: Iterable[str] = ()) -> BackgroundKnowledge:
    """Tiers [fixed, [x], everything else, [y], after_outcome]; nothing out of y but into them.

    Putting the fixed columns first also means no non-fixed column can point into them;
    after-outcome columns come last and may have any parent, Y included.
    """
    nodes = list(nodes)
    fixed = list(dict.fromkeys([fixed] if isinstance(fixed, str) else fixed))
    after = list(dict.fromkeys([after_outcome] if isinstance(after_outcome, str) else after_outcome))
    check_column_marks(nodes, x, y, fixed, after)
    rest = [n for n in nodes if n not in fixed and n not in after and n not in (x, y)]
    tiers = [t for t in (fixed, [x], rest, [y], after) if t]
    return BackgroundKnowledge(set(), set(), tiers, {y}, set(after))
