"""How the local server sends files: component files uncompressed, as Streamlit's own bundles.

Streamlit's gzip middleware leaves its own static bundles uncompressed (it compresses again
on every request, in the server's event loop, which its authors found a poor trade) but still
compresses component files. The graph editor's bundle is 2.8 MB: each browser that opened the
graph page cost the event loop about 0.1 s of gzip, more on a busy machine, and no other
session's page switch was served meanwhile (tests/test_load.py: the slowest switch went from
2.2-2.7 s to 1.1-1.5 s with this). The server listens on 127.0.0.1 only, so compressing saves
no network time here.
"""

from __future__ import annotations

import functools

COMPONENT_PREFIX = "/component/"


def components_uncompressed() -> bool:
    """Make Streamlit's gzip middleware skip component files (idempotent). False when this
    Streamlit has no such middleware, and then nothing changes."""
    try:
        from streamlit.web.server.starlette import starlette_gzip_middleware as mw
    except ImportError:
        return False
    original = getattr(mw, "_should_bypass_gzip", None)
    strip = getattr(mw, "_strip_base_url", None)
    if original is None or strip is None:
        return False
    if getattr(original, "faircause_components", False):
        return True

    @functools.wraps(original)
    def bypass(path: str, base_url: str = "") -> bool:
        return original(path, base_url) or strip(path, base_url).startswith(COMPONENT_PREFIX)

    bypass.faircause_components = True
    mw._should_bypass_gzip = bypass
    return True
