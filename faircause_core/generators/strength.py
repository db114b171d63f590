"""The Dirichlet prior's strength of a column's conditional, chosen by cross-validation.

Both generators' mechanisms are the posterior (N(v, c) + s * centre(v | c)) / (N(c) + s): the
counts of parent combination c pulled towards a logistic centre by s pseudo rows. A fixed
s = 5 let a thin combination's few counts override the centre; each generator now picks s
per column from STRENGTHS by CV_FOLDS-fold cross-validation of the held-out log loss
(bayesnet.cv_strength, lm.train.cv_strengths), the centre and the counts refitted on each
fold's training rows, by the one-standard-error rule (`choose`): the strongest prior whose
held-out loss is within one standard error of the best. Where the loss is flat (a column
whose parent combinations are rarely seen twice, such as an outcome with 14 parents) that
keeps the smooth centre instead of the few counts of a row's own combination. This module is
the rule's one home: the grid, the folds, the loss and the choice.
"""

from __future__ import annotations

import numpy as np

STRENGTHS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 3000.0, 10000.0)
CV_FOLDS = 5
CV_ROWS = 20_000  # rows the cross-validation reads at most (a seeded subsample): its cost stays flat beyond
FIXED_STRENGTH = 5.0  # a root's (its posterior is its marginal either way), and BDeu's and K2's


def held_out_loss(centre: np.ndarray, config: np.ndarray, y: np.ndarray, train: np.ndarray, card: int) -> np.ndarray:
    """The summed -log posterior of the held-out rows' values at every strength of STRENGTHS.

    centre: (m,) the centre's probability of each held-out row's own value; config: every
    row's parent-combination id (training rows first, then the m held-out rows); y: every
    row's value code in the same order; train: how many of the rows are training rows."""
    grid = np.asarray(STRENGTHS)
    joint = np.bincount(config[:train] * card + y[:train], minlength=(int(config.max()) + 1) * card)
    n_cy = joint[config[train:] * card + y[train:]]
    n_c = joint.reshape(-1, card).sum(axis=1)[config[train:]]
    p = (n_cy[:, None] + grid[None, :] * centre[:, None]) / (n_c[:, None] + grid[None, :])
    return -np.log(np.clip(p, 1e-300, None))


def choose(losses: np.ndarray) -> float:
    """The strength for a column from its held-out rows' losses (rows, grid) pooled over the
    folds: the largest whose mean loss exceeds the best's by at most one standard error of
    the paired per-row difference (the one-standard-error rule of cross-validation)."""
    losses = np.asarray(losses, dtype=float)
    if losses.size == 0:
        return FIXED_STRENGTH
    mean = losses.mean(axis=0)
    best = int(np.argmin(mean))
    pick = best
    for j in range(best + 1, losses.shape[1]):
        diff = losses[:, j] - losses[:, best]
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else 0.0
        if diff.mean() <= se:
            pick = j
    return float(STRENGTHS[pick])


def subsample(rows: np.ndarray, seed) -> np.ndarray:
    """`rows` (sorted) when there are at most CV_ROWS of them, else a seeded sorted subsample of CV_ROWS."""
    if len(rows) <= CV_ROWS:
        return np.asarray(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, CV_ROWS, replace=False))


def folds(n: int, seed) -> np.ndarray:
    """A seeded fold id (0 .. CV_FOLDS - 1) per row."""
    return np.random.default_rng(seed).permutation(n) % CV_FOLDS
