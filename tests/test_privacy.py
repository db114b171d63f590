import numpy as np
import pandas as pd
import pytest

from faircause_core.errors import InputError
from faircause_core.metrics.privacy import distance_to_closest_record

KINDS = {"age": "integer", "chol": "continuous", "sex": "binary", "diet": "categorical"}


def table(n, seed):
    rng = np.random.default_rng(seed)
    chol = np.round(rng.normal(220, 40, n), 1)
    chol[rng.random(n) < 0.05] = np.nan
    diet = rng.choice(np.array(["veg", "meat", "mixed"], dtype=object), n)
    diet[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"age": rng.integers(30, 80, n).astype(float), "chol": chol,
                         "sex": rng.choice([0, 1], n), "diet": diet})


def test_exact_copy_is_all_copies_at_zero_distance():
    real, hold = table(300, 0), table(200, 1)
    out = distance_to_closest_record(real, real.sample(frac=1, random_state=0), hold, KINDS)
    assert out["exact_copy_share"] == 1.0  # NaN rows included: NaN equals NaN
    assert out["dcr_synth_median"] == 0.0 and out["dcr_synth_p5"] == 0.0
    assert out["dcr_holdout_median"] > 0 and out["ratio"] == 0.0
    assert out["holdout_exact_copy_share"] < 0.05  # chance coincidences only
    assert (out["n_synth"], out["n_holdout"]) == (300, 200)


def test_noisy_copy_has_positive_distance_and_no_copies():
    real, hold = table(300, 0), table(300, 1)
    noisy = real.copy()
    rng = np.random.default_rng(2)
    noisy["chol"] = noisy["chol"] + rng.normal(0, 5, len(real))
    assert distance_to_closest_record(real, noisy, hold, KINDS)["exact_copy_share"] == pytest.approx(
        real["chol"].isna().mean())  # rows with a missing chol were not changed: true copies
    noisy["age"] = noisy["age"] + rng.choice([-1.0, 1.0], len(real))
    out = distance_to_closest_record(real, noisy, hold, KINDS)
    assert out["exact_copy_share"] == 0.0
    assert out["dcr_synth_p5"] > 0
    assert 0 < out["dcr_synth_median"] < out["dcr_holdout_median"]  # still suspiciously close
    fresh = distance_to_closest_record(real, table(300, 3), hold, KINDS)
    assert 0.7 < fresh["ratio"] < 1.4  # a sample from the same law is as far as holdout rows


def test_hand_computed_distance():
    real = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    synth = pd.DataFrame({"x": [5.0], "c": ["c"]})  # 5/10 on x, mismatch on c
    kinds = {"x": "continuous", "c": "categorical"}
    out = distance_to_closest_record(real, synth, None, kinds)
    assert out["dcr_synth_median"] == pytest.approx((0.5 + 1.0) / 2)
    assert np.isnan(out["ratio"]) and out["n_holdout"] == 0


def test_copies_compare_raw_values_by_type():
    real = pd.DataFrame({"c": pd.Series([1, 2], dtype="int64"), "t": ["1", "x"]})
    kinds = {"c": "categorical", "t": "categorical"}
    same = pd.DataFrame({"c": [1.0, 5.0], "t": ["1", "x"]})  # 1.0 equals 1
    assert distance_to_closest_record(real, same, None, kinds)["exact_copy_share"] == 0.5
    other = pd.DataFrame({"c": [1, 2], "t": pd.Series([1, "x"], dtype=object)})  # number 1 is not "1"
    assert distance_to_closest_record(real, other, None, kinds)["exact_copy_share"] == 0.5


def test_subsampling_is_seeded():
    real, synth, hold = table(400, 0), table(400, 1), table(400, 2)
    a = distance_to_closest_record(real, synth, hold, KINDS, seed=4, max_rows=100, sensitive="sex",
                                   sdmetrics_rows=150)
    b = distance_to_closest_record(real, synth, hold, KINDS, seed=4, max_rows=100, sensitive="sex",
                                   sdmetrics_rows=150)
    assert not any(isinstance(v, float) and np.isnan(v) for v in a.values())  # so == compares every number
    assert a == b and a["n_synth"] == 100 and a["n_real_train"] == 100 and a["sdmetrics_rows"] == 150
    assert any("sample of 100 rows" in n for n in a["notes"])
    assert any("sample of 150 rows" in n for n in a["notes"])
    c = distance_to_closest_record(real, synth, hold, KINDS, seed=5, max_rows=100, sensitive="sex",
                                   sdmetrics_rows=150)
    assert c["dcr_baseline_random_median"] != a["dcr_baseline_random_median"]  # the seed is used


def test_bad_inputs():
    real = table(50, 0)
    with pytest.raises(InputError, match="real holdout table has no column 'diet'"):
        distance_to_closest_record(real, real, real.drop(columns="diet"), KINDS)
    with pytest.raises(InputError, match="max_rows 0 must be"):
        distance_to_closest_record(real, real, real, KINDS, max_rows=0)
    with pytest.raises(InputError, match="synthetic column 'age' has a non-numeric value 'x'"):
        distance_to_closest_record(real, real.astype({"age": object}).assign(age="x"), real, KINDS)


def test_sdmetrics_privacy_numbers_are_exactly_sdmetrics():
    """On tables under sdmetrics_rows nothing is sampled: the scores are SDMetrics' own on the
    raw frames with metadata from the kinds (the random baseline seeded the same way)."""
    import warnings

    from sdmetrics.single_table import DCRBaselineProtection, DCROverfittingProtection, DisclosureProtection

    real, synth, hold = table(200, 0), table(150, 1), table(120, 2)
    out = distance_to_closest_record(real, synth, hold, KINDS, seed=3, sensitive="sex", known=["age", "diet"])
    assert out["sdmetrics_rows"] == 200 and not any("SDMetrics privacy metrics use" in n for n in out["notes"])
    meta = {"tables": {"t": {"columns": {"age": {"sdtype": "numerical"}, "chol": {"sdtype": "numerical"},
                                         "sex": {"sdtype": "categorical"}, "diet": {"sdtype": "categorical"}}}}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        over = DCROverfittingProtection.compute_breakdown(real, synth, hold, meta, "t")
        state = np.random.get_state()
        np.random.seed(3)
        base = type("Seeded", (DCRBaselineProtection,), {"_seed": 3}).compute_breakdown(
            real.astype({"sex": object}), synth.astype({"sex": object}), meta, "t")
        np.random.set_state(state)
        dis = DisclosureProtection.compute_breakdown(real, synth, ["age", "diet"], ["sex"],
                                                     continuous_column_names=["age"])
    assert out["dcr_overfitting_protection"] == over["score"]
    assert out["closer_to_training_share"] == over["synthetic_data_percentages"]["closer_to_training"]
    assert out["dcr_baseline_protection"] == base["score"]
    assert out["dcr_baseline_random_median"] == base["median_DCR_to_real_data"]["random_data_baseline"]
    assert out["disclosure_protection"] == dis["score"]
    assert out["disclosure_cap_protection"] == dis["cap_protection"]
    assert out["disclosure_baseline_protection"] == dis["baseline_protection"] == 0.5
    assert (out["disclosure_sensitive"], out["disclosure_known"]) == ("sex", ["age", "diet"])


def test_sdmetrics_privacy_tells_copies_from_fresh_rows():
    real, hold = table(300, 0), table(300, 1)
    copy = distance_to_closest_record(real, real.copy(), hold, KINDS, sensitive="diet")
    assert copy["dcr_baseline_protection"] == 0.0 and copy["dcr_overfitting_protection"] == 0.0
    assert copy["closer_to_training_share"] == 1.0
    assert copy["disclosure_known"] == ["age", "chol", "sex"]  # every other column by default
    assert copy["disclosure_protection"] < 0.6  # the copy gives away part of a known person's diet
    fresh = distance_to_closest_record(real, table(300, 3), hold, KINDS, sensitive="diet")
    assert fresh["dcr_baseline_protection"] > 0.3 and fresh["dcr_overfitting_protection"] > 0.8
    assert fresh["disclosure_protection"] > 0.9  # diet is independent of the rest: near chance
    alone = distance_to_closest_record(real, table(300, 3), None, KINDS)
    assert np.isnan(alone["dcr_overfitting_protection"]) and np.isnan(alone["disclosure_protection"])
    assert any("no sensitive column" in n for n in alone["notes"])


def test_sdmetrics_privacy_bad_inputs():
    real = table(50, 0)
    with pytest.raises(InputError, match="sensitive column 'bmi' is not a model column"):
        distance_to_closest_record(real, real, real, KINDS, sensitive="bmi")
    with pytest.raises(InputError, match="known column 'bmi' is not a model column"):
        distance_to_closest_record(real, real, real, KINDS, sensitive="sex", known=["age", "bmi"])
    with pytest.raises(InputError, match="sensitive column 'sex' cannot also be a known column"):
        distance_to_closest_record(real, real, real, KINDS, sensitive="sex", known=["sex", "age"])
    with pytest.raises(InputError, match="sdmetrics_rows 0 must be"):
        distance_to_closest_record(real, real, real, KINDS, sdmetrics_rows=0)
