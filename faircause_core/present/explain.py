"""One plain-language sentence per fairness effect, for a clinician to read aloud.

Semantics follow method.md section 2 (x0 baseline group, x1 comparison group):
  TV  = E[Y|x1] - E[Y|x0]                     the whole observed gap
  DE  = E[Y_{x1,W_{x0}}|x0] - E[Y|x0]         switching X alone, mediators kept as for x0
  IE  = E[Y_{x1,W_{x0}}|x0] - E[Y_{x1}|x0]    mediators as x0 has them, minus as x1 has them
  SE  = E[Y_{x1}|x0] - E[Y|x1]                x1 with x0's background (confounders Z), minus
                                              x1 as it is
  ETT = E[Y_{x1}|x0] - E[Y|x0]                x0 people switched to x1 with everything
                                              downstream following

One sign convention for every figure, table, sentence, report and summary: the
decomposition's own numbers, TV = DE - IE - SE. Every chart and table shows Ctf-IE and
Ctf-SE as the Decomposition holds them (never negated), and each sentence's "higher" or
"lower" is the sign of the number it states; it then says in words which way the pathway
moves the gap (IE and SE enter it with a minus sign). A review found the compare page
showing indirect -3.9 (a negated contribution) beside a refinement chart and an HTML
report showing +3.9: `shown` is the one place the numbers come from, and it negates
nothing.

Intervals are written by `interval_text`/`signed`: a bound that would round to 0 gets
the decimals that show on which side of 0 it lies ("-0.03 to +14.9", never "+0.0 to +14.9").

Clinician words: groups are named as `causal.question.group_name` says ("women", not "1"
or "x1"), effects by plain labels (`EFFECT_WORDS`), with the method's symbols kept for
tooltips (`SYMBOLS`, `SYMBOL_HELP`). A pathway the graph has no columns for (no
mediators, no confounders) gets a sentence saying so instead of an interval of +0.0 to +0.0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Sequence

import pandas as pd

from faircause_core.causal.effects import as_decomposition
from faircause_core.causal.question import ValueLabels, group_name, outcome_name
from faircause_core.workflow.pipeline import MEASURE_PROFILES

#: How each effect enters the total gap (method.md: TV = DE - IE - SE); used for words and
#: the identity line only, never to change a number shown.
GAP_SIGNS = {"tv": 1, "ctf_de": 1, "ctf_ie": -1, "ctf_se": -1}
EFFECT_WORDS = {"tv": "Total gap", "ctf_de": "Direct", "ctf_ie": "Indirect (via mediators)",
                "ctf_se": "Spurious (via confounders)", "ett": "Effect among the baseline group"}
#: The method's symbol for each shown number, for tooltips (the numbers are the symbols' own).
SYMBOLS = {"tv": "TV", "ctf_de": "Ctf-DE", "ctf_ie": "Ctf-IE", "ctf_se": "Ctf-SE", "ett": "ETT"}
SIGN_NOTE = ("Every number is the fairness decomposition's own, in percentage points, with the comparison "
             "group's rate compared with the baseline group's: total gap = direct \u2212 indirect \u2212 "
             "spurious. The indirect and spurious effects enter the gap with a minus sign, so a positive "
             "indirect or spurious effect makes the comparison group's rate lower.")
#: The symbols behind the words, for a tooltip (st help=) next to the plain text.
SYMBOL_HELP = ("In the method's symbols: baseline group = x0, comparison group = x1; total gap = TV = "
               "E[Y | x1] \u2212 E[Y | x0]; direct = Ctf-DE; indirect = Ctf-IE (through the mediators W); "
               "spurious = Ctf-SE (through the confounders Z); TV = Ctf-DE \u2212 Ctf-IE \u2212 Ctf-SE; "
               "effect among the baseline group = ETT = E[Y_x1 | x0] \u2212 E[Y | x0].")
_NOTHING = 0.0005  # an estimate and interval that round to +0.0 percentage points
_EXTRA_DIGITS = 3  # at most this many more decimals to show on which side of 0 a number lies


def shown(effects) -> pd.DataFrame:
    """estimate, se, ci_low, ci_high per effect exactly as the Decomposition holds them: the
    numbers every chart, table and sentence shows (in the decomposition's sign convention)."""
    return as_decomposition(effects).to_frame().copy()


def signed(value: float, digits: int = 1) -> str:
    """A signed number with `digits` decimals, more when fewer would hide on which side of 0
    it lies (-0.03 is "-0.03", not "+0.0"); exactly 0 is "+0.0"; NaN is "n/a"."""
    v = float(value)
    if math.isnan(v):
        return "n/a"
    d = digits
    while v != 0 and round(v, d) == 0 and d < digits + _EXTRA_DIGITS:
        d += 1
    return f"{round(v, d) + 0.0:+.{d}f}"  # + 0.0 turns -0.0 into 0.0


def interval_text(low: float, high: float, digits: int = 1, sep: str = " to ") -> str:
    """"-0.03 to +14.9": both ends by `signed`, so a bound just below 0 keeps its sign."""
    return f"{signed(low, digits)}{sep}{signed(high, digits)}"


def identity_line(effects) -> str:
    """'total gap -10.0 = direct -6.0 - indirect (+2.0) - spurious (+2.0) percentage points':
    the decomposition's identity with its own numbers ('' when an effect is missing)."""
    est = as_decomposition(effects).estimates
    if any(math.isnan(float(est.get(e, math.nan))) for e in GAP_SIGNS):
        return ""
    v = {e: signed(float(est[e]) * 100) for e in GAP_SIGNS}
    return (f"total gap {v['tv']} = direct {v['ctf_de']} \u2212 indirect ({v['ctf_ie']}) \u2212 "
            f"spurious ({v['ctf_se']}) percentage points")


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
    """SIGN_NOTE with the groups named."""
    n0, n1 = names(roles)
    return (f"{SIGN_NOTE} Here the comparison group is {n1} and the baseline group is {n0}: a negative total "
            f"gap or direct effect means a lower rate for {n1}.")


EFFECTS_TITLE = ("Fairness decomposition, comparison group against baseline group (percentage points; "
                 "total gap = direct \u2212 indirect \u2212 spurious)")


def effects_title(roles) -> str:
    """The fairness chart's title with the groups named, for the app and the report."""
    n0, n1 = names(roles)
    return (f"Fairness decomposition, {n1} against {n0} (percentage points; "
            f"total gap = direct \u2212 indirect \u2212 spurious)")


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
    return f" (95% CI {interval_text(low * 100, high * 100)})"


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


def _in_gap(estimate: float, x1: str, what: str) -> str:
    """How an IE or SE of this sign moves the gap, in words: it enters with a minus sign."""
    if estimate == 0:
        return f"; {what} leave the gap unchanged"
    way = "lower" if estimate > 0 else "higher"
    return f"; the gap subtracts it, so {what} make the rate {_pp(estimate)} {way} for {x1}"


def sentence(effect: str, estimate: float, ci_low: float, ci_high: float, *, x0, x1,
             y: str, threshold: float | None = None, z: Sequence[str] = (), w: Sequence[str] = (),
             x: str = "", positive=None, labels: ValueLabels | None = None) -> str:
    """The sentence for one effect, from its method.md value, stating that value (Ctf-IE as it
    is, never negated) with "higher"/"lower" following its sign; for IE and SE it then says in
    words which way the pathway moves the gap. Groups are named by `question.group_name`."""
    rate = outcome_phrase(y, threshold, positive, labels)
    x0, x1 = group_name(x, x0, labels), group_name(x, x1, labels)
    if effect not in SYMBOLS:
        raise KeyError(f"unknown effect {effect!r}")
    between = f"between {x or 'the sensitive attribute'} and {y}"
    if effect == "ctf_ie" and not list(w) and _nothing(estimate, ci_low, ci_high):
        return f"The graph has no mediators {between}, so there is no indirect effect to measure."
    if effect == "ctf_se" and not list(z) and _nothing(estimate, ci_low, ci_high):
        return f"The graph has no confounders {between}, so there is no spurious effect to measure."
    size, way, ci, unsure = _pp(estimate), _direction(estimate), _ci(ci_low, ci_high), _uncertain(ci_low, ci_high)
    size_way = "no different" if way == "no different" else f"{size} {way}"
    if effect == "tv":
        text = f"Overall, {rate} is {size_way} for {x1} than for {x0}{ci}"
    elif effect == "ctf_de":
        text = (f"Through the direct path alone, {rate} would be {size_way} for {x1} than for {x0}{ci}: "
                f"as if {x0} were {x1} but kept their own {_list(w, 'other characteristics')}")
    elif effect == "ctf_ie":
        text = (f"Through the mediators ({_list(w, 'none in the graph')}): with the mediators as {x0} have them "
                f"rather than as {x1} have them, {rate} would be {size_way}{ci}"
                f"{_in_gap(estimate, x1, 'these differences')}")
    elif effect == "ctf_se":
        text = (f"Through confounding ({_list(z, 'none in the graph')}): were {x1} to have the background "
                f"factors of {x0}, {rate} would be {size_way} for them{ci}"
                f"{_in_gap(estimate, x1, 'the differing backgrounds')}, a part of the gap not caused by "
                f"{x or 'the sensitive attribute'} itself")
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
    """'Direct: real -4.1 pp, synthetic -0.3 pp' for captions (the decomposition's numbers)."""
    r = as_decomposition(real)[effect] * 100
    s = as_decomposition(synthetic)[effect] * 100
    return f"{EFFECT_WORDS[effect]}: real {signed(r)} pp, synthetic {signed(s)} pp"


# ------------------------------------------------------------- which real rows a number is about
# A run audits two sets of real rows: all of them (step 3's numbers, "the real data", the
# headline) and the fitting split the generator learns from (its target). A review found the
# compare page calling the fitting split's +11.1 "the real data" while step 3 said +7.4 for the
# same cohort: every figure, table and caption names its rows with these labels.

TARGET_LABEL = "target after the edits"


def real_label(rows: int) -> str:
    """The headline's name: the audit of every real row is "the real data"."""
    return f"real data, all {int(rows):,} rows"


def fitting_label(rows: int, external: bool = False) -> str:
    """The fitting split's name: what the generator learned from and aims at (for an evaluated
    table, the rows that stand for its maker's training rows)."""
    if external:
        return f"fitting split, {int(rows):,} rows (standing for the maker's training rows)"
    return f"generator's target: fitting split, {int(rows):,} rows"


def rows_of(effects) -> int:
    """The real rows a stored decomposition was given ("rows"; n for one saved without it)."""
    rows = effects.get("rows") if isinstance(effects, dict) else None
    return int(rows) if rows is not None else int(as_decomposition(effects).n)


def effect_sources(result) -> dict:
    """A run's fairness numbers (pipeline.RunResult) in the order and under the names every
    figure, table and caption shows them: the real data (all rows, the headline), the fitting
    split (the generator's target), the synthetic rows and the target after the edits. The
    fitting split is left out when it is all the rows (an evaluation given its own holdout);
    a run saved before the all-rows audit was recorded starts at the fitting split."""
    dec = result.decompositions()
    everything = getattr(result, "real_effects_all_rows", None) or {}
    fit_rows = getattr(result, "fitting_rows", 0) or rows_of(result.real_effects)
    out = {}
    if everything:
        out[real_label(rows_of(everything))] = as_decomposition(everything)
    if not everything or rows_of(everything) != fit_rows:
        out[fitting_label(fit_rows, result.settings.generator == "external")] = dec["real"]
    out[f"synthetic, {len(result.synthetic):,} rows"] = dec["synthetic"]
    if "target" in dec:
        out[TARGET_LABEL] = dec["target"]
    return out


def why_two_real(holdout: float, external: bool = False) -> str:
    """The one line saying why the real data and the fitting split give different numbers."""
    fit, held = 1 - float(holdout), float(holdout)
    who = ("the synthetic table is measured against a seeded {:.0%} of the real rows (the fitting split, standing "
           "for its maker's training rows)" if external else
           "the generator learns from a seeded {:.0%} of the real rows (the fitting split)").format(fit)
    return (f"Why two real numbers: {who} and the other {held:.0%} are held out to check fidelity, utility and "
            "privacy; the fitting split is a random part of the same patients, so its estimate differs from the "
            "all-rows one by sampling noise, as their 95% intervals show.")


def run_why_two_real(result) -> str:
    """why_two_real for a run, or '' when it shows one set of real rows only."""
    labels = list(effect_sources(result))
    if not (labels[0].startswith("real data") and labels[1].startswith(("generator's target", "fitting split"))):
        return ""
    return why_two_real(result.settings.holdout, result.settings.generator == "external")


def with_interval(effects, effect: str) -> str:
    """'+7.4 pp (95% CI +1.0 to +13.8)': one effect of a decomposition with its interval."""
    row = shown(effects).loc[effect] * 100
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return f"{signed(row['estimate'])} pp"
    return f"{signed(row['estimate'])} pp (95% CI {interval_text(row['ci_low'], row['ci_high'])})"


def sources_line(result, effect: str = "ctf_de") -> str:
    """'Direct: real data, all 1,629 rows +7.4 pp (95% CI ...); generator's target: fitting
    split, 1,140 rows +11.1 pp (...); synthetic, 400 rows ...' for a run's caption."""
    parts = [f"{name} {with_interval(d, effect)}" for name, d in effect_sources(result).items()
             if name != TARGET_LABEL and effect in d.estimates]
    return f"{EFFECT_WORDS[effect]}: " + "; ".join(parts)


def _pp_ci(d: dict, key: str) -> str:
    est = d.get(key)
    if est is None:
        return "n/a"
    lo, hi = d.get(f"{key}_ci_low"), d.get(f"{key}_ci_high")
    ci = "" if lo is None or hi is None else f" (95% CI {interval_text(lo * 100, hi * 100)})"
    return f"{signed(est * 100)} pp{ci}"


def percent(v: float) -> str:
    """A share as a whole percent, with one decimal when that would read 0%: an interval's end
    at -0.005 is "-0.5%", never "-0%" (which hides on which side of 0 it lies)."""
    v = float(v)
    if v != 0 and round(abs(v) * 100) == 0:
        return f"{v * 100:.1f}%"
    return f"{v:.0%}".replace("-0%", "0%")


#: A ratio to the real-trained model's direct effect is shown only when that effect is clearly
#: away from 0: its 95% interval excludes 0 and the interval's end nearest 0 is at least this
#: share of the estimate away from it (the estimate about 2.6 standard errors from 0 or more).
#: Closer, the ratio's interval runs to -1000% and beyond (a mirror run of the heart-failure
#: cohort read "-16% (95% CI -1238% to 41%)"); the demo's -5.1 [-8.7, -2.4] points passes.
RATIO_MARGIN = 0.25


def ratio_blocked(fair: dict) -> str:
    """'' when the bias reduction (a ratio to the real-trained direct effect) may be shown;
    otherwise why not, in one clause naming the real-trained effect and its interval."""
    real = fair.get("real_trained_de", fair.get("ctf_de_real_model"))
    lo, hi = fair.get("real_trained_de_ci_low"), fair.get("real_trained_de_ci_high")
    if real is None or (isinstance(real, float) and math.isnan(real)):
        return "the real-trained model's direct effect was not measured"
    said = f"{signed(real * 100)} pp" + ("" if lo is None or hi is None else
                                          f", 95% CI {interval_text(lo * 100, hi * 100)}")
    if fair.get("reduction") is None or (lo is not None and hi is not None and lo <= 0 <= hi):
        return (f"the real-trained model's direct effect ({said}) is not distinguishable from 0: there is no bias "
                "to reduce, and a ratio to it could be any size")
    if lo is None or hi is None:  # a run saved before the intervals: its ratio as it was
        return ""
    if min(abs(lo), abs(hi)) < RATIO_MARGIN * abs(real):
        return (f"the real-trained model's direct effect ({said}) is too close to 0 for a ratio: the end of its "
                f"interval nearest 0 is less than {RATIO_MARGIN:.0%} of the estimate, so a ratio to it could be "
                "almost any size")
    return ""


def _reduction_text(d: dict, real: dict | None = None) -> str:
    """The reduction with its interval, or why it is not shown (`real`: the fair-predictor
    dict holding the real-trained effect, when `d` is a control's or a sweep point's)."""
    why = ratio_blocked(dict(real or d, reduction=d.get("reduction")))
    if why or d.get("reduction") is None:
        return "not shown: " + (why or "it was not measured")
    red = d["reduction"]
    lo, hi = d.get("reduction_ci_low"), d.get("reduction_ci_high")
    return percent(red) + ("" if lo is None or hi is None else f" (95% CI {percent(lo)} to {percent(hi)})")


MEASURE_NOTE = ("measured with the light profile: fewer repetitions than a full run ({splits} cross-fitting splits for "
                "the synthetic audit, {draws} synthetic sets and {repeats} refits for the fair predictor, {attacks} "
                "privacy attacks on at most {max_rows:,} rows), so the synthetic side's intervals are wider; run again "
                "with full measuring before sharing the table").format(**MEASURE_PROFILES["light"])


def measure_note(settings) -> str:
    """One sentence for a run measured with the light profile (workflow.pipeline.MEASURE_PROFILES),
    else "": every page, report and CLI output that shows a run says it."""
    return MEASURE_NOTE if getattr(settings, "measure", "full") == "light" else ""


def searched_note(searched: int, rows: int) -> str:
    """The sentence for a discovery run on a subsample (causal.discovery.search_rows), in the
    CLI and on the graph page: our words and numbers only."""
    return (f"Discovery searched a seeded {int(searched):,} of the {int(rows):,} rows, stratified by the sensitive "
            "attribute and the outcome (each combination keeps its share), so its cost stops growing with rows; "
            "the audit and the generators use every row.")


def _part(used, total, what: str) -> str:
    """'all 800 synthetic rows' or 'a seeded 1,000 of the 1,629 synthetic rows'."""
    if total is None:
        return f"a seeded {int(used):,} {what}"
    return f"all {int(total):,} {what}" if used >= total else f"a seeded {int(used):,} of the {int(total):,} {what}"


def heatmap_note(real_rows: int, synthetic_rows: int) -> str:
    """The line under the association heatmaps when a side was read on a sample ('' when every
    row was read): how many of how many rows, seeded (metrics.fidelity.HEATMAP_ROWS)."""
    from faircause_core.metrics.fidelity import heatmap_rows

    parts = [_part(heatmap_rows(n), n, f"{what} rows")
             for n, what in ((real_rows, "real"), (synthetic_rows, "synthetic")) if heatmap_rows(n) < n]
    return f"Associations computed on {' and '.join(parts)}." if parts else ""


def sampled_lines(metrics: dict, fitting_rows, synthetic_rows: int) -> list[str]:
    """Which measures used a seeded sample rather than every row, and how large, in one list
    (issue 22 item 5: a big table's summary must say so): read from the numbers each measure
    records (privacy's n_synth / n_real_train and anonymeter_rows, fidelity's
    trend_pairs_sampled, the fair predictor's train_rows), not from its notes."""
    lines = []
    fitting_rows = fitting_rows or None  # 0: a run saved before fitting_rows was recorded
    priv = metrics.get("privacy") or {}
    n_syn, n_real = priv.get("n_synth"), priv.get("n_real_train")
    if n_syn is not None and n_real is not None and (
            n_syn < synthetic_rows or (fitting_rows is not None and n_real < fitting_rows)):
        lines.append(f"privacy distances and membership inference: {_part(n_syn, synthetic_rows, 'synthetic rows')} "
                     f"and {_part(n_real, fitting_rows, 'real training rows')}")
    anon = priv.get("anonymeter_rows") or {}
    if anon.get("attacks"):
        on = _part(anon.get("synthetic", synthetic_rows), synthetic_rows, "synthetic rows")
        real = [_part(anon[k], anon[f"{k}_of"], what) for k, what in (("original", "real training rows"),
                                                                       ("control", "real holdout rows"))
                if anon.get(f"{k}_of") and anon.get(k, 0) < anon[f"{k}_of"]]
        lines.append(f"privacy attacks (Anonymeter): {int(anon['attacks']):,} seeded attacks of each kind, on "
                     f"{', '.join([on, *real])}" + ("; singled out means unique within that sample" if real else ""))
    fid = metrics.get("fidelity") or {}
    f_real, f_syn = fid.get("real_rows"), fid.get("synthetic_rows")
    if f_real and f_syn and ((fitting_rows is not None and f_real < fitting_rows) or f_syn < synthetic_rows):
        lines.append(f"fidelity scores and rules: {_part(f_syn, synthetic_rows, 'synthetic rows')} and "
                     f"{_part(f_real, fitting_rows, 'real training rows')}")
    util = metrics.get("utility") or {}
    u_train, u_syn = util.get("n_train_real"), util.get("n_synth")
    if u_train and u_syn and ((fitting_rows is not None and u_train < fitting_rows) or u_syn < synthetic_rows):
        lines.append(f"train-on-synthetic AUROC: models trained on {_part(u_syn, synthetic_rows, 'synthetic rows')} "
                     f"and {_part(u_train, fitting_rows, 'real training rows')}, tested on {int(util['n_test']):,} "
                     f"held-out rows")
    if fid.get("trend_pairs_sampled") and fid.get("trend_pairs_checked"):
        pairs = _part(fid["trend_pairs_sampled"], fid["trend_pairs_checked"], "column pairs")
        lines.append(f"column pair trends: {pairs}, with the sampling error in the pair-trend interval")
    fair = metrics.get("fair_predictor") or {}
    if fair.get("train_rows") and fitting_rows is not None and fair["train_rows"] < fitting_rows:
        lines.append(f"fair predictor: its models trained on {_part(fair['train_rows'], fitting_rows, 'real training rows')}"
                     ", and each synthetic set that size")
    if fair.get("n_x0") and fair.get("n_x0_of") and fair["n_x0"] < fair["n_x0_of"]:
        lines.append(f"fair predictor: its direct effects averaged over {_part(fair['n_x0'], fair['n_x0_of'], 'real test rows')}"
                     " of the x0 group")
    return lines


def known_edit(settings):
    """The run's FairnessSpec when one of our generators made the rows; None for a table measured
    by `evaluate`, which may have been made any way."""
    fairness = getattr(settings, "fairness", None)
    return fairness if getattr(settings, "generator", None) in ("llm", "bayesnet", "prompt") else None


def is_mirror(settings) -> bool:
    """A run of one of our generators with nothing removed: its own control."""
    fairness = known_edit(settings)
    return fairness is not None and not fairness.removed()


def fair_predictor_notes(fair: dict, mirror: bool = False) -> list[str]:
    """The fair predictor's notes to show as warnings: a mirror run is the control the "no
    control" note asks for, so it is not told to go and make one."""
    notes = list(fair.get("notes") or [])
    return [n for n in notes if not (mirror and n.startswith("no control"))]


def fair_predictor_lines(fair: dict, mirror: bool = False) -> list[str]:
    """The fair-predictor measure (metrics.utility.fair_predictor) in a few plain lines, with
    intervals, for the CLI, the app and the report; its notes are shown apart, as warnings
    (`fair_predictor_notes`). A bias reduction, a ratio, is shown only when `ratio_blocked`
    allows it, else why not. `mirror`: the run removed nothing, so it is its own control and
    the synthetic-trained effect should match the real-trained one."""
    if fair.get("error"):
        return [f"fair predictor not measured: {fair['error']}"]
    if "real_trained_de" not in fair:  # a run saved before the exact measure
        fair = dict(fair, real_trained_de=fair.get("ctf_de_real_model"),
                    synthetic_trained_de=fair.get("ctf_de_synth_model"))
    which = "this mirror run's synthetic rows (nothing removed)" if mirror else "synthetic rows"
    lines = [f"direct effect of X on the predictions of a model trained on real rows: {_pp_ci(fair, 'real_trained_de')}",
             f"trained on {which}: {_pp_ci(fair, 'synthetic_trained_de')}"]
    if mirror and fair.get("de_difference") is not None:
        lines.append(f"difference, real-trained minus synthetic-trained: {_pp_ci(fair, 'de_difference')} "
                     "(a mirror run should keep it near 0)")
    lines.append(f"bias reduction (1 - |synthetic| / |real|): {_reduction_text(fair)}")
    if fair.get("magnitude_reduction") is not None:  # defined even when the ratio is not
        lines.append(f"direct effect smaller by (|real| - |synthetic|): {_pp_ci(fair, 'magnitude_reduction')}")
    control = fair.get("control")
    if control and not mirror:
        smaller = ("" if control.get("magnitude_reduction") is None
                   else f", smaller by {_pp_ci(control, 'magnitude_reduction')}")
        lines.append(f"control, trained on a mirror-mode synthetic table: {_pp_ci(control, 'synthetic_trained_de')}, "
                     f"reduction {_reduction_text(control, fair)}{smaller}")
    return lines


def copies_text(privacy: dict) -> str:
    """'1 of 4,024 synthetic rows' (a count: a share rounds one copy to 0.0%)."""
    n = privacy.get("synthetic_rows")
    if privacy.get("exact_copies") is None or n is None:  # a run saved before the count was kept
        return f"{privacy.get('exact_copy_share', float('nan')):.2%} of synthetic rows"
    return f"{privacy['exact_copies']:,} of {n:,} synthetic rows"


OWN_EFFECTS_NOTE = ("The generator's own effects are exact up to Monte Carlo error: they are simulated on its fitted "
                    "mechanisms, with no estimator in between. The audit of its rows is the estimator the real data "
                    "gets; where the two differ beyond their intervals, the gap is the estimator's error on these "
                    "rows, not the generator's.")


def own_effects_rows(result) -> list[dict]:
    """The audit of the delivered rows beside the generator's own effects (Monte Carlo on its
    mechanisms, pipeline.generator_effects), one row per effect, in percentage points with 95%
    intervals and the decomposition's signs; [] when the run has none (prompt mode, an
    evaluated table, a run saved before they were recorded). A reader tells estimator noise
    from a generator's miss by comparing the two."""
    own = getattr(result, "generator_effects", None) or {}
    if not own:
        return []
    mine, rows = as_decomposition(own), result.decompositions()["synthetic"]
    head = f"generator's own (Monte Carlo, {int(own.get('n') or own.get('settings', {}).get('rows') or 0):,} rows)"
    audit = f"audit of its {len(result.synthetic):,} rows"
    out = []
    for e in ("tv", "ctf_de", "ctf_ie", "ctf_se"):
        if e not in mine.estimates or e not in rows.estimates:
            continue
        out.append({"effect": f"{EFFECT_WORDS[e]} ({SYMBOLS[e]})", audit: with_interval(rows, e),
                    head: with_interval(mine, e)})
    return out


def _pct_ci(share: float, low: float, high: float) -> str:
    """A share with its interval in percent: "41.8% [40.5, 43.0]"."""
    return f"{100 * share:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"


def rule_rows(fidelity: Mapping) -> list[dict]:
    """The rules every real row keeps (metrics.fidelity.kept_rules), one row each, the most
    broken first: how many real rows it holds on and the synthetic rows breaking it."""
    rules = (fidelity.get("rules") or {}).get("rules") or []
    return [{"rule every real row keeps": r["rule"], "real rows": f"{int(r['real_rows']):,}",
             "synthetic rows breaking it": f"{_pct_ci(r['broken_share'], r['ci_low'], r['ci_high'])} "
                                           f"({int(r['broken']):,} of {int(r['synthetic_rows']):,})"} for r in rules]


def rules_warning(fidelity: Mapping) -> str | None:
    """One sentence when the synthetic rows surely break a rule every real row keeps (the
    interval's low end above metrics.fidelity.RULE_BREAK_WARN), else None."""
    from faircause_core.metrics.fidelity import RULE_BREAK_WARN

    found = fidelity.get("rules") or {}
    names = set(found.get("broken") or [])
    broken = [r for r in found.get("rules") or [] if r["rule"] in names]
    if not broken:
        return None
    said = "; ".join(f"{r['rule']} in {_pct_ci(r['broken_share'], r['ci_low'], r['ci_high'])}" for r in broken[:3])
    more = f" and {len(found['broken']) - 3} more" if len(found["broken"]) > 3 else ""
    return (f"impossible rows: the synthetic rows break {len(found['broken'])} rule(s) every real row keeps "
            f"({said}{more} of rows, above {RULE_BREAK_WARN:.0%}); the quality score does not see this")


def outcome_rate_lines(outcome: Mapping, fairness, roles) -> list[str]:
    """The outcome's rate, real and synthetic, overall and per group with intervals, and why it
    moved: removing a pathway gives every patient the reference group's mechanism for it, so
    the other group's rate moves toward the reference's and the overall rate follows (found probing a
    SEER-like cohort: death 14.6% -> 20.1% with DE removed, and nothing said why). A mirror
    whose overall rate moves clearly is said too: it should keep it."""
    rates = (outcome or {}).get("rates") or {}
    real, syn = rates.get("real") or {}, rates.get("synthetic") or {}
    if "all" not in real or "all" not in syn:
        return []
    n0, n1 = names(roles)

    def side(d):
        groups = ", ".join(f"{n} {100 * d[k]['rate']:.1f}%" for k, n in (("x1", n1), ("x0", n0)) if k in d)
        a = d["all"]
        return f"{_pct_ci(a['rate'], a['ci_low'], a['ci_high'])} ({groups})"

    what = outcome_phrase(roles.y, roles.threshold, roles.positive, roles.labels)
    lines = [f"outcome rate ({what}): real {side(real)}; synthetic {side(syn)}"]
    apart = syn["all"]["ci_low"] > real["all"]["ci_high"] or syn["all"]["ci_high"] < real["all"]["ci_low"]
    removed = list(fairness.removed()) if fairness is not None else []
    if apart and removed:
        reference = getattr(fairness, "reference", "x1")
        ref = reference_options(roles).get(reference, "the reference group")
        moved = {"x1": [("x0", n0)], "x0": [("x1", n1)]}.get(reference, [("x0", n0), ("x1", n1)])
        shifts = ", ".join(f"{n} {100 * real[k]['rate']:.1f}% -> {100 * syn[k]['rate']:.1f}%"
                           for k, n in moved if k in real and k in syn)
        lines.append(f"why the rate moved: removing {', '.join(p.upper() for p in removed)} gives every patient "
                     f"the mechanism of {ref} on that pathway, so the other group's rate moves toward it ({shifts}) "
                     f"and the overall rate follows; another reference group (--reference x0, x1 or marginal) "
                     f"moves it elsewhere")
    elif apart and fairness is not None:
        lines.append("the synthetic outcome rate differs from the real one although nothing was removed: a mirror "
                     "should keep it (a gap in the generator's fit)")
    return lines
