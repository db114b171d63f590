import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faircause_core.io.data import Table, exclude_columns, load_table, table_from_frame
from faircause_core.errors import InputError
from faircause_core.limits import Limits
from faircause_core.io.schema import Kind

DEMO = Path(__file__).resolve().parents[1] / "assets" / "nhefs_cohort.csv"
GOOD = "id,sex,age,score\n" + "".join(f"{i},{'FM'[i % 2]},{20 + i % 7},{i * 0.5:.1f}\n" for i in range(30))


def _write(tmp_path, name, content) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _error(source, **kw) -> str:
    """The one-line message of the InputError a bad source raises."""
    with pytest.raises(InputError) as info:
        load_table(source, **kw)
    message = str(info.value)
    assert "\n" not in message and message
    return message


# ----------------------------------------------------------------------- demo cohort

def test_demo_cohort_kinds_and_missing():
    table = load_table(DEMO)
    kinds = {c.name: c.kind.value for c in table.schema}
    for col in ("sex", "race", "heart_failure", "quit_smoking", "death"):
        assert kinds[col] == "binary", col
    for col in ("education", "exercise", "activity", "high_bp"):
        assert kinds[col] == "categorical", col
    for col in ("age", "smoke_intensity", "smoke_years", "cholesterol"):
        assert kinds[col] == "integer", col
    assert kinds["income_bracket"] in ("ordinal", "integer")
    assert kinds["weight_kg_1971"] == "continuous"
    assert table.schema["income_bracket"].n_missing == 62
    assert table.schema["cholesterol"].n_missing == 16
    assert table.schema["weight_kg_1971"].decimals == 1
    assert table.schema["sex"].categories == ["Female", "Male"]
    assert table.schema["death"].categories == [0, 1]
    assert table.name == "nhefs_cohort.csv" and table.warnings == []
    assert table.df.shape == (1629, 15)


def test_demo_cohort_dtypes():
    df = load_table(DEMO).df
    assert df["age"].dtype == np.float64 and df["weight_kg_1971"].dtype == np.float64
    assert df["cholesterol"].isna().sum() == 16
    assert df["death"].dtype == np.float64 and set(df["death"].unique()) == {0.0, 1.0}
    assert df["sex"].iloc[0] == "Male" and isinstance(df["sex"].iloc[0], str)
    assert df["death"].mean() == pytest.approx(0.195, abs=0.001)


# ---------------------------------------------------------------------------- sources

def test_path_bytes_and_file_like_agree(tmp_path):
    path = _write(tmp_path, "small.csv", GOOD)
    by_path = load_table(path)
    by_str = load_table(str(path))
    by_bytes = load_table(path.read_bytes(), name="small.csv")
    stream = io.BytesIO(path.read_bytes())
    stream.name = "small.csv"
    by_stream = load_table(stream)
    by_text = load_table(io.StringIO(GOOD), name="small.csv")
    for t in (by_str, by_bytes, by_stream, by_text):
        pd.testing.assert_frame_equal(t.df, by_path.df)
        assert t.schema == by_path.schema and t.name == "small.csv"
    assert by_path.schema.kind("id") is Kind.IDENTIFIER
    assert "id" not in by_path.df.columns
    assert any("'id'" in w for w in by_path.warnings)


def test_bytes_without_name_are_sniffed():
    table = load_table(GOOD.encode())
    assert table.name == "upload" and table.df.shape == (30, 3)


def test_bom_semicolon_tab_and_quotes(tmp_path):
    assert load_table(_write(tmp_path, "bom.csv", "\ufeff" + GOOD)).schema.names[0] == "id"
    semi = load_table(_write(tmp_path, "semi.csv", GOOD.replace(",", ";")))
    assert semi.schema.names == ["id", "sex", "age", "score"]
    tab = load_table(_write(tmp_path, "tab.tsv", GOOD.replace(",", "\t")))
    assert tab.df.shape == (30, 3)
    quoted = 'a,b\n"x, y",1\n"multi\nline",2\nz,1\n'
    q = load_table(_write(tmp_path, "q.csv", quoted))
    assert q.df["a"].tolist() == ["x, y", "multi\nline", "z"]


def test_blank_lines_and_empty_rows_are_skipped(tmp_path):
    table = load_table(_write(tmp_path, "gaps.csv", "a,b\n\n1,x\n,\n2,y\n\n3,x\n"))
    assert table.df["a"].tolist() == [1.0, 2.0, 3.0]
    assert any("skipped 1 row" in w for w in table.warnings)


def test_unnamed_header_cell_gets_a_name(tmp_path):
    # A pandas export with its index: an unnamed, unique integer column -> identifier.
    df = pd.DataFrame({"a": np.arange(25) % 3, "b": list("xy" * 12) + ["x"]})
    table = load_table(_write(tmp_path, "idx.csv", df.to_csv()))
    assert table.schema.names == ["column_1", "a", "b"]
    assert table.schema.kind("column_1") is Kind.IDENTIFIER
    assert any("column 1 has no name" in w for w in table.warnings)


def test_missing_tokens_in_file(tmp_path):
    text = "a,b\n1,x\nNA,y\n,x\n?,y\n4,N/A\n"
    table = load_table(_write(tmp_path, "na.csv", text))
    assert table.schema["a"].n_missing == 3 and table.schema["b"].n_missing == 1
    assert table.df["a"].isna().sum() == 3


# ------------------------------------------------------------------------- bad inputs

def test_missing_file(tmp_path):
    assert _error(tmp_path / "nope.csv") == f"file not found: {tmp_path / 'nope.csv'}"
    assert "is a folder" in _error(tmp_path)


def test_empty_files(tmp_path):
    assert _error(_write(tmp_path, "zero.csv", b"")) == "zero.csv is empty (0 bytes)"
    assert _error(_write(tmp_path, "head.csv", "a,b,c\n")) == "head.csv has a header but no data rows"
    assert "is empty" in _error(_write(tmp_path, "blank.csv", "\n\n  \n"))
    assert _error(b"", name="up.csv") == "up.csv is empty (0 bytes)"


def test_binary_and_non_utf8(tmp_path):
    rng = np.random.default_rng(0)
    blob = bytes(rng.integers(0, 256, 512, dtype=np.uint8)) + b"\x00"
    assert _error(_write(tmp_path, "blob.csv", blob)) == "blob.csv looks like a binary file, not CSV text"
    latin = "a,b\n1,x\n2,caf\u00e9\n".encode("latin-1")
    assert _error(_write(tmp_path, "latin.csv", latin)) == (
        "latin.csv is not UTF-8 text (byte 0xe9 on line 3); save it as UTF-8 CSV"
    )
    utf16 = "a,b\n1,2\n".encode("utf-16")
    assert "UTF-16" in _error(_write(tmp_path, "u16.csv", utf16))


def test_single_column(tmp_path):
    msg = _error(_write(tmp_path, "one.csv", "age\n1\n2\n"))
    assert msg.startswith("one.csv has a single column ('age')")


@pytest.mark.parametrize(
    "text, line, fields",
    [
        ("a,b,c\n1,2,3\n4,5\n6,7,8\n", 3, 2),  # too few
        ("a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n", 4, 4),  # too many
        ("a,b,c\n1,2,3,4\n5,6,7\n", 2, 4),  # first row too long (pandas would take an index)
        ('a,b,c\n"x,y",2,3\n"p\nq",5\n', 4, 2),  # quoted fields, short row
    ],
)
def test_ragged_rows_name_the_line(tmp_path, text, line, fields):
    msg = _error(_write(tmp_path, "rag.csv", text))
    assert msg == f"rag.csv line {line} has {fields} fields but the header has 3"


def test_extensions(tmp_path):
    assert _error(_write(tmp_path, "d.json", "{}")) == "d.json: unsupported file type '.json'; use .csv, .parquet or .xlsx"
    assert ".xls files are not supported" in _error(_write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0"))
    xlsx = io.BytesIO()
    pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_excel(xlsx, index=False)
    assert "looks like an Excel (zip) file, not CSV text" in _error(_write(tmp_path, "x.csv", xlsx.getvalue()))
    assert "could not be read as Parquet" in _error(_write(tmp_path, "bad.parquet", GOOD))
    assert "could not be read as an Excel .xlsx workbook" in _error(_write(tmp_path, "bad.xlsx", GOOD))
    assert "cannot read data from a int" in _error(42)


def test_duplicate_column_names(tmp_path):
    msg = _error(_write(tmp_path, "dup.csv", "a,b,a\n1,2,3\n"))
    assert msg == "dup.csv has duplicate column name 'a' (columns 1 and 3)"
    msg = _error(_write(tmp_path, "dup.csv", "a,b, a\n1,2,3\n"))  # names are kept as written, so say why
    assert msg == "dup.csv has duplicate column name 'a' (columns 1 and 3: 'a' and ' a' differ only in spaces)"
    xlsx = io.BytesIO()
    pd.DataFrame([["a", "b", "a"], [1, 2, 3]]).to_excel(xlsx, index=False, header=False)
    assert "duplicate column name 'a'" in _error(xlsx.getvalue(), name="dup.xlsx")


def test_limits_name_limit_and_actual(tmp_path):
    path = _write(tmp_path, "small.csv", GOOD)
    assert _error(path, limits=Limits(max_rows=10)) == "small.csv has 30 rows, over the limit of 10"
    assert _error(path, limits=Limits(max_columns=3)) == "small.csv has 4 columns, over the limit of 3"
    msg = _error(path, limits=Limits(max_file_mb=0.0001))
    assert msg.startswith("small.csv is 0.0 MB, over the limit of 0.0001 MB")
    assert load_table(path, limits=Limits(max_rows=30, max_columns=4)).df.shape == (30, 3)


def test_only_identifiers_left_is_an_error(tmp_path):
    text = "id,x\n" + "".join(f"{i},{i * 3}\n" for i in range(25))
    assert "fewer than two usable columns" in _error(_write(tmp_path, "ids.csv", text))


# -------------------------------------------------------------------------- overrides

def test_kinds_at_load_and_with_kinds():
    table = load_table(DEMO, kinds={"age": "continuous", "income_bracket": "integer"})
    assert table.schema.kind("age") is Kind.CONTINUOUS
    assert table.schema.kind("income_bracket") is Kind.INTEGER
    assert table.schema["income_bracket"].n_missing == 62
    again = table.with_kinds({"sex": "categorical"})
    assert again.schema.kind("sex") is Kind.CATEGORICAL
    assert again.schema.kind("age") is Kind.CONTINUOUS  # earlier override kept
    assert table.schema.kind("sex") is Kind.BINARY  # original untouched
    back = again.with_kinds({"age": "auto"})
    assert back.schema.kind("age") is Kind.INTEGER


def test_kinds_must_be_a_mapping():
    assert "column kinds must be a mapping" in _error(DEMO, kinds=["age"])


def test_ordinal_order_override():
    order = ["8th grade or less", "HS dropout", "High school", "College dropout", "College or more"]
    table = load_table(DEMO, kinds={"education": order})
    assert table.schema.kind("education") is Kind.ORDINAL
    assert table.schema["education"].categories == order


def test_identifier_override_round_trip():
    table = load_table(DEMO).with_kinds({"race": "identifier"})
    assert "race" not in table.df.columns and "race" in table.schema
    assert any("'race' set to identifier" in w for w in table.warnings)
    restored = table.with_kinds({"race": "binary"})
    assert restored.df["race"].tolist() == load_table(DEMO).df["race"].tolist()
    assert list(restored.df.columns) == load_table(DEMO).schema.names  # file order kept


def test_identifier_can_be_modelled_after_override(tmp_path):
    table = load_table(_write(tmp_path, "small.csv", GOOD))
    with_id = table.with_kinds({"id": "integer"})
    assert with_id.df["id"].tolist() == list(map(float, range(30)))
    assert not any("'id'" in w for w in with_id.warnings)


@pytest.mark.parametrize(
    "kinds, message",
    [
        ({"agee": "continuous"}, "nhefs_cohort.csv: cannot set the kind of column 'agee' not found; columns: sex"),
        ({"age": "real"}, "unknown kind 'real' for column 'age'"),
        ({"sex": "continuous"}, "column 'sex' has text values (e.g. 'Male'); it cannot be continuous"),
        ({"weight_kg_1971": "integer"}, "column 'weight_kg_1971' has non-integer values"),
        ({"education": "binary"}, "column 'education' has 5 distinct values; binary needs at most two"),
    ],
)
def test_bad_overrides(kinds, message):
    assert message in _error(DEMO, kinds=kinds)
    with pytest.raises(InputError, match=message.split("(")[0].replace("'", ".")):
        load_table(DEMO).with_kinds(kinds)


# ------------------------------------------------------------------- other file types

def test_parquet_round_trip(tmp_path):
    table = load_table(DEMO)
    path = tmp_path / "cohort.parquet"
    table.df.to_parquet(path)
    back = load_table(path)
    assert back.schema == table.schema and back.name == "cohort.parquet"
    pd.testing.assert_frame_equal(back.df, table.df, check_dtype=False)
    assert back.df["age"].dtype == np.float64


def test_excel_round_trip(tmp_path):
    table = load_table(DEMO)
    small = table.df.head(200).reset_index(drop=True)
    path = tmp_path / "cohort.xlsx"
    small.to_excel(path, index=False)
    back = load_table(path)
    expected = table_from_frame(small, name="expected")
    assert [c.kind for c in back.schema] == [c.kind for c in expected.schema]
    assert back.schema["income_bracket"].n_missing == small["income_bracket"].isna().sum()
    pd.testing.assert_frame_equal(back.df, expected.df, check_dtype=False)


def test_excel_upload_bytes_with_blank_rows_and_columns():
    buf = io.BytesIO()
    sheet = pd.DataFrame([["sex", None, "age"], [None, None, None], ["M", None, 30], ["F", None, 41], ["F", None, 52]])
    sheet.to_excel(buf, index=False, header=False)
    table = load_table(buf.getvalue(), name="u.xlsx")
    assert table.schema.names == ["sex", "age"]
    assert table.df["age"].tolist() == [30.0, 41.0, 52.0]


def test_table_from_frame_types_like_a_file(tmp_path):
    df = pd.DataFrame({"ok": [True, False, True], "n": ["1", "2", "NA"], "s": ["a", "b", "a"]})
    table = table_from_frame(df, name="frame")
    assert isinstance(table, Table)
    assert table.schema.kind("ok") is Kind.BINARY and table.df["ok"].tolist() == [1.0, 0.0, 1.0]
    assert table.schema["n"].n_missing == 1 and table.df["n"].dtype == np.float64
    shuffled = table_from_frame(df.iloc[::-1], name="frame")  # any index: aligned by position
    assert shuffled.df["s"].tolist() == ["a", "b", "a"] and shuffled.df["ok"].tolist() == [1.0, 0.0, 1.0]
    assert shuffled.df["n"].isna().tolist() == [True, False, False]
    with pytest.raises(InputError, match="frame has a single column"):
        table_from_frame(df[["ok"]], name="frame")
    with pytest.raises(InputError, match="expected a table"):
        table_from_frame([1, 2], name="frame")


# ------------------------------------------------------------------- excluded columns

def test_exclude_columns_leaves_them_out_entirely():
    table = load_table(DEMO, kinds={"age": "continuous"})
    out = exclude_columns(table, ["cholesterol", "quit_smoking"])
    assert "cholesterol" not in out.df.columns and "cholesterol" not in out.schema
    assert "quit_smoking" not in out.schema and out.schema.names == list(out.df.columns)
    assert list(out.df.columns) == [c for c in table.df.columns if c not in ("cholesterol", "quit_smoking")]
    assert out.df.equals(table.df[out.df.columns]) and out.n_rows == table.n_rows
    assert out.schema.kind("age") is Kind.CONTINUOUS  # earlier override kept
    noted = table.with_kinds({"race": "identifier"})  # a column note: "'race' set to identifier"
    assert any("'race'" in w for w in noted.warnings)
    assert not any("'race'" in w for w in exclude_columns(noted, ["race"]).warnings)
    assert "cholesterol" in table.df.columns  # the original is untouched
    # re-typing the result never brings an excluded column back
    again = out.with_kinds({"sex": "categorical"})
    assert "cholesterol" not in again.schema and again.schema.kind("sex") is Kind.CATEGORICAL
    assert exclude_columns(table, "cholesterol").schema.names == [c for c in table.schema.names if c != "cholesterol"]
    assert exclude_columns(table, []) is table


def test_exclude_an_identifier_column(tmp_path):
    table = load_table(_write(tmp_path, "small.csv", GOOD))
    assert "id" in table.schema and "id" not in table.df.columns
    out = exclude_columns(table, ["id"])
    assert "id" not in out.schema and list(out.df.columns) == list(table.df.columns)
    assert "id" not in out.with_kinds({"age": "auto"}).schema


@pytest.mark.parametrize("columns, message", [
    (["cholesterl"], "nhefs_cohort.csv: cannot exclude column 'cholesterl' not found; columns: sex"),
    ([3], "cannot exclude column '3' not found"),
])
def test_exclude_unknown_column_is_one_line(columns, message):
    with pytest.raises(InputError) as e:
        exclude_columns(load_table(DEMO), columns)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_exclude_cannot_leave_fewer_than_two_columns(tmp_path):
    table = load_table(_write(tmp_path, "small.csv", GOOD))
    with pytest.raises(InputError, match=r"small.csv: excluding sex, age leaves fewer than two columns \(left: 'score'\)"):
        exclude_columns(table, ["sex", "age"])
    with pytest.raises(InputError, match="needs a loaded table"):
        exclude_columns(table.df, ["sex"])


def test_column_names_keep_their_spelling(tmp_path):
    """'T Stage ' stays 'T Stage ' (issue 10 item 11): in the schema, the model table and any
    kind override; a name typed as it looks finds it."""
    from faircause_core.io.data import match_column, match_columns

    text = "T Stage ,  sex,death\n" + "".join(f"{i % 3},{'MF'[i % 2]},{i % 2}\n" for i in range(30))
    table = load_table(_write(tmp_path, "spaces.csv", text))
    assert table.schema.names == ["T Stage ", "  sex", "death"]
    assert list(table.df.columns) == ["T Stage ", "  sex", "death"]
    assert table.with_kinds({"T Stage ": "categorical"}).schema.kind("T Stage ").value == "categorical"
    xlsx = io.BytesIO()
    pd.DataFrame({"T Stage ": [1, 2, 3], "b": [0, 1, 0]}).to_excel(xlsx, index=False)
    assert load_table(xlsx.getvalue(), name="x.xlsx").schema.names == ["T Stage ", "b"]
    names = table.schema.names
    assert [match_column(n, names) for n in ("T Stage ", "T Stage", "T  Stage", "sex", "age")] == \
        ["T Stage ", "T Stage ", "T Stage ", "  sex", "age"]
    assert match_columns(["T Stage, sex", "death"], names) == ["T Stage ", "  sex", "death"]
    assert match_columns(["a,b"], ["a,b", "c"]) == ["a,b"]  # a column with a comma is not split


def test_a_small_file_that_unpacks_past_the_limits_is_refused_before_it_is_read():
    """An .xlsx is a zip: a few KB can unpack to far more than the file limit (checked before
    openpyxl parses it); a Parquet file's footer gives its rows and columns before reading."""
    from faircause_core.limits import Limits

    lim = Limits(max_file_mb=0.01)  # 10 KB files, 100 KB unpacked
    xlsx = io.BytesIO()
    pd.DataFrame({"a": ["x" * 30_000] * 5 + ["y"] * 5, "b": range(10)}).to_excel(xlsx, index=False)
    assert len(xlsx.getvalue()) < 10_000
    msg = _error(xlsx.getvalue(), name="bomb.xlsx", limits=lim)
    assert msg.startswith("bomb.xlsx unpacks to 0.") and "over the limit of 0.1 MB (10 times the file limit)" in msg
    small = io.BytesIO()
    pd.DataFrame({"a": ["x", "y"] * 5, "b": range(10)}).to_excel(small, index=False)
    assert load_table(small.getvalue(), name="ok.xlsx", limits=lim).n_rows == 10
    many = io.BytesIO()
    pd.DataFrame({"a": [0, 1] * 150, "c": [1, 2, 3] * 100, "b": 1}).set_index("b").to_parquet(many)  # index: no column
    assert _error(many.getvalue(), name="many.parquet", limits=Limits(max_rows=200)) == \
        "many.parquet has 300 rows, over the limit of 200"
    assert load_table(many.getvalue(), name="ok.parquet", limits=Limits(max_rows=300, max_columns=2)).n_rows == 300


def test_empty_cells_before_the_header_do_not_push_the_names_into_the_data():
    table = load_table(b",,\na,b,c\n1,2,3\n4,5,6\n", name="lead.csv")
    assert table.schema.names == ["a", "b", "c"] and table.raw.values.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert not table.warnings


def test_spaces_around_values_are_left_out_and_said():
    """Values are the one thing reading changes (' Male' and 'Male' are one category), so it is shown."""
    table = load_table(b"sex,age\n Male,3\nFemale ,4\nMale,5\n", name="v.csv")
    assert table.schema["sex"].categories == ["Female", "Male"]
    assert table.warnings == ["column 'sex': spaces around values are left out (' Male' is read as 'Male')"]
    assert load_table(b"sex,age\nMale,3\nFemale,4\n", name="v.csv").warnings == []


def test_an_xlsx_whose_zip_version_zipfile_lacks_is_one_input_error():
    """Found by the fuzzer in CI: a flipped bit in the central directory's "version needed to
    extract" made zipfile raise NotImplementedError from the unpacked-size check."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    raw = bytearray(buf.getvalue())
    central = raw.index(b"PK\x01\x02")
    raw[central + 6:central + 8] = (99).to_bytes(2, "little")  # needs version 9.9
    with pytest.raises(NotImplementedError):
        zipfile.ZipFile(io.BytesIO(bytes(raw)))
    with pytest.raises(InputError, match="could not be read as an Excel"):
        load_table(bytes(raw), name="f.xlsx")
