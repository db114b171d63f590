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
    a = distance_to_closest_record(real, synth, hold, KINDS, seed=4, max_rows=100)
    b = distance_to_closest_record(real, synth, hold, KINDS, seed=4, max_rows=100)
    assert a == b and a["n_synth"] == 100 and a["n_real_train"] == 100
    assert any("sample of 100 rows" in n for n in a["notes"])


def test_bad_inputs():
    real = table(50, 0)
    with pytest.raises(InputError, match="real holdout table has no column 'diet'"):
        distance_to_closest_record(real, real, real.drop(columns="diet"), KINDS)
    with pytest.raises(InputError, match="max_rows 0 must be"):
        distance_to_closest_record(real, real, real, KINDS, max_rows=0)
    with pytest.raises(InputError, match="synthetic column 'age' has a non-numeric value 'x'"):
        distance_to_closest_record(real, real.astype({"age": object}).assign(age="x"), real, KINDS)
