"""Suggested marks: after the outcome (names, missingness fixed by Y) and fixed baseline traits."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faircause_core.causal.question import name_words
from faircause_core.causal.suggest import (
    Suggestion,
    after_outcome_name,
    baseline_measurement_name,
    fixed_name,
    leakage,
    reads_as_baseline,
    suggest_from_discovery,
    suggest_marks,
    suggested,
    words,
    worth_checking,
)
from faircause_core.errors import InputError
from faircause_core.io.data import load_table, table_from_frame
from tests.lookalike import heart_failure_like

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def _cohort(name):
    path = ROOT / "assets" / name if name.startswith("nhefs") else SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is not available here")
    return load_table(path)


def test_flchain_follow_up_time_and_cause_of_death_are_after_the_outcome():
    s = suggest_marks(_cohort("flchain_cohort.csv"), "sex", "death")
    assert suggested(s, "after_outcome") == ["futime", "chapter"]
    assert suggested(s, "fixed") == ["age", "sample.yr"]
    chapter = next(x for x in s if x.column == "chapter")
    assert chapter.reason == ("'chapter' is missing in 100% of rows with death = 0 and 0% with death = 1: "
                              "it is recorded because of the outcome")
    assert "follow-up time" in next(x for x in s if x.column == "futime").reason


def test_medpar_length_of_stay_and_demo_baseline_columns():
    medpar = suggest_marks(_cohort("medpar_cohort.csv"), "white", "died")
    # los: the length of stay ends with the discharge or the death (issue 20: "length of stay")
    assert suggested(medpar, "fixed") == ["age80"] and suggested(medpar, "after_outcome") == ["los"]
    demo = suggest_marks(_cohort("nhefs_cohort.csv"), "sex", "death")
    assert suggested(demo, "fixed") == ["race", "age"] and suggested(demo, "after_outcome") == []
    # sex is a baseline trait too, but not when it is the question's X
    other_x = suggest_marks(_cohort("nhefs_cohort.csv"), "race", "death")
    assert suggested(other_x, "fixed") == ["sex", "age"]
    assert all("\n" not in x.reason for x in demo + medpar + other_x)


def test_words():
    assert words("daysToDeath") == "days to death"
    assert words("age80") == "age 80"
    assert words("sample.yr") == "sample yr"
    assert words("Follow-Up_Days") == "follow up days"
    assert words("FU time (d)") == "fu time d"
    # accents read as plain letters: an "Âge" column is age (fixed), "Décès" no longer splits apart
    assert words("Âge") == "age" and fixed_name("Âge") is not None and fixed_name("Ge") is None
    assert words("Date_Décès") == "date deces" and name_words("Ethnicité") == ["ethnicite"]
    # one rule for both readers of names (the question's and the marks'): capitals then small
    # letters stay one word ('f', 'utime' before, in the question's own copy)
    for name in ("FUtime", "TenYearCHD", "DEATH_EVENT", "currentSmoker", "flc.grp", "age80"):
        assert words(name) == " ".join(name_words(name))
    assert name_words("FUtime") == ["futime"] and name_words("TenYearCHD") == ["ten", "year", "chd"]


@pytest.mark.parametrize("name", [
    "futime", "fu_time", "FUtime", "follow_up_days", "followup", "Follow-up (years)", "time_to_death",
    "daysToDeath", "days_to_last_follow_up", "months until event", "survival_months", "surv_time", "OS_months",
    "pfs_status", "last_contact", "lastFollowUp", "date_last", "censored", "censoring", "event_time",
    "date_of_death", "cause_of_death", "death_date", "DOD", "age_at_death", "discharge_destination",
    # issue 20: a bare time, days, duration or status; length of stay; survival; time at risk
    "time", "Time", "TIME", "days", "duration", "status", "vital_status", "fustat", "length_of_stay", "LengthOfStay",
    "LOS", "los", "days_in_hospital", "hospital_stay", "survival", "survived", "time_at_risk", "obs_time",
    "study_days", "censor_status", "tte",
    # review of issue 20: bare fu; a time or duration with its unit; a time glued to an event word; cens
    "fu", "FU", "FU_status", "time_days", "TimeDays", "time (days)", "time_yrs", "time_d", "duration_days",
    "rectime", "recTime", "dtime", "stime", "ostime", "evt_time", "cens", "censrec",
    "stime_days", "os_months", "cens_status", "pfs_days",
])
def test_names_that_read_as_after_the_outcome(name):
    assert after_outcome_name(name) is not None


@pytest.mark.parametrize("name", [
    "fruit", "time_of_day", "future_risk", "furosemide", "futility", "survey_score", "surveillance",
    "time_to_treatment", "follower_count", "last_name", "sample.yr", "chapter",
    "death", "kappa", "age", "smoke_years", "event", "lastname",
    # baseline measurements and conditions that contain a unit or status word
    "smoking_status", "cigs_per_day", "protime", "diabetes_duration", "ejection_fraction", "serum_creatinine",
    "status_epilepticus", "marital_status", "time_since_diagnosis", "prothrombin_time", "performance_status",
    # review of issue 20: baseline names beside the new rules (fu, time + unit, glued times, cens)
    "bmi", "platelets", "diabetes", "futility_score", "datetime_of_birth", "duration_of_diabetes",
    "lifetime_smoking", "runtime", "census_tract", "5fu", "5_FU", "fuel_type", "d_dimer",
    # the entry event's calendar year, history, and a census tract written short
    "index_event_year", "index_event_days", "prior_event_years", "prev_event_years", "rec_year", "event_year",
    "cens_tract", "cens_block_group",
    # a survival probability predicted at baseline (RHC's surv2md1, a prognostic model's estimate)
    "surv2md1", "surv_prob", "predicted_survival", "survival_estimate", "est_survival", "surv_score",
])
def test_names_that_do_not(name):
    assert after_outcome_name(name) is None


@pytest.mark.parametrize("name", [
    "age", "bmi", "serum_creatinine", "ejection_fraction", "platelets", "diabetes", "futility_score",
    "datetime_of_birth", "prothrombin_time", "diabetes_duration",
])
def test_baseline_names_stay_baseline_beside_the_follow_up_rules(name):
    """The negative controls of the follow-up name rules: still read as baseline, so no data
    rule may suggest them as recorded after the outcome either."""
    assert after_outcome_name(name) is None and reads_as_baseline(name)


@pytest.mark.parametrize("name, what", [
    ("age", "age"), ("age80", "age"), ("Age_group", "age"), ("ageYears", "age"), ("race", "race or ethnicity"),
    ("ethnicity", "race or ethnicity"), ("white", "race or ethnicity"), ("sex", "sex or gender"),
    ("Gender", "sex or gender"), ("female", "sex or gender"), ("year_of_birth", "birth"), ("birthYear", "birth"),
    ("dob", "birth"), ("sample.yr", "the calendar year of entry"), ("enrollment_year", "the calendar year of entry"),
    ("baselineYear", "the calendar year of entry"),
])
def test_names_that_read_as_baseline(name, what):
    assert fixed_name(name) == what


@pytest.mark.parametrize("name", [
    "stage", "average_bp", "agent", "dosage", "language", "usage", "mortgage", "trace", "grace_score",
    "sexually_active", "white_cell_count", "embrace", "page", "smoke_years", "study_years", "year_of_death",
    "sample_size", "years_since_entry",
])
def test_names_that_do_not_read_as_baseline(name):
    assert fixed_name(name) is None


def _frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(["Alive", "Dead"], n, p=[0.7, 0.3])
    cause = np.where(y == "Dead", rng.choice(["heart", "cancer"], n), None)
    cause[np.flatnonzero(y == "Dead")[:3]] = None  # a few deaths without a recorded cause
    lab = rng.normal(0, 1, n)
    lab[rng.random(n) < np.where(y == "Dead", 0.3, 0.1)] = np.nan  # missing more among the dead, but not by Y
    score = rng.normal(0, 1, n)
    return pd.DataFrame({"grp": rng.choice(["a", "b"], n), "y": y, "cause": cause, "lab": lab, "score": score,
                         "birth_year": rng.integers(1920, 1960, n)})


def test_missingness_fixed_by_the_outcome_on_a_table_with_text_outcome():
    s = suggest_marks(table_from_frame(_frame()), "grp", "y")
    assert [(x.column, x.mark) for x in s] == [("cause", "after_outcome"), ("birth_year", "fixed")]
    assert s[0].reason.startswith("'cause' is missing in 100% of rows with y = Alive and ")
    assert " with y = Dead: it is recorded because of the outcome" in s[0].reason
    # a threshold outcome: labels say which side
    df = _frame().assign(y=lambda d: np.where(d["y"] == "Dead", 9.0, 1.0) + np.arange(len(d)) % 3)
    s = suggest_marks(df, "grp", "y", threshold=5)
    assert "rows with y < 5 and" in s[0].reason and "with y >= 5" in s[0].reason


def test_missingness_rule_needs_a_gap_and_enough_rows():
    df = _frame()
    df.loc[(df["y"] == "Alive").to_numpy() & (np.arange(len(df)) % 5 == 0), "cause"] = "heart"  # gap ~0.8 -> <0.8
    found = [x for x in suggest_marks(df, "grp", "y") if x.column == "cause"]
    # not by missingness any more; a data rule still sees it: its other causes occur only with y = Dead
    assert [x.rule for x in found] == ["determines"] and "every one with y = Dead" in found[0].reason
    small = _frame(n=400)
    small["y"] = np.where(np.arange(400) < 10, "Dead", "Alive")  # 10 events: too few to judge
    small["cause"] = np.where(small["y"] == "Dead", "heart", None)
    assert suggested(suggest_marks(small, "grp", "y"), "after_outcome") == []
    # an outcome with many values and no threshold only skips this rule
    many = _frame().assign(y=np.arange(400) % 7)
    assert [x.column for x in suggest_marks(many, "grp", "y")] == ["birth_year"]


def test_bad_input_is_one_line_error():
    with pytest.raises(InputError, match="column 'nope' not found"):
        suggest_marks(_frame(), "nope", "y")
    with pytest.raises(InputError, match="needs a loaded table"):
        suggest_marks([1, 2], "grp", "y")
    with pytest.raises(InputError, match="unknown mark 'baseline'"):
        suggested([Suggestion("a", "fixed", "r")], "baseline")


def test_discovery_offers_children_of_the_outcome_alone_to_check_never_firm():
    from faircause_core.causal.suggest import suggest_from_discovery

    medpar = suggest_from_discovery(_cohort("medpar_cohort.csv"), "white", "died", fixed=["age80"])
    assert [s.column for s in medpar] == ["los"]  # length of stay: ends with the death or the discharge
    assert not medpar[0].firm and suggested(medpar, "after_outcome") == []
    assert "'died' is its only parent" in medpar[0].reason
    flchain = _cohort("flchain_cohort.csv")
    assert "chapter" in [s.column for s in suggest_from_discovery(flchain, "sex", "death", fixed=["age"])]
    # once marked, it is not offered again
    marked = suggest_from_discovery(flchain, "sex", "death", fixed=["age"], after_outcome=["futime", "chapter"])
    assert "chapter" not in [s.column for s in marked]


def test_discovery_check_names_unknown_columns_in_one_line():
    from faircause_core.causal.suggest import suggest_from_discovery

    with pytest.raises(InputError, match="nope"):
        suggest_from_discovery(_cohort("medpar_cohort.csv"), "white", "died", fixed=["nope"])


@pytest.mark.parametrize("name", [
    "ejection_fraction", "serum_creatinine", "serum_sodium", "creatinine_phosphokinase", "platelets", "anaemia",
    "high_blood_pressure", "diabetes", "smoking", "bili", "albumin", "protime", "alk.phos", "sysBP", "totChol",
    "heartRate", "BMI", "glucose", "baseline_ldl", "admission_hb", "stage", "nyha_class", "kappa", "weight_kg_1971",
    "high_bp", "cholesterol",
])
def test_baseline_measurement_names(name):
    assert baseline_measurement_name(name) is not None and reads_as_baseline(name)


@pytest.mark.parametrize("name", ["time", "futime", "days_to_death", "los", "vital_status", "zq", "provnum"])
def test_not_baseline_measurements(name):
    assert baseline_measurement_name(name) is None


# --------------------------------------------------------------- issue 20: an unseen survival cohort


def test_heart_failure_like_cohort_follow_up_caught_ejection_fraction_never_suggested():
    """A look-alike of the unseen 299-patient cohort: `time` (follow-up days) is recorded after the
    outcome by its name, with its leakage numbers; no baseline measurement is suggested, by any rule."""
    for seed in range(3):
        df = heart_failure_like(seed=seed)
        s = suggest_marks(df, "sex", "DEATH_EVENT")
        assert suggested(s, "after_outcome") == ["time"] and suggested(s, "fixed") == ["age"]
        time = next(x for x in s if x.column == "time")
        assert "follow-up time" in time.reason and "AUROC" in time.reason and "best other column" in time.reason
        leaves = suggest_from_discovery(df, "sex", "DEATH_EVENT", fixed=["age"])
        flagged = {x.column for x in s + leaves if x.mark == "after_outcome"}
        assert not flagged & {c for c in df.columns if reads_as_baseline(c)}, flagged
        assert "ejection_fraction" not in flagged


def test_leakage_flags_a_follow_up_column_whatever_its_name_and_shows_its_numbers():
    df = heart_failure_like(seed=0).rename(columns={"time": "zq"})
    leak = leakage(df, "sex", "DEATH_EVENT")
    assert leak.top == "zq" and leak.clear and leak.auroc["zq"] > 0.8 and leak.other == "ejection_fraction"
    s = [x for x in suggest_marks(df, "sex", "DEATH_EVENT") if x.column == "zq"]
    assert len(s) == 1 and s[0].mark == "after_outcome" and s[0].rule == "leakage" and s[0].firm
    assert "may leak the outcome" in s[0].reason and "AUROC 0.8" in s[0].reason and "95% CI" in s[0].reason


def test_leakage_never_flags_a_baseline_measurement_nor_a_column_in_a_crowd():
    # negative control: ejection fraction made to dominate the outcome is a baseline measurement
    df = heart_failure_like(seed=1).drop(columns="time")
    df["DEATH_EVENT"] = (df["ejection_fraction"] < 30).astype(int) ^ (np.arange(len(df)) % 9 == 0)
    leak = leakage(df, "sex", "DEATH_EVENT")
    assert leak.top == "ejection_fraction" and leak.far
    assert not [x for x in suggest_marks(df, "sex", "DEATH_EVENT") if x.rule == "leakage"]
    # no leading column: nothing to flag (the demo's columns each predict death modestly)
    demo = _cohort("nhefs_cohort.csv")
    assert not [x for x in suggest_marks(demo, "sex", "death") if x.rule == "leakage"]
    # no column predicts: nothing either
    noise = pd.DataFrame({"g": np.arange(400) % 2, "a": np.random.default_rng(0).normal(size=400),
                          "b": np.random.default_rng(1).normal(size=400), "y": np.arange(400) % 3 == 0})
    assert not [x for x in suggest_marks(noise, "g", "y") if x.rule == "leakage"]


def _died_within(n: int = 1200, seed: int = 3) -> pd.DataFrame:
    """Death (40%), and 'early' = Yes for a third of the deaths (died within 30 days), else No;
    a baseline 'frail' flag that raises the risk but does not settle it."""
    rng = np.random.default_rng(seed)
    frail = rng.random(n) < 0.2
    death = rng.random(n) < np.where(frail, 0.75, 0.31)
    early = np.where(death & (rng.random(n) < 1 / 3), "Yes", "No")
    return pd.DataFrame({"sex": rng.choice(["F", "M"], n), "frail": np.where(frail, "Yes", "No"),
                         "code30": early, "death": np.where(death, "Yes", "No")})


def test_a_column_one_of_whose_values_settles_the_outcome_is_after_it():
    """RHC's 'dth30' (found probing an RHC-like cohort): every patient with code30 = Yes died, the
    leakage rule could not single it out, and the search drew it as a cause of death."""
    df = _died_within()
    s = [x for x in suggest_marks(df, "sex", "death") if x.column == "code30"]
    assert [(x.mark, x.rule, x.firm) for x in s] == [("after_outcome", "determines", True)], s
    assert s[0].reason.startswith("'code30' = Yes in ") and "every one with death = Yes" in s[0].reason
    # controls: one survivor among them, a value held by too few rows, a strong baseline risk
    one = df.copy()
    one.loc[one.index[(one["code30"] == "Yes").to_numpy()][0], "death"] = "No"
    few = df.copy()
    few.loc[few.index[(few["code30"] == "Yes").to_numpy()][40:], "code30"] = "No"  # 40 of 1,200 < 5%
    for other in (one, few):
        assert not [x for x in suggest_marks(other, "sex", "death") if x.rule == "determines"]
    assert not [x for x in suggest_marks(df, "sex", "death") if x.column == "frail" and x.rule == "determines"]


@pytest.mark.parametrize("cohort, x, y, threshold, after", [
    ("flchain_cohort.csv", "sex", "death", None, ["futime", "chapter"]),
    ("pbc_cohort.csv", "sex", "status", 2, ["time"]),
    ("medpar_cohort.csv", "white", "died", None, ["los"]),
])
def test_shared_cohorts_follow_up_caught_no_baseline_measurement_suggested(cohort, x, y, threshold, after):
    table = _cohort(cohort)
    s = suggest_marks(table, x, y, threshold)
    assert suggested(s, "after_outcome") == after
    fixed = suggested(s, "fixed")
    leaves = suggest_from_discovery(table, x, y, fixed=fixed, after_outcome=after)
    named = {c for c in table.df.columns if reads_as_baseline(c)}
    assert not {x.column for x in s + leaves if x.mark == "after_outcome"} & named


@pytest.mark.parametrize("name, flagged", [("serum_creatinine", False), ("discharge_code", True)])
def test_missingness_never_calls_a_baseline_measurement_after_the_outcome(name, flagged):
    """A baseline lab missing for every death is a gap in the record, not a record made after the
    outcome (issue 20: a baseline measurement is never suggested as recorded after the outcome);
    the control, the same missingness under a name that is no baseline, is still suggested firmly."""
    df = heart_failure_like(seed=0).drop(columns="time").rename(columns={"serum_creatinine": name})
    df.loc[df["DEATH_EVENT"] == 1, name] = np.nan
    s = [x for x in suggest_marks(df, "sex", "DEATH_EVENT") if x.column == name]
    if flagged:
        assert [(x.mark, x.rule, x.firm) for x in s] == [("after_outcome", "missing", True)]
        assert "missing in 0% of rows with DEATH_EVENT = 0 and 100% with DEATH_EVENT = 1" in s[0].reason
    else:
        assert s == []  # by no rule: not missingness, not the leakage it leads
        assert leakage(df, "sex", "DEATH_EVENT").top == name


def test_the_weak_discovery_hint_is_offered_last_and_once():
    """issue 20: the outcome-leaves hint never sits above a name or leakage suggestion (the app's
    "Worth checking" list, graph_blocks.marks_form, is this order); a column a stronger rule
    offered is not repeated, a marked one is not offered, a firm one is pre-selected instead."""
    hint = Suggestion("cause", "after_outcome", "discovery: 'y' is its only parent", firm=False, rule="discovery")
    other = Suggestion("code", "after_outcome", "discovery: 'y' is its only parent", firm=False, rule="discovery")
    leak = Suggestion("cause", "after_outcome", "may leak the outcome", firm=False, rule="leakage")
    named = Suggestion("los", "after_outcome", "reads as a length of stay", firm=False)
    firm = Suggestion("futime", "after_outcome", "reads as follow-up time")
    got = worth_checking([firm, named, leak], [other, hint])
    assert [(x.column, x.rule) for x in got] == [("los", "name"), ("cause", "leakage"), ("code", "discovery")]
    assert [x.column for x in worth_checking([leak], [hint], {"after_outcome": ["cause"]})] == []
    assert worth_checking([], [hint]) == [hint]
