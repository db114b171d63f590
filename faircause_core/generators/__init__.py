"""Synthetic data generators sharing one fit/sample interface (see base.py)."""
