"""Plotly figures shared by the dashboard and the HTML report, with one colour scheme.

Colours are constants here so a role, a group or a data source looks the same in the DAG
editor, every chart and the report. Fairness figures take the one results type,
`causal.effects.Decomposition` (or its stored form, read by `as_decomposition`); the others
take plain data. Figures never compute fairness or metrics themselves.
"""

from __future__ import annotations

import html
import math
import time
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from faircause_core.causal.effects import EFFECT_LABELS, EFFECTS, Decomposition, as_decomposition  # noqa: F401
from faircause_core.present.explain import (EFFECTS_TITLE, EFFECT_WORDS, SYMBOLS, fitting_label, ratio_blocked,
                                           real_label, shown, signed)

# Roles in the standard fairness model: confounders, sensitive, mediators, outcome, rest.
ROLE_COLORS = {"z": "#8a6fbf", "x": "#d9822b", "w": "#3a8fd0", "y": "#2e8b57", "other": "#9aa5b1"}
ROLE_LABELS = {"z": "Confounder (Z)", "x": "Sensitive attribute (X)", "w": "Mediator (W)",
               "y": "Outcome (Y)", "other": "Other (not on a path to Y)"}
SOURCE_COLORS = {"real": "#34495e", "fitting": "#8ea4bb", "synthetic": "#1f9d8b", "target": "#e0a526"}
#: A source's colour by what its label says it is, whatever rows the label names
#: (explain.effect_sources: "real data, all 1,629 rows", "generator's target: fitting split, ...").
_SOURCE_KINDS = (("real data", "real"), ("generator's target", "fitting"), ("fitting split", "fitting"),
                 ("synthetic", "synthetic"), ("target", "target"))
GROUP_COLORS = {"x0": "#4c72b0", "x1": "#dd8452"}
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=13, color="#1f2d3d")
HEATMAP_SCALE = "RdBu"


# Every figure here is plotly_white. Set per figure (update_layout(template=...)) plotly
# validated the whole template each time, 8 ms a figure and half the compare page's server
# time (py-spy); as the default it is applied from a cached object when a figure is made.
pio.templates.default = "plotly_white"


def _txt(value: object) -> str:
    """Data text (column names, values) escaped: plotly reads a few HTML tags in labels."""
    return html.escape(str(value))


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.01, font=dict(size=15)), font=FONT, height=height,
        margin=dict(l=50, r=20, t=50, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
    )
    return fig


def source_color(name: str) -> str | None:
    """The colour of a data source named as the figures name it (real, fitting split, ...)."""
    if name in SOURCE_COLORS:
        return SOURCE_COLORS[name]
    return next((SOURCE_COLORS[kind] for prefix, kind in _SOURCE_KINDS if str(name).startswith(prefix)), None)


def effects_bar(sources: Mapping[str, Decomposition], title: str = EFFECTS_TITLE) -> go.Figure:
    """Grouped bars per effect, one colour per source (real/synthetic/target), 95% CI whiskers.
    Bars are the decomposition's own numbers (explain.shown: Ctf-IE and Ctf-SE as they are,
    total gap = direct - indirect - spurious), the numbers the sentences and tables say."""
    fig = go.Figure()
    for name, obj in sources.items():
        if obj is None:
            continue
        frame = shown(obj) * 100
        color = source_color(name)
        has_ci = frame["ci_low"].notna().any()
        # A target of 0 ("remove this pathway") is a bar of no height: write the value so it shows.
        text = None if has_ci else [signed(v) for v in frame["estimate"]]
        fig.add_bar(
            name=name, x=[EFFECT_WORDS[e] for e in frame.index], y=frame["estimate"],
            marker_color=color, text=text, textposition="outside", cliponaxis=False,
            error_y=dict(type="data", symmetric=False, array=frame["ci_high"] - frame["estimate"],
                         arrayminus=frame["estimate"] - frame["ci_low"], visible=bool(has_ci)),
            customdata=[SYMBOLS[e] for e in frame.index],  # the method's symbol, in the tooltip
            hovertemplate="%{x} (%{customdata}): %{y:.2f} pp<extra>" + name + "</extra>",
        )
    fig.add_hline(y=0, line_color="#7f8c8d", line_width=1)
    fig.update_layout(barmode="group", yaxis_title="percentage points")
    return _layout(fig, _txt(title))  # the title names the groups in the user's words: text, not HTML


ROUND_EFFECTS = ("ctf_de", "ctf_ie", "ctf_se")
ROUND_COLORS = {"ctf_de": "#c0392b", "ctf_ie": "#2980b9", "ctf_se": "#8e44ad"}
ROUNDS_TITLE = ("Refinement rounds: measured effect per round with its 95% CI; dashed: target; shaded: the band "
                "a measurement must fall in to be within tolerance (filled dot: inside, open: outside)")


def rounds_plot(rounds: Sequence[Mapping], target: Decomposition | Mapping | None = None) -> go.Figure:
    """The refinement loop, one panel per pathway in the decomposition's signs: each round's
    measured effect with its 95% interval, its target (dashed) and, shaded per round, the band
    of `workflow.refine.acceptance_band` (tolerance widened by that round's standard error),
    the rule behind each round's "within" and the words "converged"/"within tolerance": a
    point inside its band is within tolerance, one outside is not. `target` is used only for
    a log without its own targets."""
    from faircause_core.workflow.refine import round_bands

    goal = as_decomposition(target).estimates if target else {}
    xs = list(range(1, len(rounds) + 1))
    shown_effects = [e for e in ROUND_EFFECTS if any(_round_value(r, e) is not None for r in rounds)]
    fig = make_subplots(rows=1, cols=max(1, len(shown_effects)), horizontal_spacing=0.07,
                        subplot_titles=[f"{EFFECT_WORDS[e]} ({SYMBOLS[e]})" for e in shown_effects] or None)
    for col, e in enumerate(shown_effects, start=1):
        color = ROUND_COLORS[e]
        ys = [_round_value(r, e) for r in rounds]
        targets = [(r.get("targets") or {}).get(e, goal.get(e)) for r in rounds]
        bands = [round_bands(r).get(e) for r in rounds]
        within = [(r.get("within") or {}).get(e) for r in rounds]
        spans = [(r.get("intervals") or {}).get(e) for r in rounds]
        bars = None
        if all(sp is not None and v is not None for sp, v in zip(spans, ys)):
            bars = dict(type="data", symmetric=False, color=color, thickness=1.2,
                        array=[(hi - v) * 100 for (lo, hi), v in zip(spans, ys)],
                        arrayminus=[(v - lo) * 100 for (lo, hi), v in zip(spans, ys)])
        for k, band in zip(xs, bands):
            if band is not None:
                fig.add_shape(type="rect", x0=k - 0.3, x1=k + 0.3, y0=band[0] * 100, y1=band[1] * 100,
                              fillcolor=color, opacity=0.13, line_width=0, layer="below", row=1, col=col)
        if any(t is not None and not _isnan(t) for t in targets):
            fig.add_scatter(x=[k + dx for k in xs for dx in (-0.3, 0.3)],
                            y=[None if t is None else t * 100 for t in targets for _ in (0, 1)],
                            mode="lines", line=dict(color=color, dash="dash", width=1.5), name=f"target: {EFFECT_WORDS[e]}",
                            showlegend=False, connectgaps=False, hoverinfo="skip", row=1, col=col)
        symbols = ["circle" if w or w is None else "circle-open" for w in within]
        fig.add_scatter(x=xs, y=[None if v is None else v * 100 for v in ys], mode="lines+markers",
                        name=EFFECT_WORDS[e], line=dict(color=color), error_y=bars, showlegend=False,  # titled panels
                        marker=dict(symbol=symbols, size=10, line=dict(width=2, color=color)),
                        customdata=[["yes" if w else ("no" if w is not None else "?"),
                                     "" if b is None else f"{b[0] * 100:+.2f} to {b[1] * 100:+.2f}"]
                                    for w, b in zip(within, bands)],
                        hovertemplate="round %{x}: %{y:+.2f} pp; within tolerance: %{customdata[0]} "
                                      "(band %{customdata[1]} pp)<extra>" + EFFECT_WORDS[e] + "</extra>",
                        row=1, col=col)
        fig.add_hline(y=0, line_color="#7f8c8d", line_width=1, row=1, col=col)
        fig.update_xaxes(title="refinement round", dtick=1, range=[0.5, len(rounds) + 0.5], row=1, col=col)
    fig.update_yaxes(title="percentage points", row=1, col=1)
    fig = _layout(fig, ROUNDS_TITLE, height=380)
    fig.update_layout(title=dict(font=dict(size=13)), margin=dict(l=50, r=20, t=80, b=40))
    return fig


def _round_value(r: Mapping, effect: str):
    """A refinement round's measured value for an effect (refine.refine's log), or None."""
    v = (r.get("measured") or {}).get(effect)
    return None if v is None else float(v)


#: Shared bins of a numeric column's real vs synthetic histogram.
HIST_BINS = 30


def distribution_overlay(real: pd.Series, synth: pd.Series, column: str, numeric: bool) -> go.Figure:
    """Real vs synthetic distribution of one column: shared histogram bins or category shares.
    A numeric column is binned here (HIST_BINS shared bins), so the figure holds 2 x HIST_BINS
    bars whatever the rows: two million raw values would be a page of tens of MB."""
    fig = go.Figure()
    if numeric:
        r = pd.to_numeric(real, errors="coerce").dropna().to_numpy(dtype=float)
        s = pd.to_numeric(synth, errors="coerce").dropna().to_numpy(dtype=float)
        both = np.concatenate([r, s])
        lo, hi = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
        edges = np.linspace(lo, hi, HIST_BINS + 1) if hi > lo else np.array([lo - 0.5, lo + 0.5])
        for name, data in (("real", r), ("synthetic", s)):
            counts = np.histogram(data, bins=edges)[0]  # the last bin holds its right edge
            fig.add_bar(x=(edges[:-1] + edges[1:]) / 2, y=counts / max(len(data), 1), width=np.diff(edges),
                        name=name, opacity=0.6, marker_color=SOURCE_COLORS[name],
                        customdata=np.column_stack([edges[:-1], edges[1:]]),
                        hovertemplate="%{customdata[0]:.4g} to %{customdata[1]:.4g}: %{y:.1%} of rows")
        fig.update_layout(barmode="overlay", yaxis_title="share of rows")
    else:
        rc = real.astype(object).where(real.notna(), "(missing)").astype(str).value_counts(normalize=True)
        sc = synth.astype(object).where(synth.notna(), "(missing)").astype(str).value_counts(normalize=True)
        cats = sorted(set(rc.index) | set(sc.index))
        labels = [_txt(c) for c in cats]
        for name, counts in (("real", rc), ("synthetic", sc)):
            fig.add_bar(x=labels, y=[float(counts.get(c, 0.0)) for c in cats], name=name,
                        marker_color=SOURCE_COLORS[name])
        fig.update_layout(barmode="group", yaxis_title="share of rows")
    return _layout(fig, f"{_txt(column)}: real vs synthetic", height=300)


def correlation_heatmaps(real_assoc: pd.DataFrame, synth_assoc: pd.DataFrame) -> go.Figure:
    """Side by side: real association, synthetic association, and synthetic minus real."""
    diff = synth_assoc - real_assoc
    names = [_txt(c) for c in real_assoc.columns]
    fig = make_subplots(rows=1, cols=3, subplot_titles=("real", "synthetic", "synthetic - real"),
                        horizontal_spacing=0.04)
    for i, (mat, show) in enumerate(((real_assoc, False), (synth_assoc, False), (diff, True)), start=1):
        fig.add_heatmap(z=np.asarray(mat, dtype=float), x=names, y=names, zmin=-1, zmax=1,
                        colorscale=HEATMAP_SCALE, reversescale=True, showscale=show,
                        colorbar=dict(thickness=14, len=0.8),
                        hovertemplate="%{y} / %{x}: %{z:.2f}<extra></extra>", row=1, col=i)
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_yaxes(showticklabels=True, row=1, col=1)
    # Vertical names, one per cell: slanted ones run into each other with a dozen columns.
    fig.update_xaxes(tickangle=-90, tickfont=dict(size=11))
    fig.update_yaxes(tickfont=dict(size=11))
    fig.update_annotations(font=dict(size=13))
    fig = _layout(fig, "Association between columns (Pearson r, Cramér's V or eta; 0 = none)",
                  height=max(460, 26 * len(names) + 200))
    fig.update_layout(margin=dict(l=50, r=20, t=80, b=120))
    return fig


def quality_bars(columns: Sequence[Mapping] | pd.DataFrame, shape: float | None = None,
                 trend: float | None = None, quality: float | None = None) -> go.Figure:
    """Per-column shape scores (0..1) with the overall scores in the title."""
    frame = pd.DataFrame(columns)
    name_col = next((c for c in ("column", "name") if c in frame), None)
    score_col = next((c for c in ("score", "shape") if c in frame), None)
    fig = go.Figure()
    if name_col and score_col:
        frame = frame.sort_values(score_col)
        fig.add_bar(x=frame[score_col], y=[_txt(v) for v in frame[name_col]], orientation="h",
                    marker_color=SOURCE_COLORS["synthetic"], hovertemplate="%{y}: %{x:.3f}<extra></extra>")
    fig.update_xaxes(range=[0, 1], title="column shape score (1 = identical)")
    # SDMetrics' own names, so the numbers can be compared with SDMetrics' report
    parts = [f"{k} {v:.2f}" for k, v in (("SDMetrics Quality Score", quality), ("Column Shapes", shape),
                                         ("Column Pair Trends", trend)) if v is not None]
    return _layout(fig, "Fidelity: " + ", ".join(parts) if parts else "Fidelity", height=max(300, 24 * len(frame) + 100))


def score_bars(values: Mapping[str, float], title: str, axis: str, colors: Mapping[str, str] | None = None,
               range_: tuple | None = None) -> go.Figure:
    """A few named numbers as bars (utility AUROC, privacy distances, predictor bias)."""
    fig = go.Figure()
    items = [(k, float(v)) for k, v in values.items() if v is not None and not _isnan(v)]
    fig.add_bar(x=[k for k, _ in items], y=[v for _, v in items],
                marker_color=[(colors or {}).get(k, SOURCE_COLORS["synthetic"]) for k, _ in items],
                text=[f"{v:.3f}" for _, v in items], textposition="outside")
    fig.update_yaxes(title=axis)
    if range_:
        fig.update_yaxes(range=list(range_))
    return _layout(fig, title, height=320)


def predictor_effects(fair: Mapping, mirror: bool = False) -> go.Figure:
    """The fair predictor's direct effect of X on its predictions (Ctf-DE, signed, pp, 95% CI):
    trained on real rows, on this run's synthetic rows, and on the mirror-mode control when
    there is one, side by side. `mirror`: this run removed nothing (its own control)."""
    if "real_trained_de" not in fair:  # a run saved before the exact measure
        fair = dict(fair, real_trained_de=fair.get("ctf_de_real_model"),
                    synthetic_trained_de=fair.get("ctf_de_synth_model"))
    bars = [("trained on real rows", fair, "real_trained_de", SOURCE_COLORS["real"]),
            ("trained on this mirror run's rows" if mirror else "trained on synthetic rows", fair,
             "synthetic_trained_de", SOURCE_COLORS["synthetic"])]
    if fair.get("control") and not mirror:
        bars.append(("trained on a mirror-mode control", fair["control"], "synthetic_trained_de", "#9aa5b1"))
    fig = go.Figure()
    for name, d, key, color in bars:
        v = d.get(key)
        if v is None or _isnan(v):
            continue
        lo, hi = d.get(f"{key}_ci_low"), d.get(f"{key}_ci_high")
        has = lo is not None and hi is not None
        fig.add_bar(x=[name], y=[v * 100], marker_color=color, name=name, showlegend=False,
                    text=[signed(v * 100)], textposition="inside", insidetextanchor="start",  # clear of the whisker
                    error_y=dict(type="data", symmetric=False, visible=has,
                                 array=[(hi - v) * 100 if has else 0], arrayminus=[(v - lo) * 100 if has else 0]),
                    hovertemplate="%{x}: %{y:+.2f} pp<extra>Ctf-DE</extra>")
    fig.add_hline(y=0, line_color="#7f8c8d", line_width=1)
    fig.update_yaxes(title="direct effect of X (Ctf-DE), pp")
    return _layout(fig, "Fair predictor: direct effect of X on its predictions (95% CI)", height=340)


def _isnan(v) -> bool:
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def tradeoff_scatter(points: Sequence[Mapping], x: str = "fairness_gap", y: str = "quality",
                     title: str = "Trade-off across runs") -> go.Figure:
    """Every saved run as a point: how much unfairness is left against fidelity or utility.

    points: dicts with run_id, label, fairness_gap (|Ctf-DE| of the synthetic data, pp),
    quality (fidelity 0..1) and tstr (AUROC).
    """
    titles = {"fairness_gap": "remaining |Ctf-DE| in synthetic data (pp)", "quality": "fidelity quality (0..1)",
              "tstr": "utility: AUROC trained on synthetic"}
    fig = go.Figure()
    usable = [p for p in points if p.get(x) is not None and p.get(y) is not None]
    by_gen: dict[str, list] = {}
    for p in usable:
        by_gen.setdefault(str(p.get("generator", "run")), []).append(p)
    palette = ["#1f9d8b", "#d9822b", "#3a8fd0", "#8a6fbf", "#c0392b"]
    for i, (gen, pts) in enumerate(sorted(by_gen.items())):
        fig.add_scatter(x=[p[x] for p in pts], y=[p[y] for p in pts], mode="markers+text", name=gen,
                        text=[_txt(p.get("label", p.get("run_id", ""))) for p in pts], textposition="top center",
                        marker=dict(size=12, color=palette[i % len(palette)]),
                        hovertemplate="%{text}<br>%{x:.3f} / %{y:.3f}<extra>" + gen + "</extra>")
    fig.update_xaxes(title=titles.get(x, x))
    fig.update_yaxes(title=titles.get(y, y))
    return _layout(fig, _txt(title), height=420)  # the title may name the data file: text, not HTML


def run_labels(runs: Sequence[Mapping]) -> dict:
    """{run_id: label}: each run named by its settings (generator, what was removed and how
    much, rows, seed), made unique by the time it was saved, then by its id."""
    def base(r: Mapping) -> str:
        spec = r.get("fairness") or {}
        if spec:
            parts = [f"{p.upper()} {float(spec.get(p) or 0):.0%}" for p in ("de", "ie", "se")
                     if float(spec.get(p) or 0) > 0]
        else:  # a summary without the alphas: only the names of the removed pathways
            parts = [] if r.get("removed") in (None, "none") else [str(r["removed"])]
        rows = f"{r['rows']:,} rows · " if isinstance(r.get("rows"), int) else ""
        if r.get("generator") == "external":  # workflow.evaluate: rows made elsewhere, no edits of ours
            return f"evaluated {r.get('source') or 'table'} · {rows}seed {r.get('seed')}"
        edits = f"removed {' '.join(parts)}" if parts else "mirror"
        return f"{r.get('generator') or '?'} · {edits} · {rows}seed {r.get('seed')}"

    labels = {r["run_id"]: base(r) for r in runs}
    for step in (lambda r: time.strftime("%d %b %H:%M:%S", time.localtime(r.get("created") or 0)),
                 lambda r: str(r["run_id"])):
        counts: dict = {}
        for lab in labels.values():
            counts[lab] = counts.get(lab, 0) + 1
        labels = {r["run_id"]: labels[r["run_id"]] + (f" · {step(r)}" if counts[labels[r["run_id"]]] > 1 else "")
                  for r in runs}
    return labels


SWEEP_COLORS = {"effect": "#c0392b", "quality": "#1f9d8b", "tstr": "#3a8fd0", "reduction": "#8a6fbf",
                "real": "#34495e", "chosen": "#e0a526"}


def _dial_text(a: float) -> str:
    return f"{a:g}<br>as real" if a == 0 else (f"{a:g}<br>removed" if a == 1 else f"{a:g}")


def _span(v, lo, hi, scale: float = 1.0) -> tuple:
    """(value, up, down) error-bar lengths, NaN-safe, scaled (e.g. to percentage points)."""
    vals = [math.nan if x is None else float(x) * scale for x in (v, lo, hi)]
    return vals[0], vals[2] - vals[0], vals[0] - vals[1]


def sweep_curve(sweep: Mapping, chosen: float | None = None) -> go.Figure:
    """A sweep (workflow.sweep.SweepResult.to_dict()) from "as real" (dial 0) to "removed"
    (dial 1): the swept effect in the decomposition's signs with its 95% CI; fidelity and
    train-on-synthetic AUROC with its CI; the fair predictor's bias reduction with its CI,
    drawn only where explain.ratio_blocked allows a ratio to the real-trained direct effect
    (else a line says why). Left of the dial: the real data (all rows, a filled diamond) and
    the fitting split the generator learned from (its target, an open one); `chosen` is a
    dashed line and a ring."""
    pts = list(sweep.get("points") or [])
    effect = sweep.get("effect", "ctf_de")
    real = sweep.get("real") or {}
    xs = [float(p["alpha"]) for p in pts]
    x_real = -0.12
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.09, subplot_titles=(
        f"{EFFECT_WORDS.get(effect, effect)} ({SYMBOLS.get(effect, effect)}), percentage points with 95% CI",
        "Cost: fidelity (SDMetrics quality) and utility (AUROC trained on synthetic, 95% CI)",
        "Fair predictor: reduction of its direct effect of X (%, 95% CI)"))

    def eff(e: Mapping) -> tuple:
        v, lo, hi = (float(e[effect][k]) * 100 for k in ("estimate", "ci_low", "ci_high"))
        return v, hi - v, v - lo

    e_pts = [eff(p["effects"]) for p in pts]
    fig.add_scatter(x=xs, y=[v for v, _, _ in e_pts], mode="lines+markers", name="synthetic: effect",
                    line=dict(color=SWEEP_COLORS["effect"]), legendgroup="effect",
                    error_y=dict(type="data", symmetric=False, array=[u for _, u, _ in e_pts],
                                 arrayminus=[d for _, _, d in e_pts]),
                    hovertemplate="dial %{x}: %{y:+.2f} pp<extra></extra>", row=1, col=1)
    everything = sweep.get("real_all_rows") or {}
    if everything.get("effects"):  # the real data: every real row, step 3's numbers
        v, up, down = eff(everything["effects"])
        name = real_label(everything["rows"])
        fig.add_scatter(x=[x_real - 0.03], y=[v], mode="markers", name=name, legendgroup="real",
                        marker=dict(symbol="diamond", size=13, color=SWEEP_COLORS["real"]),
                        error_y=dict(type="data", symmetric=False, array=[up], arrayminus=[down]),
                        hovertemplate=f"{name}: %{{y:+.2f}} pp<extra></extra>", row=1, col=1)
    if real.get("effects"):  # the fitting split the generator learned from: the dial's "as real"
        v, up, down = eff(real["effects"])
        name = (fitting_label(real["rows"]) if real.get("rows") is not None
                else "generator's target: fitting split")
        fig.add_scatter(x=[x_real + (0.03 if everything.get("effects") else 0)], y=[v], mode="markers", name=name,
                        legendgroup="real", marker=dict(symbol="diamond-open", size=13, line=dict(width=2),
                                                        color=SWEEP_COLORS["real"]),
                        error_y=dict(type="data", symmetric=False, array=[up], arrayminus=[down]),
                        hovertemplate=f"{name}: %{{y:+.2f}} pp<extra></extra>", row=1, col=1)
        if effect != "tv":  # what each dial value asks for: (1 - alpha) x the fitting split's effect
            fig.add_scatter(x=[0, 1], y=[v, 0], mode="lines", name="target (1 − dial) × fitting split",
                            line=dict(color=SWEEP_COLORS["real"], dash="dot", width=1), row=1, col=1)
    fig.add_hline(y=0, line_color="#7f8c8d", line_width=1, row=1, col=1)
    fig.add_scatter(x=xs, y=[p.get("quality") for p in pts], mode="lines+markers", name="fidelity (quality)",
                    line=dict(color=SWEEP_COLORS["quality"]), row=2, col=1,
                    hovertemplate="dial %{x}: quality %{y:.3f}<extra></extra>")
    t_pts = [_span(p.get("auroc_tstr"), *(list(p.get("auroc_tstr_ci") or [None, None]))) for p in pts]
    fig.add_scatter(x=xs, y=[v for v, _, _ in t_pts], mode="lines+markers", name="AUROC trained on synthetic",
                    line=dict(color=SWEEP_COLORS["tstr"]), row=2, col=1,
                    error_y=dict(type="data", symmetric=False, array=[u for _, u, _ in t_pts],
                                 arrayminus=[d for _, _, d in t_pts]),
                    hovertemplate="dial %{x}: AUROC %{y:.3f}<extra></extra>")
    if real.get("auroc_trtr") is not None:
        v, up, down = _span(real["auroc_trtr"], *(list(real.get("auroc_trtr_ci") or [None, None])))
        fig.add_scatter(x=[x_real], y=[v], mode="markers", name="AUROC trained on real", legendgroup="real",
                        marker=dict(symbol="diamond", size=13, color=SWEEP_COLORS["real"]), row=2, col=1,
                        error_y=dict(type="data", symmetric=False, array=[up], arrayminus=[down]),
                        hovertemplate="trained on real: AUROC %{y:.3f}<extra></extra>")
    blocked = ratio_blocked(dict(real.get("fair_predictor") or {}, reduction=0.0)) if pts else ""
    r_pts = [(math.nan, math.nan, math.nan) if blocked else
             _span(f.get("reduction"), f.get("reduction_ci_low"), f.get("reduction_ci_high"), 100)
             for f in (p.get("fair_predictor") or {} for p in pts)]
    fig.add_scatter(x=xs, y=[v for v, _, _ in r_pts], mode="lines+markers", name="bias reduction",
                    line=dict(color=SWEEP_COLORS["reduction"]), row=3, col=1,
                    error_y=dict(type="data", symmetric=False, array=[u for _, u, _ in r_pts],
                                 arrayminus=[d for _, _, d in r_pts]),
                    hovertemplate="dial %{x}: %{y:.0f}%<extra></extra>")
    fig.add_scatter(x=[x_real], y=[0], mode="markers", name="real data: no reduction", legendgroup="real",
                    showlegend=False, marker=dict(symbol="diamond", size=13, color=SWEEP_COLORS["real"]), row=3, col=1)
    if blocked:  # a ratio to a direct effect that may be 0 could be any size: not drawn, and why
        import textwrap

        fig.add_annotation(text="<br>".join(_txt(line) for line in textwrap.wrap("Not shown: " + blocked, 100)),
                           x=0.5, y=50, xref="x3", yref="y3", showarrow=False, font=dict(size=12, color="#5b6b7b"))
    lows = [v - d for v, _, d in r_pts if not _isnan(v - d)]
    fig.update_yaxes(range=[max(-150.0, min(lows + [0.0]) - 5), 115], row=3, col=1, title="%")
    fig.update_yaxes(title="pp", row=1, col=1)
    fig.update_yaxes(title="score (0 to 1)", row=2, col=1)
    if chosen is not None:
        fig.add_vline(x=float(chosen), line_dash="dash", line_color=SWEEP_COLORS["chosen"])
        near = [i for i, a in enumerate(xs) if abs(a - float(chosen)) < 1e-9]
        if near:
            i = near[0]
            fig.add_scatter(x=[xs[i]], y=[e_pts[i][0]], mode="markers", name=f"chosen (dial {xs[i]:g})",
                            marker=dict(symbol="circle-open", size=20, line=dict(width=3),
                                        color=SWEEP_COLORS["chosen"]), row=1, col=1)
    ticks = [x_real] + xs
    fig.update_xaxes(tickvals=ticks, ticktext=["real<br>data"] + [_dial_text(a) for a in xs],
                     range=[x_real - 0.08, 1.06])
    fig.update_xaxes(title="dial: share of the pathway removed", row=3, col=1)
    moved = ", ".join(str(p).upper() for p in sweep.get("moved") or [])
    fig = _layout(fig, f"Sweep of {moved or '?'} from as real (0) to removed (1), "
                       f"{_txt(sweep.get('settings', {}).get('generator', ''))}", height=860)
    fig.update_layout(margin=dict(l=60, r=20, t=70, b=140),
                      legend=dict(orientation="h", x=0, xanchor="left", y=-0.1, yanchor="top"))
    return fig
