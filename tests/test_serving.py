"""The server sends component files (the graph editor's 2.8 MB bundle) uncompressed and
everything else as Streamlit does: Streamlit's own gzip middleware, driven as ASGI."""

import asyncio

from faircause_app import serving

BODY = b"const x = 1;\n" * 2000  # 26 kB of text: well above the 1,000-byte gzip threshold


async def _text(scope, receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/javascript"), (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


def encoding(path: str):
    """The Content-Encoding Streamlit's middleware gives a GET of `path` (None: sent as is)."""
    from streamlit.web.server.starlette.starlette_gzip_middleware import SelectiveGZipMiddleware

    app = SelectiveGZipMiddleware(_text, minimum_size=1000, compresslevel=5)
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": [(b"accept-encoding", b"gzip")], "http_version": "1.1",
             "scheme": "http", "server": ("127.0.0.1", 8501)}
    asyncio.run(app(scope, receive, send))
    headers = dict(next(m for m in sent if m["type"] == "http.response.start")["headers"])
    return headers.get(b"content-encoding", b"").decode() or None


def test_component_files_are_sent_uncompressed(monkeypatch):
    from streamlit.web.server.starlette import starlette_gzip_middleware as mw

    stock = getattr(mw._should_bypass_gzip, "__wrapped__", mw._should_bypass_gzip)  # undo an earlier call
    monkeypatch.setattr(mw, "_should_bypass_gzip", stock)
    component = "/component/streamlit_flow.streamlit_flow/static/js/main.9ad46f33.js"
    assert encoding(component) == "gzip"  # Streamlit's own rule compresses them
    assert serving.components_uncompressed() and serving.components_uncompressed()  # idempotent
    assert mw._should_bypass_gzip.__wrapped__ is stock
    assert encoding(component) is None
    assert encoding("/_stcore/host-config") == "gzip"  # everything else as before
    assert encoding("/static/js/main.js") is None  # Streamlit's bundles stay uncompressed
