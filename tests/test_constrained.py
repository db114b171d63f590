"""Constrained decoding: only allowed values, right precision, deterministic, exact cache."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from faircause_core.generators.lm import store as lm_store
from faircause_core.generators.lm.constrained import RowDecoder, ValueVocabulary, infer_decimals, sample_values
from faircause_core.errors import InputError


@pytest.fixture(scope="module")
def tiny():
    model, tokenizer, _ = lm_store.load_model(lm_store.tiny_test_model(seed=0), device="cpu")
    return model, tokenizer


def ids(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def plain_logits(model, tokens):
    with torch.inference_mode():
        return model(torch.tensor([tokens])).logits[0, -1]


# vocabularies ------------------------------------------------------------------------
def test_numeric_range_is_every_value_at_precision():
    v = ValueVocabulary.numeric_range(18, 90, 0, column="age")
    assert len(v) == 73 and v.texts[0] == "18" and v.texts[-1] == "90"
    w = ValueVocabulary.numeric_range(36.2, 40.0, 1, column="weight", missing=True)
    assert w.texts[:3] == ["36.2", "36.3", "36.4"] and w.texts[-2] == "40.0"
    assert w.texts[-1] == "missing" and math.isnan(w.values[-1])
    assert w.text_of(37.04) == "37.0" and w.text_of(float("nan")) == "missing"
    neg = ValueVocabulary.numeric_range(-1.5, 1.5, 1, column="z")
    assert "0.0" in neg.texts and "-0.0" not in neg.texts and "-1.5" in neg.texts


def test_numeric_range_is_coarsened_past_the_limit():
    v = ValueVocabulary.numeric_range(0.0, 10_000.0, 2, column="income")  # 1,000,001 values at 0.01
    assert 1_000 < len(v) <= 20_000
    values = np.array(v.values)
    assert values.min() >= 0 and values.max() <= 10_000
    steps = np.diff(values)
    assert np.allclose(steps, steps[0])  # one round step (1, 2 or 5 x 10^k)
    assert v.text_of(1234.567) in v.texts


def test_categories_keep_their_values_and_text_stays_unambiguous():
    v = ValueVocabulary.categorical(["Black, or other", "White", "Missing"], column="race", missing=True)
    assert v.texts[0] == "Black; or other"  # no terminator inside a value
    assert v.missing_text not in ("Missing", "missing")  # a real category is not the missing token
    assert v.values[0] == "Black, or other" and v.text_of("White") == "White"
    numeric_codes = ValueVocabulary.categorical([0, 1], column="death")
    assert numeric_codes.texts == ["0", "1"] and numeric_codes.text_of(1.0) == "1"
    assert ValueVocabulary.categorical([11.0, 12.0], column="income").texts == ["11", "12"]
    with pytest.raises(InputError, match="death"):
        numeric_codes.text_of(7)


def test_for_column_uses_schema_or_data():
    s = pd.Series([1.25, 2.5, np.nan, 3.75] * 10, name="dose")
    v = ValueVocabulary.for_column(s, include_missing=None)
    assert v.numeric is False  # few distinct values: treated as categories
    s2 = pd.Series(np.round(np.linspace(10, 20, 50), 1), name="bmi")
    v2 = ValueVocabulary.for_column(s2)
    assert v2.numeric and v2.texts[0] == "10.0" and v2.texts[-1] == "20.0" and v2.missing_text is None
    assert infer_decimals([1.0, 2.5, 3.25]) == 2 and infer_decimals([1.0, 2.0]) == 0
    with pytest.raises(InputError, match="empty_col"):
        ValueVocabulary.for_column(pd.Series([np.nan, np.nan], name="empty_col", dtype=object))


def test_trie_is_prefix_free_and_matches_tokenizer(tiny):
    _, tokenizer = tiny
    v = ValueVocabulary.numeric_range(1, 120, 0, column="n", missing=True).build(tokenizer)
    assert v.token_ids[v.texts.index("63")] == ids(tokenizer, " 63,")
    for i, seq in enumerate(v.token_ids):  # walking any value's tokens ends at that value
        node = 0
        for tok in seq:
            node = v.children[node][tok]
        assert v.leaf[node] == i and not v.children[node]
    chain, _ = v.forced_chain(0)
    assert chain == []  # root branches: numbers (" ") or " missing"


# decoder -------------------------------------------------------------------------------
def test_ragged_rows_with_holes_equal_plain_forward(tiny):
    model, tokenizer = tiny
    a, b = ids(tokenizer, "sex is Female, age is"), ids(tokenizer, "The capital of France is Paris and")
    dec = RowDecoder(model, tokenizer).start([a, b])
    dec.feed([[216, 38], []])
    dec.feed([[], [216]])
    dec.feed([[35], [38, 35]])
    assert torch.allclose(dec.last_logits[0], plain_logits(model, a + [216, 38, 35]), atol=1e-4)
    assert torch.allclose(dec.last_logits[1], plain_logits(model, b + [216, 38, 35]), atol=1e-4)


def test_fork_writes_a_counterfactual_copy(tiny):
    model, tokenizer = tiny
    head, female, male = ids(tokenizer, "sex is"), ids(tokenizer, " Female,"), ids(tokenizer, " Male,")
    tail = ids(tokenizer, " age is")
    dec = RowDecoder(model, tokenizer).start([head])
    before = dec.length
    dec.feed([female])
    (copy,) = dec.fork([0], since=before)
    dec.feed([[], male])
    dec.feed([tail, tail])
    assert torch.allclose(dec.last_logits[0], plain_logits(model, head + female + tail), atol=1e-4)
    assert torch.allclose(dec.last_logits[copy], plain_logits(model, head + male + tail), atol=1e-4)


def test_hidden_columns_do_not_influence_later_tokens(tiny):
    model, tokenizer = tiny
    head = ids(tokenizer, "x is")
    one, two = ids(tokenizer, " Female,"), ids(tokenizer, " Males,")
    assert len(one) == len(two)
    dec = RowDecoder(model, tokenizer).start([head, head])
    dec.feed([one, two], col=0)
    dec.feed([ids(tokenizer, " y is")] * 2, col=1, hide=[0])
    assert torch.allclose(dec.last_logits[0], dec.last_logits[1], atol=1e-5)
    shown = RowDecoder(model, tokenizer).start([head, head])
    shown.feed([one, two], col=0)
    shown.feed([ids(tokenizer, " y is")] * 2, col=1)
    assert not torch.allclose(shown.last_logits[0], shown.last_logits[1], atol=1e-5)


def test_sampling_returns_only_allowed_values(tiny):
    model, tokenizer = tiny
    prompts = [ids(tokenizer, "age is"), ids(tokenizer, "Patient, age is"), ids(tokenizer, "a")] * 8
    ages = ValueVocabulary.numeric_range(25.5, 74.0, 1, column="age", missing=True)
    values = sample_values(model, tokenizer, prompts, ages, rng=0)
    assert len(values) == len(prompts)
    seen = [v for v in values if not math.isnan(v)]
    assert any(math.isnan(v) for v in values)  # the missing token is reachable
    assert seen and all(25.5 <= v <= 74.0 and round(v, 1) == v for v in seen)
    cats = ValueVocabulary.categorical(["Little or none", "Moderate", "Much"], column="exercise")
    picks = sample_values(model, tokenizer, prompts, cats, rng=np.random.default_rng(3))
    assert set(picks) <= {"Little or none", "Moderate", "Much"} and len(set(picks)) > 1


def test_sampling_is_deterministic_for_a_seed(tiny):
    model, tokenizer = tiny
    prompts = [ids(tokenizer, "cholesterol is")] * 16
    vocab = ValueVocabulary.numeric_range(78, 416, 0, column="cholesterol")
    first = sample_values(model, tokenizer, prompts, vocab, rng=7)
    assert first == sample_values(model, tokenizer, prompts, vocab, rng=7)
    assert first != sample_values(model, tokenizer, prompts, vocab, rng=8)


def test_greedy_picks_the_likeliest_value(tiny):
    model, tokenizer = tiny
    prompt = ids(tokenizer, "sex is")
    cats = ValueVocabulary.categorical(["Female", "Male"], column="sex").build(tokenizer)
    logits = plain_logits(model, prompt)
    # both values are single tokens plus the terminator, so the first token decides
    first = [seq[0] for seq in cats.token_ids]
    expected = cats.values[int(torch.argmax(logits[first]))]
    assert sample_values(model, tokenizer, [prompt], cats, temperature=0) == [expected]


def test_single_value_column_needs_no_sampling(tiny):
    model, tokenizer = tiny
    only = ValueVocabulary.categorical(["Yes"], column="consent")
    dec = RowDecoder(model, tokenizer).start([ids(tokenizer, "consent is")] * 3)
    before = dec.n_forward
    assert dec.sample(only, generator=0) == [0, 0, 0]
    assert dec.n_forward == before + 1  # one forward to put the forced text in the cache
