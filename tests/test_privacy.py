import numpy as np
import pandas as pd
import pytest

from faircause_core.errors import InputError
from faircause_core.metrics.privacy import SDMETRICS_ROWS, distance_to_closest_record

KINDS = {"age": "integer", "chol": "continuous", "sex": "binary", "diet": "categorical"}


def table(n, seed):
    rng = np.random.default_rng(seed)
    chol = np.round(rng.normal(220, 40, n), 1)
    chol[rng.random(n) < 0.05] = np.nan
    diet = rng.choice(np.array(["veg", "meat", "mixed"], dtype=object), n)
    diet[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"age": rng.integers(30, 80, n).astype(float), "chol": chol,
                         "sex": rng.choice([0, 1], n), "diet": diet})


FAST = dict(attacks=None, yardsticks=False)  # the distance checks alone, without Anonymeter and the yardsticks


def test_exact_copy_is_all_copies_at_zero_distance():
    real, hold = table(300, 0), table(200, 1)
    out = distance_to_closest_record(real, real.sample(frac=1, random_state=0), hold, KINDS, sensitive="sex", x="diet")
    assert out["exact_copy_share"] == 1.0  # NaN rows included: NaN equals NaN
    assert out["exact_copies"] == 300 and isinstance(out["exact_copies"], int)
    assert out["dcr_synth_median"] == 0.0 and out["dcr_synth_p5"] == 0.0
    assert out["dcr_holdout_median"] > 0 and out["ratio"] == 0.0
    assert out["holdout_exact_copy_share"] < 0.05  # chance coincidences only
    assert (out["n_synth"], out["n_holdout"]) == (300, 200)
    # every member is in the table, at distance 0: membership inference wins but for the unseen
    # patients who happen to equal a training row (a tie counts half)
    assert out["membership_auc"] == pytest.approx(1 - out["holdout_exact_copy_share"] / 2)
    assert out["membership_auc_ci_low"] > 0.98
    assert out["unique_train_copied"] == out["unique_train_rows"] >= 295  # but those an unseen patient shares
    assert out["verdict"] == "unsafe" and out["verdict_words"] == "not safe to share"
    assert out["verdict_reason"].startswith("Training patients are told from unseen ones")
    assert "membership inference AUC 1.00 [" in out["verdict_reason"]


def test_noisy_copy_has_positive_distance_and_no_copies():
    real, hold = table(300, 0), table(300, 1)
    noisy = real.copy()
    rng = np.random.default_rng(2)
    noisy["chol"] = noisy["chol"] + rng.normal(0, 5, len(real))
    assert distance_to_closest_record(real, noisy, hold, KINDS, **FAST)["exact_copy_share"] == pytest.approx(
        real["chol"].isna().mean())  # rows with a missing chol were not changed: true copies
    noisy["age"] = noisy["age"] + rng.choice([-1.0, 1.0], len(real))
    out = distance_to_closest_record(real, noisy, hold, KINDS, **FAST)
    assert out["exact_copy_share"] == 0.0
    assert out["dcr_synth_p5"] > 0
    assert 0 < out["dcr_synth_median"] < out["dcr_holdout_median"]  # still suspiciously close
    fresh = distance_to_closest_record(real, table(300, 3), hold, KINDS, **FAST)
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
                                   sdmetrics_rows=150, yardsticks=False)
    b = distance_to_closest_record(real, synth, hold, KINDS, seed=4, max_rows=100, sensitive="sex",
                                   sdmetrics_rows=150, yardsticks=False)
    assert not any(isinstance(v, float) and np.isnan(v) for v in a.values())  # so == compares every number
    assert a == b and a["n_synth"] == 100 and a["n_real_train"] == 100 and a["sdmetrics_rows"] == 150
    assert any("sample of 100 rows" in n for n in a["notes"])
    assert any("sample of 150 rows" in n for n in a["notes"])
    c = distance_to_closest_record(real, synth, hold, KINDS, seed=5, max_rows=100, sensitive="sex",
                                   sdmetrics_rows=150, yardsticks=False)
    assert c["dcr_baseline_random_median"] != a["dcr_baseline_random_median"]  # the seed is used
    assert c["membership_auc"] != a["membership_auc"] and c["anonymeter"] != a["anonymeter"]


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
    out = distance_to_closest_record(real, synth, hold, KINDS, seed=3, sensitive="sex", known=["age", "diet"],
                                     sdmetrics_rows=SDMETRICS_ROWS, attacks=None, yardsticks=False)
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


SDM = dict(sdmetrics_rows=SDMETRICS_ROWS, attacks=None, yardsticks=False)  # SDMetrics is opt-in


def test_sdmetrics_privacy_tells_copies_from_fresh_rows():
    real, hold = table(300, 0), table(300, 1)
    copy = distance_to_closest_record(real, real.copy(), hold, KINDS, sensitive="diet", **SDM)
    assert copy["dcr_baseline_protection"] == 0.0 and copy["dcr_overfitting_protection"] == 0.0
    assert copy["closer_to_training_share"] == 1.0
    assert copy["disclosure_known"] == ["age", "chol", "sex"]  # every other column by default
    assert copy["disclosure_protection"] < 0.6  # the copy gives away part of a known person's diet
    fresh = distance_to_closest_record(real, table(300, 3), hold, KINDS, sensitive="diet", **SDM)
    assert fresh["dcr_baseline_protection"] > 0.3 and fresh["dcr_overfitting_protection"] > 0.8
    assert fresh["disclosure_protection"] > 0.9  # diet is independent of the rest: near chance
    alone = distance_to_closest_record(real, table(300, 3), None, KINDS, **SDM)
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


# ----------------------------------------------------------------------------- issue 18's measures
def test_auc_and_shares_by_hand():
    from faircause_core.metrics.frames import wilson as _wilson
    from faircause_core.metrics.privacy import _aucs, _share_excess, auc_interval

    # members at 0 and 1, others at 1 and 2: (0<1) + (0<2) + half of (1=1) + (1<2) over 4 pairs
    assert _aucs(np.array([0.0, 1.0]), np.array([1.0, 2.0])) == 0.875
    # Newcombe (1998): Wilson 81/263 = [0.2553, 0.3662]; 56/70 - 48/80 = 0.20 [0.0524, 0.3339]
    assert _wilson(81, 263)[1:] == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert _share_excess(56, 70, 48, 80) == pytest.approx((0.20, 0.0524, 0.3339), abs=1e-4)
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 80), rng.normal(0.5, 1, 60)
    point, lo, hi = auc_interval(a, b, np.random.default_rng(1))
    assert lo <= point <= hi and point == _aucs(a, b) and 0.55 < point < 0.75
    assert auc_interval(a, b, np.random.default_rng(1)) == (point, lo, hi)  # seeded
    same = auc_interval(np.zeros(5), np.zeros(5), np.random.default_rng(1))
    assert same == (0.5, 0.5, 0.5)  # all tied: no leak, and the interval still holds the estimate


def test_membership_tells_a_copy_from_fresh_rows():
    real, hold = table(400, 0), table(300, 1)
    rng = np.random.default_rng(0)
    copier = real.iloc[rng.integers(0, len(real), len(real))]
    leak = distance_to_closest_record(real, copier, hold, KINDS, **FAST)
    fresh = distance_to_closest_record(real, table(400, 3), hold, KINDS, **FAST)
    assert leak["membership_rows"] == fresh["membership_rows"] == 300  # members cut to the holdout's size
    assert leak["membership_auc_ci_low"] > 0.7
    assert fresh["membership_auc_ci_low"] < 0.5 < fresh["membership_auc_ci_high"]
    assert leak["rare_auc_ci_low"] > 0.5 and fresh["rare_auc_ci_low"] < 0.5
    assert leak["rare_train_rows"] == 20 and leak["rare_holdout_rows"] == 15  # the rarest 5% of each
    assert leak["rare_dcr_train_median"] < fresh["rare_dcr_train_median"]
    assert leak["verdict"] == "unsafe" and fresh["verdict"] == "safe", fresh["verdict_reason"]
    assert fresh["verdict_reason"].startswith("No measure shows a leak: membership inference AUC")


def rows_that_repeat(n, seed):
    """A cohort where most patients share their row with others (four binary columns) and a
    tenth have a row of their own (a rare code)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({c: rng.integers(0, 2, n) for c in ("a", "b", "c", "d")})
    df["code"] = np.where(rng.random(n) < 0.1, rng.integers(1000, 10**6, n), 0)
    return df


def test_unique_patients_copied_where_rows_repeat():
    """5% real rows mixed in among rows that mostly repeat: the copies of patients with a row
    of their own give them away first (medpar's Bayes net rows with 5% real ones mixed in: the
    row shares could not tell, the unique patients could)."""
    kinds = {"a": "binary", "b": "binary", "c": "binary", "d": "binary", "code": "categorical"}
    real, hold = rows_that_repeat(2000, 0), rows_that_repeat(1000, 1)
    honest = rows_that_repeat(2000, 2)
    mixed = pd.concat([honest.iloc[:1900], real.iloc[np.random.default_rng(3).choice(2000, 100, replace=False)]])
    h = distance_to_closest_record(real, honest, hold, kinds, **FAST)
    m = distance_to_closest_record(real, mixed, hold, kinds, **FAST)
    assert h["holdout_exact_copy_share"] > 0.85  # most unseen patients equal a training row
    assert h["unique_copy_excess_ci_low"] < 0 < h["unique_copy_excess_ci_high"]
    assert m["unique_copy_excess_ci_low"] > 0 and m["unique_train_copied"] >= 5
    assert h["verdict"] == "safe" and m["verdict"] == "review"
    assert "training patients with a unique row are copied verbatim" in m["verdict_reason"]


def test_anonymeter_is_seeded_and_gives_numpy_and_random_their_state_back():
    import random

    from anonymeter.evaluators import linkability_evaluator, singling_out_evaluator

    from faircause_core.metrics.privacy import anonymeter_risks

    real, hold = table(300, 0), table(200, 1)
    frames = {"real training": real, "synthetic": real.iloc[np.random.default_rng(0).integers(0, 300, 300)],
              "real holdout": hold}
    np.random.seed(123)
    random.seed(123)
    state, py_state = np.random.get_state(), random.getstate()
    links, queries = linkability_evaluator._random_links, singling_out_evaluator._random_queries
    a = anonymeter_risks(frames, KINDS, 7, {"inference": "sex", "inference_x": "diet"}, 100, [])
    after = np.random.get_state()
    assert all(np.array_equal(x, y) for x, y in zip(state, after)) and random.getstate() == py_state
    assert linkability_evaluator._random_links is links and singling_out_evaluator._random_queries is queries
    b = anonymeter_risks(frames, KINDS, 7, {"inference": "sex", "inference_x": "diet"}, 100, [])
    c = anonymeter_risks(frames, KINDS, 8, {"inference": "sex", "inference_x": "diet"}, 100, [])
    assert a == b  # every number, baseline rates included (Anonymeter leaves those unseeded)
    assert a != c
    assert a["anonymeter_rows"] == {"original": 300, "control": 200, "synthetic": 300, "attacks": 100,
                                    "original_of": 300, "control_of": 200}
    for name, r in a["anonymeter"].items():
        assert 0 <= r["ci_low"] <= r["risk"] <= r["ci_high"] <= 1 and r["n_attacks"] == 100, name


def test_anonymeter_risks_are_sensible_on_numpy_2():
    """Anonymeter 1.1.0 installed without its numpy<1.27 pin: a copy of the training rows is
    linkable and gives a person's diet away; rows from the same law but other people are not."""
    from faircause_core.metrics.privacy import anonymeter_risks

    real, hold = table(400, 0), table(300, 1)
    copy = {"real training": real, "synthetic": real, "real holdout": hold}
    fresh = dict(copy, synthetic=table(400, 3))
    leak = anonymeter_risks(copy, KINDS, 0, {"inference": "diet"}, 200, [])["anonymeter"]
    safe = anonymeter_risks(fresh, KINDS, 0, {"inference": "diet"}, 200, [])["anonymeter"]
    assert leak["linkability"]["ci_low"] > 0.25 and safe["linkability"]["ci_high"] < 0.05
    assert leak["inference"]["ci_low"] > 0.9 and safe["inference"]["ci_low"] == 0
    assert leak["singling_out"]["ci_low"] > 0.6 and safe["singling_out"]["ci_high"] < 0.2


def test_anonymeter_attacks_a_stated_sample_of_a_big_table(monkeypatch):
    """Issue 22: a 2,000,000-row run's privacy step held 9 GB of text cells with every real row in
    Anonymeter's frames. Above ANONYMETER_REAL_ROWS (here set to 150) the original and the control
    are seeded samples, recorded and said; a copier is still caught within the sample (a copy of
    the training rows scores as in the full attack), fresh rows from the same law are not."""
    from faircause_core.metrics import privacy
    from faircause_core.present.explain import sampled_lines

    real, hold = table(400, 0), table(300, 1)
    copy = {"real training": real, "synthetic": real, "real holdout": hold}
    fresh = dict(copy, synthetic=table(400, 3))
    monkeypatch.setattr(privacy, "ANONYMETER_REAL_ROWS", 150)
    notes = []
    leak = privacy.anonymeter_risks(copy, KINDS, 0, {"inference": "diet"}, 200, notes)
    safe = privacy.anonymeter_risks(fresh, KINDS, 0, {"inference": "diet"}, 200, [])
    assert leak["anonymeter_rows"] == {"original": 150, "control": 150, "synthetic": 400, "attacks": 150,
                                       "original_of": 400, "control_of": 300}
    assert "seeded samples of 150 of the 400 real training rows and 150 of the 300 real holdout rows" in notes[-1]
    risk, safe_risk = leak["anonymeter"], safe["anonymeter"]
    for name in ("singling_out", "linkability", "inference"):  # each interval apart from fresh rows' interval
        assert risk[name]["ci_low"] > safe_risk[name]["ci_high"], (name, risk[name], safe_risk[name])
    assert risk["inference"]["ci_low"] > 0.9
    said = sampled_lines({"privacy": leak}, 400, 400)
    assert said == ["privacy attacks (Anonymeter): 150 seeded attacks of each kind, on all 400 synthetic rows, a "
                    "seeded 150 of the 400 real training rows, a seeded 150 of the 300 real holdout rows; singled "
                    "out means unique within that sample"]
    monkeypatch.setattr(privacy, "ANONYMETER_REAL_ROWS", 50_000)
    whole = privacy.anonymeter_risks(copy, KINDS, 0, {"inference": "diet"}, 200, [])
    assert whole["anonymeter_rows"]["original"] == 400  # below the cap: every real row, as before
    assert sampled_lines({"privacy": whole}, 400, 400) == [
        "privacy attacks (Anonymeter): 200 seeded attacks of each kind, on all 400 synthetic rows"]


def test_anonymeter_kernel_is_compiled_for_one_signature_and_finds_the_same_neighbours():
    """numba compiles Anonymeter's kernel once per dtype and memory layout (5-7 s each, inside a
    run's privacy step); every call goes through one float64 C-ordered signature, which `make
    setup` compiles ahead (warm_kernel). Checked on an all-category table (int64 arrays) and a
    mixed one, and against the kernel's own Python on int64, F-ordered input."""
    from faircause_core.metrics.privacy import _JIT, anonymeter_risks, warm_kernel

    assert warm_kernel() == 1
    from anonymeter.neighbors import mixed_types_kneighbors as mtk  # after the evaluators (a circular import)

    real, hold = table(120, 0), table(80, 1)
    cats = [c for c in real.columns if KINDS.get(c) in ("binary", "categorical")]
    for cols in (list(real.columns), cats):
        frames = {"real training": real[cols], "synthetic": table(120, 2)[cols], "real holdout": hold[cols]}
        anonymeter_risks(frames, {c: KINDS[c] for c in cols if c in KINDS}, 0, {}, 30, [])
    assert len(_JIT["kernel"].signatures) == 1, _JIT["kernel"].signatures
    rng = np.random.default_rng(0)
    queries, candidates = rng.integers(0, 3, (4, 5)), np.asfortranarray(rng.integers(0, 3, (30, 5)))
    idx, dist = mtk._nearest_neighbors(queries, candidates, 2, 3)
    every_idx, every_dist = mtk._nearest_neighbors.py_func(queries, candidates, 2, 30)  # all 30, in Python
    by_row = np.take_along_axis(every_dist, np.argsort(every_idx, axis=1), axis=1)  # distance to candidate j
    assert np.array_equal(dist, every_dist[:, :3])  # the 3 smallest distances (ties may swap indices)
    assert np.array_equal(np.take_along_axis(by_row, idx, axis=1), dist)
    assert len(_JIT["kernel"].signatures) == 1


def test_numbers_with_missing_values_reach_anonymeter_as_median_and_flag():
    from faircause_core.metrics.privacy import _anonymeter_frames

    real, synth = table(100, 0), table(50, 1)
    enc, groups = _anonymeter_frames({"real training": real, "synthetic": synth}, KINDS)
    assert groups["chol"] == ["chol", "chol missing"] and groups["age"] == ["age"]
    t = enc["real training"]
    assert not t["chol"].isna().any() and set(t["chol missing"]) == {"yes", "no"}
    assert (t.loc[real["chol"].isna().to_numpy(), "chol"] == np.nanmedian(real["chol"])).all()
    assert "(missing)" in set(t["diet"]) and t["sex"].map(type).eq(str).all()  # one type per column


def test_yardsticks_are_measured_once_and_kept_on_disk(tmp_path, monkeypatch):
    from faircause_core.metrics import privacy

    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path))
    monkeypatch.setattr(privacy, "_YARDSTICKS", {})
    calls = []
    monkeypatch.setenv("FAIRCAUSE_THREADS", "1")  # the distances in this process, where they are counted
    measures = privacy._distances
    monkeypatch.setattr(privacy, "_distances", lambda *a, **k: calls.append(1) or measures(*a, **k))
    real, hold = table(200, 0), table(150, 1)
    a = distance_to_closest_record(real, table(200, 2), hold, KINDS, attacks=50)
    assert len(calls) == 3  # the table, the copier, the marginals
    assert len(list((tmp_path / "privacy_yardsticks").glob("*.json"))) == 1
    b = distance_to_closest_record(real, table(200, 3), hold, KINDS, attacks=50)
    assert len(calls) == 4 and b["yardsticks"] == a["yardsticks"]  # another table, same real rows
    monkeypatch.setattr(privacy, "_YARDSTICKS", {})  # a fresh process: read back from disk
    c = distance_to_closest_record(real, table(200, 3), hold, KINDS, attacks=50)
    assert len(calls) == 5 and c["yardsticks"] == a["yardsticks"]
    d = distance_to_closest_record(real, table(200, 3), hold, KINDS, attacks=50, seed=1)
    assert len(calls) == 8  # another seed: measured again
    cop, mar = a["yardsticks"]["copier"], a["yardsticks"]["marginals"]
    assert cop["exact_copies"] == 200 and mar["membership_auc_ci_low"] < 0.5 < cop["membership_auc_ci_low"]
    assert d["yardsticks"]["copier"]["membership_auc"] != cop["membership_auc"]


def test_yardsticks_kept_says_beforehand_whether_a_call_will_measure_them(tmp_path, monkeypatch):
    """yardsticks_kept (what a run asks as its measuring starts, for the time-left estimate) is
    False exactly when distance_to_closest_record would measure the yardsticks: before the first
    call, and for another seed, size or attack budget; True once kept, in the process or on disk."""
    from faircause_core.metrics import privacy

    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path))
    monkeypatch.setattr(privacy, "_YARDSTICKS", {})
    calls = []
    monkeypatch.setenv("FAIRCAUSE_THREADS", "1")  # the distances in this process, where they are counted
    measures = privacy._distances
    monkeypatch.setattr(privacy, "_distances", lambda *a, **k: calls.append(1) or measures(*a, **k))
    real, hold, synth = table(200, 0), table(150, 1), table(180, 2)
    args = dict(seed=0, attacks=50, sensitive="diet", x="sex")
    told = []  # on_yardsticks: as their measuring starts, after the table's own measures
    watch = dict(args, on_yardsticks=lambda: told.append(len(calls)))
    assert not privacy.yardsticks_kept(real, hold, KINDS, len(synth), **args)
    distance_to_closest_record(real, synth, hold, KINDS, **watch)
    assert len(calls) == 3 and told == [1]  # measured, as yardsticks_kept said
    assert privacy.yardsticks_kept(real, hold, KINDS, len(synth), **args)
    monkeypatch.setattr(privacy, "_YARDSTICKS", {})  # a fresh process: kept on disk
    assert privacy.yardsticks_kept(real, hold, KINDS, len(synth), **args)
    distance_to_closest_record(real, table(180, 3), hold, KINDS, **watch)
    assert len(calls) == 4 and told == [1]  # read, as it said: nothing told
    for other in (dict(args, seed=1), dict(args, attacks=60), dict(args, x=None)):
        assert not privacy.yardsticks_kept(real, hold, KINDS, len(synth), **other), other
    assert not privacy.yardsticks_kept(real, hold, KINDS, 170, **args)  # another synthetic size
    # FAIRCAUSE_YARDSTICK_CACHE=off (benchmarks, recordings of first runs): nothing read from or
    # written to disk, so a fresh process measures them again
    monkeypatch.setenv(privacy.YARDSTICK_CACHE_ENV, "off")
    monkeypatch.setattr(privacy, "_YARDSTICKS", {})
    assert not privacy.yardsticks_kept(real, hold, KINDS, len(synth), **args)
    files = set((tmp_path / "privacy_yardsticks").glob("*.json"))
    distance_to_closest_record(real, synth, hold, KINDS, **dict(args, seed=2))
    assert len(calls) == 7 and set((tmp_path / "privacy_yardsticks").glob("*.json")) == files


def _measured(**changes):
    """A privacy dict as a saved run holds it (NaN as None): a table with no leak, then changes."""
    risk = dict(risk=0.02, ci_low=0.0, ci_high=0.08)
    base = dict(exact_copies=0, synthetic_rows=1000, exact_copy_share=0.0, holdout_exact_copy_share=0.0,
                exact_copy_excess=0.0, exact_copy_excess_ci_low=-0.008, exact_copy_excess_ci_high=0.004,
                unique_train_copied=0, unique_train_rows=1000, unique_holdout_copied=0, unique_holdout_rows=400,
                unique_copy_excess=0.0, unique_copy_excess_ci_low=-0.01, unique_copy_excess_ci_high=0.004,
                membership_auc=0.51, membership_auc_ci_low=0.47, membership_auc_ci_high=0.55, membership_rows=489,
                rare_auc=0.45, rare_auc_ci_low=0.30, rare_auc_ci_high=0.60, rare_dcr_train_median=0.08,
                rare_dcr_holdout_median=0.09,
                anonymeter={"singling_out": dict(risk), "linkability": dict(risk),
                            "inference": dict(risk, secret="death")},
                yardsticks={"copier": {"membership_auc": 0.82, "membership_auc_ci_low": 0.79,
                                       "membership_auc_ci_high": 0.85,
                                       "anonymeter": {"singling_out": dict(risk=0.54, ci_low=0.46, ci_high=0.61),
                                                      "linkability": dict(risk=0.31, ci_low=0.25, ci_high=0.38),
                                                      "inference": dict(risk=0.6, ci_low=0.4, ci_high=0.8)}},
                            "marginals": {"membership_auc": 0.5, "membership_auc_ci_low": 0.46,
                                          "membership_auc_ci_high": 0.54,
                                          "anonymeter": {"singling_out": dict(risk=0.13, ci_low=0.06, ci_high=0.2),
                                                         "linkability": dict(risk=0.0, ci_low=0.0, ci_high=0.01),
                                                         "inference": dict(risk=0.04, ci_low=0.0, ci_high=0.29)}}})
    for key, value in changes.items():
        if "." in key:
            outer, inner, field = key.split(".")
            base[outer][inner][field] = value
        else:
            base[key] = value
    return base


@pytest.mark.parametrize("changes, expected, words", [
    ({}, "safe", "No measure shows a leak: membership inference AUC 0.51 [0.47, 0.55] (a copier 0.82"),
    (dict(membership_auc=0.7, membership_auc_ci_low=0.61, membership_auc_ci_high=0.75), "unsafe",
     "membership inference AUC 0.70 [0.61, 0.75]"),
    (dict(exact_copies=150, exact_copy_share=0.15, exact_copy_excess=0.15, exact_copy_excess_ci_low=0.13,
          exact_copy_excess_ci_high=0.17), "unsafe", "150 of 1,000 synthetic rows (15.0%) are exact copies"),
    (dict(unique_train_copied=200, unique_copy_excess=0.2, unique_copy_excess_ci_low=0.17,
          unique_copy_excess_ci_high=0.23), "unsafe", "200 of 1,000 training patients with a unique row"),
    ({"anonymeter.linkability.risk": 0.2, "anonymeter.linkability.ci_low": 0.16,
      "anonymeter.linkability.ci_high": 0.24}, "unsafe", "Anonymeter's linkability risk 0.20 [0.16, 0.24]"),
    (dict(membership_auc=0.55, membership_auc_ci_low=0.51, membership_auc_ci_high=0.59), "review",
     "its low end above 0.5 (unsafe above 0.6)"),
    (dict(unique_train_copied=20, unique_copy_excess=0.02, unique_copy_excess_ci_low=0.01,
          unique_copy_excess_ci_high=0.03), "review", "more than by chance"),
    (dict(exact_copies=50, exact_copy_share=0.05, exact_copy_excess=0.05, exact_copy_excess_ci_low=0.036,
          exact_copy_excess_ci_high=0.064), "review", "50 of 1,000 synthetic rows (5.0%)"),
    (dict(rare_auc=0.7, rare_auc_ci_low=0.55, rare_auc_ci_high=0.85), "review", "The rarest training patients"),
    ({"anonymeter.inference.risk": 0.4, "anonymeter.inference.ci_low": 0.31,
      "anonymeter.inference.ci_high": 0.49}, "review", "inference of death risk 0.40 [0.31, 0.49]"),
    # at half of what the copier adds over marginals (0.04 + 0.5 x 0.56 = 0.32), unsafe
    ({"anonymeter.inference.risk": 0.45, "anonymeter.inference.ci_low": 0.33,
      "anonymeter.inference.ci_high": 0.58}, "unsafe", "50% of what a copier adds over marginals"),
    # below the marginals' high end, an inference risk decides nothing: marginals reach it too
    ({"anonymeter.inference.risk": 0.3, "anonymeter.inference.ci_low": 0.2,
      "anonymeter.inference.ci_high": 0.4}, "safe", "No measure shows a leak"),
    # singling out at the marginals' level: tables with no patient in them score that much
    ({"anonymeter.singling_out.risk": 0.15, "anonymeter.singling_out.ci_low": 0.1,
      "anonymeter.singling_out.ci_high": 0.2}, "safe", "No measure shows a leak"),
    (dict(membership_auc=None, membership_auc_ci_low=None, membership_auc_ci_high=None), "review",
     "No unseen real rows to compare with"),
    # ten unseen rows: an interval that says "no leak" means nothing yet
    (dict(membership_rows=10), "review", "Only 10 unseen real rows to compare with"),
    # 48 synthetic rows: a copier of 48 rows is not seen by membership inference either
    ({"synthetic_rows": 48, "yardsticks.copier.membership_auc": 0.52,
      "yardsticks.copier.membership_auc_ci_low": 0.49, "yardsticks.copier.membership_auc_ci_high": 0.56},
     "review", "Too few synthetic rows (48) to show the table safe"),
    # 3,000 rows, but the distances saw a seeded 1,000 (the light profile): the sample is the weak part (flchain)
    ({"synthetic_rows": 3000, "n_synth": 1000, "yardsticks.copier.membership_auc": 0.59,
      "yardsticks.copier.membership_auc_ci_low": 0.56, "yardsticks.copier.membership_auc_ci_high": 0.61},
     "review", "Too few synthetic rows in the distances (a seeded 1,000 of the 3,000) to show the table safe"),
])
def test_verdict_names_the_measure_that_decided_it(changes, expected, words):
    from faircause_core.metrics.privacy import verdict

    got, reason = verdict(_measured(**changes))
    assert got == expected, reason
    assert words in reason


def test_without_holdout_or_with_a_tiny_one_the_verdict_asks_for_review():
    real = table(200, 0)
    out = distance_to_closest_record(real, table(200, 1), None, KINDS, sensitive="sex")
    assert out["verdict"] == "review" and out["verdict_reason"].startswith("No unseen real rows")
    assert out["anonymeter"] == {} and "yardsticks" not in out
    # one unseen row: its AUC is 0 or 1 with an interval of one point, which would read "unsafe"
    tiny = distance_to_closest_record(real, table(200, 1), table(1, 2), KINDS, sensitive="sex", yardsticks=False)
    assert tiny["membership_rows"] == 1 and tiny["verdict"] == "review"
    assert tiny["verdict_reason"].startswith("Only 1 unseen real rows")


def test_sdmetrics_is_left_out_unless_asked_for():
    real, hold = table(200, 0), table(150, 1)
    out = distance_to_closest_record(real, table(200, 2), hold, KINDS, sensitive="sex", **FAST)
    assert out["sdmetrics_rows"] == 0 and np.isnan(out["dcr_baseline_protection"])
    assert np.isnan(out["disclosure_protection"]) and out["disclosure_sensitive"] == "sex"


def test_issue_18_bad_inputs():
    real = table(50, 0)
    with pytest.raises(InputError, match="protected attribute 'bmi' is not a model column"):
        distance_to_closest_record(real, real, real, KINDS, x="bmi")
    with pytest.raises(InputError, match="protected attribute 'sex' cannot also be the inferred outcome"):
        distance_to_closest_record(real, real, real, KINDS, sensitive="sex", x="sex")
    with pytest.raises(InputError, match="attacks 0 must be a whole number"):
        distance_to_closest_record(real, real, real, KINDS, attacks=0)


def test_privacy_rows_show_each_measure_with_its_interval_and_yardsticks():
    from faircause_core.io.export import plain
    from faircause_core.present.report import privacy_rows, privacy_verdict

    priv = plain(_measured(**{"anonymeter.inference.secret": "<b>death</b>"}))  # as a saved run holds it
    rows = dict(privacy_rows(priv))
    assert rows["membership inference AUC (0.5 = no leak)"] == (
        "0.51 [0.47, 0.55]; copier 0.82 [0.79, 0.85]; marginals 0.50 [0.46, 0.54]")
    assert rows["Anonymeter linkability risk (0 = none)"] == (
        "0.02 [0.00, 0.08]; copier 0.31 [0.25, 0.38]; marginals 0.00 [0.00, 0.01]")
    assert rows["Anonymeter inference of <b>death</b> risk (0 = none)"].startswith("0.02 [0.00, 0.08]; copier 0.60")
    assert rows["unique patients copied verbatim: training"] == "0 of 1,000"
    assert rows["exact copies beyond unseen rows' share (points)"] == "+0.0 [-0.8, +0.4]"
    assert rows["SDMetrics DCR baseline protection (1 = no closer than random rows)"] is None  # not measured: left out
    priv.update(verdict="unsafe", verdict_reason="Training patients are told from unseen ones.")
    assert privacy_verdict(priv) == "Verdict: not safe to share. Training patients are told from unseen ones."
    old = {"exact_copy_share": 0.0, "exact_copies": 0, "synthetic_rows": 100, "holdout_exact_copy_share": 0.0,
           "ratio": 1.02}  # a run saved before issue 18: its own verdict, rows without the new measures
    assert privacy_verdict(old).startswith("No sign of copying")
    assert [k for k, v in privacy_rows(old) if v is not None] == [
        "exact copies of a training row", "exact copies among unseen real rows (yardstick)",
        "distance ratio, synthetic / unseen real (about 1 is good)"]


def test_the_privacy_distances_in_a_forked_child_give_the_one_process_numbers(tmp_path, monkeypatch):
    """Each call's distances (the table's own, then the copier's and the marginals') run in a
    forked child beside this process's Anonymeter attacks where the local engine has two workers
    (FAIRCAUSE_THREADS=2): the whole result, notes and yardsticks included, is the one-process
    result, twice in a row (Polars, which the attacks use, has run here by the second), and the
    distances ran in another process (control: with one worker, here)."""
    import json
    import os

    from faircause_core import engine
    from faircause_core.metrics import privacy

    if not engine.FORK:
        pytest.skip("forked workers are Linux only")
    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path))
    monkeypatch.setenv(privacy.YARDSTICK_CACHE_ENV, "off")  # measured by each call
    from tests.conftest import record_pids

    where = tmp_path / "pids"
    record_pids(monkeypatch, privacy, "_all_distances", where)
    real, hold, synth = table(200, 0), table(150, 1), table(180, 2)
    args = dict(seed=0, attacks=50, sensitive="diet", x="sex")
    results, pids = {}, {}
    for workers in ("1", "2", "2"):
        monkeypatch.setenv("FAIRCAUSE_THREADS", workers)
        monkeypatch.setattr(privacy, "_YARDSTICKS", {})
        results.setdefault(workers, []).append(json.dumps(distance_to_closest_record(real, synth, hold, KINDS, **args),
                                                          sort_keys=True))
        pids.setdefault(workers, []).extend(where.read_text().split())
        where.unlink()
    assert results["1"][0] == results["2"][0] == results["2"][1]
    assert pids["1"] == [str(os.getpid())] * 2  # the table's, then the yardsticks'
    assert len(pids["2"]) == 4 and len(set(pids["2"])) == 4 and str(os.getpid()) not in pids["2"]
