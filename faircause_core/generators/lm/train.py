"""Fine-tuning the slot-encoded language model, and its on-disk cache.

One step: the prefix [BOS, every value slot] is run once (each value slot's keys/values
are shared by every row), then each (column, parent configuration) of a minibatch of rows
is ONE query token over BOS + its parents' cached slots. Identical queries in a batch are
merged and weighted by their target counts, so columns with few discrete parents cost a
handful of tokens per step whatever the batch size. Loss: cross-entropy on every column.

Before the first step, the parent->value skip tables get a closed-form start: an
L2-penalised multinomial logistic fit of each column on its one-hot parent values, on all
fit rows (`fit_skip_tables`). With the LM's gate at 0 the model then starts as exactly
that main-effects model, and training learns what the transformer adds on top. The slot
embeddings learn with a higher rate than the transformer, whose lower `freeze_layers`
layers are frozen (no weight gradients, no optimizer state); the skip tables and the gate
have a rate of their own.

The trained state (slot embeddings + the unfrozen transformer weights) is cached under
lm_store.cache_root()/finetuned/<key>, keyed by the data content, the column order, the
DAG, the base model fingerprint and the training settings, so a repeated fit loads in
seconds and changing only the fairness settings never re-trains.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch

from faircause_core.errors import InputError
from faircause_core.generators.base import ProgressFn, no_progress
from faircause_core.generators.lm.slots import SlotLM

ENCODING_VERSION = 4  # 4: logistic start of the skip tables, gated LM logits
STATE_FILE = "trainable.safetensors"
META_FILE = "meta.json"


@dataclass(frozen=True)
class TrainSettings:
    """The training budget and optimiser settings (all part of the cache key)."""

    steps: int = 150
    seconds: Optional[float] = None
    batch_size: int = 32
    lr: float = 1e-4
    slot_lr: float = 2e-3
    skip_lr: float = 1e-2
    skip_l2: float = 1.0
    freeze_layers: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            ("training steps", self.steps, int, 1),
            ("batch size", self.batch_size, int, 1),
            ("frozen layers", self.freeze_layers, int, 0),
        ]
        for label, value, kind, low in checks:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise InputError(f"{label} must be a whole number >= {low}, got {value!r}")
        for label, value in (("learning rate", self.lr), ("slot learning rate", self.slot_lr),
                             ("skip learning rate", self.skip_lr)):
            if not isinstance(value, (int, float)) or not 0 < float(value) < 1:
                raise InputError(f"{label} must be a number between 0 and 1, got {value!r}")
        if isinstance(self.skip_l2, bool) or not isinstance(self.skip_l2, (int, float)) or not self.skip_l2 >= 0:
            raise InputError(f"skip table penalty must be a number >= 0, got {self.skip_l2!r}")
        if self.seconds is not None and (not isinstance(self.seconds, (int, float)) or not self.seconds > 0):
            raise InputError(f"training seconds must be a positive number, got {self.seconds!r}")


def data_hash(df: pd.DataFrame) -> str:
    """Content hash of a table (values, column names, dtypes), independent of its index."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(df[c].dtype)] for c in df.columns]).encode())
    digest.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def cache_key(df: pd.DataFrame, slot_lm: SlotLM, edges, model_id: str, settings: TrainSettings) -> str:
    parts = {
        "version": ENCODING_VERSION,
        "data": data_hash(df),
        "encoding": slot_lm.layout.fingerprint(),
        "edges": sorted([list(e) for e in edges]),
        "model": model_id,
        "settings": asdict(settings),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def freeze_lower_layers(slot_lm: SlotLM, n: int) -> None:
    """requires_grad False on the first n decoder layers: their weight gradients and
    optimizer state are skipped (the backward still passes through them to reach the slots)."""
    layers = _decoder_layers(slot_lm)
    if n > len(layers):
        raise InputError(f"cannot freeze {n} layers: the model has {len(layers)}")
    for i, layer in enumerate(layers):
        for p in layer.parameters():
            p.requires_grad_(i >= n)


def _decoder_layers(slot_lm: SlotLM):
    layers = getattr(slot_lm.base, "layers", None)
    if layers is None:
        raise InputError(f"model type {slot_lm.lm.config.model_type!r} has no decoder layer list to freeze")
    return layers


def prepare_trainable(slot_lm: SlotLM, settings: TrainSettings) -> None:
    """Which parameters train: all but the frozen layers, or the skip tables alone when the
    model runs without its LM (then nothing else is ever read)."""
    freeze_lower_layers(slot_lm, settings.freeze_layers)
    if not slot_lm.use_lm:
        for p in slot_lm.parameters():
            p.requires_grad_(False)
        slot_lm.value_bias.requires_grad_(True)
        slot_lm.parent_skip.requires_grad_(True)


def fit_skip_tables(slot_lm: SlotLM, codes: np.ndarray, l2: float, max_iter: int = 200) -> dict:
    """Set the skip tables to the penalised maximum-likelihood main-effects model.

    Per column c: logit P(c = v | parents) = bias_v + sum over parents p of table[p's value, v],
    i.e. a multinomial logistic regression on one-hot parent values, fitted by L-BFGS on the
    exact log-likelihood of all rows (identical queries merged) plus l2/2 * ||table||^2
    (the bias is not penalised; l2 = 1 is scikit-learn's C = 1). The LM's logits are left
    out: the gate starts at 0, so this is the whole model at step 0.
    """
    t0 = time.perf_counter()
    cols, slots, counts = _batch(codes, np.arange(len(codes)), slot_lm)
    own = slot_lm.value_col[None, :] == cols[:, None]
    seen = counts > 0
    params = [slot_lm.value_bias, slot_lm.parent_skip]
    with torch.no_grad():
        for p in params:
            p.zero_()
    wanted = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.LBFGS(params, lr=1.0, max_iter=max_iter, history_size=20,
                                  tolerance_grad=1e-7, tolerance_change=1e-10, line_search_fn="strong_wolfe")
    total = float(counts.sum())  # rows x columns: the loss is per (row, column), as in batch_loss

    def objective() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        logp = torch.log_softmax(slot_lm.skip_logits(slots).masked_fill(~own, float("-inf")), dim=-1)
        nll = -(counts * logp.masked_fill(~seen, 0.0)).sum()
        loss = (nll + 0.5 * l2 * slot_lm.parent_skip.pow(2).sum()) / total
        loss.backward()
        return loss

    optimizer.step(objective)
    loss = float(objective().detach())
    for p, w in zip(params, wanted):
        p.requires_grad_(w)
        p.grad = None
    return {"logistic_loss": loss, "logistic_seconds": time.perf_counter() - t0}


def trainable_state(slot_lm: SlotLM) -> dict:
    return {name: p for name, p in slot_lm.named_parameters() if p.requires_grad}


def _batch(codes: np.ndarray, rows: np.ndarray, slot_lm: SlotLM):
    """Merge identical (column, parent configuration) queries of a minibatch; return
    (cols, slots, target counts over all values) as tensors."""
    lay = slot_lm.layout
    sub = {c: codes[rows, lay.index[c]] for c in lay.order}
    keys, targets = [], []
    for c in lay.order:
        ci = lay.index[c]
        keys.append(np.concatenate([np.full((len(rows), 1), ci), lay.parent_slots(c, sub)], axis=1))
        targets.append(lay.offset[c] + sub[c])
    keys = np.concatenate(keys)
    targets = np.concatenate(targets)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    counts = np.zeros((len(uniq), lay.n_values), dtype=np.float32)
    np.add.at(counts, (inverse.reshape(-1), targets), 1.0)
    device = slot_lm.value_in.device
    return (torch.as_tensor(uniq[:, 0], device=device), torch.as_tensor(uniq[:, 1:], device=device),
            torch.as_tensor(counts, device=device))


def batch_loss(slot_lm: SlotLM, codes: np.ndarray, rows: np.ndarray) -> torch.Tensor:
    """Mean cross-entropy per (row, column) over the rows, every column included."""
    cols, slots, counts = _batch(codes, rows, slot_lm)
    logp = slot_lm.query_logprobs(slot_lm.prefix_kv(), cols, slots)
    logp = logp.masked_fill(counts == 0, 0.0)
    return -(counts * logp).sum() / counts.sum()


def train(slot_lm: SlotLM, codes: np.ndarray, settings: TrainSettings,
          progress: Optional[ProgressFn] = None) -> dict:
    """Fine-tune in place for settings.steps steps (or until settings.seconds elapse)."""
    progress = progress or no_progress
    prepare_trainable(slot_lm, settings)
    start = fit_skip_tables(slot_lm, codes, settings.skip_l2)
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    slots = [p for p in slot_lm.slot_parameters() if p.requires_grad]
    skip = [p for p in slot_lm.skip_parameters() if p.requires_grad]
    own = {id(p) for p in slot_lm.slot_parameters() + slot_lm.skip_parameters()}
    body = [p for p in slot_lm.parameters() if p.requires_grad and id(p) not in own]
    groups = [{"params": slots, "lr": settings.slot_lr, "weight_decay": 0.0},
              {"params": skip, "lr": settings.skip_lr, "weight_decay": 0.0},
              {"params": body, "lr": settings.lr, "weight_decay": 0.01}]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]])
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    n = len(codes)
    batch = min(settings.batch_size, n)
    order, cursor = rng.permutation(n), 0
    slot_lm.train()
    t0 = time.perf_counter()
    losses = []
    step = 0
    # A seconds budget reports progress in seconds, a step budget in steps.
    total = int(np.ceil(settings.seconds)) if settings.seconds is not None else settings.steps
    progress("fine-tuning", 0, total)
    while step < settings.steps:
        if cursor + batch > n:  # a new epoch: a new shuffle
            order, cursor = rng.permutation(n), 0
        rows = order[cursor:cursor + batch]
        cursor += batch
        done = step / settings.steps
        if settings.seconds is not None:
            done = max(done, (time.perf_counter() - t0) / settings.seconds)
        for group, base in zip(optimizer.param_groups, base_lrs):
            group["lr"] = base * _schedule(done)
        optimizer.zero_grad(set_to_none=True)
        loss = batch_loss(slot_lm, codes, rows)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        step += 1
        elapsed = time.perf_counter() - t0
        progress("fine-tuning", step if settings.seconds is None else min(int(elapsed), total), total)
        if settings.seconds is not None and elapsed >= settings.seconds:
            break
    slot_lm.eval()
    seconds = time.perf_counter() - t0
    return {"steps": step, "seconds": seconds, "first_loss": losses[0], "last_loss": float(np.mean(losses[-5:])),
            **start, "gate_max": float(slot_lm.lm_gate.detach().abs().max()),
            "trainable_parameters": int(sum(p.numel() for p in slot_lm.parameters() if p.requires_grad))}


def _schedule(done: float) -> float:
    """LR factor at a share `done` of the budget: short warm-up, then cosine decay to 5%,
    so short budgets still end in a settled state instead of Adam's noise floor."""
    if done < 0.05:
        return 0.1 + 0.9 * done / 0.05
    return 0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(1.0, (done - 0.05) / 0.95)))


def cache_dir(key: str) -> Path:
    from faircause_core.generators.lm import store as lm_store

    return lm_store.cache_root() / "finetuned" / key


def save_cached(slot_lm: SlotLM, key: str, meta: dict) -> Path:
    """Write the trainable state atomically (lm_store.atomic_folder: one rename into place)."""
    from safetensors.torch import save_file

    from faircause_core.generators.lm.store import atomic_folder

    target = cache_dir(key)
    with atomic_folder(target) as tmp:
        state = {k: v.detach().contiguous().cpu() for k, v in trainable_state(slot_lm).items()}
        save_file(state, str(tmp / STATE_FILE))
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1, default=str))
    return target


def load_cached(slot_lm: SlotLM, key: str, settings: TrainSettings) -> Optional[dict]:
    """Load a cached fine-tune into slot_lm; None when absent or unreadable (then re-train)."""
    from safetensors.torch import load_file

    folder = cache_dir(key)
    if not (folder / STATE_FILE).is_file() or not (folder / META_FILE).is_file():
        return None
    prepare_trainable(slot_lm, settings)
    expected = set(trainable_state(slot_lm))
    try:
        state = load_file(str(folder / STATE_FILE), device=str(slot_lm.value_in.device))
        meta = json.loads((folder / META_FILE).read_text())
    except Exception:  # a damaged cache entry is not the user's problem: train again
        return None
    if set(state) != expected or any(state[k].shape != p.shape for k, p in trainable_state(slot_lm).items()):
        return None
    slot_lm.load_state_dict(state, strict=False)
    slot_lm.eval()
    return meta
