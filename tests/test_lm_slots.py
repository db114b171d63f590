"""Slot encoding + DAG mask: the model honours the 4D mask, and the cached-prefix query
path equals the full-row formulation. Tiny random Llama with the real tokenizer."""

import numpy as np
import pandas as pd
import pytest
import torch

from faircause_core.generators.lm import store as lm_store
from faircause_core.io.data import table_from_frame
from faircause_core.errors import InputError
from faircause_core.causal.graph import CausalGraph
from faircause_core.generators.lm.slots import MISSING_TEXT, SlotLayout, SlotLM
from tests.lm_checks import assert_query_path_equals_rows

torch.set_num_threads(1)  # tiny matmuls: one thread avoids spin-waiting on a shared machine

# a -> b -> d, a -> d; c is a non-parent of d that comes before it in the order.
EDGES = [("a", "b"), ("b", "d"), ("a", "d"), ("a", "c")]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = lm_store.tiny_model(None, tmp_path_factory.mktemp("lm") / "tiny", seed=3)
    return lm_store.load_model(folder, "cpu")


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    n = 120
    a = rng.choice(["lo", "mid", "hi"], n)
    b = rng.normal(50, 10, n).round(1)
    c = rng.integers(0, 2, n)
    d = np.where(rng.random(n) < 0.5, "yes", "no").astype(object)
    d[:7] = None
    return table_from_frame(pd.DataFrame({"a": a, "b": b, "c": c, "d": d}), name="toy.csv")


@pytest.fixture(scope="module")
def slot_lm(tiny, table):
    model, tokenizer, _ = tiny
    torch.manual_seed(0)
    layout = SlotLayout(table, CausalGraph(list("abcd"), EDGES), max_bins=6)
    slot_lm = SlotLM(model, tokenizer, layout).eval()
    with torch.no_grad():  # a trained-looking skip path and an open gate: the tests cover both
        slot_lm.parent_skip.normal_(0, 0.5)
        slot_lm.value_bias.normal_(0, 0.5)
        slot_lm.lm_gate.fill_(1.0)
    return slot_lm


def test_layout_values_order_and_missing(slot_lm, table):
    lay = slot_lm.layout
    assert lay.order.index("a") < lay.order.index("b") < lay.order.index("d")
    assert lay.value_texts("d") == ["no", "yes", MISSING_TEXT]
    assert MISSING_TEXT not in lay.value_texts("a")
    labels = lay.value_texts("b")
    assert len(labels) == 6 and " to " in labels[0]
    codes = lay.encode(table.df)
    assert codes.shape == (len(table.df), 4)
    assert (codes[:, lay.index["d"]] == 2).sum() == 7  # missing is its own, learned value
    back = lay.decode(codes, np.random.default_rng(0).random(codes.T.shape))
    assert list(back.columns) == list(table.df.columns)
    assert back["d"].isna().sum() == 7
    assert set(back["b"]).issubset(set(table.df["b"]))  # numbers come back as observed values
    for i, c in enumerate(lay.order):
        assert codes[:, i].max() < lay.cols[c].card


def test_query_path_equals_row_formulation(slot_lm, table):
    """One query token over cached value slots == the full row with the 4D DAG mask; this
    also shows transformers 5 passes the custom 4D mask through unchanged."""
    assert_query_path_equals_rows(slot_lm, slot_lm.layout.encode(table.df.iloc[:6]))


def _dist(slot_lm, codes, column):
    with torch.no_grad():
        return slot_lm.row_logprobs(torch.as_tensor(codes))[:, slot_lm.layout.index[column]].exp()


def test_mask_hides_non_parents_and_shows_parents(slot_lm, table):
    lay = slot_lm.layout
    base = lay.encode(table.df.iloc[:1])
    ref = _dist(slot_lm, base, "d")
    # c (a non-parent that precedes d) and d's own value: no change at d's query.
    for col in ("c", "d"):
        other = base.copy()
        i = lay.index[col]
        other[0, i] = (other[0, i] + 1) % lay.cols[col].card
        assert torch.allclose(_dist(slot_lm, other, "d"), ref, atol=1e-6), col
    # a and b are parents of d: changing either changes d's distribution.
    for col in ("a", "b"):
        other = base.copy()
        i = lay.index[col]
        other[0, i] = (other[0, i] + 1) % lay.cols[col].card
        assert (_dist(slot_lm, other, "d") - ref).abs().max() > 1e-4, col
    # b's query sees only a: changing c does not move it, changing a does.
    other = base.copy()
    other[0, lay.index["c"]] = 1 - other[0, lay.index["c"]]
    assert torch.allclose(_dist(slot_lm, other, "b"), _dist(slot_lm, base, "b"), atol=1e-6)


def test_column_probs_dedupes_and_matches(slot_lm, table):
    lay = slot_lm.layout
    codes = lay.encode(table.df)
    kv = slot_lm.prefix_kv()
    slots = lay.parent_slots("d", {p: codes[:, lay.index[p]] for p in lay.order})
    probs = slot_lm.column_probs(kv, "d", slots, chunk=7)
    assert probs.shape == (len(codes), 3)
    assert np.allclose(probs.sum(1), 1.0)
    first = slot_lm.column_probs(kv, "d", slots[:1])
    assert np.allclose(probs[0], first[0], atol=1e-6)


def test_graph_and_table_must_match(table):
    with pytest.raises(InputError, match="only in graph: e"):
        SlotLayout(table, CausalGraph(list("abcde"), EDGES))
    with pytest.raises(InputError, match="only in table: d"):
        SlotLayout(table, CausalGraph(list("abc"), EDGES[:1]))


def test_unique_rows_is_numpys_unique_over_rows_in_the_same_order():
    """slots.unique_rows replaces np.unique(axis=0) in the language model's hot loops: the same
    rows, order, inverse and counts on random integer arrays (negative values and one column
    included); the negative control, sorting with column 0 as the last key instead of the
    first, gives another order, so the comparison can tell."""
    from faircause_core.generators.lm.slots import unique_rows

    rng = np.random.default_rng(0)
    for n, width, high in [(4000, 6, 4), (300, 1, 5), (1, 3, 2), (2000, 3, 2)]:
        a = rng.integers(-2, high, (n, width))
        want = np.unique(a, axis=0, return_inverse=True, return_counts=True)
        got = unique_rows(a, return_counts=True)
        assert all(np.array_equal(w.reshape(-1), g.reshape(-1)) for w, g in zip(want, got))
        assert np.array_equal(unique_rows(a)[1], want[1].reshape(-1))
    a = rng.integers(0, 3, (500, 3))
    wrong = a[np.lexsort(a.T)]  # column 0 as the least significant key
    assert not np.array_equal(np.unique(wrong, axis=0), wrong[np.r_[True, np.any(wrong[1:] != wrong[:-1], axis=1)]])
