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


# In a widget's one-line label only inline Markdown can act: emphasis, code, links, HTML,
# math, strikethrough, emoji and colour directives, entities, and GFM's autolinks (www.,
# http://, a@b.c). Escaping more leaves backslashes in the field's accessible name, which is
# the label's raw text (a screen reader read "DEATH\\_EVENT").
_LABEL_ALWAYS = set("\\`*[]<>~$&:{}")
_AUTOLINK = re.compile(r"www|://|@", re.I)


def label(text: object) -> str:
    """Data text for a widget label: inert for Markdown as md() makes it, with backslashes only
    where a character could act there, so the accessible name reads as the text: an underscore
    between letters or digits (DEATH_EVENT) and a dot (sample.yr) stay bare, the dot unless the
    text could form an autolink."""
    s = str(text)
    linkish = bool(_AUTOLINK.search(s))
    out = []
    for i, ch in enumerate(s):
        inner = 0 < i < len(s) - 1 and s[i - 1].isalnum() and s[i + 1].isalnum()
        if (ch in _LABEL_ALWAYS or (ch == "_" and not inner) or (ch in ".@" and linkish)
                or (i == 0 and ch in "#+-=|>!")):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def error(message: object, where=None) -> None:
    """An error (an InputError's one line, which may quote data) shown literally, in red."""
    (where or st).error(md(message))


def warning(message: object, where=None) -> None:
    """A warning or engine note (may quote column names or values) shown literally."""
    (where or st).warning(md(message))
