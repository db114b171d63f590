"""Issue 19 in Debian Chromium (Playwright) against `streamlit run`, at 1440x1000, on the demo
and on flchain and medpar (the shared cohorts):

- addresses: /data, /graph and / (which hands over to /data) open their step, never "Page not
  found"; a 1-row CSV is not called loaded and Discover is not offered while it is greyed (13);
- the question form: the default outcome (12: death on flchain, died on medpar, death on the
  demo), group-name boxes hinting "e.g. the group's name" (8) and accessible names without
  Markdown backslashes (13);
- the graph check: a green box only when something was tested, "Nothing to test" in a neutral
  (info) box otherwise (11);
- the audit page: the chart's bars are the decomposition's own numbers (DE - IE - SE = TV),
  the sentences state them with their signs and the identity caption repeats them (1);
- the graph editor on flchain's discovered graph: every node in the first view with labels of at
  least 12 px (9); pointing at or selecting sex lights its edges and fades the rest, and "Show
  only edges found in the data" hides the assumed edges and associations and says how many (10);
- the compare page after a Bayes-net run on the demo and on medpar ("Direct: remove"): the
  effects chart shows the saved run's Decomposition numbers (1); the real data is all rows (the
  demo's equal to its audit) and the fitting split the generator's target, both with their 95%
  intervals on the chart and in the caption, and one line says why they differ (4); the rounds
  chart shows the measurements, and a point lies inside its drawn band exactly when the run says
  it is within tolerance and the caption says "Within tolerance: yes" (2);
- after medpar's run, flchain again: the generate form is not pre-set to "Direct: remove" (nor to
  medpar's generator and rows) and medpar's "Finished in ... run" banner is not shown (5).
Figures are read from the page's own plotly objects (gd._fullData, gd._fullLayout.shapes).
Conditions, not sleeps: every wait is for a text, an element or a file. Screenshots go to
test-artifacts/clinician_*.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from faircause_core.causal.effects import Z95
from faircause_core.causal.graph import CausalGraph
from faircause_core.generators.base import DEFAULT_GENERATED_ROWS
from tests.conftest import DEMO, ROOT
from tests.streamlit_server import (
    CHROMIUM, LAUNCH_ARGS, first_view_readable, go_to_step, keep_shot, node_lights_and_found_only, saved_session,
    serving, settle_editor, wait_for,
)

SHARED = ROOT.parent / "shared" / "data"  # ../shared beside the clone, as CI has it
FLCHAIN, MEDPAR = SHARED / "flchain_cohort.csv", SHARED / "medpar_cohort.csv"
ARTIFACTS = ROOT / "test-artifacts"
pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="/usr/bin/chromium is not installed"),
              pytest.mark.skipif(not (FLCHAIN.exists() and MEDPAR.exists()), reason="shared cohorts not here")]
EFFECTS = ("tv", "ctf_de", "ctf_ie", "ctf_se", "ett")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("clinician")) as app:
        yield app.url, app.workspace


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, request):
    """A fresh tab (its own Streamlit session) at 1440x1000, photographed when the test ends.
    Every "Page not found" the app shows, however briefly, is counted in window.__notFound."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.add_init_script("""window.__notFound = 0;
        new MutationObserver(() => { if (document.body && document.body.innerText.includes('Page not found'))
            window.__notFound += 1; }).observe(document, {childList: true, subtree: true});""")
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    yield pg
    keep_shot(pg, ARTIFACTS / f"clinician_end_{request.node.name}.png")
    context.close()


def go(page, title: str) -> None:
    go_to_step(page, title)  # clicks again when Streamlit drops the click in a rerun


def upload(page, path: Path, shown: str) -> None:
    page.locator("input[type=file]").first.set_input_files(str(path))
    page.get_by_text(re.compile(re.escape(shown))).first.wait_for(timeout=180_000)


def figure(page, key: str) -> dict:
    """The plotly figure of st.plotly_chart(key=...), as drawn: traces and shapes."""
    gd = page.locator(f".st-key-{key} .js-plotly-plot").first
    gd.wait_for(timeout=240_000)
    return gd.evaluate("""gd => ({
        data: gd._fullData.map(t => ({name: t.name, type: t.type, x: Array.from(t.x || []),
                                      y: Array.from(t.y || []), xaxis: t.xaxis,
                                      err: t.error_y ? {visible: !!t.error_y.visible,
                                                        up: Array.from(t.error_y.array || []),
                                                        down: Array.from(t.error_y.arrayminus || [])} : null})),
        shapes: (gd._fullLayout.shapes || []).map(s => ({type: s.type, xref: s.xref, x0: s.x0, x1: s.x1,
                                                         y0: s.y0, y1: s.y1})),
        axes: Object.keys(gd._fullLayout).filter(k => k.startsWith('yaxis'))
              .map(k => [k, (gd._fullLayout[k].title || {}).text || ''])})""")


def alert_kind(page, text: str) -> str:
    """'info', 'success', 'warning' or 'error': the kind of the alert box holding `text`."""
    box = page.locator("[data-testid=stAlert]", has_text=text).first
    box.wait_for(timeout=180_000)
    inner = box.locator("[data-testid^=stAlertContent]").first.get_attribute("data-testid")
    return inner.removeprefix("stAlertContent").lower()


def no_backslash_in_accessible_names(page) -> None:
    names = page.evaluate("""() => [...document.querySelectorAll('input, textarea, button, [role=combobox]')]
        .map(e => e.getAttribute('aria-label') || '').filter(Boolean)""")
    assert names and not [n for n in names if "\\" in n], names


def first_claims(text: str) -> list[float]:
    """The first signed size of each sentence bullet: '3.0 percentage points lower' -> -3.0."""
    out = []
    for size, way in re.findall(r"(\d+\.\d) percentage points (higher|lower)", text):
        out.append(float(size) * (1 if way == "higher" else -1))
    return out


def shows(page, key: str, value: str) -> None:
    """Wait until the select box of widget `key` (a combobox) shows `value`."""
    box = page.locator(f".st-key-{key} input[role=combobox]").first
    wait_for(lambda: box.input_value() == value, timeout=60, what=f"{key} showing {value}")


def choose(page, key: str, option: str) -> None:
    page.locator(f".st-key-{key} input[role=combobox]").first.click()
    page.get_by_role("option", name=option, exact=True).click()
    shows(page, key, option)


# ---------------------------------------------------------------------------- item 13

def test_every_step_has_an_address_and_a_one_row_table_is_not_called_loaded(server, page, tmp_path):
    url, _ = server
    page.goto(url + "/graph")  # the server's first visit: a step's address, not /
    page.get_by_text("Fairness question and causal graph").wait_for()
    page.get_by_text("Workspace folder (runs, data and the last session are kept here)").wait_for()  # app.py ran
    assert "2 Causal graph" in page.locator("[data-testid=stSidebarNav]").inner_text()
    page.goto(url + "/data")
    page.get_by_role("heading", name="Your data").wait_for()
    assert page.url.split("?")[0].endswith("/data")
    page.goto(url + "/")
    page.get_by_role("heading", name="Your data").wait_for()
    wait_for(lambda: page.url.split("?")[0].endswith("/data"), what="/ handing over to /data")
    assert page.evaluate("() => window.__notFound") == 0

    one = tmp_path / "one_row.csv"
    pd.read_csv(DEMO).head(1).to_csv(one, index=False)
    upload(page, one, "too few to compare two groups")
    assert page.get_by_text("Loaded one_row.csv.").count() == 0
    assert page.get_by_role("link", name=re.compile("Next: choose the fairness question")).count() == 0
    keep_shot(page, ARTIFACTS / "clinician_one_row.png")
    go(page, "Causal graph")
    page.get_by_text("No graph yet.").wait_for()
    assert page.get_by_role("button", name="Discover the graph from the data").is_disabled()
    assert page.get_by_text(re.compile("click Discover the graph")).count() == 0
    assert page.get_by_text(re.compile("needs a valid question")).is_visible()


# ------------------------------------------------ items 12, 8, 13, 11, 9, 10, 1, 2, 4, 5

def test_flchain_and_medpar_question_form_graph_check_and_audit(server, page):
    """flchain: the question form (12, 8, 13), the graph check (11), the discovered graph's first
    view and its lit edges and found-only view (9, 10), the audit (1). medpar: the question form
    (12), the graph check (11), a Bayes-net run with "Direct: remove" and its compare page (1, 2,
    4). flchain again: the generate form and the job banner are not medpar's (5)."""
    url, ws = server
    page.goto(url + "/data")
    upload(page, FLCHAIN, "flchain_cohort.csv: 7,874 rows")
    go(page, "Causal graph")
    page.get_by_text("Sensitive attribute (X)").first.wait_for()
    shows(page, "w_y", "death")  # item 12
    boxes = page.locator("[class*=st-key-w_lab_sex_] input")
    wait_for(lambda: boxes.count() == 2, what="two group-name boxes")
    assert {boxes.nth(i).get_attribute("placeholder") for i in range(2)} == {"e.g. the group's name"}  # item 8
    no_backslash_in_accessible_names(page)
    choose(page, "w_x", "flc.grp")  # a dotted name: its boxes' accessible names read as typed (item 13)
    page.get_by_role("textbox", name=re.compile(r"^Words for flc\.grp = ")).first.wait_for()
    no_backslash_in_accessible_names(page)
    choose(page, "w_x", "sex")
    g, found = discover(page, ws, "death")
    graph_check_box_matches_its_words(page)  # item 11
    settle_editor(page, g)
    first_view_readable(page, g)  # item 9: every node in the first view, labels >= 12 px
    _, hidden = node_lights_and_found_only(page, g, found, "sex")  # item 10
    assert hidden > 0
    keep_shot(page, ARTIFACTS / "clinician_flchain_graph.png")
    go(page, "Fairness audit")
    audit_page_agrees(page)  # item 1

    go(page, "Data")
    upload(page, MEDPAR, "medpar_cohort.csv: 1,495 rows")
    go(page, "Causal graph")
    page.get_by_text("Sensitive attribute (X)").first.wait_for()
    shows(page, "w_y", "died")
    choose(page, "w_x", "white")  # the sensitive attribute (the form starts at the first column, los)
    shows(page, "w_y", "died")
    discover(page, ws, "died")
    graph_check_box_matches_its_words(page)  # item 11
    run = generate_bayes_net(page, ws, direct="remove")
    assert run["settings"]["fairness"]["de"] == 1.0  # "Direct: remove" reached the run
    compare_page_agrees(page, run)  # items 1, 2, 4
    keep_shot(page, ARTIFACTS / "clinician_medpar_compare.png")

    # item 5: on the next data set the generate form starts afresh and medpar's banner is not shown
    go(page, "Data")
    upload(page, FLCHAIN, "flchain_cohort.csv: 7,874 rows")
    go(page, "Causal graph")
    page.get_by_text("Sensitive attribute (X)").first.wait_for()
    discover(page, ws, "death")  # the same data and question as before: the discovery is cached
    go(page, "Generate")
    page.get_by_text("Fairness per pathway").wait_for()
    none_yet = page.get_by_text("No generation started yet for this data set and question")
    finished = page.get_by_text(re.compile("Finished in .* saved as run"))
    wait_for(lambda: none_yet.count() + finished.count() > 0, what="the job panel drawn")
    assert finished.count() == 0, finished.first.inner_text()
    mode = page.locator(".st-key-w_mode_de input[role=combobox]").first
    assert mode.input_value() == "keep"
    assert page.get_by_label("Rows to generate").input_value() == str(min(DEFAULT_GENERATED_ROWS, 7874))
    assert page.get_by_role("radio", name=re.compile(r"\(default\)$")).is_checked()
    keep_shot(page, ARTIFACTS / "clinician_flchain_generate_again.png")


def discover(page, ws, y: str) -> tuple[CausalGraph, set]:
    """Click Discover on the graph page and wait until the graph and the search's own edges are
    saved for the question with outcome `y` and the graph check has spoken; (graph, found edges)."""
    page.get_by_role("button", name="Discover the graph from the data").click()
    page.get_by_text(re.compile("^Each edge of the standard fairness model")).wait_for(timeout=240_000)

    def saved():
        s = saved_session(ws)
        return s.get("graph") and s.get("found") and (s.get("problem") or {}).get("y") == y \
            and y in s["graph"]["nodes"]

    wait_for(saved, timeout=60, what="the discovered graph saved")
    s = saved_session(ws)
    return CausalGraph.from_dict(s["graph"]), {tuple(e) for e in s["found"]["edges"]}


def graph_check_box_matches_its_words(page) -> None:
    nothing = page.get_by_text(re.compile("^Nothing to test"))
    none = page.get_by_text(re.compile("^The data contradicts none"))
    wait_for(lambda: nothing.count() + none.count() + page.get_by_text(re.compile("^The data contradicts '")).count()
             > 0, timeout=120, what="the graph check's verdict")
    if nothing.count():
        assert alert_kind(page, "Nothing to test") == "info"
        assert page.get_by_text(re.compile(r"\(0 checked")).count() == 0
    if none.count():
        assert alert_kind(page, "The data contradicts none") == "success"
        assert re.search(r"\(([1-9]\d*) checked\)", none.first.inner_text())


def audit_page_agrees(page) -> dict:
    """The audit page's chart, caption and sentences say the same numbers; returns its bars."""
    page.get_by_text("In plain words").wait_for(timeout=300_000)
    fig = figure(page, "audit_chart")
    bars = dict(zip(fig["data"][0]["x"], fig["data"][0]["y"]))
    tv, de, ie, se = (bars[k] for k in ("Total gap", "Direct", "Indirect (via mediators)", "Spurious (via confounders)"))
    assert de - ie - se == pytest.approx(tv, abs=1e-6)  # the decomposition's identity: nothing negated
    caption = page.get_by_text(re.compile("total gap [+-]")).first.inner_text().replace("\u2212", "-")
    said = [float(v) for v in re.findall(r"[+-]\d+\.\d+", caption.split("total gap", 1)[1])[:4]]
    assert said == pytest.approx([tv, de, ie, se], abs=0.051)
    words = page.locator("[data-testid=stMarkdownContainer]", has_text="percentage points").all_inner_texts()
    for label, value in bars.items():
        line = next((w for w in words if w.startswith(label + ":")), None)
        if line is None or "no mediators" in line or "no confounders" in line:
            continue
        assert first_claims(line)[0] == pytest.approx(value, abs=0.051), (label, line)
    return bars


# ------------------------------------------------------------------ items 8, 11, 1, 2

def test_demo_from_graph_check_to_compare_page(server, page):
    url, ws = server
    page.goto(url + "/data")
    page.get_by_role("button", name=re.compile("Use the demo cohort")).click()
    page.get_by_text(re.compile(r"1,629 rows, 15 columns")).wait_for()
    go(page, "Causal graph")
    page.get_by_text("Sensitive attribute (X)").first.wait_for()
    shows(page, "w_y", "death")  # item 12 on the demo
    boxes = page.locator("[class*=st-key-w_lab_sex_] input")
    wait_for(lambda: boxes.count() == 2, what="two group-name boxes")
    assert {boxes.nth(i).get_attribute("placeholder") for i in range(2)} == {"e.g. the group's name"}
    page.get_by_role("button", name="Discover the graph from the data").click()
    page.get_by_text(re.compile("^Each edge of the standard fairness model")).wait_for(timeout=240_000)
    graph_check_box_matches_its_words(page)
    keep_shot(page, ARTIFACTS / "clinician_demo_graph.png")
    go(page, "Fairness audit")
    audited = audit_page_agrees(page)

    run = generate_bayes_net(page, ws)
    compare_page_agrees(page, run, audited)
    keep_shot(page, ARTIFACTS / "clinician_demo_compare.png")


def generate_bayes_net(page, ws, rows: int = 300, direct: str = "keep") -> dict:
    """On the generate page, a Bayes-net run of `rows` rows with the direct pathway `direct`
    (keep or remove), the rest as the form offers; waits until it is saved and its "Finished"
    banner is shown, and returns the saved run's result."""
    go(page, "Generate")
    page.get_by_text("Fairness per pathway").wait_for()
    runs = Path(ws) / "runs"
    before = set(runs.glob("*/run.json"))
    page.get_by_text("Bayesian network (quick preview)").click()
    box = page.get_by_label("Rows to generate")
    box.fill(str(rows))
    box.press("Enter")
    if direct != "keep":
        choose(page, "w_mode_de", direct)
    page.get_by_role("button", name="Generate", exact=True).click()
    refused = page.locator("[data-testid=stAlertContentError]")  # a run that fails says so: no 600 s wait
    wait_for(lambda: set(runs.glob("*/run.json")) - before or refused.count(), timeout=600, what="the run saved")
    assert set(runs.glob("*/run.json")) - before, refused.first.inner_text()
    page.get_by_text(re.compile("Finished in .* saved as run")).wait_for()
    return json.loads(next(iter(set(runs.glob("*/run.json")) - before)).read_text())["result"]


def compare_page_agrees(page, run: dict, audited: dict | None = None) -> None:
    """The compare page of the run just made (`run`, its saved result), in Chromium:
    - item 1: the effects chart draws the saved Decomposition numbers of each source;
    - item 4: the real data is all rows (equal to step 3's audit bars `audited` when given) and
      the fitting split is named the generator's target, both drawn with their 95% intervals and
      said with them in the run's caption, and one line says why two real numbers differ;
    - item 2: on the rounds chart a point lies inside its drawn band exactly when the run says it
      is within tolerance, and "Within tolerance: yes" is said exactly when every point is inside."""
    go(page, "Compare")
    page.get_by_role("tab", name="Fairness").wait_for()
    effects = figure(page, "cmp_effects")
    # by the names the chart shows: the real data (all rows) first, the fitting split as the generator's target
    every, fitting = run["real_effects_all_rows"], run["real_effects"]
    stored = {"real data, all": every, "generator's target": fitting, "synthetic": run["synthetic_effects"]}
    real_name = f"real data, all {every['rows']:,} rows"
    target_name = f"generator's target: fitting split, {run['fitting_rows']:,} rows"
    assert [t["name"] for t in effects["data"][:2]] == [real_name, target_name]
    if audited is not None:  # item 4: the compare page's real data is step 3's audit of all rows
        assert dict(zip(effects["data"][0]["x"], effects["data"][0]["y"])) == pytest.approx(audited, abs=1e-9)
    page.get_by_text(re.compile("^Why two real numbers: the generator learns from")).first.wait_for()
    for trace in effects["data"]:
        kind = next((k for k in stored if trace["name"].startswith(k)), None)
        if kind:
            want = [stored[kind]["estimates"][e] * 100 for e in EFFECTS]
            assert trace["y"] == pytest.approx(want, abs=1e-9), trace["name"]
        elif trace["name"] == "target after the edits":
            want = [run["target"][e] * 100 for e in ("ctf_de", "ctf_ie", "ctf_se") if run["target"].get(e) is not None]
            assert trace["y"] == pytest.approx(want, abs=1e-9)
    # item 4: both real numbers with their intervals, on the chart and in the caption
    for trace, d in zip(effects["data"][:2], (every, fitting)):
        half = [Z95 * d["ses"][e] * 100 for e in EFFECTS]
        assert trace["err"]["visible"] and all(h > 0 for h in half), (trace["name"], trace["err"])
        assert trace["err"]["up"] == pytest.approx(half, abs=1e-9), trace["name"]
        assert trace["err"]["down"] == pytest.approx(half, abs=1e-9), trace["name"]
    caption = page.locator("[data-testid=stCaptionContainer]", has_text="Direct: real data, all").first
    said = caption.inner_text().replace("\u2212", "-")
    for name, d in ((real_name, every), (target_name, fitting)):
        m = re.search(re.escape(name) + r" ([+-][\d.]+) pp \(95% CI ([+-][\d.]+) to ([+-][\d.]+)\)", said)
        assert m, (name, said)
        est, se = d["estimates"]["ctf_de"] * 100, d["ses"]["ctf_de"] * 100
        assert [float(v) for v in m.groups()] == pytest.approx([est, est - Z95 * se, est + Z95 * se], abs=0.051)
    assert said.index(real_name) < said.index(target_name)  # the real data named first

    rounds = figure(page, "cmp_rounds")
    last = run["rounds"][-1]
    inside = []
    for e, axis, label in (("ctf_de", "x", "Direct"), ("ctf_ie", "x2", "Indirect (via mediators)"),
                           ("ctf_se", "x3", "Spurious (via confounders)")):
        trace = next(t for t in rounds["data"] if t["name"] == label)
        assert trace["y"] == pytest.approx([r["measured"][e] * 100 for r in run["rounds"]], abs=1e-9)
        band = next(s for s in rounds["shapes"]
                    if s["xref"] == axis and abs((s["x0"] + s["x1"]) / 2 - last["round"]) < 1e-9)
        inside.append(band["y0"] <= last["measured"][e] * 100 <= band["y1"])
        assert inside[-1] == last["within"][e], e
    verdict = page.get_by_text(re.compile("^Within tolerance: (yes|no)")).first.inner_text()
    assert verdict.startswith("Within tolerance: yes") == all(inside) == run["converged"]
    if not all(inside):
        assert "every effect" not in verdict and "converged in" not in verdict
