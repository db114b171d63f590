"""The graph checked against the data: each pathway edge the graph leaves out is a claim.

A DAG that omits the edge a -> b (a not a descendant of b) implies, by the local Markov
property, b ⊥ a | parents(b): once b's causes in the graph are known, a tells nothing more
about b. `check_graph` tests that for every omitted pathway edge of the standard fairness
model (X -> Y, X -> w, w -> Y, z -> Y, z -> X, z -> w, with Z and W from
`graph.derive_roles`; an association z - X counts as z -> X: it claims no independence),
plus c -> Y for every other column c that the graph keeps away from Y (a column unrelated to
Y in the graph is exactly how a too-sparse discovered graph hides a pathway), and says in
plain words which omissions the data contradicts. Not tested: w -> w' and z -> z' (no
pathway edges), and edges from X or Z into other columns (they matter only once the column
reaches Y, which c -> Y checks). `direct_effect_warning` is the audit's side: a graph
without X -> Y whose audited direct effect is clearly not 0. Speed: on flchain's 7,874 rows,
18 omissions take about 0.7 s on one core.

The test, chosen for mixed patient tables: a likelihood-ratio test of nested regression
models, b on parents(b) versus b on parents(b) + a, with the LR statistic referred to a
chi-square on the parameters a adds (the rank gained by the design, times classes - 1).
- Features: discrete columns one-hot (missing is a level of its own, levels under 10 rows
  pooled, the most frequent level the reference); numbers standardised with a restricted
  cubic spline (knots at the 5/35/65/95% quantiles, linear in the tails so a few extreme
  values cannot swing it), a missing number imputed by the median plus a 0/1 indicator.
- A discrete b (binary, categorical, few-level ordinal): (multinomial) logistic regression,
  scikit-learn with a negligible ridge (C = 1e4 on standardised features) so the
  log-likelihoods are the maximum-likelihood ones for all practical purposes.
- A numeric b: a Gaussian linear model fitted exactly by least squares (LR = n log(RSS0 /
  RSS1)) on b's rank-based normal scores; any function of b is independent of a given the
  parents when b is, so the null is unchanged, and skewed lab values (creatinine, light
  chains) no longer let a handful of rows decide.
Rows whose b is missing are left out of that test. pgmpy 1.1.2's CI tests were not used:
its chi-square/G tests need binned data (the binning that lost the direct effects of
issue #7), pearsonr is linear-Gaussian only, and pillai_trace/gcm need XGBoost (absent)
and take seconds per test, too slow for a page that re-checks on every edit.

Multiple tests: Holm's step-down adjustment over the omissions that could be tested;
`contradicted` means the adjusted p is below alpha. Tables over `max_rows` are tested on a
seeded subsample (the sentences say so).
"""

from __future__ import annotations

import math
import warnings as _pywarnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits  # sklearn imported first: its BLAS/OpenMP must be loaded to be limited

from faircause_core.causal.effects import Decomposition
from faircause_core.causal.graph import CausalGraph, derive_roles
from faircause_core.causal.question import Outcome, Question, group_name, numbers
from faircause_core.errors import InputError
from faircause_core.io.schema import Kind, Schema, unknown_column_message

#: Kinds of pathway edge, in the order they are reported.
KINDS = ("X -> Y", "X -> W", "W -> Y", "Z -> Y", "Z -> X", "Z -> W", "other -> Y")
#: A discrete level seen on fewer rows is pooled with the other rare ones.
MIN_LEVEL_ROWS = 10
#: A numeric-coded column with at least this many values is modelled as a number.
MIN_NUMERIC_LEVELS = 5
MIN_ROWS = 30
SPLINE_QUANTILES = (0.05, 0.35, 0.65, 0.95)
LOGISTIC_C = 1e4


@dataclass(frozen=True)
class Implication:
    """One omitted pathway edge a -> b and what the data says about b ⊥ a | parents(b).

    p_value is the raw likelihood-ratio p, p_adjusted Holm's over all tested omissions
    (NaN for both when the omission could not be tested; `sentence` says why).
    """

    edge: tuple
    kind: str
    given: tuple
    p_value: float
    p_adjusted: float
    contradicted: bool
    statistic: float
    df: int
    n: int
    sentence: str

    @property
    def tested(self) -> bool:
        return not math.isnan(self.p_value)

    def to_dict(self) -> dict:
        """JSON-safe form (NaN as None)."""
        def num(v):
            return None if isinstance(v, float) and math.isnan(v) else v
        return {"edge": list(self.edge), "kind": self.kind, "given": list(self.given),
                "p_value": num(self.p_value), "p_adjusted": num(self.p_adjusted),
                "contradicted": bool(self.contradicted), "statistic": num(self.statistic),
                "df": int(self.df), "n": int(self.n), "sentence": self.sentence}


def format_p(p: float) -> str:
    """'p < 0.001' or 'p = 0.013'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


# ----------------------------------------------------------------------------- inputs


def _frame_schema(data, schema):
    if isinstance(data, pd.DataFrame):
        df, own = data, None
    else:
        df, own = getattr(data, "df", None), getattr(data, "schema", None)
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"expected a Table or DataFrame, got {type(data).__name__}")
    schema = schema if schema is not None else own
    if schema is not None and not isinstance(schema, Schema):
        raise InputError(f"schema must be a Schema, got {type(schema).__name__}")
    return df, schema


def _graph(graph) -> CausalGraph:
    if isinstance(graph, CausalGraph):
        return graph
    if isinstance(graph, dict):
        return CausalGraph.from_dict(graph)
    raise InputError(f"expected a CausalGraph, got {type(graph).__name__}")


def _check_nodes(graph: CausalGraph, df: pd.DataFrame) -> None:
    for n in graph.nodes:
        if n not in df.columns:
            raise InputError(f"the graph does not match the table: {unknown_column_message(n, df.columns)}")


def _check_xy(graph: CausalGraph, x: str, y: str) -> None:
    for role, n in (("sensitive attribute", x), ("outcome", y)):
        if n not in graph:
            raise InputError(f"{role} '{n}' is not a node of the graph")


def _level(alpha) -> float:
    """The significance level as a float in (0, 1)."""
    value = float(alpha) if isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, bool) else math.nan
    if not 0.0 < value < 1.0:
        raise InputError(f"alpha must be a number between 0 and 1, got {alpha!r}")
    return value


def _is_numeric(s: pd.Series, schema, col: str) -> bool:
    """Modelled as a number: integer/continuous kinds, ordinals with many levels."""
    kind = schema[col].kind if schema is not None and col in schema else None
    numeric_dtype = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    if kind in (Kind.INTEGER, Kind.CONTINUOUS):
        return numeric_dtype
    if kind in (Kind.BINARY, Kind.CATEGORICAL):
        return False
    return numeric_dtype and s.nunique() >= MIN_NUMERIC_LEVELS


# ----------------------------------------------------------------------------- features


def _labels(s: pd.Series) -> np.ndarray:
    """Text labels with missing as its own level and rare levels pooled."""
    lab = s.astype(object).where(s.notna(), "\x00missing").astype(str)
    counts = lab.value_counts()
    rare = counts.index[counts < MIN_LEVEL_ROWS]
    if len(rare) > 1:
        lab = lab.where(~lab.isin(rare), "\x00rare")
    return lab.to_numpy()


def _spline(v: np.ndarray) -> np.ndarray:
    """Standardised value plus restricted cubic spline terms (Harrell), linear in the tails."""
    knots = np.unique(np.quantile(v, SPLINE_QUANTILES))
    cols = [v]
    if len(knots) >= 3:
        t, k = knots, len(knots)
        scale = (t[-1] - t[0]) ** 2
        cube = lambda u: np.maximum(u, 0.0) ** 3  # noqa: E731
        for j in range(k - 2):
            cols.append((cube(v - t[j])
                         - cube(v - t[-2]) * (t[-1] - t[j]) / (t[-1] - t[-2])
                         + cube(v - t[-1]) * (t[-2] - t[j]) / (t[-1] - t[-2])) / scale)
    return np.column_stack(cols)


def _standardise(m: np.ndarray) -> np.ndarray:
    sd = m.std(axis=0)
    keep = sd > 1e-12
    return (m[:, keep] - m[:, keep].mean(axis=0)) / sd[keep]


def _predictor(s: pd.Series, numeric: bool) -> np.ndarray:
    """A column as standardised features (may have 0 columns when it is constant)."""
    if numeric:
        v = numbers(s)
        miss = np.isnan(v)
        if miss.all():
            return np.zeros((len(s), 0))
        v = np.where(miss, np.nanmedian(v), v)
        block = _spline(v)
        if miss.any():
            block = np.column_stack([block, miss.astype(float)])
        return _standardise(block)
    lab = _labels(s)
    levels, counts = np.unique(lab, return_counts=True)
    if len(levels) <= 1:
        return np.zeros((len(s), 0))
    ref = levels[np.argmax(counts)]
    return _standardise(np.column_stack([(lab == k).astype(float) for k in levels if k != ref]))


def _target(s: pd.Series, numeric: bool):
    """(observed mask, values): normal scores for a number, class codes for a discrete b."""
    if numeric:
        v = numbers(s)
        obs = ~np.isnan(v)
        r = stats.rankdata(v[obs])
        return obs, stats.norm.ppf((r - 0.5) / len(r))
    obs = s.notna().to_numpy()
    lab = _labels(s[obs])
    _, codes = np.unique(lab, return_inverse=True)
    return obs, codes


def _rank(m: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(m)) if m.shape[1] else 0


# ----------------------------------------------------------------------------- the test


def _loglik_logistic(d: np.ndarray, y: np.ndarray) -> float:
    if d.shape[1] == 0:
        p = np.bincount(y) / len(y)
        return float(np.sum(np.log(p[y])))
    model = LogisticRegression(C=LOGISTIC_C, max_iter=300, tol=1e-6)
    with _pywarnings.catch_warnings():
        _pywarnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(d, y)
    proba = model.predict_proba(d)
    return float(np.sum(np.log(np.clip(proba[np.arange(len(y)), y], 1e-300, None))))


def _rss(d: np.ndarray, y: np.ndarray) -> float:
    design = np.column_stack([np.ones(len(y)), d])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    r = y - design @ coef
    return float(r @ r)


class _Tester:
    """Feature blocks built once per column, the reduced model fitted once per b."""

    def __init__(self, df: pd.DataFrame, numeric: dict[str, bool]):
        self.df, self.numeric = df, numeric
        self._feats: dict[str, np.ndarray] = {}
        self._reduced: dict[tuple, tuple] = {}

    def feats(self, col: str) -> np.ndarray:
        if col not in self._feats:
            self._feats[col] = _predictor(self.df[col], self.numeric[col])
        return self._feats[col]

    def design(self, cols, rows) -> np.ndarray:
        blocks = [self.feats(c)[rows] for c in cols]
        return np.hstack(blocks) if blocks else np.zeros((int(rows.sum()), 0))

    def test(self, a: str, b: str, parents: tuple) -> tuple[float, float, int, int, str]:
        """(statistic, p, df, rows used, why untested or '')."""
        obs, yv = _target(self.df[b], self.numeric[b])
        n = int(obs.sum())
        if n < MIN_ROWS:
            return math.nan, math.nan, 0, n, f"'{b}' has only {n} observed values"
        k = 2 if self.numeric[b] else int(yv.max()) + 1
        if k < 2:
            return math.nan, math.nan, 0, n, f"'{b}' has a single value"
        if (b, parents) not in self._reduced:
            d0 = self.design(parents, obs)
            fit0 = _rss(d0, yv) if self.numeric[b] else _loglik_logistic(d0, yv)
            self._reduced[(b, parents)] = (d0, fit0, _rank(np.column_stack([np.ones(n), d0])))
        d0, fit0, rank0 = self._reduced[(b, parents)]
        d1 = np.hstack([d0, self.feats(a)[obs]])
        added = _rank(np.column_stack([np.ones(n), d1])) - rank0
        if added <= 0:
            return math.nan, math.nan, 0, n, f"'{a}' carries nothing beyond {_names(parents)}"
        if self.numeric[b]:
            if fit0 <= 1e-10 * n:
                return math.nan, math.nan, 0, n, f"'{b}' is fully determined by {_names(parents)}"
            rss1 = _rss(d1, yv)
            stat = n * math.log(fit0 / max(rss1, 1e-300))
            df = added
        else:
            stat = 2.0 * (_loglik_logistic(d1, yv) - fit0)
            df = added * (k - 1)
        stat = max(stat, 0.0)  # optimiser tolerance can leave a hair below 0
        return stat, float(stats.chi2.sf(stat, df)), df, n, ""


def _names(cols) -> str:
    return "its other causes in the graph (" + ", ".join(cols) + ")" if cols else "nothing"


def holm(p_values) -> list[float]:
    """Holm step-down adjusted p-values (NaN stays NaN and is not counted)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = len(idx)
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        out[j] = running
    return out.tolist()


# ----------------------------------------------------------------------------- public


def omitted_pathway_edges(graph: CausalGraph, x: str, y: str) -> list[tuple[str, str, str]]:
    """(a, b, kind) for each pathway edge the graph leaves out, in KINDS order."""
    roles = derive_roles(graph, x, y)
    z, w = roles.z, roles.w
    cand = [(x, y, "X -> Y")]
    cand += [(x, m, "X -> W") for m in w]
    cand += [(m, y, "W -> Y") for m in w]
    cand += [(c, y, "Z -> Y") for c in z]
    cand += [(c, x, "Z -> X") for c in z]
    cand += [(c, m, "Z -> W") for c in z for m in w]
    cand += [(o, y, "other -> Y") for o in roles.other]
    return [(a, b, kind) for a, b, kind in cand
            if not graph.has_edge(a, b) and a not in graph.descendants(b)]


def _claim(graph: CausalGraph, a: str, b: str) -> str:
    direct = " directly" if a in graph.ancestors(b) else ""
    return f"{a} does not affect {b}{direct}"


def _rows(df, x, y, x0, x1, threshold):
    """The rows and Y coding the audit uses: only groups x0/x1 when given, Y made 0/1."""
    if (x0 is None) != (x1 is None):
        raise InputError("give both x0 and x1, or neither")
    if x0 is not None:
        q = Question.resolve(df, x, x0, x1, y, threshold=threshold)
        in0, in1 = q.masks(df)
        df = df.loc[in0 | in1].copy()
        df[y] = q.outcomes(df)
        return df, True
    if threshold is not None:
        df = df.copy()
        df[y] = Outcome.resolve(df[y], threshold).code(df[y])
        return df, True
    return df, False


def check_graph(data, graph, x: str, y: str, *, x0=None, x1=None, threshold=None, schema=None,
                alpha: float = 0.05, max_rows: int = 20_000, seed: int = 0) -> list[Implication]:
    """Test every omitted pathway edge's implication; one `Implication` each, in KINDS order.

    With x0/x1 only their rows are used and Y is coded 0/1 as the audit codes it (so the
    check is about the question being audited); a threshold codes Y as Y >= threshold.
    """
    df, schema = _frame_schema(data, schema)
    drawn = _graph(graph)
    graph = drawn.for_sampling()  # a z - X association: X is modelled given z, no independence claimed
    _check_nodes(graph, df)
    _check_xy(graph, x, y)
    alpha = _level(alpha)
    if isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)) or max_rows < 100:
        raise InputError(f"max_rows must be a whole number >= 100, got {max_rows!r}")
    omitted = omitted_pathway_edges(graph, x, y)
    df, y_coded = _rows(df[list(graph.nodes)], x, y, x0, x1, threshold)
    total = len(df)
    if total < MIN_ROWS:
        raise InputError(f"the graph check needs at least {MIN_ROWS} rows, the table has {total}")
    if total > max_rows:
        pick = np.sort(np.random.default_rng(int(seed)).choice(total, int(max_rows), replace=False))
        df = df.iloc[pick]
    df = df.reset_index(drop=True)
    numeric = {c: _is_numeric(df[c], schema, c) for c in df.columns}
    if y_coded:
        numeric[y] = False

    tester = _Tester(df, numeric)
    results = []
    with threadpool_limits(1):
        for a, b, kind in omitted:
            parents = graph.parents(b)
            results.append((a, b, kind, parents, *tester.test(a, b, parents)))
    adjusted = holm([r[5] for r in results])
    m = sum(1 for r in results if not math.isnan(r[5]))
    sample = f"; tested on {len(df):,} of {total:,} rows drawn at random" if total > len(df) else ""
    out = []
    for (a, b, kind, parents, stat, p, df_, n, why), p_adj in zip(results, adjusted):
        claim = _claim(drawn, a, b)
        if math.isnan(p):
            sentence, hit = f"'{claim}' cannot be checked: {why}", False
        else:
            hit = p_adj < alpha
            verdict = "the data contradicts" if hit else "the data does not contradict"
            checks = f", adjusted for {m} checks" if m > 1 else ""
            sentence = f"{verdict} '{claim}' ({format_p(p_adj)}{checks}{sample})"
        out.append(Implication((a, b), kind, tuple(parents), float(p), float(p_adj), bool(hit),
                               float(stat), int(df_), int(n), sentence))
    return out


def direct_effect_warning(graph, decomposition: Decomposition, x: str | None = None,
                          y: str | None = None, labels=None) -> str | None:
    """One line when the graph has no X -> Y edge but the audit's Ctf-DE interval excludes 0.

    The audit estimates the direct effect from the data whatever the graph says, so an
    interval away from 0 is evidence the omitted edge exists. None otherwise (edge present,
    no interval, or the interval covers 0). No such note is given for Ctf-IE with W empty:
    the audit then sets Ctf-IE to exactly 0 by construction, so it carries no evidence.
    The groups are named as question.group_name says (`labels`: the user's words).
    """
    graph = _graph(graph)
    if not isinstance(decomposition, Decomposition):
        raise InputError(f"expected a Decomposition, got {type(decomposition).__name__}")
    if "ctf_de" not in decomposition.effects:
        return None
    row = decomposition.to_frame().loc["ctf_de"]
    low, high, est = float(row["ci_low"]), float(row["ci_high"]), float(row["estimate"])
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0.0 <= high:
        return None
    settings = decomposition.settings or {}
    x = x if x is not None else settings.get("x")
    y = y if y is not None else settings.get("y")
    if x is None or y is None:
        raise InputError("the decomposition does not say which columns are X and Y; give x and y")
    _check_xy(graph, x, y)
    if graph.has_edge(x, y):
        return None
    groups = ""
    if settings.get("x0") is not None and settings.get("x1") is not None:
        groups = f" ({group_name(x, settings['x1'], labels)} vs {group_name(x, settings['x0'], labels)})"
    if settings.get("continuous_outcome"):
        value = f"{est:.3g} (95% CI {low:.3g} to {high:.3g})"
    else:
        value = f"{100 * est:.1f} points (95% CI {100 * low:.1f} to {100 * high:.1f})"
    return (f"the graph says {x} does not affect {y} directly, but the audit's direct effect{groups} is "
            f"{value}: add the edge {x} -> {y} or explain why it is absent")
