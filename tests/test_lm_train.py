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


def test_the_logistic_fit_scores_each_query_on_its_own_columns_values(folder, table):
    """fit_skip_tables works column block by column block (skip_block_logits): its reported loss
    is the dense form's, a log-softmax over every value with other columns' values masked, per
    (row, column), plus the penalty; and each block is the dense logits' slice."""
    slot_lm = _slot_lm(folder, table)
    codes = slot_lm.layout.encode(table.df)
    stats = fit_skip_tables(slot_lm, codes, 1.0)
    lay = slot_lm.layout
    with torch.no_grad():
        sub = {c: codes[:, lay.index[c]] for c in lay.order}
        nll = 0.0
        for c in lay.order:
            slots = torch.as_tensor(lay.parent_slots(c, sub))
            lo, card = lay.offset[c], lay.cols[c].card
            dense = slot_lm.skip_logits(slots)
            own = torch.zeros(lay.n_values, dtype=torch.bool)
            own[lo:lo + card] = True
            masked = torch.log_softmax(dense.masked_fill(~own, float("-inf")), dim=-1)[:, lo:lo + card]
            block = slot_lm.skip_block_logits(slots, lo, card)
            assert torch.allclose(block, dense[:, lo:lo + card], atol=1e-6)
            nll -= float(masked[torch.arange(len(codes)), torch.as_tensor(sub[c])].sum())
        cards = np.array([lay.cols[c].card for c in lay.order])[lay.value_column]
        penalty = 0.5 * float((slot_lm.parent_skip.pow(2) * torch.as_tensor(np.where(cards == 2, 2.0, 1.0))[None, :]).sum())
    assert stats["logistic_loss"] == pytest.approx((nll + penalty) / (len(codes) * len(lay.order)), rel=1e-5)


def test_training_scores_each_row_as_if_the_posterior_had_not_counted_it(folder, table):
    """The residual trains on rows the fixed part's counts include; each is scored against the
    posterior with its own count left out, which is exactly the posterior refitted without
    it (with one row per configuration, the counted posterior has seen the answer). Without
    counts the training loss is the plain merged loss."""
    from faircause_core.generators.lm.train import train_loss

    slot_lm = _slot_lm(folder, table).eval()
    with torch.no_grad():
        slot_lm.lm_gate.fill_(1.0)
    codes = slot_lm.layout.encode(table.df)
    with torch.no_grad():
        assert torch.allclose(train_loss(slot_lm, codes, np.arange(40)), batch_loss(slot_lm, codes, np.arange(40)),
                              atol=1e-5)
    fit_skip_tables(slot_lm, codes, 1.0)
    with torch.no_grad():
        for row in (0, 7):
            slot_lm.set_counts(codes, np.arange(len(codes)), 5.0)
            left_out = train_loss(slot_lm, codes, np.array([row]))
            counted = batch_loss(slot_lm, codes, np.array([row]))
            slot_lm.set_counts(codes, np.delete(np.arange(len(codes)), row), 5.0)
            refitted = batch_loss(slot_lm, codes, np.array([row]))
            assert torch.allclose(left_out, refitted, atol=1e-5) and counted < refitted - 1e-3


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
    # 400 rows: 40 stopping rows (10%), 60 selection rows (15%), 300 to train on.
    assert (stats["stop_rows"], stats["select_rows"], stats["val_rows"]) == (40, 60, 100)
    assert stats["stopped_because"] == "budget" and stats["step_budget"] == 60
    used = [c for c, v in stats["per_column"].items() if v["used"]]
    assert used == stats["lm_columns"]
    gain = sum(stats["per_column"][c]["gain"] for c in used) / len(stats["per_column"])
    assert abs((stats["val_loss_logistic"] - stats["val_loss"]) - gain) < 1e-4
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


def test_early_stopping_counts_patience_only_after_the_warm_up_and_drops_unhelpful_columns(folder, table):
    """A residual that cannot beat the logistic model by 10 nats is stopped `patience`
    evaluations after the warm-up (120 steps: the settling 30% of 400), not `patience`
    evaluations after step 0 as before (step 4); progress ends at the steps actually run, and every column
    falls back to the logistic model exactly (gate 0, no transformer run)."""
    slot_lm = _slot_lm(folder, table)
    codes = slot_lm.layout.encode(table.df)
    seen = []
    settings = TrainSettings(steps=400, batch_size=32, eval_every=2, patience=2, min_gain=10.0)
    stats = train(slot_lm, codes, settings, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert stats["warmup_steps"] == 120 and stats["steps"] == 120 + 2 * 2 and stats["stopped_because"] == "patience"
    assert seen[-1] == ("fine-tuning", 124, 400)  # not "400/400" after 124 steps
    assert stats["lm_columns"] == [] and not any(v["used"] for v in stats["per_column"].values())
    assert not slot_lm.lm_on.any() and torch.all(slot_lm.lm_gate == 0) and slot_lm.prefix_kv() == []
    assert stats["val_loss"] == stats["val_loss_logistic"]
    # The warm-up is at least two evaluations, however short the budget.
    short = train(_slot_lm(folder, table), codes, TrainSettings(steps=40, eval_every=4, patience=1, min_gain=10.0))
    assert short["warmup_steps"] == 12 and short["steps"] == 16


def test_stopping_and_selection_rows_are_separate_and_seeded():
    from faircause_core.generators.lm.train import split_rows

    for n in (100, 1140, 5500, 50_000):
        fit, stop, select = split_rows(n, TrainSettings())
        assert len(np.intersect1d(fit, stop)) == len(np.intersect1d(fit, select)) == len(np.intersect1d(stop, select)) == 0
        assert len(fit) + len(stop) + len(select) == n
        assert len(stop) == min(256, round(0.1 * n)) and len(select) == min(1024, round(0.15 * n))
        again = split_rows(n, TrainSettings())
        assert all(np.array_equal(a, b) for a, b in zip((fit, stop, select), again))
        other = split_rows(n, TrainSettings(seed=1))
        assert not np.array_equal(stop, other[1])
    fit, stop, select = split_rows(39, TrainSettings())  # too few rows to judge the LM on
    assert len(fit) == 39 and len(stop) == len(select) == 0


def test_holm_adjustment_matches_the_textbook_example():
    from faircause_core.generators.lm.train import holm

    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; running max 0.06.
    assert np.allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    assert np.allclose(holm([0.5, 0.9]), [1.0, 1.0]) and np.allclose(holm([0.2]), [0.2])


def test_selection_corrects_for_testing_many_columns():
    """Ten columns each with a one-sided p of about 0.02 would all pass one at a time at 5%;
    after Holm across the ten none does, while a gain of 5 standard errors still does. A
    negative gain is never kept, however small its SE."""
    from faircause_core.generators.lm.train import gain_tests

    m = 500
    gain = np.array([0.02] * 10 + [0.05, -0.05])
    se = np.array([0.01] * 10 + [0.01, 0.001])
    p, adjusted = gain_tests(gain, se, m, np.ones(12, dtype=bool))
    assert np.all(p[:10] < 0.05) and np.all(adjusted[:10] > 0.05)
    assert adjusted[10] < 0.001 and p[11] > 0.99
    # Only the tested columns count towards the correction.
    tested = np.zeros(12, dtype=bool)
    tested[0] = True
    p1, adjusted1 = gain_tests(gain, se, m, tested)
    assert adjusted1[0] == p1[0] < 0.05 and np.all(adjusted1[1:] == 1.0)


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
    ({"stop_share": 1.5}, "stopping share"),
    ({"select_share": 0}, "selection share"),
    ({"stop_share": 0.5, "select_share": 0.45}, "leave at least 10%"),
    ({"select_rows": 0}, "selection rows"),
    ({"alpha": 1.0}, "alpha"),
    ({"warmup": 1.0}, "warm-up share"),
    ({"gate_decay": "yes"}, "gate_decay"),
    ({"patience": 0}, "patience"),
    ({"ess": -1}, "equivalent sample size"),
])
def test_bad_settings_are_one_line_input_errors(kwargs, words):
    with pytest.raises(InputError, match=words) as err:
        TrainSettings(**kwargs)
    assert "\n" not in str(err.value)
