"""Issue 19 items 1-3 at the engine: one sign convention, one tolerance rule, and every number
shown with an interval inside it.

1. Every figure, table, sentence, HTML report and summary that shows an effect shows the
   Decomposition's own number (TV = Ctf-DE - Ctf-IE - Ctf-SE; Ctf-IE and Ctf-SE never negated):
   checked against the Decomposition of a real refined run (CLI `generate --report`) and of
   a real sweep (CLI `sweep --json --summary`), including the figures embedded in the HTML.
2. The words "converged"/"within tolerance" and the bands the refinement chart draws come from
   one rule (`workflow.refine.acceptance_band` behind `within_tolerance`): a point outside its
   band is never "within", on hand-made round logs and on a real loop that does not converge.
3. low <= estimate <= high for every X with X_ci_low/X_ci_high (or X_ci), every object with
   estimate/ci_low/ci_high and every round's measurement in the report JSON and the sweep
   JSON, and for every "x (95% CI a to b)" and "x [a, b]" in the summary and the report.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from tests.clirun import run_cli
from tests.conftest import DEMO, ROOT

DAG = ROOT / "assets" / "nhefs_dag.json"
QUESTION = ["--data", str(DEMO), "--dag", str(DAG), "--sensitive", "sex", "--x0", "Male", "--x1", "Female",
            "--outcome", "death", "--generator", "bayesnet"]


def cli(*args):
    """The command in this process (tests/clirun.py; each command's subprocess smoke test is in test_cli.py)."""
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """`generate --report` with two partial edits (steered, so the loop runs): (stdout, report
    JSON, RunResult rebuilt from it, roles)."""
    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.workflow.pipeline import RunResult

    base = tmp_path_factory.mktemp("signs")
    proc = cli("generate", *QUESTION, "--rows", "400", "--alpha", "DE=0.5,IE=0.5", "--rounds", "2",
               "--out", base / "s.csv", "--report", base / "report.json")
    report = json.loads((base / "report.json").read_text())
    result = RunResult.from_dict(report, pd.read_csv(base / "s.csv"))
    roles = derive_roles(CausalGraph.from_json(DAG.read_text()), "sex", "death", x0="Male", x1="Female")
    return proc.stdout, report, result, roles


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """`sweep --json --summary` of the direct pathway at 0, 0.75 and 1: (sweep JSON, summary HTML)."""
    base = tmp_path_factory.mktemp("sweep")
    cli("sweep", *QUESTION, "--pathway", "DE", "--points", "0,0.75,1", "--rows", "300", "--measure-rows", "3000",
        "--json", base / "sweep.json", "--summary", base / "summary.html", "--chosen", "0.75")
    return json.loads((base / "sweep.json").read_text()), (base / "summary.html").read_text()


# ----------------------------------------------------------------------------- helpers

def _decode(obj):
    """Plotly's JSON with its typed arrays ({"dtype", "bdata"}) turned back into lists."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            return np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"])).tolist()
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def embedded_figures(page: str) -> list[dict]:
    """Every figure of a self-contained HTML page, as {"data": [...], "layout": {...}}."""
    figs, dec = [], json.JSONDecoder()
    for m in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', page):
        data, end = dec.raw_decode(page, m.end())
        layout, _ = dec.raw_decode(page, page.index("{", end))
        figs.append({"data": _decode(data), "layout": _decode(layout)})
    return figs


def pp(v: float) -> float:
    return float(v) * 100


def first_claim(sentence: str) -> float:
    """The first signed size a sentence states: '3.0 percentage points lower' -> -3.0."""
    size, way = re.search(r"(\d+\.\d+) percentage points (higher|lower)", sentence).groups()
    return float(size) * (1 if way == "higher" else -1)


def intervals_in_json(obj, path="$"):
    """(path, low, estimate, high) for every number carried with an interval in a JSON tree."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                lo, hi = obj.get(f"{k}_ci_low"), obj.get(f"{k}_ci_high")
                pair = obj.get(f"{k}_ci")
                if lo is None and isinstance(pair, list) and len(pair) == 2:
                    lo, hi = pair
                if lo is not None and hi is not None:
                    out.append((f"{path}.{k}", lo, v, hi))
        if all(obj.get(k) is not None for k in ("estimate", "ci_low", "ci_high")):
            out.append((path, obj["ci_low"], obj["estimate"], obj["ci_high"]))
        if isinstance(obj.get("measured"), dict) and isinstance(obj.get("intervals"), dict):  # a round's log
            for e, v in obj["measured"].items():
                if v is not None and obj["intervals"].get(e) and None not in obj["intervals"][e]:
                    out.append((f"{path}.measured.{e}", obj["intervals"][e][0], v, obj["intervals"][e][1]))
        for k, v in obj.items():
            out += intervals_in_json(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += intervals_in_json(v, f"{path}[{i}]")
    return out


NUM = r"[+\-]?\d+(?:\.\d+)?"


def intervals_in_text(text: str) -> list[tuple]:
    """(what, low, estimate, high) for "x pp (95% CI a to b)", "x points higher/lower [for ...
    than for ...] (95% CI a to b)" (lower: -x), "x% (95% CI a% to b%)" and "x [a, b]" in plain
    text (one unit for the three, as every caller writes them)."""
    text = text.replace("\u2212", "-")
    found = []
    said = (rf"({NUM})%?(?: pp| percentage points)?(?: (higher|lower))?(?: for them| for [^()]*? than for [^()]*?)?"
            rf" \(95% CI ({NUM})%? to ({NUM})%?\)")
    for m in re.finditer(said, text):
        est, way, lo, hi = m.groups()
        found.append((m.group(0), float(lo), float(est) * (-1 if way == "lower" else 1), float(hi)))
    for m in re.finditer(rf"({NUM})%? \[({NUM})%?, ({NUM})%?\]", text):
        est, lo, hi = (float(g) for g in m.groups())
        found.append((m.group(0), lo, est, hi))
    return found


def visible_text(page: str) -> str:
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


# ------------------------------------------------------------- item 3: the invariant

def test_every_estimate_in_the_report_json_lies_inside_its_interval(generated):
    _, report, _, _ = generated
    checked = intervals_in_json(report)
    assert len(checked) >= 15  # every round's measurements, the fair predictor's and privacy's numbers
    bad = [c for c in checked if not (c[1] - 1e-12 <= c[2] <= c[3] + 1e-12)]
    assert not bad, bad
    fair = report["metrics"]["fair_predictor"]
    assert any(p.endswith("magnitude_reduction") for p, *_ in checked), "the fair predictor was checked"
    assert fair["magnitude_reduction_ci_low"] <= fair["magnitude_reduction"] <= fair["magnitude_reduction_ci_high"]


def test_every_estimate_in_the_sweep_json_lies_inside_its_interval(swept):
    sweep, _ = swept
    checked = intervals_in_json(sweep)
    assert any(".reduction" in p for p, *_ in checked) or all(
        (pt.get("fair_predictor") or {}).get("reduction") is None for pt in sweep["points"])
    assert any(p.endswith("auroc_tstr") for p, *_ in checked)
    bad = [c for c in checked if not (c[1] - 1e-12 <= c[2] <= c[3] + 1e-12)]
    assert not bad, bad


def test_every_number_shown_with_an_interval_in_the_summary_and_report_lies_inside_it(swept, generated):
    from faircause_core.present.report import build_report
    from faircause_core.present.summary import summary_sentences

    sweep, page = swept
    texts = [visible_text(page)] + summary_sentences(sweep, 0.75)
    _, _, result, roles = generated
    texts.append(visible_text(build_report(result, roles)))
    found = [t for text in texts for t in intervals_in_text(text)]
    assert len(found) >= 15, found
    bad = [f for f in found if not (f[1] <= f[2] <= f[3])]
    assert not bad, bad


def test_the_ratio_estimate_is_the_median_of_the_draws_it_is_an_interval_of():
    """The fair predictor's reduction and |real| - |synthetic| go through |.|, which biases a
    noisy effect near 0 away from 0: the plug-in 1 - |s|/|r| can fall outside the percentile
    interval (a summary read "92% [55%, 80%]"). Both are the medians of their draws."""
    from faircause_core.metrics.utility import _reduction

    rng = np.random.default_rng(0)
    real = 0.05 + 0.005 * rng.standard_normal(400)
    synth = 0.015 + 0.004 * rng.standard_normal(400)  # draws whose |.| sits above the point estimate
    out = _reduction(0.05, (0.04, 0.06), 0.004, real, synth)
    plug_in = 1 - 0.004 / 0.05  # 92%, against an interval of about [55%, 85%]: the reported shape
    assert not (out["reduction_ci_low"] <= plug_in <= out["reduction_ci_high"])
    assert out["reduction_ci_low"] <= out["reduction"] <= out["reduction_ci_high"]
    assert out["reduction"] == pytest.approx(np.median(1 - np.abs(synth) / np.abs(real)))
    assert out["magnitude_reduction_ci_low"] <= out["magnitude_reduction"] <= out["magnitude_reduction_ci_high"]


# ------------------------------------------------------ item 1: one sign convention

def test_figures_tables_sentences_and_the_html_report_show_the_decompositions_numbers(generated):
    from faircause_core.causal.effects import EFFECTS
    from faircause_core.present import plots
    from faircause_core.present.explain import (EFFECT_WORDS, SYMBOLS, effect_sources, explain_roles, signed,
                                               summary_line)
    from faircause_core.present.report import build_report

    stdout, report, result, roles = generated
    dec = result.decompositions()
    real, synth = dec["real"], dec["synthetic"]
    assert real["ctf_de"] - real["ctf_ie"] - real["ctf_se"] == pytest.approx(real["tv"], abs=1e-9)

    # The effects chart (audit, compare, report): each source's bars are its own numbers.
    fig = plots.effects_bar(dec)
    for trace in fig.data:
        want = [pp(dec[trace.name][e]) for e in EFFECTS if e in dec[trace.name].estimates]
        np.testing.assert_allclose(list(trace.y), want, err_msg=trace.name)
        assert list(trace.x) == [EFFECT_WORDS[e] for e in EFFECTS if e in dec[trace.name].estimates]

    # The refinement chart: measured points and dashed targets, targets = (1 - alpha) x real.
    rounds = plots.rounds_plot(result.rounds, dec["target"])
    for e in ("ctf_de", "ctf_ie", "ctf_se"):
        measured = next(t for t in rounds.data if t.name == EFFECT_WORDS[e])
        np.testing.assert_allclose(list(measured.y), [pp(r["measured"][e]) for r in result.rounds])
        target = next(t for t in rounds.data if t.name == f"target: {EFFECT_WORDS[e]}")
        alpha = result.rounds[0]["alphas"][e.split("_")[1]]
        assert target.y[0] == pytest.approx(pp((1 - alpha) * real[e])) == pytest.approx(pp(dec["target"][e]))
    ie_target = pp(dec["target"]["ctf_ie"])
    assert np.sign(ie_target) == np.sign(real["ctf_ie"])  # the issue: the chart and the bars disagreed

    # Sentences: the first number each states is the decomposition's, with its sign.
    for e, text in explain_roles(real, roles).items():
        if "no mediators" in text or "no confounders" in text:
            continue
        assert first_claim(text) == pytest.approx(pp(real[e]), abs=0.051), (e, text)
    assert summary_line(real, synth) == f"Direct: real {signed(pp(real['ctf_de']))} pp, synthetic " \
                                        f"{signed(pp(synth['ctf_de']))} pp"

    # The HTML report: its table, its sentences and the figures embedded in it.
    page = build_report(result, roles)
    sources = effect_sources(result)  # real data (all rows), fitting split, synthetic, target: the columns in order
    assert sources[next(k for k in sources if k.startswith("generator's target"))] == real
    for e in EFFECTS:
        label = html.escape(f"{EFFECT_WORDS[e]} ({SYMBOLS[e]})")
        row = re.search(f"<td>{re.escape(label)}</td>" + "<td>([^<]*)</td>" * len(sources), page)
        assert row, e
        for cell, (name, source) in zip(row.groups(), sources.items()):
            if e in source.estimates:
                assert cell.startswith(signed(pp(source[e]), 2)), (e, name, cell)
    figs = embedded_figures(page)
    sources = effect_sources(result)  # what the report's chart and table show, by the names they show
    bars = next(f for f in figs if any(t.get("name", "").startswith("real data") and t.get("type") == "bar"
                                       for t in f["data"]))
    assert [t["name"] for t in bars["data"]] == list(sources)
    for t in bars["data"]:
        src = sources[t["name"]]
        np.testing.assert_allclose(t["y"], [pp(src[e]) for e in EFFECTS if e in src.estimates])
    chart = next(f for f in figs if any(t.get("name") == EFFECT_WORDS["ctf_ie"] for t in f["data"]))
    ie = next(t for t in chart["data"] if t.get("name") == EFFECT_WORDS["ctf_ie"])
    np.testing.assert_allclose(ie["y"], [pp(r["measured"]["ctf_ie"]) for r in result.rounds])
    ie_goal = next(t for t in chart["data"] if t.get("name") == f"target: {EFFECT_WORDS['ctf_ie']}")
    assert ie_goal["y"][0] == pytest.approx(ie_target)

    # The CLI's printed tables and rounds: the same numbers as the report JSON.
    for e, v in report["real_effects"]["estimates"].items():
        if e in ("ctf_ie", "ctf_se"):
            assert f"{v:+.4f}" in stdout
    for r in report["rounds"]:
        assert f"ctf_ie={r['measured']['ctf_ie']:+.4f}" in stdout and f"(target {r['targets']['ctf_ie']:+.4f}" in stdout


def test_the_sweep_chart_table_and_summary_show_the_decompositions_numbers(swept):
    from faircause_core.present import plots
    from faircause_core.present.explain import signed
    from faircause_core.present.summary import summary_sentences

    sweep, page = swept
    effect = sweep["effect"]
    fig = plots.sweep_curve(sweep, 0.75)
    curve = next(t for t in fig.data if t.name == "synthetic: effect")
    np.testing.assert_allclose(list(curve.y), [pp(p["effects"][effect]["estimate"]) for p in sweep["points"]])
    real = next(t for t in fig.data if t.name.startswith("generator's target: fitting split"))
    assert real.y[0] == pytest.approx(pp(sweep["real"]["effects"][effect]["estimate"]))
    everything = next(t for t in fig.data if t.name.startswith("real data, all"))
    assert everything.y[0] == pytest.approx(pp(sweep["real_all_rows"]["effects"][effect]["estimate"]))
    assert fig.layout.yaxis2.title.text  # the middle panel has an axis title
    embedded = embedded_figures(page)[0]
    line = next(t for t in embedded["data"] if t.get("name") == "synthetic: effect")
    np.testing.assert_allclose(line["y"], list(curve.y))
    removed = summary_sentences(sweep, 0.75)[0]
    for v in (sweep["real_all_rows"]["effects"][effect], sweep["real"]["effects"][effect],
              sweep["points"][1]["effects"][effect]):
        assert f"{signed(pp(v['estimate']))} percentage points" in removed
    text = visible_text(page)
    for p in sweep["points"]:
        e = p["effects"][effect]
        assert f"{signed(pp(e['estimate']))} [" in text


# ------------------------------------------------------- item 2: one tolerance rule

def _round(k, measured, se, target, tol):
    from faircause_core.causal.effects import Z95
    from faircause_core.workflow.refine import within_tolerance

    return {"round": k, "alphas": {"de": 0.5, "ie": 0.0, "se": 0.0}, "measured": {"ctf_de": measured},
            "intervals": {"ctf_de": [measured - Z95 * se, measured + Z95 * se]}, "targets": {"ctf_de": target},
            "tolerances": {"ctf_de": tol}, "errors": {"ctf_de": measured - target},
            "within": {"ctf_de": within_tolerance(measured, se, target, tol)},
            "decomposition": {"ses": {"ctf_de": se}}}


def _band_of(fig, k: int) -> tuple[float, float]:
    rect = next(s for s in fig.layout.shapes if s.type == "rect" and abs((s.x0 + s.x1) / 2 - k) < 1e-9)
    return rect.y0, rect.y1


@pytest.mark.parametrize("measured, se", [
    (0.073, 0.02),   # the demo's case: 7.3 against 11.1 with a wide interval: within, so drawn inside
    (0.073, 0.005),  # the same miss, measured precisely: outside its band, not within
    (0.104, 0.0),    # within the bare tolerance
    (0.124, 0.0),    # just outside it
])
def test_a_point_is_inside_its_drawn_band_exactly_when_it_is_within_tolerance(measured, se):
    from faircause_core.present import plots

    r = _round(1, measured, se, 0.111, 0.0111)
    fig = plots.rounds_plot([r])
    lo, hi = _band_of(fig, 1)
    assert (lo <= pp(measured) <= hi) == r["within"]["ctf_de"]
    point = next(t for t in fig.data if t.name == "Direct")
    assert list(point.marker.symbol) == ["circle" if r["within"]["ctf_de"] else "circle-open"]


def test_converged_words_and_bands_agree_on_a_real_loop_that_does_not_converge(demo_table, demo_graph, demo_roles):
    """A tolerance of 0.1 points cannot be met on 3,000 measured rows: no "converged", no
    "within tolerance" in the words, and in every round some point lies outside its band; the
    words name the effect furthest outside, with its band."""
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.generators.bayesnet import BayesNetGenerator
    from faircause_core.present import plots
    from faircause_core.present.report import rounds_verdict
    from faircause_core.workflow.pipeline import audit
    from faircause_core.workflow.refine import refine, round_bands

    real = audit(demo_table, demo_roles, method="dr", seed=0)
    gen = BayesNetGenerator()
    gen.fit(demo_table, demo_graph, demo_roles)
    res = refine(gen, 200, FairnessSpec(de=0.5), demo_roles, real, max_rounds=2, abs_tol=0.001, rel_tol=0.0,
                 n_measure=3000, frozen={"se": "no parents"})
    fig = plots.rounds_plot(res.rounds)
    for r in res.rounds:
        bands = round_bands(r)
        for e, ok in r["within"].items():
            lo, hi = bands[e]
            assert (lo <= r["measured"][e] <= hi) == ok, (r["round"], e)
        for e in ("ctf_de", "ctf_ie", "ctf_se"):
            y0, y1 = _shape_band(fig, r["round"], e)
            assert (y0 <= pp(r["measured"][e]) <= y1) == r["within"][e]
    assert res.converged == all(res.rounds[-1]["within"].values())
    said = rounds_verdict(res)
    if not res.converged:
        assert "converged in" not in said and "every effect" not in said and said.startswith("Within tolerance: no")
        assert "outside the band it must fall in" in said
    else:  # the noise-aware rule can hold even so: then every point of the last round is inside
        assert said.startswith("Within tolerance: yes")


def _shape_band(fig, k: int, effect: str) -> tuple[float, float]:
    """The band drawn for round k in the panel of `effect` (panels in DE, IE, SE order)."""
    axis = {"ctf_de": "x", "ctf_ie": "x2", "ctf_se": "x3"}[effect]
    rect = next(s for s in fig.layout.shapes if s.type == "rect" and s.xref == axis
                and abs((s.x0 + s.x1) / 2 - k) < 1e-9)
    return rect.y0, rect.y1


def test_the_reports_words_follow_the_rounds_bands(generated):
    from faircause_core.present import plots
    from faircause_core.present.report import build_report, rounds_verdict

    _, _, result, roles = generated
    fig = plots.rounds_plot(result.rounds)
    last = result.rounds[-1]
    inside = all(_shape_band(fig, last["round"], e)[0] <= pp(last["measured"][e]) <= _shape_band(fig, last["round"], e)[1]
                 for e in ("ctf_de", "ctf_ie", "ctf_se"))
    assert result.converged == inside
    page = build_report(result, roles)
    assert html.escape(rounds_verdict(result)) in page and "Converged: yes" not in page
    assert ("Within tolerance: yes" in page) == inside
