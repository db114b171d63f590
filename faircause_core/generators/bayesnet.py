"""Discrete Bayesian network on the user's DAG: the fast preview and the baseline generator.

Fit: numbers go to quantile bins (columns.ColumnCodec, missing = its own state), categories
keep their values. Each node's mechanism P(v | parents) is the posterior mean of a Dirichlet
centred on a regularised multinomial logistic model of v on its one-hot parent states:

    P(v | c) = (N(v, c) + ess * logit(v | c)) / (N(c) + ess)

The strength `ess` (pseudo rows per parent combination) is chosen per column by 5-fold
cross-validation of the held-out log loss (`cv_strength`; the rule's home is strength.py): a
fixed 5 let a thin combination's few counts override the logistic model (measured in
docs/benchmarks.md, bench/bench_strength.py).
A parent combination seen often follows its counts; one seen rarely or never (the rule
once a node has many parents: the outcome has X, every Z and every W under the standard
fairness model) follows the logistic model, which keeps each parent's main effect (e.g.
X's direct effect) instead of falling back to uniform. For a small family pgmpy builds
the table (its Dirichlet estimator); above `max_cpd_cells` the same posterior is
evaluated row by row from the observed combinations, so no table is ever materialised.
`cpd="logistic"` drops the counts (the logistic model alone; measured beside the default
in bench/bench_bayesnet.py). Each column's codec and each node's mechanism is fitted as a
task of the current engine (faircause_core.engine: here, or on a Ray cluster).

Sample: our own vectorised ancestral sampling (pgmpy's sampler cannot edit pathways): the
loop of sampling.py, shared with the language model, with one uniform per row and node
(common random numbers across alphas); bins mapped back to observed values of the bin.
Each batch of `batch_size` rows is an engine task whose uniforms come from (seed, batch),
so either engine gives the same rows, bit for bit.
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np
import pandas as pd

from faircause_core import engine
from faircause_core.causal.question import Outcome
from faircause_core.errors import InputError
import faircause_core.generators.strength as strength
from faircause_core.generators.base import CancelToken, FairnessSpec, Generator, ProgressFn, check_sample_request, no_progress
from faircause_core.generators.columns import check_graph_matches_table, fit_columns
from faircause_core.generators.sampling import Groups, ancestral_sample, counterfactual_effects

PRIORS = ("BDeu", "K2", "logistic")
CPDS = ("posterior", "logistic")
LOGISTIC_ROWS = 20_000  # rows the logistic model is fitted on at most (a seeded subsample)
SOLVER = "newton-cg"  # a few exact-Hessian steps: 2-4x faster than lbfgs at the same loss on one-hot designs


class _Logistic:
    """Multinomial logistic P(v | parents) on one-hot parent states, evaluated by gathers.

    Fitted with scikit-learn (L2, strength 1/C); kept as per-parent coefficient blocks so a
    batch of rows costs one table lookup per parent instead of a sparse design matrix.
    """

    def __init__(self, codes: pd.DataFrame, v: str, parents: list, cols: dict, C: float, by: Optional[str] = None):
        from scipy import sparse
        from sklearn.linear_model import LogisticRegression

        self.card = cols[v].card
        self.dims = [cols[p].card for p in parents]
        self.parents = list(parents)
        y = codes[v].to_numpy()
        self.freq = (np.bincount(y, minlength=self.card) + 0.5) / (y.size + 0.5 * self.card)
        self.constant = not parents or np.unique(y).size < 2
        if self.constant:
            return
        if y.size > LOGISTIC_ROWS:
            keep = np.sort(np.random.default_rng(0).choice(y.size, LOGISTIC_ROWS, replace=False))
            sub, y = codes.iloc[keep], y[keep]
        else:
            sub = codes
        self.offsets = np.concatenate(([0], np.cumsum(self.dims)[:-1])).astype(np.int64)
        pc = sub[parents].to_numpy(dtype=np.int64)
        cols_idx = pc + self.offsets
        # `by` (X): each other parent's one-hot again, once per X state (an interaction).
        self.by = parents.index(by) if by in parents and len(parents) > 1 else None
        self.inter = []
        width = int(sum(self.dims))
        if self.by is not None:
            kx = self.dims[self.by]
            for j, d in enumerate(self.dims):
                if j == self.by:
                    continue
                self.inter.append((j, width, d))
                cols_idx = np.column_stack([cols_idx, width + pc[:, self.by] * d + pc[:, j]])
                width += kx * d
        rows = np.repeat(np.arange(pc.shape[0]), cols_idx.shape[1])
        design = sparse.csr_matrix((np.ones(rows.size), (rows, cols_idx.ravel())),
                                   shape=(pc.shape[0], width))
        model = LogisticRegression(C=C, solver=SOLVER, max_iter=100, tol=1e-4).fit(design, y)
        coef, icpt = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # binary: scikit-learn keeps one row, logit of class 1
            coef, icpt = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], icpt])
        self.classes = model.classes_
        self.coef_t = np.ascontiguousarray(coef.T)  # (features, seen classes)
        self.intercept = icpt

    def predict(self, parent_codes: list) -> np.ndarray:
        """(n, card) probabilities for parent codes given as one (n,) array per parent."""
        n = len(parent_codes[0]) if parent_codes else 1
        if self.constant:
            return np.tile(self.freq, (n, 1))
        z = np.broadcast_to(self.intercept, (n, len(self.intercept))).copy()
        for off, c in zip(self.offsets, parent_codes):
            z += self.coef_t[off + np.asarray(c, dtype=np.int64)]
        for j, off, d in self.inter:
            z += self.coef_t[off + np.asarray(parent_codes[self.by], dtype=np.int64) * d
                             + np.asarray(parent_codes[j], dtype=np.int64)]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        proba = np.zeros((n, self.card))
        proba[:, self.classes] = e / e.sum(axis=1, keepdims=True)
        # A little of the marginal so states the model never saw keep a small weight.
        return 0.95 * proba + 0.05 * self.freq[None, :]

    def table(self) -> np.ndarray:
        """Every parent configuration's probabilities (row-major over parents), (q, card)."""
        q = int(np.prod(self.dims)) if self.dims else 1
        return self.predict(list(np.unravel_index(np.arange(q), self.dims)) if self.dims else [])


class _Cpd:
    """P(v | parents) for a batch of rows: a lookup in a flat table (small families, built
    by pgmpy), or the same Dirichlet posterior evaluated per row from the parent
    combinations seen in fitting and the logistic model (large families)."""

    def __init__(self, parents: list, *, table=None, dims=None, logistic=None, seen=None, counts=None, ess=0.0):
        self.parents = list(parents)
        self.table, self.dims = table, dims
        self.logistic, self.seen, self.counts, self.ess = logistic, seen, counts, ess

    def __call__(self, codes: dict, m: int) -> np.ndarray:
        pa = [np.asarray(codes[p], dtype=np.int64) for p in self.parents]
        if self.table is not None:
            if not pa:
                return np.broadcast_to(self.table[0], (m, self.table.shape[1]))
            return self.table[np.ravel_multi_index(tuple(pa), self.dims)]
        p = self.logistic.predict(pa)
        if self.seen is None:
            return p
        row = self.seen.lookup(pa)
        hit = row >= 0
        if hit.any():
            n = self.counts[row[hit]]
            p[hit] = (n + self.ess * p[hit]) / (n.sum(axis=1, keepdims=True) + self.ess)
        return p

    @property
    def kind(self) -> str:
        if self.table is not None:
            return "table"
        return "logistic" if self.seen is None else "posterior (sparse)"

    @property
    def cells(self) -> int:
        if self.table is not None:
            return int(self.table.size)
        return int(self.counts.size) if self.counts is not None else 0


class _Combos:
    """The parent-state combinations seen in fitting, each with an exact id 0..k-1, and the id of
    any batch's combination (-1 when unseen). A row's combination is read as a number in mixed
    radix (each parent a digit), renumbered densely (np.unique) before it would pass 2**62: exact,
    a few int64 arrays of n, where a pandas MultiIndex of 99 parents held 8 KB a row (13 GB at
    1,600,000 fitting rows). `steps`: ("digit", j, card) and ("dense", sorted values) to replay."""

    LIMIT = 1 << 62

    def __init__(self, columns: list, dims: list):
        n = len(columns[0])
        ids, span, self.steps = np.zeros(n, dtype=np.int64), 1, []
        for j, d in enumerate(int(d) for d in dims):  # Python ints: the span never overflows
            if span * d >= self.LIMIT:
                values, ids = np.unique(ids, return_inverse=True)
                self.steps.append(("dense", values))
                span = len(values)
            ids = ids * d + np.asarray(columns[j], dtype=np.int64)
            span *= d
            self.steps.append(("digit", j, d))
        values, self.rows = np.unique(ids, return_inverse=True)  # rows: each fitting row's id
        self.rows = self.rows.reshape(-1)
        self.steps.append(("dense", values))

    def __len__(self) -> int:
        return len(self.encoded())

    def encoded(self) -> np.ndarray:
        """The seen combinations as encoded, sorted: a combination's id is its position here."""
        return self.steps[-1][1]

    def lookup(self, columns: list) -> np.ndarray:
        """Each row's combination id, -1 where fitting never saw it."""
        ids = np.zeros(len(columns[0]), dtype=np.int64)
        known = np.ones(len(ids), dtype=bool)
        for step in self.steps:
            if step[0] == "digit":
                ids = ids * step[2] + np.asarray(columns[step[1]], dtype=np.int64)
                continue
            values = step[1]
            at = np.minimum(np.searchsorted(values, ids), len(values) - 1)
            known &= values[at] == ids
            ids = np.where(known, at, 0)
        return np.where(known, ids, -1)


def _seen_counts(codes: pd.DataFrame, v: str, parents: list, card: int, dims: list):
    """The parent combinations seen in fitting (_Combos) and their (k, card) child counts."""
    seen = _Combos([codes[p].to_numpy() for p in parents], dims)
    counts = np.zeros((len(seen), card))
    np.add.at(counts, (seen.rows, codes[v].to_numpy()), 1.0)
    seen.rows = None  # fitting's ids, not needed past the counts
    return seen, counts


class BayesNetGenerator(Generator):
    """Discrete BN on the causal DAG with per-pathway edits (preview + baseline).

    `max_bins` bins per numeric column. `cpd`: "posterior" (default) is the Dirichlet
    posterior centred on the logistic model (module docstring), "logistic" the logistic
    model alone. `prior` ("logistic" default; "BDeu" / "K2" are pgmpy's uniform priors,
    tables only) and `equivalent_sample_size` (pseudo rows per parent combination; "cv", the
    default, chooses it per column by cross-validation, `cv_strength`) set the Dirichlet; `C` is the logistic model's inverse L2 strength. `outcome_by_x` adds an
    X-by-parent interaction to the outcome's logistic model (its effect of each parent may
    differ by group, as the audit's outcome model fitted on one group does): an ablation,
    off by default (bench/bench_estimators.py says why). A family whose table
    (child states x parent combinations) exceeds `max_cpd_cells` is never tabulated
    (roots always are: their table is the marginal).
    """

    name = "bayesnet"

    def __init__(
        self,
        max_bins: int = 10,
        prior: str = "logistic",
        equivalent_sample_size="cv",
        *,
        cpd: str = "posterior",
        C: float = 1.0,
        batch_size: int = 5000,
        max_cpd_cells: int = 500_000,
        outcome_by_x: bool = False,
    ):
        if prior not in PRIORS:
            raise InputError(f"prior must be one of {', '.join(PRIORS)}, got {prior!r}")
        if cpd not in CPDS:
            raise InputError(f"cpd must be one of {', '.join(CPDS)}, got {cpd!r}")
        if cpd == "logistic" and prior != "logistic":
            raise InputError(f"cpd 'logistic' has no Dirichlet prior to set; got prior {prior!r}")
        try:
            max_bins = int(max_bins)
            ess = equivalent_sample_size if equivalent_sample_size == "cv" else float(equivalent_sample_size)
            C = float(C)
        except (TypeError, ValueError):
            raise InputError(f"max_bins, equivalent_sample_size and C must be numbers, got "
                             f"{max_bins!r}, {equivalent_sample_size!r}, {C!r}")
        if max_bins < 2:
            raise InputError(f"max_bins must be at least 2, got {max_bins}")
        if ess != "cv" and not ess > 0:
            raise InputError(f"equivalent_sample_size must be positive, got {equivalent_sample_size}")
        if not C > 0:
            raise InputError(f"C must be positive, got {C}")
        self.max_bins = max_bins
        self.prior = prior
        self.cpd = cpd
        self.C = C
        self.equivalent_sample_size = ess
        self.batch_size = int(batch_size)
        self.max_cpd_cells = int(max_cpd_cells)
        self.outcome_by_x = bool(outcome_by_x)

    # ------------------------------------------------------------------ fit
    def fit(self, table, graph, roles, progress: Optional[ProgressFn] = None) -> "BayesNetGenerator":
        progress = progress or no_progress
        t0 = time.perf_counter()
        df = table.df
        name = getattr(table, "name", "data")
        columns = list(df.columns)
        check_graph_matches_table(graph, table, "fit the Bayes net on")
        graph = graph.for_sampling()  # a Z - X association is drawn as X given Z (causal.graph)
        for role in ("x", "y"):
            if getattr(roles, role) not in set(columns):
                raise InputError(f"{'sensitive attribute' if role == 'x' else 'outcome'} {getattr(roles, role)!r} is not a column of {name!r}")
        progress("fitting Bayes net", 0, len(columns))

        self.order_ = list(graph.topological_order())
        self.columns_ = columns
        self.roles_ = roles
        self.cols_, codes = fit_columns(table, columns, self.max_bins)
        # pgmpy orders a CPD's evidence as sorted(parents); the tables follow that order.
        self.parents_ = {v: sorted(graph.parents(v)) for v in self.order_}
        if self.prior != "logistic":
            big = next((v for v in self.order_ if not self._tabulated(v)), None)
            if big is not None:
                raise InputError(f"column {big!r} has too many parent value combinations for a {self.prior} table "
                                 f"({len(self.parents_[big])} parents); use the logistic prior")
        # each column's mechanism is a task of the current engine (local, or Ray): _fit_column; on
        # the local engine's forked workers as the audit's fits are (same memory rule: fit_workers)
        from faircause_core.causal.fairness import fit_workers

        eng = engine.current()
        local = isinstance(eng, engine.LocalEngine) and engine.FORK
        cpds = eng.map(_fit_column, self.order_, shared=(self, codes),
                       done=lambda k, total: progress("fitting Bayes net", k, total),
                       **({"processes": fit_workers(len(codes), codes.shape[1])} if local else {}))
        self.cpd_ = dict(zip(self.order_, cpds))

        self.groups_ = Groups.fit(self.cols_[roles.x], codes[roles.x].to_numpy(), roles)
        self.outcome_ = Outcome.resolve(df[roles.y], getattr(roles, "threshold", None))
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _cells(self, v: str) -> float:
        return float(np.prod([float(self.cols_[c].card) for c in [v, *self.parents_[v]]]))

    def _tabulated(self, v: str) -> bool:
        """Whether v's CPD is a table (pgmpy's): a root's always is (its marginal), a family
        of at most `max_cpd_cells` cells under the posterior CPD too."""
        return self.cpd == "posterior" and (not self.parents_[v] or self._cells(v) <= self.max_cpd_cells)

    def _fit_table(self, codes: pd.DataFrame, v: str, logistic: Optional[_Logistic], ess: float) -> _Cpd:
        """pgmpy's Dirichlet estimate of v's table: its estimator's per-node step, the one its
        fit() runs for each node of a network, here for v alone on v's family (a node's table
        reads only its family's counts and its own prior). Not fit() on a network of the
        family: that estimates the parents' tables too, 10% more time on the demo. A private
        step of pgmpy, pinned (requirements.txt); tests/test_engine.py checks it against fit()."""
        from pgmpy.models import DiscreteBayesianNetwork
        from pgmpy.parameter_estimator import DiscreteBayesianEstimator

        pa = self.parents_[v]
        family = DiscreteBayesianNetwork()
        family.add_nodes_from([v, *pa])
        family.add_edges_from([(p, v) for p in pa])
        states = {c: list(range(self.cols_[c].card)) for c in [v, *pa]}
        prior, pseudo = self.prior, None
        if prior == "logistic":
            prior, pseudo = "dirichlet", {v: ess * logistic.table().T}
        cpd = DiscreteBayesianEstimator._estimate_cpd(family, codes[[v, *pa]], states, v, prior_type=prior,
                                                      equivalent_sample_size=ess,
                                                      pseudo_counts=pseudo)
        return self._table(cpd, v, ess)

    def _table(self, cpd, v: str, ess: float = 0.0) -> _Cpd:
        pa = list(cpd.variables[1:])
        if pa != self.parents_[v]:
            raise RuntimeError(f"pgmpy evidence order for {v!r} is not sorted; the prior would be misaligned")
        for var in cpd.variables:  # states were given as 0..card-1, in order
            if list(cpd.state_names[var]) != list(range(self.cols_[var].card)):
                raise RuntimeError(f"pgmpy reordered the states of {var!r}")
        # values: (card_v, card_pa1, ...) -> flat (n_configs, card_v) for row lookups
        values = np.moveaxis(np.asarray(cpd.values, dtype=float), 0, -1)
        return _Cpd(pa, table=values.reshape(-1, self.cols_[v].card), dims=[self.cols_[p].card for p in pa], ess=ess)

    # --------------------------------------------------------------- sample
    def sample(
        self,
        n: int,
        fairness: FairnessSpec = FairnessSpec(),
        seed: int = 0,
        progress: Optional[ProgressFn] = None,
        cancel: Optional[CancelToken] = None,
    ) -> pd.DataFrame:
        if not hasattr(self, "cpd_"):
            raise InputError("the Bayes net is not fitted yet: call fit() first")
        n = check_sample_request(n, fairness, self.groups_.x0, self.groups_.x1, self.roles_.x)
        progress = progress or no_progress
        if cancel is not None:
            cancel.check()

        def done(k: int, total: int) -> None:  # after each batch: progress, then the cancel check
            progress("sampling", min(k * self.batch_size, n), n)
            if cancel is not None:
                cancel.check()

        # each batch of rows is a task of the current engine (local, or Ray): _sample_batch
        parts = engine.current().map(_sample_batch, range(-(-n // self.batch_size)),
                                     shared=(self, n, fairness, int(seed)), done=done)
        return pd.concat(parts, ignore_index=True)

    def _sample_codes(self, m: int, fairness: FairnessSpec, u: np.ndarray, sees_x: Optional[dict] = None) -> dict:
        """State codes for m rows: the shared loop over CPD lookups (u[-1] draws x*)."""
        def probs(v: str, codes: dict) -> np.ndarray:
            return self.cpd_[v](codes, m)

        return ancestral_sample(self.order_, self.parents_, probs, fairness, self.roles_, self.groups_, u, u[-1],
                                sees_x=sees_x)

    def effects(self, n: int = 200_000, fairness: FairnessSpec = FairnessSpec(), seed: int = 0) -> dict:
        """The fitted (and edited) network's own TV, Ctf-DE/IE/SE and ETT, by Monte Carlo on
        its mechanisms (sampling.counterfactual_effects): what the generator encodes, free of
        the estimation error a decomposition of its rows adds. Monte Carlo error about
        0.5 / sqrt(n * P(x0)) per mean, less for the differences (common random numbers)."""
        if not hasattr(self, "cpd_"):
            raise InputError("the Bayes net is not fitted yet: call fit() first")
        n = check_sample_request(n, fairness, self.groups_.x0, self.groups_.x1, self.roles_.x)
        u = np.random.default_rng([int(seed), 1 << 20]).random((len(self.order_) + 2, n))
        y = self.cols_[self.roles_.y]

        def outcome(codes: np.ndarray, part: slice) -> np.ndarray:  # 0/1 per row as decompose codes it, NaN if missing
            return self.outcome_.code(y.decode(codes, u[-1, part]))

        def run(sees_x: Optional[dict], part: slice) -> dict:
            return self._sample_codes(part.stop - part.start, fairness, u[:-1, part], sees_x)

        # in batches of 4 x batch_size units: the numbers of one pass, a batch's memory
        return counterfactual_effects(run, self.order_, self.roles_, self.groups_, outcome, n=n,
                                      batch=4 * self.batch_size)

    # ------------------------------------------------------------- helpers
    def describe(self) -> pd.DataFrame:
        """One row per node: states, parents, how its CPD is held, its stored cells and its prior
        strength, the pseudo rows per parent combination (model card)."""
        rows = []
        for v in self.order_:
            col = self.cols_[v]
            rows.append({
                "column": v,
                "kind": "numeric (binned)" if col.numeric else "discrete",
                "states": col.card,
                "parents": ", ".join(self.parents_[v]),
                "cpd": self.cpd_[v].kind,
                "cpd_cells": self.cpd_[v].cells,
                "prior_strength": self.cpd_[v].ess if self.cpd == "posterior" else None,
            })
        return pd.DataFrame(rows)


def cv_strength(codes: pd.DataFrame, v: str, parents: list, cols: dict, C: float, by: Optional[str] = None,
                seed: int = 0) -> tuple[float, np.ndarray]:
    """The Dirichlet strength for v's posterior, chosen by cross-validation of the held-out log
    loss (generators/strength.py, the rule's home: the one-standard-error rule), the logistic
    centre and the counts refitted on each fold's training rows (on at most CV_ROWS rows); and
    the summed held-out loss at each strength. A fixed 5 let thin parent combinations' counts
    override the centre (module docstring)."""
    keep = strength.subsample(np.arange(len(codes)), [seed, len(codes), len(parents)])
    sub = codes.iloc[keep][[v, *parents]].reset_index(drop=True)
    y, card = sub[v].to_numpy(), cols[v].card
    config = sub.groupby(parents, sort=False).ngroup().to_numpy()
    fold = strength.folds(len(y), [seed, len(y), len(parents), 1])
    losses = []
    for f in range(strength.CV_FOLDS):
        train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        if not len(test) or not len(train):
            continue
        centre = _Logistic(sub.iloc[train], v, parents, cols, C, by=by).predict(
            [sub[p].to_numpy()[test] for p in parents])[np.arange(len(test)), y[test]]
        both = np.concatenate([train, test])
        losses.append(strength.held_out_loss(centre, config[both], y[both], len(train), card))
    losses = np.vstack(losses) if losses else np.zeros((0, len(strength.STRENGTHS)))
    return strength.choose(losses), losses.sum(axis=0)


def _fit_column(shared, v: str) -> _Cpd:
    """Column v's mechanism P(v | parents), an engine task: a pure function of the generator's
    settings and the table's state codes, so the columns fit anywhere in any order."""
    gen, codes = shared
    pa, logistic = gen.parents_[v], None
    ess = strength.FIXED_STRENGTH if gen.equivalent_sample_size == "cv" else gen.equivalent_sample_size
    if gen.prior == "logistic":
        by = gen.roles_.x if gen.outcome_by_x and v == gen.roles_.y else None
        logistic = _Logistic(codes, v, pa, gen.cols_, gen.C, by=by)
        if gen.equivalent_sample_size == "cv" and pa and gen.cpd == "posterior":
            ess = cv_strength(codes, v, pa, gen.cols_, gen.C, by=by)[0]
    if gen._tabulated(v):
        return gen._fit_table(codes, v, logistic, ess)
    seen, counts = _seen_counts(codes, v, pa, gen.cols_[v].card, [gen.cols_[p].card for p in pa]) \
        if gen.cpd == "posterior" and pa else (None, None)
    return _Cpd(pa, logistic=logistic, seen=seen, counts=counts, ess=ess)


def _sample_batch(shared, b: int) -> pd.DataFrame:
    """Rows of batch b, an engine task: its uniforms come from (seed, b) alone, so the batches
    run anywhere in any order and give the rows of one local pass."""
    gen, n, fairness, seed = shared
    m = min(gen.batch_size, n - b * gen.batch_size)
    # Always draw a full batch of uniforms (per node: one for its state, one for its value
    # within a bin, plus one for x*): the same seed gives row i the same uniforms whatever n
    # and alpha are (common random numbers).
    u = np.random.default_rng([seed, b]).random((2 * len(gen.order_) + 1, gen.batch_size))[:, :m]
    k = len(gen.order_)
    codes = gen._sample_codes(m, fairness, u[: k + 1])
    within = {c: u[k + 1 + j] for j, c in enumerate(gen.order_)}
    return pd.DataFrame({c: gen.cols_[c].decode(codes[c], within[c]) for c in gen.columns_})
