"""The refinement loop: generate, measure the decomposition, steer only what the user edits.

The paper re-prompted "reduce all fairness metrics" without feeding the numbers back; here
the measured Ctf-DE/IE/SE are compared with their targets ((1 - alpha_user) x the real
effect). Rules that keep every number meaningful:

- alphas stay in [0, 1]: a share of a pathway removed; outside it has no causal meaning;
- only a partial edit (0 < alpha < 1) is steered, by a damped secant step inside [0, 1];
  a kept pathway (alpha 0, mirror mode in particular) is a plain fit and a removed one
  (alpha 1) is exact by construction: their miss is the generator's gap, reported, never a
  lever to pull;
- a lever the graph gives no path for is frozen and reported (`frozen`);
- a round is within tolerance only if the target lies inside the measurement's 95%
  interval, or the miss is below the tolerance plus its standard error: one rule,
  `acceptance_band`, which also gives the bands the refinement chart draws;
- the delivered rows are a fresh draw at the final alphas (not the measured sample).
Every round uses the same seed (common random numbers) so rounds differ only by alpha.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from faircause_core.causal.effects import EFFECT_LABELS, Z95, as_decomposition
from faircause_core.errors import InputError
from faircause_core.generators.base import PATHWAYS, CancelToken, FairnessSpec, ProgressFn, check_rows, no_progress

EFFECT_OF = {"de": "ctf_de", "ie": "ctf_ie", "se": "ctf_se"}
ALPHA_RANGE = (0.0, 1.0)
DAMPING = 0.8  # < 1: the measured slope is noisy, overshooting costs a round
MAX_STEP = 0.5  # no single round moves an alpha further than this
MIN_SLOPE = 0.01  # |d effect / d alpha| floor: a near-zero effect must not blow up the step


@dataclass
class RefineResult:
    """Final rows plus the log of every round (JSON-safe apart from `data`)."""

    data: pd.DataFrame
    rounds: list = field(default_factory=list)
    converged: bool = False
    final_fairness: FairnessSpec = field(default_factory=FairnessSpec)
    real: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    message: str = ""
    frozen: dict = field(default_factory=dict)

    @property
    def alphas_used(self) -> dict:
        """{de, ie, se}: the alphas the delivered rows were drawn with."""
        return {p: float(getattr(self.final_fairness, p)) for p in PATHWAYS}

    def rounds_frame(self) -> pd.DataFrame:
        """One row per round and pathway, for a table or a convergence plot."""
        rows = []
        for r in self.rounds:
            for p in PATHWAYS:
                e = EFFECT_OF[p]
                rows.append({
                    "round": r["round"], "pathway": p.upper(), "alpha": r["alphas"][p],
                    "measured": r["measured"][e], "ci_low": r["intervals"][e][0], "ci_high": r["intervals"][e][1],
                    "target": r["targets"][e], "error": r["errors"][e],
                    "tolerance": r["tolerances"][e], "within": r["within"][e], "seconds": r["seconds"],
                })
        return pd.DataFrame(rows)


def _estimates(decomposition) -> dict:
    """{effect: estimate} of a Decomposition or its to_dict()."""
    return dict(as_decomposition(decomposition).estimates)


def targets_and_tolerances(real: dict, fairness: FairnessSpec, abs_tol: float, rel_tol: float) -> tuple[dict, dict]:
    """Target (1 - alpha) * real per effect; abs_tol for a removed one, else
    max(abs_tol, rel_tol * |real|)."""
    targets, tols = {}, {}
    for p in PATHWAYS:
        e, a = EFFECT_OF[p], getattr(fairness, p)
        targets[e] = (1.0 - a) * real[e]
        tols[e] = abs_tol if a >= 1.0 else max(abs_tol, rel_tol * abs(real[e]))
    return targets, tols


def acceptance_band(target: float, se: float, tol: float) -> tuple[float, float]:
    """The values a measurement with standard error `se` may take and be within tolerance of
    `target`: target +/- max(1.96 se, tol + se). The one rule behind `within_tolerance`, the
    words "converged"/"within tolerance" and the bands the refinement chart draws."""
    se = se if se is not None and math.isfinite(se) else 0.0
    half = max(Z95 * se, tol + se)
    return target - half, target + half


def within_tolerance(estimate: float, se: float, target: float, tol: float) -> bool:
    """The noise-aware rule: the target lies inside the 95% interval of the measurement, or
    the miss is below the tolerance plus one standard error (`acceptance_band`)."""
    lo, hi = acceptance_band(target, se, tol)
    return lo <= estimate <= hi


def round_bands(r: dict) -> dict:
    """{effect: (low, high)} of a logged round's acceptance bands (`acceptance_band` with the
    round's own target, tolerance and standard error): a measured value inside its band is
    exactly a round's `within`."""
    ses = (r.get("decomposition") or {}).get("ses") or {}
    out = {}
    for e, target in (r.get("targets") or {}).items():
        tol = (r.get("tolerances") or {}).get(e)
        if target is None or tol is None:
            continue
        se = ses.get(e)
        if se is None and (r.get("intervals") or {}).get(e) is not None:  # a log without the decomposition
            lo, hi = r["intervals"][e]
            se = (hi - lo) / (2 * Z95)
        out[e] = acceptance_band(float(target), math.nan if se is None else float(se), float(tol))
    return out


def _check_settings(n, n_measure, max_rounds, abs_tol, rel_tol) -> tuple[int, int, int, float, float]:
    n = check_rows(n)
    n_measure = max(n, 4000) if n_measure is None else check_rows(n_measure)
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or not 1 <= max_rounds <= 50:
        raise InputError(f"max_rounds must be a whole number between 1 and 50, got {max_rounds!r}")
    tols = []
    for label, v in (("abs_tol", abs_tol), ("rel_tol", rel_tol)):
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise InputError(f"{label} must be a number >= 0, got {v!r}") from None
        if not v >= 0 or math.isinf(v):
            raise InputError(f"{label} must be a number >= 0, got {v!r}")
        tols.append(v)
    return n, n_measure, max_rounds, tols[0], tols[1]


def _next_alpha(a: float, err: float, slope: float) -> float:
    """Damped Newton step on err(alpha) with the given slope, bounded and kept in [0, 1]."""
    step = -err / slope
    step = max(-MAX_STEP, min(MAX_STEP, DAMPING * step))
    return max(ALPHA_RANGE[0], min(ALPHA_RANGE[1], a + step))


def _secant(slope: float, a_new: float, a_old: float, m_new: float, m_old: float) -> float:
    """Measured slope between two rounds, if it is usable; else keep the previous one."""
    if abs(a_new - a_old) < 1e-6:
        return slope
    s = (m_new - m_old) / (a_new - a_old)
    if s * slope <= 0 or abs(s) < MIN_SLOPE:  # noise flipped it or flattened it: ignore
        return slope
    return s


def fresh_seed(seed: int) -> int:
    """The seed of the delivered draw: independent of the measured rounds' random numbers."""
    return int(np.random.SeedSequence([int(seed), 1]).generate_state(1)[0])


def refine(
    generator,
    n,
    fairness: FairnessSpec,
    roles,
    real,
    *,
    seed: int = 0,
    max_rounds: int = 5,
    abs_tol: float = 0.02,
    rel_tol: float = 0.10,
    method: str = "dr",
    n_measure=None,
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelToken] = None,
    decompose_options: Optional[dict] = None,
    frozen: Optional[dict] = None,
) -> RefineResult:
    """Measure a fitted generator's decomposition, steer partial edits, deliver n fresh rows.

    `real` is the real data's Decomposition (or its to_dict()); `frozen` maps a pathway
    the graph gives no path for to the reason ({"se": "sex has no parents in this graph"}):
    it is never moved. `decompose_options` go to fairness.decompose.
    """
    from faircause_core.causal.fairness import METHODS, decompose

    if method not in METHODS:
        raise InputError(f"unknown decomposition method {method!r}; use one of {', '.join(METHODS)}")
    if not isinstance(fairness, FairnessSpec):
        raise InputError(f"fairness must be a FairnessSpec, got {type(fairness).__name__}")
    n, n_measure, max_rounds, abs_tol, rel_tol = _check_settings(n, n_measure, max_rounds, abs_tol, rel_tol)
    progress = progress or no_progress
    options = dict(decompose_options or {})
    frozen = dict(frozen or {})
    real_est = _estimates(real)
    targets, tols = targets_and_tolerances(real_est, fairness, abs_tol, rel_tol)

    alphas = {p: float(getattr(fairness, p)) for p in PATHWAYS}
    steered = [p for p in PATHWAYS if 0.0 < alphas[p] < 1.0 and p not in frozen]
    slopes = {p: -real_est[EFFECT_OF[p]] for p in PATHWAYS}
    slopes = {p: (s if abs(s) >= MIN_SLOPE else (MIN_SLOPE if s >= 0 else -MIN_SLOPE)) for p, s in slopes.items()}
    rounds: list = []
    best = None  # (score, round index, alphas)
    previous = None
    converged = False
    rounds_allowed = max_rounds if steered else 1  # nothing to steer: one plain measurement
    for k in range(1, rounds_allowed + 1):
        if cancel is not None:
            cancel.check()
        progress(f"refining: round {k}", k, rounds_allowed)
        t0 = time.perf_counter()
        spec = FairnessSpec(reference=fairness.reference, **alphas)
        synth = generator.sample(n_measure, spec, seed=seed, cancel=cancel)
        try:
            dec = decompose(
                synth, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w,
                seed=seed, method=method, threshold=roles.threshold, positive=roles.positive, **options,
            )
        except InputError as err:
            raise InputError(f"measuring the synthetic rows of refinement round {k} failed: {err}") from None
        measured, ses = _estimates(dec), dict(dec.ses)
        errors = {e: measured[e] - targets[e] for e in targets}
        within = {e: within_tolerance(measured[e], ses[e], targets[e], tols[e]) for e in targets}
        rounds.append({
            "round": k,
            "alphas": dict(alphas),
            "decomposition": dec.to_dict(),
            "measured": {e: measured[e] for e in targets},
            "intervals": {e: [measured[e] - Z95 * ses[e], measured[e] + Z95 * ses[e]] for e in targets},
            "targets": dict(targets),
            "errors": errors,
            "tolerances": dict(tols),
            "within": within,
            "seconds": round(time.perf_counter() - t0, 3),
        })
        score = max(abs(errors[e]) / max(tols[e], 1e-9) for e in targets)
        if best is None or score < best[0]:
            best = (score, k, dict(alphas))
        if all(within.values()):
            converged = True
            best = (score, k, dict(alphas))  # the round within tolerance is the one delivered and said
            break
        if k == rounds_allowed or not any(not within[EFFECT_OF[p]] for p in steered):
            break
        if cancel is not None:
            cancel.check()
        new = dict(alphas)
        for p in steered:
            e = EFFECT_OF[p]
            if previous is not None:
                slopes[p] = _secant(slopes[p], alphas[p], previous[0][p], measured[e], previous[1][e])
            if not within[e]:
                new[p] = _next_alpha(alphas[p], errors[e], slopes[p])
        previous = (dict(alphas), measured)
        if new == alphas:  # pinned at 0 or 1: another round would measure the same thing
            break
        alphas = new

    _, k_best, final_alphas = best
    final_spec = FairnessSpec(reference=fairness.reference, **final_alphas)
    progress("drawing the delivered rows", 0, 1)
    data = generator.sample(n, final_spec, seed=fresh_seed(seed), cancel=cancel).reset_index(drop=True)
    progress("drawing the delivered rows", 1, 1)
    message = _message(rounds, k_best, converged, steered, tols)
    return RefineResult(
        data=data,
        rounds=rounds,
        converged=converged,
        final_fairness=final_spec,
        real=as_decomposition(real).to_dict(),
        targets=targets,
        message=message,
        frozen=frozen,
    )


def _pp(v: float) -> str:
    """A share in signed percentage points, with the decimals that keep its side of 0."""
    x, d = float(v) * 100, 1
    while x != 0 and round(x, d) == 0 and d < 4:
        d += 1
    return f"{round(x, d) + 0.0:+.{d}f}"


def _message(rounds: list, k_best: int, converged: bool, steered: list, tols: dict) -> str:
    """One sentence on what the loop found; "converged" and "within tolerance" only when
    every effect of the round said lies inside its `acceptance_band` (the rule behind each
    round's `within`), and otherwise the effect furthest outside its band, in percentage
    points, in the decomposition's sign convention."""
    kept = rounds[k_best - 1]
    if converged:
        if steered:
            return f"converged in round {k_best}: every effect is within tolerance of its target"
        return "every effect of the generator is within tolerance of its target (one measurement, not steered)"
    bands = round_bands(kept)
    outside = [e for e, ok in kept["within"].items() if not ok] or list(kept["errors"])

    def beyond(e):  # how far outside its band, in units of the band's half-width
        lo, hi = bands[e]
        half = max((hi - lo) / 2, 1e-12)
        return abs(kept["errors"][e]) / half

    worst = max(outside, key=beyond)
    lo, hi = kept["intervals"][worst]
    b_lo, b_hi = bands[worst]
    miss = (f"{EFFECT_LABELS.get(worst, worst)} measured {_pp(kept['measured'][worst])} pp (95% CI {_pp(lo)} to "
            f"{_pp(hi)}) against a target of {_pp(kept['targets'][worst])} pp, outside the band it must fall in "
            f"({_pp(b_lo)} to {_pp(b_hi)} pp: tolerance {tols[worst] * 100:.1f} pp, widened by the measurement's "
            f"noise)")
    if steered:
        return f"not converged after {len(rounds)} rounds; kept round {k_best}, whose largest miss is {miss}"
    return f"not within tolerance: {miss}; a plain fit, not steered: this is the generator's gap"
