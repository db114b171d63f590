"""A self-contained HTML report of one run, to e-mail or archive next to the data.

Self-contained means it opens offline years later: plotly.js is embedded inline once (no
CDN), there are no external styles or fonts, and every piece of text that comes from the
data (column names, group labels, file names) goes through html.escape.
"""

from __future__ import annotations

import html
import math
import time
from typing import Iterable, Mapping

import pandas as pd

from faircause_core.causal.effects import EFFECTS, Decomposition
from faircause_core.generators.lm.record import sentence as lm_sentence
from faircause_core.present import plots
from faircause_core.present.explain import (EFFECT_WORDS, OWN_EFFECTS_NOTE, SYMBOL_HELP, SYMBOLS, effects_title,
                                           explain_roles, effect_sources, fair_predictor_lines, fair_predictor_notes,
                                           identity_line, interval_text, is_mirror, known_edit, measure_note, names,
                                           outcome_rate_lines, own_effects_rows, question_line,
                                           reference_options, rule_rows, rules_warning, run_why_two_real, sampled_lines,
                                           shown, sign_note, signed)

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


def _kv(rows: Iterable[tuple], head: tuple = ("setting", "value")) -> str:
    """(name, value) pairs as a two-column table; a value of None or an empty list is left out."""
    return _table([{head[0]: k, head[1]: v} for k, v in rows if v is not None and v != [] and v != ""])


def _num(value, digits: int = 3) -> str | None:
    """A number for a table: rounded, None when missing or not finite (NaN)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else f"{v:.{digits}f}"


def _pct(value) -> str | None:
    v = _num(value)
    return None if v is None else f"{float(value):.1%}"


FIDELITY_NAMES = {"score": "shape score (1 = identical)", "missing_similarity": "missing values alike (1 = same share)"}
SETTING_NAMES = {"generator": "generator", "model_dir": "language model folder", "preset": "training preset",
                 "train_steps": "training steps", "rows": "rows generated", "seed": "seed",
                 "fairness": "fairness edits", "refine": "refinement loop", "max_rounds": "refinement rounds at most",
                 "holdout": "real rows held out for testing", "measure_rows": "rows measured per round",
                 "skip_lm": "language model skipped", "measure": "measuring profile"}


def settings_rows(settings: Mapping) -> list[tuple]:
    """A run's settings in words: the edits as their label, yes/no, shares as percentages,
    nothing for a setting that was not used (no model folder for the Bayes net)."""
    from faircause_core.generators.base import FairnessSpec

    unused = set() if settings.get("generator") in ("llm", "prompt") else {"model_dir", "preset", "train_steps"}
    unused |= set() if settings.get("generator") == "llm" else {"skip_lm"}
    unused |= set() if settings.get("refine", True) else {"max_rounds", "measure_rows"}
    out = []
    for key, value in settings.items():
        if key in unused:
            continue
        if key == "fairness" and isinstance(value, Mapping):
            spec = FairnessSpec.from_dict(value)
            value = spec.label() + (f"; reference group: {reference_options().get(spec.reference, spec.reference)}"
                                    if spec.removed() else "")
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif key == "holdout":
            value = _pct(value)
        elif isinstance(value, (dict, list)):
            continue
        out.append((SETTING_NAMES.get(key, key.replace("_", " ")), value))
    return out


def utility_rows(util: Mapping) -> list[tuple]:
    """TRTR and TSTR AUROC and the rows behind them, in words."""
    return [("AUROC, model trained on real rows (TRTR)", _num(util.get("trtr"))),
            ("AUROC, model trained on synthetic rows (TSTR)", _num(util.get("tstr"))),
            ("real training rows", util.get("n_train_real")), ("synthetic training rows", util.get("n_synth")),
            ("held-out real test rows", util.get("n_test"))]


def privacy_rows(priv: Mapping) -> list[tuple]:
    """The privacy measures (metrics.privacy) under readable names: each with its 95% interval,
    and beside it what a copier and a marginals-only sampler score on the same data."""
    from faircause_core.present.explain import copies_text

    yard = [(name, (priv.get("yardsticks") or {}).get(name) or {}) for name in ("copier", "marginals")]

    def est(d: Mapping, key: str, digits: int = 2, scale: float = 1.0, sign: str = "") -> str | None:
        keys = ("risk", "ci_low", "ci_high") if key == "risk" else (key, f"{key}_ci_low", f"{key}_ci_high")
        v, lo, hi = (None if _num(d.get(k)) is None else f"{float(d[k]) * scale:{sign}.{digits}f}" for k in keys)
        return None if v is None else (v if lo is None or hi is None else f"{v} [{lo}, {hi}]")

    def beside(value: str | None, fn) -> str | None:
        if value is None:
            return None
        return "; ".join([value] + [f"{name} {fn(d)}" for name, d in yard if d and fn(d) is not None])

    def count(d: Mapping, k: str, n: str) -> str | None:
        return None if d.get(k) is None or d.get(n) is None else f"{int(d[k]):,} of {int(d[n]):,}"

    def attack(d: Mapping, key: str) -> str | None:
        return est((d.get("anonymeter") or {}).get(key) or {}, "risk")

    rows = [
        ("membership inference AUC (0.5 = no leak)",
         beside(est(priv, "membership_auc"), lambda d: est(d, "membership_auc"))),
        ("closeness: synthetic rows closer to a training row than unseen patients (AUC, 0.5 = as close)",
         beside(est(priv, "closeness_auc"), lambda d: est(d, "closeness_auc"))),
        ("exact copies of a training row", copies_text(priv) if priv.get("exact_copy_share") is not None else None),
        ("exact copies among unseen real rows (yardstick)", _pct(priv.get("holdout_exact_copy_share"))),
        ("exact copies beyond unseen rows' share (points)",
         beside(est(priv, "exact_copy_excess", 1, 100, "+"), lambda d: est(d, "exact_copy_excess", 1, 100, "+"))),
        ("unique patients copied verbatim: training",
         beside(count(priv, "unique_train_copied", "unique_train_rows"),
                lambda d: None if d.get("unique_train_copied") is None else f"{int(d['unique_train_copied']):,}")),
        ("unique patients copied verbatim: unseen (yardstick)",
         count(priv, "unique_holdout_copied", "unique_holdout_rows")),
        ("unique patients copied beyond unseen (points)",
         beside(est(priv, "unique_copy_excess", 1, 100, "+"), lambda d: est(d, "unique_copy_excess", 1, 100, "+"))),
        ("rarest 5%: training closer to a synthetic row than unseen (AUC, 0.5 = as close)",
         beside(est(priv, "rare_auc"), lambda d: est(d, "rare_auc"))),
        ("rarest 5%: median distance to a synthetic row, training / unseen",
         None if _num(priv.get("rare_dcr_train_median")) is None
         else f"{_num(priv.get('rare_dcr_train_median'))} / {_num(priv.get('rare_dcr_holdout_median'))}"),
    ]
    for key, risk in (priv.get("anonymeter") or {}).items():
        name = {"singling_out": "singling out", "linkability": "linkability"}.get(key) or \
            f"inference of {risk.get('secret', 'a column')}"
        rows.append((f"Anonymeter {name} risk (0 = none)",
                     beside(attack(priv, key), lambda d, key=key: attack(d, key))))
    known = ", ".join(str(k) for k in priv.get("disclosure_known") or [])
    return rows + [
        ("median distance to the closest training row: synthetic", _num(priv.get("dcr_synth_median"))),
        ("median distance to the closest training row: unseen real rows", _num(priv.get("dcr_holdout_median"))),
        ("distance ratio, synthetic / unseen real (about 1 is good)", _num(priv.get("ratio"), 2)),
        ("5% closest synthetic rows: distance", _num(priv.get("dcr_synth_p5"))),
        ("5% closest unseen real rows: distance", _num(priv.get("dcr_holdout_p5"))),
        ("SDMetrics DCR baseline protection (1 = no closer than random rows)", _num(priv.get("dcr_baseline_protection"), 2)),
        ("SDMetrics DCR overfitting protection (1 = at most half closer to training)",
         _num(priv.get("dcr_overfitting_protection"), 2)),
        ("share of synthetic rows closer to training than to unseen rows", _pct(priv.get("closer_to_training_share"))),
        (f"SDMetrics disclosure protection of {priv.get('disclosure_sensitive')} from {known}"
         if priv.get("disclosure_sensitive") else "SDMetrics disclosure protection",
         _num(priv.get("disclosure_protection"), 2)),
        ("disclosure protection by chance (baseline)", _num(priv.get("disclosure_baseline_protection"), 2)),
    ]


MEMORISATION_RATIO = 0.8  # synthetic rows a fifth closer to training rows than unseen patients are


def privacy_verdict(priv: Mapping) -> str:
    """One line: the verdict in words and the measure that decided it ("Verdict: not safe to
    share. ..."); a run saved before the verdict: copying or memorisation seen, or not."""
    from faircause_core.present.explain import copies_text

    if priv.get("verdict"):
        from faircause_core.metrics.privacy import VERDICT_WORDS

        words = VERDICT_WORDS.get(priv["verdict"], str(priv["verdict"]))
        return f"Verdict: {words}. {priv.get('verdict_reason') or ''}".strip()
    share, yard = priv.get("exact_copy_share"), priv.get("holdout_exact_copy_share")
    ratio = _num(priv.get("ratio"), 2)
    if share is not None and share > 0 and (yard is None or _num(yard) is None or share > float(yard)):
        return (f"Check before sharing: {copies_text(priv)} are exact copies of a training row, more than among "
                f"unseen real rows ({_pct(yard) or 'not measured'}).")
    if ratio is None:
        return "No verdict: the distance to unseen real rows could not be measured (see the notes)."
    if float(ratio) < MEMORISATION_RATIO:
        return (f"Check before sharing: synthetic rows sit closer to the training rows than unseen real rows do "
                f"(distance ratio {ratio}; 1 = as close as unseen patients), a sign of memorisation.")
    return (f"No sign of copying: {copies_text(priv)} are exact copies, and synthetic rows are about as far from "
            f"the training rows as unseen real rows are (distance ratio {ratio}).")


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
    """The chart's numbers as a table: the decomposition's own, the signs the sentences use."""
    frames = {k: shown(v) for k, v in sources.items()}
    rows = []
    for e in EFFECTS:
        row = {"effect": f"{EFFECT_WORDS[e]} ({SYMBOLS[e]})"}
        for name, f in frames.items():  # every source a column, blank where it has no number (a target's TV)
            row[f"{name} (pp)"] = ""
            if e in f.index and not pd.isna(f.loc[e, "estimate"]):
                est, lo, hi = (float(f.loc[e, c]) * 100 for c in ("estimate", "ci_low", "ci_high"))
                row[f"{name} (pp)"] = signed(est, 2) + ("" if pd.isna(lo) else f" [{interval_text(lo, hi, 2, ', ')}]")
        row[f"in plain words ({next(iter(frames))})"] = sentences.get(e, "")
        rows.append(row)
    return rows


def rounds_verdict(result) -> str:
    """What the refinement rounds show, in the loop's own words (refine's message, from the
    rule that also draws the chart's bands); "within tolerance: yes/no" of the round said."""
    said = result.message or ("every effect within tolerance" if result.converged else "not within tolerance")
    return f"Within tolerance: {'yes' if result.converged else 'no'}. {said[:1].upper() + said[1:]}."


def build_report(result, roles, *, graph=None, data_name: str = "data", title: str = "FairCauseSyn report") -> str:
    """HTML for a pipeline.RunResult with its roles (and DAG if given)."""
    figs = _Figures()
    sources = effect_sources(result)  # the real data (all rows) first, then the fitting split, synthetic, target
    real_name, real = next(iter(sources.items()))
    sentences = explain_roles(real, roles)
    metrics = result.metrics or {}
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{_e(title)}</h1>",
             f"<p class='note'>Data: {_e(data_name)} &middot; generated {_e(time.strftime('%Y-%m-%d %H:%M'))} "
             f"&middot; {_e(result.settings.fairness.label())}</p>",
             "<h2>Fairness question</h2>", f"<p>{_e(question_line(roles))}</p>",
             _table([{"role": "sensitive attribute X", "columns": roles.x,
                      "detail": "baseline group {}, comparison group {}".format(*names(roles))},
                     {"role": "outcome Y", "columns": roles.y,
                      "detail": "" if roles.threshold is None else f">= {roles.threshold}"},
                     {"role": "confounders Z", "columns": ", ".join(roles.z) or "-", "detail": ""},
                     {"role": "mediators W", "columns": ", ".join(roles.w) or "-", "detail": ""},
                     {"role": "other", "columns": ", ".join(roles.other) or "-", "detail": ""}])]
    lm_line = lm_sentence(getattr(result, "language_model", None))
    if lm_line:  # what the language model did, or that none was run
        parts.append(f"<p class='lm'>Generator {_e(result.settings.generator)}: {_e(lm_line)}.</p>")
    light = measure_note(result.settings)
    if light:  # a light run's wider intervals, said before any number
        parts.append(f"<p class='note'>{_e(light[:1].upper() + light[1:])}.</p>")
    sampled = sampled_lines(result.metrics, getattr(result, "fitting_rows", None), len(result.synthetic))
    if sampled:  # which numbers came from a seeded sample, and how large
        parts.append("<p class='note'>Computed on samples: " + "; ".join(_e(line) for line in sampled) + ".</p>")
    why = run_why_two_real(result)
    parts += ["<h2>Fairness: real, synthetic, target</h2>",
              figs.html(plots.effects_bar(sources, title=effects_title(roles))),
              f"<p class='note' title='{_e(SYMBOL_HELP)}'>{_e(sign_note(roles))}</p>",
              _table(_effects_rows(sources, sentences))]
    if why:
        parts.append(f"<p class='why'>{_e(why)}</p>")
    identity = identity_line(real)
    if identity:
        parts.append(f"<p class='note'>{_e(real_name[:1].upper() + real_name[1:])}: {_e(identity)}.</p>")
    own = own_effects_rows(result)
    if own:
        parts += ["<h3>The generator's own effects beside the audit of its rows</h3>", _table(own),
                  f"<p class='note'>{_e(OWN_EFFECTS_NOTE)}</p>"]
    if result.rounds:
        parts += ["<h2>Refinement rounds</h2>",
                  figs.html(plots.rounds_plot(result.rounds, result.decompositions().get("target"))),
                  f"<p>{_e(rounds_verdict(result))}</p>"]
    fid = metrics.get("fidelity") or {}
    if fid:
        parts += ["<h2>Fidelity</h2>",
                  figs.html(plots.quality_bars(fid.get("columns", []), fid.get("shape"), fid.get("trend"),
                                               fid.get("quality"))),
                  _table([{FIDELITY_NAMES.get(k, k): v for k, v in row.items()} for row in fid.get("columns", [])])]
        parts += [f"<p>{_e(line)}</p>" for line in outcome_rate_lines(metrics.get("outcome"), known_edit(result.settings),
                                                                      roles)]
        if rows := rule_rows(fid):
            parts += ["<h3>Rules every real row keeps</h3>", _table(rows)]
        if said := rules_warning(fid):
            parts += [f"<div class='warn'>{_e(said)}</div>"]
    util = metrics.get("utility") or {}
    if util:
        parts += ["<h2>Utility</h2>", figs.html(plots.score_bars(
            {"TRTR (real-trained)": util.get("trtr"), "TSTR (synthetic-trained)": util.get("tstr")},
            "AUROC on held-out real rows", "AUROC", range_=(0, 1.05))), _kv(utility_rows(util), ("measure", "value"))]
        parts += [f"<div class='warn'>{_e(note)}</div>" for note in util.get("notes") or []]
    fair = metrics.get("fair_predictor") or {}
    if fair:
        mirror = is_mirror(result.settings)
        parts += ["<h2>Fair predictor</h2>"] + [f"<p>{_e(line)}</p>" for line in fair_predictor_lines(fair, mirror)]
        parts += [f"<div class='warn'>{_e(note)}</div>" for note in fair_predictor_notes(fair, mirror)]
    priv = metrics.get("privacy") or {}
    if priv:
        parts += ["<h2>Privacy</h2>", f"<p>{_e(privacy_verdict(priv))}</p>", _kv(privacy_rows(priv), ("measure", "value"))]
        parts += [f"<p class='note'>{_e(note)}</p>" for note in priv.get("notes") or []]
    if graph is not None:
        parts += ["<h2>Causal graph</h2>", _table([{"from": a, "to": b} for a, b in graph.edges])]
    parts += ["<h2>Settings</h2>", _kv(settings_rows(result.settings.to_dict())),
              "<h2>Timings</h2>", _kv(((k.removesuffix("_s").replace("_", " "), f"{v:.1f} s")
                                       for k, v in result.timings.items()), ("step", "time"))]
    if result.warnings:
        parts += ["<h2>Warnings</h2>"] + [f"<div class='warn'>{_e(w)}</div>" for w in result.warnings]
    parts.append("</body></html>")
    return "\n".join(parts)
