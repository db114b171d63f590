import numpy as np

from faircause_core.io.binning import MISSING, Binner


def test_few_distinct_values_get_one_bin_each():
    b = Binner(max_bins=10).fit([1, 2, 2, 3, np.nan])
    assert b.n_bins_ == 3
    assert list(b.transform([1, 2, 3, np.nan])) == [0, 1, 2, MISSING]
    assert b.labels() == ["1", "2", "3"]


def test_sample_stays_in_bin_range_and_precision():
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(70, 12, 2000), 1)
    b = Binner(max_bins=8).fit(x)
    codes = b.transform(x)
    back = b.sample(codes, np.random.default_rng(1))
    assert np.all(b.transform(back) == codes)  # same bin
    assert back.min() >= x.min() and back.max() <= x.max()
    assert np.allclose(back, np.round(back, 1))  # precision kept: values are observed ones
    assert np.isin(back, x).all()


def test_missing_maps_to_nan():
    b = Binner(4).fit([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    out = b.sample(np.array([MISSING, 0]), np.random.default_rng(0))
    assert np.isnan(out[0]) and not np.isnan(out[1])


def test_heavy_ties_drop_empty_bins():
    x = np.array([0] * 500 + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 20, 30, 40, 50, 60, 70] * 3, dtype=float)
    b = Binner(max_bins=8).fit(x)
    codes = b.transform(x)
    assert set(np.unique(codes)) == set(range(b.n_bins_))
    assert all(p.size > 0 for p in b.pool_)


def _cigarettes(n: int = 4000, seed: int = 0):
    """47% non-smokers at 0, smokers from 1 to 40 a day (a fifth light, 1-4): Framingham-like (the
    quantile at 0.5 falls among the light smokers, so plain quantiles put 0 with them)."""
    rng = np.random.default_rng(seed)
    smoker = rng.random(n) < 0.53
    light = rng.random(n) < 0.2
    cigs = np.where(~smoker, 0, np.where(light, rng.integers(1, 5, n), rng.integers(5, 41, n)))
    return smoker, cigs.astype(float)


def test_a_spike_gets_its_own_bin_in_the_generators_binning():
    _, cigs = _cigarettes()
    spiked = Binner(20, spikes=True).fit(cigs)
    zero = spiked.transform([0.0])[0]
    assert spiked.low_[zero] == spiked.high_[zero] == 0  # 0 alone
    assert spiked.labels()[zero] == "0" and spiked.transform([1.0])[0] != zero
    # control: plain quantiles (discovery's) put 0 with the light smokers
    plain = Binner(20).fit(cigs)
    assert plain.low_[plain.transform([0.0])[0]] == 0 and plain.transform([1.0])[0] == plain.transform([0.0])[0]
    # a continuous column without ties keeps its quantile bins
    x = np.random.default_rng(1).normal(size=2000)
    assert np.array_equal(Binner(20, spikes=True).fit(x).edges_, Binner(20).fit(x).edges_)


def test_the_bayes_net_keeps_zero_cigarettes_with_the_non_smokers():
    """Found probing a Framingham-like cohort: 13.8% of synthetic non-smokers smoked and 14.8% of
    smokers smoked none (0% in the real rows), as 0 shared a bin with 1-4."""
    import pandas as pd

    from faircause_core.causal.graph import CausalGraph, derive_roles
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.generators.bayesnet import BayesNetGenerator
    from faircause_core.io.data import table_from_frame

    smoker, cigs = _cigarettes()
    rng = np.random.default_rng(2)
    sex = rng.random(cigs.size) < 0.5
    chd = rng.random(cigs.size) < 0.1 + 0.002 * cigs + 0.05 * sex
    df = pd.DataFrame({"male": sex.astype(int), "smoker": smoker.astype(int), "cigs": cigs, "chd": chd.astype(int)})
    graph = CausalGraph(list(df.columns), [("male", "smoker"), ("smoker", "cigs"), ("male", "chd"), ("cigs", "chd")])
    roles = derive_roles(graph, "male", "chd", x0=0, x1=1)
    syn = BayesNetGenerator().fit(table_from_frame(df), graph, roles).sample(len(df), FairnessSpec(), seed=0)
    assert (syn.loc[syn.smoker == 0, "cigs"] > 0).mean() < 0.02
    assert (syn.loc[syn.smoker == 1, "cigs"] == 0).mean() < 0.02
