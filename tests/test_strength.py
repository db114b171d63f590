"""generators/strength.py, the one rule both generators choose a conditional's prior strength by:
the held-out loss of the posterior at each strength, the one-standard-error choice and the
row cap."""

import numpy as np
import pytest

from faircause_core.generators import strength
from faircause_core.generators.strength import CV_ROWS, STRENGTHS, choose, held_out_loss, subsample


def test_the_loss_is_the_posteriors_by_hand():
    # two training rows of combination 0 (values 1, 1), one held-out row of it (value 1) and one of
    # an unseen combination 1 (value 0); the centre gives each held-out row's value 0.25
    config, y = np.array([0, 0, 0, 1]), np.array([1, 1, 1, 0])
    loss = held_out_loss(np.array([0.25, 0.25]), config, y, train=2, card=2)
    s = np.asarray(STRENGTHS)
    assert loss.shape == (2, len(STRENGTHS))
    np.testing.assert_allclose(loss[0], -np.log((2 + 0.25 * s) / (2 + s)))  # counts and centre
    np.testing.assert_allclose(loss[1], -np.log(0.25))  # unseen combination: the centre alone


def test_one_standard_error_takes_the_strongest_prior_within_noise_of_the_best():
    """Held-out losses move smoothly with the strength, each row along its own slope: a mean
    slope far inside its noise (0.0002 nats over the grid, SE 0.0005) is the flat case the
    plain minimum resolved to s = 1; a steep one (0.05 nats, SE 0.0005) is a clear winner."""
    rng = np.random.default_rng(0)
    grid = np.arange(len(STRENGTHS)) / (len(STRENGTHS) - 1)
    base = rng.normal(1.0, 0.5, (400, 1))

    def losses(mean_slope):
        return base + rng.normal(mean_slope, 0.01, (400, 1)) * grid

    flat = losses(0.0002)
    assert STRENGTHS[int(np.argmin(flat.mean(axis=0)))] == STRENGTHS[0]  # what the plain minimum took
    assert choose(flat) == STRENGTHS[-1]  # no strength better beyond noise: the smooth centre
    assert choose(losses(0.05)) == STRENGTHS[0]  # control: a clear winner is kept
    assert choose(-losses(0.05) + 3) == STRENGTHS[-1]
    assert choose(np.zeros((0, len(STRENGTHS)))) == strength.FIXED_STRENGTH


def test_the_cross_validation_reads_at_most_cv_rows():
    small = np.arange(100)
    assert np.array_equal(subsample(small, 0), small)
    big = np.arange(3 * CV_ROWS)
    picked = subsample(big, [0, 1])
    assert len(picked) == CV_ROWS == len(np.unique(picked)) and np.all(np.diff(picked) > 0)
    assert np.array_equal(picked, subsample(big, [0, 1])) and not np.array_equal(picked, subsample(big, [0, 2]))


@pytest.mark.parametrize("n", [30, 5])
def test_folds_cover_every_row(n):
    fold = strength.folds(n, 3)
    assert len(fold) == n and set(fold) <= set(range(strength.CV_FOLDS))
