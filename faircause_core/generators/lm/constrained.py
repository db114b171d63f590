"""Constrained decoding of literal column values with a causal language model.

Each column's allowed values are written as text, tokenised as " " + text + terminator and
stored in a token trie; sampling masks every logit the trie does not allow, so each output
is a valid value by construction (no malformed row is ever thrown away, which would bias
the sample towards what the model finds easy to write).

`RowDecoder` keeps one KV cache for a batch of rows that grow by different numbers of
tokens: each forward appends a block to every row, and rows with fewer tokens get "holes"
(attention mask 0) instead of left padding, with explicit position ids so each row still
reads as contiguous text. The same mask can hide earlier columns of a row, which lets a
caller show a column only what the causal graph says it depends on.
"""

from __future__ import annotations

import math
from typing import Iterable, Optional, Sequence

import numpy as np

from faircause_core.errors import InputError

MISSING_TEXT = "missing"
MAX_NUMERIC_VALUES = 20_000
_NICE_STEPS = (1, 2, 5)


def _clean_text(value) -> str:
    """Text for a category: no terminators or newlines inside (keeps the trie prefix-free)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)  # a numeric category 11.0 reads as "11", as in the data file
    text = str(value).replace("\n", " ").replace("\r", " ").replace(",", ";").strip()
    return text or "(empty)"


def _format_number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def infer_decimals(values, max_decimals: int = 6) -> int:
    """Smallest number of decimals that represents every observed value exactly."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    for d in range(max_decimals + 1):
        if np.allclose(np.round(x, d), x, rtol=0, atol=1e-9 * max(1.0, float(np.abs(x).max(initial=0)))):
            return d
    return max_decimals


class ValueVocabulary:
    """The values one column may take, as text, plus the token trie built from them."""

    def __init__(self, texts: Sequence[str], values: Sequence, *, column: str = "", numeric: bool = False,
                 missing_text: Optional[str] = None, terminator: str = ",", step: Optional[float] = None,
                 decimals: Optional[int] = None):
        if len(texts) != len(values) or not texts:
            raise InputError(f"column {column!r} has no values to generate")
        if len(set(texts)) != len(texts):
            raise InputError(f"column {column!r}: two values are written the same way")
        self.column = column
        self.texts = list(texts)
        self.values = list(values)
        self.numeric = numeric
        self.terminator = terminator
        self.missing_text = missing_text
        self.step = step
        self.decimals = decimals
        self._index = {t: i for i, t in enumerate(self.texts)}
        self._value_index = {} if numeric else {self._key(v): i for i, v in enumerate(self.values)}
        self.tokenizer_id = None

    # construction ---------------------------------------------------------------------
    @staticmethod
    def _key(value):
        if isinstance(value, float) and math.isnan(value):
            return ("nan",)
        return (type(value).__name__ if isinstance(value, str) else "num", str(value) if isinstance(value, str) else float(value))

    @classmethod
    def categorical(cls, categories: Iterable, *, column: str = "", missing: bool = False,
                    missing_text: str = MISSING_TEXT, terminator: str = ",") -> "ValueVocabulary":
        cats = [c for c in categories if not (isinstance(c, float) and math.isnan(c))]
        texts, seen = [], set()
        for c in cats:
            text = _clean_text(c)
            base, k = text, 2
            while text.lower() in seen:  # two values cleaned to the same text
                text, k = f"{base} ({k})", k + 1
            seen.add(text.lower())
            texts.append(text)
        values = list(cats)
        miss = None
        if missing:
            miss = missing_text
            while miss.lower() in seen:  # e.g. a real category called "Missing"
                miss = f"({miss})"
            texts.append(miss)
            values.append(float("nan"))
        return cls(texts, values, column=column, numeric=False, missing_text=miss, terminator=terminator)

    @classmethod
    def numeric_range(cls, minimum: float, maximum: float, decimals: int, *, column: str = "",
                      missing: bool = False, missing_text: str = MISSING_TEXT, terminator: str = ",",
                      max_values: int = MAX_NUMERIC_VALUES) -> "ValueVocabulary":
        """Every value from min to max at the column's precision, coarsened past max_values."""
        if not (np.isfinite(minimum) and np.isfinite(maximum)) or maximum < minimum:
            raise InputError(f"column {column!r} has no usable numeric range ({minimum}..{maximum})")
        decimals = max(0, int(decimals or 0))
        step = 10.0 ** -decimals
        if (maximum - minimum) / step + 1 > max_values:
            # smallest 1/2/5 x 10^k step that keeps the count under max_values
            raw = (maximum - minimum) / (max_values - 1)
            exp = math.floor(math.log10(raw))
            step = next(m * 10.0 ** e for e in (exp, exp + 1) for m in _NICE_STEPS if m * 10.0 ** e >= raw)
            decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        k_low = math.ceil(round(minimum / step, 6))
        k_high = math.floor(round(maximum / step, 6))
        grid = np.round(np.arange(k_low, k_high + 1) * step, decimals)
        if grid.size == 0:  # range narrower than one coarse step
            grid = np.array([round(minimum, decimals)])
        texts = [_format_number(v, decimals) for v in grid]
        values = [float(v) for v in grid]
        miss = None
        if missing:
            miss = missing_text
            texts.append(miss)
            values.append(float("nan"))
        vocab = cls(texts, values, column=column, numeric=True, missing_text=miss, terminator=terminator,
                    step=step, decimals=decimals)
        vocab._grid = grid
        return vocab

    @classmethod
    def for_column(cls, series, column_schema=None, *, include_missing: Optional[bool] = None,
                   terminator: str = ",", max_values: int = MAX_NUMERIC_VALUES) -> "ValueVocabulary":
        """From a real column (and its ColumnSchema if known): categories or a numeric range."""
        import pandas as pd

        name = str(series.name)
        has_missing = bool(series.isna().any())
        missing = has_missing if include_missing is None else include_missing
        numeric = getattr(column_schema, "is_numeric", None)
        if numeric is None:
            numeric = pd.api.types.is_numeric_dtype(series) and series.nunique() > 20
        if numeric:
            observed = pd.to_numeric(series, errors="coerce").dropna()
            if observed.empty:
                raise InputError(f"column {name!r} has no observed values to generate")
            low = getattr(column_schema, "minimum", None)
            high = getattr(column_schema, "maximum", None)
            dec = getattr(column_schema, "decimals", None)
            low = float(observed.min()) if low is None else float(low)
            high = float(observed.max()) if high is None else float(high)
            dec = infer_decimals(observed.to_numpy()) if dec is None else int(dec)
            return cls.numeric_range(low, high, dec, column=name, missing=missing, terminator=terminator,
                                     max_values=max_values)
        cats = getattr(column_schema, "categories", None)
        if not cats:
            observed = series.dropna().unique().tolist()
            try:
                cats = sorted(observed)
            except TypeError:
                cats = sorted(observed, key=str)
        if not cats:
            raise InputError(f"column {name!r} has no observed values to generate")
        return cls.categorical(cats, column=name, missing=missing, terminator=terminator)

    # value <-> text ----------------------------------------------------------------------
    def index_of(self, value) -> int:
        """Vocabulary index of a real value (numbers snap to the nearest allowed one)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if self.missing_text is None:
                raise InputError(f"column {self.column!r}: missing value but no missing token")
            return self._index[self.missing_text]
        if self.numeric:
            grid = self._grid
            pos = int(np.clip(np.searchsorted(grid, float(value)), 0, grid.size - 1))
            if pos > 0 and abs(grid[pos - 1] - float(value)) <= abs(grid[pos] - float(value)):
                pos -= 1
            return pos
        try:
            return self._value_index[self._key(value)]
        except KeyError:
            key = str(value)
            for i, v in enumerate(self.values):  # "1" vs 1 and similar
                if str(v) == key:
                    return i
            raise InputError(f"column {self.column!r}: value {value!r} is not one of its categories")

    def text_of(self, value) -> str:
        return self.texts[self.index_of(value)]

    def missing_index(self) -> Optional[int]:
        return None if self.missing_text is None else self._index[self.missing_text]

    # trie --------------------------------------------------------------------------------
    def build(self, tokenizer) -> "ValueVocabulary":
        """Tokenise every value and build the trie (once per tokenizer)."""
        if self.tokenizer_id == id(tokenizer):
            return self
        pieces = [" " + t + self.terminator for t in self.texts]
        ids = tokenizer(pieces, add_special_tokens=False)["input_ids"]
        self.token_ids = [list(x) for x in ids]
        children: list[dict] = [{}]
        leaf: list[int] = [-1]
        for value_index, seq in enumerate(self.token_ids):
            node = 0
            for tok in seq:
                nxt = children[node].get(tok)
                if nxt is None:
                    nxt = len(children)
                    children[node][tok] = nxt
                    children.append({})
                    leaf.append(-1)
                node = nxt
            if leaf[node] != -1 or children[node]:
                raise InputError(f"column {self.column!r}: value {self.texts[value_index]!r} is ambiguous as text")
            leaf[node] = value_index
        for node, kids in enumerate(children):
            if leaf[node] == -1 and not kids:  # cannot happen: every path ends at a leaf
                raise RuntimeError("broken value trie")
        self.children = children
        self.leaf = leaf
        self._allowed = {}
        self.tokenizer_id = id(tokenizer)
        return self

    def allowed(self, node: int) -> np.ndarray:
        cached = self._allowed.get(node)
        if cached is None:
            cached = np.fromiter(self.children[node].keys(), dtype=np.int64)
            self._allowed[node] = cached
        return cached

    def forced_chain(self, node: int) -> tuple[list[int], int]:
        """Follow single-child steps from node: (tokens that need no sampling, end node)."""
        tokens = []
        while self.leaf[node] == -1 and len(self.children[node]) == 1:
            tok, node = next(iter(self.children[node].items()))
            tokens.append(tok)
        return tokens, node

    def __len__(self) -> int:
        return len(self.texts)


def torch_generator(rng, device="cpu"):
    """A seeded torch.Generator from an int seed, a numpy Generator or a torch.Generator."""
    import torch

    if isinstance(rng, torch.Generator):
        return rng
    if isinstance(rng, np.random.Generator):
        seed = int(rng.integers(0, 2**63 - 1))
    elif rng is None:
        seed = 0
    else:
        seed = int(rng)
    gen = torch.Generator(device=str(device))
    gen.manual_seed(seed)
    return gen


_LOGIT_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "logits_scaling", "output_multiplier_scale")


def _output_head(model):
    """(weight, bias) of a plain linear output layer, or None if logits need the full model."""
    import torch

    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    base = getattr(model, "base_model", None)
    config = getattr(model, "config", None)
    if not isinstance(head, torch.nn.Linear) or base is None or base is model:
        return None
    if any(getattr(config, name, None) not in (None, 1, 1.0) for name in _LOGIT_TRANSFORMS):
        return None
    return head.weight, head.bias


class RowDecoder:
    """Incremental batched decoding over rows of different lengths with one KV cache."""

    def __init__(self, model, tokenizer, device=None):
        import torch

        self.model = model
        self.tokenizer = tokenizer
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else (tokenizer.eos_token_id or 0))
        self.cache = None
        self.mask = None  # (B, L) 1 = real token
        self.cols = None  # (B, L) column label per position, -1 = prompt
        self.last = None  # (B, H) last hidden state, or (B, V) logits on the slow path
        self.n_forward = 0
        self._head = _output_head(model)

    @property
    def batch_size(self) -> int:
        return 0 if self.mask is None else int(self.mask.shape[0])

    def start(self, prefix_ids: Sequence[Sequence[int]]) -> "RowDecoder":
        """Run the prompt(s); rows may differ in length."""
        import torch
        from transformers import DynamicCache

        if not prefix_ids or any(len(p) == 0 for p in prefix_ids):
            raise ValueError("every row needs a non-empty prompt")
        b = len(prefix_ids)
        self.cache = DynamicCache()
        self.mask = torch.zeros((b, 0), dtype=torch.long, device=self.device)
        self.cols = torch.zeros((b, 0), dtype=torch.long, device=self.device)
        self.last = None
        self.feed(prefix_ids, col=-1)
        return self

    def expand(self, n: int) -> "RowDecoder":
        """Repeat a one-row state n times (one shared prompt computed once)."""
        if self.batch_size != 1:
            raise ValueError("expand needs a single-row state")
        self.cache.batch_repeat_interleave(n)
        self.mask = self.mask.repeat(n, 1)
        self.cols = self.cols.repeat(n, 1)
        self.last = self.last.repeat(n, 1)
        return self

    def _view(self, hide: Optional[Iterable[int]]):
        if not hide:
            return self.mask
        import torch

        hidden = torch.as_tensor(sorted(set(hide)), dtype=torch.long, device=self.device)
        return self.mask * (~torch.isin(self.cols, hidden)).long()

    def feed(self, tokens: Sequence[Sequence[int]], col: int = -1, hide: Optional[Iterable[int]] = None):
        """Append tokens to every row (ragged; empty lists allowed) and update the logits.

        hide: column labels whose earlier tokens these new tokens may not attend to.
        """
        import torch

        if len(tokens) != self.batch_size:
            raise ValueError("one token list per row")
        lengths = torch.tensor([len(t) for t in tokens], dtype=torch.long, device=self.device)
        width = int(lengths.max()) if len(tokens) else 0
        if width == 0:
            return
        b = self.batch_size
        ids = torch.full((b, width), self.pad_id, dtype=torch.long, device=self.device)
        for i, seq in enumerate(tokens):
            if len(seq):
                ids[i, : len(seq)] = torch.as_tensor(list(seq), dtype=torch.long, device=self.device)
        new_mask = (torch.arange(width, device=self.device)[None, :] < lengths[:, None]).long()
        start = self.mask.sum(dim=1)
        positions = start[:, None] + torch.arange(width, device=self.device)[None, :]
        attention = torch.cat([self._view(hide), new_mask], dim=1)
        last = (lengths - 1).clamp(min=0)
        args = dict(input_ids=ids, attention_mask=attention, position_ids=positions,
                    past_key_values=self.cache, use_cache=True)
        rows = torch.arange(b, device=self.device)
        with torch.inference_mode():
            if self._head is not None:
                # Keep the hidden state; logits are computed later for allowed tokens only
                # (the 49k-token output layer is most of the cost of a small model).
                out = self.model.base_model(**args)
                picked = out.last_hidden_state[rows, last].float()
            else:
                out = self.model(**args)
                picked = out.logits[rows, last].float()
        self.n_forward += 1
        self.cache = out.past_key_values
        if self.last is None:
            self.last = picked
        else:
            self.last = torch.where((lengths == 0)[:, None], self.last, picked)
        self.mask = torch.cat([self.mask, new_mask], dim=1)
        self.cols = torch.cat([self.cols, torch.full_like(new_mask, col)], dim=1)

    def logits(self, rows: Sequence[int], token_ids=None):
        """Next-token logits of `rows` (for `token_ids` only, or the whole vocabulary)."""
        import torch

        state = self.last[list(rows)]
        if self._head is None:
            return state if token_ids is None else state[:, token_ids]
        weight, bias = self._head
        with torch.inference_mode():
            w = weight if token_ids is None else weight[token_ids]
            out = state @ w.float().T
            if bias is not None:
                out = out + (bias if token_ids is None else bias[token_ids]).float()
        return out

    @property
    def last_logits(self):
        """Full next-token logits of every row (tests and debugging)."""
        return self.logits(range(self.batch_size))

    def sample(self, vocab: ValueVocabulary, rows: Optional[Sequence[int]] = None, generator=None,
               temperature: float = 1.0, col: int = -1, hide: Optional[Iterable[int]] = None) -> list[int]:
        """Sample one value of `vocab` for each row in `rows` (default all); return value indices.

        Only trie-allowed tokens get probability; single-child steps are fed without
        sampling. Rows not in `rows` receive nothing.
        """
        import torch

        if vocab.tokenizer_id != id(self.tokenizer):
            vocab.build(self.tokenizer)
        rows = list(range(self.batch_size)) if rows is None else list(rows)
        generator = torch_generator(generator)
        node = {r: 0 for r in rows}
        result = {}
        pending = {}
        for r in rows:  # a forced start (e.g. the leading space of every number)
            chain, end = vocab.forced_chain(0)
            node[r], pending[r] = end, chain
        while True:
            need = [r for r in rows if r not in result and vocab.leaf[node[r]] == -1]
            if need and any(pending.get(r) for r in need):
                # forced tokens must be in the cache before sampling from the next logits
                self._flush(pending, col, hide)
                pending = {}
            if need:
                allowed = [vocab.allowed(node[r]) for r in need]
                union, inverse = np.unique(np.concatenate(allowed), return_inverse=True)
                logits = self.logits(need, torch.as_tensor(union, device=self.device))
                ri = np.concatenate([np.full(a.size, i) for i, a in enumerate(allowed)])
                ri = torch.as_tensor(ri, device=logits.device)
                ci = torch.as_tensor(inverse, device=logits.device)
                masked = torch.full_like(logits, float("-inf"))
                masked[ri, ci] = logits[ri, ci]
                if temperature is None or temperature <= 0:
                    chosen = masked.argmax(dim=1)
                else:
                    probs = torch.softmax(masked / float(temperature), dim=1)
                    chosen = torch.multinomial(probs.cpu(), 1, generator=generator)[:, 0]
                for i, r in enumerate(need):
                    tok = int(union[int(chosen[i])])
                    chain, end = vocab.forced_chain(vocab.children[node[r]][tok])
                    node[r] = end
                    pending[r] = pending.get(r, []) + [tok] + chain
            for r in rows:
                if r not in result and vocab.leaf[node[r]] != -1:
                    result[r] = vocab.leaf[node[r]]
            if len(result) == len(rows):
                self._flush(pending, col, hide)
                return [result[r] for r in rows]
            self._flush(pending, col, hide)
            pending = {}

    @property
    def length(self) -> int:
        """Positions in the cache (real tokens and holes)."""
        return 0 if self.mask is None else int(self.mask.shape[1])

    def fork(self, rows: Sequence[int], since: int) -> list[int]:
        """Append copies of `rows` whose tokens from position `since` on are hidden.

        Used for counterfactual text: copy a row just before a value was written, then
        write a different value into the copy. Returns the copies' row indices.
        """
        import torch

        rows = list(rows)
        b = self.batch_size
        if not rows:
            return []
        index = torch.as_tensor(list(range(b)) + rows, dtype=torch.long, device=self.device)
        self.cache.batch_select_indices(index)
        self.mask = self.mask[index].clone()
        self.mask[b:, since:] = 0
        self.cols = self.cols[index]
        self.last = self.last[index]
        return list(range(b, b + len(rows)))

    def _flush(self, pending: dict, col: int, hide):
        if any(pending.values()):
            tokens = [pending.get(i, []) for i in range(self.batch_size)]
            self.feed(tokens, col=col, hide=hide)

    def feed_values(self, vocab: ValueVocabulary, value_index: dict, col: int = -1,
                    hide: Optional[Iterable[int]] = None):
        """Append known values {row: value index} (forced text: missing, drawn X, copies)."""
        if vocab.tokenizer_id != id(self.tokenizer):
            vocab.build(self.tokenizer)
        tokens = [vocab.token_ids[value_index[i]] if i in value_index else [] for i in range(self.batch_size)]
        self.feed(tokens, col=col, hide=hide)


def sample_values(model, tokenizer, prefix_ids, vocab: ValueVocabulary, rng=None, temperature: float = 1.0) -> list:
    """Sample one value per prompt in prefix_ids; every result is one of vocab's values."""
    decoder = RowDecoder(model, tokenizer).start(prefix_ids)
    picked = decoder.sample(vocab.build(tokenizer), generator=rng, temperature=temperature)
    return [vocab.values[i] for i in picked]
