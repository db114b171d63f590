"""The HTML report is self-contained (inline plotly.js, no CDN) and escapes data text."""

import html
import re

from faircause_core.causal.graph import CausalGraph, Roles
from faircause_core.present.report import build_report


def test_report_is_self_contained_with_numbers(bayes_run, demo_graph, demo_roles):
    page = build_report(bayes_run, demo_roles, graph=demo_graph, data_name="nhefs_cohort.csv")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]+src=", page) and "<link" not in page  # nothing fetched
    assert page.count("Plotly.newPlot") >= 3
    assert len(page) > 1_000_000  # plotly.js itself is inline
    de = bayes_run.synthetic_effects["estimates"]["ctf_de"] * 100
    assert f"{de:+.2f}" in page
    assert "Through the direct path alone" in page and "nhefs_cohort.csv" in page
    for a, b in demo_graph.edges[:3]:
        assert f"<td>{a}</td><td>{b}</td>" in page


def test_data_text_is_escaped(bayes_run):
    evil = "<script>alert(1)</script>"
    roles = Roles(x=evil, y="death", z=("age",), w=(), other=(), x0="Male", x1="<b>F</b>")
    page = build_report(bayes_run, roles, graph=CausalGraph([evil, "death"], [(evil, "death")]), data_name=evil)
    assert evil not in page and "<b>F</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_table_uses_the_charts_sign_and_shows_fair_predictor_warnings(bayes_run, demo_roles):
    from faircause_core.present.explain import CONTRIBUTION_LABELS, SIGN_NOTE, contributions

    page = build_report(bayes_run, demo_roles)
    ie = contributions(bayes_run.decompositions()["real"]).loc["ctf_ie", "estimate"] * 100
    row = re.search(f"<td>{re.escape(html.escape(CONTRIBUTION_LABELS['ctf_ie']))}</td><td>([^<]+)</td>", page)
    assert row and row.group(1).startswith(f"{ie:+.2f}")
    assert "indirect and spurious effects are shown as" in page and SIGN_NOTE[:40] in page
    fair = bayes_run.metrics["fair_predictor"]
    assert "direct effect of X on the predictions of a model trained on real rows" in page
    for note in fair["notes"]:
        assert f"<div class='warn'>{html.escape(note)}</div>" in page
