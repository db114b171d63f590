"""The shared ancestral sampling loop on a tiny hand-made SCM, so each pathway edit is
checked exactly: the loop must draw every column from the mechanism the edit prescribes,
with the same uniforms, and leave every other mechanism alone."""

import numpy as np
import pytest

from faircause_core.errors import InputError
from faircause_core.generators.base import CancelToken, Cancelled, FairnessSpec
from faircause_core.generators.columns import ColumnCodec
from faircause_core.generators.mechanisms import draw
from faircause_core.generators.sampling import Groups, ancestral_sample
from faircause_core.causal.graph import Roles

# z -> x; x -> m -> w; (x, m, z) -> y. X has three states: 0 (x0), 1 (x1), 2 (neither).
ORDER = ["z", "x", "m", "w", "y"]
PARENTS = {"z": [], "x": ["z"], "m": ["x"], "w": ["m"], "y": ["m", "x", "z"]}
ROLES = Roles(x="x", y="y", z=("z",), w=("m", "w"))
PX = np.array([0.5, 0.3, 0.2])
GROUPS = Groups(PX, 0, 1)
N = 4000


def binary(p1) -> np.ndarray:
    p1 = np.asarray(p1, dtype=float)
    return np.stack([1 - p1, p1], axis=1)


def mechanism(c: str, codes: dict) -> np.ndarray:
    """P(c | parents) per row: each parent moves the chance of state 1 by a known amount."""
    if c == "z":
        return binary(np.full(N, 0.4))
    if c == "x":
        z = codes["z"]
        return np.stack([0.7 - 0.5 * z, 0.2 + 0.5 * z, np.full(N, 0.1)], axis=1)
    if c == "m":
        return binary(0.1 + 0.6 * (codes["x"] == 1))
    if c == "w":
        return binary(0.3 + 0.4 * codes["m"])
    return binary(0.05 + 0.5 * (codes["x"] == 1) + 0.2 * codes["m"] + 0.1 * codes["z"])


def uniforms(seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((len(ORDER), N)), rng.random(N)


def run(fairness, probs=mechanism, seed=0, **kw):
    u, u_ref = uniforms(seed)
    return ancestral_sample(ORDER, PARENTS, probs, fairness, ROLES, GROUPS, u, u_ref, **kw)


def by_hand(edit: dict, seed=0) -> dict:
    """The expected codes: column by column, the given per-column mechanism (default: own)."""
    u, _ = uniforms(seed)
    codes = {}
    for j, c in enumerate(ORDER):
        p = edit[c](codes) if c in edit else mechanism(c, codes)
        codes[c] = draw(p, u[j])
    return codes


def same(a: dict, b: dict) -> None:
    for c in ORDER:
        assert np.array_equal(a[c], b[c]), c


def with_x(codes: dict, x) -> dict:
    return {**codes, "x": np.broadcast_to(x, (N,))}


def test_keep_draws_every_column_from_its_own_mechanism():
    same(run(FairnessSpec()), by_hand({}))


def test_de_removed_draws_y_at_the_reference_and_nothing_else_changes():
    out = run(FairnessSpec(de=1, reference="x0"))
    in_groups = lambda codes: np.isin(codes["x"], [0, 1])[:, None]  # noqa: E731
    same(out, by_hand({"y": lambda codes: np.where(in_groups(codes), mechanism("y", with_x(codes, 0)),
                                                   mechanism("y", codes))}))
    keep = run(FairnessSpec())
    for c in ("z", "x", "m", "w"):
        assert np.array_equal(out[c], keep[c])
    other = keep["x"] == 2  # outside {x0, x1}: Y keeps its own mechanism
    assert other.sum() > 100 and np.array_equal(out["y"][other], keep["y"][other])
    assert out["y"].mean() < keep["y"].mean() - 0.05  # x1 rows lost their +0.5


def test_partial_de_is_the_alpha_mixture_of_own_and_reference():
    out = run(FairnessSpec(de=0.4, reference="x0"))

    def mixed(codes):
        own, ref = mechanism("y", codes), mechanism("y", with_x(codes, 0))
        a = np.where(np.isin(codes["x"], [0, 1]), 0.4, 0.0)[:, None]
        return (1 - a) * own + a * ref

    same(out, by_hand({"y": mixed}))


def test_ie_removed_edits_only_the_mediator_that_is_a_child_of_x():
    out = run(FairnessSpec(ie=1, reference="x1"))

    def m_at_x1(codes):
        in_groups = np.isin(codes["x"], [0, 1])[:, None]
        return np.where(in_groups, mechanism("m", with_x(codes, 1)), mechanism("m", codes))

    # w (not a child of X) and y see the new m through their own mechanisms; y keeps its own x.
    same(out, by_hand({"m": m_at_x1}))


def test_se_removed_draws_x_from_its_marginal():
    out = run(FairnessSpec(se=1))
    same(out, by_hand({"x": lambda codes: np.broadcast_to(PX, (N, 3))}))
    half = run(FairnessSpec(se=0.5))
    same(half, by_hand({"x": lambda codes: 0.5 * mechanism("x", codes) + 0.5 * PX}))


def test_marginal_reference_uses_u_ref_and_the_two_group_share():
    _, u_ref = uniforms()
    xstar = GROUPS.reference("marginal", u_ref)
    assert np.array_equal(xstar, np.where(u_ref < 0.5 / 0.8, 0, 1))
    out = run(FairnessSpec(de=1, reference="marginal"))
    same(out, by_hand({"y": lambda codes: np.where(np.isin(codes["x"], [0, 1])[:, None],
                                                     mechanism("y", with_x(codes, xstar)), mechanism("y", codes))}))


def test_the_reference_is_asked_for_only_in_edited_mechanisms():
    calls = []

    def recording(c, codes):
        calls.append(c)
        return mechanism(c, codes)

    run(FairnessSpec(), probs=recording)
    assert calls == ORDER
    calls.clear()
    run(FairnessSpec(de=1, ie=1, se=1), probs=recording)
    assert calls == ["z", "x", "m", "m", "w", "y", "y"]  # SE needs no second evaluation


def test_check_runs_before_and_on_column_after_each_column():
    events = []

    def probs(c, codes):
        events.append(("probs", c))
        return mechanism(c, codes)

    run(FairnessSpec(), probs=probs, check=lambda: events.append(("check",)),
        on_column=lambda done, total: events.append(("done", done, total)))
    expected = []
    for j, c in enumerate(ORDER):
        expected += [("check",), ("probs", c), ("done", j + 1, len(ORDER))]
    assert events == expected


def test_cancel_stops_before_the_next_column():
    token = CancelToken()
    seen = []

    def probs(c, codes):
        seen.append(c)
        return mechanism(c, codes)

    with pytest.raises(Cancelled):
        run(FairnessSpec(), probs=probs, check=token.check,
            on_column=lambda done, total: token.cancel() if done == 2 else None)
    assert seen == ["z", "x"]


def test_groups_fit_states_marginal_and_errors():
    col = ColumnCodec("sex", numeric=False, dtype=object, states=["F", "M"])
    codes = np.array([0, 1, 1, 1])
    g = Groups.fit(col, codes, Roles(x="sex", y="y", x0="M", x1="F"))
    assert (g.x0, g.x1) == (1, 0) and np.allclose(g.px, [0.25, 0.75])
    unset = Groups.fit(col, codes, Roles(x="sex", y="y"))  # a binary X: its two states in order
    assert (unset.x0, unset.x1) == (0, 1)
    with pytest.raises(InputError, match="'X' \\(x1\\) not found in column 'sex'"):
        Groups.fit(col, codes, Roles(x="sex", y="y", x0="M", x1="X"))
    three = ColumnCodec("race", numeric=False, dtype=object, states=["a", "b", "c"], has_missing=True)
    g3 = Groups.fit(three, np.array([0, 1, 2, 3]), Roles(x="race", y="y"))
    assert g3.x0 is None and g3.x1 is None and g3.px.shape == (4,)  # missing is its own state
    assert g3.reference("x1", np.zeros(3)) is None
