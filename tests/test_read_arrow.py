"""pyarrow's CSV reader gives the table pandas' reader gives (issue 22 item 1).

data._read_csv splits a large quote-free file with pyarrow (data.ARROW_MIN_BYTES); every
cell is still read as text and typed by the same rules. Here each file is read both ways
(the threshold at 0 bytes and out of reach) and the outcomes must be identical: the same
frames (dtypes included), schema, notes and raw columns, or the same one-line error.
"""

from __future__ import annotations

import random
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faircause_core.errors import InputError
from faircause_core.io import data
from faircause_core.limits import Limits

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"  # ../shared beside the clone, as CI has it
COHORTS = [ROOT / "assets" / "nhefs_cohort.csv", *sorted(SHARED.glob("*.csv"))]
LIMITS = Limits(max_rows=2_000_000, max_file_mb=2_000.0)


def _read(content: bytes, name: str, arrow: bool, limits: Limits = LIMITS):
    """(table, None) or (None, message), with pyarrow always or never used."""
    saved = data.ARROW_MIN_BYTES
    data.ARROW_MIN_BYTES = 0 if arrow else 1 << 62
    try:
        return data.load_table(content, name=name, limits=limits), None
    except InputError as err:
        return None, str(err)
    finally:
        data.ARROW_MIN_BYTES = saved


#: What pandas' path says when its C tokenizer fails ("Buffer overflow caught") on a file whose
#: rows csv.reader finds all square: seen with \r line ends and a line starting with a space.
PANDAS_TOKENIZER_FAILED = " has rows with a different number of fields than the header"


def assert_same_both_ways(content: bytes, name: str = "f.csv", limits: Limits = LIMITS):
    old, old_error = _read(content, name, arrow=False, limits=limits)
    new, new_error = _read(content, name, arrow=True, limits=limits)
    if old_error == name + PANDAS_TOKENIZER_FAILED and new_error != old_error:
        # the one known difference: pyarrow reads a well-formed file pandas' tokenizer refuses
        assert b"\r" in content and _used_arrow(content, name)
        return None
    assert new_error == old_error
    if old is None:
        return None
    pd.testing.assert_frame_equal(new.df, old.df, check_exact=True)
    pd.testing.assert_frame_equal(new.raw, old.raw, check_exact=True)
    assert new.schema == old.schema
    assert new.warnings == old.warnings and new.file_warnings == old.file_warnings
    assert new.column_warnings == old.column_warnings
    return new


def _used_arrow(content: bytes, name: str = "f.csv") -> bool:
    """Whether pyarrow read the file (rather than falling back to pandas)."""
    text = data._decode(content, name)
    delimiter = data._guess_delimiter(text.lstrip("\r\n").split("\n", 1)[0], name)
    header = next(r for r in data.csv.reader(data.io.StringIO(text, newline=""), delimiter=delimiter) if any(r))
    return data._read_csv_arrow(content, delimiter, header) is not None


@pytest.mark.parametrize("path", COHORTS, ids=lambda p: p.name)
def test_every_cohort_reads_the_same_both_ways(path):
    content = path.read_bytes()
    table = assert_same_both_ways(content, path.name)
    assert table is not None and table.n_rows > 100
    assert _used_arrow(content, path.name) == (b'"' not in content)


AWKWARD = {
    "bom.csv": "\ufeffid,sex,age\n1,M,3\n2,F,4\n",
    "semicolon.csv": "a;b;c\n1;x;2,5\n2;y;3,5\n",
    "tab.tsv": "a\tb\n1\tx\n2\ty\n",
    "pipe.txt": "a|b\n1|x\n2|y\n",
    "crlf.csv": "a,b\r\n1,x\r\n2,y\r\n",
    "cr.csv": "a,b\r1,x\r2,y\r",
    "gaps.csv": "a,b\n\n1,x\n,\n2,y\n\n3,x\n",
    "lead.csv": ",,\n\n,,\na,b,c\n1,2,3\n,,\n4,5,6\n",
    "blank_header.csv": ",a,,b\n0,1,2,3\n1,4,5,6\n",
    "dup.csv": "a,b,a\n1,2,3\n",
    "dup_spaces.csv": "a,b, a\n1,2,3\n",
    "spaces.csv": "T Stage ,  sex,death\n 1, M,0\n2 ,F ,1\n3,M,0\n",
    "tokens.csv": "a,b,c\n1,x,NA\nNA,y,n/a\n,x,?\n?,y,-\n4,N/A,.\n5,None,nan\n",
    "codes.csv": "zip,n,flag\n02139,1,True\n10001,2,False\n00501,3,True\n",
    "thousands.csv": "a,b\n\"265,000\",1\n1,2\n",
    "numbers.csv": "a,b,c\n1e400,-0,inf\n1.5,0,-inf\n2.25,1,3\n",
    "ragged_short.csv": "a,b,c\n1,2,3\n4,5\n",
    "ragged_long.csv": "a,b,c\n1,2,3\n4,5,6,7\n",
    "ragged_blank_line.csv": "a,b,c\n1,2,3\n   \n4,5,6\n",
    "one_column.csv": "age\n1\n2\n",
    "header_only.csv": "a,b,c\n",
    "only_blank_cells.csv": ",,\n,,\n",
    "blank_lines.csv": "\n\n  \n",
    "trailing_delimiter.csv": "a,b,\n1,2,\n3,4,\n",
    "odd_chars.csv": "a,b\n\x0c,1\n\u2028,2\nx\u2028y,3\n<img src=x onerror=alert(1)>,4\n",
    "no_final_newline.csv": "a,b\n1,x\n2,y",
    "latin.csv": "a,b\n1,x\n2,caf\xe9\n",
    "quoted.csv": 'a,b\n"x, y",1\n"multi\nline",2\nz,1\n',
    "identifiers.csv": "id,b\n" + "".join(f"p{i},{i % 2}\n" for i in range(40)),
}


def test_a_file_pandas_tokenizer_refuses_is_read_by_pyarrow():
    """Found by the fuzzer below: pandas' C parser fails on this well-formed file (\r line ends, a
    line starting with a space), and the pandas path says its generic line; pyarrow reads it (here
    the rows leave no usable column, which is then said)."""
    content = b"a,b\r1,x\r ,y\r2,x\r"
    assert _read(content, "cr.csv", arrow=False)[1] == "cr.csv" + PANDAS_TOKENIZER_FAILED
    table, error = _read(content, "cr.csv", arrow=True)
    assert error is None and table.raw["b"].tolist() == ["x", "y", "x"] and table.raw["a"].isna().tolist() == [False, True, False]


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_awkward_files_read_the_same_both_ways(name):
    text = AWKWARD[name]
    content = text.encode("latin-1") if name == "latin.csv" else text.encode("utf-8")
    assert_same_both_ways(content, name)


def test_a_large_multi_block_file_reads_the_same_both_ways():
    """Over 1 MB: pyarrow splits it in blocks and threads; blank lines, ',,' rows, a BOM, a
    leading blank row, missing tokens, codes with leading zeros and spaced values throughout."""
    rng = random.Random(0)
    words = ["Male", " Female", "NA", "", "?", "007", "12", "3.5", "x y", "265,000"]
    lines = ["\ufeff,,,,,", "id,a,b,c,d,e"]
    for i in range(60_000):
        if i % 997 == 0:
            lines.append(",,,,,")
        if i % 1009 == 0:
            lines.append("")
        lines.append(f"{i}," + ",".join(rng.choice(words) if j != 1 else f"{rng.gauss(0, 1):.3f}"
                                         for j in range(5)).replace("265,000", "265000"))
    content = "\r\n".join(lines).encode("utf-8")
    assert len(content) > 1024 * 1024 and _used_arrow(content)  # pyarrow blocks are 1 MB
    table = assert_same_both_ways(content, "big.csv")
    assert table.n_rows == 60_000 and any("skipped" in w for w in table.warnings)


def test_limits_and_the_default_threshold():
    """Row and column limits say the same line both ways; small files keep the pandas path."""
    content = ("a,b\n" + "1,2\n" * 50).encode()
    assert _read(content, "f.csv", True, Limits(max_rows=10))[1] == "f.csv has 50 rows, over the limit of 10"
    assert_same_both_ways(content, "f.csv", Limits(max_rows=10))
    assert_same_both_ways(("a,b,c\n1,2,3\n").encode(), "f.csv", Limits(max_columns=2))
    assert not data._arrow_suits(content) and data._arrow_suits(b"a,b\n" + b"1,2\n" * 300_000)
    assert not data._arrow_suits(b'a,b\n"1",2\n' * 300_000)


UNQUOTED = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "n/a", "?", "-", ".", "1,5", "007", "True", "None", "Male", "Female", " x ",
                     "1e400", "-0", "inf", "\x0c", "\u2028", " ", "\t", ";", "|"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters='"\r\n'), max_size=8),
)


@st.composite
def unquoted_files(draw):
    """Quote-free files (the ones pyarrow reads): any cells, delimiters, line ends, blank and
    ragged lines, a BOM."""
    width = draw(st.one_of(st.integers(0, 5), st.integers(2, 5), st.integers(2, 5)))  # mostly a usable header
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    odd_names = st.lists(UNQUOTED, min_size=width, max_size=width)
    plain_names = st.lists(st.text(string.ascii_letters + " _", min_size=1, max_size=6).filter(str.strip),
                           min_size=width, max_size=width, unique_by=lambda n: " ".join(n.split()))
    names = draw(st.one_of(odd_names, plain_names))
    rows = draw(st.lists(st.lists(UNQUOTED, min_size=max(width - 1, 0), max_size=width + 1), max_size=10))
    if draw(st.integers(0, 3)):  # three times in four: every row has the header's width
        rows = [(r + [""] * width)[:width] for r in rows]
    lines = [delimiter.join(names)] + [delimiter.join(r) for r in rows]
    for _ in range(draw(st.integers(0, 3))):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", delimiter * max(width - 1, 0), " "])))
    text = ("\ufeff" if draw(st.booleans()) else "") + newline.join(lines) + draw(st.sampled_from(["", newline]))
    return text.encode("utf-8")


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(unquoted_files(), st.sampled_from([".csv", ".tsv", ""]))
def test_random_quote_free_files_read_the_same_both_ways(content, ext):
    assert_same_both_ways(content, f"fuzz{ext}")
