"""The data page through Streamlit's AppTest: the upload limit said before an upload and enforced
by the uploader, a refused file that leaves the previous table loaded (and says so), a refused
kind change that puts the cell back with its reason, and a header whose spaces are kept."""

import tomllib

from faircause_app.upload import limits_text
from faircause_core.limits import DEFAULT_LIMITS
from tests.conftest import ROOT
from tests.test_app import app, plain, texts  # noqa: F401  (app: the fixture, a fresh workspace)


def no_exception(at):
    assert not at.exception, texts(at.exception)


def kinds_editor(at):
    return next(d for d in at.data_editor if d.key and d.key.startswith("w_kinds_"))


def test_the_upload_limit_is_said_before_an_upload_and_enforced(app):
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == DEFAULT_LIMITS.max_file_mb  # the server's cap is the engine's
    no_exception(app)
    assert app.file_uploader(key="w_upload").proto.max_upload_size_mb == DEFAULT_LIMITS.max_file_mb
    said = " ".join(plain(c.value) for c in app.caption)
    assert limits_text() in said
    for part in (f"{DEFAULT_LIMITS.max_file_mb:g} MB", f"{DEFAULT_LIMITS.max_rows:,} rows",
                 f"{DEFAULT_LIMITS.max_columns} columns"):
        assert part in said


def test_a_refused_upload_keeps_the_previous_table_and_says_so(app):
    app.button(key="w_demo").click().run()
    no_exception(app)
    data_id = app.session_state["data_id"]
    app.file_uploader(key="w_upload").upload("broken.csv", b"a\n1\n2\n", "text/csv").run()
    no_exception(app)
    assert len(app.error) == 1 and "broken.csv" in plain(app.error[0].value)
    assert any("previous table, nhefs_cohort.csv (1,629 rows), is still loaded" in plain(i.value) for i in app.info)
    assert app.session_state["data_id"] == data_id
    assert "1,629 rows" in app.subheader[0].value  # and it is: the page still shows it


def test_a_first_refused_upload_says_nothing_is_loaded(app):
    app.file_uploader(key="w_upload").upload("broken.csv", b"\x00\x01", "text/csv").run()
    no_exception(app)
    assert any("No table is loaded yet" in i.value for i in app.info)


def test_a_refused_kind_change_puts_the_cell_back_with_its_reason(app):
    app.button(key="w_demo").click().run()
    editor = kinds_editor(app)
    rows = editor.value.to_dict("records")
    row = next(i for i, r in enumerate(rows) if r["column"] == "sex")
    assert rows[row]["kind"] == "binary"
    app.session_state[editor.key] = {"edited_rows": {row: {"kind": "continuous"}}, "added_rows": [],
                                     "deleted_rows": []}
    app.run()
    no_exception(app)
    errors = [plain(e.value) for e in app.error]
    assert len(errors) == 1 and "text values" in errors[0] and "'sex' stays binary" in errors[0], errors
    assert "\n" not in errors[0]
    assert not (app.session_state["kinds"] or {}).get("sex")
    again = kinds_editor(app)
    assert again.key != editor.key  # a fresh editor, drawn from the kinds in force
    assert again.value.to_dict("records")[row]["kind"] == "binary"
    app.run()  # the message goes with the next action
    assert not app.error


def test_an_accepted_kind_change_is_kept(app):
    app.button(key="w_demo").click().run()
    editor = kinds_editor(app)
    row = next(i for i, r in enumerate(editor.value.to_dict("records")) if r["column"] == "income_bracket")
    app.session_state[editor.key] = {"edited_rows": {row: {"kind": "categorical"}}, "added_rows": [],
                                     "deleted_rows": []}
    app.run()
    no_exception(app)
    assert not app.error, texts(app.error)
    assert app.session_state["kinds"] == {"income_bracket": "categorical"}
    assert kinds_editor(app).value.to_dict("records")[row]["kind"] == "categorical"


def test_a_header_with_a_trailing_space_keeps_it_in_the_app(app):
    rows = "".join(f"{'MF'[i % 2]},{i % 3 + 1},{i % 2}\n" for i in range(60))
    app.file_uploader(key="w_upload").upload("stage.csv", ("sex,T Stage ,death\n" + rows).encode(), "text/csv").run()
    no_exception(app)
    assert not app.error, texts(app.error)
    assert kinds_editor(app).value["column"].tolist() == ["sex", "T Stage ", "death"]
    app.switch_page("pages/2_graph.py").run()
    no_exception(app)
    assert "T Stage " in app.selectbox(key="w_y").options  # the question is asked about the same name


def test_a_bad_limit_in_the_environment_is_one_error_line(app, monkeypatch):
    """A bad FAIRCAUSE_MAX_* value (limits.ENV_ERROR, read once when the engine is imported) is
    said on the data page; the defaults hold and the page works."""
    import faircause_core.limits as limits

    monkeypatch.setattr(limits, "ENV_ERROR", "FAIRCAUSE_MAX_ROWS='many' is not a whole number")
    app.run()
    no_exception(app)
    assert [plain(e.value) for e in app.error] == [
        "FAIRCAUSE_MAX_ROWS='many' is not a whole number; the default limits apply"]
    monkeypatch.setattr(limits, "ENV_ERROR", "")
    app.run()
    assert not app.error  # negative control: no error without a bad value
    monkeypatch.setenv("FAIRCAUSE_THREADS", "two")  # read when the page draws, not only by a big audit
    app.run()
    no_exception(app)
    assert [plain(e.value) for e in app.error] == [
        "FAIRCAUSE_THREADS must be a whole number >= 1, got 'two'; an audit of a large table stops with this "
        "line until the server is started without it"]


def _preview(at):
    frame = next(d for d in at.dataframe if len(d.value) and "sex" in d.value.columns)
    said = [plain(c.value) for c in at.caption]
    return frame.value, said


def test_a_large_table_previews_a_seeded_sample_and_says_how_many_rows(app):
    """Issue 22 item 1: the page draws 200 rows of a larger table, drawn with a fixed seed, and
    says so; the same rows on a rerun."""
    from faircause_app.upload import PREVIEW_ROWS

    app.button(key="w_demo").click().run()
    no_exception(app)
    shown, said = _preview(app)
    assert len(shown) == PREVIEW_ROWS == 200
    assert f"200 of 1,629 rows: a random sample (seed 0, the same rows each time), in table order; " \
           "the numbers are the rows' places in the table." in said
    rows = list(shown.index)
    assert rows == sorted(rows) and len(set(rows)) == 200 and 1 <= rows[0] and rows[-1] <= 1629
    assert rows != list(range(1, 201))  # a sample across the table, not its head
    from faircause_core.io.data import load_table
    from faircause_app.state import DEMO_PATH

    table = load_table(DEMO_PATH)
    assert shown.reset_index(drop=True).equals(table.df.iloc[[r - 1 for r in rows]].reset_index(drop=True))
    app.run()
    assert list(_preview(app)[0].index) == rows


def test_a_small_table_is_shown_whole(app):
    rows = "".join(f"{'MF'[i % 2]},{i % 3 + 1},{i % 2}\n" for i in range(60))
    app.file_uploader(key="w_upload").upload("small.csv", ("sex,stage,death\n" + rows).encode(), "text/csv").run()
    no_exception(app)
    shown, said = _preview(app)
    assert list(shown.index) == list(range(1, 61)) and "All 60 rows, numbered from 1." in said
