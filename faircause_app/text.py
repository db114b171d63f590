"""Data text (column names, values, file names) shown through st.markdown stays text."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=])")


def md(text: object) -> str:
    """Data text made inert for st.markdown (no links, emphasis or HTML from data)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))
