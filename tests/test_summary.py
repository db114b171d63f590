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
    assert "AUROC trained on real" in names and "chosen (dial 0.5)" in names
    assert f"real data, all {sweep['real_all_rows']['rows']:,} rows" in names  # the real data: every row
    assert f"generator's target: fitting split, {sweep['real']['rows']:,} rows" in names
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


def test_the_summary_calls_all_rows_the_real_data_and_the_fitting_split_the_generators_target(
        sweep, demo_table, demo_roles):
    """Issue 19 item 4: the sweep's summary names one real answer, all rows, with its row count;
    the fitting split is the generator's target, with its rows; both with intervals that hold
    their estimates, both pipeline.audit's numbers on those rows; one line says why they differ."""
    import html

    from faircause_core.present.explain import interval_text, signed
    from faircause_core.workflow.pipeline import audit, split_holdout

    fit, _ = split_holdout(demo_table, sweep["settings"]["holdout"], sweep["settings"]["seed"])
    everything = audit(demo_table, demo_roles, method="dr", seed=0).to_frame().loc["ctf_de"] * 100
    fitting = audit(fit, demo_roles, method="dr", seed=sweep["settings"]["seed"]).to_frame().loc["ctf_de"] * 100
    assert sweep["real_all_rows"]["rows"] == 1629 and sweep["real"]["rows"] == len(fit.df) == 1140
    for stored, audited in ((sweep["real_all_rows"]["effects"]["ctf_de"], everything),
                            (sweep["real"]["effects"]["ctf_de"], fitting)):
        assert [stored[k] * 100 for k in ("estimate", "ci_low", "ci_high")] == pytest.approx(
            [audited[k] for k in ("estimate", "ci_low", "ci_high")], abs=1e-9)

    def said(f) -> str:
        return f"{signed(f['estimate'])} percentage points (95% CI {interval_text(f['ci_low'], f['ci_high'])})"

    removed = summary_sentences(sweep, 1.0)[0]
    assert f"{said(everything)} in the real data (all 1,629 rows)" in removed
    assert f"{said(fitting)} in the generator's target (the fitting split of 1,140 rows)" in removed
    assert removed.index("in the real data") < removed.index("generator's target")

    page = build_summary(sweep, 1.0, data_name="nhefs_cohort.csv")
    cells = dict(re.findall(r"<tr class=''><td>([^<]*)</td><td>([^<]*)</td>", page))
    cells = {html.unescape(k): v for k, v in cells.items()}
    for name, audited in (("real data, all 1,629 rows", everything),
                          ("generator's target: fitting split, 1,140 rows", fitting)):
        est, lo, hi = (float(v) for v in re.fullmatch(r"([+\-][\d.]+) \[([+\-][\d.]+), ([+\-][\d.]+)\]",
                                                      cells[name]).groups())
        assert lo <= est <= hi
        assert (est, lo, hi) == pytest.approx((audited["estimate"], audited["ci_low"], audited["ci_high"]), abs=0.051)
    assert list(cells)[:2] == ["real data, all 1,629 rows", "generator's target: fitting split, 1,140 rows"]
    why = re.findall(r"<p class='why'>([^<]*)</p>", page)
    assert len(why) == 1 and "70% of the real rows" in why[0] and "30% are held out" in why[0]
