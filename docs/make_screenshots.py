"""Regenerate docs/screenshots/*.png by walking the real demo in a real browser.

Starts `streamlit run app.py` on a free loopback port with a fresh temporary workspace, then
drives Debian's Chromium through Playwright:

  1 take the bundled demo cohort
  2 X = sex (baseline Male, comparison Female), Y = death, age and race fixed; import the
    reviewed DAG assets/nhefs_dag.json through the page's "Import DAG JSON" control
  3 the audit with the doubly robust estimator
  4 generate with the Bayesian network (quick preview), direct effect removed
  5 compare: the Fairness tab, then the Fidelity tab

Run from the repository root:  .venv/bin/python docs/make_screenshots.py
Needs /usr/bin/chromium (never `playwright install`). Writes only docs/screenshots/.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
DAG = ROOT / "assets" / "nhefs_dag.json"
VIEWPORT = {"width": 1440, "height": 1000}
sys.path.insert(0, str(ROOT))
from tests.streamlit_server import CHROMIUM, LAUNCH_ARGS, AppServer, wait_for  # noqa: E402


def session(ws: Path) -> dict:
    path = ws / "session.json"
    return json.loads(path.read_text()) if path.exists() else {}


def settle(page, ms: int = 2500) -> None:
    """Let Streamlit finish its rerun and data grids / plots paint."""
    page.wait_for_load_state("networkidle")
    try:
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=120_000)
    except Exception:  # the widget is absent when nothing runs
        pass
    page.wait_for_timeout(ms)


CONTENT_HEIGHT = """() => {
  const main = document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
  const block = document.querySelector('[data-testid="stMainBlockContainer"] > div');
  if (!block) return Math.ceil(main.scrollHeight);
  return Math.ceil(block.getBoundingClientRect().bottom + main.scrollTop + 48);
}"""


def shot(page, name: str, full_page: bool = True) -> None:
    """Screenshot the page. Streamlit scrolls inside its main pane, so Playwright's full_page
    alone stops at the window: grow the viewport to the content height for the shot."""
    settle(page)
    path = OUT / f"{name}.png"
    if full_page:
        height = max(VIEWPORT["height"], min(int(page.evaluate(CONTENT_HEIGHT)), 6000))
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        settle(page, 1500)  # plots and grids re-layout at the new size
        page.screenshot(path=str(path), full_page=True)
        page.set_viewport_size(VIEWPORT)
    else:
        page.screenshot(path=str(path))
    print(f"wrote {path.relative_to(ROOT)}")


def go(page, title: str) -> None:
    page.get_by_role("link", name=re.compile(title)).first.click()
    settle(page, 1000)


def choose(page, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox found by its label."""
    box = page.get_by_label(label, exact=True)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page, 800)


def walk(page, url: str, ws: Path) -> None:
    page.goto(url)
    page.get_by_text("No data yet").wait_for()

    # 1 the bundled demo cohort
    page.get_by_role("button", name=re.compile("Use the demo cohort")).click()
    page.get_by_text(re.compile(r"1,629 rows, 15 columns")).wait_for()
    shot(page, "1_data")

    # 2 the question, then the reviewed DAG through the import control
    go(page, "Causal graph")
    page.get_by_text("Sensitive attribute (X)").first.wait_for()
    choose(page, "Sensitive attribute (X)", "sex")
    choose(page, "Baseline group", "Male")
    choose(page, "Comparison group", "Female")
    choose(page, "Outcome (Y)", "death")
    wait_for(lambda: (session(ws).get("problem") or {}) .get("x0") == "Male"
             and session(ws)["problem"].get("x1") == "Female", what="question saved")
    fixed = session(ws).get("fixed") or []
    assert set(fixed) == {"age", "race"}, f"fixed columns are {fixed}, expected age and race"
    page.get_by_role("button", name="Import DAG JSON").click()
    page.locator('[data-testid="stPopoverBody"] input[type=file]').set_input_files(str(DAG))
    wait_for(lambda: session(ws).get("graph") is not None, what="imported graph saved")
    page.get_by_text(re.compile(r"Imported \d+ edges")).wait_for()
    page.keyboard.press("Escape")  # close the popover so it does not cover the editor
    settle(page, 1000)
    frame = page.frame_locator('iframe[title*="streamlit_flow"]:visible')
    frame.locator(".react-flow__node").first.wait_for(timeout=60_000)
    shot(page, "2_graph")

    # 3 the audit, doubly robust (the default)
    go(page, "Fairness audit")
    page.get_by_text("Doubly robust", exact=False).first.click()
    page.get_by_text("In plain words").wait_for(timeout=300_000)
    page.locator(".js-plotly-plot").first.wait_for()
    shot(page, "3_audit")

    # 4 Bayesian network, direct effect removed
    go(page, "Generate")
    page.get_by_text("Fairness per pathway").wait_for()
    page.get_by_text("Bayesian network (quick preview)").click()
    settle(page, 800)
    choose(page, "Direct (DE)", "remove")
    runs = ws / "runs"
    before = len(list(runs.glob("*/run.json")))
    page.get_by_role("button", name="Generate", exact=True).click()
    wait_for(lambda: len(list(runs.glob("*/run.json"))) > before, timeout=900, what="Bayesian network run")
    page.get_by_text(re.compile("Finished in .* saved as run")).wait_for(timeout=60_000)
    shot(page, "4_generate")

    # 5 compare: fairness, then fidelity
    go(page, "Compare")
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    shot(page, "5_compare_fairness")
    page.get_by_role("tab", name="Fidelity").click()
    page.locator('[role="tabpanel"]:visible .js-plotly-plot').nth(2).wait_for(timeout=120_000)
    shot(page, "5_compare_fidelity")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace and server log")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.TemporaryDirectory(prefix="faircause-shots-")
    base = Path(tmp.name)
    app = AppServer(base, FAIRCAUSE_MEASURE="full")  # the pages as a user sees them
    if not app.wait_healthy():
        app.stop()
        raise SystemExit("streamlit did not start:\n" + app.log_tail())
    url, ws = app.url, app.workspace
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.set_default_timeout(60_000)
            try:
                walk(page, url, ws)
            except BaseException:
                page.screenshot(path=str(base / "failure.png"), full_page=True)
                print(f"failed; the page at that moment: {base / 'failure.png'}", file=sys.stderr)
                args.keep = True
                raise
            finally:
                context.close()
                browser.close()
    finally:
        app.stop()
        if args.keep:
            print(f"workspace and server log kept in {base}", file=sys.stderr)
            tmp._finalizer.detach()
        else:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
