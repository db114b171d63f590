"""A large upload in a real browser (Debian Chromium, Playwright): "Reading file ..." is on screen
while the table loads, with a bar naming the stage and counting the columns, then the table is
shown. Streamlit shows a spinner only after half a
second, so a file this size (200,000 rows, about 13 MB) is what a user would wait for."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.streamlit_server import CHROMIUM, chromium_page, serving

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="/usr/bin/chromium is not installed")


def test_a_large_upload_shows_reading_file_until_it_is_loaded(tmp_path):
    rng = np.random.default_rng(0)
    n = 200_000
    big = tmp_path / "big.csv"
    pd.DataFrame({"sex": rng.choice(["Male", "Female"], n), "age": rng.integers(20, 90, n),
                  "weight": rng.normal(70, 12, n).round(1), "stage": rng.integers(1, 5, n),
                  "smoker": rng.integers(0, 2, n), "income": rng.choice(["low", "mid", "high"], n),
                  "bp": rng.normal(130, 15, n).round(1), "death": rng.integers(0, 2, n)}).to_csv(big, index=False)
    with serving(tmp_path) as app, chromium_page() as page:
        page.goto(app.url)
        page.locator("input[type=file]").first.wait_for(state="attached")
        # Every text the page shows while the file loads, however briefly (an idle machine reads
        # the file in about a second): recorded by a MutationObserver set up before the upload.
        page.evaluate("""() => { window.__seen = [];
            new MutationObserver(() => { const t = document.body.innerText;
                if (t.includes('Reading file')) window.__seen.push(t); })
              .observe(document.body, {childList: true, subtree: true, characterData: true}); }""")
        page.locator("input[type=file]").first.set_input_files(str(big))
        status = page.get_by_text(re.compile(r"Reading file big\.csv \(\d+\.\d MB\)\.\.\."))
        page.get_by_text("Loaded big.csv.").wait_for(state="visible", timeout=120_000)
        seen = page.evaluate("() => window.__seen")
        assert any(re.search(r"Reading file big\.csv \(\d+\.\d MB\)\.\.\.", t) for t in seen), seen[:1]
        # the bar names the stage and counts the columns (issue 22 item 5: the upload shows progress)
        assert any(re.search(r"(parsing|typing) columns [1-8] of 8", t) for t in seen), seen[-1:]
        assert page.get_by_text(re.compile("200,000 rows, 8 columns")).is_visible()
        assert not status.is_visible()  # gone once the table is loaded
