"""The stakeholder summary of a sweep: self-contained, three plain sentences, data text escaped;
the sweep curve marks the real and the chosen points; runs get unique labels."""

import copy
import re

import pytest

from faircause_core.errors import InputError
from faircause_core.present.plots import run_labels, sweep_curve
from faircause_core.present.summary import build_summary, summary_sentences
from faircause_core.workflow.sweep import run_sweep


@pytest.fixture(scope="module")
def sweep(demo_table, demo_graph, demo_roles):
    return run_sweep(demo_table, demo_graph, demo_roles, "DE", (0, 0.5, 1), generator="bayesnet", rows=300,
                     measure_rows=3000, repeats=2).to_dict()


def test_three_sentences_with_the_numbers_and_their_intervals(sweep):
    removed, cost, sure = summary_sentences(sweep, 1.0)
    real = sweep["real"]["effects"]["ctf_de"]
    last = sweep["points"][-1]
    assert removed.startswith("Removed:") and "100% of the direct pathway from sex to death" in removed
    assert f"{real['estimate'] * 100:+.1f} percentage points (95% CI {real['ci_low'] * 100:+.1f}" in removed
    assert cost.startswith("Cost:") and f"{last['quality']:.3f}" in cost and f"{last['auroc_tstr']:.3f}" in cost
    assert f"{sweep['real']['auroc_trtr']:.3f}" in cost
    assert sure.startswith("How sure:") and "95%" in sure and "no interval" in sure
    with pytest.raises(InputError, match="no point at dial 0.3"):
        summary_sentences(sweep, 0.3)


def test_summary_page_is_self_contained_and_escapes_data_text(sweep):
    evil = copy.deepcopy(sweep)
    evil["settings"].update(x="<script>alert(1)</script>", x1_name="<b>F</b>", x0_name="<u>M</u>", generator="<i>g</i>")
    page = build_summary(evil, 0.5, data_name="<img src=x onerror=alert(2)>.csv")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]+src=", page) and "<link" not in page and "Plotly.newPlot" in page
    for raw in ("<script>alert(1)</script>", "<b>F</b>", "<u>M</u>", "<img src=x", "<i>g</i>"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;F&lt;/b&gt;" in page
    assert page.count("<li>") == 3 and "<tr class='chosen'>" in page


def test_sweep_curve_marks_real_and_chosen_points(sweep):
    fig = sweep_curve(sweep, chosen=0.5)
    names = [t.name for t in fig.data]
    assert "real data" in names and "AUROC trained on real" in names and "chosen (dial 0.5)" in names
    curve = next(t for t in fig.data if t.name == "synthetic: effect")
    assert list(curve.x) == [0.0, 0.5, 1.0]
    assert curve.y[0] == pytest.approx(sweep["points"][0]["effects"]["ctf_de"]["estimate"] * 100)
    assert curve.error_y.array is not None and len(curve.error_y.array) == 3
    ticks = list(fig.layout.xaxis3.ticktext)
    assert ticks[0].startswith("real") and "as real" in ticks[1] and "removed" in ticks[-1]


def test_run_labels_are_settings_and_unique():
    runs = [{"run_id": "20260101-120000-aaaaaa", "generator": "bayesnet", "rows": 300, "seed": 0,
             "fairness": {"de": 1.0, "ie": 0, "se": 0}, "created": 1_700_000_000},
            {"run_id": "20260101-120001-bbbbbb", "generator": "bayesnet", "rows": 300, "seed": 0,
             "fairness": {"de": 1.0, "ie": 0, "se": 0}, "created": 1_700_000_100},
            {"run_id": "20260101-120002-cccccc", "generator": "bayesnet", "rows": 300, "seed": 0,
             "fairness": {"de": 1.0, "ie": 0, "se": 0}, "created": 1_700_000_100},
            {"run_id": "20260101-120003-dddddd", "generator": "llm", "rows": 1629, "seed": 1,
             "fairness": {"de": 0.5, "ie": 0, "se": 0}, "created": 1_700_000_200}]
    labels = run_labels(runs)
    assert len(set(labels.values())) == 4
    assert labels["20260101-120003-dddddd"] == "llm · removed DE 50% · 1,629 rows · seed 1"
    assert labels["20260101-120000-aaaaaa"].startswith("bayesnet · removed DE 100% · 300 rows · seed 0 · ")
    assert labels["20260101-120002-cccccc"].endswith("cccccc")
