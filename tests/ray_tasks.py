"""Task functions for tests/test_engine.py, in a module Ray's workers import as `tests.ray_tasks`
(a test file is imported by pytest under a name the workers cannot resolve)."""

import os
from pathlib import Path


def die_once(shared, item):
    """Kills its own worker process the first time it runs for `item` (a marker file says so)."""
    marker = Path(shared) / f"ran-{item}"
    if not marker.exists():
        marker.write_text("1")
        os._exit(1)
    marker.write_text("2")
    return item * 10
