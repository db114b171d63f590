"""The dashboard's own code, kept out of the page scripts so pages only draw.

text (escaping data for Markdown) < state (session keys, session.json) and cache (cached
engine calls) < jobs (background generation) < nav (step bar, page guard); editor holds the
DAG editor's layout and diff as plain functions. The engine (faircause_core) never imports
this package.
"""
