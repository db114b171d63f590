"""The graph editor in a real browser (Debian Chromium, Playwright, `streamlit run`): issue 10's
items 1-4 and 6. What is drawn is measured in the editor's frame: edge paths against node boxes,
handle and label sizes, the wheel, colours after a dragged edge, the refusal that stays, and the
edge menu. One server and one browser for the module.
"""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faircause_core.causal.graph import CausalGraph
from faircause_core.present.plots import ROLE_COLORS
from tests import wide_graphs
from tests.conftest import DEMO, ROOT
from tests.streamlit_server import (
    CHROMIUM, EDITOR, LABELS, OUTSIDE, chromium_page, drag_edge, editor_settled, first_view_readable, keep_shot,
    node_lights_and_found_only, page_idle, saved_session as session, serving, settle_editor as settle, wait_for,
)

ARTIFACTS = ROOT / "test-artifacts"
FRAME = EDITOR
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="/usr/bin/chromium is not installed")


@pytest.fixture(scope="module")
def one_server(tmp_path_factory):
    """One server for the file (its start and first page cost 6-8 s of the machine each)."""
    with serving(tmp_path_factory.mktemp("browser_editor")) as app:
        yield app.url, app.workspace


@pytest.fixture()
def server(one_server):
    """The file's server with no saved tab: a new tab starts from the latest saved session, and
    after one test's edits a second test's tab restored them, its imported DAG saved but not
    redrawn (seen, not yet fixed); each test starts as a first visit does."""
    url, ws = one_server
    (ws / "session.json").unlink(missing_ok=True)
    shutil.rmtree(ws / "sessions", ignore_errors=True)
    yield url, ws


@pytest.fixture()
def page(server):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as pg:
        yield pg


def edges_saved(ws: Path) -> set:
    return {tuple(e) for e in (session(ws).get("graph") or {}).get("edges", [])}


def frame(page):
    return page.frame_locator(FRAME)


def graph_page(page, server, csv: Path, rows: str):
    """Upload `csv` and go to the graph page, once its question (X = sex) is saved."""
    url, ws = server
    page.goto(url)
    page.locator("input[type=file]").first.set_input_files(str(csv))
    page.get_by_text(re.compile(rows)).wait_for()
    wait_for(lambda: session(ws).get("data_id"), what="upload saved")
    page.goto(f"{url}/graph")
    wait_for(lambda: (session(ws).get("problem") or {}).get("x") == "sex", what="question saved")


def open_graph(page, server, csv: Path, dag: Path, rows: str):
    """Upload `csv`, go to the graph page, import `dag` and wait until the editor draws it all."""
    url, ws = server
    graph_page(page, server, csv, rows)
    page.get_by_role("button", name="Import DAG JSON").click()
    page.get_by_text("DAG JSON", exact=True).wait_for()
    page.locator("input[type=file]").set_input_files(str(dag))
    want = CausalGraph.from_json(dag.read_text())
    wait_for(lambda: edges_saved(ws) == set(want.edges), what="DAG imported")
    page.keyboard.press("Escape")
    settle(page, want)
    return want


# Every drawn edge sampled every 2 px, in the frame's coordinates, against every node's box.
CROSSINGS = """() => {
  const boxes = [...document.querySelectorAll('.react-flow__node')].map(n => [n.getAttribute('data-id'),
                                                                           n.getBoundingClientRect()]);
  const out = [];
  for (const g of document.querySelectorAll('.react-flow__edge')) {
    const [a, b] = g.getAttribute('data-testid').replace('rf__edge-', '').split('->');
    const p = g.querySelector('path.react-flow__edge-path');
    const m = p.getScreenCTM(), len = p.getTotalLength();
    for (let s = 0; s <= len; s += 2) {
      const q = p.getPointAtLength(s).matrixTransform(m);
      for (const [id, r] of boxes) {
        if (id !== a && id !== b && q.x >= r.left && q.x <= r.right && q.y >= r.top && q.y <= r.bottom) {
          out.push([a, b, id]); s = len + 1; break;
        }
      }
    }
  }
  return {crossings: out, edges: document.querySelectorAll('.react-flow__edge').length, nodes: boxes.length};
}"""


def no_crossings(page, g: CausalGraph, name: str):
    found = frame(page).locator("body").evaluate(CROSSINGS)
    keep_shot(page, ARTIFACTS / f"editor_{name}.png")
    assert found["edges"] == len(g.edges) + len(g.associations) and found["nodes"] == len(g.nodes)
    assert found["crossings"] == [], found["crossings"]


def wide_columns(tmp_path: Path, g: CausalGraph, name: str) -> tuple[Path, Path]:
    """A 300-row cohort over g's columns (sex Male/Female, death 0/1; tests.wide_graphs) and g as a DAG file."""
    csv, dag = tmp_path / f"{name}.csv", tmp_path / f"{name}_dag.json"
    wide_graphs.table(g.nodes).to_csv(csv, index=False)
    dag.write_text(g.to_json(), encoding="utf-8")
    return csv, dag


def sixteen_columns(tmp_path: Path) -> tuple[Path, Path]:
    """A 16-column cohort (sex, death and 14 measurements) and a seeded DAG over it with every role:
    confounders, mediators, columns after the outcome and columns off every path (11 layers)."""
    return wide_columns(tmp_path, wide_graphs.sixteen_graph(), "sixteen")


def drag(page, a: str, b: str):
    drag_edge(page, frame(page), a, b)


def edge_point(page, a: str, b: str):
    """A page point on the drawn edge a -> b where that edge is on top (a click there hits it)."""
    box = page.locator(FRAME).bounding_box()
    x, y = frame(page).locator("body").evaluate("""(_, [id]) => {
      const g = document.querySelector(`[data-testid="rf__edge-${id}"]`);
      const p = g.querySelector('.react-flow__edge-interaction') || g.querySelector('path');
      for (const f of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
        const m = p.getPointAtLength(p.getTotalLength() * f).matrixTransform(p.getScreenCTM());
        const hit = document.elementFromPoint(m.x, m.y);
        if (hit && hit.closest('.react-flow__edge') === g) return [m.x, m.y];
      }
      return null;
    }""", [f"{a}->{b}"])
    return box["x"] + x, box["y"] + y


def fit_all(page):
    """The editor's fit-view button: the whole graph in the frame (so every handle can be reached)."""
    frame(page).locator(".react-flow__controls-fitview").click()
    editor_settled(page)


def test_no_edge_is_drawn_through_a_node_it_does_not_join(server, page, tmp_path):
    """Item 1, on the demo graph and on a 16-column graph: every drawn path sampled every 2 px."""
    demo = open_graph(page, server, DEMO, ROOT / "assets" / "nhefs_dag.json", r"1,629 rows, 15 columns")
    no_crossings(page, demo, "demo_layout")
    csv, dag = sixteen_columns(tmp_path)
    wide = open_graph(page, server, csv, dag, r"300 rows, 16 columns")
    no_crossings(page, wide, "sixteen_layout")


def test_the_first_view_of_16_and_56_columns_shows_every_node_readable(server, page, tmp_path):
    """Issue 19 item 9: a graph with more layers than the frame shows across the page at readable
    labels is laid out in rows down the page; its first view shows every node inside the editor's
    frame, every label whole and at least 12 px high, and no edge through a node (16 columns: 11
    layers; 56 columns: 15). Negative control: across the page, as before, the 16-column graph's
    outcome began at x = 1,364 px and its last layer ended at 1,811 px in this 1,044 px frame
    (tests/test_app_editor.py checks that layout's width). A dragged edge is still taken."""
    url, ws = server
    for name, g, rows in [("sixteen", wide_graphs.sixteen_graph(), r"300 rows, 16 columns"),
                          ("fifty_six", wide_graphs.fifty_six_graph(), r"300 rows, 56 columns")]:
        csv, dag = wide_columns(tmp_path, g, name)
        open_graph(page, server, csv, dag, rows)
        f = frame(page)
        width = f.locator("body").evaluate("() => innerWidth")
        assert width >= 1000, width  # the 1440 px window's editor (1,044 px when measured)
        first_view_readable(page, g)
        no_crossings(page, g, f"{name}_first_view")
    f.locator('.react-flow__node[data-id="phone_model"]').scroll_into_view_if_needed()
    drag(page, "phone_model", "zip_digit")
    wait_for(lambda: ("phone_model", "zip_digit") in edges_saved(ws), what="edge phone_model -> zip_digit saved")
    f.locator('[data-testid="rf__edge-phone_model->zip_digit"]').wait_for(state="attached")


def demo(page, server):
    g = open_graph(page, server, DEMO, ROOT / "assets" / "nhefs_dag.json", r"1,629 rows, 15 columns")
    return g


WATCH = """() => { window.__probe = 'kept'; window.__fewest = 1e9;
  setInterval(() => { const shown = [...document.querySelectorAll('.react-flow__node')]
      .filter(n => n.getBoundingClientRect().width > 0).length;
    window.__fewest = Math.min(window.__fewest, document.hidden ? 0 : shown); }, 40); }"""


def test_handles_labels_wheel_and_an_edit_that_does_not_reload_the_editor(server, page):
    """Item 2: handles at least 12 px, labels at least 12 px high at the first zoom, the wheel
    scrolls the page (the graph keeps its zoom), and a dragged edge leaves the editor drawn."""
    url, ws = server
    g = demo(page, server)
    f = frame(page)
    handles = f.locator(".react-flow__handle").evaluate_all(
        "els => els.map(h => { const r = h.getBoundingClientRect(); return Math.min(r.width, r.height); })")
    assert len(handles) == 2 * len(g.nodes) and min(handles) >= 12, handles
    labels = f.locator("body").evaluate(LABELS)
    assert len(labels) == len(g.nodes)
    assert all(height >= 12 and size >= 12 and not cut for _, height, size, cut in labels), labels
    # the whole demo graph is in view at the first zoom (its rightmost column once needed a pan)
    outside = f.locator("body").evaluate(OUTSIDE)
    assert outside == [], outside

    # an accepted edge: the same frame (not reloaded) keeps every node drawn throughout
    f.locator("body").evaluate(WATCH)
    page.evaluate("""() => { window.__frames = new Set(); setInterval(() =>
        document.querySelectorAll('iframe[title*="streamlit_flow"]').forEach(x => window.__frames.add(x)), 40); }""")
    drag(page, "race", "death")
    wait_for(lambda: ("race", "death") in edges_saved(ws), what="edge race -> death saved")
    f.locator('[data-testid="rf__edge-race->death"]').wait_for(state="attached")
    page_idle(page)  # the reruns the edit caused are over: the old blank came with one of them
    editor_settled(page)
    assert f.locator("body").evaluate("() => [window.__probe, window.__fewest]") == ["kept", len(g.nodes)]
    assert page.evaluate("() => window.__frames.size") == 1

    # the wheel over the graph scrolls the page and leaves the graph's zoom alone
    zoom = "() => getComputedStyle(document.querySelector('.react-flow__viewport')).transform"
    before_zoom, box = f.locator("body").evaluate(zoom), page.locator(FRAME).bounding_box()
    pane = f.locator(".react-flow__pane").bounding_box()
    page.mouse.move(pane["x"] + 8, pane["y"] + 8)
    page.mouse.wheel(0, 400)
    wait_for(lambda: page.locator(FRAME).bounding_box()["y"] < box["y"] - 200, timeout=10,
             what="the page to move up under the mouse")
    editor_settled(page)
    assert f.locator("body").evaluate(zoom) == before_zoom
    keep_shot(page, ARTIFACTS / "editor_after_edit.png")


def test_roles_are_redrawn_after_a_dragged_edge(server, page):
    """Item 3: cholesterol (off every path to death) joins the mediators once cholesterol -> death
    is drawn, and its node turns the mediators' colour, as the roles table says."""
    url, ws = server
    demo(page, server)
    f = frame(page)
    node = f.locator('.react-flow__node[data-id="cholesterol"]')
    colour = "n => getComputedStyle(n).backgroundColor"
    rgb = lambda hexa: "rgb({}, {}, {})".format(*(int(hexa[i:i + 2], 16) for i in (1, 3, 5)))  # noqa: E731
    assert node.evaluate(colour) == rgb(ROLE_COLORS["other"])
    fit_all(page)
    drag(page, "cholesterol", "death")
    wait_for(lambda: ("cholesterol", "death") in edges_saved(ws), what="edge cholesterol -> death saved")
    wait_for(lambda: node.evaluate(colour) == rgb(ROLE_COLORS["w"]), timeout=30, what="cholesterol redrawn")
    # the legend and the roles table (drawn after the rerun that follows the edit)
    wait_for(lambda: page.get_by_text("Mediator (W)").count() >= 2, timeout=20, what="roles table says Mediator")


def test_a_refused_edge_stays_explained_until_the_next_action(server, page):
    """Item 4: death -> high_bp closes a cycle; the refusal stays on screen (the edge is gone
    from the editor) until the user's next action in the editor, here selecting an edge."""
    url, ws = server
    demo(page, server)
    fit_all(page)
    drag(page, "death", "high_bp")
    message = page.get_by_text(re.compile(r"edge death (->|\u2192) high_bp refused: it would close the cycle"))
    message.wait_for(timeout=30_000)
    page_idle(page)  # every rerun the refused drag caused has ended, and the refusal is still shown
    editor_settled(page)
    assert message.count() == 1 and message.is_visible()
    assert frame(page).locator('[data-testid="rf__edge-death->high_bp"]').count() == 0
    assert ("death", "high_bp") not in edges_saved(ws)
    keep_shot(page, ARTIFACTS / "editor_refusal.png")
    fit_all(page)
    page.mouse.click(*edge_point(page, "exercise", "activity"))
    wait_for(lambda: message.count() == 0, timeout=30, what="refusal cleared by the next action")


def test_the_edge_menu_offers_reverse_and_delete_only_and_a_selected_edge_stands_out(server, page):
    """Item 6: right-click an edge: "Reverse Edge" and "Delete Edge", no generic edit dialog;
    reverse turns the edge round in the graph; a clicked edge is drawn thick and orange."""
    url, ws = server
    demo(page, server)
    f = frame(page)
    fit_all(page)
    page.mouse.click(*edge_point(page, "exercise", "activity"), button="right")
    menu = f.locator(".btn-group-vertical button")
    menu.first.wait_for()
    assert [t.strip() for t in menu.all_inner_texts()] == ["Reverse Edge", "Delete Edge"]
    assert f.get_by_text("Edit Edge").count() == 0
    menu.first.click()
    wait_for(lambda: ("activity", "exercise") in edges_saved(ws) and ("exercise", "activity") not in edges_saved(ws),
             what="edge reversed")
    f.locator('[data-testid="rf__edge-activity->exercise"]').wait_for(state="attached")
    fit_all(page)
    page.mouse.click(*edge_point(page, "smoke_years", "death"))
    stroke = "g => { const s = getComputedStyle(g.querySelector('path.react-flow__edge-path')); " \
             "return [s.stroke, s.strokeWidth]; }"
    picked = f.locator('[data-testid="rf__edge-smoke_years->death"]')
    wait_for(lambda: picked.evaluate(stroke) == ["rgb(232, 89, 12)", "4px"], timeout=20, what="edge highlighted")
    assert f.locator('[data-testid="rf__edge-high_bp->death"]').evaluate(stroke)[0] != "rgb(232, 89, 12)"
    page.get_by_text(re.compile("Selected edge: smoke_years")).wait_for()
    keep_shot(page, ARTIFACTS / "editor_selected_edge.png")


def test_a_node_lights_its_edges_and_the_found_only_view_hides_assumed_edges_safely(server, page):
    """Issue 19 item 10, on the discovered demo graph: pointing at sex, then selecting it, leaves
    sex's edges as drawn and fades every other edge; "Show only edges found in the data" hides the
    assumed edges and says how many; an edge deleted in that view is the only edge removed."""
    url, ws = server
    graph_page(page, server, DEMO, r"1,629 rows, 15 columns")
    page.get_by_role("button", name="Discover the graph from the data").click()
    wait_for(lambda: session(ws).get("graph") and session(ws).get("found"), timeout=180, what="discovery saved")
    g = CausalGraph.from_json(json.dumps(session(ws)["graph"]))
    settle(page, g)
    found = {tuple(e) for e in session(ws)["found"]["edges"]}
    shown, hidden = node_lights_and_found_only(page, g, found, "sex")
    assert hidden > 0 and g.associations  # the z - X associations: assumed, hidden
    keep_shot(page, ARTIFACTS / "editor_found_only.png")

    f = frame(page)
    fit_all(page)
    a, b = next(e for e in g.edges if e in shown and e in found and "sex" not in e)
    page.mouse.click(*edge_point(page, a, b), button="right")
    f.get_by_text("Delete Edge").click()
    wait_for(lambda: edges_saved(ws) == set(g.edges) - {(a, b)}, timeout=30,
             what=f"only {a} -> {b} deleted, the hidden edges kept")
    page_idle(page)  # nothing else is deleted by the reruns that follow
    editor_settled(page)
    assert edges_saved(ws) == set(g.edges) - {(a, b)}
    assert {tuple(e) for e in session(ws)["graph"]["associations"]} == set(g.associations)
