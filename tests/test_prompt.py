"""Prompt mode end to end with the tiny model: valid rows, seeded, pathway edits act."""

import numpy as np
import pandas as pd
import pytest

from faircause_core.generators.lm import store as lm_store
from faircause_core.io.data import load_table, table_from_frame
from faircause_core.errors import InputError
from faircause_core.generators.base import CancelToken, Cancelled, FairnessSpec
from faircause_core.generators.prompt import PromptGenerator
from faircause_core.causal.graph import CausalGraph, derive_roles

COLUMNS = ["sex", "age", "race", "smoke_intensity", "exercise", "cholesterol", "weight_kg_1971", "death"]
EDGES = [
    ("age", "sex"), ("sex", "smoke_intensity"), ("age", "smoke_intensity"), ("sex", "exercise"),
    ("sex", "death"), ("age", "death"), ("smoke_intensity", "death"), ("exercise", "death"),
    ("race", "weight_kg_1971"), ("sex", "weight_kg_1971"), ("age", "cholesterol"),
]


@pytest.fixture(scope="module")
def tiny_dir():
    return lm_store.tiny_test_model(seed=0)


@pytest.fixture(scope="module")
def cohort():
    df = load_table("assets/nhefs_cohort.csv").df[COLUMNS].head(80).copy()
    df.loc[df.index[::4], "cholesterol"] = np.nan  # 25% missing
    table = table_from_frame(df, name="nhefs")
    graph = CausalGraph(COLUMNS, EDGES)
    return table, graph, derive_roles(graph, "sex", "death", "Female", "Male")


@pytest.fixture(scope="module")
def fitted(tiny_dir, cohort):
    return PromptGenerator(model_dir=tiny_dir, n_examples=4, batch_size=16).fit(*cohort)


def assert_valid(out: pd.DataFrame, table):
    assert list(out.columns) == list(table.df.columns)
    for c in out.columns:
        schema = table.schema[c]
        seen = out[c].dropna()
        if schema.is_numeric:
            assert out[c].dtype == np.float64
            assert seen.between(schema.minimum, schema.maximum).all(), c
            assert np.allclose(seen, seen.round(schema.decimals)), c
        else:
            assert set(seen) <= set(table.df[c].dropna()), c
        if table.df[c].notna().all():
            assert out[c].notna().all(), c


def test_rows_are_valid_and_missing_at_the_real_rate(fitted, cohort):
    table = cohort[0]
    out = fitted.sample(48, seed=0)
    assert len(out) == 48
    assert_valid(out, table)
    assert 0.06 <= out["cholesterol"].isna().mean() <= 0.45  # real rate 0.25, 48 rows
    assert out["sex"].nunique() == 2 and out["exercise"].nunique() > 1


def test_seeded(fitted):
    a = fitted.sample(10, seed=5)
    pd.testing.assert_frame_equal(a, fitted.sample(10, seed=5))
    assert not a.equals(fitted.sample(10, seed=6))


@pytest.mark.parametrize("reference", ["x0", "x1", "marginal"])
def test_pathway_edits_run_and_stay_valid(fitted, cohort, reference):
    spec = FairnessSpec(de=1.0, ie=0.5, se=1.0, reference=reference)
    out = fitted.sample(20, fairness=spec, seed=1)
    assert_valid(out, cohort[0])
    assert fitted.ie_columns == ["smoke_intensity", "exercise"]


def test_progress_per_batch_and_cancel(fitted):
    seen = []
    fitted.sample(20, seed=0, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert [s for s in seen if s[0] == "writing rows"] == [("writing rows", 0, 20), ("writing rows", 16, 20),
                                                           ("writing rows", 20, 20)]
    token = CancelToken()

    def cancel_after_first(stage, done, total):
        if done >= 16:
            token.cancel()

    with pytest.raises(Cancelled):
        fitted.sample(40, seed=0, progress=cancel_after_first, cancel=token)


# Greedy decoding makes the model a deterministic function of what each column sees, so
# the edits can be checked exactly: X varies only through the SE draw (forced text).
SYMBOLS = ["red", "blue", "green", "black", "white", "brown", "pink", "gray", "gold", "silver"]


@pytest.fixture(scope="module")
def sharp(tiny_dir, tmp_path_factory):
    """Large random weights: this seed's output after "group is ..." depends on the group."""
    return lm_store.tiny_model(tiny_dir, tmp_path_factory.mktemp("sharp") / "model", seed=4, init_range=0.5)


def toy(model_dir, with_outcome: bool) -> PromptGenerator:
    rng = np.random.default_rng(0)
    n = 40
    df = pd.DataFrame({
        "site": rng.choice(["north", "south"], n),
        "group": rng.choice(["Female", "Male"], n),  # same token length: aligned positions
        "habit": rng.choice(SYMBOLS, n),
    })
    edges = [("site", "group"), ("group", "habit")]
    if with_outcome:
        df["outcome"] = rng.choice(SYMBOLS, n)
        edges += [("group", "outcome"), ("habit", "outcome")]
    graph = CausalGraph(list(df.columns), edges)
    roles = derive_roles(graph, "group", "outcome" if with_outcome else "habit", "Female", "Male")
    gen = PromptGenerator(model_dir=model_dir, n_examples=3, batch_size=64, temperature=0)
    return gen.fit(table_from_frame(df, name="toy"), graph, roles)


def mapping(out, src, dst):
    """src value -> the single dst value it leads to (fails if not a function)."""
    pairs = out.groupby(src)[dst].unique()
    assert all(len(v) == 1 for v in pairs), pairs
    return {k: v[0] for k, v in pairs.items()}


def test_spurious_edit_draws_x_from_its_marginal(sharp):
    gen = toy(sharp, with_outcome=False)
    kept = gen.sample(30, seed=2)
    assert kept["group"].nunique() == 1  # greedy: X is a function of the prompt alone
    drawn = gen.sample(30, FairnessSpec(se=1.0), seed=2)
    assert drawn["group"].nunique() == 2


def test_direct_edit_writes_y_as_if_x_were_x_star(sharp):
    gen = toy(sharp, with_outcome=False)  # Y = habit, a child of X
    base = gen.sample(30, FairnessSpec(se=1.0), seed=2)
    y_of = mapping(base, "group", "habit")
    assert y_of["Female"] != y_of["Male"], "the test model must tell the groups apart"
    for reference, group in (("x0", "Female"), ("x1", "Male")):
        edited = gen.sample(30, FairnessSpec(se=1.0, de=1.0, reference=reference), seed=2)
        assert edited["group"].tolist() == base["group"].tolist()  # same SE draws
        assert (edited["habit"] == y_of[group]).all()
    half = gen.sample(30, FairnessSpec(se=1.0, de=0.5, reference="x0"), seed=2)
    males = half[half["group"] == "Male"]["habit"]
    assert set(males) == {y_of["Male"], y_of["Female"]}  # alpha 0.5: a mixture of both
    assert (half[half["group"] == "Female"]["habit"] == y_of["Female"]).all()


def test_indirect_edit_writes_mediators_as_if_x_were_x_star(sharp):
    gen = toy(sharp, with_outcome=True)  # habit is a mediator and a child of X
    assert gen.ie_columns == ["habit"]
    base = gen.sample(30, FairnessSpec(se=1.0), seed=2)
    habit_of = mapping(base, "group", "habit")
    assert habit_of["Female"] != habit_of["Male"], "the test model must tell the groups apart"
    edited = gen.sample(30, FairnessSpec(se=1.0, ie=1.0, reference="x1"), seed=2)
    assert edited["group"].tolist() == base["group"].tolist()
    assert (edited["habit"] == habit_of["Male"]).all()
    males = (edited["group"] == "Male").to_numpy()
    # rows whose X already is x* are untouched
    assert edited["outcome"][males].tolist() == base["outcome"][males].tolist()


def test_bad_inputs_are_one_line(tiny_dir, cohort, tmp_path):
    table, graph, roles = cohort
    with pytest.raises(InputError, match="fitted"):
        PromptGenerator(model_dir=tiny_dir).sample(5)
    bigger = CausalGraph(COLUMNS + ["bmi"], EDGES)
    with pytest.raises(InputError, match="bmi"):
        PromptGenerator(model_dir=tiny_dir).fit(table, bigger, roles)
    with pytest.raises(InputError, match="example rows"):
        PromptGenerator(n_examples=0)
    gen = PromptGenerator(model_dir=tmp_path / "no_model").fit(table, graph, roles)
    with pytest.raises(InputError, match="no_model"):
        gen.sample(5)
    fitted = PromptGenerator(model_dir=tiny_dir).fit(table, graph, roles)
    with pytest.raises(InputError, match="rows"):
        fitted.sample(0)
