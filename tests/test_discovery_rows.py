"""Issue 22 item 2, discovery: above its cap the search sees a stratified subsample of stated
size (causal.discovery.search_rows): every (X, Y) cell keeps its share of the rows, and the
result records how many rows were searched."""

import numpy as np
import pandas as pd

from faircause_core.causal.discovery import discover_report, search_rows
from faircause_core.io.data import table_from_frame
from faircause_core.present.explain import searched_note


def table(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random(n) < 0.3
    y = rng.random(n) < np.where(x, 0.02, 0.01)  # a rare outcome: about 1.3% of rows
    w = rng.normal(0, 1, n) + x
    return pd.DataFrame({"x": np.where(x, "F", "M"), "w": np.round(w, 2), "y": y.astype(int)})


def test_below_the_cap_every_row_is_searched():
    df = table(500).astype(str)
    assert search_rows(df, "x", "y", 1000, seed=0).equals(df.reset_index(drop=True))


def test_above_the_cap_each_cell_keeps_its_share():
    df = table(60_000).astype(str)
    got = search_rows(df, "x", "y", 5_000, seed=0)
    assert len(got) == 5_000
    full = df.groupby(["x", "y"]).size() / len(df) * 5_000
    kept = got.groupby(["x", "y"]).size()
    assert ((kept - full).abs() < 1).all(), pd.concat([full, kept], axis=1)
    assert search_rows(df, "x", "y", 5_000, seed=0).equals(got)  # seeded
    assert not search_rows(df, "x", "y", 5_000, seed=1).equals(got)
    # negative control: an unstratified draw of the same size misses the rare cells' shares
    plain = df.iloc[np.random.default_rng(3).choice(len(df), 5_000, replace=False)]
    assert (plain.groupby(["x", "y"]).size() - full).abs().max() >= 1


def test_the_report_says_how_many_rows_were_searched(monkeypatch):
    import faircause_core.causal.discovery as discovery

    monkeypatch.setattr(discovery, "MAX_DISCOVERY_ROWS", 2_000)
    tab = table_from_frame(table(6_000), name="t")
    assert discover_report(tab, "x", "y", seed=0).searched_rows == 2_000
    assert discover_report(table_from_frame(table(1_500), name="t"), "x", "y", seed=0).searched_rows == 1_500


def test_the_cli_says_the_rows_searched(tmp_path, monkeypatch):
    import faircause_core.causal.discovery as discovery
    from tests.clirun import run_cli

    monkeypatch.setattr(discovery, "MAX_DISCOVERY_ROWS", 2_000)
    path = tmp_path / "t.csv"
    table(6_000).to_csv(path, index=False)
    proc = run_cli("discover", "--data", path, "--sensitive", "x", "--outcome", "y", "--out", tmp_path / "g.json")
    assert proc.returncode == 0, proc.stderr
    assert searched_note(2_000, 6_000) in proc.stdout
    assert "Discovery searched a seeded 2,000 of the 6,000 rows, stratified by the sensitive attribute" in proc.stdout
    small = tmp_path / "s.csv"
    table(1_500).to_csv(small, index=False)
    proc = run_cli("discover", "--data", small, "--sensitive", "x", "--outcome", "y", "--out", tmp_path / "h.json")
    assert proc.returncode == 0 and "Discovery searched" not in proc.stdout  # every row searched: nothing to say


def test_the_graph_page_says_the_rows_searched(tmp_path, monkeypatch):
    """Issue 22 item 5: the app says a discovery was run on a subsample, and how large (the
    search's cap, 20,000 rows, is the product's: AppTest's discovery runs in a worker process)."""
    from streamlit.testing.v1 import AppTest

    from faircause_core.causal.discovery import MAX_DISCOVERY_ROWS
    from tests.conftest import ROOT

    monkeypatch.setenv("FAIRCAUSE_WORKSPACE", str(tmp_path / "ws"))
    sizes = {"big.csv": MAX_DISCOVERY_ROWS + 1_000, "small.csv": 1_500}
    for name, n in sizes.items():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.run()
        at.file_uploader(key="w_upload").upload(name, table(n).to_csv(index=False).encode(), "text/csv").run()
        at.switch_page("pages/2_graph.py").run()
        at.selectbox(key="w_x").set_value("x").run()
        at.selectbox(key="w_y").set_value("y").run()
        at.selectbox(key="w_x0_x").set_value("M")
        at.selectbox(key="w_x1_x").set_value("F").run()
        at.button(key="w_discover").click().run()
        assert not at.exception and not at.error, [e.value for e in list(at.exception) + list(at.error)]
        said = [c.value for c in at.caption if c.value.startswith("Discovery searched")]
        if n > MAX_DISCOVERY_ROWS:
            assert said == [searched_note(MAX_DISCOVERY_ROWS, n)], said
        else:
            assert said == []  # every row searched: nothing to say
