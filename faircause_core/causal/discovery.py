"""Causal discovery on a patient table, constrained by background knowledge.

Data are discretized first (quantile bins for numbers, missing as its own state) so one
discrete score (pgmpy's "bic-d") or test (chi-square) covers mixed tables. pgmpy does the
search through its public API, the knowledge handed over as an `ExpertKnowledge`; the result
is then passed through `_to_dag`, which enforces the knowledge as hard rules (pgmpy's PC
only treats knowledge as hints), so the output never has an edge out of Y (except into a
column recorded after the outcome), a tier violation or a cycle. By default the standard
fairness model's backbone (`causal.backbone`) is then added: the search decides the edges
within the baseline columns, within the mediators and into the after-outcome columns, not
whether X -> Y exists; with it, no arrow into X is searched (the baseline columns and X are
joined by the backbone's associations instead: nothing in the table causes sex).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import replace
from itertools import permutations

import networkx as nx
import numpy as np
import pandas as pd

from faircause_core.io.binning import MISSING, Binner
from faircause_core.errors import InputError
from faircause_core.causal.graph import CausalGraph
from faircause_core.causal.backbone import BackboneResult, Clusters, backbone_report
from faircause_core.causal.knowledge import BackgroundKnowledge, check_column_marks, default_knowledge

METHODS = ("hillclimb", "pc")
#: Above this many rows the search runs on a seeded subsample: BIC decisions barely move
#: past it, and the time grows linearly with rows.
MAX_DISCOVERY_ROWS = 20_000
#: PC's cap is lower: with many rows every chi-square test rejects, the skeleton stays
#: dense and the number of tests explodes (bootstrapped cohort: 5k rows took 30-85 s).
MAX_PC_ROWS = 3_000
PC_SIGNIFICANCE = 0.01
#: Size of the seeded tie-breaking bonus per edge (see `_tie_broken_bic`): far below any real
#: BIC difference (hill climbing stops at gains under 1e-4), far above float rounding (~1e-11).
TIE_BREAK = 1e-6


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _category_codes(s: pd.Series, categories) -> np.ndarray:
    """Codes by the schema's category order (unseen values appended), MISSING for NaN."""
    observed = s.dropna().unique().tolist()
    cats = list(categories) if categories else []
    known = set(cats)
    cats += sorted((v for v in observed if v not in known), key=lambda v: (not _is_number(v), str(v)))
    lookup = {v: i for i, v in enumerate(cats)}
    return s.map(lookup).fillna(MISSING).to_numpy(dtype=np.int64)


def discretize(df: pd.DataFrame, schema=None, bins: int = 4) -> pd.DataFrame:
    """Every column as small integer codes; MISSING (-1) is a state of its own.

    Numeric columns get quantile bins (`Binner`); ordinal columns with more than `bins`
    levels are binned by level rank, since a 12-level income code would otherwise cost the
    BIC so many parameters that no edge into it could ever pay off. Other discrete columns
    keep one code per category. Without a schema, numeric dtypes are treated as numbers.
    """
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or bins < 2:
        raise InputError(f"bins must be an integer >= 2, got {bins!r}")
    out = {}
    for col in df.columns:
        s = df[col]
        cs = schema[col] if schema is not None else None
        kind = getattr(getattr(cs, "kind", None), "value", None)
        numeric = cs.is_numeric if cs is not None else (
            pd.api.types.is_numeric_dtype(s.dtype) and s.nunique() > bins)
        if numeric:
            x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            if np.isnan(x).all():
                codes = np.full(len(x), MISSING, dtype=np.int64)
            else:
                codes = Binner(bins).fit(x).transform(x)
        else:
            codes = _category_codes(s, getattr(cs, "categories", None))
            if kind == "ordinal" and codes.max(initial=MISSING) >= bins:
                rank = np.where(codes == MISSING, np.nan, codes.astype(float))
                codes = Binner(bins).fit(rank).transform(rank)
        out[col] = codes.astype(np.int16)
    return pd.DataFrame(out, index=df.index)


def _frame_and_schema(table):
    """A `data.Table` (df + schema); a bare DataFrame gets its schema inferred."""
    if isinstance(table, pd.DataFrame):
        from faircause_core.io.schema import infer_schema
        schema, _ = infer_schema(table)
        return table, schema
    if not hasattr(table, "df") or not hasattr(table, "schema"):
        raise InputError(f"discover needs a loaded table, got {type(table).__name__}")
    return table.df, table.schema


def _effective_knowledge(knowledge, cols, x, y, fixed, after, backbone) -> BackgroundKnowledge:
    """The knowledge to enforce: the default one, or the user's plus 'nothing leaves Y'.

    A user's knowledge also gets the after-outcome columns and, with the backbone, the
    cluster order (nothing back into X or the fixed columns), so the search never finds
    an edge the backbone would have to reverse.
    """
    if knowledge is None:
        return default_knowledge(cols, x, y, fixed, after)
    if isinstance(knowledge, dict):
        knowledge = BackgroundKnowledge.from_dict(knowledge)
    if not isinstance(knowledge, BackgroundKnowledge):
        raise InputError(f"knowledge must be BackgroundKnowledge, got {type(knowledge).__name__}")
    known = set(cols)
    for a, b in sorted(knowledge.required):
        for n in (a, b):
            if n not in known:
                raise InputError(f"required edge {a} -> {b} names '{n}', which is not a column")
    after_outcome = knowledge.after_outcome | set(after)
    kn = BackgroundKnowledge(knowledge.forbidden, knowledge.required, knowledge.tiers,
                             knowledge.no_outgoing | {y}, after_outcome)
    if not backbone:
        return kn
    clusters = Clusters(cols, x, y, fixed, after_outcome & known)
    for a, b in sorted(kn.required):
        why = clusters.backward(a, b)
        if why:
            raise InputError(f"required edge {a} -> {b} contradicts the standard fairness model: {why}")
    backward = {(a, b) for a, b in permutations(cols, 2) if clusters.backward(a, b)}
    return BackgroundKnowledge(kn.forbidden | backward, kn.required, kn.tiers, kn.no_outgoing, after_outcome)


@contextmanager
def _quiet_pgmpy():
    """pgmpy logs a warning per knowledge conflict; we enforce the knowledge ourselves."""
    log = logging.getLogger("pgmpy")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _inside(edges, cols) -> set[tuple[str, str]]:
    """The edges between searched columns (constant columns are left out of the search)."""
    keep = set(cols)
    return {(a, b) for a, b in edges if a in keep and b in keep}


def _expert(kn: BackgroundKnowledge, cols: list[str]):
    """The knowledge as pgmpy's ExpertKnowledge: every pair it refuses is a forbidden edge.

    Tiers and 'no outgoing edges' go in as forbidden edges too, not as pgmpy's temporal_order:
    PC's temporal_order needs every column in a tier and restricts separating sets to earlier
    tiers, which keeps almost every edge from the baseline columns.
    """
    from pgmpy.causal_discovery import ExpertKnowledge

    return ExpertKnowledge(forbidden_edges=kn.disallowed(cols), required_edges=_inside(kn.required, cols))


def _tie_broken_bic(data: pd.DataFrame, seed: int):
    """pgmpy's discrete BIC ("bic-d") plus a tiny seeded bonus per edge, to break exact ties.

    pgmpy's hill climb takes the first best move in set order, which follows Python's string
    hashing: equally good moves (X -> Y vs Y -> X, whose BIC gains are equal) would then depend
    on PYTHONHASHSEED. The bonus (< TIE_BREAK per parent, a distinct value per ordered edge
    drawn from `seed`) makes the seed pick among them and changes nothing else.
    """
    from pgmpy.structure_score import BIC

    edges = list(permutations(data.columns, 2))
    rank = np.random.default_rng(seed).permutation(len(edges)) / len(edges)
    bonus = {e: TIE_BREAK * r for e, r in zip(edges, rank.tolist())}

    class _TieBrokenBIC(BIC):
        def local_score(self, variable, parents):
            return super().local_score(variable, parents) + sum(bonus[(p, variable)] for p in parents)

    return _TieBrokenBIC(data)


def _hillclimb(data: pd.DataFrame, kn: BackgroundKnowledge, seed: int, max_indegree: int):
    from pgmpy.causal_discovery import HillClimbSearch

    est = HillClimbSearch(scoring_method=_tie_broken_bic(data, seed), max_indegree=max_indegree,
                          expert_knowledge=_expert(kn, list(data.columns)), return_type="dag",
                          show_progress=False)
    est.fit(data)
    return list(est.causal_graph_.edges()), []


def _pc(data: pd.DataFrame, kn: BackgroundKnowledge, max_indegree: int):
    from pgmpy.causal_discovery import PC

    est = PC(variant="stable", ci_test="chi_square", significance_level=PC_SIGNIFICANCE,
             max_cond_vars=max_indegree, expert_knowledge=_expert(kn, list(data.columns)), return_type="pdag",
             show_progress=False, n_jobs=1)
    est.fit(data)
    pdag = est.causal_graph_
    return sorted(pdag.directed_edges), sorted(tuple(sorted(e)) for e in pdag.undirected_edges)


def _to_dag(cols: list[str], directed, undirected, kn: BackgroundKnowledge) -> list[tuple[str, str]]:
    """Enforce the knowledge as hard rules and acyclicity, deterministically.

    Required edges first; then the search's directed edges (flipped when only the reverse
    is allowed); then undirected ones, pointing from the earlier tier / earlier column.
    An edge that would close a cycle is flipped if allowed, else dropped.
    """
    pos = {n: i for i, n in enumerate(cols)}
    rank = {n: ((kn.tier_of(n) if kn.tier_of(n) is not None else -1), pos[n]) for n in cols}
    dag = nx.DiGraph()
    dag.add_nodes_from(cols)

    def place(a, b, allow_flip=True):
        if a == b or dag.has_edge(a, b) or dag.has_edge(b, a):
            return
        for u, v in ((a, b), (b, a)) if allow_flip else ((a, b),):
            # The edges so far are acyclic, so u -> v closes a cycle iff v already reaches u.
            if kn.allows(u, v) and not nx.has_path(dag, v, u):
                dag.add_edge(u, v)
                return

    for a, b in sorted(kn.required, key=lambda e: (pos[e[0]], pos[e[1]])):
        place(a, b, allow_flip=False)
    for a, b in sorted(directed, key=lambda e: (pos[e[0]], pos[e[1]])):
        place(a, b)
    for a, b in sorted(undirected, key=lambda e: (pos[e[0]], pos[e[1]])):
        place(*sorted((a, b), key=rank.__getitem__))
    return list(dag.edges)


def discover_report(table, x: str, y: str, *, fixed=(), after_outcome=(), method: str = "hillclimb",
                    knowledge=None, seed: int = 0, max_indegree: int = 4, bins: int = 4,
                    backbone: bool = True) -> BackboneResult:
    """`discover`'s graph with where its edges come from: `.found` is what the search found,
    `.assumed` the backbone edges added to it, `.refused` backbone edges the knowledge refused
    (with reasons). Without the backbone, `.graph` is `.found` and the other two are empty.
    """
    from faircause_core.io.schema import unknown_column_message

    if method not in METHODS:
        raise InputError(f"unknown discovery method '{method}'; use one of: {', '.join(METHODS)}")
    if not isinstance(max_indegree, (int, np.integer)) or isinstance(max_indegree, bool) or max_indegree < 1:
        raise InputError(f"max_indegree must be an integer >= 1, got {max_indegree!r}")
    fixed = (fixed,) if isinstance(fixed, str) else tuple(fixed)
    after = (after_outcome,) if isinstance(after_outcome, str) else tuple(after_outcome)
    df, schema = _frame_and_schema(table)
    cols = [str(c) for c in df.columns]
    if len(cols) != len(set(cols)):
        raise InputError("the table has duplicate column names")
    for n in (x, y, *fixed, *after):
        if n not in cols:
            raise InputError(unknown_column_message(n, cols))
    check_column_marks(cols, x, y, fixed, after)
    if len(df) < 2:
        raise InputError(f"discovery needs at least 2 rows, the table has {len(df)}")
    kn = _effective_knowledge(knowledge, cols, x, y, fixed, after, backbone)
    search = kn
    if backbone:  # Z - X is the backbone's association: the search draws no arrow into X
        into_x = {(z, x) for z in fixed if (z, x) not in kn.required}
        search = BackgroundKnowledge(kn.forbidden | into_x, kn.required, kn.tiers, kn.no_outgoing, kn.after_outcome)

    data = discretize(df, schema, bins)
    data.columns = cols
    cap = MAX_DISCOVERY_ROWS if method == "hillclimb" else min(MAX_DISCOVERY_ROWS, MAX_PC_ROWS)
    data = search_rows(data, x, y, cap, seed)

    # A constant column carries no evidence, and chi-square on it gives NaN p-values that
    # PC reads as dependence: leave it out of the search (required edges still apply).
    active = [c for c in cols if data[c].nunique() > 1]
    directed, undirected = [], []
    if len(active) >= 2:
        with _quiet_pgmpy():
            try:
                if method == "hillclimb":
                    directed, undirected = _hillclimb(data[active], search, seed, int(max_indegree))
                else:
                    directed, undirected = _pc(data[active], search, int(max_indegree))
            except (ValueError, KeyError) as err:
                raise InputError(f"causal discovery ({method}) failed: {err}") from None
    found = CausalGraph(cols, _to_dag(cols, directed, undirected, search))
    if not backbone:
        return BackboneResult(found, found, searched_rows=len(data))
    return replace(backbone_report(found, x, y, fixed, kn.after_outcome & set(cols), kn), searched_rows=len(data))


def search_rows(data: pd.DataFrame, x: str, y: str, cap: int, seed: int) -> pd.DataFrame:
    """The binned rows a search sees, as text: all of them up to `cap`, above it a seeded
    subsample of `cap` stratified by X and Y (each (X, Y) cell keeps its share, largest
    remainders first), so a rare outcome or group is not thinned by chance. The search's cost
    then stops growing with rows (MAX_DISCOVERY_ROWS, MAX_PC_ROWS say why)."""
    if len(data) > cap:
        rng = np.random.default_rng(seed)
        cells = data.groupby([x, y], sort=True, dropna=False, observed=True).indices
        groups = list(cells.values())
        share = np.array([len(g) for g in groups], dtype=float) * cap / len(data)
        take = np.floor(share).astype(int)
        for i in np.argsort(-(share - take), kind="stable")[: cap - int(take.sum())]:
            take[i] += 1
        rows = np.concatenate([rng.choice(g, k, replace=False) for g, k in zip(groups, take) if k])
        data = data.iloc[np.sort(rows)]
    return data.reset_index(drop=True).astype(str)


def outcome_leaves(table, x: str, y: str, *, fixed=(), after_outcome=(), seed: int = 0, bins: int = 4,
                   max_indegree: int = 4) -> list[str]:
    """Columns that a search free to put edges out of Y makes children of Y alone.

    Nothing may point into X or the fixed columns; everything else is open, Y included.
    A column whose only parent is then Y depends on the rest only through the outcome: if
    it were a cause of Y instead, it would have to be independent of Y's other causes. That
    is how a record made after the outcome looks, but BIC on binned rows is weak evidence
    (the demo's high blood pressure comes out this way), so callers offer it to check,
    never apply it. Columns already marked after the outcome are not listed again.
    """
    df, schema = _frame_and_schema(table)
    cols = [str(c) for c in df.columns]
    fixed = [fixed] if isinstance(fixed, str) else list(fixed)
    for n in (x, y, *fixed):
        if n not in cols:
            from faircause_core.io.schema import unknown_column_message
            raise InputError(unknown_column_message(n, cols))
    early = set(fixed) | {x}
    kn = BackgroundKnowledge(forbidden={(a, b) for a, b in permutations(cols, 2) if b in early and a not in early})
    data = discretize(df, schema, bins)
    data.columns = cols
    data = search_rows(data, x, y, MAX_DISCOVERY_ROWS, seed)
    active = [c for c in cols if data[c].nunique() > 1]
    if y not in active or len(active) < 3:
        return []
    with _quiet_pgmpy():
        try:
            directed, _ = _hillclimb(data[active], kn, seed, int(max_indegree))
        except (ValueError, KeyError) as err:
            raise InputError(f"causal discovery (hillclimb) failed: {err}") from None
    parents: dict[str, set] = {c: set() for c in cols}
    for a, b in directed:
        parents[b].add(a)
    skip = set(after_outcome) | early | {y}
    return [c for c in cols if c not in skip and parents[c] == {y}]


def discover(table, x: str, y: str, *, fixed=(), after_outcome=(), method: str = "hillclimb", knowledge=None,
             seed: int = 0, max_indegree: int = 4, bins: int = 4, backbone: bool = True) -> CausalGraph:
    """A DAG over the table's columns: learned from data within the background knowledge,
    plus the standard fairness model's backbone (`causal.backbone`) unless `backbone=False`.

    `knowledge=None` uses `default_knowledge(columns, x, y, fixed, after_outcome)`; a given
    knowledge is used as is, always with 'nothing leaves y' and the after-outcome columns
    added (then `fixed` adds no tier, but still names the backbone's Z, and with the backbone
    nothing may point back into X or a fixed column).
    hillclimb: greedy BIC search (ties broken by a seeded order). pc: PC-stable with
    chi-square tests at 1%; its undirected edges are oriented by tiers, then column order.
    Tables over MAX_DISCOVERY_ROWS (PC: MAX_PC_ROWS) are searched on a seeded subsample.
    `max_indegree` bounds the search only: with the backbone Y has every non-after-outcome
    column as a parent. Use `discover_report` to tell found edges from assumed ones.
    """
    return discover_report(table, x, y, fixed=fixed, after_outcome=after_outcome, method=method,
                           knowledge=knowledge, seed=seed, max_indegree=max_indegree, bins=bins,
                           backbone=backbone).graph
