"""Model folders: every bad folder is one clear line; the tiny and the real model load offline."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from faircause_core.generators.lm import store as lm_store
from faircause_core.generators.lm.constrained import ValueVocabulary, sample_values
from faircause_core.errors import InputError

LLAMA_CONFIG = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 10}


@pytest.fixture(scope="module")
def tiny():
    return lm_store.tiny_test_model(seed=0)


def make_folder(root: Path, config=LLAMA_CONFIG, files=("model.safetensors", "tokenizer.json")) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if config is not None:
        text = config if isinstance(config, str) else json.dumps(config)
        (root / "config.json").write_text(text)
    for name in files:
        (root / name).write_bytes(b"x")
    return root


def assert_rejected(path, *words):
    with pytest.raises(InputError) as err:
        lm_store.check_model_folder(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message
    return message


def test_a_plausible_folder_passes(tmp_path):
    folder = make_folder(tmp_path / "ok")
    assert lm_store.check_model_folder(folder) == folder
    # a config without architectures is judged by its model type
    other = make_folder(tmp_path / "gpt2", {"model_type": "gpt2"}, ("model.safetensors", "vocab.json", "merges.txt"))
    assert lm_store.check_model_folder(str(other)) == other


def test_missing_path_and_file_instead_of_folder(tmp_path):
    assert_rejected(tmp_path / "nope", "does not exist")
    a_file = tmp_path / "weights.safetensors"
    a_file.write_bytes(b"x")
    assert_rejected(a_file, "not a folder")
    with pytest.raises(InputError):
        lm_store.check_model_folder("")


def test_missing_config(tmp_path):
    assert_rejected(make_folder(tmp_path / "m", config=None), "config.json")


@pytest.mark.parametrize("garbage", ["{not json", "[1, 2]", "\xff\xfe"])
def test_garbage_config(tmp_path, garbage):
    folder = make_folder(tmp_path / "m", config="{}")
    (folder / "config.json").write_bytes(garbage.encode("latin-1"))
    assert_rejected(folder, "config.json")


def test_pickle_only_weights(tmp_path):
    folder = make_folder(tmp_path / "m", files=("pytorch_model.bin", "tokenizer.json"))
    assert_rejected(folder, "only safetensors weights are loaded")
    folder = make_folder(tmp_path / "pt", files=("model.pt", "tokenizer.json"))
    assert_rejected(folder, "only safetensors weights are loaded")


def test_no_weights_at_all(tmp_path):
    assert_rejected(make_folder(tmp_path / "m", files=("tokenizer.json",)), "safetensors")


def test_custom_code_is_refused(tmp_path):
    config = dict(LLAMA_CONFIG, auto_map={"AutoModelForCausalLM": "modeling_x.XForCausalLM"})
    assert_rejected(make_folder(tmp_path / "m", config), "custom code")


@pytest.mark.parametrize(
    "config",
    [
        {"model_type": "bert", "architectures": ["BertModel"]},
        {"model_type": "bert", "architectures": ["BertForSequenceClassification"]},
        {"model_type": "distilbert"},
        {"model_type": "t5", "architectures": ["T5ForConditionalGeneration"]},
        {"architectures": ["LlamaForCausalLM"]},
    ],
)
def test_not_a_causal_lm(tmp_path, config):
    assert_rejected(make_folder(tmp_path / "m", config), "causal")


def test_missing_tokenizer(tmp_path):
    assert_rejected(make_folder(tmp_path / "m", files=("model.safetensors",)), "tokenizer")
    # half of a BPE tokenizer is not enough
    assert_rejected(make_folder(tmp_path / "m2", files=("model.safetensors", "vocab.json")), "tokenizer")


def test_cache_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path / "c"))
    assert lm_store.cache_root() == tmp_path / "c"
    assert lm_store.default_model_dir() == tmp_path / "c" / "models" / lm_store.DEFAULT_MODEL_NAME
    monkeypatch.delenv("FAIRCAUSE_CACHE")
    assert lm_store.cache_root() == Path.home() / ".cache" / "faircausesyn"


def test_missing_model_package_says_make_setup(monkeypatch):
    assert lm_store.bundled_gguf().name.endswith(".gguf")
    monkeypatch.setattr(lm_store, "GGUF_PACKAGE", "no-such-package-faircause")
    with pytest.raises(InputError, match="make setup"):
        lm_store.bundled_gguf()


def test_tiny_model_loads_and_generates(tiny):
    model, tokenizer, device = lm_store.load_model(tiny, device="cpu")
    assert device == "cpu"
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 64
    assert model.config.vocab_size == len(tokenizer) == 49152  # the real SmolLM2 tokenizer
    assert tokenizer.pad_token is not None
    assert not model.training
    ids = tokenizer("sex is", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        logits = model(ids).logits
    assert logits.shape == (1, ids.shape[1], 49152) and torch.isfinite(logits).all()


def test_broken_weights_become_one_line(tmp_path, tiny):
    folder = tmp_path / "broken"
    shutil.copytree(tiny, folder)
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(InputError) as err:
        lm_store.load_model(folder, device="cpu")
    assert str(folder) in str(err.value) and "\n" not in str(err.value)


def test_fingerprint_is_content_based(tmp_path, tiny):
    first = lm_store.model_fingerprint(tiny)
    assert first == lm_store.model_fingerprint(tiny)
    copy = tmp_path / "copy"
    shutil.copytree(tiny, copy)
    assert lm_store.model_fingerprint(copy) == first  # a copy keeps its id
    other = lm_store.tiny_model(tiny, tmp_path / "seed1", seed=1)
    assert lm_store.model_fingerprint(other) != first  # different weights, different id


def test_tiny_model_is_reproducible(tmp_path, tiny):
    a = lm_store.tiny_model(tiny, tmp_path / "a", seed=3)
    b = lm_store.tiny_model(tiny, tmp_path / "b", seed=3)
    assert lm_store.model_fingerprint(a) == lm_store.model_fingerprint(b)
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in a.iterdir()}


def test_real_bundled_model_offline():
    """The default model: converted once (cached), loaded, and steered to valid values."""
    folder = lm_store.ensure_default_model()
    assert lm_store.ensure_default_model() == folder  # second call: already there
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(f".{lm_store.DEFAULT_MODEL_NAME}.") and p.is_dir()]
    model, tokenizer, device = lm_store.load_model(None)
    assert model.config.num_hidden_layers == 30
    prompt = tokenizer("The capital of France is", add_special_tokens=False)["input_ids"]
    cities = ValueVocabulary.categorical(["Berlin", "London", "Madrid", "Paris"], column="city", terminator=".")
    assert sample_values(model, tokenizer, [prompt], cities, rng=0, temperature=0) == ["Paris"]
    ages = ValueVocabulary.numeric_range(18, 90, 0, column="age")
    text = tokenizer("Patient record. age is", add_special_tokens=False)["input_ids"]
    values = sample_values(model, tokenizer, [text, text, prompt], ages, rng=1)
    assert all(18 <= v <= 90 and float(v).is_integer() for v in values)


def test_a_cancel_stops_the_conversion_before_it_reads_the_model(monkeypatch, tmp_path):
    from faircause_core.generators.base import CancelToken, Cancelled

    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path))
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        lm_store.ensure_default_model(check=token.check)
    assert not (tmp_path / "models" / lm_store.DEFAULT_MODEL_NAME).exists()


def test_only_the_first_layers_of_the_real_model_are_read():
    full, _, _ = lm_store.load_model(None, "cpu")
    cut, _, _ = lm_store.load_model(None, "cpu", layers=8)
    assert cut.config.num_hidden_layers == 8 and len(cut.model.layers) == 8
    assert torch.equal(full.model.layers[7].mlp.up_proj.weight, cut.model.layers[7].mlp.up_proj.weight)
    assert torch.equal(full.model.norm.weight, cut.model.norm.weight)


def test_a_tokenizer_read_from_the_gguf_is_kept_and_each_caller_gets_its_own_copy(monkeypatch):
    """The bundled GGUF's tokenizer is parsed once per process (5-10 s a time; the tiny models
    of the tests read it again and again): a second read parses nothing, encodes the same, and
    a change one caller makes (tiny_model sets the pad token) does not reach the next caller."""
    import transformers

    real = transformers.AutoTokenizer.from_pretrained
    reads = []
    monkeypatch.setattr(lm_store, "_gguf_tokenizers", {})  # nothing kept yet in this test
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained",
                        lambda *a, **k: reads.append(a) or real(*a, **k))  # counts, then the real read
    gguf = lm_store.bundled_gguf()
    first = lm_store.load_tokenizer(gguf)
    second = lm_store.load_tokenizer(gguf)
    assert len(reads) == 1 and second is not first
    for text in ["age: 54, sex: Female", "cholesterol: 212.5; death: 1"]:
        assert second(text)["input_ids"] == first(text)["input_ids"]
    second.model_max_length = 7
    assert lm_store.load_tokenizer(gguf).model_max_length == first.model_max_length != 7
    assert len(reads) == 1


def test_the_bundled_tokenizer_is_read_from_its_converted_folder_where_there_is_one(tmp_path, monkeypatch):
    """load_tokenizer() reads the converted default model's tokenizer (0.3 s) where
    ensure_default_model made that folder, not the GGUF (4-10 s): the same tokens; where the
    folder is absent or has no tokenizer, the GGUF's (a fresh machine)."""
    import transformers

    gguf = lm_store.load_tokenizer(lm_store.bundled_gguf())
    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path))
    folder = lm_store.default_model_dir()
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"")  # what _is_converted looks for; the tokenizer is real
    gguf.save_pretrained(folder)
    real, reads = transformers.AutoTokenizer.from_pretrained, []
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained",
                        lambda *a, **k: reads.append((a, k)) or real(*a, **k))
    fast = lm_store.load_tokenizer()
    assert reads[-1][0][0] == str(folder) and "gguf_file" not in reads[-1][1]
    for text in ["age: 54, sex: Female", "cholesterol: 212.5; death: 1 \u00e9"]:
        assert fast(text)["input_ids"] == gguf(text)["input_ids"]
    assert fast.get_vocab() == gguf.get_vocab() and fast.bos_token_id == gguf.bos_token_id
    (folder / "tokenizer.json").unlink()  # control: no converted tokenizer, the GGUF's (kept from above)
    read = len(reads)
    assert lm_store.load_tokenizer().get_vocab() == gguf.get_vocab() and len(reads) == read
