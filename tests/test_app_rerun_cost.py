"""A rerun of the graph page does no work that grows with the table's columns (issue 22 item 5:
pages stay responsive with a big table). Its question form proposes X and Y from every column's
distinct values (causal.question.default_sensitive / default_outcome); counted on every rerun,
that was 1.3 s a click on 2,000,000 x 100. They are counted once per loaded table now
(faircause_app.cache.distinct_counts). Counted here: pandas' Series.nunique calls during one
rerun, on a 40-column table, through Streamlit's AppTest (the page's own code, in process)."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DEMO, ROOT
from tests.test_app import app, texts  # noqa: F401  (app: the fixture, a fresh workspace)

SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture()
def wide_graph_page(app):  # noqa: F811
    """The demo's first 800 rows beside 25 more columns (numbers, codes, text), on the graph page."""
    df = pd.read_csv(DEMO).head(800)
    rng = np.random.default_rng(0)
    for i in range(10):
        df[f"lab_{i}"] = rng.normal(50, 10, len(df)).round(1)
        df[f"code_{i}"] = rng.integers(0, 4, len(df))
    for i in range(5):
        df[f"site_{i}"] = rng.choice(["north", "south", "east"], len(df))
    assert df.shape[1] == 40
    app.file_uploader(key="w_upload").upload("wide.csv", df.to_csv(index=False).encode(), "text/csv").run()
    app.switch_page("pages/2_graph.py").run()
    assert not app.exception, texts(app.exception)
    return app


def nunique_calls(monkeypatch) -> list:
    calls = []
    original = pd.Series.nunique

    def counted(self, *args, **kwargs):
        calls.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pd.Series, "nunique", counted)
    return calls


def test_a_graph_page_rerun_counts_no_columns_distinct_values(wide_graph_page, monkeypatch):
    at = wide_graph_page
    calls = nunique_calls(monkeypatch)
    at.run()
    assert not at.exception, texts(at.exception)
    assert at.selectbox(key="w_x").value == "sex" and at.selectbox(key="w_y").value == "death"  # the defaults hold
    assert len(calls) <= 4, calls  # the chosen X and Y's own checks, not every column's


@pytest.mark.parametrize("path", [DEMO, SHARED / "flchain_cohort.csv", SHARED / "medpar_cohort.csv"],
                         ids=lambda p: p.stem)
def test_the_defaults_from_kept_counts_are_those_counted_afresh(path):
    """The same proposals from the kept counts as from the table; and the counts are what is
    read (the control: a count that says death has three values makes another column the outcome)."""
    from faircause_core.causal.question import default_outcome, default_sensitive, distinct_counts
    from faircause_core.io.data import load_table

    if not path.exists():
        pytest.skip(f"{path.name} is not available")
    df = load_table(path).df
    counts = distinct_counts(df)
    assert counts == {c: df[c].nunique(dropna=True) for c in df.columns}
    assert default_outcome(df, counts=counts) == default_outcome(df)
    assert default_sensitive(df, counts=counts) == default_sensitive(df)
    y = default_outcome(df)
    assert default_outcome(df, counts={**counts, y: 3}) != y
