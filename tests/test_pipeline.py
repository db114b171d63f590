"""One run end to end with the Bayes net: split, audit, fit, refine, measure."""

import json
from pathlib import Path

import pytest

from faircause_core.io.data import load_table
from faircause_core.errors import InputError
from faircause_core.generators.base import FairnessSpec
from faircause_core.causal.graph import CausalGraph, derive_roles
from faircause_core.workflow.pipeline import GenerationSettings, RunResult, predictor_roles, run_generation, split_holdout

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo():
    table = load_table(ROOT / "assets" / "nhefs_cohort.csv")
    graph = CausalGraph.from_json((ROOT / "assets" / "nhefs_dag.json").read_text())
    return table, graph, derive_roles(graph, "sex", "death", "Male", "Female")


def test_settings_validate_and_round_trip():
    s = GenerationSettings(generator="bayesnet", rows=500, fairness=FairnessSpec(de=1.0, reference="x0"))
    again = GenerationSettings.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s
    for bad in ({"generator": "gpt"}, {"preset": "slow"}, {"rows": 0}, {"train_steps": -3}, {"holdout": 0.9},
                {"max_rounds": 0}):
        with pytest.raises(InputError):
            GenerationSettings(**bad)


def test_holdout_split_is_seeded_and_disjoint(demo):
    table, _, _ = demo
    fit_a, hold_a = split_holdout(table, 0.3, seed=1)
    fit_b, hold_b = split_holdout(table, 0.3, seed=1)
    assert fit_a.df.equals(fit_b.df) and hold_a.equals(hold_b)
    assert len(fit_a.df) + len(hold_a) == len(table.df)
    assert abs(len(hold_a) - 0.3 * len(table.df)) <= 1


def test_predictor_roles_put_every_feature_in_z_or_w(demo):
    _, graph, roles = demo
    pr = predictor_roles(graph, roles)
    assert pr.other == ()
    assert "cholesterol" in pr.w  # sex -> cholesterol, but cholesterol does not reach death
    assert set(pr.z) | set(pr.w) == set(graph.nodes) - {"sex", "death"}


#: The Bayes-net run (DE removed, refined) that the measure-everything test checks and the light
#: profile's test compares with: run once, in full, for both.
FULL_RUN = dict(generator="bayesnet", rows=1200, seed=3, fairness=FairnessSpec(de=1.0), max_rounds=3)


@pytest.fixture(scope="module")
def full_run(demo):
    table, graph, roles = demo
    stages = []
    res = run_generation(table, graph, roles, GenerationSettings(**FULL_RUN, measure="full"),
                         progress=lambda s, d, n: stages.append(s))
    return res, stages


@pytest.mark.full_measure
def test_bayesnet_run_removes_direct_effect_and_measures_everything(demo, full_run):
    table, graph, roles = demo
    settings = GenerationSettings(**FULL_RUN, measure="full")
    res, stages = full_run
    assert len(res.synthetic) == 1200 and list(res.synthetic.columns) == list(table.df.columns)
    assert res.rounds and res.rounds[0]["alphas"]["de"] == 1.0
    assert res.target["ctf_de"] == 0.0
    assert abs(res.rounds[-1]["measured"]["ctf_de"]) < 0.05
    m = res.metrics
    assert 0.8 < m["fidelity"]["quality"] <= 1.0
    # the demo's one rule every real row keeps (smoke_years <= age), with the Bayes net's breaks counted
    rules = m["fidelity"]["rules"]
    assert [r["rule"] for r in rules["rules"]] == ["smoke_years <= age"] and rules["rules"][0]["real_rows"] > 1000
    assert 0.6 < m["utility"]["tstr"] <= 1.0 and 0.6 < m["utility"]["trtr"] <= 1.0
    assert m["privacy"]["exact_copy_share"] < 0.05
    assert abs(m["outcome"]["synthetic_rate"] - m["outcome"]["real_rate"]) < 0.05
    assert "reduction" in m["fair_predictor"]
    control = m["fair_predictor"]["control"]  # the same generator with nothing removed, beside the edit
    assert control is not None and control["synthetic_trained_de"] is not None
    assert res.alphas_used == {"de": 1.0, "ie": 0.0, "se": 0.0} and res.to_dict()["alphas_used"] == res.alphas_used
    # the reviewed DAG gives sex no parents but associates it with age and race: the SE lever is free
    assert "se" not in res.frozen and graph.associated("sex") == ("race", "age")
    # issue 20: the generator's own effects (Monte Carlo, exact Ctf-DE = 0 when removed) and the overlap
    own = res.to_dict()["generator_effects"]
    assert own["method"] == "monte carlo" and own["estimates"]["ctf_de"] == 0.0
    assert {"ess_x0", "ess_x1", "share_extreme", "max_weight"} <= set(res.to_dict()["overlap"])
    assert res.synthetic_effects["settings"]["splits"] == 10  # 1,200 rows: the real audit's estimator
    assert any(s.startswith("refining") for s in stages) and stages[-1] == "done"
    again = RunResult.from_dict(json.loads(json.dumps(res.to_dict())), res.synthetic)
    assert again.settings == settings and again.rounds == res.rounds


@pytest.mark.full_measure
def test_the_fair_predictor_trains_on_many_synthetic_sets_for_both_fitted_generators():
    """The Bayes net and the fitted language model draw 18,000 rows in under a second, so both
    give the fair predictor up to 100 sets of the real training size (the demo's 1,140 rows:
    100 sets; flchain's 5,512: 36 sets, 200,000 rows; a large cohort still 16); prompt mode,
    whose rows are written token by token, gets the measuring budget."""
    from faircause_core.metrics.utility import synthetic_sets
    from faircause_core.workflow.pipeline import GenerationSettings, measure_rows, predictor_rows

    assert [synthetic_sets(n) for n in (1140, 5512, 50_000, 0)] == [100, 36, 16, 100]
    for name in ("bayesnet", "llm"):
        assert predictor_rows(GenerationSettings(generator=name, rows=1629), 1140) == 114_000
        assert predictor_rows(GenerationSettings(generator=name, rows=1629), 50_000) == 800_000
    prompt = GenerationSettings(generator="prompt", rows=200)
    assert predictor_rows(prompt, 1140) == measure_rows(prompt) < 16 * 1140


def test_the_light_measuring_profile_spends_less_says_so_and_is_refused_when_misspelt(demo, full_run, monkeypatch):
    """FAIRCAUSE_MEASURE=light (the test suite's default, tests/conftest.py): the same measures
    with fewer repetitions, recorded in the settings and said by the report; a full run of the
    same settings spends the documented amounts (the control that the profile changes them)."""
    from faircause_core.present.explain import MEASURE_NOTE
    from faircause_core.present.report import build_report
    from faircause_core.workflow.pipeline import MEASURE_PROFILES, default_measure

    table, graph, roles = demo
    monkeypatch.setenv("FAIRCAUSE_MEASURE", "light")
    light = run_generation(table, graph, roles, GenerationSettings(**FULL_RUN))
    full = full_run[0]  # the same settings, measured in full
    budget = MEASURE_PROFILES["light"]
    assert light.settings.measure == "light" and full.settings.measure == "full"
    assert light.synthetic_effects["settings"]["splits"] == budget["splits"] < full.synthetic_effects["settings"]["splits"]
    lf, ff = light.metrics["fair_predictor"], full.metrics["fair_predictor"]
    assert (lf["synthetic_sets"], lf["repeats"]) == (budget["draws"], budget["repeats"])
    assert ff["synthetic_sets"] > budget["draws"] and ff["repeats"] > budget["repeats"]
    lp, fp = light.metrics["privacy"]["anonymeter_rows"], full.metrics["privacy"]["anonymeter_rows"]
    assert lp["attacks"] == budget["attacks"] < fp["attacks"]
    assert light.metrics["privacy"]["n_synth"] == budget["max_rows"] < full.metrics["privacy"]["n_synth"] == 1200
    assert light.timings["measure_s"] < full.timings["measure_s"]
    # the same real audits: the light profile is the measuring's, never the numbers step 3 shows
    assert light.real_effects == full.real_effects
    # said where the run is shown, and kept through a save
    said = MEASURE_NOTE[1:MEASURE_NOTE.index(":")]  # "easured with the light profile" (the report escapes quotes)
    assert said in build_report(light, roles) and said not in build_report(full, roles)
    # which numbers came from a seeded sample, and how large (issue 22 item 5), from each measure's own counts
    from faircause_core.present.explain import sampled_lines

    light_lines, full_lines = (sampled_lines(r.metrics, r.fitting_rows, len(r.synthetic)) for r in (light, full))
    assert light_lines[0] == (f"privacy distances and membership inference: a seeded {budget['max_rows']:,} of the "
                              f"1,200 synthetic rows and a seeded {budget['max_rows']:,} of the 1,140 real training rows")
    assert not any(line.startswith("privacy distances") for line in full_lines)  # full: every row
    assert f"{budget['attacks']} seeded attacks of each kind, on all 1,200 synthetic rows" in light_lines[1]
    assert "Computed on samples: privacy distances" in build_report(light, roles)
    assert RunResult.from_dict(json.loads(json.dumps(light.to_dict())), light.synthetic).settings.measure == "light"
    old = {k: v for k, v in full.settings.to_dict().items() if k != "measure"}  # a run saved before the profiles
    assert GenerationSettings.from_dict(old).measure == "full"
    monkeypatch.setenv("FAIRCAUSE_MEASURE", "quick")
    with pytest.raises(InputError, match="FAIRCAUSE_MEASURE='quick' is not a measuring profile"):
        default_measure()
    with pytest.raises(InputError, match="unknown measuring profile"):
        GenerationSettings(measure="half")


def test_an_audit_is_kept_for_the_same_rows_and_question_and_redone_for_any_change(demo, monkeypatch):
    """pipeline.audit's in-process memo: the same rows, question, seed and splits give the kept
    numbers without a refit; one changed value, another seed or another engine refits."""
    from faircause_core.workflow import pipeline

    table, _, roles = demo
    rows = table.df.iloc[:500].reset_index(drop=True)
    fits = []
    real_decompose = pipeline.decompose
    monkeypatch.setattr(pipeline, "decompose", lambda *a, **k: fits.append(k["seed"]) or real_decompose(*a, **k))
    monkeypatch.setattr(pipeline, "_AUDITS", pipeline.OrderedDict())
    first = pipeline.audit(rows, roles, seed=5, splits=2)
    told = []
    again = pipeline.audit(rows.copy(), roles, seed=5, splits=2, progress=lambda k, n: told.append((k, n)))
    assert fits == [5] and again.to_dict() == first.to_dict() and again is not first and told == [(1, 2), (2, 2)]
    changed = rows.copy()
    changed.loc[0, "age"] = changed.loc[0, "age"] + 1  # one value of one patient
    pipeline.audit(changed, roles, seed=5, splits=2)
    pipeline.audit(rows, roles, seed=6, splits=2)
    assert fits == [5, 5, 6]

    from faircause_core import engine

    class Other(engine.LocalEngine):  # another engine kind (as Ray is): its numbers are its own
        pass

    with engine.use(Other()):
        pipeline.audit(rows, roles, seed=5, splits=2)
    assert fits == [5, 5, 6, 5]


def test_a_run_says_as_measuring_starts_that_privacy_will_measure_its_yardsticks(demo_table, demo_roles, tmp_path,
                                                                                 monkeypatch):
    """say_yardsticks (run_generation and evaluate call it before the synthetic audit) reports
    progress.YARDSTICKS exactly when the run's privacy step will measure its yardsticks: on rows
    seen for the first time, not once the same privacy call has kept them; another measuring
    profile is another attack budget, so measured again (the time-left estimate adds them)."""
    from faircause_core.metrics import privacy
    from faircause_core.workflow.pipeline import privacy_arguments, say_yardsticks
    from faircause_core.workflow.progress import YARDSTICKS

    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path))
    monkeypatch.setattr(privacy, "_YARDSTICKS", {})
    fit, hold = split_holdout(demo_table, 0.3, seed=0)
    synth = fit.df.sample(300, random_state=0).reset_index(drop=True)
    said = []
    say_yardsticks(lambda *report: said.append(report), fit, hold, demo_roles, len(synth), 0, "light")
    assert said == [(YARDSTICKS, 0, 1)]
    privacy.distance_to_closest_record(fit.df, synth, hold, fit.schema, seed=0, **privacy_arguments(demo_roles, "light"))
    said.clear()
    say_yardsticks(lambda *report: said.append(report), fit, hold, demo_roles, len(synth), 0, "light")
    assert said == []  # kept by the privacy call the run makes
    say_yardsticks(lambda *report: said.append(report), fit, hold, demo_roles, len(synth), 0, "full")
    assert said == [(YARDSTICKS, 0, 1)]


def test_fidelity_and_utility_read_a_stated_sample_of_a_big_table(demo, monkeypatch, bayes_run):
    """Issue 22 item 2 (metrics on stated subsamples): SDMetrics' report on every row took 521 s
    and the AUROCs 148 s of a 2,000,000 x 100 run. Above FIDELITY_ROWS each side is a seeded
    sample, recorded and said (explain.sampled_lines; here the limit set to 300); below it every
    row, as before (the control: the session's 400-row run)."""
    from faircause_core.present.explain import sampled_lines
    from faircause_core.workflow import pipeline

    table, graph, roles = demo
    fit, hold = pipeline.split_holdout(table, 0.3, 0)
    syn = fit.df.sample(600, random_state=0).reset_index(drop=True)  # a stand-in table: the counts are checked
    monkeypatch.setattr(pipeline, "FIDELITY_ROWS", 300)
    measured = pipeline.measure(fit, hold, syn, graph, roles, 0, profile="light")
    small, u_small = measured["fidelity"], measured["utility"]
    assert (small["real_rows"], small["synthetic_rows"]) == (300, 300)
    assert (u_small["n_synth"], u_small["n_test"]) == (300, 300) and u_small["n_train_real"] <= 300
    said = sampled_lines(measured, len(fit.df), len(syn))
    assert ("fidelity scores and rules: a seeded 300 of the 600 synthetic rows and a seeded 300 of the 1,140 real "
            "training rows") in said
    assert [x for x in said if x.startswith("train-on-synthetic AUROC: models trained on a seeded 300 of the 600")]
    whole = bayes_run.metrics
    assert (whole["fidelity"]["real_rows"], whole["fidelity"]["synthetic_rows"]) == (bayes_run.fitting_rows, 400)
    assert whole["utility"]["n_synth"] == 400
    assert not [x for x in sampled_lines(whole, bayes_run.fitting_rows, 400) if x.startswith(("fidelity", "train-on"))]
