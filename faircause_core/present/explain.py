"""One plain-language sentence per fairness effect, for a clinician to read aloud.

Semantics follow method.md section 2 (x0 baseline group, x1 comparison group):
  TV  = E[Y|x1] - E[Y|x0]                     the whole observed gap
  DE  = E[Y_{x1,W_{x0}}|x0] - E[Y|x0]         switching X alone, mediators kept as for x0
  IE  = E[Y_{x1,W_{x0}}|x0] - E[Y_{x1}|x0]    so mediators moving from x0's to x1's values
                                              change the rate by -IE
  SE  = E[Y_{x1}|x0] - E[Y|x1]                so the confounder (Z) difference between the
                                              groups contributes -SE to the gap
  ETT = E[Y_{x1}|x0] - E[Y|x0]                x0 people switched to x1 with everything
                                              downstream following
TV = DE + (-IE) + (-SE), so each sentence states the signed contribution it adds to the gap.
"""

from __future__ import annotations

import math
from typing import Sequence

from faircause_core.causal.effects import EFFECT_LABELS, as_decomposition


def outcome_phrase(y: str, threshold: float | None = None) -> str:
    """'the death rate' or 'the share with cholesterol >= 240'."""
    if threshold is not None:
        return f"the share with {y} \u2265 {threshold:g}"
    return f"the {y} rate"


def _pp(value: float) -> str:
    return f"{abs(value) * 100:.1f} percentage points"


def _ci(low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return ""
    lo, hi = round(low * 100, 1) + 0.0, round(high * 100, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f" (95% CI {lo:+.1f} to {hi:+.1f})"


def _direction(value: float) -> str:
    if value > 0:
        return "higher"
    if value < 0:
        return "lower"
    return "no different"


def _list(names: Sequence[str], fallback: str) -> str:
    names = [str(n) for n in names]
    if not names:
        return fallback
    if len(names) > 4:
        return ", ".join(names[:4]) + f" and {len(names) - 4} more"
    return ", ".join(names)


def _uncertain(low: float, high: float) -> str:
    if not (math.isnan(low) or math.isnan(high)) and low <= 0 <= high:
        return "; the interval includes zero, so this may be no effect at all"
    return ""


def sentence(effect: str, estimate: float, ci_low: float, ci_high: float, *, x0: str, x1: str,
             y: str, threshold: float | None = None, z: Sequence[str] = (), w: Sequence[str] = ()) -> str:
    """The sentence for one effect. Numbers are signed contributions to the x1-vs-x0 gap."""
    rate = outcome_phrase(y, threshold)
    x0, x1 = str(x0), str(x1)
    if effect in ("ctf_ie", "ctf_se"):
        # These enter the gap with a minus sign: report the contribution, flip the interval.
        estimate, ci_low, ci_high = -estimate, -ci_high, -ci_low
    size, way, ci, unsure = _pp(estimate), _direction(estimate), _ci(ci_low, ci_high), _uncertain(ci_low, ci_high)
    if way == "no different":
        size_way = "no different"
    else:
        size_way = f"{size} {way}"
    if effect == "tv":
        text = f"Overall, {rate} is {size_way} for {x1} than for {x0}{ci}"
    elif effect == "ctf_de":
        text = (f"Through the direct path alone, {rate} would be {size_way} for {x1} than for {x0}{ci}: "
                f"{x0} patients switched to {x1} while keeping their own "
                f"{_list(w, 'other characteristics')}")
    elif effect == "ctf_ie":
        text = (f"Through the mediators ({_list(w, 'none in the graph')}), {rate} is {size_way} for {x1} "
                f"than for {x0}{ci}: the part of the gap explained by how these differ between the groups")
    elif effect == "ctf_se":
        text = (f"Through confounding ({_list(z, 'none in the graph')}), {rate} is {size_way} for {x1} "
                f"than for {x0}{ci}: the part of the gap due to the groups differing in background "
                f"factors, not caused by being {x1}")
    elif effect == "ett":
        text = (f"Had the {x0} patients been {x1}, with everything that follows from it, {rate} among them "
                f"would be {size_way}{ci}")
    else:
        raise KeyError(f"unknown effect {effect!r}")
    return text + unsure + "."


def explain_all(effects, *, x0, x1, y: str, threshold: float | None = None,
                z: Sequence[str] = (), w: Sequence[str] = ()) -> dict[str, str]:
    """{effect: sentence} for every effect of a Decomposition (or its stored form)."""
    frame = as_decomposition(effects).to_frame()
    return {
        e: sentence(e, float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"]),
                    x0=x0, x1=x1, y=y, threshold=threshold, z=z, w=w)
        for e, row in frame.iterrows()
    }


def explain_roles(effects, roles) -> dict[str, str]:
    """Convenience: sentences for a graph.Roles (groups and outcome taken from it)."""
    return explain_all(effects, x0=roles.x0, x1=roles.x1, y=roles.y, threshold=roles.threshold,
                       z=roles.z, w=roles.w)


def summary_line(real, synthetic, effect: str = "ctf_de") -> str:
    """'Ctf-DE (direct): real -4.1 pp, synthetic -0.3 pp' for captions."""
    r = as_decomposition(real)[effect] * 100
    s = as_decomposition(synthetic)[effect] * 100
    return f"{EFFECT_LABELS[effect]}: real {r:+.1f} pp, synthetic {s:+.1f} pp"
