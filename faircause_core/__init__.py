"""FairCauseSyn engine: data, causal graph, fairness decomposition, generators, metrics.

Importable without Streamlit; the dashboard (app.py, pages/) only calls into it.
"""

__version__ = "0.1.0"
