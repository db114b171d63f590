"""Issue 22 item 1: the size limits stay configurable. FAIRCAUSE_MAX_ROWS, _COLUMNS and
_FILE_MB set them for the CLI and the app; a bad value is one line (exit 2 in the CLI, an
error on the data page) and the defaults hold."""

import pytest

from faircause_core.errors import InputError
from faircause_core.limits import Limits, from_environment
from tests.clirun import run_cli_process
from tests.conftest import DEMO

AUDIT = ["audit", "--data", DEMO, "--sensitive", "sex", "--x0", "Male", "--x1", "Female", "--outcome", "death",
         "--z", "age", "race", "--w", "smoke_years", "--method", "plugin"]


def test_the_environment_sets_each_limit():
    got = from_environment({"FAIRCAUSE_MAX_ROWS": "2,000,000", "FAIRCAUSE_MAX_COLUMNS": "120",
                            "FAIRCAUSE_MAX_FILE_MB": "1500.5"})
    assert got == Limits(max_rows=2_000_000, max_columns=120, max_file_mb=1500.5)
    assert from_environment({}) == Limits()  # unset: the defaults


@pytest.mark.parametrize("name, value, words", [
    ("FAIRCAUSE_MAX_ROWS", "lots", "is not a whole number"), ("FAIRCAUSE_MAX_ROWS", "2.5", "is not a whole number"),
    ("FAIRCAUSE_MAX_COLUMNS", "0", "must be above 0"), ("FAIRCAUSE_MAX_FILE_MB", "inf", "must be above 0"),
    ("FAIRCAUSE_MAX_FILE_MB", "-3", "must be above 0")])
def test_a_bad_value_names_the_variable(name, value, words):
    with pytest.raises(InputError, match=f"{name}='{value}' {words}"):
        from_environment({name: value})


def test_the_cli_obeys_the_environment(monkeypatch):
    """The demo's 1,629 rows pass under the default limit and are refused under 1,000 rows; a
    bad value is one line, exit 2, before the file is read."""
    assert run_cli_process(*AUDIT).returncode == 0
    monkeypatch.setenv("FAIRCAUSE_MAX_ROWS", "1000")
    proc = run_cli_process(*AUDIT)
    assert proc.returncode == 2 and "1,000" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    monkeypatch.setenv("FAIRCAUSE_MAX_ROWS", "many")
    proc = run_cli_process(*AUDIT)
    assert proc.returncode == 2 and proc.stderr.strip() == "error: FAIRCAUSE_MAX_ROWS='many' is not a whole number"


def test_by_default_two_million_rows_are_read_and_one_more_is_refused(tmp_path):
    """Issue 22 item 1's size by default (measured within 16 GB: docs/benchmarks.md): a
    2,000,000-row Parquet file is read whole; 2,000,001 rows are refused from the footer, in one
    line naming the limit, before any row is read."""
    import numpy as np
    import pandas as pd

    from faircause_core.io.data import load_table
    from faircause_core.limits import DEFAULT_LIMITS

    assert DEFAULT_LIMITS == Limits() and Limits().max_rows == 2_000_000
    rng = np.random.default_rng(0)
    for n in (2_000_000, 2_000_001):
        pd.DataFrame({"group": rng.integers(0, 2, n).astype(np.int8),
                      "died": rng.integers(0, 2, n).astype(np.int8)}).to_parquet(tmp_path / f"t{n}.parquet")
    assert load_table(tmp_path / "t2000000.parquet").df.shape == (2_000_000, 2)
    with pytest.raises(InputError, match=r"^t2000001.parquet has 2,000,001 rows, over the limit of 2,000,000$"):
        load_table(tmp_path / "t2000001.parquet")
