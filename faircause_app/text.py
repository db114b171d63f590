"""Data text (column names, values, file names, messages quoting them) stays text on screen.

Streamlit renders st.error, st.warning, st.info, st.success, st.caption, st.markdown and widget
labels as Markdown, so a column named `[link](http://...)` would become a link. Every such
call that shows data text goes through md(), and every message (an InputError's line, an
engine note) through error() or warning() here, so the rule has one home.
"""

from __future__ import annotations

import re

import streamlit as st

# CommonMark's backslash-escapable punctuation that means something in Streamlit's Markdown
# (emphasis, links, HTML, code, math, tables, headings, lists, entities, :colour[...] directives).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=&:])")


def md(text: object) -> str:
    """Data text made inert for Markdown (no links, emphasis, HTML or math from data)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def error(message: object, where=None) -> None:
    """An error (an InputError's one line, which may quote data) shown literally, in red."""
    (where or st).error(md(message))


def warning(message: object, where=None) -> None:
    """A warning or engine note (may quote column names or values) shown literally."""
    (where or st).warning(md(message))
