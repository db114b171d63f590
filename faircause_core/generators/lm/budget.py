"""The language model's training budget: how many steps a preset gives a fitting split of n
rows. Its own light module (no torch), so the time-left plan (workflow.progress) can size a run's
training before the model is loaded."""

from __future__ import annotations

from typing import Optional

import numpy as np

PRESETS = {"quick": {"epochs": 3, "low": 48, "high": 200}, "thorough": {"epochs": 10, "low": 200, "high": 2000}}
DEFAULT_PRESET, DEFAULT_BATCH = "quick", 32


def step_budget(preset: str, rows: Optional[int], batch_size: int, stop_share: float = 0.1, stop_rows: int = 256,
                select_share: float = 0.15, select_rows: int = 1024) -> int:
    """Training steps for a preset on a fitting split of `rows` rows (None: the preset's
    least): `epochs` passes over the rows left after the held-out ones, within [low, high]."""
    plan = PRESETS[preset]
    if rows is None:
        return plan["low"]
    held = min(stop_rows, round(stop_share * rows)) + min(select_rows, round(select_share * rows))
    steps = int(np.ceil(plan["epochs"] * max(rows - held, 1) / max(batch_size, 1)))
    return int(min(plan["high"], max(plan["low"], steps)))
