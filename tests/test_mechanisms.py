import numpy as np
import pytest

from faircause_core.generators.base import FairnessSpec
from faircause_core.generators.mechanisms import (
    draw,
    edits_needed,
    mix,
    mix_and_draw,
    pathway_alpha,
    reference_states,
)

OWN = np.array([[0.8, 0.2], [0.1, 0.9], [0.5, 0.5]])
REF = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])


def test_mix_endpoints_and_middle():
    assert np.allclose(mix(OWN, REF, 0.0), OWN)
    assert np.allclose(mix(OWN, REF, 1.0), REF)
    assert np.allclose(mix(OWN, REF, 0.5), (OWN + REF) / 2)


def test_mix_per_row_alpha_keeps_rows_with_zero():
    out = mix(OWN, REF, np.array([1.0, 0.0, 0.3]))
    assert np.allclose(out[0], REF[0])
    assert np.allclose(out[1], OWN[1])


def test_extrapolated_mix_clips_at_zero_and_renormalises():
    out = mix(OWN, REF, 2.0)  # 2*ref - own: row 0 -> [-0.4, 1.4] -> [0, 1]
    assert np.all(out >= 0)
    assert np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(out[0], [0.0, 1.0])
    assert np.allclose(out[1], [1.1 / 1.1, 0.0])  # [1.1, -0.1] -> [1, 0]
    neg = mix(OWN, REF, -1.0)  # 2*own - ref: pushes away from the reference
    assert np.allclose(neg[0], [1.0, 0.0])


def test_draw_matches_probabilities_and_is_deterministic():
    p = np.tile([[0.2, 0.5, 0.3]], (40_000, 1))
    u = np.random.default_rng(0).random(40_000)
    idx = draw(p, u)
    freq = np.bincount(idx, minlength=3) / idx.size
    assert np.allclose(freq, [0.2, 0.5, 0.3], atol=0.01)
    assert np.array_equal(idx, draw(p, u))
    # u at the top of [0, 1) and rounding in the cumulative sum never overflow the states
    assert draw(np.array([[0.3, 0.3, 0.3]]), np.array([0.999999999]))[0] == 2


def test_common_random_numbers_change_few_draws_for_a_small_alpha_step():
    rng = np.random.default_rng(1)
    n = 20_000
    own = np.column_stack([np.full(n, 0.7), np.full(n, 0.3)])
    ref = np.column_stack([np.full(n, 0.4), np.full(n, 0.6)])
    u = rng.random(n)
    a = mix_and_draw(own, ref, 0.5, u)
    b = mix_and_draw(own, ref, 0.55, u)
    changed = np.mean(a != b)
    assert 0 < changed <= 0.02  # exactly the rows whose u falls in the 1.5% shifted band
    assert np.all(b >= a)  # more weight on the reference only moves rows towards state 1


def test_reference_states():
    u = np.random.default_rng(2).random(10_000)
    assert set(reference_states("x0", 5, 3, 7, 0.5, u)) == {3}
    assert set(reference_states("x1", 5, 3, 7, 0.5, u)) == {7}
    m = reference_states("marginal", 10_000, 3, 7, 0.25, u)
    assert set(np.unique(m)) == {3, 7}
    assert abs(np.mean(m == 3) - 0.25) < 0.02
    with pytest.raises(ValueError):
        reference_states("other", 5, 3, 7, 0.5, u)


def test_pathway_alpha_keeps_rows_outside_the_two_groups():
    x = np.array([0, 1, 2, 1, 2])
    assert list(pathway_alpha(0.7, x, 0, 1)) == [0.7, 0.7, 0.0, 0.7, 0.0]


def test_edits_needed():
    assert edits_needed(FairnessSpec()) == {"de": False, "ie": False, "se": False}
    assert edits_needed(FairnessSpec(de=1, se=0.5)) == {"de": True, "ie": False, "se": True}
