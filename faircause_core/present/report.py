"""A self-contained HTML report of one run, to e-mail or archive next to the data.

Self-contained means it opens offline years later: plotly.js is embedded inline once (no
CDN), there are no external styles or fonts, and every piece of text that comes from the
data (column names, group labels, file names) goes through html.escape.
"""

from __future__ import annotations

import html
import time
from typing import Iterable, Mapping

import pandas as pd

from faircause_core.causal.effects import EFFECTS, Decomposition
from faircause_core.present import plots
from faircause_core.present.explain import (CONTRIBUTION_LABELS, SIGN_NOTE, contributions, explain_roles,
                                           fair_predictor_lines)

_CSS = """
body{font-family:Inter,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2d3d;max-width:1100px;margin:2em auto;padding:0 1em}
h1{color:#1f4e79}h2{color:#1f4e79;border-bottom:1px solid #d8e2ec;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #d8e2ec;padding:.3em .6em;text-align:left}
th{background:#eef3f8}.note{color:#5b6b7b;font-size:.9em}.warn{background:#fff6e0;border-left:4px solid #e0a526;padding:.4em .8em;margin:.3em 0}
.legend span{display:inline-block;padding:.15em .6em;margin:.1em;border-radius:4px;color:white}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table(rows: Iterable[Mapping], columns: list[str] | None = None) -> str:
    rows = list(rows)
    if not rows:
        return "<p class='note'>(none)</p>"
    columns = columns or list(rows[0].keys())
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(_fmt(r.get(c, '')))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv(d: Mapping) -> str:
    return _table([{"setting": k, "value": v if not isinstance(v, (dict, list)) else str(v)} for k, v in d.items()])


class _Figures:
    """Embeds plotly.js with the first figure only; the others reuse it."""

    def __init__(self) -> None:
        self.first = True

    def html(self, fig) -> str:
        out = fig.to_html(full_html=False, include_plotlyjs=True if self.first else False,
                          config={"displaylogo": False})
        self.first = False
        return out


def _effects_rows(sources: Mapping[str, Decomposition], sentences: Mapping[str, str]) -> list[dict]:
    """The chart's numbers as a table: contributions to the gap, the sign the sentences use."""
    frames = {k: contributions(v) for k, v in sources.items()}
    rows = []
    for e in EFFECTS:
        row = {"effect": CONTRIBUTION_LABELS[e]}
        for name, f in frames.items():
            if e in f.index:
                est, lo, hi = (float(f.loc[e, c]) * 100 for c in ("estimate", "ci_low", "ci_high"))
                row[f"{name} (pp)"] = f"{est:+.2f}" + ("" if pd.isna(lo) else f" [{lo:+.2f}, {hi:+.2f}]")
        row["in plain words (real data)"] = sentences.get(e, "")
        rows.append(row)
    return rows


def build_report(result, roles, *, graph=None, data_name: str = "data", title: str = "FairCauseSyn report") -> str:
    """HTML for a pipeline.RunResult with its roles (and DAG if given)."""
    figs = _Figures()
    sources = result.decompositions()
    sentences = explain_roles(sources["real"], roles)
    metrics = result.metrics or {}
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{_e(title)}</h1>",
             f"<p class='note'>Data: {_e(data_name)} &middot; generated {_e(time.strftime('%Y-%m-%d %H:%M'))} "
             f"&middot; {_e(result.settings.fairness.label())}</p>",
             "<h2>Fairness question</h2>",
             _table([{"role": "sensitive attribute X", "columns": roles.x,
                      "detail": f"baseline x0 = {roles.x0}, comparison x1 = {roles.x1}"},
                     {"role": "outcome Y", "columns": roles.y,
                      "detail": "" if roles.threshold is None else f">= {roles.threshold}"},
                     {"role": "confounders Z", "columns": ", ".join(roles.z) or "-", "detail": ""},
                     {"role": "mediators W", "columns": ", ".join(roles.w) or "-", "detail": ""},
                     {"role": "other", "columns": ", ".join(roles.other) or "-", "detail": ""}])]
    parts += ["<h2>Fairness: real, synthetic, target</h2>", figs.html(plots.effects_bar(sources)),
              f"<p class='note'>{_e(SIGN_NOTE)} Here x1 = {_e(roles.x1)} and x0 = {_e(roles.x0)}.</p>",
              _table(_effects_rows(sources, sentences))]
    if result.rounds:
        parts += ["<h2>Refinement rounds</h2>", figs.html(plots.rounds_plot(result.rounds, sources.get("target"))),
                  f"<p>Converged: {_e('yes' if result.converged else 'no')}</p>"]
    fid = metrics.get("fidelity") or {}
    if fid:
        parts += ["<h2>Fidelity</h2>",
                  figs.html(plots.quality_bars(fid.get("columns", []), fid.get("shape"), fid.get("trend"),
                                               fid.get("quality"))),
                  _table(fid.get("columns", []))]
    util = metrics.get("utility") or {}
    if util:
        parts += ["<h2>Utility</h2>", figs.html(plots.score_bars(
            {"TRTR (real-trained)": util.get("trtr"), "TSTR (synthetic-trained)": util.get("tstr")},
            "AUROC on held-out real rows", "AUROC", range_=(0, 1.05))), _kv(util)]
    fair = metrics.get("fair_predictor") or {}
    if fair:
        parts += ["<h2>Fair predictor</h2>"] + [f"<p>{_e(line)}</p>" for line in fair_predictor_lines(fair)]
        parts += [f"<div class='warn'>{_e(note)}</div>" for note in fair.get("notes") or []]
    priv = metrics.get("privacy") or {}
    if priv:
        parts += ["<h2>Privacy</h2>", _kv(priv)]
    if graph is not None:
        parts += ["<h2>Causal graph</h2>", _table([{"from": a, "to": b} for a, b in graph.edges])]
    parts += ["<h2>Settings</h2>", _kv(result.settings.to_dict()), "<h2>Timings (s)</h2>", _kv(result.timings)]
    if result.warnings:
        parts += ["<h2>Warnings</h2>"] + [f"<div class='warn'>{_e(w)}</div>" for w in result.warnings]
    parts.append("</body></html>")
    return "\n".join(parts)
