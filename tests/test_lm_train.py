"""Fine-tuning: merged queries give the exact row loss, training learns, freezing freezes,
and the on-disk cache restores the same weights under a key that tracks its inputs."""

import numpy as np
import pandas as pd
import pytest
import torch

from faircause_core.generators.lm import store as lm_store
from faircause_core.io.data import table_from_frame
from faircause_core.errors import InputError
from faircause_core.causal.graph import CausalGraph
from faircause_core.generators.lm.slots import SlotLayout, SlotLM
from faircause_core.generators.lm.train import (
    TrainSettings, batch_loss, cache_key, data_hash, fit_skip_tables, load_cached, save_cached, train, trainable_state,
)

torch.set_num_threads(1)

GRAPH = CausalGraph(["g", "m", "o"], [("g", "m"), ("g", "o"), ("m", "o")])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return lm_store.tiny_model(None, tmp_path_factory.mktemp("lm") / "tiny", seed=1)


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(5)
    n = 400
    g = rng.choice(["F", "M"], n)
    m = np.where(g == "M", rng.normal(3, 1, n), rng.normal(0, 1, n)).round(2)
    o = np.where(rng.random(n) < np.where(m > 1.5, 0.8, 0.2), "yes", "no")
    return table_from_frame(pd.DataFrame({"g": g, "m": m, "o": o}), name="train.csv")


def _slot_lm(folder, table, seed=0):
    model, tokenizer, _ = lm_store.load_model(folder, "cpu")
    torch.manual_seed(seed)
    return SlotLM(model, tokenizer, SlotLayout(table, GRAPH, max_bins=5))


def test_merged_batch_loss_equals_row_loss(folder, table):
    slot_lm = _slot_lm(folder, table).eval()
    with torch.no_grad():  # open the gate: the LM's logits take part
        slot_lm.lm_gate.fill_(1.0)
    codes = slot_lm.layout.encode(table.df)
    rows = np.arange(40)
    with torch.no_grad():
        merged = batch_loss(slot_lm, codes, rows)
        logp = slot_lm.row_logprobs(torch.as_tensor(codes[rows]))
        lay = slot_lm.layout
        target = torch.as_tensor(codes[rows] + np.array([lay.offset[c] for c in lay.order]))
        row_loss = -logp.gather(2, target[..., None]).mean()
    assert torch.allclose(merged, row_loss, atol=1e-5)


def test_training_learns_and_freezing_freezes(folder, table):
    slot_lm = _slot_lm(folder, table)
    codes = slot_lm.layout.encode(table.df)
    before = {k: v.detach().clone() for k, v in slot_lm.named_parameters()}
    seen = []
    settings = TrainSettings(steps=60, batch_size=64, lr=3e-3, slot_lr=1e-2, freeze_layers=1, patience=100)
    stats = train(slot_lm, codes, settings, progress=lambda stage, done, total: seen.append((stage, done, total)))
    # The logistic start already learns the main effects (far below the untrained model's
    # log of the value counts); the residual is kept only where held-out rows support it.
    lay = slot_lm.layout
    untrained = float(np.mean([np.log(lay.cols[c].card) for c in lay.order]))
    assert stats["steps"] == 60 and stats["logistic_loss"] < untrained - 0.15
    assert stats["val_rows"] == 60 and stats["val_loss"] <= stats["val_loss_logistic"]
    assert seen[0] == ("fine-tuning", 0, 60) and seen[-1] == ("fine-tuning", 60, 60)
    after = dict(slot_lm.named_parameters())
    layer0 = [k for k in before if ".layers.0." in k]
    layer1 = [k for k in before if ".layers.1." in k]
    assert layer0 and all(torch.equal(before[k], after[k]) for k in layer0)
    assert torch.equal(before["lm.model.embed_tokens.weight"], after["lm.model.embed_tokens.weight"])
    # Lower layers frozen: so are the input slots (the backward stops at layer 1).
    assert torch.equal(before["value_in"], after["value_in"]) and torch.equal(before["query_in"], after["query_in"])
    if stats["best_step"] > 0:  # the kept state is a trained one
        assert any(not torch.equal(before[k], after[k]) for k in layer1 + ["value_out", "lm_gate"])


def test_early_stopping_keeps_the_best_held_out_state_and_drops_unhelpful_columns(folder, table):
    """A random-weight residual that cannot beat the logistic model on held-out rows is
    stopped after `patience` evaluations, and every column falls back to the logistic model
    exactly (gate 0, no transformer run)."""
    slot_lm = _slot_lm(folder, table)
    codes = slot_lm.layout.encode(table.df)
    settings = TrainSettings(steps=400, batch_size=32, eval_every=2, patience=2, min_gain=10.0)
    stats = train(slot_lm, codes, settings)
    assert stats["steps"] < 400 and stats["lm_columns"] == []  # no column gains 10 nats
    assert not slot_lm.lm_on.any() and torch.all(slot_lm.lm_gate == 0) and slot_lm.prefix_kv() == []
    assert stats["val_loss"] == stats["val_loss_logistic"]


def test_cancel_stops_training_within_a_step(folder, table):
    from faircause_core.generators.base import CancelToken, Cancelled

    slot_lm = _slot_lm(folder, table)
    token = CancelToken()
    seen = []

    def progress(stage, done, total):
        seen.append(done)
        if done >= 3:
            token.cancel()

    with pytest.raises(Cancelled):
        train(slot_lm, slot_lm.layout.encode(table.df), TrainSettings(steps=500, batch_size=16, patience=1000),
              progress=progress, check=token.check)
    assert max(seen) == 3  # the step after the cancel never ran
    token2 = CancelToken()
    token2.cancel()  # cancelled before the logistic fit: its first evaluation stops it
    with pytest.raises(Cancelled):
        fit_skip_tables(_slot_lm(folder, table), slot_lm.layout.encode(table.df), 1.0, check=token2.check)


def test_logistic_start_reproduces_a_known_logistic_dependence(folder):
    """Before any training step the model is the fitted main-effects logistic model: on a
    simulated y with logit = -1 + 1.5 [a = t] - 1.0 [b = p] + 0.8 [b = r], P(y | a, b) from
    the model matches the true one in every parent configuration, and the two parents'
    table rows carry the true log-odds differences."""
    rng = np.random.default_rng(11)
    n = 20_000
    a = rng.choice(["s", "t"], n)
    b = rng.choice(["p", "q", "r"], n)
    logit = -1.0 + 1.5 * (a == "t") - 1.0 * (b == "p") + 0.8 * (b == "r")
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    toy = table_from_frame(pd.DataFrame({"a": a, "b": b, "y": y}), name="logit.csv")
    graph = CausalGraph(["a", "b", "y"], [("a", "y"), ("b", "y")])
    model, tokenizer, _ = lm_store.load_model(folder, "cpu")
    slot_lm = SlotLM(model, tokenizer, SlotLayout(toy, graph)).eval()
    lay = slot_lm.layout
    codes = lay.encode(toy.df)
    untrained = slot_lm.column_probs(slot_lm.prefix_kv(), "y", lay.parent_slots("y", {"a": codes[:, 0], "b": codes[:, 1]}))
    assert np.abs(untrained[:, 1] - untrained[:, 1].mean()).max() < 1e-9  # nothing learned yet
    stats = fit_skip_tables(slot_lm, codes, l2=1.0)
    assert stats["logistic_loss"] < np.log([2, 3, 2]).mean() - 0.02  # below the untrained (uniform) model
    kv = slot_lm.prefix_kv()
    for av in ("s", "t"):
        for bv in ("p", "q", "r"):
            parents = {"a": np.array([lay.cols["a"].state_of(av)]), "b": np.array([lay.cols["b"].state_of(bv)])}
            p_yes = slot_lm.column_probs(kv, "y", lay.parent_slots("y", parents))[0, lay.cols["y"].state_of("yes")]
            true = 1 / (1 + np.exp(-(-1.0 + 1.5 * (av == "t") - 1.0 * (bv == "p") + 0.8 * (bv == "r"))))
            assert abs(p_yes - true) < 0.02, (av, bv, p_yes, true)
    table_ = slot_lm.parent_skip.detach().numpy()
    yes, no = lay.offset["y"] + lay.cols["y"].state_of("yes"), lay.offset["y"] + lay.cols["y"].state_of("no")

    def log_odds(col, value):
        row = lay.offset[col] + lay.cols[col].state_of(value)
        return table_[row, yes] - table_[row, no]

    assert abs(log_odds("a", "t") - log_odds("a", "s") - 1.5) < 0.1
    assert abs(log_odds("b", "r") - log_odds("b", "q") - 0.8) < 0.1
    assert abs(log_odds("b", "p") - log_odds("b", "q") + 1.0) < 0.1
    # Only y's parents' rows into y's values are set: no other column reads them.
    others = np.ones(lay.n_values, dtype=bool)
    others[lay.offset["y"]:lay.offset["y"] + lay.cols["y"].card] = False
    assert np.all(table_[:, others] == 0)


def test_seconds_budget_stops_early(folder, table):
    slot_lm = _slot_lm(folder, table)
    stats = train(slot_lm, slot_lm.layout.encode(table.df),
                  TrainSettings(steps=100_000, seconds=0.5, batch_size=8, patience=100_000))
    assert 1 <= stats["steps"] < 100_000


def test_cache_round_trip_and_key(folder, table, tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path))
    settings = TrainSettings(steps=3, batch_size=16, freeze_layers=1)
    trained = _slot_lm(folder, table)
    train(trained, trained.layout.encode(table.df), settings)
    key = cache_key(table.df, trained, GRAPH.edges, "tiny", settings)
    fresh = _slot_lm(folder, table, seed=9)
    assert load_cached(fresh, key, settings) is None  # nothing stored yet
    save_cached(trained, key, {"stats": {"steps": 3}})
    assert load_cached(fresh, key, settings) == {"stats": {"steps": 3}}
    want, got = trainable_state(trained), dict(fresh.named_parameters())
    assert len(want) > 4 and all(torch.equal(v, got[k]) for k, v in want.items())
    # The key follows data, graph, model and settings.
    other_df = table.df.copy()
    other_df.loc[0, "m"] += 1.0
    assert data_hash(other_df) != data_hash(table.df)
    assert cache_key(other_df, trained, GRAPH.edges, "tiny", settings) != key
    assert cache_key(table.df, trained, GRAPH.edges[:2], "tiny", settings) != key
    assert cache_key(table.df, trained, GRAPH.edges, "other", settings) != key
    assert cache_key(table.df, trained, GRAPH.edges, "tiny", TrainSettings(steps=4, batch_size=16, freeze_layers=1)) != key
    assert cache_key(table.df, trained, GRAPH.edges, "tiny", settings) == key


@pytest.mark.parametrize("kwargs, words", [
    ({"steps": 0}, "training steps"),
    ({"steps": 2.5}, "training steps"),
    ({"batch_size": -1}, "batch size"),
    ({"freeze_layers": -1}, "frozen layers"),
    ({"lr": 0}, "learning rate"),
    ({"slot_lr": "fast"}, "slot learning rate"),
    ({"seconds": -3}, "training seconds"),
    ({"skip_l2": -1.0}, "skip table penalty"),
    ({"val_share": 1.5}, "held-out share"),
    ({"patience": 0}, "patience"),
    ({"ess": -1}, "equivalent sample size"),
])
def test_bad_settings_are_one_line_input_errors(kwargs, words):
    with pytest.raises(InputError, match=words) as err:
        TrainSettings(**kwargs)
    assert "\n" not in str(err.value)
