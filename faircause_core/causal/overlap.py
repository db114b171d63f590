"""Overlap of the two groups given the covariates: can one group stand in for the other?

The decomposition's counterfactual means are "effect on the x0 group" functionals: the x1
rows are reweighted by the propensity odds w = (1 - pi) / pi, pi = P(X = x1 | V), so that
they look like the x0 rows in V (V = Z for E[Y_x1 | x0], V = (Z, W) for E[Y_{x1,W_x0} | x0]).
When few x1 rows resemble the x0 rows, a handful of them carry the estimate. Shown with every
audit (`overlap` in the Decomposition, the audit JSON and the generate report), from the
cross-fitted propensities the estimator itself uses (clipped as it clips them):

- ess_x1: the effective sample size of the x1 rows under the estimator's weights,
  (sum w)^2 / sum w^2 (Kish), out of n1;
- ess_x0: the same for the x0 rows under the reverse odds pi / (1 - pi), which would carry
  the mirror question (effect on the x1 group), out of n0;
- share_extreme: the share of all rows whose propensity lies outside [0.05, 0.95];
- max_weight: the largest weight of one x1 row relative to the mean weight (1 = even; 20 =
  one row counts as 20 typical ones);
- auroc: how well V tells the groups apart (0.5 = not at all).

The warning rule (`overlap_warning`, `poor`): the x1 rows' effective sample size under
ESS_SHARE (20%) of n1 (ess_x0 is shown but not ruled on: no estimate reweights x0). Why 20%:
the variance of a weighted mean grows as 1 / ESS, so at 20% the correction term has the
standard error of a sample five times smaller than the group; and in bench/bench_overlap.py
(a structural model with known effects, n = 2,000, overlap made worse in 7 steps, 210
draws) the 95% intervals covered the true Ctf-DE in 87-93% and Ctf-SE in 84-89% of the
draws whose ESS share was under 20% (135 draws), against 96-100% and 89-96% at 20% and above
(75 draws) (docs/method.md, "Overlap"). The older rule (more than 1% of propensities outside
[0.01, 0.99]) stays: it catches a few extreme rows.
"""

from __future__ import annotations

import math

import numpy as np

#: Warn when a group's effective sample size is below this share of its rows.
ESS_SHARE = 0.2
#: The band outside which a propensity counts as extreme in `share_extreme`.
EXTREME = (0.05, 0.95)
KEYS = ("ess_x0", "ess_x1", "share_extreme", "max_weight")
OVERLAP_HELP = (f"The estimate reweights one group's rows to resemble the other's covariates. The effective sample "
                f"size says how many rows those weights are worth; under {ESS_SHARE:.0%} of the group a few rows carry "
                f"the counterfactual means and a warning is shown. Extreme propensities (outside "
                f"[{EXTREME[0]:g}, {EXTREME[1]:g}]) and a large largest weight say the same.")


def kish(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2 (0 for no weight)."""
    w = np.asarray(weights, dtype=float)
    total = float(np.sum(w * w))
    return float(np.sum(w) ** 2 / total) if total > 0 else 0.0


def _auroc(score: np.ndarray, label: np.ndarray) -> float:
    from scipy.stats import rankdata

    n1, n0 = int(label.sum()), int((~label).sum())
    if n1 == 0 or n0 == 0:
        return math.nan
    r = rankdata(score)
    return float((r[label].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def overlap_stats(pi: np.ndarray, is1: np.ndarray, clip: float, given: list) -> dict:
    """The overlap numbers of one propensity fit (`pi` = P(x1 | V) per row, out of fold)."""
    pi = np.asarray(pi, dtype=float)
    is1 = np.asarray(is1, dtype=bool)
    p = np.clip(pi, clip, 1.0 - clip)
    w1 = ((1.0 - p) / p)[is1]
    w0 = (p / (1.0 - p))[~is1]
    lo, hi = EXTREME
    return {
        "given": list(given),
        "n0": int((~is1).sum()),
        "n1": int(is1.sum()),
        "ess_x0": kish(w0),
        "ess_x1": kish(w1),
        "share_extreme": float(((pi < lo) | (pi > hi)).mean()) if len(pi) else 0.0,
        "max_weight": float(w1.max() / w1.mean()) if len(w1) and w1.mean() > 0 else math.nan,
        "auroc": _auroc(pi, is1),
        "extreme_band": list(EXTREME),
        "rule": f"effective sample size under {ESS_SHARE:.0%} of its group",
    }


def median_overlap(parts: list) -> dict:
    """One overlap record from several cross-fitting splits: each number's median, and the
    range over the splits of the two effective sample sizes (`ess_x0_range`, `ess_x1_range`)."""
    parts = [p for p in parts if p]
    if not parts:
        return {}
    out = dict(parts[0])
    for key in ("ess_x0", "ess_x1", "share_extreme", "max_weight", "auroc"):
        values = [p[key] for p in parts if p.get(key) is not None and not _nan(p[key])]
        out[key] = float(np.median(values)) if values else math.nan
    for key in ("ess_x0", "ess_x1"):
        values = [p[key] for p in parts]
        out[f"{key}_range"] = [float(min(values)), float(max(values))]
    out["splits"] = len(parts)
    return out


def _nan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def low_groups(overlap: dict) -> list[str]:
    """"x0" / "x1" for each group whose effective sample size is under ESS_SHARE of its rows."""
    out = []
    for g in ("x0", "x1"):
        n, ess = overlap.get(f"n{g[1]}"), overlap.get(f"ess_{g}")
        if n and ess is not None and not _nan(ess) and ess < ESS_SHARE * n:
            out.append(g)
    return out


def poor(overlap: dict) -> bool:
    """The warning rule: the x1 rows, which the estimator reweights, have an effective sample
    size under ESS_SHARE of their number. (ess_x0 is shown, not ruled on: no estimate here
    reweights the x0 rows.)"""
    return "x1" in low_groups(overlap or {})


def _given(overlap: dict) -> str:
    given = overlap.get("given") or []
    return ", ".join(given[:4]) + (f" and {len(given) - 4} more" if len(given) > 4 else "") if given else "nothing"


def overlap_line(overlap: dict, name0: str = "x0", name1: str = "x1") -> str:
    """The overlap in one sentence, with the spread over the splits where there is one."""
    if not overlap:
        return ""

    def ess(g: str, name: str) -> str:
        n, value = overlap[f"n{g[1]}"], overlap[f"ess_{g}"]
        rng = overlap.get(f"ess_{g}_range")
        spread = f", {rng[0]:,.0f}-{rng[1]:,.0f} over {overlap.get('splits')} splits" if rng else ""
        return f"{value:,.0f} of {n:,} {name} ({value / n:.0%}{spread})" if n else f"none of 0 {name}"

    lo, hi = overlap.get("extreme_band") or EXTREME
    auroc = overlap.get("auroc")
    known = auroc is not None and not _nan(auroc)
    told = f"; the covariates tell the groups apart with AUROC {auroc:.2f}" if known else ""
    return (f"Overlap given {_given(overlap)}: effective sample size {ess('x1', name1)} and {ess('x0', name0)}; "
            f"{overlap['share_extreme']:.1%} of propensities outside [{lo:g}, {hi:g}]; the largest weight is "
            f"{overlap['max_weight']:.1f} times the average{told}.")


def overlap_warning(overlap: dict, name0: str = "x0", name1: str = "x1") -> str | None:
    """One line when a group's effective sample size is under ESS_SHARE of its rows, else None."""
    if not poor(overlap):
        return None
    ess, n = overlap["ess_x1"], overlap["n1"]
    rng = overlap.get("ess_x1_range")
    spread = f" ({rng[0]:,.0f}-{rng[1]:,.0f} over {overlap.get('splits')} splits)" if rng else ""
    return (f"poor overlap given {_given(overlap)}: the {n:,} rows of {name1} count as {ess:,.0f}{spread} once "
            f"weighted to resemble {name0}, under {ESS_SHARE:.0%} of the group, so a few of them carry the "
            f"counterfactual means: read the direct, indirect and spurious parts with care")
