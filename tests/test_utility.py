import numpy as np
import pandas as pd
import pytest

from faircause_core.errors import InputError
from faircause_core.causal.graph import Roles
from faircause_core.metrics.utility import FeatureEncoder, fair_predictor, tstr_auroc

KINDS = {"age": "continuous", "sex": "binary", "bp": "continuous", "diet": "categorical", "death": "binary"}


def scm(n, seed, direct=2.0):
    """Z=age -> X=sex -> W=(bp, diet) -> Y=death, with a direct X -> Y effect of size `direct`."""
    rng = np.random.default_rng(seed)
    age = rng.normal(0, 1, n)
    male = rng.random(n) < 1 / (1 + np.exp(-0.5 * age))
    bp = 0.8 * male + 0.5 * age + rng.normal(0, 1, n)
    diet = np.where(rng.random(n) < 0.3 + 0.3 * male, "meat", np.where(rng.random(n) < 0.5, "veg", "mixed"))
    logit = -0.5 + direct * male + 0.8 * bp + 0.5 * age + 0.5 * (diet == "meat")
    death = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"age": age, "sex": np.where(male, "Male", "Female"), "bp": bp, "diet": diet,
                         "death": death})


@pytest.fixture(scope="module")
def split():
    return scm(800, 0), scm(600, 1)


def test_tstr_equals_trtr_when_synthetic_is_real(split):
    train, test = split
    out = tstr_auroc(train, train.copy(), test, "death", KINDS, seed=3)
    assert out["tstr"] == out["trtr"]
    assert out["trtr"] > 0.75
    assert (out["n_train_real"], out["n_synth"], out["n_test"]) == (800, 800, 600)
    # the synthetic outcome stored as floats means the same classes
    synth = train.assign(death=train["death"].astype(float))
    assert tstr_auroc(train, synth, test, "death", KINDS, seed=3)["tstr"] == out["trtr"]


def test_outcome_independent_of_features_gives_chance_auroc(split):
    train, test = split
    synth = train.copy()
    synth["death"] = np.random.default_rng(5).permutation(synth["death"].to_numpy())
    out = tstr_auroc(train, synth, test, "death", KINDS)
    assert out["trtr"] > 0.75
    assert abs(out["tstr"] - 0.5) < 0.08


def test_synthetic_with_one_outcome_class_scores_half(split):
    train, test = split
    out = tstr_auroc(train, train.assign(death=0), test, "death", KINDS)
    assert out["tstr"] == 0.5 and "synthetic outcome has one class" in out["notes"]


def test_unseen_categories_missing_values_and_missing_targets(split):
    train, test = split
    synth = train.copy()
    synth.loc[:50, "diet"] = "raw food"  # a category the real data never had
    synth.loc[60:80, "bp"] = np.nan
    train = train.astype({"death": float})
    train.loc[:9, "death"] = np.nan  # rows without an outcome are dropped
    out = tstr_auroc(train, synth, test, "death", KINDS)
    assert out["n_train_real"] == 790 and out["tstr"] > 0.7
    odd = synth.astype({"death": object})
    odd.loc[:4, "death"] = "unknown"  # an outcome value the real data never had: dropped, said
    out = tstr_auroc(train, odd, test, "death", KINDS)
    assert out["n_synth"] == 795 and "5 synthetic rows have an outcome value not seen" in out["notes"][0]


def test_threshold_and_positive(split):
    train, test = split
    kinds = dict(KINDS, bp="continuous")
    out = tstr_auroc(train, train, test, "bp", kinds, threshold=1.0)
    assert out["tstr"] == out["trtr"] > 0.7
    yes_no = {0: "No", 1: "Yes"}
    tr, te = train.assign(death=train["death"].map(yes_no)), test.assign(death=test["death"].map(yes_no))
    a = tstr_auroc(tr, tr, te, "death", KINDS)["trtr"]
    b = tstr_auroc(train, train, test, "death", KINDS)["trtr"]
    assert a == pytest.approx(b)  # "Yes" is the positive class, as 1 was
    flipped = tstr_auroc(tr, tr, te, "death", KINDS, positive="No")["trtr"]
    assert flipped > 0.75  # predicting survival is as learnable


def test_bad_inputs_raise_input_errors(split):
    train, test = split
    with pytest.raises(InputError, match="outcome column 'died' is not a model column"):
        tstr_auroc(train, train, test, "died", KINDS)
    with pytest.raises(InputError, match="real test rows have only one class"):
        tstr_auroc(train, train, test.assign(death=1), "death", KINDS)
    with pytest.raises(InputError, match="outcome 'diet' has 3 distinct values"):
        tstr_auroc(train, train, test, "diet", KINDS)
    with pytest.raises(InputError, match="positive value 'Maybe' does not occur"):
        tstr_auroc(train, train, test, "death", KINDS, positive="Maybe")
    with pytest.raises(InputError, match="synthetic table has no column 'bp'"):
        tstr_auroc(train, train.drop(columns="bp"), test, "death", KINDS)


def test_feature_encoder_uses_the_union_of_categories():
    a = pd.DataFrame({"c": ["x", "y", np.nan], "n": [1.0, np.nan, 3.0]})
    b = pd.DataFrame({"c": ["z", "x", "x"], "n": [0.0, 1.0, 2.0]})
    enc = FeatureEncoder({"c": "categorical", "n": "continuous"}, ["c", "n"]).fit(a, b)
    assert list(enc.categories_["c"]) == ["x", "y", "z"]
    X = enc.transform(a)
    assert X[0, 0] == 0 and X[1, 0] == 1 and np.isnan(X[2, 0]) and np.isnan(X[1, 1])
    assert list(enc.categorical_mask) == [True, False]


def test_fair_predictor_shows_large_reduction_when_synthetic_has_no_direct_effect():
    train, test = scm(1500, 10), scm(1000, 11)
    synth = scm(1500, 12, direct=0.0)  # Y independent of X given W and Z
    roles = Roles(x="sex", y="death", z=("age",), w=("bp", "diet"), x0="Female", x1="Male")
    out = fair_predictor(train, synth, test, roles, KINDS, seed=0)
    assert out["ctf_de_real_model"] > 0.15
    assert out["ctf_de_real_model"] > 3 * out["ctf_de_real_model_se"]
    assert abs(out["ctf_de_synth_model"]) < 0.1
    assert out["reduction"] > 0.7
    assert out["tv_real_model"] > out["tv_synth_model"]
    # the same data as "synthetic" gives the same model: no reduction
    same = fair_predictor(train, train, test, roles, KINDS, seed=0)
    assert same["reduction"] == pytest.approx(0.0)


def test_fair_predictor_checks_roles_and_synthetic_outcomes(split):
    train, test = split
    roles = Roles(x="sex", y="death", z=("age", "income"), w=("bp",), x0="Female", x1="Male")
    with pytest.raises(InputError, match="z column 'income' is not a model column"):
        fair_predictor(train, train, test, roles, KINDS)
    with pytest.raises(InputError, match="synthetic table has no rows with a known outcome 'death'"):
        tstr_auroc(train, train.assign(death=np.nan), test, "death", KINDS)
