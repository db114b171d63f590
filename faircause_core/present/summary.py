"""A one-page stakeholder summary of a sweep, as a self-contained HTML file.

For the design card's third use, showing a fairness trade-off to people who will not read
the full report: the curve from "as real" to "removed", the real and the chosen points, and
three plain sentences (what was removed, what it cost, how sure each number is). It opens
offline (plotly.js inline, no external file) and every piece of data text is escaped.
"""

from __future__ import annotations

import html
import math
import time
from typing import Mapping

from faircause_core.errors import InputError
from faircause_core.present import plots
from faircause_core.present.explain import (EFFECT_WORDS, SYMBOLS, fitting_label, interval_text, percent,
                                           ratio_blocked, real_label, signed, why_two_real)

_CSS = """
body{font-family:Inter,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2d3d;max-width:980px;margin:1.5em auto;padding:0 1em}
h1{color:#1f4e79;margin-bottom:.1em}.note{color:#5b6b7b;font-size:.9em}
ol.say li{margin:.45em 0;font-size:1.08em;line-height:1.45}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}td,th{border:1px solid #d8e2ec;padding:.25em .55em;text-align:right}
th{background:#eef3f8}tr.chosen td{background:#fff6e0;font-weight:600}td:first-child,th:first-child{text-align:left}
"""
PATHWAY_WORDS = {"de": "the direct pathway", "ie": "the pathway through the mediators",
                 "se": "the spurious (confounded) pathway"}


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(float(v)) for v in values)


def _pp(effect: Mapping, key: str) -> tuple[float, float, float]:
    """(estimate, low, high) of one effect in percentage points, the decomposition's sign."""
    v, lo, hi = (float(effect[key][k]) * 100 for k in ("estimate", "ci_low", "ci_high"))
    return v, lo, hi


def _ci_pp(v: tuple) -> str:
    return f"{signed(v[0])} percentage points (95% CI {interval_text(v[1], v[2])})"


def real_sources(sweep: Mapping) -> list[tuple[str, Mapping]]:
    """(label, effects) of the real rows a sweep shows, the real data first: the audit of all
    rows (step 3's numbers) when the sweep recorded it, then the fitting split, the
    generator's target (the dial's "as real" reference)."""
    fit = sweep["real"]
    out = []
    everything = sweep.get("real_all_rows") or {}
    if everything.get("effects"):
        out.append((real_label(everything["rows"]), everything["effects"]))
    rows = fit.get("rows")
    out.append((fitting_label(rows) if rows is not None else "generator's target: fitting split", fit["effects"]))
    return out


def _real_said(sweep: Mapping, effect: str) -> str:
    """'+7.4 percentage points (95% CI ...) in the real data (all 1,629 rows) and +11.1 ... in
    the generator's target (the fitting split of 1,140 rows)'."""
    fit = sweep["real"]
    rows = fit.get("rows")
    target = (f"{_ci_pp(_pp(fit['effects'], effect))} in the generator's target (the fitting split"
              + (f" of {int(rows):,} rows)" if rows is not None else ")"))
    everything = sweep.get("real_all_rows") or {}
    if not everything.get("effects"):
        return target
    return (f"{_ci_pp(_pp(everything['effects'], effect))} in the real data (all {int(everything['rows']):,} rows) "
            f"and {target}")


def sweep_why_two_real(sweep: Mapping) -> str:
    """The line saying why the real data and the fitting split differ ('' without both)."""
    if not (sweep.get("real_all_rows") or {}).get("effects"):
        return ""
    return why_two_real(float((sweep.get("settings") or {}).get("holdout", 0.3)))


def chosen_point(sweep: Mapping, chosen: float) -> Mapping:
    """The sweep point at dial value `chosen`; InputError (one line) if the sweep has none there."""
    for p in sweep.get("points") or []:
        if abs(float(p["alpha"]) - float(chosen)) < 1e-9:
            return p
    have = ", ".join(f"{float(p['alpha']):g}" for p in sweep.get("points") or [])
    raise InputError(f"the sweep has no point at dial {chosen!r}; choose one of {have}")


def _reduction_text(fair: Mapping, real: Mapping | None = None) -> str:
    """What the fair predictor's direct effect does at one point, ending the "How sure" sentence:
    its reduction with its interval, or why no reduction is given (`real`: the sweep's
    real-trained numbers, which decide whether a ratio to them means anything)."""
    if fair.get("error"):
        return f"could not be measured ({fair['error']})"
    why = ratio_blocked(dict(real or {}, reduction=fair.get("reduction")))
    if why:
        return f"is not given as a reduction against one trained on the real rows, because {why}"
    text = f"falls by {percent(fair['reduction'])}"
    if _finite(fair.get("reduction_ci_low"), fair.get("reduction_ci_high")):
        text += f" (95% CI {percent(fair['reduction_ci_low'])} to {percent(fair['reduction_ci_high'])})"
    return text + " compared with one trained on the real rows"


def summary_sentences(sweep: Mapping, chosen: float) -> list[str]:
    """Three sentences: what was removed, what it cost in fidelity and utility, how sure each
    number is. Plain text (the caller escapes it)."""
    s = sweep.get("settings") or {}
    point, first = chosen_point(sweep, chosen), (sweep.get("points") or [{}])[0]
    effect = sweep.get("effect", "ctf_de")
    moved = list(sweep.get("moved") or [])
    what = (PATHWAY_WORDS.get(moved[0], moved[0]) if len(moved) == 1
            else "the " + " and ".join(m.upper() for m in moved) + " pathways")
    measure = (f"its effect ({EFFECT_WORDS.get(effect, effect).lower()}, {SYMBOLS.get(effect, effect)}, in the "
               "decomposition's signs: total gap = direct \u2212 indirect \u2212 spurious)" if effect != "tv"
               else "the whole gap")
    at0, here = _pp(first["effects"], effect), _pp(point["effects"], effect)
    a, a0 = float(point["alpha"]), float(first["alpha"])
    x, y = s.get("x", "X"), s.get("y", "Y")
    x1, x0 = s.get("x1_name", s.get("x1", "x1")), s.get("x0_name", s.get("x0", "x0"))
    removed = (f"Removed: with the dial at {a:g}, {a:.0%} of {what} from {x} to {y} is taken out; {measure} between "
               f"{x1} and {x0} is {_real_said(sweep, effect)}, {_ci_pp(at0)} in the synthetic rows at dial "
               f"{a0:g}, and {_ci_pp(here)} at dial {a:g}.")
    cost = (f"Cost: fidelity (SDMetrics quality, 1 = identical to the real rows) is {first['quality']:.3f} at dial "
            f"{a0:g} and {point['quality']:.3f} at {a:g}; a model trained on the synthetic rows predicts {y} for "
            f"{s.get('holdout_rows', 'the')} held-out real patients with AUROC {first['auroc_tstr']:.3f} at dial "
            f"{a0:g} and {point['auroc_tstr']:.3f} at {a:g}, against {sweep['real']['auroc_trtr']:.3f} for a model "
            f"trained on the real rows.")
    lo, hi = (point.get("auroc_tstr_ci") or [math.nan, math.nan])[:2]
    auroc = (f"each AUROC is within about \u00b1{(hi - lo) / 2:.3f} (95%, from the held-out patients alone, not "
             f"from refitting)" if _finite(lo, hi) else "the AUROC has no interval here")
    sure = (f"How sure: the effect at dial {a:g} is known to within \u00b1{(here[2] - here[1]) / 2:.1f} points "
            f"(95% CI, {point.get('measured_rows', '?'):,} synthetic rows); {auroc}; the fidelity score is a "
            f"descriptive score with no interval; and the direct effect of a model trained on the synthetic rows "
            f"{_reduction_text(point.get('fair_predictor') or {}, sweep['real'].get('fair_predictor'))}.")
    return [removed, cost, sure]


def _points_table(sweep: Mapping, chosen: float) -> str:
    effect = sweep.get("effect", "ctf_de")
    head = ("dial", f"{EFFECT_WORDS.get(effect, effect)}, {SYMBOLS.get(effect, effect)} (pp, 95% CI)", "fidelity",
            "AUROC trained on synthetic (95% CI)", "fair-predictor bias reduction (95% CI)")
    real = sweep["real"]
    blocked = ratio_blocked(dict(real.get("fair_predictor") or {}, reduction=0.0))
    sources = real_sources(sweep)
    rows = [(name, _ci_short(_pp(effects, effect)), "", "", "", "") for name, effects in sources[:-1]]
    rows.append((sources[-1][0], _ci_short(_pp(real["effects"], effect)), "",
                 _auc(real.get("auroc_trtr"), real.get("auroc_trtr_ci")), "", ""))
    for p in sweep.get("points") or []:
        f = p.get("fair_predictor") or {}
        red = "not shown" if blocked else "" if f.get("reduction") is None else (
            percent(f["reduction"]) + (f" [{percent(f['reduction_ci_low'])}, {percent(f['reduction_ci_high'])}]"
                                       if _finite(f.get("reduction_ci_low"), f.get("reduction_ci_high")) else ""))
        mark = "chosen" if abs(float(p["alpha"]) - float(chosen)) < 1e-9 else ""
        rows.append((f"{float(p['alpha']):g}", _ci_short(_pp(p["effects"], effect)), f"{p['quality']:.3f}",
                     _auc(p.get("auroc_tstr"), p.get("auroc_tstr_ci")), red, mark))
    body = "".join(f"<tr class='{m}'>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for *r, m in rows)
    note = f"<p class='note'>Bias reduction not shown: {_e(blocked)}.</p>" if blocked else ""
    return ("<table><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead><tbody>"
            + body + "</tbody></table>" + note)


def _ci_short(v: tuple) -> str:
    return f"{signed(v[0])} [{interval_text(v[1], v[2], sep=', ')}]"


def _auc(v, ci) -> str:
    if v is None:
        return ""
    lo, hi = (list(ci or []) + [None, None])[:2]
    return f"{v:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if _finite(lo, hi) else "")


def build_summary(sweep: Mapping, chosen: float, *, data_name: str = "data",
                  title: str = "Fairness trade-off: one-page summary") -> str:
    """The self-contained HTML page for a sweep (SweepResult.to_dict()) at dial `chosen`."""
    sentences = summary_sentences(sweep, chosen)
    s = sweep.get("settings") or {}
    fig = plots.sweep_curve(sweep, chosen=chosen)
    chart = fig.to_html(full_html=False, include_plotlyjs=True, config={"displaylogo": False})
    return "\n".join([
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p class='note'>Data: {_e(data_name)} &middot; {_e(s.get('x'))}: {_e(s.get('x0_name', s.get('x0')))} "
        f"(baseline) against {_e(s.get('x1_name', s.get('x1')))} &middot; outcome {_e(s.get('y'))} &middot; "
        f"generator {_e(s.get('generator'))}, fitted once, seed {_e(s.get('seed'))} &middot; "
        f"{_e(time.strftime('%Y-%m-%d %H:%M'))}</p>",
        "<ol class='say'>" + "".join(f"<li>{_e(t)}</li>" for t in sentences) + "</ol>",
        chart,
        _points_table(sweep, chosen),
        *([f"<p class='why'>{_e(sweep_why_two_real(sweep))}</p>"] if sweep_why_two_real(sweep) else []),
        "<p class='note'>Every effect is the fairness decomposition's own number, in percentage points of the "
        "outcome rate, comparison group against baseline: total gap = direct \u2212 indirect \u2212 spurious. "
        "Each dial value is one draw of synthetic rows from the same "
        "fitted generator with the same seed, so neighbouring points differ only by the dial.</p>",
        *[f"<p class='note'>{_e(w)}</p>" for w in sweep.get("warnings") or []],
        "</body></html>",
    ])
