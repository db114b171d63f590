"""Issue 19 item 6 in a real browser (Debian Chromium, Playwright, `streamlit run`): a Bayes-net
run on the demo at the Generate page's default settings, its bar's "about N s left" read with
the wall clock while it runs, against when the run really ended (its run folder appearing in
the workspace). From 20% of the run's time on, every reading is within 2x of the real remaining
time, with the slack stated below. tests/test_progress.py checks the same on recorded runs with
a fake clock; this checks the page shows that estimate, live. The server measures in full
(FAIRCAUSE_MEASURE=full), as the app does by default and as the plan's recorded costs were
measured, whatever lighter profile the rest of the suite uses.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from faircause_core.workflow import workspace
from tests.conftest import DEMO, ROOT
from tests.streamlit_server import CHROMIUM, chromium_page, serving, wait_for, wait_text

# slow: 69-71 s on the shared 2-core machine at a load of 5 (a 50 s run, the server's start and the page)
pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="/usr/bin/chromium is not installed"),
              pytest.mark.slow]

#: An ETA within this many seconds of the truth counts as right (the page shows whole seconds;
#: the same rule as tests/test_progress.replay).
SLACK_S = 2.0
#: How old a reading may be: the bar is redrawn once a second (st.fragment(run_every=1.0)), and
#: a redraw takes up to about a second more to reach the browser on a busy 2-core machine; the
#: true remaining time at the moment the shown ETA was computed lies in [left, left + REFRESH_S].
REFRESH_S = 2.0
ETA = re.compile(r"about (\d+(?:\.\d+)?) (s|min) left")


def _seed_workspace(ws: Path) -> None:
    """A workspace whose latest session has the demo, its question and the shipped demo graph."""
    from faircause_core.causal.graph import CausalGraph

    data_id = workspace.save_data(DEMO.read_bytes(), "nhefs_cohort.csv", root=ws)
    graph = CausalGraph.from_json((ROOT / "assets" / "nhefs_dag.json").read_text())
    workspace.save_session({"data_id": data_id, "kinds": {}, "graph": graph.to_dict(),
                            "problem": {"x": "sex", "x0": "Male", "x1": "Female", "y": "death",
                                        "threshold": None, "positive": None, "labels": None}}, root=ws)


def _busy_share(window_s: float = 1.0) -> float:
    """The share of the machine's CPU time spent busy over the next `window_s` (/proc/stat)."""
    def sample():
        fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(window_s)
    total1, idle1 = sample()
    return 1.0 - (idle1 - idle0) / max(total1 - total0, 1e-9)


def wait_until_quiet(most: float = 0.3, give_up_s: float = 120.0) -> float:
    """Wait (a condition, polled each second) until the CPU is mostly idle, at most give_up_s:
    the plan's stage costs were measured on a quiet machine. Returns the busy share it started
    at (shown when the test fails). The test's misses in clean-clone CI runs (2 of 4 on
    2026-12-06: "about 1 s left" with 5-6.5 s to go, 87% of the bar) were not load: the privacy
    step compiled Anonymeter's numba kernel for an argument signature the fresh venv's cache
    lacked (6.3 s against 2.5 s; reproduced here by emptying the cache). The kernel now has one
    signature, compiled by `make setup` (privacy.warm_kernel; tests/test_privacy.py)."""
    start, busy = time.monotonic(), 1.0
    while time.monotonic() - start < give_up_s:
        busy = _busy_share()
        if busy <= most:
            break
    return busy


def off_by(eta: float, left: float) -> float:
    """How far a reading is off: 1 when within SLACK_S of some true remaining time in
    [left, left + REFRESH_S], else the factor to the nearest one."""
    if left - SLACK_S <= eta <= left + REFRESH_S + SLACK_S:
        return 1.0
    return eta / (left + REFRESH_S) if eta > left else left / max(eta, 1e-9)


def test_time_left_shown_while_the_demo_runs_is_within_twice(tmp_path):
    _seed_workspace(tmp_path / "ws")
    runs = tmp_path / "ws" / "runs"
    # audits never kept (workflow.audit_store): the run audits as a first run does, every time
    with serving(tmp_path, FAIRCAUSE_MEASURE="full", FAIRCAUSE_AUDIT_CACHE="off") as app, chromium_page() as page:
        page.goto(app.url)
        page.get_by_role("link", name=re.compile("Generate")).first.click()
        page.get_by_text("Fairness per pathway").first.wait_for()
        page.get_by_text("Bayesian network (quick preview)").click()
        button = page.get_by_role("button", name="Generate", exact=True)
        wait_for(button.is_enabled, what="the Generate button enabled")
        busy = wait_until_quiet()
        started = time.monotonic()
        button.click()
        wait_text(page, app, re.compile("of the whole run"))
        samples, ended = [], None
        while ended is None and time.monotonic() - started < 600:
            if [r for r in runs.glob("*/run.json") if not r.parent.name.startswith(".")]:  # renamed into place: saved
                ended = time.monotonic()
                break
            try:
                text = page.get_by_text(re.compile("of the whole run")).first.inner_text(timeout=500)
            except Exception:  # the page is between two redraws, or the run has just ended
                continue
            at = time.monotonic()
            m = ETA.search(text)
            samples.append((at - started, float(m[1]) * (60 if m[2] == "min" else 1) if m else None, text))
            time.sleep(0.25)
        assert ended is not None, "the run did not end within 600 s"
        took = ended - started
        wait_text(page, app, re.compile("Finished in .* saved as run"))
        timings = workspace.list_runs(root=tmp_path / "ws")[0]["timings"]  # the run's own, shown on failure

    late = [(t, eta, text) for t, eta, text in samples if t >= 0.2 * took and took - t > 1.0]
    assert len(late) >= 5, (took, samples)
    assert all(eta is not None for _, eta, _ in late), late  # no "estimating..." after 20% of the time
    ratios = [(off_by(eta, took - t), round(t, 1), text) for t, eta, text in late]
    worst = max(ratios)
    print(f"run took {took:.1f} s; {len(late)} readings after 20%; worst off by {worst[0]:.2f}x at {worst[1]} s")
    print("\n".join(f"{t:6.1f} s: {text}" for t, _, text in samples))
    print("the run's own timings:", timings)
    assert worst[0] <= 2.0, (took, worst, f"CPU {busy:.0%} busy at the start", timings)
