"""Fidelity: how closely a synthetic table mirrors the real one, column by column and in pairs.

What was chosen and why. Users compare our numbers with SDMetrics' (the de-facto standard
for tabular synthetic data), so the scores are SDMetrics' own: its QualityReport with
metadata built from our schema (frames.sdmetrics_columns). The "SDMetrics Quality Score"
is the mean of two properties:

- Column Shapes: per column, KSComplement (numbers) or TVComplement (categories), both on
  the non-missing values, averaged.
- Column Pair Trends: per pair, CorrelationSimilarity (two numbers, Pearson) or
  ContingencySimilarity (otherwise; numbers cut into 10 equal-width bins of each table's
  own range). With SDMetrics' defaults only pairs that are related in the real data count
  towards the average (|Pearson| > 0.5, Cramer's V > 0.3): a weak pair says little about
  whether dependencies were kept. A second report with the thresholds at 0 gives a score
  for every pair, so the pairs table shows them all with "counted" marking the ones in the
  average; the average itself is SDMetrics' number. A run's measuring keeps no pairs table
  and skips that second report (every_pair=False); there, above 30 columns, a screen of the
  real data's pairs spares SDMetrics the pairs that cannot count (SCREEN_COLUMNS below),
  and the score stays SDMetrics' own.

Two deliberate settings: ContingencySimilarity runs on all rows (SDMetrics would draw an
unseeded sample above 50,000 rows, so a result could not be reproduced), and each column
also gets SDMetrics' MissingValueSimilarity, because the shape scores ignore missing
values and a generator that loses or invents missing values should still be visible.

Rules every real row keeps (kept_rules), ours, as none of SDMetrics' scores sees them: an
order between two numbers (admission <= discharge) and a value that settles a number
(non-smoker => 0 cigarettes a day), with the share of synthetic rows breaking each and its
Wilson interval. Scores of marginals and pairs stay high while rows are impossible: an
RHC-like cohort's Bayes net rows scored 0.98 with 42% discharged before admission.

The association heatmaps (correlation_matrices) are ours, for display only: signed Pearson
for two numbers, Cramer's V (scipy) for two categories and the correlation ratio eta for a
number and a category, on pairwise complete rows; undefined counts as 0; each side on a
seeded HEATMAP_ROWS of its rows at most.
"""

from __future__ import annotations

import warnings
from itertools import combinations
from typing import Optional

import numpy as np
import pandas as pd
from scipy.stats.contingency import association

from faircause_core.causal.effects import Z95
from faircause_core.limits import DEFAULT_LIMITS
from faircause_core.metrics.frames import (
    NUMERIC_KINDS, TABLE, canonical, check_frame, model_kinds, numbers, sdmetrics_columns, sdmetrics_frame, subsample,
    wilson,
)

QUALITY = "SDMetrics Quality Score"
SHAPES = "Column Shapes"
TRENDS = "Column Pair Trends"


# ----------------------------------------------------------------------------- SDMetrics
def _frames(real, synth, schema):
    """Validated (kinds, real, synthetic) with the model columns as SDMetrics reads them."""
    kinds = model_kinds(schema)
    check_frame(real, "real", kinds)
    check_frame(synth, "synthetic", kinds)
    return kinds, sdmetrics_frame(real, kinds, "real"), sdmetrics_frame(synth, kinds, "synthetic")


def _report(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict, thresholds: bool = True,
            pairs: list | None = None) -> QualityReport:
    """SDMetrics' QualityReport on all rows; thresholds=False scores every column pair;
    `pairs`: only these column pairs enter Column Pair Trends (SDMetrics' own property, told
    which pairs to visit)."""
    from sdmetrics.reports import QualityReport  # imported here: SDMetrics imports torch (2.6 s), which the
    # app server, reading only correlation_matrices, then never loads (job_process.PRELOAD has it for runs)

    report = QualityReport()
    report.num_rows_subsample = None
    if not thresholds:
        report.real_correlation_threshold = 0
        report.real_association_threshold = 0
    if pairs is not None:
        report._properties[TRENDS] = _trends_on(pairs)
    metadata = {"tables": {TABLE: {"columns": sdmetrics_columns(kinds)}}}
    with warnings.catch_warnings():  # e.g. a constant column: SDMetrics records it as an error
        warnings.simplefilter("ignore")
        report.generate({TABLE: real}, {TABLE: synth}, metadata, verbose=False)
    return report


def _trends_on(pairs: list):
    """SDMetrics' Column Pair Trends property restricted to `pairs` (its single-table
    property's own column_pairs argument, which the report does not expose)."""
    from sdmetrics.reports.multi_table._properties import ColumnPairTrends
    from sdmetrics.reports.single_table._properties import ColumnPairTrends as SingleTable

    class Some(SingleTable):
        def _generate_details(self, real_data, synthetic_data, metadata, progress_bar=None, column_pairs=None):
            return super()._generate_details(real_data, synthetic_data, metadata, progress_bar,
                                             column_pairs=list(pairs))

    class Trends(ColumnPairTrends):
        _single_table_property = Some

    return Trends()


# Column Pair Trends on wide tables. SDMetrics checks every pair's real-data correlation or
# association before it scores the pair (only related pairs count): on a 5,000 x 56 table
# that check alone took 6 s of CPU for 1,540 pairs, of which 52 counted. Above SCREEN_COLUMNS
# columns the same statistics are first computed here for all pairs at once (Pearson on
# pairwise complete rows; Cramer's V of the real rows' contingency table, numbers cut into
# SDMetrics' 10 equal-width bins, missing a value of its own), and only pairs within
# SCREEN_MARGIN of a threshold or above it go to SDMetrics, which decides and scores them as
# before: the score is SDMetrics' own over all pairs. If more than MAX_SCORED_PAIRS pairs are
# left, a seeded random sample of that many is scored and the trend gets the sampling error
# of a mean over pairs (its 95% interval in trend_ci_low / trend_ci_high).
SCREEN_COLUMNS = 30
SCREEN_MARGIN = 0.05
MAX_SCORED_PAIRS = SCREEN_COLUMNS * (SCREEN_COLUMNS - 1) // 2  # what 30 columns have in all


def _real_strengths(real: pd.DataFrame, kinds: dict) -> dict:
    """{(a, b): |Pearson| or Cramer's V in the real rows} for every pair SDMetrics would visit,
    as its Column Pair Trends computes them (NaN or 0 where it would have none)."""
    names = list(kinds)
    numeric = {c: kinds[c] in NUMERIC_KINDS for c in names}
    values, codes = {}, {}
    for c in names:
        if numeric[c]:
            x = real[c].to_numpy(dtype=float)
            values[c] = x
            seen = x[~np.isnan(x)]
            codes[c] = np.digitize(x, np.histogram_bin_edges(seen)) if seen.size else None
        else:
            codes[c] = pd.factorize(real[c].to_numpy(dtype=object), use_na_sentinel=False)[0]
    out = {}
    for a, b in combinations(names, 2):
        v = np.nan
        if numeric[a] and numeric[b]:
            x, y = values[a], values[b]
            ok = ~np.isnan(x) & ~np.isnan(y)
            if ok.sum() >= 2 and x[ok].std() > 0 and y[ok].std() > 0:
                v = abs(float(np.corrcoef(x[ok], y[ok])[0, 1]))
        elif codes[a] is not None and codes[b] is not None:
            with np.errstate(all="ignore"):
                v = _cramers_v(codes[a], codes[b])  # 0 where SDMetrics has none: below any threshold
        out[(a, b)] = v
    return out


def _screened_pairs(real: pd.DataFrame, kinds: dict, seed: int, notes: list) -> tuple[list, dict]:
    """(pairs for SDMetrics to check and score, facts about the screen) for a wide table."""
    from sdmetrics.reports.utils import (
        DEFAULT_REAL_ASSOCIATION_THRESHOLD as ASSOCIATION, DEFAULT_REAL_CORRELATION_THRESHOLD as CORRELATION)

    strengths = _real_strengths(real, kinds)
    numeric = {c: k in NUMERIC_KINDS for c, k in kinds.items()}
    candidates = [pair for pair, v in strengths.items()
                  if not v <= (CORRELATION if numeric[pair[0]] and numeric[pair[1]] else ASSOCIATION) - SCREEN_MARGIN]
    facts = {"trend_pairs_total": len(strengths), "trend_pairs_checked": len(candidates)}
    notes.append(f"{len(kinds)} columns, {len(strengths):,} column pairs: {len(strengths) - len(candidates):,} pairs "
                 f"whose real-data correlation or association is more than {SCREEN_MARGIN} below SDMetrics' "
                 f"threshold were left out before SDMetrics, which checked the other {len(candidates):,}")
    if len(candidates) > MAX_SCORED_PAIRS:
        pick = np.sort(np.random.default_rng([seed, 11]).choice(len(candidates), MAX_SCORED_PAIRS, replace=False))
        candidates = [candidates[i] for i in pick]
        facts["trend_pairs_sampled"] = len(candidates)
    return candidates, facts


def _errors(details: pd.DataFrame, label) -> list[str]:
    """SDMetrics' per-row error messages as notes."""
    if "Error" not in details:
        return []
    return [f"{label(row)}: SDMetrics could not score it ({row['Error']})"
            for _, row in details.iterrows() if isinstance(row["Error"], str)]


def _columns(report: QualityReport, real, synth, kinds, notes: list) -> pd.DataFrame:
    from sdmetrics.single_column import MissingValueSimilarity

    details = report.get_details(SHAPES, TABLE).set_index("Column")
    notes.extend(_errors(details.reset_index(), lambda r: f"column '{r['Column']}'"))
    rows = []
    for col, kind in kinds.items():
        score = float(details.loc[col, "Score"])
        if np.isnan(score) and "Error" not in details:
            notes.append(f"column '{col}': no observed values on one side, left out of {SHAPES} as SDMetrics does")
        missing = float(MissingValueSimilarity.compute(real[col], synth[col]))
        rows.append((col, kind, details.loc[col, "Metric"], score, missing))
    return pd.DataFrame(rows, columns=["column", "kind", "metric", "score", "missing_similarity"])


def _pairs(standard: QualityReport, every: QualityReport | None, notes: list) -> pd.DataFrame:
    """The pairs table; without `every`, a pair's score is the standard report's (NaN when
    the pair does not count)."""
    std = standard.get_details(TRENDS, TABLE)
    notes.extend(_errors(std, lambda r: f"pair '{r['Column 1']}' / '{r['Column 2']}'"))
    key = ["Column 1", "Column 2"]
    if every is None:
        every_score = std["Score"]
    else:
        every_score = every.get_details(TRENDS, TABLE).set_index(key)["Score"].reindex(pd.MultiIndex.from_frame(std[key]))
    return pd.DataFrame({
        "column_a": std["Column 1"].to_numpy(dtype=object),
        "column_b": std["Column 2"].to_numpy(dtype=object),
        "metric": std["Metric"].to_numpy(dtype=object),
        "score": every_score.to_numpy(dtype=float),
        "counted": std["Meets Threshold?"].fillna(False).to_numpy(dtype=bool),
        "real_correlation": std["Real Correlation"].to_numpy(dtype=float),
        "synthetic_correlation": std["Synthetic Correlation"].to_numpy(dtype=float),
        "real_association": std["Real Association"].to_numpy(dtype=float),
    })


def column_shapes(real: pd.DataFrame, synth: pd.DataFrame, schema) -> pd.DataFrame:
    """One SDMetrics shape score per column (KSComplement / TVComplement) and its missing-value match."""
    kinds, r, s = _frames(real, synth, schema)
    return _columns(_report(r, s, kinds), r, s, kinds, [])


def column_pair_trends(real: pd.DataFrame, synth: pd.DataFrame, schema) -> pd.DataFrame:
    """One SDMetrics score per column pair; "counted" marks the pairs in the standard average."""
    kinds, r, s = _frames(real, synth, schema)
    return _pairs(_report(r, s, kinds), _report(r, s, kinds, thresholds=False), [])


def quality_report(real: pd.DataFrame, synth: pd.DataFrame, schema, every_pair: bool = True, seed: int = 0) -> dict:
    """SDMetrics Quality Score with its two properties, per-column and per-pair tables and notes.

    shape / trend / quality are SDMetrics' Column Shapes, Column Pair Trends and overall
    score; trend is NaN (and quality = shape) when no pair counts, e.g. a single column.
    `every_pair=False` skips the second report that scores the pairs that do not count (the
    pairs table then has NaN for them) and, above SCREEN_COLUMNS columns, lets SDMetrics
    visit only the pairs the screen keeps (see SCREEN_COLUMNS): trend_pairs_total,
    trend_pairs_checked (and trend_pairs_sampled with the interval trend_ci_low / high when
    only a seeded sample of them was scored) say what was done. trend_pairs_counted is the
    number of pairs in the average.
    """
    kinds, r, s = _frames(real, synth, schema)
    notes: list[str] = []
    facts: dict = {}
    visit = None
    if not every_pair and len(kinds) > SCREEN_COLUMNS:
        visit, facts = _screened_pairs(r, kinds, seed, notes)
    standard = _report(r, s, kinds, pairs=visit)
    columns = _columns(standard, r, s, kinds, notes)
    pairs = _pairs(standard, _report(r, s, kinds, thresholds=False) if every_pair else None, notes)
    props = standard.get_properties().set_index("Property")["Score"]
    shape, trend = float(props[SHAPES]), float(props[TRENDS])
    quality = float(standard.get_score())
    counted = pairs.loc[pairs["counted"], "score"].dropna().to_numpy(dtype=float)
    facts["trend_pairs_counted"] = int(counted.size)
    if "trend_pairs_sampled" in facts:
        facts.update(_sampled_trend(counted, facts))
        notes.append(f"{facts['trend_pairs_checked']:,} pairs were left, more than {MAX_SCORED_PAIRS}: SDMetrics "
                     f"scored a seeded random sample of {facts['trend_pairs_sampled']:,}, {counted.size:,} of which "
                     f"count; {TRENDS} is their mean, 95% interval [{facts['trend_ci_low']:.3f}, "
                     f"{facts['trend_ci_high']:.3f}] (the sampling error of a mean over pairs)")
    sparse = _sparse_counted(pairs, r, kinds)
    if sparse:
        names = ", ".join(f"'{c}' ({k:,})" for c, k in sparse.items())
        by = pairs["counted"] & (pairs["column_a"].isin(list(sparse)) | pairs["column_b"].isin(list(sparse)))
        notes.append(f"{int(by.sum())} of the {int(pairs['counted'].sum())} pairs counted in {TRENDS} involve a "
                     f"column with more than {SPARSE_CATEGORIES} categories: {names}. Cramer's V, which decides "
                     "whether a pair counts, is high for such a column whatever its relation (few rows a category), "
                     "so these pairs may count, and pull the score, by chance")
    if (len(pairs) or visit is not None) and not pairs["counted"].any():
        notes.append(f"no column pair is related in the real data (|Pearson| > 0.5 or Cramer's V > 0.3): "
                     f"no {TRENDS} score")
    properties = pd.DataFrame({"property": [QUALITY, SHAPES, TRENDS], "score": [quality, shape, trend]})
    rules = kept_rules(real, synth, kinds, seed=seed)
    return dict(shape=shape, trend=trend, quality=quality, columns=columns, pairs=pairs,
                properties=properties, notes=notes, rules=rules, **facts)


#: A categorical column with more distinct values than the category limit (the one the schema
#: warns at) has few real rows a category: its Cramer's V with any column is inflated.
SPARSE_CATEGORIES = DEFAULT_LIMITS.max_categories


def _sparse_counted(pairs: pd.DataFrame, real: pd.DataFrame, kinds: dict) -> dict:
    """{column: distinct real values} of the non-numeric columns past SPARSE_CATEGORIES that are
    in a counted pair."""
    if not len(pairs) or not pairs["counted"].any():
        return {}
    counted = pairs[pairs["counted"]]
    used = set(counted["column_a"]) | set(counted["column_b"])
    out = {}
    for c in kinds:
        if c in used and kinds[c] not in NUMERIC_KINDS and c in real:
            k = int(real[c].nunique(dropna=True))
            if k > SPARSE_CATEGORIES:
                out[c] = k
    return out


def _sampled_trend(scores: np.ndarray, facts: dict) -> dict:
    """The 95% interval of a mean over a simple random sample of pairs (finite-population
    corrected: the sample is `trend_pairs_sampled` of `trend_pairs_checked` pairs)."""
    m = scores.size
    if m < 2:
        return {"trend_ci_low": float("nan"), "trend_ci_high": float("nan")}
    share = facts["trend_pairs_sampled"] / facts["trend_pairs_checked"]
    half = Z95 * scores.std(ddof=1) / np.sqrt(m) * np.sqrt(1.0 - share)
    mean = float(scores.mean())
    return {"trend_ci_low": max(0.0, mean - half), "trend_ci_high": min(1.0, mean + half)}


# ----------------------------------------------------------------------------- heatmaps
def _discrete_codes(*series: pd.Series) -> list[np.ndarray]:
    """Integer codes shared across frames, 0 = missing."""
    parts = [canonical(s) for s in series]
    codes, _ = pd.factorize(np.concatenate([p.astype(object) for p in parts]), use_na_sentinel=True)
    return np.split(codes + 1, np.cumsum([len(p) for p in parts])[:-1])


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramer's V of two code arrays (missing already removed); 0 when undefined."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    r, c = a.max() + 1 if a.size else 0, b.max() + 1 if b.size else 0
    if min(r, c) < 2:
        return 0.0
    table = np.bincount(a * c + b, minlength=r * c).reshape(r, c)
    return float(association(table, method="cramer"))


def _eta(y: np.ndarray, g: np.ndarray) -> float:
    """Correlation ratio: sqrt(between-group / total variance) of numbers y by groups g."""
    if y.size < 2:
        return 0.0
    total = float(((y - y.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    _, g = np.unique(g, return_inverse=True)
    sums, counts = np.bincount(g, weights=y), np.bincount(g)
    between = float((counts * (sums / counts - y.mean()) ** 2).sum())
    return float(np.sqrt(min(between / total, 1.0)))


def _association(kinds, arrays, codes) -> pd.DataFrame:
    """Association matrix of one frame: Pearson / Cramer's V / eta, pairwise complete."""
    names = list(kinds)
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for a, b in combinations(names, 2):
        na, nb = kinds[a] in NUMERIC_KINDS, kinds[b] in NUMERIC_KINDS
        if na and nb:
            x, y = arrays[a], arrays[b]
            ok = ~np.isnan(x) & ~np.isnan(y)
            v = 0.0
            if ok.sum() >= 2 and x[ok].std() > 0 and y[ok].std() > 0:
                v = float(np.corrcoef(x[ok], y[ok])[0, 1])
        elif na or nb:
            num, disc = (a, b) if na else (b, a)
            y, g = arrays[num], codes[disc]
            ok = ~np.isnan(y) & (g > 0)
            v = _eta(y[ok], g[ok])
        else:
            ok = (codes[a] > 0) & (codes[b] > 0)
            v = _cramers_v(codes[a][ok], codes[b][ok])
        out.loc[a, b] = out.loc[b, a] = v
    return out


#: The association heatmaps read at most this many rows a side (seeded): at 50,000 rows an
#: association's sampling error is about 0.005, below what a heatmap's colours show, where all
#: of 2,000,000 real and 1,000,000 synthetic rows x 100 columns took minutes in the app's
#: server (200,000 real and 100,000 synthetic rows x 100 columns: 48 s; 16 s on this sample).
HEATMAP_ROWS = 50_000


def heatmap_rows(n: int, max_rows: Optional[int] = HEATMAP_ROWS) -> int:
    """How many of a side's n rows the heatmaps read."""
    return n if max_rows is None else min(n, int(max_rows))


def correlation_matrices(real: pd.DataFrame, synth: pd.DataFrame, schema, max_rows: Optional[int] = HEATMAP_ROWS,
                         seed: int = 0):
    """(real association, synthetic association, synthetic - real) for heatmaps, each side on a
    seeded heatmap_rows(...) of its rows (all of them up to HEATMAP_ROWS; None: always all)."""
    kinds = model_kinds(schema)
    check_frame(real, "real", kinds)
    check_frame(synth, "synthetic", kinds)
    rng = np.random.default_rng(seed)
    real, synth = (subsample(df, heatmap_rows(len(df), max_rows), rng) for df in (real, synth))
    mats, frames = [], (("real", real), ("synthetic", synth))
    codes = {c: _discrete_codes(real[c], synth[c]) for c, k in kinds.items() if k not in NUMERIC_KINDS}
    for side, (which, df) in enumerate(frames):
        arrays = {c: numbers(df[c], which) for c, k in kinds.items() if k in NUMERIC_KINDS}
        mats.append(_association(kinds, arrays, {c: v[side] for c, v in codes.items()}))
    return mats[0], mats[1], mats[1] - mats[0]


# ----------------------------------------------------------------------------- rules
RULE_MIN_ROWS = 50  # real rows a rule must hold on (both columns present) to be a rule
RULE_SCAN_ROWS = 20_000  # rules are looked for on a seeded sample of the real rows, then checked on all
RULE_MAX_LEVELS = 12  # a settling column: at most this many values
RULE_SHARE = 0.05  # ... each settling value held by this share of the rows at least
RULE_SHOWN = 20  # rules listed, the most broken first
#: an order is a rule only when the real values of a and b, paired at random, break it in this
#: share of rows at least (else the ranges alone keep it)
RULE_APART = 0.02
#: a rule counts as broken when the synthetic rows surely break it more often than this
RULE_BREAK_WARN = 0.01


def kept_rules(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict, seed: int = 0) -> dict:
    """Rules every real row keeps, and how often the synthetic rows break each:

    - order: number a <= number b on every real row with both (at least RULE_MIN_ROWS), where
      the values paired at random would break it in RULE_APART of rows (else the ranges alone
      keep it: no rule);
    - settles: a value v of a column with at most RULE_MAX_LEVELS values, held by RULE_SHARE of
      the rows, whose rows all have the same number k in another column that varies elsewhere.

    Returns {"found": count, "rules": [{rule, kind, real_rows, synthetic_rows, broken,
    broken_share, ci_low, ci_high}] (the RULE_SHOWN most broken), "broken": rules whose
    interval's low end exceeds RULE_BREAK_WARN}."""
    nums = [c for c, k in kinds.items() if k in NUMERIC_KINDS and c in real.columns and c in synth.columns]
    found: list[tuple] = []
    scan = subsample(real, RULE_SCAN_ROWS, np.random.default_rng([seed, 7]))
    rng = np.random.default_rng([seed, 8])
    X = {c: numbers(scan[c], "real") for c in nums}
    for a in nums:
        for b in nums:
            if a == b:
                continue
            both = ~np.isnan(X[a]) & ~np.isnan(X[b])
            if both.sum() < RULE_MIN_ROWS:
                continue
            xa, xb = X[a][both], X[b][both]
            if np.all(xa <= xb) and not np.all(xa == xb) and xa.max() > xb.min():
                # a rule only if values drawn apart would often break it (heart rate <= cholesterol is not one)
                apart = float((xa > rng.permutation(xb)).mean())
                if apart >= RULE_APART:
                    found.append(("order", a, b, None))
    for c, k in kinds.items():
        if c not in real.columns or c not in synth.columns or scan[c].nunique() > RULE_MAX_LEVELS:
            continue
        for v, count in scan[c].value_counts().items():
            if count < max(RULE_MIN_ROWS, RULE_SHARE * len(scan)):
                continue
            rows = (scan[c] == v).to_numpy()
            for m in nums:
                if m == c:
                    continue
                inside, outside = X[m][rows], X[m][~rows]
                inside, outside = inside[~np.isnan(inside)], outside[~np.isnan(outside)]
                if (inside.size < RULE_MIN_ROWS or np.unique(inside).size != 1 or not outside.size
                        or not (outside != inside[0]).mean() > RULE_SHARE):
                    continue
                found.append(("settles", c, m, (v, float(inside[0]))))
    out = []
    for kind, a, b, extra in found:
        real_ok, n_real = _rule_holds(real, kind, a, b, extra)
        if n_real < RULE_MIN_ROWS or not real_ok.all():  # on every real row, not only the scanned ones
            continue
        syn_ok, n_syn = _rule_holds(synth, kind, a, b, extra)
        if n_syn == 0:
            continue
        broken = int((~syn_ok).sum())
        share, lo, hi = wilson(broken, n_syn)
        text = (f"{a} <= {b}" if kind == "order"
                else f"{a} = {_plain(extra[0])} => {b} = {_plain(extra[1])}")
        out.append(dict(rule=text, kind=kind, real_rows=int(n_real), synthetic_rows=int(n_syn), broken=broken,
                        broken_share=share, ci_low=lo, ci_high=hi))
    out.sort(key=lambda r: (-r["broken_share"], r["rule"]))
    return {"found": len(out), "rules": out[:RULE_SHOWN],
            "broken": [r["rule"] for r in out if r["ci_low"] > RULE_BREAK_WARN]}


def _rule_holds(df: pd.DataFrame, kind: str, a: str, b: str, extra) -> tuple[np.ndarray, int]:
    """(whether each row the rule applies to keeps it, how many rows it applies to)."""
    if kind == "order":
        xa, xb = numbers(df[a], "table"), numbers(df[b], "table")
        both = ~np.isnan(xa) & ~np.isnan(xb)
        return xa[both] <= xb[both], int(both.sum())
    value, number = extra
    xb = numbers(df[b], "table")
    rows = (df[a] == value).to_numpy() & ~np.isnan(xb)
    return xb[rows] == number, int(rows.sum())


def _plain(v) -> str:
    """1.0 as 1, text as it is."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)
