"""Fine-tuning the slot-encoded language model, and its on-disk cache.

Each column's conditional is the Bayes net's kind of conditional (a Dirichlet posterior
centred on a closed-form logistic model of the column on its parents) plus a
language-model residual that starts at zero:

    logit P(c = v | parents) = log P_posterior(v | parents) + gate_c * LM(v | parents)

1. `fit_skip_tables` sets the logistic part (the skip tables) by an L2-penalised
   multinomial logistic fit, the model the Bayes net's CPDs are centred on; it is then
   held fixed.
2. The fitting split is cut, seeded, into three: training rows, STOPPING rows and
   SELECTION rows (`split_rows`). While the residual is judged the fixed part is fitted on
   the training rows only, so neither part has seen the other two.
3. `train` fits the residual on the training rows. The per-column gates start at 0 (so step
   0 IS the fixed part) and carry no weight decay (decay would pull them back to 0). The
   learning rate warms up over the first `warmup` share of the budget; the held-out loss on
   the stopping rows is evaluated every `eval_every` steps, and only evaluations AFTER the
   warm-up count towards `patience` (the best state is kept).
4. `select_columns` then judges each column once, on the selection rows the stopping rule
   never saw: a one-sided paired t-test of the per-row log-loss gain over the fixed part,
   Holm-corrected across the columns tested (family-wise error `alpha`), and a gain above
   `min_gain` nats a row. Every other column is the fixed part exactly and never runs the
   transformer.
So the language model can only add what rows it never trained on, and that no stopping
decision was tuned on, support; `stats["per_column"]` says what each column gained.

One step: the prefix [BOS, every value slot] is run once (each value slot's keys/values
are shared by every row), then each (column, parent configuration) of a minibatch is ONE
query token over BOS + its parents' cached slots; identical queries are merged and
weighted by their counts. With lower layers frozen, the input slot embeddings are frozen
too, so the backward pass stops at the first trainable layer.

The trained state is cached under lm_store.cache_root()/finetuned/<key>, keyed by the
data content, the column order, the DAG, the base model fingerprint and the training
settings, so a repeated fit loads in seconds and changing only the fairness settings never
re-trains. `check()` (a cancel token's) runs in every L-BFGS evaluation, step and
evaluation chunk, so cancelling stops training within one step.
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
import faircause_core.generators.strength as strength
from faircause_core.generators.base import ProgressFn, no_progress
from faircause_core.generators.lm.slots import SlotLM, decoder_layers, unique_rows

ENCODING_VERSION = 7  # 6: separate stopping / selection rows, Holm-selected columns, warm-up patience; 7: cross-validated strengths
STATE_FILE = "trainable.safetensors"
META_FILE = "meta.json"


@dataclass(frozen=True)
class TrainSettings:
    """The training budget and optimiser settings (all part of the cache key).

    steps / seconds: the most the residual trains; early stopping usually ends it sooner.
    lr: the unfrozen transformer layers; slot_lr: the slot embeddings; gate_lr: the
    per-column gates; weight_decay: slots and layers (AdamW), the gates too only with
    gate_decay. skip_l2: the logistic fit's L2. stop_share / stop_rows: the share of fit rows
    (at most stop_rows) whose held-out loss decides when to stop; select_share /
    select_rows: a separate share that decides which columns keep the residual.
    eval_every / patience: evaluate every so many steps, stop after `patience` evaluations
    after the warm-up without a better held-out loss. warmup: the share of the budget the
    learning rate warms up over; settle: the share of the budget before patience counts
    (the warm-up in the patience sense: at least the LR warm-up and two evaluations). alpha: the family-wise error of
    the per-column tests (Holm); min_gain: nats a row a column must gain besides. ess:
    pseudo rows of the Dirichlet posterior centred on the logistic model (0 = the logistic
    model alone; "cv", the default: chosen per column by cross-validation, `cv_strengths`,
    the Bayes net's rule).
    """

    steps: int = 150
    seconds: Optional[float] = None
    batch_size: int = 32
    lr: float = 1e-4
    slot_lr: float = 2e-3
    gate_lr: float = 1e-2
    weight_decay: float = 0.01
    gate_decay: bool = False
    skip_l2: float = 1.0
    freeze_layers: int = 0
    stop_share: float = 0.1
    stop_rows: int = 256
    select_share: float = 0.15
    select_rows: int = 1024
    eval_every: int = 4
    patience: int = 3
    warmup: float = 0.05
    settle: float = 0.3
    alpha: float = 0.05
    min_gain: float = 1e-3
    ess: object = "cv"
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            ("training steps", self.steps, 1),
            ("batch size", self.batch_size, 1),
            ("frozen layers", self.freeze_layers, 0),
            ("stopping rows", self.stop_rows, 1),
            ("selection rows", self.select_rows, 1),
            ("evaluation interval", self.eval_every, 1),
            ("patience", self.patience, 1),
        ]
        for label, value, low in checks:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise InputError(f"{label} must be a whole number >= {low}, got {value!r}")
        for label, value in (("learning rate", self.lr), ("slot learning rate", self.slot_lr),
                             ("gate learning rate", self.gate_lr), ("stopping share", self.stop_share),
                             ("selection share", self.select_share), ("test level alpha", self.alpha)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < float(value) < 1:
                raise InputError(f"{label} must be a number between 0 and 1, got {value!r}")
        if self.stop_share + self.select_share >= 0.9:
            raise InputError(f"stopping and selection shares must leave at least 10% of the rows to train on, "
                             f"got {self.stop_share!r} + {self.select_share!r}")
        for label, value in (("warm-up share", self.warmup), ("settling share", self.settle)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise InputError(f"{label} must be a number from 0 to below 1, got {value!r}")
        if not isinstance(self.gate_decay, (bool, np.bool_)):
            raise InputError(f"gate_decay must be true or false, got {self.gate_decay!r}")
        for label, value in (("skip table penalty", self.skip_l2), ("weight decay", self.weight_decay),
                             ("minimum gain", self.min_gain), ("equivalent sample size", self.ess)):
            if label == "equivalent sample size" and value == "cv":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise InputError(f"{label} must be a number >= 0, got {value!r}")
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
    """requires_grad False on the first n decoder layers (no weight gradients, no optimizer
    state); with n > 0 the input slot embeddings are frozen too (their gradient would have
    to pass back through the frozen layers), so the backward pass ends at layer n."""
    layers = _decoder_layers(slot_lm)
    if n > len(layers):
        raise InputError(f"cannot freeze {n} layers: the model has {len(layers)}")
    for i, layer in enumerate(layers):
        for p in layer.parameters():
            p.requires_grad_(i >= n)
    for p in (slot_lm.bos, slot_lm.query_in, slot_lm.value_in):
        p.requires_grad_(n == 0)


def _decoder_layers(slot_lm: SlotLM):
    """The decoder layers of the slot model's transformer (none without a language model)."""
    return [] if slot_lm.base is None else decoder_layers(slot_lm.base)


def prepare_trainable(slot_lm: SlotLM, settings: TrainSettings) -> None:
    """Which parameters train: the residual (gates, slots, unfrozen layers); never the
    logistic tables, which keep their closed-form fit. Without an LM nothing trains."""
    freeze_lower_layers(slot_lm, settings.freeze_layers)
    for p in (slot_lm.value_bias, slot_lm.parent_skip):
        p.requires_grad_(False)
    if not slot_lm.use_lm:
        for p in slot_lm.parameters():
            p.requires_grad_(False)


def fit_skip_tables(slot_lm: SlotLM, codes: np.ndarray, l2: float, max_iter: int = 200, check=None,
                    rows: Optional[np.ndarray] = None) -> dict:
    """Set the skip tables to the penalised maximum-likelihood main-effects model.

    Per column c: logit P(c = v | parents) = bias_v + sum over parents p of table[p's value, v],
    i.e. a multinomial logistic regression on one-hot parent values, fitted by L-BFGS on the
    exact log-likelihood of all rows (identical queries merged) plus l2/2 * ||table||^2
    (the bias is not penalised; l2 = 1 is scikit-learn's C = 1, two-valued columns
    weighted twice to match its binary fit). The LM's logits are left
    out: the gate starts at 0, so this is the whole model at step 0. `check()` runs at
    every function evaluation (cancel).
    """
    t0 = time.perf_counter()
    cols, slots, counts = _batch(codes, np.arange(len(codes)) if rows is None else rows, slot_lm)
    # Each query is scored on its own column's values only (skip_block_logits): the same loss as
    # a log-softmax over every value with the others masked, at a fraction of the work.
    lay, which = slot_lm.layout, cols.cpu().numpy()
    blocks = []
    for c in lay.order:
        q = torch.as_tensor(np.flatnonzero(which == lay.index[c]), device=cols.device)
        if len(q):
            used = (slots[q] >= 0).any(dim=0)  # the slot columns this column's parents fill
            width = int(used.nonzero().max()) + 1 if bool(used.any()) else 0
            lo, card = lay.offset[c], lay.cols[c].card
            blocks.append((slots[q, :width], lo, card, counts[q, lo:lo + card]))
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
    # A two-valued column's logit difference is the sum of two penalised rows, so its penalty
    # counts twice: the same strength as scikit-learn's binary fit (the Bayes net's).
    cards = np.array([slot_lm.layout.cols[c].card for c in slot_lm.layout.order])[slot_lm.layout.value_column]
    weight = torch.as_tensor(np.where(cards == 2, 2.0, 1.0), dtype=slot_lm.dtype, device=slot_lm.value_in.device)[None, :]

    def objective() -> torch.Tensor:
        if check is not None:
            check()
        optimizer.zero_grad(set_to_none=True)
        nll = sum(-(n * torch.log_softmax(slot_lm.skip_block_logits(q, lo, card), dim=-1)).sum()
                  for q, lo, card, n in blocks)
        loss = (nll + 0.5 * l2 * (slot_lm.parent_skip.pow(2) * weight).sum()) / total
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


def cached_state(slot_lm: SlotLM) -> dict:
    """What a fit changes: the residual's trainable weights, the logistic tables and which
    columns use the LM."""
    return {**trainable_state(slot_lm), "value_bias": slot_lm.value_bias, "parent_skip": slot_lm.parent_skip,
            "lm_on": slot_lm.lm_on}


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
    uniq, inverse = unique_rows(keys)
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


def train_loss(slot_lm: SlotLM, codes: np.ndarray, rows: np.ndarray) -> torch.Tensor:
    """batch_loss for training: each row is scored against the fixed part with its own count
    left out (SlotLM.base_logits leave_out), as a row the posterior has not seen. The
    transformer runs once per (column, parent configuration) of the batch; the fixed part
    once per (column, configuration, value), as leaving a row out depends on its value."""
    lay = slot_lm.layout
    sub = {c: codes[rows, lay.index[c]] for c in lay.order}
    keys = np.concatenate([np.concatenate([np.full((len(rows), 1), lay.index[c]), lay.parent_slots(c, sub),
                                           (lay.offset[c] + sub[c])[:, None]], axis=1) for c in lay.order])
    full, _, counts = unique_rows(keys, return_counts=True)
    queries, which = unique_rows(full[:, :-1])
    device = slot_lm.value_in.device
    cols, slots = torch.as_tensor(full[:, 0], device=device), torch.as_tensor(full[:, 1:-1], device=device)
    value = torch.as_tensor(full[:, -1], device=device)
    logits = slot_lm.base_logits(cols, slots, leave_out=value)
    kv = slot_lm.prefix_kv()
    if kv:
        q_cols = torch.as_tensor(queries[:, 0], device=device)
        gate = slot_lm.lm_gate[q_cols] * slot_lm.lm_on[q_cols].to(slot_lm.dtype)
        residual = gate[:, None] * (slot_lm._query_hidden(kv, q_cols, torch.as_tensor(queries[:, 1:], device=device))
                                    @ slot_lm.value_out.T)
        logits = logits + residual[torch.as_tensor(which.reshape(-1), device=device)]
    logp = torch.log_softmax(logits, dim=-1)
    weight = torch.as_tensor(counts, dtype=slot_lm.dtype, device=device)
    return -(weight * logp.gather(1, value[:, None])[:, 0]).sum() / weight.sum()


@torch.no_grad()
def column_losses(slot_lm: SlotLM, codes: np.ndarray, rows: np.ndarray, chunk: int = 1024, check=None,
                  with_lm: bool = True) -> np.ndarray:
    """Mean -log P(value | parents) per column (topological order) on `rows`; with_lm False:
    the fixed part alone (what the model is with every gate at 0)."""
    return _losses(slot_lm, codes, rows, chunk, check, with_lm)[0]


@torch.no_grad()
def _losses(slot_lm: SlotLM, codes: np.ndarray, rows: np.ndarray, chunk: int = 1024, check=None,
            with_lm: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean loss per column, mean per-row gain over the fixed part per column, its standard
    error): each row's gain is log P_model(value) - log P_fixed(value) at its own query, so
    the two are compared on the same rows (a paired comparison)."""
    cols, slots, counts = _batch(codes, rows, slot_lm)
    kv = slot_lm.prefix_kv() if with_lm else []
    k = len(slot_lm.layout.order)
    total, gain, gain2 = (torch.zeros(k, dtype=torch.float64) for _ in range(3))
    for start in range(0, len(cols), chunk):
        if check is not None:
            check()
        part = slice(start, start + chunk)
        c, n = cols[part], counts[part]
        logp = slot_lm.query_logprobs(kv, c, slots[part]).masked_fill(n == 0, 0.0)
        fixed = torch.log_softmax(slot_lm.base_logits(c, slots[part]), dim=-1).masked_fill(n == 0, 0.0)
        diff = (logp - fixed).double()
        total.index_add_(0, c.cpu(), -(n * logp).sum(dim=1).double().cpu())
        gain.index_add_(0, c.cpu(), (n * diff).sum(dim=1).cpu())
        gain2.index_add_(0, c.cpu(), (n * diff ** 2).sum(dim=1).cpu())
    m = len(rows)
    mean = gain / m
    se = torch.sqrt(torch.clamp(gain2 / m - mean ** 2, min=0.0) / max(m - 1, 1))
    return (total / m).numpy(), mean.numpy(), se.numpy()


def split_rows(n: int, settings: TrainSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training rows, stopping rows, selection rows) of the fitting split, seeded and
    disjoint; no held-out rows (and so no LM) when there are too few rows to judge it on
    (under 40, or fewer than 5 stopping or 10 selection rows)."""
    rows = np.random.default_rng([settings.seed, 7]).permutation(n)
    n_stop = min(settings.stop_rows, int(round(settings.stop_share * n)))
    n_select = min(settings.select_rows, int(round(settings.select_share * n)))
    if n < 40 or n_stop < 5 or n_select < 10:
        return np.sort(rows), rows[:0], rows[:0]
    stop, select = rows[:n_stop], rows[n_stop:n_stop + n_select]
    return np.sort(rows[n_stop + n_select:]), np.sort(stop), np.sort(select)


def fit_base(slot_lm: SlotLM, codes: np.ndarray, rows: np.ndarray, settings: TrainSettings, ess, check=None) -> dict:
    """The fixed part of every conditional on `rows`: the logistic tables, then the counts of
    the Dirichlet posterior centred on them (SlotLM.base_logits) at strength `ess` (one, or
    one per column: cv_strengths)."""
    stats = fit_skip_tables(slot_lm, codes, settings.skip_l2, check=check, rows=rows)
    slot_lm.set_counts(codes, rows, ess)
    return stats


def cv_strengths(slot_lm: SlotLM, codes: np.ndarray, rows: np.ndarray, settings: TrainSettings,
                 check=None) -> np.ndarray:
    """Per column (layout order), the fixed part's Dirichlet strength chosen by cross-validation
    on `rows` (generators/strength.py: the Bayes net's rule), the skip tables (the logistic
    centre) and the counts refitted on each fold's training rows; a root keeps FIXED_STRENGTH.
    Leaves the skip tables fitted on the last fold's rows: fit_base refits them."""
    lay = slot_lm.layout
    losses = {c: [] for c in lay.order}
    rows = strength.subsample(rows, [settings.seed, 12])
    fold = strength.folds(len(rows), [settings.seed, 11])
    for f in range(strength.CV_FOLDS):
        train, test = rows[fold != f], rows[fold == f]
        if not len(train) or not len(test):
            continue
        fit_skip_tables(slot_lm, codes, settings.skip_l2, check=check, rows=train)
        sub = {c: codes[np.concatenate([train, test]), lay.index[c]] for c in lay.order}
        for c in lay.order:
            if not lay.parents[c]:
                continue
            slots = lay.parent_slots(c, sub)
            lo, card = lay.offset[c], lay.cols[c].card
            with torch.no_grad():
                logits = slot_lm.skip_block_logits(torch.as_tensor(slots[len(train):], device=slot_lm.value_in.device),
                                                   lo, card)
                logp = torch.log_softmax(logits.double(), dim=-1).cpu().numpy()
            centre = np.exp(logp[np.arange(len(test)), sub[c][len(train):]])
            losses[c].append(strength.held_out_loss(centre, unique_rows(slots)[1].reshape(-1), sub[c], len(train),
                                                    card))
    return np.array([strength.choose(np.vstack(losses[c])) if losses[c] else strength.FIXED_STRENGTH
                     for c in lay.order])


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control over the tests in p)."""
    p = np.asarray(p, dtype=float)
    k = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (k - np.arange(k))))
    out = np.empty(k)
    out[order] = adjusted
    return out


def gain_tests(gain: np.ndarray, se: np.ndarray, m: int, tested: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(one-sided p-value, Holm-adjusted p-value) per column of a paired t-test of H0: the mean
    per-row log-loss gain over the fixed part is <= 0, on m held-out rows; the adjustment runs
    over the `tested` columns only (the others get p = 1)."""
    from scipy.stats import t as student_t

    gain, se = np.asarray(gain, dtype=float), np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, gain / np.where(se > 0, se, 1.0), np.where(gain > 0, np.inf, -np.inf))
    p = np.where(tested, student_t.sf(stat, df=max(m - 1, 1)), 1.0)
    adjusted = np.ones_like(p)
    if tested.any():
        adjusted[tested] = holm(p[tested])
    return p, adjusted


def _sig(value, digits: int = 5) -> float:
    """A float to `digits` significant digits (the record stays readable, a gain of 3e-06
    stays 3e-06, and the test statistics can be recomputed from it)."""
    return float(f"{float(value):.{digits}g}")


def select_columns(slot_lm: SlotLM, gain: np.ndarray, se: np.ndarray, m: int, settings: TrainSettings) -> dict:
    """Keep the LM for the columns whose per-row gain on the m selection rows is significant
    (one-sided paired t-test, Holm across the columns tested, family-wise `alpha`) and above
    `min_gain` nats a row; the others get gate 0 and never run the transformer again.
    Returns {column: {gain, se, p, p_holm, used}}."""
    tested = slot_lm.lm_on.cpu().numpy().copy()
    p, adjusted = gain_tests(gain, se, m, tested)
    keep = tested & (adjusted <= settings.alpha) & (np.asarray(gain) > settings.min_gain)
    with torch.no_grad():
        slot_lm.lm_on.copy_(torch.as_tensor(keep, device=slot_lm.lm_on.device))
        slot_lm.lm_gate.masked_fill_(~slot_lm.lm_on, 0.0)
    return {c: {"gain": _sig(g), "se": _sig(e), "p": _sig(a), "p_holm": _sig(b), "used": bool(k)}
            for c, g, e, a, b, k in zip(slot_lm.layout.order, gain, se, p, adjusted, keep)}


def warmup_steps(settings: TrainSettings) -> int:
    """Steps before patience counts: the larger of the `warmup` (learning rate) and `settle`
    shares of the budget, at least two evaluations, at most the budget. On a simulated XOR
    outcome the residual's held-out loss sat flat for 100-130 steps before it fell to the
    truth (tests/test_lm_schedule.py): a patience counted from step 0 stops it first."""
    share = max(settings.warmup, settings.settle)
    return int(min(settings.steps, max(2 * settings.eval_every, int(np.ceil(share * settings.steps)))))


def train(slot_lm: SlotLM, codes: np.ndarray, settings: TrainSettings,
          progress: Optional[ProgressFn] = None, check=None) -> dict:
    """Logistic tables in closed form, then the LM residual with early stopping on the
    stopping rows, then per-column selection on the selection rows (module docstring).
    `check()` raises to cancel. stats["stopped_because"] is a key of lm.record.STOPPED.
    Progress reports the steps actually run (the last report is
    ("fine-tuning", steps run, budget), not the budget twice when training stopped early)."""
    progress = progress or no_progress
    t0 = time.perf_counter()
    prepare_trainable(slot_lm, settings)
    every = np.arange(len(codes))
    fit_rows, stop_rows, select_rows = split_rows(len(codes), settings)
    names = slot_lm.layout.order
    # The fixed part's strengths, chosen once on every fitting row (the held-out rows too: a
    # hyperparameter of the part the residual must beat, so it can only make the gate stricter).
    cv = settings.ess == "cv"
    ess = cv_strengths(slot_lm, codes, every, settings, check) if cv else settings.ess
    chosen_strengths = {"strengths": {c: float(v) for c, v in zip(names, ess)}} if cv else {}
    if not slot_lm.use_lm or not len(stop_rows):
        start = fit_base(slot_lm, codes, every, settings, ess, check)
        with torch.no_grad():
            slot_lm.lm_on.fill_(False)
            slot_lm.lm_gate.zero_()
        progress("fine-tuning", 1, 1)
        return {**start, **chosen_strengths, "val_rows": 0, "stop_rows": 0, "select_rows": 0, "steps": 0, "step_budget": 0,
                "warmup_steps": 0, "best_step": 0, "seconds": time.perf_counter() - t0,
                "stopped_because": "no_lm" if not slot_lm.use_lm else "too_few_rows",
                "lm_columns": [], "per_column": {}, "val_loss_logistic": None, "val_loss": None, "gate_max": 0.0,
                "trainable_parameters": 0}
    # The base is fitted on the training rows only while the residual is judged, so the
    # held-out rows are unseen by both; it is refitted on every row at the end.
    fit_base(slot_lm, codes, fit_rows, settings, ess, check)
    base_stop = column_losses(slot_lm, codes, stop_rows, check=check, with_lm=False)
    stats = {"val_rows": int(len(stop_rows) + len(select_rows)), "stop_rows": int(len(stop_rows)),
             "select_rows": int(len(select_rows))}
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    slots = [p for p in slot_lm.slot_parameters() if p.requires_grad]
    own = {id(p) for p in slot_lm.slot_parameters() + slot_lm.skip_parameters()}
    body = [p for p in slot_lm.parameters() if p.requires_grad and id(p) not in own]
    wd = settings.weight_decay
    groups = [{"params": slots, "lr": settings.slot_lr, "weight_decay": wd},
              {"params": [slot_lm.lm_gate], "lr": settings.gate_lr, "weight_decay": wd if settings.gate_decay else 0.0},
              {"params": body, "lr": settings.lr, "weight_decay": wd}]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]])
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    n = len(fit_rows)
    batch = min(settings.batch_size, n)
    order, cursor = rng.permutation(n), 0
    best_val, best_step, best_state, stale = base_stop.copy(), 0, _snapshot(slot_lm), 0
    warm = warmup_steps(settings)
    warm_share = warm / settings.steps  # patience counts after it
    lr_warm = max(settings.warmup, 1.0 / settings.steps)  # the learning rate warms up over this share
    losses, curve = [], [[0, round(float(base_stop.sum()), 5)]]
    step, why = 0, "budget"
    total = int(np.ceil(settings.seconds)) if settings.seconds is not None else settings.steps
    progress("fine-tuning", 0, total)
    slot_lm.train()
    while step < settings.steps:
        if check is not None:
            check()
        if cursor + batch > n:  # a new epoch: a new shuffle
            order, cursor = rng.permutation(n), 0
        rows = fit_rows[order[cursor:cursor + batch]]
        cursor += batch
        done = step / settings.steps
        if settings.seconds is not None:
            done = max(done, (time.perf_counter() - t0) / settings.seconds)
        for group, lr in zip(optimizer.param_groups, base_lrs):
            group["lr"] = lr * _schedule(done, lr_warm)
        optimizer.zero_grad(set_to_none=True)
        loss = train_loss(slot_lm, codes, rows)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        step += 1
        elapsed = time.perf_counter() - t0
        progress("fine-tuning", step if settings.seconds is None else min(int(elapsed), total), total)
        if step % settings.eval_every == 0 or step == settings.steps:
            slot_lm.eval()
            val = column_losses(slot_lm, codes, stop_rows, check=check)
            slot_lm.train()
            curve.append([step, round(float(val.sum()), 5)])
            reached = step / settings.steps
            if settings.seconds is not None:
                reached = max(reached, elapsed / settings.seconds)
            if val.sum() < best_val.sum() - settings.min_gain:
                best_val, best_step, best_state, stale = val, step, _snapshot(slot_lm), 0
            elif reached > warm_share:  # patience counts only after the warm-up
                stale += 1
                if stale >= settings.patience:
                    why = "patience"
                    break
        if settings.seconds is not None and elapsed >= settings.seconds:
            why = "seconds"
            break
    slot_lm.eval()
    _restore(slot_lm, best_state)
    model_select, gain, se = _losses(slot_lm, codes, select_rows, check=check)
    base_select = model_select + gain  # the fixed part's own loss on the selection rows
    per_column = select_columns(slot_lm, gain, se, len(select_rows), settings)
    chosen = [c for c in names if per_column[c]["used"]]
    final = base_select - np.where(slot_lm.lm_on.cpu().numpy(), gain, 0.0)
    stats.update(fit_base(slot_lm, codes, every, settings, ess, check), **chosen_strengths)
    return {**stats, "steps": step, "step_budget": int(settings.steps), "warmup_steps": warm, "best_step": best_step,
            "stopped_because": why, "seconds": time.perf_counter() - t0,
            "first_loss": losses[0], "last_loss": float(np.mean(losses[-5:])), "stop_curve": curve,
            "val_loss_logistic": float(base_select.mean()), "val_loss": float(final.mean()),
            "val_loss_by_column": {c: [round(float(a), 4), round(float(a - g), 4)]
                                   for c, a, g in zip(names, base_select, gain)},
            "per_column": per_column, "lm_columns": chosen, "gate_max": float(slot_lm.lm_gate.detach().abs().max()),
            "trainable_parameters": int(sum(p.numel() for p in slot_lm.parameters() if p.requires_grad))}


def _snapshot(slot_lm: SlotLM) -> dict:
    return {k: v.detach().clone() for k, v in trainable_state(slot_lm).items()}


def _restore(slot_lm: SlotLM, state: dict) -> None:
    with torch.no_grad():
        params = dict(slot_lm.named_parameters())
        for k, v in state.items():
            params[k].copy_(v)


def _schedule(done: float, warm: float = 0.05) -> float:
    """LR factor at a share `done` of the budget: linear warm-up from 10% over the first
    `warm` share, then cosine decay to 5%, so short budgets still end in a settled state
    instead of Adam's noise floor."""
    if done < warm:
        return 0.1 + 0.9 * done / warm
    return 0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(1.0, (done - warm) / max(1e-9, 1 - warm))))


def cache_dir(key: str) -> Path:
    from faircause_core.generators.lm import store as lm_store

    return lm_store.cache_root() / "finetuned" / key


def save_cached(slot_lm: SlotLM, key: str, meta: dict) -> Path:
    """Write the trainable state atomically (lm_store.atomic_folder: one rename into place)."""
    from safetensors.torch import save_file

    from faircause_core.generators.lm.store import atomic_folder

    target = cache_dir(key)
    with atomic_folder(target) as tmp:
        state = {k: v.detach().contiguous().cpu() for k, v in cached_state(slot_lm).items()}
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
    expected = cached_state(slot_lm)
    try:
        state = load_file(str(folder / STATE_FILE), device=str(slot_lm.value_in.device))
        meta = json.loads((folder / META_FILE).read_text())
    except Exception:  # a damaged cache entry is not the user's problem: train again
        return None
    if set(state) != set(expected) or any(state[k].shape != p.shape for k, p in expected.items()):
        return None
    slot_lm.load_state_dict(state, strict=False)
    slot_lm.eval()
    return meta
