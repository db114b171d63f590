"""Start and stop `streamlit run app.py` on a free loopback port, for the browser test and
docs/make_screenshots.py: one launcher, the same Chromium flags for both."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium as root, headless, with nothing reaching out to the network.
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


#: Set to 1 to keep a screenshot of each passing step in test-artifacts/ (nothing is asserted on
#: them): Chromium spends 0.5-1.5 s of CPU on each full-page one, about 25 a run. Failures are
#: photographed whatever this says.
SHOTS_ENV = "FAIRCAUSE_TEST_SHOTS"


def keep_shot(target, path, **options) -> None:
    """target.screenshot(path=path, full_page=True unless given) when SHOTS_ENV is 1 (a page or an element)."""
    if os.environ.get(SHOTS_ENV, "").strip() == "1":
        target.screenshot(path=str(path), **({"full_page": True} if hasattr(target, "goto") else {}) | options)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """The app on 127.0.0.1 with its own workspace; `url` once healthy. Log in base/server.log."""

    def __init__(self, base: Path, **env: str):
        self.base = Path(base)
        self.workspace = self.base / "ws"
        port = free_port()
        # the light measuring profile (tests/conftest.py says why) unless the caller names one
        env.setdefault("FAIRCAUSE_MEASURE", "light")
        full_env = dict(os.environ, FAIRCAUSE_WORKSPACE=str(self.workspace), PYTHONHASHSEED="0",
                        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **env)
        self.log_path = self.base / "server.log"
        self._log = open(self.log_path, "wb")
        # No file watcher: it watches the whole repository (.venv included) and overflowed.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"

    def wait_healthy(self, timeout: float = 90.0) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            try:
                if urllib.request.urlopen(self.url + "/_stcore/health", timeout=2).read() == b"ok":
                    return True
            except OSError:
                time.sleep(0.5)
        return False

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def wait_for(predicate, timeout: float = 60.0, what: str = "condition", every: float = 0.25) -> None:
    """Poll `predicate` every `every` seconds; TimeoutError naming `what` if it never holds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise TimeoutError(f"timed out waiting for {what}")


EDITOR = 'iframe[title*="streamlit_flow"]'
# Where every node of the graph editor is, and the view's transform: the same in two reads a
# moment apart once the editor has stopped moving (layout done, fit-view animation over).
_EDITOR_STATE = """() => JSON.stringify([
  getComputedStyle(document.querySelector('.react-flow__viewport') || document.body).transform,
  [...document.querySelectorAll('.react-flow__node')].map(n => {
    const r = n.getBoundingClientRect(); return [n.dataset.id, Math.round(r.x), Math.round(r.y), Math.round(r.width)]; })])"""


# Resolves once the fonts are loaded and two animation frames have been painted.
PAINTED = """() => new Promise(done => document.fonts.ready.then(() =>
  requestAnimationFrame(() => requestAnimationFrame(() => done(true)))))"""


def running(page) -> bool:
    """Streamlit's status widget is up: a script run of the page is going."""
    return page.locator('[data-testid="stStatusWidget"]').count() > 0


def page_idle(page, timeout: float = 60.0) -> None:
    """Wait until the page has no run going (`running` false in two reads 0.3 s apart), then
    until it has painted (PAINTED)."""
    seen = [False]

    def idle() -> bool:
        gone = not running(page)
        done, seen[0] = gone and seen[0], gone
        return done

    wait_for(idle, timeout=timeout, what="the page to finish its run", every=0.3)
    page.evaluate(PAINTED)


def editor_settled(page, timeout: float = 60.0) -> None:
    """Wait until the page has no run going (Streamlit's status widget gone), exactly one graph
    editor is on it (a replaced one lingers, hidden, for a moment), it has drawn its nodes, and
    they and the view stay put for two reads 0.3 s apart: the conditions the fixed 1-2.5 s waits
    stood for."""
    last = [None]

    def still() -> bool:
        if running(page) or page.locator(EDITOR).count() != 1:
            last[0] = None
            return False
        now = page.frame_locator(EDITOR).locator("body").evaluate(_EDITOR_STATE)
        stable, last[0] = now == last[0] and bool(json.loads(now)[1]), now
        return stable

    wait_for(still, timeout=timeout, what="the graph editor to settle", every=0.3)


def saved_session(ws: Path) -> dict:
    """The workspace's latest saved session (session.json), as the app wrote it."""
    return json.loads((Path(ws) / "session.json").read_text())


def settle_editor(page, g) -> None:
    """Wait until the graph editor shows exactly g's edges and associations and all its nodes (g a
    CausalGraph), and stops moving (editor_settled)."""
    page.locator(EDITOR).scroll_into_view_if_needed()
    f = page.frame_locator(EDITOR)
    wait_for(lambda: {t.removeprefix("rf__edge-") for t in f.locator(".react-flow__edge").evaluate_all(
        "els => els.map(e => e.getAttribute('data-testid'))")} == {f"{a}->{b}" for a, b in g.edges + g.associations}
        and f.locator(".react-flow__node").count() == len(g.nodes), what="editor drawn")
    editor_settled(page)


# Evaluated in the editor's frame (its body):
# per node, whether its box is outside the frame's window, and whether its label's text is
# outside its box (cut) on any side: the first view must show every node and its whole label.
OUTSIDE = """() => [...document.querySelectorAll('.react-flow__node')].filter(n => {
    const r = n.getBoundingClientRect(), text = [...n.querySelectorAll('*')].find(
        e => e.children.length === 0 && e.textContent.trim());
    const range = document.createRange(); range.selectNodeContents(text); const t = range.getBoundingClientRect();
    return r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight
           || t.left < r.left || t.right > r.right || t.top < r.top || t.bottom > r.bottom; })
  .map(n => n.getAttribute('data-id'))"""
# per node, its label's drawn text height, its font size times the view's zoom, and whether it is cut;
LABELS = """() => {
  const zoom = new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a;
  return [...document.querySelectorAll('.react-flow__node')].map(n => {
    const text = [...n.querySelectorAll('*')].find(e => e.children.length === 0 && e.textContent.trim())
    const range = document.createRange(); range.selectNodeContents(text);
    const r = range.getBoundingClientRect(), box = n.getBoundingClientRect();
    return [n.getAttribute('data-id'), r.height, parseFloat(getComputedStyle(text).fontSize) * zoom,
            r.left < box.left || r.right > box.right];
  });
}"""
# each drawn edge's id ("a->b") and its computed opacity.
OPACITY = """() => Object.fromEntries([...document.querySelectorAll('.react-flow__edge')].map(
    g => [g.getAttribute('data-testid').replace('rf__edge-', ''), getComputedStyle(g).opacity]))"""


def first_view_readable(page, g) -> None:
    """Issue 19 item 9, in the editor as drawn now: every node of g inside the frame's window, every
    label whole and at least 12 px high (its font at least 12 px at the view's zoom)."""
    f = page.frame_locator(EDITOR)
    labels = f.locator("body").evaluate(LABELS)
    assert len(labels) == len(g.nodes), labels
    assert all(height >= 12 and size >= 12 and not cut for _, height, size, cut in labels), labels
    outside = f.locator("body").evaluate(OUTSIDE)
    assert outside == [], outside


def node_lights_and_found_only(page, g, found: set, node: str) -> tuple[set, int]:
    """Issue 19 item 10, in the editor showing g (settled): pointing at `node`, then selecting it,
    leaves its edges as drawn and fades every other edge to 0.15; the "Show only edges found in
    the data" toggle hides the assumed edges (g's edges not in `found`) and every association, and
    its line says how many. Returns (the edges still drawn as (a, b) pairs, the assumed edges hidden)."""
    f = page.frame_locator(EDITOR)
    pairs = {f"{a}->{b}": (a, b) for a, b in g.edges + g.associations}
    lit = {i for i, (a, b) in pairs.items() if node in (a, b)}
    assert lit and len(lit) < len(pairs), (node, lit)
    expected = {i: "1" if i in lit else "0.15" for i in pairs}
    f.locator(f'.react-flow__node[data-id="{node}"]').hover()
    wait_for(lambda: f.locator("body").evaluate(OPACITY) == expected, timeout=10, what=f"{node}'s edges lit on hover")
    page.mouse.move(4, 4)  # off the editor: nothing pointed at, nothing selected, every edge as drawn
    wait_for(lambda: set(f.locator("body").evaluate(OPACITY).values()) == {"1"}, timeout=10, what="all edges back")
    f.locator(f'.react-flow__node[data-id="{node}"]').click()
    page.mouse.move(4, 4)
    wait_for(lambda: f.locator("body").evaluate(OPACITY) == expected, timeout=10,
             what=f"{node}'s edges lit when selected")

    page.get_by_text("Show only edges found in the data").click()
    said = page.get_by_text(re.compile(r"^\d+ assumed edges?( and \d+ assumed associations?)? hidden; \d+ shown"))
    said.wait_for(timeout=30_000)
    words = said.inner_text()
    hidden = int(re.match(r"\d+", words).group())
    links = int((re.search(r"and (\d+) assumed association", words) or [0, 0])[1])
    assumed = set(g.edges) - set(found)
    assert 0 < hidden <= len(assumed) and links == len(g.associations), (words, len(assumed), g.associations)
    wait_for(lambda: f.locator(".react-flow__edge").count() == len(pairs) - hidden - links, timeout=30,
             what="found-only view")
    shown = {pairs[i] for i in f.locator("body").evaluate(OPACITY)}
    assert set(g.edges) - shown <= assumed and len(set(g.edges) - shown) == hidden and not shown & set(g.associations)
    assert words.endswith(f"{len(shown)} shown."), (words, len(shown))
    editor_settled(page)
    return shown, hidden


@contextmanager
def chromium_page(width: int = 1440, height: int = 1000):
    """A page in Debian's Chromium (headless, LAUNCH_ARGS) with a 60 s default timeout."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@contextmanager
def serving(base: Path, **env: str):
    """An AppServer that is healthy (else RuntimeError with its log's tail), stopped afterwards."""
    app = AppServer(base, **env)
    try:
        if not app.wait_healthy():
            raise RuntimeError("streamlit did not start: " + app.log_tail())
        yield app
    finally:
        app.stop()


def wait_text(page, app: AppServer, pattern, timeout_ms: float = 60_000) -> None:
    """Wait for visible text matching `pattern`; on timeout fail with what the page showed and
    the server log's tail, so a failure far away (CI) says why."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.get_by_text(pattern).first.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        shown = page.locator("body").inner_text(timeout=10_000)[-3000:]
        raise AssertionError(f"{pattern!r} not shown within {timeout_ms / 1000:.0f} s.\n"
                             f"--- page ---\n{shown}\n--- server log ---\n{app.log_tail(4000)}") from None


def go_to_step(page, title: str, tries: int = 3, timeout_ms: float = 20_000) -> None:
    """Click the first link named like `title` (a step of the app) and wait until the address is
    that page's; click again if it is not within `timeout_ms`. Streamlit drops a click that lands
    in a rerun: in a CI run the page stayed on step 2 for 300 s after "Fairness audit" was clicked
    (the graph editor had just drawn, which reruns the page)."""
    from urllib.parse import urlparse

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    link = page.get_by_role("link", name=re.compile(title)).first
    path = urlparse(link.get_attribute("href") or "").path.rstrip("/")
    # The address alone is not enough: it changes at the click, and a rerun of the old page that
    # ends after it puts the old address back (seen: the audit never opened in 300 s). The new
    # page has opened once the address is its own and the page's title is no longer the old one.
    title_now = "() => (document.querySelector('h1') || {}).innerText || ''"
    before = page.evaluate(title_now)
    same_page = page.evaluate("p => location.pathname.replace(/[/]$/, '').endsWith(p)", path) if path else False
    opened = """([p, old, same]) => location.pathname.replace(/[/]$/, '').endsWith(p)
                && (same || ((document.querySelector('h1') || {}).innerText || '') !== old)"""
    for _ in range(tries):
        link.click()
        if not path:
            return  # no address to wait for: one click, as before
        try:
            page.wait_for_function(opened, arg=[path, before, same_page], timeout=timeout_ms)
        except PlaywrightTimeout:
            continue
        # A rerun of the old page already under way can end after the switch and bring the old
        # page back for good (seen in CI: the audit page opened, then step 2 returned and stayed
        # for 300 s). Once no run is going, the new page must still be the one shown, else click
        # again. A run still going after timeout_ms is the new page's own work (an audit).
        try:
            page_idle(page, timeout=timeout_ms / 1000)
        except TimeoutError:
            return
        if page.evaluate(opened, [path, before, same_page]):
            return
    raise AssertionError(f"the {title!r} link did not open {path} after {tries} clicks; "
                         f"the address is {page.url}")


def drag_edge(page, frame, a: str, b: str) -> None:
    """In the DAG editor (`frame`, its iframe), drag from a's source handle to b's target
    handle, as a person would."""
    src = frame.locator(f'.react-flow__node[data-id="{a}"] .react-flow__handle.source').bounding_box()
    dst = frame.locator(f'.react-flow__node[data-id="{b}"] .react-flow__handle.target').bounding_box()
    page.mouse.move(src["x"] + src["width"] / 2, src["y"] + src["height"] / 2)
    page.mouse.down()
    page.mouse.move(dst["x"] + dst["width"] / 2, dst["y"] + dst["height"] / 2, steps=12)
    page.mouse.up()
