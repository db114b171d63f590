"""The real app in a real browser: Debian Chromium driven by Playwright against `streamlit run`.

Upload the demo CSV, discover a graph, add an edge by dragging handle to handle and delete
one through the editor, generate with the Bayesian network and with a tiny language model,
look at the compare page and download the CSV. Then import a graph without X -> Y: the graph
check's contradiction appears and its one-click fix adds the edge. Screenshots go to
test-artifacts/.
"""

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import DEMO, ROOT

from tests.streamlit_server import (
    CHROMIUM, EDITOR, LAUNCH_ARGS, PAINTED, AppServer, drag_edge, editor_settled, go_to_step, keep_shot, page_idle,
    wait_for,
)

ARTIFACTS = ROOT / "test-artifacts"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="/usr/bin/chromium is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """streamlit run app.py on a free loopback port, with a temp workspace and a tiny model."""
    from faircause_core.generators.lm.store import tiny_model

    base = tmp_path_factory.mktemp("browser")
    model = tiny_model(path=base / "tiny-model", seed=0)
    app = AppServer(base, FAIRCAUSE_MODEL_DIR=str(model))
    if not app.wait_healthy():
        app.stop()
        pytest.fail("streamlit did not start: " + app.log_tail())
    yield app.url, app.workspace
    app.stop()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        yield pg
        context.close()
        browser.close()


def shot(page, name):
    """A screenshot for test-artifacts/ (nothing asserted on it) once the page has stopped
    loading and painted twice: a condition, not the fixed 2.5 s it waited before."""
    page.wait_for_load_state("networkidle")
    page.evaluate(PAINTED)
    keep_shot(page, ARTIFACTS / f"{name}.png")


def go(page, title):
    go_to_step(page, title)  # clicks again when Streamlit drops the click in a rerun
    page.wait_for_load_state("networkidle")


def session(ws: Path) -> dict:
    return json.loads((ws / "session.json").read_text())


def flow(page):
    """The DAG editor frame: the visible one (a replaced editor lingers, hidden, for a moment),
    scrolled wholly into the window, so mouse moves at its nodes' and edges' coordinates land."""
    editor_settled(page)
    page.locator(f"{EDITOR}:visible").scroll_into_view_if_needed()
    editor_settled(page)  # scrolling can move the frame's contents too
    return page.frame_locator(f"{EDITOR}:visible")


# For each edge, the first point along its path (middle first) where the edge itself is on top:
# with the backbone, many edges share a stretch, and a click there lands on whichever is drawn last.
HITTABLE_EDGES = """() => {
  const out = {};
  for (const g of document.querySelectorAll('.react-flow__edge')) {
    const p = g.querySelector('.react-flow__edge-interaction');
    if (!p) continue;
    for (const f of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
      const m = p.getPointAtLength(p.getTotalLength() * f).matrixTransform(p.getScreenCTM());
      const hit = document.elementFromPoint(m.x, m.y);
      if (hit && hit.closest('.react-flow__edge') === g) { out[g.getAttribute('data-testid')] = [m.x, m.y]; break; }
    }
  }
  return out;
}"""


def settled_edges(page, timeout: float = 60.0) -> dict:
    """hittable_edges once two reads half a second apart agree (the editor has stopped moving)."""
    last: dict = {}

    def same():
        nonlocal last
        now = hittable_edges(page)
        stable, last = bool(now) and now == last, now
        return stable

    wait_for(same, timeout=timeout, what="the graph editor to stop moving", every=0.5)
    return last


def hittable_edges(page) -> dict:
    """{(source, target): page coordinates} of the edges a click can reach on their own."""
    frame_box = page.locator(f"{EDITOR}:visible").bounding_box()
    found = page.frame_locator(f"{EDITOR}:visible").locator("body").evaluate(HITTABLE_EDGES)
    return {tuple(k.removeprefix("rf__edge-").split("->", 1)): (frame_box["x"] + x, frame_box["y"] + y)
            for k, (x, y) in found.items()}


def generate(page, ws, generator_label, rows):
    """Start a run from the page and wait until the workspace holds it."""
    runs = ws / "runs"
    before = len(list(runs.glob("*/run.json")))
    page.get_by_text(generator_label).click()
    box = page.get_by_label("Rows to generate")
    box.fill(str(rows))
    box.press("Enter")
    page_idle(page)  # the rerun that takes the new row count has ended
    page.get_by_role("button", name="Generate", exact=True).click()
    wait_for(lambda: len(list(runs.glob("*/run.json"))) > before, timeout=480, what=f"{generator_label} run")
    page.get_by_text(re.compile("Finished in .* saved as run")).wait_for(timeout=60_000)


def test_full_workflow_in_chromium(server, page):
    try:
        workflow(server, page)
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
        raise


def workflow(server, page):
    url, ws = server
    page.goto(url)
    page.get_by_text("No data yet").wait_for()
    shot(page, "0_start")

    # 1 upload the demo CSV through the file input
    page.locator("input[type=file]").first.set_input_files(str(DEMO))
    page.get_by_text(re.compile(r"1,629 rows, 15 columns")).wait_for()
    shot(page, "1_data")

    # 2 sensitive attribute sex (Male baseline), outcome death, discover
    go(page, "Causal graph")
    page.get_by_text("Sensitive attribute (X)").wait_for()
    wait_for(lambda: (session(ws).get("problem") or {}).get("x") == "sex", what="question saved")
    page.get_by_role("button", name="Discover the graph from the data").click()
    wait_for(lambda: session(ws).get("graph") is not None, timeout=120, what="discovered graph saved")
    frame = flow(page)
    before = {tuple(e) for e in session(ws)["graph"]["edges"]}
    assert before

    # 3a add an edge by dragging from a source handle to a target handle
    nodes = session(ws)["graph"]["nodes"]
    from faircause_core.causal.graph import CausalGraph

    g = CausalGraph(nodes, before)
    a, b = next((p, c) for p in ("race", "age", "education") for c in ("death", "high_bp", "cholesterol")
                if not g.has_edge(p, c) and CausalGraph.find_cycle(nodes, list(before) + [(p, c)]) is None)
    drag_edge(page, frame, a, b)
    wait_for(lambda: (a, b) in {tuple(e) for e in session(ws)["graph"]["edges"]}, what=f"edge {a} -> {b}")

    # 3b delete an edge through the editor's edge menu (right click on the edge), once the editor
    # holds the graph the page rebuilt after the drag: a dragged edge's id is "st-flow-edge_a-b",
    # the page's "a->b". (An edit made before that arrives is replaced by it.)
    frame = flow(page)
    frame.locator(f'[data-testid="rf__edge-{a}->{b}"]').wait_for(state="attached")
    reachable = settled_edges(page)  # the editor redraws after the added edge: aim once it is still
    view = page.viewport_size  # a point below or beside the window cannot be clicked
    victim = next(e for e in sorted(before) if e in reachable and e != ("sex", "death")
                  and 0 < reachable[e][0] < view["width"] and 0 < reachable[e][1] < view["height"])
    page.mouse.click(*reachable[victim], button="right")
    frame.get_by_text("Delete Edge").click()
    wait_for(lambda: victim not in {tuple(e) for e in session(ws)["graph"]["edges"]}, what=f"edge {victim} deleted")
    assert (a, b) in {tuple(e) for e in session(ws)["graph"]["edges"]}
    flow(page)
    shot(page, "2_graph")

    go(page, "Fairness audit")
    page.get_by_text("In plain words").wait_for(timeout=240_000)
    page.locator(".js-plotly-plot").first.wait_for()
    shot(page, "3_audit")

    # 4 generate with the default generator (the tiny language model here); the Bayes net's run
    # from the browser is tests/test_browser_clinician.py's, on the demo and on medpar
    go(page, "Generate")
    page.get_by_text("Fairness per pathway").wait_for()
    shot(page, "4_generate")
    generate(page, ws, "Causal model + local language model where held-out rows show it helps (default)", 120)
    runs = sorted(p.name for p in (ws / "runs").iterdir())
    assert len(runs) == 1

    # 5 compare plots
    go(page, "Compare")
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    assert page.locator(".js-plotly-plot").count() >= 1
    page.get_by_role("tab", name="Fidelity").click()
    page.locator(".js-plotly-plot").nth(2).wait_for(timeout=120_000)
    page.get_by_role("tab", name="Fairness").click()
    shot(page, "5_compare")

    # 6 download the synthetic CSV and check it
    page.get_by_role("tab", name="Downloads").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Synthetic rows (CSV)").click()
    data = Path(info.value.path()).read_bytes()
    frame_csv = pd.read_csv(io.BytesIO(data))
    assert list(frame_csv.columns) == nodes
    assert len(frame_csv) == 120  # the run just made is selected: the language model's
    assert set(frame_csv["sex"].dropna()) <= {"Male", "Female"}


def test_graph_check_and_its_one_click_fix_in_chromium(server, page, tmp_path):
    """A graph without X -> Y, imported through the page: the contradiction is shown in plain
    words, and its button adds the edge to the graph and to the editor."""
    try:
        graph_check_fix(server, page, tmp_path)
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / "failure_graph_check.png"), full_page=True)
        raise


def graph_check_fix(server, page, tmp_path):
    from faircause_core.causal.graph import CausalGraph

    url, ws = server
    page.goto(url)
    page.locator("input[type=file]").first.set_input_files(str(DEMO))  # the same data keeps its graph
    page.get_by_text(re.compile(r"1,629 rows, 15 columns")).wait_for()
    wait_for(lambda: session(ws).get("data_id"), what="upload saved")
    # straight to the page's address: a sidebar click made while the upload's rerun is still
    # going can be dropped under load (seen once in a full run)
    page.goto(f"{url}/graph")
    page.get_by_text("Sensitive attribute (X)").first.wait_for(timeout=120_000)  # also in the role legend
    wait_for(lambda: (session(ws).get("problem") or {}).get("x") == "sex", what="question saved")
    if session(ws).get("graph") is None:
        page.get_by_role("button", name="Discover the graph from the data").click()
        wait_for(lambda: session(ws).get("graph") is not None, timeout=120, what="discovered graph saved")
    g = CausalGraph.from_dict(session(ws)["graph"])
    without = CausalGraph(g.nodes, [e for e in g.edges if e != ("sex", "death")])
    dag = tmp_path / "no_direct_edge.json"
    dag.write_text(without.to_json(), encoding="utf-8")

    flow(page)  # the page has drawn the editor and the graph check: its run is over
    page.get_by_text(re.compile("^Each edge of the standard fairness model that the graph leaves out")).wait_for()
    page.get_by_role("button", name="Import DAG JSON").click()
    page.get_by_text("DAG JSON", exact=True).wait_for()
    assert page.locator("input[type=file]").count() == 1
    page.locator("input[type=file]").set_input_files(str(dag))
    wait_for(lambda: ("sex", "death") not in {tuple(e) for e in session(ws)["graph"]["edges"]},
             what="graph without sex -> death imported")
    page.keyboard.press("Escape")  # close the import popover
    warning = page.get_by_text(re.compile(r"The data contradicts 'sex does not affect death directly' \(p"))
    warning.wait_for(timeout=60_000)
    frame = flow(page)
    assert frame.locator('[data-testid="rf__edge-sex->death"]').count() == 0
    warning.scroll_into_view_if_needed()
    shot(page, "2b_graph_check")

    page.get_by_role("button", name=re.compile("^Add the edge sex (->|\u2192) death$")).click()  # md: -> is an arrow
    wait_for(lambda: ("sex", "death") in {tuple(e) for e in session(ws)["graph"]["edges"]},
             what="edge sex -> death added by the one-click fix")
    frame = flow(page)
    frame.locator('[data-testid="rf__edge-sex->death"]').wait_for(state="attached", timeout=30_000)
    page.get_by_text(re.compile("^Each edge of the standard fairness model that the graph leaves out")).wait_for()
    wait_for(lambda: page.get_by_text(re.compile("sex does not affect death directly")).count() == 0,
             what="the contradiction gone once the edge is there")
    shot(page, "2c_graph_fixed")


HOSTILE = ["<img src=x onerror=alert(1)>", "<b>x</b>", "<script>alert(1)</script>"]


def test_column_names_are_text_in_the_graph_editor(server, page, tmp_path):
    """Column names that are HTML reach the editor's nodes as their literal text: no element is
    made from a label and no script runs (streamlit-flow renders node content as Markdown with
    raw HTML, so editor.node_label must neutralise it)."""
    import numpy as np

    url, ws = server
    rng = np.random.default_rng(0)
    n = 240
    group = rng.integers(0, 2, n)
    cols = {"group": group}
    for i, name in enumerate(HOSTILE):
        cols[name] = np.round(rng.normal(size=n) + 0.5 * group * i, 3)
    cols["death"] = (rng.random(n) < 0.3 + 0.3 * group).astype(int)
    csv = tmp_path / "hostile.csv"
    pd.DataFrame(cols).to_csv(csv, index=False)

    context = page.context.browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    dialogs = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        pg.goto(url)
        pg.locator("input[type=file]").first.set_input_files(str(csv))
        pg.get_by_text(re.compile(r"240 rows, 5 columns")).wait_for()
        go(pg, "Causal graph")
        wait_for(lambda: (session(ws).get("problem") or {}).get("x") == "group", what="question saved")
        pg.get_by_role("button", name="Discover the graph from the data").click()
        wait_for(lambda: set((session(ws).get("graph") or {}).get("nodes", [])) == set(cols), timeout=120,
                 what="discovered graph saved")
        frame = flow(pg)
        nodes = frame.locator(".react-flow__node")
        wait_for(lambda: nodes.count() == len(cols), what="all five nodes drawn")
        shown = {nodes.nth(i).get_attribute("data-id"): nodes.nth(i).inner_text().strip() for i in range(len(cols))}
        assert shown == {c: c for c in cols}  # each label is the literal name, as text
        for tag in ("img", "b", "script"):
            assert frame.locator(f".react-flow__node {tag}").count() == 0, tag
        for name in HOSTILE:
            frame.get_by_text(name, exact=True).wait_for(timeout=10_000)
        assert dialogs == []
        keep_shot(pg, ARTIFACTS / "2d_hostile_names.png")
    except BaseException:
        pg.screenshot(path=str(ARTIFACTS / "failure_hostile_names.png"), full_page=True)
        raise
    finally:
        context.close()
