"""The data page's actions: the limits said before an upload, reading a file with a visible
status, keeping the previous table when a file is refused, and column kinds that only change
when the engine accepts them (a refused kind puts the cell back and says why)."""

from __future__ import annotations

import contextlib

import streamlit as st

from faircause_app import state, text
from faircause_app.text import md
from faircause_core.errors import InputError
from faircause_core.limits import DEFAULT_LIMITS, Limits


def limits_error() -> None:
    """A bad FAIRCAUSE_MAX_* value in the server's environment, in one line (the defaults hold), and a bad
    FAIRCAUSE_THREADS."""
    from faircause_core.limits import ENV_ERROR

    if ENV_ERROR:
        text.error(f"{ENV_ERROR}; the default limits apply")
    from faircause_core.engine import local_threads

    try:  # checked here, not only when an audit's table is big enough for threads
        local_threads()
    except InputError as err:
        text.error(f"{err}; an audit of a large table stops with this line until the server is started without it")


def limits_text(lim: Limits = DEFAULT_LIMITS) -> str:
    """The size limits in one sentence, shown beside the uploader before anyone tries."""
    return (f"Files up to {lim.max_file_mb:g} MB, {lim.max_rows:,} rows and {lim.max_columns} columns; "
            f"at most {lim.max_categories} categories per column; each compared group needs at least "
            f"{lim.min_group_size} rows. A larger file is refused with the reason, and the table "
            "already loaded stays.")


#: The data page draws at most this many rows: all of a smaller table, else a seeded random
#: sample (PREVIEW_SEED) in table order, so a table of millions of rows is never sent whole.
PREVIEW_ROWS = 200
PREVIEW_SEED = 0


def preview(tab):
    """(rows to show, caption): every row of a table up to PREVIEW_ROWS rows, else PREVIEW_ROWS rows
    drawn at random with PREVIEW_SEED (the same rows on every visit), kept in table order and
    numbered by their place in the table (from 1). The caption holds our words and numbers only."""
    import numpy as np

    n = tab.n_rows
    if n <= PREVIEW_ROWS:
        shown = tab.df.set_axis(range(1, n + 1), axis=0)
        return shown, f"All {n:,} rows, numbered from 1."
    rows = np.sort(np.random.default_rng(PREVIEW_SEED).choice(n, size=PREVIEW_ROWS, replace=False))
    shown = tab.df.take(rows).set_axis(rows + 1, axis=0)
    return shown, (f"{PREVIEW_ROWS:,} of {n:,} rows: a random sample (seed {PREVIEW_SEED}, the same rows "
                   "each time), in table order; the numbers are the rows' places in the table.")


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1024 / 1024:.1f} MB" if n_bytes >= 1024 * 1024 else f"{max(n_bytes, 1) / 1024:.0f} KB"


@contextlib.contextmanager
def reading_bar(filename: str, n_bytes: int):
    """While the block reads a file: "Reading file ..." from the start (a placeholder, not
    st.spinner, which appears only after half a second) and a bar naming each stage of the read
    (io.data.READING_STAGES: columns counted); both gone when the block ends, however it ends."""
    from faircause_core.io.data import reading_progress, reading_share

    note = st.empty()
    note.info(f"Reading file {md(filename)} ({_size(n_bytes)})...")
    bar = st.empty()

    def show(stage: str, done: int, total: int) -> None:  # the stage as it goes (a big file takes seconds)
        count = f" {done:,} of {total:,}" if total > 1 else ""
        bar.progress(reading_share(stage, done, total), text=f"{stage}{count}")

    try:
        with reading_progress(show):
            yield
    finally:
        bar.empty()
        note.empty()


def load(content: bytes, filename: str) -> bool:
    """Make a file the current table, read under reading_bar; a refused file leaves the
    previous table loaded, and the page says so. True when the file was loaded."""
    before = state.table() if st.session_state.get("data_id") else None
    try:
        with reading_bar(filename, len(content)):
            state.set_data(content, filename)
    except InputError as err:
        text.error(err)
        if before is not None:
            st.info(f"The previous table, {md(before.name)} ({before.n_rows:,} rows), is still loaded.")
        else:
            st.info("No table is loaded yet: fix the file, or try the demo cohort.")
        return False
    return True


def too_small(n_rows: int, lim: Limits = DEFAULT_LIMITS) -> str:
    """Why a loaded table cannot be audited at all ('' when it might be): two groups of at least
    min_group_size rows each need at least twice that many rows."""
    need = 2 * lim.min_group_size
    if n_rows >= need:
        return ""
    return (f"{n_rows:,} row{'s' if n_rows != 1 else ''} is too few to compare two groups: each group needs at "
            f"least {lim.min_group_size} rows, so a table needs at least {need}. The table is shown below, but "
            "the later steps cannot run on it; load a larger table.")


def editor_key() -> str:
    """The kinds editor's key: new per table, and new after a refused edit so the cells are redrawn
    from the kinds in force (a widget keeps a user's edit under its key)."""
    return f"w_kinds_{st.session_state.data_id}_{st.session_state.get('kinds_version', 0)}"


def change_kinds(tab, changes: dict, shown: dict) -> None:
    """Keep kind changes the engine accepts; on a refusal keep none of them, put the cells back
    and say why in one line (shown after the rerun by `kind_refusal`)."""
    merged = dict(st.session_state.get("kinds") or {}, **changes)
    try:
        tab.with_kinds(merged)  # validate before keeping it
    except InputError as err:
        back = ", ".join(f"'{c}' stays {shown[c]}" for c in changes)
        st.session_state.kind_refused = f"{err} ({back})"
        st.session_state.kinds_version = st.session_state.get("kinds_version", 0) + 1
        st.rerun()
    st.session_state.kinds = merged
    state.persist()
    st.rerun()


def kind_refusal() -> None:
    """The last refused kind change, once."""
    refused = st.session_state.pop("kind_refused", None)
    if refused:
        text.error(refused)
