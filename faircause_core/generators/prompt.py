"""The paper's original mode: few-shot prompting of a local instruct model, no fine-tuning.

Each batch shows the model k real rows (drawn at random, seeded) written as text in the
DAG's topological order ("sex is Female, age is 63, ..."), then writes one new row per
batch member column by column with constrained decoding, so every value is valid.

Going past the paper: while writing a column, the row's non-parent columns are hidden
from the model through the attention mask (the in-context examples stay visible), so each
column is drawn given what the DAG says it depends on, and the pathway edits of
method.md section 3 act only where the graph routes them:
- DE: Y is written from a copy of the row whose X text says x*,
- IE: the mediators that are children of X are written from that copy,
- SE: X is drawn from its marginal instead of being written by the model.
Each edit applies to a row with probability alpha (the FairnessSpec dial). Missing values
are written as a "missing" token at each column's real rate.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from faircause_core.generators.lm.constrained import RowDecoder, ValueVocabulary, torch_generator
from faircause_core.generators.lm.threads import default_threads, torch_threads
from faircause_core.errors import InputError
from faircause_core.generators.base import CancelToken, FairnessSpec, Generator, ProgressFn, check_rows, no_progress

SYSTEM_PROMPT = (
    "You write realistic new rows for a table of {name}. A row lists every column in the same "
    "order as 'column is value', separated by commas."
)
USER_PROMPT = "Here are {k} real rows:\n{rows}\nWrite one new, different row in exactly the same format."


def _readable(name: str) -> str:
    return str(name).replace("_", " ").strip()


def _match_value(values, wanted, column: str):
    """The observed value that `wanted` (a value or the user's text) refers to."""
    for v in values:
        if v == wanted or str(v) == str(wanted):
            return v
    try:
        w = float(wanted)
        for v in values:
            if isinstance(v, (int, float, np.number)) and float(v) == w:
                return v
    except (TypeError, ValueError):
        pass
    raise InputError(f"group value {wanted!r} not found in column {column!r}")


class PromptGenerator(Generator):
    """Few-shot prompting of a local causal LM with graph-aware constrained decoding."""

    name = "prompt"

    def __init__(self, model_dir=None, n_examples: int = 8, batch_size: int = 16, temperature: float = 1.0,
                 mask_non_parents: bool = True, device: Optional[str] = None):
        if int(n_examples) < 1:
            raise InputError(f"number of example rows must be at least 1, got {n_examples}")
        if int(batch_size) < 1:
            raise InputError(f"batch size must be at least 1, got {batch_size}")
        if not float(temperature) >= 0:
            raise InputError(f"temperature must be 0 (always the likeliest value) or more, got {temperature}")
        self.model_dir = model_dir
        self.n_examples = int(n_examples)
        self.batch_size = int(batch_size)
        self.temperature = float(temperature)
        self.mask_non_parents = bool(mask_non_parents)
        self.device = device
        self._loaded = None

    # fit -----------------------------------------------------------------------------
    def fit(self, table, graph, roles, progress: Optional[ProgressFn] = None) -> "PromptGenerator":
        """Store the rows, the column order, the graph's parents and the value vocabularies."""
        progress = progress or no_progress
        graph = graph.for_sampling()  # a Z - X association is drawn as X given Z (causal.graph)
        df = table.df
        schema = getattr(table, "schema", None)
        columns = list(df.columns)
        for node in graph.nodes:
            if node not in df.columns:
                raise InputError(f"graph node {node!r} is not a column of table {getattr(table, 'name', 'data')!r}")
        for role, col in (("sensitive attribute", roles.x), ("outcome", roles.y)):
            if col not in df.columns:
                raise InputError(f"{role} {col!r} is not a column of the table")
        if len(df) == 0:
            raise InputError("the table has no rows to show the model")
        order = [c for c in graph.topological_order() if c in df.columns]
        order += [c for c in columns if c not in order]  # columns the graph leaves out go last
        in_graph = set(graph.nodes)
        self.order = order
        self.columns = columns
        self.table_name = str(getattr(table, "name", "data"))
        self.df = df.reset_index(drop=True)
        self.dtypes = {c: df[c].dtype for c in columns}
        self.x, self.y = roles.x, roles.y
        self.parents = {c: set(graph.parents(c)) if c in in_graph else set(order[: order.index(c)]) for c in order}
        self.ie_columns = [c for c in graph.children(self.x) if c in set(roles.w)]
        self.missing_rate = {c: float(df[c].isna().mean()) for c in order}
        self.vocab, self.sampling_vocab = {}, {}
        for i, c in enumerate(order):
            col_schema = schema[c] if schema is not None and c in getattr(schema, "columns", {}) else None
            terminator = "\n" if i == len(order) - 1 else ","
            has_missing = bool(df[c].isna().any())
            self.vocab[c] = ValueVocabulary.for_column(df[c], col_schema, include_missing=has_missing,
                                                       terminator=terminator)
            # Missing values are placed at the real rate, so the model never samples them; the
            # non-missing values keep the same indices (missing is always last).
            self.sampling_vocab[c] = (ValueVocabulary.for_column(df[c], col_schema, include_missing=False,
                                                                 terminator=terminator) if has_missing else self.vocab[c])
        x_observed = df[self.x].dropna()
        if x_observed.empty:
            raise InputError(f"sensitive attribute {self.x!r} has no observed values")
        counts = x_observed.value_counts(sort=False)
        self.x_values = list(counts.index)
        self.x_probs = (counts / counts.sum()).to_numpy(dtype=float)
        self.x0 = _match_value(self.x_values, roles.x0, self.x) if roles.x0 is not None else None
        self.x1 = _match_value(self.x_values, roles.x1, self.x) if roles.x1 is not None else None
        # example texts: one string per real row, in the generation order
        self.row_texts = self._row_texts(self.df)
        from faircause_core.generators.lm.record import prompt_record
        from faircause_core.generators.lm.store import DEFAULT_MODEL_NAME

        self.language_model_ = prompt_record(DEFAULT_MODEL_NAME if self.model_dir is None else Path(str(self.model_dir)).name,
                                             order)
        progress("prompt mode ready", 1, 1)
        return self

    def _row_texts(self, df: pd.DataFrame) -> list[str]:
        parts = []
        for i, c in enumerate(self.order):
            vocab = self.vocab[c]
            texts = [vocab.text_of(v) for v in df[c].tolist()]
            label = _readable(c)
            parts.append([f"{label} is {t}" for t in texts])
        return [", ".join(cells) for cells in zip(*parts)]

    # model ---------------------------------------------------------------------------
    def _model(self, progress: ProgressFn):
        if self._loaded is None:
            from faircause_core.generators.lm.store import ensure_default_model, load_model

            path = self.model_dir
            if path is None:
                path = ensure_default_model(progress)
            self._loaded = load_model(path, device=self.device)
        return self._loaded

    def _prompt_ids(self, tokenizer, examples: list[str]) -> list[int]:
        rows = "\n".join(examples)
        system = SYSTEM_PROMPT.format(name=_readable(self.table_name))
        user = USER_PROMPT.format(k=len(examples), rows=rows)
        if getattr(tokenizer, "chat_template", None):
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            return tokenizer(text, add_special_tokens=False)["input_ids"]
        return tokenizer(f"{system}\n{user}\n", add_special_tokens=True)["input_ids"]

    def _examples(self, rng: np.random.Generator, tokenizer, max_tokens: int) -> list[int]:
        """Prompt ids with k random real rows, fewer if the model's context is too short."""
        k = min(self.n_examples, len(self.row_texts))
        picks = rng.choice(len(self.row_texts), size=k, replace=False)
        while True:
            ids = self._prompt_ids(tokenizer, [self.row_texts[i] for i in picks[:k]])
            if len(ids) <= max_tokens or k == 1:
                break
            k -= 1
        if len(ids) > max_tokens:
            raise InputError(f"one row of {len(self.order)} columns does not fit the model's context")
        return ids

    # sample --------------------------------------------------------------------------
    def _reference(self, fairness: FairnessSpec, rng: np.random.Generator, n: int) -> list:
        if fairness.reference == "marginal":
            picks = rng.choice(len(self.x_values), size=n, p=self.x_probs)
            return [self.x_values[i] for i in picks]
        wanted = self.x0 if fairness.reference == "x0" else self.x1
        if wanted is None:
            if len(self.x_values) != 2:
                raise InputError(
                    f"sensitive attribute {self.x!r} has {len(self.x_values)} values: choose x0 and x1"
                )
            ordered = sorted(self.x_values, key=lambda v: (str(type(v)), v))
            wanted = ordered[0] if fairness.reference == "x0" else ordered[1]
        return [wanted] * n

    def sample(self, n, fairness: FairnessSpec = FairnessSpec(), seed: int = 0,
               progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None) -> pd.DataFrame:
        """Write n rows, batch by batch; cancellable between batches."""
        if not hasattr(self, "order"):
            raise InputError("the prompt generator must be fitted before sampling")
        n = check_rows(n)
        progress = progress or no_progress
        model, tokenizer, _ = self._model(progress)
        for vocab in list(self.vocab.values()) + list(self.sampling_vocab.values()):
            vocab.build(tokenizer)
        rng = np.random.default_rng(seed)
        n_batches = math.ceil(n / self.batch_size)
        rows: dict[str, list] = {c: [] for c in self.order}
        context = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        row_budget = sum(len(v.token_ids[0]) + 8 for v in self.vocab.values()) + 32
        progress("writing rows", 0, n)
        done = 0
        with torch_threads(default_threads()) as tick:  # the fine-tune's rule (lm.threads)
            for b in range(n_batches):
                if cancel is not None:
                    cancel.check()
                tick()
                size = min(self.batch_size, n - done)
                prompt = self._examples(rng, tokenizer, context - row_budget)
                batch = self._sample_batch(model, tokenizer, prompt, size, fairness, rng)
                for c in self.order:
                    rows[c].extend(batch[c])
                done += size
                progress("writing rows", done, n)
        return self._frame(rows)

    def _sample_batch(self, model, tokenizer, prompt: list[int], size: int, fairness: FairnessSpec,
                      rng: np.random.Generator) -> dict:
        # Prompt mode applies alpha as a per-row coin, so extrapolated dials are clipped to [0, 1].
        alpha = {p: min(1.0, max(0.0, getattr(fairness, p))) for p in ("de", "ie", "se")}
        edit_de = rng.random(size) < alpha["de"]
        if self.mask_non_parents and self.x not in self.parents[self.y]:
            edit_de[:] = False  # Y never sees X: no direct path to edit (and no copy to pay for)
        edit_ie = (rng.random(size) < alpha["ie"]) if self.ie_columns else np.zeros(size, dtype=bool)
        edit_se = rng.random(size) < alpha["se"]
        x_star = self._reference(fairness, rng, size)
        se_draw = rng.choice(len(self.x_values), size=size, p=self.x_probs)
        gen = torch_generator(rng)

        dec = RowDecoder(model, tokenizer).start([prompt]).expand(size)
        copy_of: dict[int, int] = {}  # row -> counterfactual copy (X written as x*)
        out: dict[str, list] = {}
        for j, c in enumerate(self.order):
            vocab, sampler = self.vocab[c], self.sampling_vocab[c]
            hide = self._hidden(j) if self.mask_non_parents else None
            name = tokenizer(("" if j == 0 else " ") + f"{_readable(c)} is", add_special_tokens=False)["input_ids"]
            dec.feed([name] * dec.batch_size, col=j, hide=hide)
            before_value = dec.length

            forced: dict[int, int] = {}
            missing = rng.random(size) < self.missing_rate[c]
            for r in np.flatnonzero(missing):
                forced[int(r)] = vocab.missing_index()
            if c == self.x:
                for r in np.flatnonzero(edit_se & ~missing):
                    forced[int(r)] = vocab.index_of(self.x_values[se_draw[r]])
            to_sample = [r for r in range(size) if r not in forced]
            edited = edit_de if c == self.y else (edit_ie if c in self.ie_columns else None)
            source = {r: copy_of[r] if (edited is not None and edited[r] and r in copy_of) else r for r in to_sample}
            picked = dec.sample(sampler, rows=[source[r] for r in to_sample], generator=gen,
                                temperature=self.temperature, col=j, hide=hide)
            value_index = dict(forced)
            value_index.update(zip(to_sample, picked))

            # every other copy of each row gets the same value as text
            feed: dict[int, int] = {}
            for r, idx in value_index.items():
                streams = [r] + ([copy_of[r]] if r in copy_of else [])
                for s in streams:
                    if r not in source or s != source[r]:
                        feed[s] = idx
            if feed:
                dec.feed([vocab.token_ids[feed[s]] if s in feed else [] for s in range(dec.batch_size)],
                         col=j, hide=hide)
            out[c] = [vocab.values[value_index[r]] for r in range(size)]

            if c == self.x:
                copy_of = self._fork_counterfactual(dec, vocab, out[c], x_star, edit_de | edit_ie,
                                                    before_value, j, hide)
        return out

    def _fork_counterfactual(self, dec: RowDecoder, vocab: ValueVocabulary, x_values: list, x_star: list,
                             wanted: np.ndarray, before_value: int, j: int, hide) -> dict[int, int]:
        """Copy the rows whose DE/IE edit needs X written as x* (skip where x* is the row's X)."""
        rows = [r for r in range(len(x_values))
                if wanted[r] and not pd.isna(x_values[r]) and x_values[r] != x_star[r]]
        copies = dec.fork(rows, since=before_value)
        if not copies:
            return {}
        tokens = [[] for _ in range(dec.batch_size)]
        for r, s in zip(rows, copies):
            tokens[s] = vocab.token_ids[vocab.index_of(x_star[r])]
        dec.feed(tokens, col=j, hide=hide)
        return dict(zip(rows, copies))

    def _hidden(self, j: int) -> list[int]:
        """Earlier columns that column j may not see: the ones that are not its parents."""
        c = self.order[j]
        return [i for i, other in enumerate(self.order[:j]) if other not in self.parents[c]]

    def _frame(self, rows: dict) -> pd.DataFrame:
        data = {}
        for c in self.columns:
            series = pd.Series(rows[c], dtype=object)
            try:
                series = series.astype(self.dtypes[c])
            except (TypeError, ValueError):
                pass
            data[c] = series
        return pd.DataFrame(data, columns=self.columns)
