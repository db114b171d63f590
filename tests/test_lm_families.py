"""Any local causal LM, not just Llama: tiny Qwen2 and GPT-2 models built from a config
at test time and saved as safetensors go through the folder check, the slot encoding
(the query path equals the full-row formulation with the DAG mask, non-parents stay
hidden) and a whole fit + sample with pathway edits. Unsafe folders stay refused."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from faircause_core.causal.graph import CausalGraph, derive_roles
from faircause_core.errors import InputError
from faircause_core.generators.base import FairnessSpec
from faircause_core.generators.llm import LLMGenerator
from faircause_core.generators.lm import store as lm_store
from faircause_core.generators.lm.slots import SlotLayout, SlotLM, decoder_layers
from faircause_core.io.data import table_from_frame
from tests.lm_checks import assert_query_path_equals_rows

torch.set_num_threads(1)

GRAPH = CausalGraph(["z", "x", "w", "c", "y"], [("z", "x"), ("x", "w"), ("w", "y"), ("x", "y"), ("z", "y"), ("z", "c")])


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(4)
    n = 400
    z = rng.normal(0, 1, n).round(2)
    x = np.where(rng.random(n) < 1 / (1 + np.exp(-z)), "b", "a")
    w = np.where(rng.random(n) < 0.2 + 0.5 * (x == "b"), "yes", "no")
    c = rng.integers(0, 3, n)
    y = (rng.random(n) < 0.1 + 0.3 * (x == "b") + 0.3 * (w == "yes")).astype(int)
    return table_from_frame(pd.DataFrame({"z": z, "x": x, "w": w, "c": c, "y": y}), name="family.csv")


@pytest.fixture(scope="module", params=["qwen2", "gpt2"])
def family(request, tmp_path_factory):
    folder = lm_store.tiny_model(None, tmp_path_factory.mktemp(request.param) / "tiny", seed=1,
                                 init_range=0.2, family=request.param)
    return request.param, folder


def test_folder_is_a_safetensors_model_of_that_family(family):
    name, folder = family
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == name
    assert list(folder.glob("*.safetensors")) and not list(folder.glob("*.bin"))
    assert lm_store.check_model_folder(folder) == folder


def test_slot_encoding_honours_the_mask(family, table):
    _, folder = family
    model, tokenizer, _ = lm_store.load_model(folder, "cpu")
    torch.manual_seed(0)
    slot_lm = SlotLM(model, tokenizer, SlotLayout(table, GRAPH, max_bins=5)).eval()
    with torch.no_grad():
        slot_lm.lm_gate.fill_(1.0)  # the transformer's logits take part
    lay = slot_lm.layout
    codes = lay.encode(table.df.iloc[:6])
    rows = assert_query_path_equals_rows(slot_lm, codes)
    with torch.no_grad():
        # c is not a parent of y: changing it leaves y's distribution alone; x is, and does.
        base = rows[:, lay.index["y"]].exp()
        for col, moves in (("c", False), ("x", True)):
            other = codes.copy()
            other[:, lay.index[col]] = (other[:, lay.index[col]] + 1) % lay.cols[col].card
            after = slot_lm.row_logprobs(torch.as_tensor(other))[:, lay.index["y"]].exp()
            assert (after - base).abs().max() > 1e-4 if moves else torch.allclose(after, base, atol=1e-6), col


def test_only_the_first_layers_are_loaded_in_either_layout(family, table):
    _, folder = family
    full, _, _ = lm_store.load_model(folder, "cpu")
    cut, tokenizer, _ = lm_store.load_model(folder, "cpu", layers=1)
    bases = [getattr(m, m.base_model_prefix) for m in (full, cut)]
    assert [len(decoder_layers(b)) for b in bases] == [2, 1] and cut.config.num_hidden_layers == 1
    first = [dict(decoder_layers(b)[0].named_parameters()) for b in bases]
    assert all(torch.equal(first[0][k], first[1][k]) for k in first[0])  # the kept layer's own weights
    slot_lm = SlotLM(cut, tokenizer, SlotLayout(table, GRAPH, max_bins=5)).eval()
    with torch.no_grad():
        slot_lm.lm_gate.fill_(1.0)
    assert_query_path_equals_rows(slot_lm, slot_lm.layout.encode(table.df.iloc[:4]))


def test_fit_and_sample_end_to_end(family, table):
    _, folder = family
    roles = derive_roles(GRAPH, "x", "y", "a", "b")
    gen = LLMGenerator(model_dir=folder, train_steps=8, batch_size=32, cache=False, device="cpu", train_layers=1)
    gen.fit(table, GRAPH, roles)
    assert gen.train_stats_["steps"] >= 1 and gen.train_stats_["val_rows"] == 100
    # A user's own model goes through the same held-out gate as the bundled one, and the
    # record names it: 40 stopping rows, 60 separate selection rows, every column judged.
    record = gen.language_model_
    assert record["model"] == Path(folder).name and record["held_out_rows"] == {"stopping": 40, "selection": 60}
    assert set(record["per_column"]) == set(table.df.columns) and isinstance(record["columns_used"], list)
    synth = gen.sample(300, seed=0)
    removed = gen.sample(300, FairnessSpec(de=1.0), seed=0)
    assert list(synth.columns) == list(table.df.columns) and len(synth) == 300
    for c in ("x", "w", "c", "y"):
        assert set(synth[c]) <= set(table.df[c])
    assert synth[["z", "x", "w", "c"]].equals(removed[["z", "x", "w", "c"]])  # DE edits y only


def test_unsafe_folders_stay_refused(family, tmp_path):
    _, folder = family
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in folder.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    config = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoModelForCausalLM": "x.Model"}}))
    with pytest.raises(InputError, match="custom code"):
        lm_store.check_model_folder(bad)
    (bad / "config.json").write_text(json.dumps(config))
    for f in bad.glob("*.safetensors"):
        f.rename(f.with_suffix(".bin"))
    with pytest.raises(InputError, match="pickle"):
        lm_store.check_model_folder(bad)
