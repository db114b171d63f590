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

One sign convention for every figure, table and sentence shown (`contributions`,
`CONTRIBUTION_LABELS`, `SIGN_NOTE`): each number is that pathway's contribution to the
x1-minus-x0 gap, so Ctf-IE and Ctf-SE are shown negated and labelled so. A review found the
chart showing Ctf-IE as +2.6 beside a sentence saying "2.6 points lower".

Clinician words: groups are named as `causal.question.group_name` says ("women", not "1"
or "x1"), effects by plain labels (`CONTRIBUTION_LABELS`), with the method's symbols kept
for tooltips (`SYMBOLS`, `SYMBOL_HELP`). A pathway the graph has no columns for (no
mediators, no confounders) gets a sentence saying so instead of an interval of +0.0 to +0.0.
"""

from __future__ import annotations

import math
from typing import Sequence

import pandas as pd

from faircause_core.causal.effects import as_decomposition
from faircause_core.causal.question import ValueLabels, group_name, outcome_name

SIGNS = {"tv": 1, "ctf_de": 1, "ctf_ie": -1, "ctf_se": -1, "ett": 1}  # method.md: TV = DE - IE - SE
CONTRIBUTION_LABELS = {"tv": "Total gap", "ctf_de": "Direct", "ctf_ie": "Indirect (via mediators)",
                       "ctf_se": "Spurious (via confounders)", "ett": "Effect among the baseline group"}
#: The method's symbol for each shown number, for tooltips (IE and SE are shown negated).
SYMBOLS = {"tv": "TV", "ctf_de": "Ctf-DE", "ctf_ie": "\u2212Ctf-IE", "ctf_se": "\u2212Ctf-SE", "ett": "ETT"}
SIGN_NOTE = ("Every number is a contribution to the gap, the comparison group's rate minus the baseline "
             "group's, in percentage points: the indirect and spurious effects are shown as contributions "
             "too, so direct + indirect + spurious = total gap, and a negative number always means a lower "
             "rate for the comparison group.")
#: The symbols behind the words, for a tooltip (st help=) next to the plain text.
SYMBOL_HELP = ("In the method's symbols: baseline group = x0, comparison group = x1; total gap = TV = "
               "E[Y | x1] \u2212 E[Y | x0]; direct = Ctf-DE; indirect = \u2212Ctf-IE (through the mediators W); "
               "spurious = \u2212Ctf-SE (through the confounders Z); TV = Ctf-DE \u2212 Ctf-IE \u2212 Ctf-SE; "
               "effect among the baseline group = ETT = E[Y_x1 | x0] \u2212 E[Y | x0].")
_NOTHING = 0.0005  # an estimate and interval that round to +0.0 percentage points


def contributions(effects) -> pd.DataFrame:
    """estimate, se, ci_low, ci_high per effect as signed contributions to the gap (IE and SE
    negated, their intervals flipped): the numbers every chart, table and sentence shows."""
    frame = as_decomposition(effects).to_frame()
    flip = frame.index.map(SIGNS) < 0
    out = frame.copy()
    out.loc[flip, "estimate"] = -frame.loc[flip, "estimate"]
    out.loc[flip, "ci_low"] = -frame.loc[flip, "ci_high"]
    out.loc[flip, "ci_high"] = -frame.loc[flip, "ci_low"]
    return out


def outcome_phrase(y: str, threshold: float | None = None, positive=None, labels: ValueLabels | None = None) -> str:
    """'the death rate' (Y = 1 counts), 'the share who died' (a typed label for it), 'the share
    with status = Deceased', or 'the share with cholesterol >= 240'."""
    if threshold is not None:
        return f"the share with {y} \u2265 {threshold:g}"
    word = labels.y_label(positive) if labels and positive is not None else None
    if word:
        return f"the share who {word}"
    if positive is None or str(positive) in ("1", "1.0", "True"):
        return f"the {y} rate"
    return f"the share with {outcome_name(y, positive)}"


def names(roles) -> tuple[str, str]:
    """(baseline, comparison) group of a graph.Roles in words ('men', 'women')."""
    return group_name(roles.x, roles.x0, roles.labels), group_name(roles.x, roles.x1, roles.labels)


def question_line(roles) -> str:
    """'Comparing women (comparison group) with men (baseline group) on the share who died.'"""
    n0, n1 = names(roles)
    return (f"Comparing {n1} (comparison group) with {n0} (baseline group) on "
            f"{outcome_phrase(roles.y, roles.threshold, roles.positive, roles.labels)}.")


def sign_note(roles) -> str:
    """SIGN_NOTE with the groups named: 'women's rate minus men's'."""
    n0, n1 = names(roles)
    return (f"{SIGN_NOTE} Here the comparison group is {n1} and the baseline group is {n0}: a negative number "
            f"means a lower rate for {n1}.")


def effects_title(roles) -> str:
    """The fairness chart's title with the groups named, for the app and the report."""
    n0, n1 = names(roles)
    return f"Contributions to the gap, {n1} minus {n0} (percentage points)"


REFERENCE_HELP = ("When a pathway is removed, the columns along it are generated as if every patient belonged "
                  "to this group (x* in the method: x1, x0, or drawn from P(X), the real mix of groups).")


def reference_options(roles=None) -> dict[str, str]:
    """FairnessSpec.reference choices in words: {'x1': 'the comparison group (women)', ...}
    (without roles, the groups are not named)."""
    n0, n1 = (f" ({n})" for n in names(roles)) if roles is not None else ("", "")
    return {"x1": f"the comparison group{n1}", "x0": f"the baseline group{n0}",
            "marginal": "drawn at random, as in the real population"}


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


def _nothing(estimate: float, low: float, high: float) -> bool:
    bounds = [b for b in (low, high) if not math.isnan(b)]
    return abs(estimate) < _NOTHING and all(abs(b) < _NOTHING for b in bounds)


def sentence(effect: str, estimate: float, ci_low: float, ci_high: float, *, x0, x1,
             y: str, threshold: float | None = None, z: Sequence[str] = (), w: Sequence[str] = (),
             x: str = "", positive=None, labels: ValueLabels | None = None) -> str:
    """The sentence for one effect, from its method.md value (Ctf-IE, not its negation). The
    numbers said are signed contributions to the x1-vs-x0 gap, as `contributions` gives.
    Groups are named by `question.group_name` (a typed label, a text value, or 'sex = 0')."""
    rate = outcome_phrase(y, threshold, positive, labels)
    x0, x1 = group_name(x, x0, labels), group_name(x, x1, labels)
    if effect not in SIGNS:
        raise KeyError(f"unknown effect {effect!r}")
    between = f"between {x or 'the sensitive attribute'} and {y}"
    if effect == "ctf_ie" and not list(w) and _nothing(estimate, ci_low, ci_high):
        return f"The graph has no mediators {between}, so there is no indirect effect to measure."
    if effect == "ctf_se" and not list(z) and _nothing(estimate, ci_low, ci_high):
        return f"The graph has no confounders {between}, so there is no spurious effect to measure."
    if SIGNS[effect] < 0:  # enters the gap with a minus sign: say the contribution, flip the interval
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
                f"as if {x0} were {x1} but kept their own {_list(w, 'other characteristics')}")
    elif effect == "ctf_ie":
        text = (f"Through the mediators ({_list(w, 'none in the graph')}), {rate} is {size_way} for {x1} "
                f"than for {x0}{ci}: the part of the gap explained by how these differ between the groups")
    elif effect == "ctf_se":
        text = (f"Through confounding ({_list(z, 'none in the graph')}), {rate} is {size_way} for {x1} "
                f"than for {x0}{ci}: the part of the gap due to the groups differing in background "
                f"factors, not caused by {x or 'the sensitive attribute'} itself")
    else:  # ett
        text = (f"Had {x0} been {x1}, with everything that follows from it, {rate} among them "
                f"would be {size_way}{ci}")
    return text + unsure + "."


def explain_all(effects, *, x0, x1, y: str, threshold: float | None = None,
                z: Sequence[str] = (), w: Sequence[str] = (), x: str = "", positive=None,
                labels: ValueLabels | None = None) -> dict[str, str]:
    """{effect: sentence} for every effect of a Decomposition (or its stored form)."""
    frame = as_decomposition(effects).to_frame()
    return {
        e: sentence(e, float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"]),
                    x0=x0, x1=x1, y=y, threshold=threshold, z=z, w=w, x=x, positive=positive, labels=labels)
        for e, row in frame.iterrows()
    }


def explain_roles(effects, roles) -> dict[str, str]:
    """Sentences for a graph.Roles (groups, outcome, mediators and labels taken from it)."""
    return explain_all(effects, x0=roles.x0, x1=roles.x1, y=roles.y, threshold=roles.threshold,
                       z=roles.z, w=roles.w, x=roles.x, positive=roles.positive, labels=roles.labels)


def summary_line(real, synthetic, effect: str = "ctf_de") -> str:
    """'Direct: real -4.1 pp, synthetic -0.3 pp' for captions (contributions to the gap)."""
    r = as_decomposition(real)[effect] * 100 * SIGNS[effect]
    s = as_decomposition(synthetic)[effect] * 100 * SIGNS[effect]
    return f"{CONTRIBUTION_LABELS[effect]}: real {r:+.1f} pp, synthetic {s:+.1f} pp"


def _pp_ci(d: dict, key: str) -> str:
    est = d.get(key)
    if est is None:
        return "n/a"
    lo, hi = d.get(f"{key}_ci_low"), d.get(f"{key}_ci_high")
    ci = "" if lo is None or hi is None else f" (95% CI {lo * 100:+.1f} to {hi * 100:+.1f})"
    return f"{est * 100:+.1f} pp{ci}"


def percent(v: float) -> str:
    """A share as a whole percent, with one decimal when that would read 0%: an interval's end
    at -0.005 is "-0.5%", never "-0%" (which hides on which side of 0 it lies)."""
    v = float(v)
    if v != 0 and round(abs(v) * 100) == 0:
        return f"{v * 100:.1f}%"
    return f"{v:.0%}".replace("-0%", "0%")


def _reduction_text(d: dict) -> str:
    red = d.get("reduction")
    if red is None or (isinstance(red, float) and math.isnan(red)):
        return "undefined: the real-trained predictor's direct effect is not distinguishable from 0"
    lo, hi = d.get("reduction_ci_low"), d.get("reduction_ci_high")
    return percent(red) + ("" if lo is None or hi is None else f" (95% CI {percent(lo)} to {percent(hi)})")


def fair_predictor_lines(fair: dict) -> list[str]:
    """The fair-predictor measure (metrics.utility.fair_predictor) in a few plain lines, with
    intervals, for the CLI, the app and the report; its notes are shown apart, as warnings."""
    if fair.get("error"):
        return [f"fair predictor not measured: {fair['error']}"]
    if "real_trained_de" not in fair:  # a run saved before the exact measure
        fair = dict(fair, real_trained_de=fair.get("ctf_de_real_model"),
                    synthetic_trained_de=fair.get("ctf_de_synth_model"))
    lines = [f"direct effect of X on the predictions of a model trained on real rows: {_pp_ci(fair, 'real_trained_de')}",
             f"trained on synthetic rows: {_pp_ci(fair, 'synthetic_trained_de')}",
             f"bias reduction (1 - |synthetic| / |real|): {_reduction_text(fair)}"]
    if fair.get("magnitude_reduction") is not None:  # defined even when the ratio is not
        lines.append(f"direct effect smaller by (|real| - |synthetic|): {_pp_ci(fair, 'magnitude_reduction')}")
    control = fair.get("control")
    if control:
        smaller = ("" if control.get("magnitude_reduction") is None
                   else f", smaller by {_pp_ci(control, 'magnitude_reduction')}")
        lines.append(f"control, trained on a mirror-mode synthetic table: {_pp_ci(control, 'synthetic_trained_de')}, "
                     f"reduction {_reduction_text(control)}{smaller}")
    return lines


def copies_text(privacy: dict) -> str:
    """'1 of 4,024 synthetic rows' (a count: a share rounds one copy to 0.0%)."""
    n = privacy.get("synthetic_rows")
    if privacy.get("exact_copies") is None or n is None:  # a run saved before the count was kept
        return f"{privacy.get('exact_copy_share', float('nan')):.2%} of synthetic rows"
    return f"{privacy['exact_copies']:,} of {n:,} synthetic rows"
