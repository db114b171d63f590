"""Pathway edits on per-row probability arrays, shared by every generator.

The sampling loop (sampling.py) evaluates an edited mechanism twice, once with the row's
own X and once with the reference x*, and hands both probability arrays here. Mixing with alpha is the same as
replacing X by x* with probability alpha (FairnessSpec semantics). Draws use one uniform
per row, so with common random numbers a small change of alpha changes few rows: this is
what lets the refinement loop compare rounds that differ only by alpha.
"""

from __future__ import annotations

import numpy as np

from faircause_core.generators.base import FairnessSpec


def mix(p_own, p_ref, alpha) -> np.ndarray:
    """(1 - alpha) * p_own + alpha * p_ref per row; negatives clipped, rows renormalised.

    `alpha` is a scalar or one value per row (0 for rows whose mechanism is kept).
    Outside [0, 1] (extrapolation) the mixture can go negative: clip at 0, renormalise.
    """
    p_own = np.asarray(p_own, dtype=float)
    p_ref = np.asarray(p_ref, dtype=float)
    a = np.asarray(alpha, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    p = (1.0 - a) * p_own + a * p_ref
    if np.any(p < 0):
        p = np.clip(p, 0.0, None)
    total = p.sum(axis=-1, keepdims=True)
    # A row clipped to all zeros (extreme extrapolation) falls back to the reference.
    bad = total[..., 0] <= 0
    if np.any(bad):
        p[bad] = p_ref[bad] if p_ref.shape == p.shape else np.broadcast_to(p_ref, p.shape)[bad]
        total = p.sum(axis=-1, keepdims=True)
    return p / total


def draw(p, u) -> np.ndarray:
    """Inverse-CDF draw of one state index per row from probabilities p with uniforms u."""
    p = np.asarray(p, dtype=float)
    cum = np.cumsum(p, axis=-1)
    u = np.asarray(u, dtype=float) * cum[:, -1]
    idx = (u[:, None] >= cum).sum(axis=1)
    return np.minimum(idx, p.shape[-1] - 1).astype(np.int64)


def mix_and_draw(p_own, p_ref, alpha, u) -> np.ndarray:
    """Draw from the alpha-mixture of own and reference mechanisms (one uniform per row)."""
    return draw(mix(p_own, p_ref, alpha), u)


def reference_states(reference: str, n: int, x0, x1, p_x0: float, u) -> np.ndarray:
    """Per-row reference x*: fixed x0, fixed x1, or x0/x1 drawn from the marginal on the
    two groups (`p_x0` = P(X = x0 | X in {x0, x1})) with the uniforms `u`.

    x0/x1 may be any labels or codes; the result has their dtype.
    """
    if reference == "x0":
        return np.full(n, x0)
    if reference == "x1":
        return np.full(n, x1)
    if reference == "marginal":
        return np.where(np.asarray(u)[:n] < p_x0, x0, x1)
    raise ValueError(f"unknown reference {reference!r}")


def pathway_alpha(alpha: float, x_own, x0, x1) -> np.ndarray:
    """Per-row alpha for a DE/IE edit: rows whose own X is outside {x0, x1} keep their
    mechanism when X has more than two values."""
    x_own = np.asarray(x_own)
    in_groups = (x_own == x0) | (x_own == x1)
    return np.where(in_groups, float(alpha), 0.0)


def edits_needed(fairness: FairnessSpec) -> dict:
    """Which mechanisms need a second evaluation at x*: {'de': bool, 'ie': bool, 'se': bool}."""
    return {p: getattr(fairness, p) != 0.0 for p in ("de", "ie", "se")}
