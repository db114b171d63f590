"""The graph editor's component: streamlit-flow 1.6.1's own frontend, copied once and patched.

The package exposes neither React Flow's `preventScrolling` nor handle sizes, nor a way to drop
its generic "Edit Edge" dialog (edge type, animation, label background: no causal meaning). So
the installed build is copied to a cache folder with five exact string edits, each checked to
match once (another version of the package fails loudly here, not silently in the browser):

- the mouse wheel scrolls the page (no zoom on scroll, no preventDefault; ctrl+wheel, pinch and
  the +/- buttons still zoom);
- the edge menu's "Edit Edge" becomes "Reverse Edge", which returns the edge list with the edge
  turned round (the page's diff then refuses a reversal that closes a cycle, like any edge);
- the view is fitted after each layout with options, so it never zooms out below readable labels,
  and a graph wider than the frame starts at its left (the confounders and X);
- a style sheet: 16 px connection handles, a selected edge drawn thick and orange, and a node's
  edges standing out (the rest faded) while the pointer rests on it or it is selected;
- an edge with an `ariaLabel` (an association between a confounder and X) shows it as a
  tooltip (an SVG <title>).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import streamlit.components.v1 as components
import streamlit_flow
from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
from streamlit_flow.layouts import ManualLayout
from streamlit_flow.state import StreamlitFlowState

from faircause_app.editor import DIM_OPACITY, EDGE_CLASS, HANDLE, LIT_NODES, NODE_CLASS  # HANDLE: the layout draws
# edges from the handles' outer side; the classes: build_state's, by node index

SOURCE = Path(streamlit_flow.__file__).parent / "frontend" / "build"
SELECTED = "#e8590c"


def highlight_css(count: int = LIT_NODES) -> str:
    """Rules that fade every edge not touching the node under the pointer, or else (no node under
    the pointer) the selected node, to DIM_OPACITY: by class, node i is NODE_CLASS + i and each of
    its edges has EDGE_CLASS + i (editor.build_state)."""
    hover = [f".react-flow:has(.{NODE_CLASS}{i}:hover) .react-flow__edge:not(.{EDGE_CLASS}{i})" for i in range(count)]
    picked = [f".react-flow:not(:has(.react-flow__node:hover)):has(.{NODE_CLASS}{i}.selected) "
              f".react-flow__edge:not(.{EDGE_CLASS}{i})" for i in range(count)]
    return ",".join(hover + picked) + f"{{opacity:{DIM_OPACITY}}}"


CSS = f"""<style>
.react-flow__handle{{width:{HANDLE}px;height:{HANDLE}px;background:#33415c;border:1px solid #fff}}
.react-flow__handle-left{{left:-{HANDLE // 2 + 1}px}} .react-flow__handle-right{{right:-{HANDLE // 2 + 1}px}}
.react-flow__handle-top{{top:-{HANDLE // 2 + 1}px}} .react-flow__handle-bottom{{bottom:-{HANDLE // 2 + 1}px}}
.react-flow__node p{{margin:0}}
.react-flow__handle.connectionindicator:hover{{background:#1f6f8b;box-shadow:0 0 0 3px #1f6f8b55}}
.react-flow__edge.selected .react-flow__edge-path{{stroke:{SELECTED}!important;stroke-width:4px!important}}
.react-flow__edge{{transition:opacity .12s}}
{highlight_css()}
</style></head>"""
REVERSE = ('onClick:e=>{const x=t.edge,y=[...r.filter((e=>e.id!==x.id)),{...x,id:x.target+"->"+x.source,'
           'source:x.target,target:x.source,selected:!1}];a(y),o(n,y,null),i(null)},'
           'children:[(0,qp.jsx)("i",{className:"bi bi-arrow-left-right"})," Reverse Edge"]')
# Fit the view (never below fitViewOptions.minZoom); a graph still wider than the frame then
# starts at its left edge (the confounders and X), not cut on both sides.
FIT = ("A(e.args.fitViewOptions),(()=>{const v=S.getViewport(),w=_.current.getBoundingClientRect().width,"
       "lo=Math.min(...x().map(n=>n.position.x)),hi=Math.max(...x().map(n=>n.position.x+(n.width||0)));"
       "isFinite(lo)&&(hi-lo)*v.zoom+32>w&&S.setViewport({x:16-lo*v.zoom,y:v.y,zoom:v.zoom})})(),r(!0)")
# An edge given an ariaLabel (an association: its reason) also gets it as an SVG <title>, the
# browser's own tooltip when the pointer rests on the edge.
TOOLTIP = ('ref:V},!Y&&f.createElement(e,{id:n,source:w', 'ref:V},H&&f.createElement("title",null,H),'
           '!Y&&f.createElement(e,{id:n,source:w')
JS_EDITS = [
    ("zoomOnScroll:e.args.allowZoom", "zoomOnScroll:!1,preventScrolling:!1"),
    TOOLTIP,
    ("A(),r(!0)", FIT),
    ("fitView:e.args.fitView,", "fitView:!1,"),
    ('onClick:e=>{u(!0)},children:[(0,qp.jsx)("i",{className:"bi bi-tools"})," Edit Edge"]', REVERSE),
]


def _edited(text: str, edits) -> str:
    for old, new in edits:
        if text.count(old) != 1:
            raise RuntimeError(f"streamlit-flow's frontend is not the 1.6.1 build this editor patches "
                               f"(found {text.count(old)} of {old[:40]!r}); install the pinned version")
        text = text.replace(old, new)
    return text


def build_dir() -> Path:
    """The patched copy, made once per (package build, edits) in the user's cache folder."""
    js = next((SOURCE / "static" / "js").glob("main.*.js"))
    digest = hashlib.sha256(js.read_bytes() + repr((JS_EDITS, CSS)).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "faircause"
    target = cache / f"flow-{digest}"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=cache, prefix=".flow-"))
    shutil.copytree(SOURCE, work / "build")
    copied = work / "build" / "static" / "js" / js.name
    copied.write_text(_edited(js.read_text(encoding="utf-8"), JS_EDITS), encoding="utf-8")
    index = work / "build" / "index.html"
    index.write_text(_edited(index.read_text(encoding="utf-8"), [("</head>", CSS)]), encoding="utf-8")
    try:
        os.rename(work / "build", target)  # atomic: another server may be making the same copy
    except OSError:
        if not target.exists():
            raise
    shutil.rmtree(work, ignore_errors=True)
    return target


_component = components.declare_component("streamlit_flow", path=str(build_dir()))


def flow_editor(key: str, state: StreamlitFlowState, height: int, fit_min_zoom: float) -> StreamlitFlowState:
    """The causal editor: new edges allowed, edges selectable and with a delete/reverse menu,
    no node or pane menu; the first view is fitted but never zoomed below `fit_min_zoom`.
    Returns `state` itself until the browser sends a value (as streamlit_flow does)."""
    value = _component(
        nodes=[n.asdict() for n in state.nodes], edges=[e.asdict() for e in state.edges], height=height,
        showControls=True, fitView=True, fitViewOptions={"minZoom": fit_min_zoom, "maxZoom": 1.5, "padding": 0.05},
        showMiniMap=False, style={}, animateNewEdges=False, allowNewEdges=True,
        layoutOptions=ManualLayout().__to_dict__(), getNodeOnClick=False, getEdgeOnClick=True, panOnDrag=True,
        allowZoom=True, minZoom=0.2, enableNodeMenu=False, enablePaneMenu=False, enableEdgeMenu=True,
        hideWatermark=True, key=key, timestamp=state.timestamp, component="streamlit_flow")
    if value is None:
        return state
    return StreamlitFlowState(nodes=[StreamlitFlowNode.from_dict(n) for n in value["nodes"]],
                              edges=[StreamlitFlowEdge.from_dict(e) for e in value["edges"]],
                              selected_id=value["selectedId"], timestamp=value["timestamp"])
