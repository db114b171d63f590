"""Step 1: load a table (upload or the bundled demo cohort), check kinds and missing values."""

import pandas as pd
import streamlit as st

from faircause_app import nav, state, text, upload as up
from faircause_app.text import md
from faircause_core.io.schema import Kind
from faircause_core.limits import DEFAULT_LIMITS

nav.step_bar("data")

st.title("Your data")
st.write("Upload a patient table (CSV, Parquet or Excel), or start with the bundled demo cohort. "
         "Everything stays on this computer.")

left, right = st.columns([3, 2])
with left:
    upload = st.file_uploader("Upload a table", type=["csv", "tsv", "txt", "parquet", "pq", "xlsx", "xlsm"],
                              key="w_upload", max_upload_size=int(DEFAULT_LIMITS.max_file_mb))
with right:
    st.write("")
    demo = st.button("Use the demo cohort (NHEFS, 1,629 adults)", key="w_demo", type="primary")
    st.caption(up.limits_text())
up.limits_error()

if upload is not None and st.session_state.get("_upload_seen") != upload.file_id:
    st.session_state._upload_seen = upload.file_id
    if up.load(upload.getvalue(), upload.name) and not up.too_small(state.table().n_rows):
        st.success(f"Loaded {md(upload.name)}.")
if demo:
    try:
        up.load(state.DEMO_PATH.read_bytes(), state.DEMO_PATH.name)
    except OSError as err:
        text.error(err)

tab = state.table()
if tab is None:
    st.info("No data yet: upload a file above or click **Use the demo cohort**.")
    st.stop()

st.subheader(f"{md(tab.name)}: {tab.n_rows:,} rows, {len(tab.schema.names)} columns")
small = up.too_small(tab.n_rows)
if small:
    st.warning(small)  # our words and a number only: no data text
for note in tab.warnings:
    text.warning(note)

shown, caption = up.preview(tab)
st.markdown("**Preview**")
st.dataframe(shown, width="stretch", height=260)
st.caption(caption)

st.markdown("**Column kinds** — change a kind if the guess is wrong (for example a coded number that "
            "is really a category).")
kinds = [k.value for k in Kind]
rows = []
for name in tab.schema.names:
    col = tab.schema[name]
    values = col.categories if col.categories else [col.minimum, col.maximum]
    shown = ", ".join(map(str, values[:6])) + (" ..." if col.categories and len(values) > 6 else "")
    if not col.categories and col.minimum is not None:
        shown = f"{col.minimum:g} to {col.maximum:g}"
    rows.append({"column": name, "kind": col.kind.value, "missing": int(col.n_missing), "values": shown})
frame = pd.DataFrame(rows)
up.kind_refusal()
edited = st.data_editor(
    frame, key=up.editor_key(), hide_index=True, width="stretch",
    height=min(35 * (len(frame) + 1) + 3, 760),  # every column visible without an inner scroll
    disabled=["column", "missing", "values"],
    column_config={"column": st.column_config.TextColumn("column", width="small"),
                   "kind": st.column_config.SelectboxColumn("kind", options=kinds, required=True, width="small"),
                   "missing": st.column_config.NumberColumn("missing", width="small"),
                   "values": st.column_config.TextColumn("values", width="large")},
)
changes = {r["column"]: r["kind"] for r, o in zip(edited.to_dict("records"), rows) if r["kind"] != o["kind"]}
if changes:
    up.change_kinds(tab, changes, {r["column"]: r["kind"] for r in rows})

missing = frame[frame["missing"] > 0][["column", "missing"]]
if len(missing):
    st.markdown("**Missing values per column**")
    # horizontal=True swaps the axes: y_label names the value axis
    st.bar_chart(missing.set_index("column"), horizontal=True, height=60 + 40 * len(missing),
                 x_label="", y_label="missing values (rows)", color="#1f6f8b")
else:
    st.caption("No missing values.")

if not small:
    nav.next_step("graph", "Next: choose the fairness question and the causal graph")
