from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faircause_core.io.data import Table, load_table, table_from_frame
from faircause_core.errors import InputError
from faircause_core.causal.fairness import decompose
from faircause_core.generators.base import CancelToken, Cancelled, FairnessSpec
from faircause_core.generators.bayesnet import BayesNetGenerator
from faircause_core.causal.graph import CausalGraph, derive_roles

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "assets" / "nhefs_cohort.csv"
DEMO_DAG = ROOT / "assets" / "nhefs_dag.json"
EFFECTS = ["tv", "ctf_de", "ctf_ie", "ctf_se"]

SCM_EDGES = [("z", "x"), ("z", "w"), ("z", "y"), ("x", "w"), ("x", "y"), ("w", "y"),
             ("x", "bmi"), ("z", "bmi"), ("bmi", "y"), ("z", "age")]


def simulate_scm(n=6000, seed=0) -> pd.DataFrame:
    """Known mechanisms: X depends on Z (spurious), X -> W, bmi -> Y (indirect), X -> Y
    (direct, +0.2). `age` plays no role and has 5% missing values."""
    rng = np.random.default_rng(seed)
    z = rng.binomial(1, 0.5, n)
    x = rng.binomial(1, 0.3 + 0.4 * z)
    w = rng.binomial(1, 0.2 + 0.4 * x + 0.2 * z)
    bmi = np.round(rng.normal(25 + 2 * x + 1.5 * z, 3, n), 1)
    y = rng.binomial(1, 0.05 + 0.2 * x + 0.3 * w + 0.15 * z + 0.1 * (bmi > 27))
    age = np.round(rng.normal(50 + 5 * z, 10, n))
    age[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"z": np.where(z, "urban", "rural"), "age": age, "x": np.where(x, "F", "M"),
                         "bmi": bmi, "w": w, "y": y})


def scm_setup():
    table = table_from_frame(simulate_scm(), name="scm")
    graph = CausalGraph(list(table.df.columns), SCM_EDGES)
    roles = derive_roles(graph, "x", "y", x0="M", x1="F")
    return table, graph, roles


def measure(df, roles):
    return decompose(df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w,
                     method="plugin", threshold=roles.threshold).to_frame()


def assert_close(a, b, effects, k=3.0):
    """Estimates agree within k combined standard errors (small effects make % noisy)."""
    for e in effects:
        gap = abs(a.loc[e, "estimate"] - b.loc[e, "estimate"])
        allowed = k * np.hypot(a.loc[e, "se"], b.loc[e, "se"])
        assert gap <= allowed, f"{e}: {a.loc[e, 'estimate']:.4f} vs {b.loc[e, 'estimate']:.4f} (allowed {allowed:.4f})"


def assert_removed(frame, effect, k=3.0):
    est, se = frame.loc[effect, "estimate"], frame.loc[effect, "se"]
    assert abs(est) <= max(0.02, k * se), f"{effect} = {est:.4f} not removed (se {se:.4f})"


@pytest.fixture(scope="module")
def scm():
    table, graph, roles = scm_setup()
    gen = BayesNetGenerator().fit(table, graph, roles)
    return table, graph, roles, gen, measure(table.df, roles)


@pytest.fixture(scope="module")
def demo():
    table = load_table(DEMO)
    if DEMO_DAG.exists():
        graph = CausalGraph.load(DEMO_DAG)
    else:  # pragma: no cover - the asset ships with the repo
        graph = CausalGraph(list(table.df.columns), [
            ("age", "death"), ("sex", "death"), ("age", "high_bp"), ("high_bp", "death"),
            ("sex", "smoke_years"), ("age", "smoke_years"), ("smoke_years", "death")])
    roles = derive_roles(graph, "sex", "death", x0="Male", x1="Female")
    gen = BayesNetGenerator().fit(table, graph, roles)
    return table, roles, gen, measure(table.df, roles)


# ------------------------------------------------------------------ values and shape

def test_demo_values_are_valid(demo):
    table, _, gen, _ = demo
    real = table.df
    synth = gen.sample(3000, seed=3)
    assert list(synth.columns) == list(real.columns) and len(synth) == 3000
    for c in real.columns:
        assert synth[c].dtype == real[c].dtype, c
        if table.schema[c].is_numeric:
            seen = real[c].dropna()
            got = synth[c].dropna()
            assert got.min() >= seen.min() and got.max() <= seen.max(), c
            assert got.isin(set(seen)).all(), c  # observed values only: precision kept
        else:
            assert set(synth[c].dropna()) <= set(real[c].dropna()), c
        assert abs(synth[c].isna().mean() - real[c].isna().mean()) < 0.015, c
    assert synth["income_bracket"].isna().any()  # 3.8% missing in the real column
    # marginals of categories follow the real ones
    for c in ("sex", "education", "high_bp"):
        real_share = real[c].value_counts(normalize=True)
        synth_share = synth[c].value_counts(normalize=True).reindex(real_share.index, fill_value=0)
        assert (synth_share - real_share).abs().max() < 0.04, c


WITHIN = 0.02  # issue 9's bound, no slack for noise


@pytest.fixture(scope="module")
def demo_own(demo):
    """The demo network's own effects, mirror and DE removed (counterfactual Monte Carlo on its
    mechanisms, BayesNetGenerator.effects: 200,000 rows, common random numbers)."""
    gen = demo[2]
    return gen.effects(fairness=FairnessSpec()), gen.effects(fairness=FairnessSpec(de=1))


def assert_within(got, want, effects, what, tolerance=WITHIN):
    for e in effects:
        assert abs(got[e] - want[e]) <= tolerance, f"{what} {e}: {got[e]:+.4f} vs {want[e]:+.4f} (> {tolerance})"


def test_demo_mirror_reproduces_the_real_decomposition(demo, demo_own):
    """The network fitted on every demo row has the real plug-in decomposition as its own
    effects, each within 0.02 (measured gaps: TV 0.016, DE 0.008, IE 0.010, SE 0.018, ETT
    0.002), and 20,000 of its rows give those effects back through the same estimator.
    (This replaces k = 3 combined plug-in standard errors, which allowed 0.36 for Ctf-DE and
    0.35 for Ctf-IE: the plug-in's SEs of the two are ~0.1 on these rows.)"""
    _, roles, gen, real = demo
    own, _ = demo_own
    real_est = real["estimate"]
    assert_within(own, real_est, EFFECTS + ["ett"], "network's own vs real")
    synth = measure(gen.sample(20_000, seed=1), roles)["estimate"]
    assert_within(synth, own, EFFECTS + ["ett"], "mirror rows vs the network's own")


def test_demo_de_removed(demo, demo_own):
    """DE removed: the network's own Ctf-DE within 0.02 of 0 and its IE and SE within 0.02 of
    mirror mode's; on 20,000 DE-removed rows the plug-in's Ctf-DE within 0.02 of 0, its IE
    and SE within 0.02 of the network's mirror values, and TV smaller by more than 0.02."""
    _, roles, gen, real = demo
    own, own_removed = demo_own
    assert abs(own_removed["ctf_de"]) <= WITHIN, f"the network's own Ctf-DE, DE removed: {own_removed['ctf_de']:+.4f}"
    assert_within(own_removed, own, ["ctf_ie", "ctf_se"], "DE-removed network vs mirror")
    mirror = measure(gen.sample(20_000, seed=1), roles)["estimate"]
    removed = measure(gen.sample(20_000, FairnessSpec(de=1), seed=1), roles)["estimate"]
    assert abs(removed["ctf_de"]) <= WITHIN, f"Ctf-DE on the DE-removed rows: {removed['ctf_de']:+.4f}"
    assert_within(removed, own, ["ctf_ie", "ctf_se"], "DE-removed rows vs the network's mirror")
    assert abs(removed["tv"]) < abs(mirror["tv"]) - WITHIN, (removed["tv"], mirror["tv"])


def test_isolated_node_and_bdeu_prior(scm):
    table, _, roles, _, _ = scm
    graph = CausalGraph(list(table.df.columns), [e for e in SCM_EDGES if e != ("z", "age")])
    gen = BayesNetGenerator(prior="BDeu", max_bins=5).fit(table, graph, roles)
    out = gen.sample(2000, seed=0)
    assert gen.parents_["age"] == []
    assert out["age"].dropna().isin(set(table.df["age"].dropna())).all()
    assert abs(out["age"].isna().mean() - table.df["age"].isna().mean()) < 0.02
    assert set(out["z"]) == {"urban", "rural"}


# ------------------------------------------------------------- pathways on the SCM

def test_scm_mirror_reproduces_the_real_decomposition(scm):
    _, _, roles, gen, real = scm
    assert_close(real, measure(gen.sample(8000, seed=1), roles), EFFECTS)


@pytest.mark.parametrize("removed", [("de",), ("ie",), ("se",), ("de", "ie", "se")])
def test_scm_removing_pathways(scm, removed):
    _, _, roles, gen, real = scm
    spec = FairnessSpec(**{p: 1.0 for p in removed})
    synth = measure(gen.sample(8000, spec, seed=1), roles)
    for p in ("de", "ie", "se"):
        if p in removed:
            assert_removed(synth, f"ctf_{p}")
        else:
            assert_close(real, synth, [f"ctf_{p}"])


def test_scm_partial_alpha_lands_in_between(scm):
    _, _, roles, gen, real = scm
    full = measure(gen.sample(8000, seed=1), roles).loc["ctf_de", "estimate"]
    half = measure(gen.sample(8000, FairnessSpec(de=0.5), seed=1), roles)
    none = measure(gen.sample(8000, FairnessSpec(de=1.0), seed=1), roles).loc["ctf_de", "estimate"]
    assert none < half.loc["ctf_de", "estimate"] < full
    assert abs(half.loc["ctf_de", "estimate"] - (full + none) / 2) < 3 * half.loc["ctf_de", "se"]


@pytest.mark.parametrize("reference", ["x0", "x1", "marginal"])
def test_scm_reference_options_all_remove_the_direct_effect(scm, reference):
    _, _, roles, gen, _ = scm
    synth = gen.sample(8000, FairnessSpec(de=1, reference=reference), seed=1)
    assert_removed(measure(synth, roles), "ctf_de")


def test_reference_changes_the_rows(scm):
    _, _, _, gen, _ = scm
    a = gen.sample(3000, FairnessSpec(de=1, reference="x0"), seed=1)
    b = gen.sample(3000, FairnessSpec(de=1, reference="x1"), seed=1)
    assert not a.equals(b)
    assert a.drop(columns="y").equals(b.drop(columns="y"))  # only Y's mechanism was edited
    # x* = x0: everyone gets the male outcome mechanism, x* = x1 the female one (+0.2)
    assert b["y"].mean() - a["y"].mean() > 0.12


def test_rows_outside_the_two_groups_keep_their_mechanisms():
    df = simulate_scm(3000, seed=5)
    rng = np.random.default_rng(5)
    df["x"] = np.where(rng.random(len(df)) < 0.2, "X", df["x"])
    table = table_from_frame(df, name="three groups")
    graph = CausalGraph(list(df.columns), SCM_EDGES)
    roles = derive_roles(graph, "x", "y", x0="M", x1="F")
    gen = BayesNetGenerator().fit(table, graph, roles)
    keep = gen.sample(4000, seed=2)
    edit = gen.sample(4000, FairnessSpec(de=1, ie=1, reference="x0"), seed=2)
    other = keep["x"] == "X"
    assert other.sum() > 300
    assert keep[other].equals(edit[other])  # same uniforms, unedited mechanisms
    assert not keep[~other].equals(edit[~other])


def test_se_removal_makes_x_independent_of_z(scm):
    _, _, _, gen, _ = scm
    synth = gen.sample(8000, FairnessSpec(se=1), seed=4)
    share = synth.groupby("z")["x"].apply(lambda s: (s == "F").mean())
    assert abs(share["urban"] - share["rural"]) < 0.03
    mirror = gen.sample(8000, seed=4).groupby("z")["x"].apply(lambda s: (s == "F").mean())
    assert mirror["urban"] - mirror["rural"] > 0.3


# ----------------------------------------------------- determinism, progress, cancel

def test_deterministic_for_a_seed(scm):
    _, _, _, gen, _ = scm
    spec = FairnessSpec(de=1, reference="marginal")
    a = gen.sample(7000, spec, seed=11)
    pd.testing.assert_frame_equal(a, gen.sample(7000, spec, seed=11))
    assert not a.equals(gen.sample(7000, spec, seed=12))


def test_common_random_numbers_rows_do_not_depend_on_n(scm):
    _, _, _, gen, _ = scm
    big = gen.sample(7000, FairnessSpec(ie=0.5), seed=3)
    small = gen.sample(1234, FairnessSpec(ie=0.5), seed=3)
    pd.testing.assert_frame_equal(big.iloc[:1234], small)


def test_progress_reports_batches(scm):
    _, _, _, gen, _ = scm
    calls = []
    gen.sample(12_000, seed=0, progress=lambda *a: calls.append(a))
    assert calls == [("sampling", 5000, 12_000), ("sampling", 10_000, 12_000), ("sampling", 12_000, 12_000)]


def test_cancel_raises_cancelled(scm):
    _, _, _, gen, _ = scm
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        gen.sample(100, seed=0, cancel=token)
    token = CancelToken()
    with pytest.raises(Cancelled):  # cancelled from the UI while the first batch reports
        gen.sample(20_000, seed=0, cancel=token, progress=lambda *a: token.cancel())


# ------------------------------------------------------------------------ bad input

def test_graph_table_mismatch_names_the_difference(scm):
    table, _, roles, _, _ = scm
    graph = CausalGraph(["z", "x", "w", "y", "bmi", "smoker"], [("x", "y")])
    with pytest.raises(InputError) as err:
        BayesNetGenerator().fit(table, graph, roles)
    msg = str(err.value)
    assert "smoker" in msg and "age" in msg and "\n" not in msg


@pytest.mark.parametrize("n", [0, -5, 2.5, "many"])
def test_bad_row_counts(scm, n):
    _, _, _, gen, _ = scm
    with pytest.raises(InputError):
        gen.sample(n)


def test_other_bad_inputs(scm):
    table, graph, roles, _, _ = scm
    with pytest.raises(InputError, match="not fitted"):
        BayesNetGenerator().sample(10)
    with pytest.raises(InputError, match="prior"):
        BayesNetGenerator(prior="uniform")
    with pytest.raises(InputError, match="max_bins"):
        BayesNetGenerator(max_bins=1)
    for bad in ({"cpd": "forest"}, {"cpd": "logistic", "prior": "BDeu"}, {"C": 0}, {"C": "strong"}):
        with pytest.raises(InputError):
            BayesNetGenerator(**bad)
    bad_roles = derive_roles(graph, "x", "y", x0="M", x1="Other")
    with pytest.raises(InputError, match="'Other'"):
        BayesNetGenerator().fit(table, graph, bad_roles)
    empty = Table(df=table.df.iloc[:0], schema=table.schema, name="empty", warnings=[])
    with pytest.raises(InputError, match="no rows"):
        BayesNetGenerator().fit(empty, graph, roles)
    gen = BayesNetGenerator().fit(table, graph, roles)
    with pytest.raises(InputError):
        gen.sample(10, fairness={"de": 1})


# ------------------------------------------------ wide families (the fairness backbone)

def backbone_graph(columns, z, x, w, y, within=()):
    """The standard fairness model's backbone by hand: z -> X, z -> w, X -> w, X -> Y, z -> Y,
    w -> Y, plus the given within-W edges."""
    edges = [(a, x) for a in z] + [(a, b) for a in z for b in w] + [(x, b) for b in w]
    edges += [(x, y)] + [(a, y) for a in (*z, *w)] + list(within)
    return CausalGraph(columns, edges)


def simulate_wide(n=6000, seed=0) -> pd.DataFrame:
    """Y with 14 parents: 3 confounders, X, 10 mediators (two numeric); X's direct effect +0.15."""
    rng = np.random.default_rng(seed)
    z = rng.binomial(1, 0.5, (n, 3))
    x = rng.binomial(1, 0.25 + 0.15 * z.sum(axis=1))
    w = rng.binomial(1, 0.2 + 0.3 * x[:, None] * (np.arange(8) % 2) + 0.1 * z[:, :1], (n, 8))
    bp = np.round(rng.normal(120 + 8 * x + 5 * z[:, 1], 12), 0)
    chol = np.round(rng.normal(200 + 10 * w[:, 0] - 6 * x, 25), 0)
    y = rng.binomial(1, 0.05 + 0.15 * x + 0.04 * w.sum(axis=1) + 0.05 * z[:, 2] + 0.1 * (bp > 130) + 0.05 * (chol > 210))
    df = pd.DataFrame({f"z{i}": z[:, i] for i in range(3)})
    df["x"] = np.where(x, "F", "M")
    for i in range(8):
        df[f"w{i}"] = w[:, i]
    df["bp"], df["chol"], df["y"] = bp, chol, y
    return df


@pytest.fixture(scope="module")
def wide():
    table = table_from_frame(simulate_wide(), name="wide")
    w = [f"w{i}" for i in range(8)] + ["bp", "chol"]
    graph = backbone_graph(list(table.df.columns), ["z0", "z1", "z2"], "x", w, "y",
                           within=[("w0", "chol"), ("w1", "w2"), ("w3", "bp")])
    roles = derive_roles(graph, "x", "y", x0="M", x1="F")
    return table, graph, roles, BayesNetGenerator().fit(table, graph, roles)


def test_wide_family_fits_without_a_table(wide):
    table, graph, roles, gen = wide
    card = gen.describe().set_index("column")
    assert len(gen.parents_["y"]) == 14
    assert card.loc["y", "cpd"] == "posterior (sparse)"  # a table would have 2 x 2^12 x 10 x 10 = 819,200 cells
    assert card.loc["y", "cpd_cells"] <= 2 * len(table.df)  # only the parent combinations seen in fitting
    assert card.loc["z0", "cpd"] == "table"


def test_wide_mirror_and_de_removal(wide):
    table, _, roles, gen = wide
    real = measure(table.df, roles)
    mirror = measure(gen.sample(8000, seed=1), roles)
    assert_close(real, mirror, EFFECTS)
    removed = measure(gen.sample(8000, FairnessSpec(de=1), seed=1), roles)
    assert_removed(removed, "ctf_de")
    assert_close(mirror, removed, ["ctf_ie", "ctf_se"])


def test_sparse_posterior_equals_the_pgmpy_table(scm):
    """The per-row posterior (large families) is the very estimator pgmpy tabulates (small ones)."""
    table, graph, roles, tabled, _ = scm
    sparse = BayesNetGenerator(max_cpd_cells=0).fit(table, graph, roles)
    assert set(sparse.describe()["cpd"]) == {"table", "posterior (sparse)"}  # roots stay tables
    rng = np.random.default_rng(0)
    for v in ("y", "w", "bmi"):
        codes = {p: rng.integers(0, tabled.cols_[p].card, 500) for p in tabled.parents_[v]}
        assert tabled.cpd_[v].kind == "table" and sparse.cpd_[v].kind == "posterior (sparse)"
        np.testing.assert_allclose(sparse.cpd_[v](codes, 500), tabled.cpd_[v](codes, 500), atol=1e-9)


def test_logistic_cpd_alone_also_reproduces_the_scm(scm):
    table, graph, roles, _, real = scm
    gen = BayesNetGenerator(cpd="logistic").fit(table, graph, roles)
    assert set(gen.describe()["cpd"]) == {"logistic"}
    assert_close(real, measure(gen.sample(8000, seed=1), roles), EFFECTS)


# --------------------------------------------- the generator's own counterfactual effects

def test_generator_effects_match_the_known_scm_and_the_edits(scm):
    """simulate_scm's Y is linear in X: its true Ctf-DE is +0.2 for everyone."""
    _, _, roles, gen, real = scm
    mirror = gen.effects(100_000)
    assert abs(mirror["ctf_de"] - 0.2) < 3 * real.loc["ctf_de", "se"]
    for e in EFFECTS:
        assert abs(mirror[e] - real.loc[e, "estimate"]) < 3 * real.loc[e, "se"], e
    assert mirror["tv"] == pytest.approx(mirror["ctf_de"] - mirror["ctf_ie"] - mirror["ctf_se"], abs=1e-12)
    de = gen.effects(100_000, FairnessSpec(de=1))
    assert de["ctf_de"] == 0.0 and de["ctf_ie"] == mirror["ctf_ie"] and de["ctf_se"] == mirror["ctf_se"]
    ie = gen.effects(100_000, FairnessSpec(ie=1))  # (its Ctf-DE moves: W's distribution changed)
    assert ie["ctf_ie"] == 0.0 and abs(mirror["ctf_ie"]) > 0.05
    se = gen.effects(100_000, FairnessSpec(se=1))
    assert abs(se["ctf_se"]) < 0.01 and abs(mirror["ctf_se"]) > 0.05
    assert gen.effects(50_000, seed=4) == gen.effects(50_000, seed=4)


def test_outcome_by_x_fits_an_effect_that_differs_by_group():
    """The ablation knob `outcome_by_x`: an outcome whose dependence on a parent reverses
    between the groups (XOR-like, no main effects) is out of reach of the main-effects logistic
    model and is fitted by the interacted one (logistic CPDs alone, so no counts help)."""
    rng = np.random.default_rng(0)
    n = 6000
    x = rng.integers(0, 2, n)
    a = rng.integers(0, 2, n)
    truth = np.array([[0.2, 0.8], [0.8, 0.2]])  # P(y = 1 | x, a)
    y = (rng.random(n) < truth[x, a]).astype(int)
    table = table_from_frame(pd.DataFrame({"x": np.where(x == 1, "b", "a"), "a": np.where(a == 1, "q", "p"), "y": y}), "xor")
    graph = CausalGraph(["x", "a", "y"], [("x", "y"), ("a", "y")])
    roles = derive_roles(graph, "x", "y", "a", "b")
    for by_x, worst in ((False, 0.25), (True, 0.03)):
        gen = BayesNetGenerator(cpd="logistic", outcome_by_x=by_x).fit(table, graph, roles)
        cpd = gen.cpd_["y"]
        xs, as_ = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
        codes = {"x": gen.cols_["x"].encode(pd.Series(np.where(xs == 1, "b", "a"))),
                 "a": gen.cols_["a"].encode(pd.Series(np.where(as_ == 1, "q", "p")))}
        one = gen.cols_["y"].encode(pd.Series([1]))[0]
        err = np.abs(cpd(codes, 4)[:, one] - truth[xs, as_]).max()
        assert (err < worst) if by_x else (err > worst), (by_x, err)


# --------------------------------------------- the prior strength, chosen per column by cross-validation

def _family(n: int, interaction: bool, seed: int = 0):
    """y on three 6-state parents: additive in the logit (the logistic centre is right, so
    counts in 216 thin combinations only add noise) or an XOR-like parity of the parents that
    no main effect can express (the counts are right once each combination has many rows)."""
    from faircause_core.generators.columns import fit_columns

    rng = np.random.default_rng(seed)
    a, b, c = (rng.integers(0, 6, n) for _ in range(3))
    logit = 2.0 * ((a + b + c) % 2) - 1.0 if interaction else 0.5 * a - 0.4 * b + 0.3 * c - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * logit))).astype(int)
    table = table_from_frame(pd.DataFrame({"a": a.astype(str), "b": b.astype(str), "c": c.astype(str),
                                           "y": y.astype(str)}), name="family")
    cols, codes = fit_columns(table, list(table.df.columns), 10)
    return codes, cols


def test_cross_validation_picks_a_strong_prior_for_an_additive_family_and_a_weak_one_for_an_interaction():
    from faircause_core.generators.bayesnet import cv_strength
    from faircause_core.generators.strength import STRENGTHS

    codes, cols = _family(600, interaction=False)
    additive, loss = cv_strength(codes, "y", ["a", "b", "c"], cols, 1.0)
    # a stronger prior than the fixed 5 it replaced, and far from the counts alone (measured: 20)
    # (the one-standard-error rule may take a stronger prior than the loss's minimum: never a weaker one)
    assert additive >= 10 and len(loss) == len(STRENGTHS) and additive >= STRENGTHS[int(np.argmin(loss))]
    assert loss[0] - loss.min() > 10 and loss[STRENGTHS.index(5.0)] > loss.min()
    codes, cols = _family(20_000, interaction=True)
    parity, loss = cv_strength(codes, "y", ["a", "b", "c"], cols, 1.0)
    assert parity <= 5 and loss[STRENGTHS.index(parity)] < loss[STRENGTHS.index(1000.0)]


def test_the_chosen_strengths_fit_the_demos_held_out_rows_better_than_a_fixed_five(demo):
    """The default (equivalent_sample_size="cv") against the fixed 5 it replaced, on the demo's
    held-out 30%: the summed per-row log loss gain's 95% interval is above 0 (measured +0.52,
    SE 0.05 nats a row), the model card names each column's strength, the network's own
    effects stay within 0.01 of the fixed prior's, and a refit chooses the same strengths."""
    from faircause_core.workflow.pipeline import split_holdout

    table, roles, _, _ = demo
    graph = CausalGraph.load(DEMO_DAG)
    fit, holdout = split_holdout(table, 0.3, 0)
    chosen = BayesNetGenerator().fit(fit, graph, roles)
    fixed = BayesNetGenerator(equivalent_sample_size=5).fit(fit, graph, roles)

    def loss(gen):
        codes = {c: gen.cols_[c].encode(holdout[c]) for c in gen.columns_}
        return sum(-np.log(gen.cpd_[v](codes, len(holdout))[np.arange(len(holdout)), codes[v]]) for v in gen.order_)

    gain = loss(fixed) - loss(chosen)
    assert gain.mean() - 1.96 * gain.std(ddof=1) / np.sqrt(len(gain)) > 0, gain.mean()
    card = chosen.describe().set_index("column")["prior_strength"]
    assert set(card) > {5.0} and card["income_bracket"] >= 100  # not the fixed 5 everywhere
    assert set(fixed.describe()["prior_strength"]) == {5.0}  # control: a given strength is kept
    own, own_fixed = chosen.effects(50_000), fixed.effects(50_000)
    assert all(abs(own[e] - own_fixed[e]) < 0.01 for e in EFFECTS), (own, own_fixed)
    again = BayesNetGenerator().fit(fit, graph, roles).describe()["prior_strength"]
    assert list(again) == list(card)


def test_a_strength_that_is_not_a_positive_number_or_cv_is_refused():
    for bad in ("auto", 0, -1, None):
        with pytest.raises(InputError, match="equivalent_sample_size"):
            BayesNetGenerator(equivalent_sample_size=bad)


@pytest.mark.parametrize("n,parents,card", [(20_000, 99, 10), (2_000, 40, 3), (30_000, 5, 4), (100, 1, 2)])
def test_seen_parent_combinations_match_pandas_exactly(n, parents, card):
    """_Combos (exact mixed-radix ids, renumbered before 2**62) groups the fitting rows as a
    pandas MultiIndex does and finds a batch's combinations, -1 for those never seen: with 99
    parents it renumbers several times (the case whose MultiIndex held 8 KB a row)."""
    import pandas as pd

    from faircause_core.generators.bayesnet import _Combos

    rng = np.random.default_rng(n + parents)
    dims = [int(d) for d in rng.integers(2, card + 1, parents)]
    cols = [rng.integers(0, d, n) for d in dims]
    combos = _Combos(cols, dims)
    index = pd.MultiIndex.from_arrays(cols)
    seen = index.unique()
    ours, theirs = combos.rows, seen.get_indexer(index)
    assert len(combos) == len(seen) and len(set(zip(ours.tolist(), theirs.tolist()))) == len(seen)
    batch = [np.concatenate([c[:300], rng.integers(0, d, 300)]) for c, d in zip(cols, dims)]
    a, b = combos.lookup(batch), seen.get_indexer(pd.MultiIndex.from_arrays(batch))
    same_id = dict(zip(theirs.tolist(), ours.tolist()))
    assert np.array_equal(a >= 0, b >= 0) and all(same_id[j] == i for i, j in zip(a.tolist(), b.tolist()) if j >= 0)
    if parents >= 40:
        assert (a[300:] < 0).any()  # random combinations of 40 or 99 parents: some never seen
    if parents == 99:
        assert sum(s[0] == "dense" for s in combos.steps) > 2  # renumbered on the way, not only at the end
