"""The published entry point `faircause_core.fairness.decompose` (kept for outside checks).

The decomposition lives in `faircause_core.causal.fairness`; this module only re-exports it.
"""

from faircause_core.causal.fairness import *  # noqa: F401,F403
from faircause_core.causal.fairness import Decomposition, decompose  # noqa: F401
