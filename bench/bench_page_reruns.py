"""What a click costs on each page with a big table (issue 22 item 5: pages stay responsive).

Streamlit's AppTest runs the app's own pages in this process: the demo's rows resampled to n
rows beside 25 more columns (10 measurements, 10 codes, 5 text categories: 40 in all), uploaded,
then each page opened and rerun (what a click on a widget does), and the graph page's discovery.
Seconds per step; the first visit of a page computes what it keeps (the graph page: the column
suggestions, and the discovery hints searched on a stated subsample in a worker process), a
rerun reads it back.

    .venv/bin/python bench/bench_page_reruns.py [--sizes 20000,200000] [--out bench/out/page_reruns.json]

One run per size; the machine is shared, so the load average is reported with each.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
PAGES = ("pages/1_data.py", "pages/2_graph.py", "pages/3_audit.py", "pages/4_generate.py", "pages/5_compare.py")


def table(n: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.read_csv(ROOT / "assets" / "nhefs_cohort.csv").sample(n, replace=True, random_state=0)
    df = df.reset_index(drop=True)
    for i in range(10):
        df[f"lab_{i}"] = rng.normal(50, 10, n).round(1)
        df[f"code_{i}"] = rng.integers(0, 4, n)
    for i in range(5):
        df[f"site_{i}"] = rng.choice(["north", "south", "east"], n)
    return df


def timed(step) -> float:
    t = time.perf_counter()
    step()
    return round(time.perf_counter() - t, 2)


def one(n: int) -> dict:
    from streamlit.testing.v1 import AppTest

    os.environ["FAIRCAUSE_WORKSPACE"] = tempfile.mkdtemp(prefix="bench-pages-")
    csv = table(n).to_csv(index=False).encode()
    out = {"rows": n, "columns": 40, "csv_mb": round(len(csv) / 2**20, 1), "load": os.getloadavg()[0]}
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800)
    at.run()
    out["upload_s"] = timed(lambda: at.file_uploader(key="w_upload").upload("big.csv", csv, "text/csv").run())
    for page in PAGES[:2]:
        out[f"{Path(page).stem}_first_s"] = timed(lambda: at.switch_page(page).run())
        out[f"{Path(page).stem}_rerun_s"] = timed(at.run)
    out["discover_s"] = timed(lambda: at.button(key="w_discover").click().run())
    out["2_graph_rerun_after_discovery_s"] = timed(at.run)
    for page in PAGES[2:] + PAGES[:1]:  # the audit page's first visit is the audit itself
        out[f"{Path(page).stem}_{'first' if page != PAGES[0] else 'again'}_s"] = timed(lambda: at.switch_page(page).run())
        out[f"{Path(page).stem}_rerun_s"] = timed(at.run)
    out["errors"] = [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="20000,200000")
    ap.add_argument("--out", default=str(OUT / "page_reruns.json"))
    args = ap.parse_args()
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        results.append(one(n))
        print(json.dumps(results[-1]))
    OUT.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
