"""The decomposition against structural causal models whose true effects we know.

Each SCM is written with explicit exogenous noise, so the truth is computed the way the
effects are defined: for units with X = x0, W_{x0} is their own W and Y_{x1, W_{x0}} uses
Y's mechanism at x1; Y_{x1} re-runs W's mechanism at x1 with the unit's own noise. Means of
the known outcome probabilities over 400,000 units make the Monte Carlo error < 0.002.
Structural zeros (no X -> Y edge, no X -> W edge, X independent of Z) are exactly 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from faircause_core.errors import InputError
from faircause_core.causal.fairness import COLUMNS, EFFECTS, Decomposition, _theta, decompose

N = 8_000
TRUTH_N = 400_000


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


@dataclass(frozen=True, eq=False)  # hashed by identity, for the caches
class SCM:
    """X -> W -> Y with Z -> X, W, Y. Every mechanism takes its noise explicitly."""

    name: str
    z: Callable  # (n, rng) -> dict of columns
    px: Callable  # z -> P(X = x1 | z)
    uw: Callable  # (n, rng) -> noise for W
    w: Callable  # (x: bool array, z, uw) -> dict of mediator columns
    py: Callable  # (x, z, w) -> P(Y = 1 | ...) (or E[Y | ...] when continuous)
    zeros: tuple = ()  # effects that are 0 by construction
    labels: tuple = (0, 1)  # how X is coded: (x0, x1)
    continuous: bool = False
    noise: float = 1.0  # sd of Y's noise around py when continuous (0: a predictor's output)


def simulate(scm: SCM, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = scm.z(n, rng)
    x = rng.random(n) < scm.px(z)
    w = scm.w(x, z, scm.uw(n, rng))
    mean = scm.py(x, z, w)
    y = mean + rng.normal(0, scm.noise, n) if scm.continuous else (rng.random(n) < mean).astype(int)
    df = pd.DataFrame({**z, **w})
    labels = np.array(scm.labels, dtype=object)
    df.insert(0, "x", labels[x.astype(int)])
    if all(isinstance(v, (int, np.integer)) for v in scm.labels):
        df["x"] = df["x"].astype(int)
    df["y"] = y
    return df


@lru_cache(maxsize=None)
def truth(scm: SCM) -> dict:
    """True effects from counterfactuals under the SCM's own mechanisms."""
    rng = np.random.default_rng(20240601)
    n = TRUTH_N
    z = scm.z(n, rng)
    x = rng.random(n) < scm.px(z)
    uw = scm.uw(n, rng)
    w = scm.w(x, z, uw)
    x1 = np.ones(n, bool)
    w_x1 = scm.w(x1, z, uw)  # each unit's own mediator noise, X set to x1
    g0 = ~x
    sub = lambda d, m: {k: v[m] for k, v in d.items()}  # noqa: E731
    mu0 = scm.py(x[g0], sub(z, g0), sub(w, g0)).mean()
    mu1 = scm.py(x[x], sub(z, x), sub(w, x)).mean()
    a = scm.py(x1[g0], sub(z, g0), sub(w_x1, g0)).mean()  # E[Y_{x1} | x0]
    b = scm.py(x1[g0], sub(z, g0), sub(w, g0)).mean()  # E[Y_{x1, W_{x0}} | x0]
    out = {"tv": mu1 - mu0, "ctf_de": b - mu0, "ctf_ie": b - a, "ctf_se": a - mu1, "ett": a - mu0}
    for e in scm.zeros:
        out[e] = 0.0
    return out | {"mu0": mu0, "mu1": mu1, "A": a, "B": b}


# ----------------------------------------------------------------------------- SCMs


def _z_basic(n, rng):
    return {"age": rng.normal(0, 1, n), "race": (rng.random(n) < 0.3).astype(int)}


def _uw_basic(n, rng):
    return {"u_bmi": rng.normal(0, 1, n), "u_stage": rng.logistic(0, 1, n)}


def _w_basic(strength):
    def w(x, z, u):
        bmi = 0.5 * z["age"] + strength * x + u["u_bmi"]
        s = 0.3 * z["age"] + 1.2 * strength * x + u["u_stage"]
        stage = np.where(s < -0.5, "low", np.where(s < 1.0, "mid", "high"))
        return {"bmi": bmi, "stage": stage.astype(object)}

    return w


def _py_basic(direct):
    def py(x, z, w):
        st = np.select([w["stage"] == "low", w["stage"] == "mid"], [-0.6, 0.0], 0.7)
        return sigmoid(-0.8 + direct * x + 0.5 * z["age"] + 0.4 * z["race"] + 0.5 * w["bmi"] + st)

    return py


def _px_basic(z):
    return sigmoid(-0.2 + 0.8 * z["age"] - 0.7 * z["race"])


FULL = SCM("full", _z_basic, _px_basic, _uw_basic, _w_basic(0.8), _py_basic(0.7))
NO_DE = SCM("no_de", _z_basic, _px_basic, _uw_basic, _w_basic(0.8), _py_basic(0.0), zeros=("ctf_de",))
NO_IE = SCM("no_ie", _z_basic, _px_basic, _uw_basic, _w_basic(0.0), _py_basic(0.7), zeros=("ctf_ie",))
NO_SE = SCM(
    "no_se", _z_basic, lambda z: np.full(len(z["age"]), 0.45), _uw_basic, _w_basic(0.8), _py_basic(0.7),
    zeros=("ctf_se",),
)
NULL = SCM(
    "null", _z_basic, lambda z: np.full(len(z["age"]), 0.5), _uw_basic, _w_basic(0.0), _py_basic(0.0),
    zeros=EFFECTS,
)
Z_EMPTY = SCM(
    "z_empty", lambda n, rng: {}, lambda z: 0.4, _uw_basic,
    lambda x, z, u: _w_basic(0.8)(x, {"age": 0.0}, u),
    lambda x, z, w: _py_basic(0.6)(x, {"age": 0.0, "race": 0.0}, w),
    zeros=("ctf_se",), labels=("a", "b"),
)
W_EMPTY = SCM(
    "w_empty", _z_basic, _px_basic, lambda n, rng: {}, lambda x, z, u: {},
    lambda x, z, w: sigmoid(-0.5 + 0.9 * x + 0.6 * z["age"] - 0.5 * z["race"]),
    zeros=("ctf_ie",),
)


def _z_multi(n, rng):
    age = rng.uniform(20, 80, n)
    region = rng.choice(np.array(["north", "south", "east", "west"], dtype=object), n, p=[0.4, 0.3, 0.2, 0.1])
    income = rng.gamma(3.0, 10.0, n)
    return {"age": age, "region": region, "income": income}


def _px_multi(z):
    return sigmoid(0.04 * (z["age"] - 50) + np.where(z["region"] == "south", 0.8, -0.2) - 0.02 * (z["income"] - 30))


def _uw_multi(n, rng):
    return {k: rng.random(n) for k in ("a", "b", "c")} | {"e": rng.normal(0, 1, n)}


def _w_multi(x, z, u):
    chol = 180 + 0.5 * (z["age"] - 50) + 15 * x + 20 * u["e"]
    p_smoke = sigmoid(-1.0 + 1.2 * x + 0.3 * (z["region"] == "west"))
    smoker = (u["a"] < p_smoke).astype(int)
    p_hi, p_lo = sigmoid(-1.5 + 1.0 * x), sigmoid(0.5 - 0.8 * x)
    diet = np.where(u["b"] < p_hi, "poor", np.where(u["b"] < p_hi + (1 - p_hi) * p_lo, "fair", "good")).astype(object)
    visits = np.floor(-np.log1p(-u["c"]) * (2.0 + 1.5 * x + 0.02 * z["income"])).astype(int)  # geometric-ish
    return {"chol": chol, "smoker": smoker, "diet": diet, "visits": visits}


def _py_multi(x, z, w):
    age = (z["age"] - 50) / 15
    lin = (
        -1.2
        + 0.6 * x
        + 0.8 * np.sin(age * 1.5)
        + 0.5 * age**2
        + 0.4 * (z["region"] == "east")
        + 0.8 * (w["chol"] > 200)
        + 0.7 * w["smoker"] * (1 + 0.5 * x)
        + np.select([w["diet"] == "poor", w["diet"] == "fair"], [0.6, 0.2], -0.3)
        - 0.15 * np.minimum(w["visits"], 6)
    )
    return sigmoid(lin)


MULTI = SCM("multi_nonlinear_string_x", _z_multi, _px_multi, _uw_multi, _w_multi, _py_multi, labels=("Male", "Female"))
CONT = SCM(
    "continuous_outcome", _z_basic, _px_basic, _uw_basic, _w_basic(0.8),
    lambda x, z, w: 0.3 * x + 0.4 * z["age"] + 0.3 * w["bmi"] ** 2 / 2 + (w["stage"] == "high") * 0.5,
    continuous=True,
)


# A classifier's predicted probabilities as the outcome (the fair-predictor metric).
PROBS = SCM(
    "predicted_probabilities", _z_multi, _px_multi, _uw_multi, _w_multi,
    lambda x, z, w: _py_multi(x, z, w) * 0.8 + 0.1 * (w["diet"] == "poor"),
    labels=("Male", "Female"), continuous=True, noise=0.0,
)
SCMS = [FULL, NO_DE, NO_IE, NO_SE, NULL, Z_EMPTY, W_EMPTY, MULTI, CONT, PROBS]


def roles(scm: SCM):
    df = simulate(scm, 5, 0)
    z = [c for c in ("age", "race", "region", "income") if c in df.columns]
    w = [c for c in df.columns if c not in z and c not in ("x", "y")]
    return z, w


def data_seed(scm: SCM) -> int:
    """A different sample per SCM, so the SCMs sharing mechanisms do not share luck."""
    return 1000 + SCMS.index(scm)


@lru_cache(maxsize=None)
def fitted(scm: SCM, method: str = "dr") -> Decomposition:
    df = simulate(scm, N, seed=data_seed(scm))
    z, w = roles(scm)
    x0, x1 = scm.labels
    return decompose(df, "x", x0, x1, "y", z, w, seed=0, method=method, continuous_outcome=scm.continuous)


# ----------------------------------------------------------------------------- accuracy


@pytest.mark.parametrize("scm", SCMS, ids=lambda s: s.name)
def test_dr_estimates_within_tolerance_of_truth(scm):
    res = fitted(scm).to_frame()
    true = truth(scm)
    for e in EFFECTS:
        est, se = res.loc[e, "estimate"], res.loc[e, "se"]
        tol = max(0.02, 3 * se)
        assert abs(est - true[e]) <= tol, f"{scm.name} {e}: est {est:.4f} truth {true[e]:.4f} se {se:.4f}"


@pytest.mark.parametrize("scm", SCMS, ids=lambda s: s.name)
def test_intervals_cover_true_zero_effects(scm):
    res = fitted(scm).to_frame()
    for e in scm.zeros:
        lo, hi = res.loc[e, "ci_low"], res.loc[e, "ci_high"]
        assert lo <= 0.0 <= hi, f"{scm.name} {e}: [{lo:.4f}, {hi:.4f}] misses 0"


def test_truth_has_the_effects_the_tests_rely_on():
    """Guard the SCMs themselves: non-zero effects must be clearly non-zero."""
    t = truth(FULL)
    assert min(abs(t["ctf_de"]), abs(t["ctf_ie"]), abs(t["ctf_se"])) > 0.03
    assert abs(truth(NO_DE)["ctf_ie"]) > 0.05 and abs(truth(NO_IE)["ctf_de"]) > 0.05
    assert abs(truth(MULTI)["ctf_de"]) > 0.05 and abs(truth(MULTI)["ctf_ie"]) > 0.03
    assert abs(truth(CONT)["ctf_ie"]) > 0.1


def test_nonzero_effects_are_detected():
    res = fitted(FULL).to_frame()
    for e in ("tv", "ctf_de", "ctf_ie"):
        assert not (res.loc[e, "ci_low"] <= 0.0 <= res.loc[e, "ci_high"]), e


def test_empty_z_makes_spurious_effect_exactly_zero():
    d = fitted(Z_EMPTY)
    assert d["ctf_se"] == 0.0 and d.ses["ctf_se"] == 0.0
    assert d["ett"] == d["tv"]
    assert d.quantities["A"] == d.quantities["mu1"]


def test_empty_w_makes_indirect_effect_exactly_zero():
    d = fitted(W_EMPTY)
    assert d["ctf_ie"] == 0.0 and d.ses["ctf_ie"] == 0.0
    assert d["ctf_de"] == d["ett"]


def test_no_z_and_no_w_gives_direct_effect_equal_to_tv():
    df = simulate(Z_EMPTY, 2000, 3)
    d = decompose(df, "x", "a", "b", "y")
    assert d["ctf_de"] == pytest.approx(d["tv"], abs=1e-15)
    assert d["ctf_ie"] == 0.0 and d["ctf_se"] == 0.0


@pytest.mark.parametrize("method", ["dr", "plugin"])
@pytest.mark.parametrize("scm", [FULL, MULTI], ids=lambda s: s.name)
def test_identity_tv_equals_de_minus_ie_minus_se(scm, method):
    d = fitted(scm, method)
    assert abs(d["tv"] - (d["ctf_de"] - d["ctf_ie"] - d["ctf_se"])) < 1e-9
    q = {k: v["estimate"] for k, v in d.quantities.items()}
    assert d["tv"] == pytest.approx(q["mu1"] - q["mu0"], abs=1e-12)
    assert d["ctf_de"] == pytest.approx(q["B"] - q["mu0"], abs=1e-12)


def test_tv_is_the_raw_difference_in_means():
    df = simulate(FULL, N, seed=data_seed(FULL))
    d = fitted(FULL)
    raw = df.loc[df.x == 1, "y"].mean() - df.loc[df.x == 0, "y"].mean()
    assert d["tv"] == pytest.approx(raw, abs=1e-12)
    assert (d.n, d.n0, d.n1) == (N, int((df.x == 0).sum()), int((df.x == 1).sum()))


def test_plugin_is_close_on_a_logistic_scm():
    """The plug-in with logistic outcome models is right when the outcome model is."""
    res = fitted(W_EMPTY, "plugin")
    true = truth(W_EMPTY)
    for e in EFFECTS:
        assert abs(res[e] - true[e]) <= max(0.02, 3 * res.ses[e]), e
    assert res.method == "plugin"


def test_logistic_learner_dr_is_accurate_on_linear_scm():
    df = simulate(FULL, N, seed=11)
    d = decompose(df, "x", 0, 1, "y", ["age", "race"], ["bmi", "stage"], learner="logistic")
    true = truth(FULL)
    for e in EFFECTS:
        assert abs(d[e] - true[e]) <= max(0.02, 3 * d.ses[e]), e


@pytest.mark.parametrize("normalize", [True, False])
def test_one_step_formula_with_true_nuisances(normalize):
    """The estimator itself, apart from any learner: true m and pi recover B, and the
    influence function is centred (so it describes the estimator's own fluctuation)."""
    scm = FULL
    rng = np.random.default_rng(42)
    n = 20_000
    z = scm.z(n, rng)
    x = rng.random(n) < scm.px(z)
    w = scm.w(x, z, scm.uw(n, rng))
    y = (rng.random(n) < scm.py(x, z, w)).astype(float)
    m = scm.py(np.ones(n, bool), z, w)  # E[Y | x1, Z, W]
    # P(x1 | z, w) by Bayes with the known mechanisms: P(w | x, z) via the noise densities.
    def lik(xv):
        bmi_noise = w["bmi"] - 0.5 * z["age"] - 0.8 * xv
        s = 0.3 * z["age"] + 0.96 * xv
        cdf = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731  logistic noise of the stage
        p_stage = np.select(
            [w["stage"] == "low", w["stage"] == "mid"],
            [cdf(-0.5 - s), cdf(1.0 - s) - cdf(-0.5 - s)],
            1 - cdf(1.0 - s),
        )
        return np.exp(-0.5 * bmi_noise**2) * p_stage
    px = scm.px(z)
    pi = px * lik(1) / (px * lik(1) + (1 - px) * lik(0))
    theta, infl = _theta(m, pi, x, y, 0.0, False, normalize)
    se = infl.std(ddof=1) / np.sqrt(n)
    assert abs(theta - truth(scm)["B"]) < 3 * se
    assert abs(infl.mean()) < 1e-10
    plug, _ = _theta(m, pi, x, y, 0.0, True, normalize)
    assert plug == pytest.approx(m[~x].mean())
    # Double robustness: a badly biased outcome model is repaired by the true propensity.
    bad = np.clip(m + 0.15 - 0.3 * (w["stage"] == "high"), 0, 1)
    fixed, infl_bad = _theta(bad, pi, x, y, 0.0, False, normalize)
    assert abs(fixed - truth(scm)["B"]) < 3 * infl_bad.std(ddof=1) / np.sqrt(n)
    assert abs(bad[~x].mean() - truth(scm)["B"]) > 0.05  # the plug-in would be far off


def test_textbook_unnormalised_estimator_is_accurate_too():
    d = decompose(simulate(FULL, N, seed=21), "x", 0, 1, "y", ["age", "race"], ["bmi", "stage"], normalize=False)
    true = truth(FULL)
    for e in EFFECTS:
        assert abs(d[e] - true[e]) <= max(0.02, 3 * d.ses[e]), e
    assert d.settings["normalize"] is False


# ----------------------------------------------------------------------------- result object


def test_frame_shape_and_intervals():
    f = fitted(FULL).to_frame()
    assert list(f.index) == EFFECTS and list(f.columns) == COLUMNS
    assert np.allclose(f["ci_high"] - f["estimate"], 1.959963984540054 * f["se"])
    assert np.allclose(f["estimate"] - f["ci_low"], 1.959963984540054 * f["se"])
    assert (f["se"] > 0).all()


def test_dict_round_trip_through_json():
    d = fitted(MULTI)
    back = Decomposition.from_dict(json.loads(json.dumps(d.to_dict())))
    pd.testing.assert_frame_equal(back.to_frame(), d.to_frame())
    assert back.quantities == d.quantities and back.warnings == d.warnings
    assert (back.n, back.n0, back.n1, back.method) == (d.n, d.n0, d.n1, d.method)
    assert back.settings["x0"] == "Male" and back.settings["x1"] == "Female"
    with pytest.raises(InputError):
        Decomposition.from_dict({"estimates": {}})


def test_getitem_returns_float_estimate_and_rejects_unknown():
    d = fitted(FULL)
    assert isinstance(d["ctf_de"], float) and d["ctf_de"] == d.to_frame().loc["ctf_de", "estimate"]
    with pytest.raises(KeyError):
        d["de"]


def test_same_seed_same_numbers_and_seed_matters():
    df = simulate(FULL, 3000, seed=1)
    a = decompose(df, "x", 0, 1, "y", ["age", "race"], ["bmi", "stage"], seed=5)
    b = decompose(df, "x", 0, 1, "y", ["age", "race"], ["bmi", "stage"], seed=5)
    c = decompose(df, "x", 0, 1, "y", ["age", "race"], ["bmi", "stage"], seed=6)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    assert a["ctf_de"] != c["ctf_de"]  # different folds
    assert a["tv"] == c["tv"]


# ----------------------------------------------------------------------------- input handling


def test_single_string_column_and_swapped_groups():
    df = simulate(W_EMPTY, 3000, seed=2)
    d = decompose(df, "x", 0, 1, "y", "age", ())
    assert d.settings["z"] == ["age"] and d["ctf_ie"] == 0.0
    flipped = decompose(df, "x", 1, 0, "y", "age", ())
    assert flipped["tv"] == pytest.approx(-d["tv"], abs=1e-12)


def test_group_values_given_as_text_and_multi_group_column():
    df = simulate(FULL, 3000, seed=2)
    d = decompose(df, "x", "0", "1", "y", ["age"], ["bmi"], method="plugin")
    assert d.settings["x0"] == 0 and d.settings["x1"] == 1
    three = df.copy()
    three.loc[three.index[:300], "x"] = 2
    d3 = decompose(three, "x", 0, 1, "y", ["age"], ["bmi"], method="plugin")
    assert d3.n == 2700 and any("neither" in m for m in d3.warnings)


def test_outcome_coding_threshold_and_strings():
    df = simulate(FULL, 3000, seed=4)
    base = decompose(df, "x", 0, 1, "y", ["age"], ["bmi"], method="plugin")
    words = df.assign(y=np.where(df.y == 1, "died", "alive"))
    assert decompose(words, "x", 0, 1, "y", ["age"], ["bmi"], method="plugin")["tv"] == base["tv"]
    scores = df.assign(y=df.y * 10.0 + 3.0)  # values 3 / 13
    with pytest.raises(InputError):
        decompose(scores.assign(y=scores.y + np.arange(3000) % 3), "x", 0, 1, "y", ["age"])
    thr = decompose(scores, "x", 0, 1, "y", ["age"], ["bmi"], method="plugin", threshold=10)
    assert thr["tv"] == base["tv"]


def test_outcome_coded_by_the_question_rule_deceased_living():
    """One coding rule: "Deceased" is the event (as for the outcome rates and the metrics),
    so TV has the sign of rate(x1) - rate(x0) of Deceased, whatever the other label is."""
    from faircause_core.causal.question import Outcome, binary_outcome

    df = simulate(FULL, 3000, seed=4)
    words = df.assign(y=np.where(df.y == 1, "Deceased", "Living"))
    d = decompose(words, "x", 0, 1, "y", ["age"], ["bmi"], method="plugin")
    rate = pd.Series(binary_outcome(words["y"])).groupby(words["x"].to_numpy()).mean()
    assert d["tv"] == pytest.approx(rate[1] - rate[0], abs=1e-12) and abs(d["tv"]) > 0.05
    dead = (words.y == "Deceased").groupby(words.x).mean()
    assert d["tv"] == pytest.approx(dead[1] - dead[0], abs=1e-12)
    assert d.settings["positive"] == "Deceased" == Outcome.resolve(words["y"]).positive
    assert d["tv"] == decompose(df, "x", 0, 1, "y", ["age"], ["bmi"], method="plugin")["tv"]


def test_continuous_outcome_uses_raw_values():
    df = simulate(CONT, 3000, seed=5)
    d = decompose(df, "x", 0, 1, "y", ["age", "race"], ["bmi", "stage"], method="plugin", continuous_outcome=True)
    raw = df.loc[df.x == 1, "y"].mean() - df.loc[df.x == 0, "y"].mean()
    assert d["tv"] == pytest.approx(raw, abs=1e-12)
    with pytest.raises(InputError, match="not numeric"):
        decompose(df.assign(y="a"), "x", 0, 1, "y", continuous_outcome=True)


def test_missing_values_policy():
    df = simulate(MULTI, 4000, seed=6)
    rng = np.random.default_rng(0)
    df.loc[rng.random(len(df)) < 0.1, "income"] = np.nan
    df.loc[rng.random(len(df)) < 0.1, "diet"] = np.nan
    df.loc[df.index[:25], "y"] = np.nan
    df.loc[df.index[25:40], "x"] = None
    d = decompose(df, "x", "Male", "Female", "y", ["age", "region", "income"], ["chol", "smoker", "diet", "visits"])
    assert d.n == 4000 - 40
    assert any("dropped 40 rows" in m for m in d.warnings)
    assert np.isfinite(d.to_frame().to_numpy()).all()


def test_the_extreme_propensity_note_is_said_once_over_the_splits():
    """pbc (418 patients, 44 men) printed three extreme-propensity lines, 1.7%, 1.9% and 3.6%,
    one per cross-fitting split that warned: now one line, the median, saying how many warned."""
    rng = np.random.default_rng(3)
    n = 1500
    age = rng.normal(0, 1, n)
    x = (rng.random(n) < sigmoid(-3.5 + 3.5 * age)).astype(int)
    y = (rng.random(n) < sigmoid(age + x)).astype(int)
    df = pd.DataFrame({"x": x, "age": age, "y": y})
    runs = [decompose(df, "x", 0, 1, "y", ["age"], seed=s) for s in range(4)]
    each = [m for r in runs for m in r.warnings if m.startswith("extreme propensities")]
    assert len(set(each)) > 1  # the control: the splits' own notes differ in their share
    merged = [m for m in decompose(df, "x", 0, 1, "y", ["age"], splits=4).warnings
              if m.startswith("extreme propensities")]
    shares = sorted(float(m.split(": ")[1].split("%")[0]) for m in each)
    assert merged == [f"extreme propensities: {np.median(shares):.1f}% of P(x=1 | Z) fall outside [0.01, 0.99]; "
                      f"estimates may be unstable (the median of the {len(each)} of 4 cross-fitting splits that warned)"]


def test_warns_on_small_group_and_extreme_propensities():
    rng = np.random.default_rng(3)
    n = 1500
    age = rng.normal(0, 1, n)
    x = (rng.random(n) < sigmoid(-3.5 + 3.5 * age)).astype(int)  # X nearly determined by age
    y = (rng.random(n) < sigmoid(age + x)).astype(int)
    df = pd.DataFrame({"x": x, "age": age, "y": y})
    d = decompose(df, "x", 0, 1, "y", ["age"], learner="logistic")
    assert any(m.startswith("extreme propensities") for m in d.warnings)
    small = pd.concat([df[df.x == 0].head(400), df[df.x == 1].head(30)])
    ds = decompose(small, "x", 0, 1, "y", ["age"], method="plugin")
    assert "group x=1 is small (30 rows with an outcome): estimates will be noisy" in ds.warnings
    # Cross-fitting with 24 training rows per fold: the small-data fallback still answers.
    dd = decompose(small, "x", 0, 1, "y", ["age"])
    assert np.isfinite(dd.to_frame().to_numpy()).all() and any("(30 rows with an outcome)" in m for m in dd.warnings)
    quiet = fitted(NO_SE)
    assert not any(m.startswith("extreme") for m in quiet.warnings)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x="sex"), "unknown column 'sex'"),
        (dict(z=["nope"]), "unknown column 'nope'"),
        (dict(x0=5), "x0 value '5' does not occur in column 'x'"),
        (dict(x1="Female"), "x1 value 'Female'"),
        (dict(x1=0), "same group"),
        (dict(z=["age"], w=["age"]), "both z"),
        (dict(z=["x"]), "'x' is x"),
        (dict(w=["y"]), "'y' is y"),
        (dict(z=["age", "age"]), "listed twice"),
        (dict(y="x"), "both the sensitive attribute"),
        (dict(y="bmi", w=["stage"]), "has 3000 distinct values"),
        (dict(method="bayes"), "unknown method"),
        (dict(learner="forest"), "unknown learner"),
        (dict(n_folds=1), "n_folds"),
        (dict(clip=0.7), "clip"),
        (dict(y="stage", threshold=1), "not numeric"),
    ],
)
def test_bad_input_raises_one_line_input_error(kwargs, match):
    df = simulate(FULL, 3000, seed=8)
    args = dict(data=df, x="x", x0=0, x1=1, y="y", z=["age"], w=["bmi"]) | kwargs
    with pytest.raises(InputError, match=match) as info:
        decompose(**args)
    assert "\n" not in str(info.value)


def test_too_few_rows_per_group_or_fold():
    df = simulate(FULL, 3000, seed=9)
    tiny = pd.concat([df[df.x == 0], df[df.x == 1].head(12)])
    with pytest.raises(InputError, match="only 12 usable rows"):
        decompose(tiny, "x", 0, 1, "y", ["age"])
    few = pd.concat([df[df.x == 0], df[df.x == 1].head(30)])
    with pytest.raises(InputError, match="too few for 10 folds"):
        decompose(few, "x", 0, 1, "y", ["age"], n_folds=10)
    with pytest.raises(InputError, match="DataFrame"):
        decompose(df.to_numpy(), "x", 0, 1, "y")


def test_demo_cohort_total_variation():
    """Real data: men died more (24.4% vs 14.8%), so TV(Male -> Female) is about -0.096."""
    df = pd.read_csv(Path(__file__).resolve().parents[1] / "assets" / "nhefs_cohort.csv")
    w = [c for c in df.columns if c not in ("sex", "death", "age", "race")]
    d = decompose(df, "sex", "Male", "Female", "death", ["age", "race"], w, method="plugin")
    assert d["tv"] == pytest.approx(-0.096, abs=0.001)
    assert (d.n, d.n0, d.n1) == (1629, 799, 830)
    assert abs(d["tv"] - (d["ctf_de"] - d["ctf_ie"] - d["ctf_se"])) < 1e-9


def test_repeated_cross_fitting_is_the_median_of_splits_and_keeps_the_identity():
    """splits=S: median A and B over the fold seeds seed..seed+S-1, effects from them (TV = DE - IE
    - SE exactly), standard errors widened by the spread between splits; splits=1 is the default."""
    df = simulate(FULL, 1200, seed=5)
    args = (df, "x", 0, 1, "y", ["age", "race"], ["bmi", "stage"])
    one = [decompose(*args, seed=7 + r) for r in range(3)]
    assert decompose(*args, seed=7, splits=1).to_dict() == one[0].to_dict()
    med = decompose(*args, seed=7, splits=3)
    for q in ("A", "B"):
        assert med.quantities[q]["estimate"] == pytest.approx(np.median([d.quantities[q]["estimate"] for d in one]))
    e = med.estimates
    assert e["tv"] == pytest.approx(e["ctf_de"] - e["ctf_ie"] - e["ctf_se"], abs=1e-12)
    assert e["tv"] == pytest.approx(one[0].estimates["tv"])  # the group means do not depend on the folds
    for eff in ("ctf_de", "ctf_ie", "ctf_se"):
        assert med.ses[eff] >= np.median([d.ses[eff] for d in one]) - 1e-12
    assert med.settings["splits"] == 3
    for bad in (0, 1.5, True, "3"):
        with pytest.raises(InputError, match="splits"):
            decompose(*args, splits=bad)
