"""The app in a real browser with the default limit's size (issue 22 item 5): 2,000,000 rows.

Debian Chromium (Playwright) against `streamlit run app.py` with its own workspace, on
bench_scale.py's structural model at 2,000,000 rows (6 columns; its columns renamed so that the
page's defaults read them: x -> sex, y -> death), timing what a user waits for:

- upload: the file chosen until "2,000,000 rows, 6 columns" is shown;
- graph page: the link clicked until the page's title is shown, then the discovery;
- audit: the page opened until its expected-time line is on screen, and until the audit is
  drawn ("In plain words");
- a page switch while the audit runs (to the data page and back): how long the link takes.

    .venv/bin/python bench/bench_app_big.py [--rows 2000000] [--out bench/out/app_big.json]

The whole app's memory (server and its worker processes) is sampled every second; its peak is
reported. One run; the machine is shared, so the load average is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"


def renamed_csv(n: int) -> Path:
    from bench.bench_scale import csv_for

    path = OUT / f"app_big_{n}.csv"
    if not path.exists():
        import pandas as pd

        pd.read_csv(csv_for(n)).rename(columns={"x": "sex", "y": "death", "z": "region", "w": "treated"}) \
          .to_csv(path, index=False)
    return path


def tree_rss_gb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in GB (from /proc)."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, []))
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 2**20


def main() -> None:
    from tests.streamlit_server import chromium_page, go_to_step, serving, wait_text

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--out", default=str(OUT / "app_big.json"))
    args = ap.parse_args()
    csv = renamed_csv(args.rows)
    out: dict = {"rows": args.rows, "file_mb": round(csv.stat().st_size / 2**20, 1), "load": os.getloadavg()[0]}
    base = OUT / "app_big_run"
    import shutil

    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    with serving(base) as app, chromium_page() as page:
        peak, stop = [0.0], threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], tree_rss_gb(app.proc.pid))
                time.sleep(1)

        threading.Thread(target=sample, daemon=True).start()
        page.goto(app.url)
        page.locator("input[type=file]").first.wait_for(state="attached")
        t = time.perf_counter()
        page.locator("input[type=file]").first.set_input_files(str(csv))
        wait_text(page, app, re.compile(f"{args.rows:,} rows, 6 columns"), timeout_ms=600_000)
        out["upload_s"] = time.perf_counter() - t

        t = time.perf_counter()
        go_to_step(page, "Causal graph", timeout_ms=120_000)
        wait_text(page, app, "Sensitive attribute (X)", timeout_ms=120_000)
        out["graph_page_s"] = time.perf_counter() - t
        t = time.perf_counter()
        page.get_by_role("button", name="Discover the graph from the data").click()
        page.locator('iframe[title*="streamlit_flow"]').first.wait_for(state="attached", timeout=600_000)
        wait_text(page, app, re.compile("Discovery searched a seeded"), timeout_ms=600_000)
        out["discover_s"] = time.perf_counter() - t

        t = time.perf_counter()
        go_to_step(page, "Fairness audit", timeout_ms=120_000)
        wait_text(page, app, re.compile(f"The audit of {args.rows:,} rows"), timeout_ms=120_000)
        out["audit_wait_line_s"] = time.perf_counter() - t
        said = page.get_by_text(re.compile(f"The audit of {args.rows:,} rows")).first.inner_text()
        out["audit_wait_line"] = said
        t2 = time.perf_counter()
        go_to_step(page, "Data", timeout_ms=900_000)
        out["switch_to_data_during_audit_s"] = time.perf_counter() - t2
        t2 = time.perf_counter()
        go_to_step(page, "Fairness audit", timeout_ms=120_000)
        wait_text(page, app, "In plain words", timeout_ms=1_200_000)
        out["back_to_audit_until_drawn_s"] = time.perf_counter() - t2
        out["audit_until_drawn_s"] = time.perf_counter() - t
        stop.set()
        out["app_peak_rss_gb"] = round(peak[0], 2)
    print(json.dumps(out, indent=1))
    Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
