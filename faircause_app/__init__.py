"""The dashboard's own code, kept out of the page scripts so pages only draw.

text (data shown as text) < cache (cached engine calls) < state (session keys, session.json)
< jobs (background generation) < nav (step bar, page guard) < panels (drawing blocks too long
for a page). editor holds the DAG editor's layout and diff as plain functions (no Streamlit calls).
The engine (faircause_core) never imports this package.
"""
