"""The sweep in a real browser: Debian Chromium driven by Playwright against `streamlit run`.

A Bayes-net run on the demo is saved into the workspace first (a real, small run); then, on
the compare page: a pathway the graph has no path for is refused in one line, a sweep is
started and cancelled, started again and followed to its curve (real data and chosen point
marked), the three sentences, and the downloaded one-page summary. Screenshots in
test-artifacts/sweep.png and sweep_curve.png.
"""

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.streamlit_server import CHROMIUM, AppServer, keep_shot, page_idle
from tests.test_browser import page  # noqa: F401 - the same Chromium page, on this module's server

ARTIFACTS = ROOT / "test-artifacts"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="/usr/bin/chromium is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory, bayes_run, demo_graph, demo_roles):
    """streamlit run app.py on a free loopback port, its workspace holding one saved Bayes-net run."""
    from tests.conftest import DEMO
    from faircause_core.workflow import workspace

    base = tmp_path_factory.mktemp("browser_sweep")
    ws = base / "ws"
    data_id = workspace.save_data(DEMO.read_bytes(), "nhefs_cohort.csv", root=ws)
    run_id = workspace.save_run(bayes_run, graph=demo_graph, roles=demo_roles, data_id=data_id, root=ws)
    app = AppServer(base)
    if not app.wait_healthy():
        app.stop()
        pytest.fail("streamlit did not start: " + app.log_tail())
    yield app.url, run_id
    app.stop()


def sweep_tab(page):
    page.get_by_role("tab", name="Sweep a pathway").click()
    page.get_by_text("Rows per point").wait_for()


def choose_pathway(page, label):
    page.get_by_role("tab", name="Sweep a pathway").click()
    box = page.locator("div[data-testid='stSelectbox']").filter(has_text="Pathway")
    box.click()
    page.get_by_role("option", name=label).click()


def fill(page, label, value):
    field = page.get_by_label(label)
    field.fill(value)
    field.press("Enter")
    page_idle(page)  # the rerun that takes the value has ended


def test_sweep_in_the_browser(server, page):
    url, run_id = server
    page.goto(f"{url}/compare")
    page.get_by_text(re.compile("Run " + run_id)).first.wait_for(timeout=120_000)
    sweep_tab(page)

    # a pathway the demo graph has no path for (sex has no parents): one line, nothing started
    choose_pathway(page, "SE: spurious (confounded)")
    page.get_by_role("button", name="Run the sweep").click()
    err = page.locator("div[data-testid='stAlert']:visible").filter(has_text="no spurious effect to remove")
    err.first.wait_for()
    assert err.count() == 1 and "\n" not in err.first.inner_text().strip()

    # start, then cancel
    choose_pathway(page, "DE: direct")
    fill(page, "Rows per point", "300")
    page.get_by_role("button", name="Run the sweep").click()
    page.get_by_role("button", name="Cancel the sweep").click(timeout=60_000)
    page.get_by_text("The sweep was cancelled; nothing was kept.").wait_for(timeout=120_000)

    # three points, followed to the end
    fill(page, "Dial values (share removed, 0 to 1)", "0,0.5,1")
    page.get_by_role("button", name="Run the sweep").click()
    page.locator("div[data-testid='stProgress']").first.wait_for(timeout=60_000)
    page.get_by_text(re.compile("^Sweep finished in")).wait_for(timeout=480_000)
    chart = page.locator(".js-plotly-plot").filter(has_text="dial: share of the pathway removed")
    chart.first.wait_for(timeout=60_000)
    legend = chart.first.inner_text()
    assert "real data" in legend and "chosen (dial 1)" in legend and "bias reduction" in legend
    for start in ("Removed:", "Cost:", "How sure:"):
        said = page.locator("[data-testid='stMarkdownContainer'] li:visible").filter(has_text=re.compile("^" + start))
        assert said.count() == 1, start
    page_idle(page)
    chart.first.scroll_into_view_if_needed()
    keep_shot(page, ARTIFACTS / "sweep.png")
    keep_shot(chart.first, ARTIFACTS / "sweep_curve.png")

    # the one-page summary, downloaded and read
    page.get_by_role("button", name="Build the one-page summary").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Stakeholder summary (HTML)").click(timeout=120_000)
    html = Path(info.value.path()).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in html and "<script src" not in html
    assert html.count("<li>") == 3 and "nhefs_cohort.csv" in html
