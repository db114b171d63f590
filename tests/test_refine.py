import json

import pandas as pd
import pytest

from faircause_core.errors import InputError
from faircause_core.causal.fairness import decompose
from faircause_core.generators.base import CancelToken, Cancelled, FairnessSpec
from faircause_core.generators.bayesnet import BayesNetGenerator
from faircause_core.workflow.refine import RefineResult, refine, targets_and_tolerances
from test_bayesnet import scm_setup

ROUND_KEYS = {"round", "alphas", "decomposition", "measured", "targets", "errors", "tolerances", "within", "seconds"}


@pytest.fixture(scope="module")
def scm():
    table, graph, roles = scm_setup()
    gen = BayesNetGenerator().fit(table, graph, roles)
    real = decompose(table.df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, method="plugin")
    return gen, roles, real


def run(scm, fairness, **kw):
    gen, roles, real = scm
    kw.setdefault("method", "plugin")
    return refine(gen, 2000, fairness, roles, real, seed=0, **kw)


def test_targets_and_tolerances():
    real = {"ctf_de": 0.2, "ctf_ie": -0.1, "ctf_se": 0.5}
    targets, tols = targets_and_tolerances(real, FairnessSpec(de=1, ie=0.5), 0.02, 0.10)
    assert targets == pytest.approx({"ctf_de": 0.0, "ctf_ie": -0.05, "ctf_se": 0.5})
    assert tols == pytest.approx({"ctf_de": 0.02, "ctf_ie": 0.02, "ctf_se": 0.05})


def test_converges_with_de_removed_and_records_every_round(scm):
    res = run(scm, FairnessSpec(de=1))
    assert isinstance(res, RefineResult) and res.converged
    assert len(res.data) == 2000
    assert res.rounds and all(set(r) == ROUND_KEYS for r in res.rounds)
    assert [r["round"] for r in res.rounds] == list(range(1, len(res.rounds) + 1))
    assert res.rounds[0]["alphas"] == {"de": 1.0, "ie": 0.0, "se": 0.0}  # starts at the user's dial
    last = res.rounds[-1]
    assert all(last["within"].values())
    assert abs(last["measured"]["ctf_de"]) <= 0.02
    assert res.final_fairness.de == pytest.approx(last["alphas"]["de"])
    assert res.targets["ctf_de"] == 0.0 and res.targets["ctf_ie"] == pytest.approx(res.real["estimates"]["ctf_ie"])
    assert "converged" in res.message
    json.dumps(res.rounds)  # the log is JSON-safe for the app and the CLI
    frame = res.rounds_frame()
    assert len(frame) == 3 * len(res.rounds) and set(frame["pathway"]) == {"DE", "IE", "SE"}


def test_steering_fixes_a_first_round_that_misses(scm):
    # Mirror: the first draw's DE misses the real one by more than 0.02; the loop
    # moves alpha (not the seed: rounds share their random numbers) until it fits.
    res = run(scm, FairnessSpec(), n_measure=4000)
    first = res.rounds[0]
    assert not all(first["within"].values())
    assert res.converged and len(res.rounds) >= 2
    moved = [p for p in ("de", "ie", "se") if res.rounds[-1]["alphas"][p] != 0.0]
    assert moved and all(not first["within"][f"ctf_{p}"] for p in moved)


def test_removing_everything(scm):
    res = run(scm, FairnessSpec(de=1, ie=1, se=1))
    assert res.converged
    assert all(abs(v) <= 0.02 for v in res.rounds[-1]["measured"].values())
    final = decompose(res.data, "x", "M", "F", "y", ("z",), ("w", "bmi"), method="plugin").to_frame()
    assert abs(final.loc["tv", "estimate"]) < 0.06  # 2,000 final rows: noisier than the measure


def test_impossible_tolerance_stops_at_max_rounds(scm):
    res = run(scm, FairnessSpec(de=1), abs_tol=0.0, rel_tol=0.0, max_rounds=3)
    assert not res.converged and len(res.rounds) == 3
    assert "not converged after 3 rounds" in res.message
    assert len(res.data) == 2000
    # the final rows use the best round's alphas, within the extrapolation range
    assert res.final_fairness.allow_extrapolation and -1.0 <= res.final_fairness.de <= 2.0


def test_same_seed_same_result_and_final_rows_match_the_measured_ones(scm):
    gen, roles, real = scm
    a = refine(gen, 3000, FairnessSpec(ie=1), roles, real, method="plugin", n_measure=3000, max_rounds=1)
    b = refine(gen, 3000, FairnessSpec(ie=1), roles, real, method="plugin", n_measure=3000, max_rounds=1)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.data, gen.sample(3000, FairnessSpec(ie=1), seed=0))


def test_real_as_dict_and_progress(scm):
    gen, roles, real = scm
    calls = []
    res = refine(gen, 500, FairnessSpec(se=1), roles, real.to_dict(), method="plugin", max_rounds=2,
                 progress=lambda *a: calls.append(a))
    rounds = [c for c in calls if c[0].startswith("refining")]
    assert rounds[0] == ("refining: round 1", 1, 2)
    assert len(rounds) == len(res.rounds)


def test_cancel(scm):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        run(scm, FairnessSpec(de=1), cancel=token)
    token = CancelToken()
    with pytest.raises(Cancelled):  # cancelled while round 1 is being announced
        run(scm, FairnessSpec(de=1), cancel=token, progress=lambda *a: token.cancel())


@pytest.mark.parametrize("kw", [{"max_rounds": 0}, {"max_rounds": 2.5}, {"abs_tol": -1}, {"rel_tol": "x"},
                                {"n_measure": 0}, {"method": "magic"}])
def test_bad_settings(scm, kw):
    with pytest.raises(InputError):
        run(scm, FairnessSpec(de=1), **kw)


def test_bad_rows_and_fairness(scm):
    gen, roles, real = scm
    with pytest.raises(InputError):
        refine(gen, 0, FairnessSpec(), roles, real)
    with pytest.raises(InputError):
        refine(gen, 10, "DE", roles, real)
