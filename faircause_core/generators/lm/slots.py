"""Slot encoding of a table row for a causal language model, with a DAG attention mask.

A row is written in a topological order of the DAG as slots [BOS, q_1, v_1, ..., q_K, v_K]:
q_c is column c's query slot (" <name> is"), v_c its value slot. Every slot is one learned
input embedding (initialised from the mean token embedding of its text), fed to the model
with explicit position ids (q_c at 2i+1, v_c at 2i+2). The 4D attention mask lets v_c see
only BOS and itself (values are context-free) and q_c only BOS, itself and the value slots
of c's DAG parents, so column c's predicted distribution depends on its parents and nothing
else: a proxy that precedes c in the order but is not its parent cannot leak into it
(method.md section 3). q_c's last hidden state is scored against c's value output
embeddings only: constrained decoding by construction, every sampled value is valid.

Because value slots are context-free, their keys/values at every layer depend only on
(column, value): `prefix_kv` computes them once for all values ([BOS, every value slot]),
and each query then costs ONE new token attending to BOS + its parents' cached keys.
This is exactly the row formulation (`row_logprobs`, used to verify the mask) at a fraction
of its cost, for training as well as sampling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from faircause_core.errors import InputError
from faircause_core.generators.columns import ColumnCodec, check_graph_matches_table

MISSING_TEXT = "unknown"
PAD = -1


class SlotLayout:
    """Column order, parents, value vocabularies and slot positions for one table + DAG.

    Columns absent from the graph are not allowed (every column needs a mechanism); the
    value vocabulary of a column is its observed categories or Binner bins, plus
    "unknown" when it has missing values, so missing values are learned at their rate.
    """

    def __init__(self, table, graph, max_bins: int = 24):
        df = table.df
        columns = list(df.columns)
        check_graph_matches_table(graph, table, "fine-tune the language model on")
        self.columns = columns
        self.order = list(graph.topological_order())
        self.index = {c: i for i, c in enumerate(self.order)}
        self.parents = {c: list(graph.parents(c)) for c in self.order}
        self.cols: dict[str, ColumnCodec] = {c: ColumnCodec.from_table(table, c, max_bins) for c in columns}
        # Global value ids: column c (in topological order) owns ids offset[c] .. + card - 1.
        cards = [self.cols[c].card for c in self.order]
        self.offset = dict(zip(self.order, np.concatenate(([0], np.cumsum(cards)[:-1])).astype(int)))
        self.n_values = int(sum(cards))
        self.value_column = np.repeat(np.arange(len(self.order)), cards)
        self.max_parents = max([len(p) for p in self.parents.values()] + [0])

    def value_texts(self, c: str) -> list[str]:
        """Readable text of every value of column c (bin labels for numbers)."""
        col = self.cols[c]
        texts = col.binner.labels() if col.numeric else [str(v) for v in col.states]
        return texts + ([MISSING_TEXT] if col.has_missing else [])

    def query_text(self, c: str) -> str:
        return f" {c.replace('_', ' ')} is"

    def query_position(self, c: str) -> int:
        return 2 * self.index[c] + 1

    def value_position(self, c: str) -> int:
        return 2 * self.index[c] + 2

    def encode(self, df: pd.DataFrame) -> np.ndarray:
        """Per-column value codes (n, K) in topological order; missing = the last code."""
        return np.stack([self.cols[c].encode(df[c]) for c in self.order], axis=1).astype(np.int64)

    def decode(self, codes: np.ndarray, u: np.ndarray) -> pd.DataFrame:
        """Codes (n, K) back to a frame with the table's columns and value types; numbers
        are the observed value at quantile u[k] (uniforms (K, n)) of the row's bin."""
        return pd.DataFrame({c: self.cols[c].decode(codes[:, self.index[c]], u[self.index[c]])
                             for c in self.columns})

    def parent_slots(self, c: str, codes: dict) -> np.ndarray:
        """Global value ids of c's parents per row (n, max_parents), PAD-filled; codes: col -> (n,)."""
        pa = self.parents[c]
        n = len(next(iter(codes.values()))) if codes else 0
        out = np.full((n, self.max_parents), PAD, dtype=np.int64)
        for j, p in enumerate(pa):
            out[:, j] = self.offset[p] + np.asarray(codes[p], dtype=np.int64)
        return out

    def fingerprint(self) -> dict:
        """What the encoding depends on, for the fine-tune cache key."""
        return {
            "order": self.order,
            "parents": {c: self.parents[c] for c in self.order},
            "values": {c: self.value_texts(c) for c in self.order},
        }


def unique_rows(a: np.ndarray, return_counts: bool = False):
    """np.unique(a, axis=0, return_inverse=True[, return_counts=True]) for a 2-D integer array,
    the same rows in the same (lexicographic) order, by one lexsort: numpy's axis=0 path
    compares rows as structured records, 4-8x slower, and it was most of the language model's
    sampling time in the test suite."""
    a = np.asarray(a)
    if a.ndim != 2 or len(a) == 0 or a.shape[1] == 0:
        return np.unique(a, axis=0, return_inverse=True, return_counts=return_counts)
    order = np.lexsort(a.T[::-1])  # the last key is the primary one: column 0 first
    ordered = a[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    inverse = np.empty(len(a), dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    if not return_counts:
        return ordered[first], inverse
    return ordered[first], inverse, np.diff(np.append(np.flatnonzero(first), len(a)))


def _additive_mask(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Bool (.., q, k) -> float additive mask: works with both sdpa and eager attention
    (transformers passes a 4D mask through unchanged, masking_utils._preprocess_mask_arguments)."""
    zero = torch.zeros((), dtype=dtype, device=allowed.device)
    low = torch.tensor(torch.finfo(dtype).min, dtype=dtype, device=allowed.device)
    return torch.where(allowed, zero, low)


def _mean_rows(matrix: torch.Tensor, tokenizer, text: str) -> torch.Tensor:
    ids = tokenizer(text, add_special_tokens=False).input_ids or [tokenizer.unk_token_id or 0]
    return matrix[torch.tensor(ids, dtype=torch.long, device=matrix.device)].mean(dim=0)


class SlotLM(nn.Module):
    """A causal LM plus trainable slot embeddings; scores each column's values at its query."""

    def __init__(self, lm, tokenizer, layout: SlotLayout, use_lm: bool = True, device: str = "cpu"):
        """lm None: no language model at all (the fixed part alone: nothing is loaded, the slot
        embeddings are placeholders of width 1 and no transformer ever runs)."""
        super().__init__()
        self.lm = lm
        self.layout = layout
        self.use_lm = bool(use_lm) and lm is not None
        order = layout.order
        texts = [t for c in order for t in layout.value_texts(c)]
        if lm is None:
            self.base = None
            with torch.no_grad():
                self.bos = nn.Parameter(torch.zeros(1, 1, device=device))
                self.query_in = nn.Parameter(torch.zeros(len(order), 1, device=device))
                self.value_in = nn.Parameter(torch.zeros(len(texts), 1, device=device))
                self.value_out = nn.Parameter(torch.zeros(len(texts), 1, device=device))
            emb_in, out = self.value_in, None
        else:
            self.base = getattr(lm, lm.base_model_prefix)
            emb_in = lm.get_input_embeddings().weight.detach()
            out = lm.get_output_embeddings()
            emb_out = (out.weight if out is not None else lm.get_input_embeddings().weight).detach()
            bos_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else (tokenizer.eos_token_id or 0)
            with torch.no_grad():
                self.bos = nn.Parameter(emb_in[bos_id].clone()[None])
                self.query_in = nn.Parameter(torch.stack([_mean_rows(emb_in, tokenizer, layout.query_text(c)) for c in order]))
                self.value_in = nn.Parameter(torch.stack([_mean_rows(emb_in, tokenizer, f" {t}") for t in texts]))
                self.value_out = nn.Parameter(torch.stack([_mean_rows(emb_out, tokenizer, f" {t}") for t in texts]))
        # Additive path parent value -> child value logit (plus a per-value bias): a
        # main-effects logistic model of each column on its parents, next to the LM. Its
        # closed-form fit (train.fit_skip_tables) sets it before the first step, so main
        # effects (e.g. sex on death) start right. It reads only the parents, like the
        # mask, so the DAG property and the edits hold. The LM's logits enter through a
        # per-column gate that starts at 0 (ReZero): at step 0 the model IS the logistic
        # fit, and the transformer's contribution grows only as far as training finds it
        # lowers the loss (its initial logits are confidently wrong, e.g. 3.8 nats per
        # row for a 2-valued column on the demo).
        self.value_bias = nn.Parameter(torch.zeros(layout.n_values, device=emb_in.device))
        self.parent_skip = nn.Parameter(torch.zeros(layout.n_values, layout.n_values, device=emb_in.device))
        self.lm_gate = nn.Parameter(torch.zeros(len(order), device=emb_in.device))
        device = emb_in.device
        # Which columns run the transformer at all: all while training; after training only
        # those whose held-out loss the LM lowered (train.select_columns). A column that
        # is off costs no forward pass: its conditional is the logistic tables alone.
        self.register_buffer("lm_on", torch.full((len(order),), self.use_lm, dtype=torch.bool, device=device))
        self.register_buffer("q_pos", torch.tensor([layout.query_position(c) for c in order], device=device), persistent=False)
        v_pos = np.repeat([layout.value_position(c) for c in order], [layout.cols[c].card for c in order])
        self.register_buffer("prefix_pos", torch.tensor(np.concatenate(([0], v_pos)), device=device)[None], persistent=False)
        self.register_buffer("value_col", torch.tensor(layout.value_column, device=device), persistent=False)
        # The token tables are never used (slots come in as embeddings): keep them out of training.
        if lm is not None:
            lm.get_input_embeddings().weight.requires_grad_(False)
        if out is not None:
            out.weight.requires_grad_(False)

    @property
    def dtype(self) -> torch.dtype:
        return self.value_in.dtype

    def slot_parameters(self) -> list[nn.Parameter]:
        return [self.bos, self.query_in, self.value_in, self.value_out]

    def skip_parameters(self) -> list[nn.Parameter]:
        return [self.value_bias, self.parent_skip, self.lm_gate]

    def set_counts(self, codes: np.ndarray, rows: np.ndarray, ess) -> None:
        """Count each column's values per parent configuration seen in `rows` of `codes`, for
        the Dirichlet posterior of `base_logits`; ess: its strength, one for every column or
        one per column in layout order (train.cv_strengths); 0 = the logistic model alone."""
        lay = self.layout
        self.strengths = np.broadcast_to(np.asarray(ess, dtype=float), (len(lay.order),)).copy()
        self.ess = float(self.strengths.max()) if len(self.strengths) else 0.0
        self._counts = {}
        if self.ess <= 0 or len(rows) == 0:
            return
        sub = {c: codes[rows, lay.index[c]] for c in lay.order}
        for c in lay.order:
            keys = np.concatenate([np.full((len(rows), 1), lay.index[c]), lay.parent_slots(c, sub)], axis=1)
            uniq, inverse = unique_rows(keys)
            counts = np.zeros((len(uniq), lay.cols[c].card))
            np.add.at(counts, (inverse.reshape(-1), sub[c]), 1.0)
            self._counts.update(zip((k.tobytes() for k in uniq), counts))

    @torch.no_grad()
    def base_logits(self, cols: torch.Tensor, slots: torch.Tensor, leave_out: torch.Tensor | None = None) -> torch.Tensor:
        """The fixed part of each query's logits (N, n_values), -inf outside its column: the
        log of the Bayes net's conditional, a Dirichlet posterior centred on the logistic
        model, P(v | c) = (N(v, c) + ess * logistic(v | c)) / (N(c) + ess) over the parent
        configurations c seen in fitting (set_counts), the logistic model elsewhere.

        leave_out: (N,) the global value id of each query's own row, whose count is taken out
        (leave-one-out): what the posterior would say had the row not been counted. The
        residual trains on rows that are in the counts; without this it learns against a
        posterior that has seen each row's answer (with one row per configuration, a sixth of
        the posterior at 5 pseudo rows), not the one new rows meet."""
        own = self.value_col[None, :] == cols[:, None]
        logp = torch.log_softmax(self.skip_logits(slots).masked_fill(~own, float("-inf")), dim=-1)
        counts = getattr(self, "_counts", None)
        if not counts:
            return logp
        lay = self.layout
        keys = torch.cat([cols[:, None], slots], dim=1).cpu().numpy().astype(np.int64)
        table = np.zeros((len(keys), lay.n_values))
        hit = np.zeros(len(keys), dtype=bool)
        starts = np.array([lay.offset[c] for c in lay.order])
        for i, key in enumerate(keys):
            found = counts.get(key.tobytes())
            if found is not None:
                lo = starts[key[0]]
                table[i, lo:lo + len(found)] = found
                hit[i] = True
        if leave_out is not None and hit.any():
            own_value = leave_out.cpu().numpy()
            rows = np.flatnonzero(hit)
            table[rows, own_value[rows]] -= 1.0
            hit &= table.sum(axis=1) > 0  # a configuration only this row had: the logistic model
            np.clip(table, 0.0, None, out=table)
        if not hit.any():
            return logp
        n = torch.as_tensor(table, dtype=logp.dtype, device=logp.device)
        total = n.sum(dim=1, keepdim=True)
        ess = torch.as_tensor(self.strengths, dtype=logp.dtype, device=logp.device)[cols.long()][:, None]
        post = torch.log((n + ess * logp.exp()) / (total + ess))
        post = post.masked_fill(~own, float("-inf"))
        return torch.where(torch.as_tensor(hit, device=logp.device)[:, None], post, logp)

    def skip_logits(self, slots: torch.Tensor) -> torch.Tensor:
        """(N, S) parent value ids (PAD -1) -> (N, n_values) additive logits (a sum of table
        rows without materialising (N, S, n_values): outcomes may have 10+ parents)."""
        if slots.shape[1] == 0:
            return self.value_bias.expand(slots.shape[0], -1)
        rows = nn.functional.embedding_bag(slots.clamp(min=0), self.parent_skip,
                                           per_sample_weights=(slots >= 0).to(self.dtype), mode="sum")
        return self.value_bias + rows

    def skip_block_logits(self, slots: torch.Tensor, lo: int, card: int) -> torch.Tensor:
        """skip_logits of queries of one column, only over its own values lo:lo+card: (N, card).
        What skip_logits gives in that block, without the (N, n_values) matrix: on a 56-column
        table that matrix was 50x the block, and the logistic fit's time went to it."""
        bias = self.value_bias[lo:lo + card]
        if slots.shape[1] == 0:
            return bias.expand(slots.shape[0], -1)
        rows = nn.functional.embedding_bag(slots.clamp(min=0), self.parent_skip[:, lo:lo + card].contiguous(),
                                           per_sample_weights=(slots >= 0).to(self.dtype), mode="sum")
        return bias + rows

    def prefix_kv(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Keys/values of [BOS, every value slot] per layer: each slot sees BOS and itself
        (none without the LM: the skip tables alone need no keys)."""
        if not self.use_lm or not bool(self.lm_on.any()):
            return []
        x = torch.cat([self.bos, self.value_in], dim=0)[None]
        p = x.shape[1]
        eye = torch.eye(p, dtype=torch.bool, device=x.device)
        eye[:, 0] = True
        mask = _additive_mask(eye, self.dtype)[None, None]
        out = self.base(inputs_embeds=x, position_ids=self.prefix_pos, attention_mask=mask, use_cache=True)
        return [(layer[0], layer[1]) for layer in _cache_layers(out.past_key_values)]

    def query_logprobs(self, kv, cols: torch.Tensor, slots: torch.Tensor,
                       leave_out: torch.Tensor | None = None) -> torch.Tensor:
        """Log-probabilities (N, n_values) for N queries; -inf outside each query's column.

        cols: (N,) topological column index; slots: (N, S) global value ids of the parents
        (PAD = -1). Each query is one new token attending to BOS + its parents' cached slots.
        leave_out: see base_logits (training only).
        """
        logits = self.base_logits(cols, slots, leave_out)
        on = self.lm_on[cols] if self.use_lm and kv else None
        if on is not None and bool(on.any()):
            every = bool(on.all())
            idx = None if every else on.nonzero().squeeze(1)
            c, s = (cols, slots) if every else (cols[idx], slots[idx])
            residual = self.lm_gate[c][:, None] * (self._query_hidden(kv, c, s) @ self.value_out.T)
            logits = logits + residual if every else logits.index_add(0, idx, residual)
        return torch.log_softmax(logits, dim=-1)

    def _query_hidden(self, kv, cols: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
        """Last hidden state of each query token over BOS + its parents' cached value slots."""
        from transformers import DynamicCache

        n = cols.shape[0]
        index = torch.cat([torch.zeros(n, 1, dtype=torch.long, device=slots.device), slots.clamp(min=0) + 1], dim=1)
        layers = [(k[0][:, index].transpose(0, 1), v[0][:, index].transpose(0, 1)) for k, v in kv]
        allowed = torch.cat(
            [torch.ones(n, 1, dtype=torch.bool, device=slots.device), slots >= 0,
             torch.ones(n, 1, dtype=torch.bool, device=slots.device)], dim=1)
        mask = _additive_mask(allowed, self.dtype)[:, None, None, :]
        out = self.base(
            inputs_embeds=self.query_in[cols][:, None],
            position_ids=self.q_pos[cols][:, None],
            attention_mask=mask,
            past_key_values=DynamicCache(ddp_cache_data=layers),
            use_cache=True,
        )
        return out.last_hidden_state[:, 0]

    def _score(self, hidden, cols: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
        """Only the column's value output rows: the LM head restricted to valid values, gated,
        plus the skip tables (hidden None: the skip tables alone)."""
        logits = self.base_logits(cols, slots)
        if hidden is not None:
            gate = self.lm_gate[cols] * self.lm_on[cols].to(self.dtype)
            logits = logits + gate[:, None] * (hidden @ self.value_out.T)
        own = self.value_col[None, :] == cols[:, None]
        return torch.log_softmax(logits.masked_fill(~own, float("-inf")), dim=-1)

    def row_logprobs(self, codes: torch.Tensor) -> torch.Tensor:
        """Reference formulation: full rows [BOS, q_1, v_1, ..., q_K, v_K] with the 4D DAG mask
        in one forward pass; returns (B, K, n_values) log-probs at every query slot.

        Slower than the prefix/query path and equal to it; kept to verify that the model
        honours the mask (tests) and as the plain statement of the encoding.
        """
        lay = self.layout
        b, k = codes.shape
        offsets = torch.tensor([lay.offset[c] for c in lay.order], device=codes.device)
        vals = self.value_in[codes + offsets]  # (B, K, H)
        q = self.query_in[None].expand(b, -1, -1)
        x = torch.stack([q, vals], dim=2).reshape(b, 2 * k, -1)
        x = torch.cat([self.bos[None].expand(b, -1, -1), x], dim=1)
        length = 2 * k + 1
        pos = torch.arange(length, device=codes.device)[None].expand(b, -1)
        allowed = torch.eye(length, dtype=torch.bool, device=codes.device)
        allowed[:, 0] = True
        for c in lay.order:
            qi = lay.query_position(c)
            for p in lay.parents[c]:
                allowed[qi, lay.value_position(p)] = True
        mask = _additive_mask(allowed, self.dtype)[None, None].expand(b, 1, -1, -1)
        h = None
        if self.use_lm:
            hidden = self.base(inputs_embeds=x, position_ids=pos, attention_mask=mask).last_hidden_state
            h = hidden[:, 1::2].reshape(b * k, -1)  # query slots
        cols = torch.arange(k, device=codes.device)
        by_col = {c: codes[:, lay.index[c]].cpu().numpy() for c in lay.order}
        slots = np.stack([lay.parent_slots(c, by_col) for c in lay.order], axis=1)  # (B, K, S)
        slots = torch.as_tensor(slots.reshape(b * k, -1), device=codes.device)
        return self._score(h, cols.repeat(b), slots).reshape(b, k, -1)

    @torch.inference_mode()
    def column_probs(self, kv, c: str, slots: np.ndarray, chunk: int = 512, check=None,
                     memo: dict | None = None) -> np.ndarray:
        """P(column c | parents) for each row of `slots` (n, S) as (n, card_c), computed once
        per DISTINCT parent configuration; `check()` runs before every forward chunk.

        `memo` (config bytes -> probabilities, one dict per column) carries results across
        calls: weights are fixed after fit, so a re-sample with other fairness settings
        only runs the configurations it has not seen (common random numbers keep most)."""
        lay = self.layout
        uniq, inverse = unique_rows(slots)
        ci = lay.index[c]
        lo, hi = lay.offset[c], lay.offset[c] + lay.cols[c].card
        probs = np.empty((len(uniq), hi - lo))
        memo = {} if memo is None else memo
        keys = [row.tobytes() for row in uniq]
        todo = [i for i, key in enumerate(keys) if key not in memo]
        device = self.value_in.device
        for start in range(0, len(todo), chunk):
            if check is not None:
                check()
            rows = todo[start:start + chunk]
            part = torch.as_tensor(uniq[rows], device=device)
            cols = torch.full((len(rows),), ci, dtype=torch.long, device=device)
            values = self.query_logprobs(kv, cols, part)[:, lo:hi].exp().double().cpu().numpy()
            for i, p in zip(rows, values):
                memo[keys[i]] = p
        for i, key in enumerate(keys):
            probs[i] = memo[key]
        return probs[inverse.reshape(-1)]


def _cache_layers(cache):
    """(keys, values) per layer of a transformers Cache (5.x layers API, else legacy tuples)."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return [(k, v) for k, v in cache]


def decoder_layers(base) -> nn.ModuleList:
    """The decoder layer list of a causal LM's base model: `layers` (Llama, Qwen2, Mistral,
    ...) or `h` (GPT-2 and its kin)."""
    for name in ("layers", "h"):
        layers = getattr(base, name, None)
        if isinstance(layers, nn.ModuleList):
            return layers
    raise InputError(f"model {type(base).__name__} has no decoder layer list (layers or h)")
