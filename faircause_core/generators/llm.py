"""The default generator: the causal model's fitted conditionals, plus a local language model
wherever rows it never trained on show that it helps.

Each column's conditional is the Bayes net's kind (a Dirichlet posterior centred on a
regularised logistic model of the column on its parents, fitted in closed form) plus the
transformer's logits through a per-column gate that starts at 0. The residual is trained
with early stopping on one set of held-out rows and kept only for the columns whose
log loss it lowers, significantly after a Holm correction across columns, on a second,
separate set (lm/train.py). Every other column is the fixed part exactly, and its values
never pass through the transformer. On the shared cohorts that is most or all columns
(docs/language_model.md), and the run says so: `language_model_` (lm/record.py) records
which columns the model changed, the held-out gain of each, the steps run and why training
stopped, and lm.record.sentence says it in one line.

Each row is a sequence of slots in a topological order of the DAG, with an attention mask
that shows each column's query only its DAG parents (lm/slots.py), so the conditionals are
the mechanisms of a structural causal model and a non-parent proxy cannot leak X into a
column. Sampling goes column by column, one query token per DISTINCT parent configuration
over precomputed value keys/values (none for a column without the LM), with per-pathway
edits by changing which X value a query sees:

- DE: Y's query sees x* instead of the row's X (Z and W keep their generated values);
- IE: the mediators in W that have X as a parent see x*;
- SE: X is drawn from the mixture of its fitted P(X | parents) and the marginal P(X);

each as the alpha-mixture of FairnessSpec, in the sampling loop shared with the Bayes net
(generators/sampling.py); this module supplies the model's conditionals. Mechanism
probabilities are memoised per parent configuration, so re-sampling with new fairness
settings runs the model only for configurations it has not seen (x* for the edited ones).

body="none" skips the language model altogether: nothing is loaded or trained, and the
rows are the fixed part's (the same rows the default gives when no column is kept).

Device: lm.store.default_device() is the one place that chooses it (CUDA when torch sees
a GPU, else the CPU); `device=` overrides it. Fitting is cancellable (fit(cancel=...)).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch

from faircause_core.errors import InputError
import faircause_core.generators.strength as strength
from faircause_core.generators.base import CancelToken, FairnessSpec, Generator, ProgressFn, check_sample_request, no_progress
from faircause_core.causal.question import Outcome
from faircause_core.generators.lm import record as lm_record
from faircause_core.generators.lm.budget import DEFAULT_BATCH, DEFAULT_PRESET, PRESETS, step_budget
from faircause_core.generators.lm.threads import AUTO, ThreadGovernor, default_threads, torch_threads
from faircause_core.generators.sampling import Groups, ancestral_sample, counterfactual_effects

# The step budget (of `batch_size` rows, lm.budget.step_budget) scales with the rows it trains
# on: `epochs` passes over them, at least `low` and at most `high` steps. Early stopping on the
# stopping rows usually ends sooner; it counts only after the warm-up. docs/language_model.md
# gives the measurement behind these numbers (bench/bench_lm_schedule.py).
#: Held-out evaluations over a budget (every budget / EVALUATIONS steps, at least every 4).
EVALUATIONS = 20
# What sits beside the logistic posterior: the pretrained transformer, the same
# architecture with random weights, or nothing (the posterior alone: the model is loaded
# for its embeddings but never run). The
# last two exist for the ablation that measures what the pretrained weights contribute
# (bench/bench_lm_ablation.py).
BODIES = ("pretrained", "random", "none")
# Decoder layers of the base model kept (None = all): SmolLM2's first 8 of 30 cost a quarter
# of the time per step and per query, and the residual they feed was no worse on held-out
# rows than all 30 (bench/bench_lm_ablation.py, variant pretrained30).
DEFAULT_LAYERS = 8


def _checks(cancel: Optional[CancelToken], tick):
    """What the fit and sampling call at each step: the cancel token's check, then the thread
    governor's tick (lm.threads)."""
    return tick if cancel is None else lambda: (cancel.check(), tick())


class LLMGenerator(Generator):
    """The causal model's fitted conditionals plus a local language model's residual, kept
    per column only where held-out rows show a gain (default model: the bundled
    SmolLM2-135M; a user's own model goes through the same held-out test).

    model_dir: a local Hugging Face causal LM folder (None = the bundled model).
    preset "quick"/"thorough" sets the step budget, scaled with the rows (step_budget);
    train_steps / train_seconds override it (with train_seconds alone, training runs until
    the time is up); early stopping on held-out rows ends it sooner. train_options: other
    TrainSettings fields (gate_lr, patience, alpha, ...). layers: decoder layers of the model kept (DEFAULT_LAYERS;
    None = all); freeze_layers: lower layers kept frozen (None = all but the top
    `train_layers`; with any frozen, the input slots are frozen too). cache: reuse/store
    the fine-tuned state on disk. threads: torch threads while fitting/sampling (default:
    AUTO on a <= 2-core machine, chosen while it runs by ThreadGovernor, else torch's
    choice; None = leave torch's setting).
    body: "pretrained" (default), "random" (same architecture, random weights) or "none"
    (the logistic posterior alone: no model is loaded), see BODIES. equivalent_sample_size: the posterior's
    pseudo rows (0 = the logistic model alone; "cv", the default: chosen per column by
    cross-validation, generators/strength.py). device: None = lm.store.default_device().
    """

    name = "llm"

    def __init__(
        self,
        model_dir=None,
        preset: str = DEFAULT_PRESET,
        train_steps: Optional[int] = None,
        train_seconds: Optional[float] = None,
        batch_size: int = DEFAULT_BATCH,
        lr: float = 1e-4,
        slot_lr: float = 2e-3,
        freeze_layers: Optional[int] = None,
        max_bins: int = 10,
        device: Optional[str] = None,
        cache: bool = True,
        seed: int = 0,
        sample_chunk: int = 512,
        threads: int | str | None = -1,
        body: str = "pretrained",
        layers: Optional[int] = DEFAULT_LAYERS,
        train_layers: int = 2,
        equivalent_sample_size="cv",
        train_options: Optional[dict] = None,
    ):
        if body not in BODIES:
            raise InputError(f"unknown model body {body!r}: use {', '.join(BODIES)}")
        if preset not in PRESETS:
            raise InputError(f"unknown training preset {preset!r}: use {' or '.join(PRESETS)}")
        if isinstance(max_bins, bool) or not isinstance(max_bins, (int, np.integer)) or max_bins < 2:
            raise InputError(f"max_bins must be a whole number >= 2, got {max_bins!r}")
        if isinstance(sample_chunk, bool) or not isinstance(sample_chunk, (int, np.integer)) or sample_chunk < 1:
            raise InputError(f"sample_chunk must be a whole number >= 1, got {sample_chunk!r}")
        if device is not None and str(device).split(":")[0] not in ("cpu", "cuda", "mps"):
            raise InputError(f"device must be cpu, cuda or mps, got {device!r}")
        self.model_dir = model_dir
        self.body = body
        self.preset = preset
        self.train_steps = train_steps
        self.train_seconds = train_seconds
        self.batch_size = batch_size
        self.lr = lr
        self.slot_lr = slot_lr
        self.freeze_layers = freeze_layers
        self.max_bins = int(max_bins)
        self.device = device
        self.cache = bool(cache)
        self.seed = seed
        self.sample_chunk = int(sample_chunk)
        if threads == -1:
            threads = default_threads()
        if threads not in (None, AUTO) and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise InputError(f"threads must be a whole number >= 1, {AUTO!r} or None, got {threads!r}")
        self.threads = threads
        if layers is not None and (isinstance(layers, bool) or not isinstance(layers, (int, np.integer)) or layers < 1):
            raise InputError(f"layers must be a whole number >= 1 (or None for all), got {layers!r}")
        if isinstance(train_layers, bool) or not isinstance(train_layers, (int, np.integer)) or train_layers < 0:
            raise InputError(f"train_layers must be a whole number >= 0, got {train_layers!r}")
        self.layers = None if layers is None else int(layers)
        self.train_layers = int(train_layers)
        self.ess = equivalent_sample_size
        if train_options is not None and not isinstance(train_options, dict):
            raise InputError(f"train_options must be a dict of training settings, got {train_options!r}")
        self.train_options = dict(train_options or {})
        # Check the training settings now, so a bad setting fails before a model loads.
        self._settings(n_layers=None)

    def _settings(self, n_layers: Optional[int], rows: Optional[int] = None):
        from dataclasses import fields

        from faircause_core.generators.lm.train import TrainSettings

        known = {f.name for f in fields(TrainSettings)} - {"steps", "seconds", "batch_size", "lr", "slot_lr",
                                                          "freeze_layers", "ess", "seed"}
        unknown = sorted(set(self.train_options) - known)
        if unknown:
            raise InputError(f"unknown training setting {unknown[0]!r}: use {', '.join(sorted(known))}")
        if self.train_steps is not None:
            steps = self.train_steps
        elif self.train_seconds is not None:  # a seconds-only budget runs until the time is up
            steps = 1_000_000
        else:
            held = {k: self.train_options[k] for k in ("stop_share", "stop_rows", "select_share", "select_rows")
                    if k in self.train_options}
            steps = step_budget(self.preset, rows, self.batch_size, **held)
        freeze = self.freeze_layers
        if freeze is None:  # all but the top train_layers layers
            freeze = max(0, (n_layers or 0) - self.train_layers)
        options = dict(self.train_options)
        if "eval_every" not in options and self.train_seconds is None:
            options["eval_every"] = max(4, int(round(steps / EVALUATIONS)))
        return TrainSettings(steps=steps, seconds=self.train_seconds, batch_size=self.batch_size, lr=self.lr,
                             slot_lr=self.slot_lr, freeze_layers=freeze, ess=self.ess, seed=self.seed, **options)

    # ------------------------------------------------------------------ fit
    def fit(self, table, graph, roles, progress: Optional[ProgressFn] = None,
            cancel: Optional[CancelToken] = None) -> "LLMGenerator":
        """Fit the logistic tables and the LM residual; `cancel` is checked before and after
        loading the model, at every L-BFGS evaluation and every training step (Cancelled)."""
        with torch_threads(self.threads) as tick:
            self._fit(table, graph, roles, progress, _checks(cancel, tick))
            if isinstance(tick, ThreadGovernor):  # what the run says it did: seconds on each count
                self.language_model_["torch_threads"] = tick.record()
            return self

    def _fit(self, table, graph, roles, progress, check) -> "LLMGenerator":
        from faircause_core.generators.lm import store as lm_store
        from faircause_core.generators.lm.slots import SlotLayout, SlotLM
        from faircause_core.generators.lm.train import cache_key, load_cached, save_cached, train, _decoder_layers

        progress = progress or no_progress
        check = check or (lambda: None)
        t0 = time.perf_counter()
        graph = graph.for_sampling()  # a Z - X association is drawn as X given Z (causal.graph)
        layout = SlotLayout(table, graph, self.max_bins)
        name = getattr(table, "name", "data")
        for label, col in (("sensitive attribute", roles.x), ("outcome", roles.y)):
            if col not in layout.cols:
                raise InputError(f"{label} {col!r} is not a column of {name!r}")
        check()
        if self.body == "none":  # the fixed part alone: nothing to load
            folder, model_id, device = None, "none", self.device or lm_store.default_device()
            slot_lm = SlotLM(None, None, layout, use_lm=False, device=device)
            self.model_name_ = None
        else:
            folder = (lm_store.ensure_default_model(progress, check) if self.model_dir is None
                      else lm_store.check_model_folder(self.model_dir))
            check()
            progress("loading model", 0, 1)
            random_seed = self.seed if self.body == "random" else None
            model, tokenizer, device = lm_store.load_model(folder, self.device, random_seed=random_seed,
                                                           layers=self.layers)
            torch.manual_seed(self.seed)
            slot_lm = SlotLM(model, tokenizer, layout, use_lm=True).to(device)
            model_id = f"{lm_store.model_fingerprint(folder)}:{self.body}:{self.layers}"
            self.model_name_ = (lm_store.DEFAULT_MODEL_NAME if self.model_dir is None else Path(str(folder)).name) + (
                " (random weights)" if self.body == "random" else "")
        self.layers_run_ = len(_decoder_layers(slot_lm))
        settings = self._settings(n_layers=self.layers_run_, rows=len(table.df))
        progress("loading model", 1, 1)
        check()
        self.load_seconds_ = time.perf_counter() - t0

        codes = layout.encode(table.df)
        self.cache_key_ = cache_key(table.df, slot_lm, graph.edges, model_id, settings)
        meta = load_cached(slot_lm, self.cache_key_, settings) if self.cache else None
        self.from_cache_ = meta is not None
        if meta is None:
            self.train_stats_ = train(slot_lm, codes, settings, progress, check=check)
            if self.cache:
                save_cached(slot_lm, self.cache_key_, {"stats": self.train_stats_, "settings": settings.__dict__})
        else:
            self.train_stats_ = meta.get("stats", {})
            # counts are data, not weights; at the strengths chosen when it was trained
            kept = self.train_stats_.get("strengths")
            fixed = strength.FIXED_STRENGTH if settings.ess == "cv" else settings.ess
            slot_lm.set_counts(codes, np.arange(len(codes)), [kept[c] for c in layout.order] if kept else fixed)
            progress("fine-tuning", 1, 1)
        for p in slot_lm.parameters():  # sampling never needs gradients
            p.requires_grad_(False)
        self.settings_ = settings
        self.layout_, self.slot_lm_, self.roles_ = layout, slot_lm, roles
        self.kv_ = None
        self.memo_ = {c: {} for c in layout.order}  # per column: parent configuration -> P(column | it)
        self.groups_ = Groups.fit(layout.cols[roles.x], codes[:, layout.index[roles.x]], roles)
        self.outcome_ = Outcome.resolve(table.df[roles.y], getattr(roles, "threshold", None))
        self.fit_seconds_ = time.perf_counter() - t0
        self.language_model_ = lm_record.build(self.train_stats_, list(layout.order), self.model_name_,
                                               self.layers_run_, self.body, self.fit_seconds_, self.from_cache_,
                                               settings.alpha)
        return self

    # --------------------------------------------------------------- sample
    def sample(
        self,
        n: int,
        fairness: FairnessSpec = FairnessSpec(),
        seed: int = 0,
        progress: Optional[ProgressFn] = None,
        cancel: Optional[CancelToken] = None,
    ) -> pd.DataFrame:
        with torch_threads(self.threads) as tick:
            return self._sample(n, fairness, seed, progress, _checks(cancel, tick))

    def _sample(self, n, fairness, seed, progress, check) -> pd.DataFrame:
        if not hasattr(self, "slot_lm_"):
            raise InputError("the language model generator is not fitted yet: call fit() first")
        n = check_sample_request(n, fairness, self.groups_.x0, self.groups_.x1, self.roles_.x)
        progress = progress or no_progress
        check()
        if self.kv_ is None:
            with torch.inference_mode():
                self.kv_ = self.slot_lm_.prefix_kv()
        lay = self.layout_
        rng = np.random.default_rng(int(seed))
        # Uniforms per row: one per column for its value, one per column for the observed
        # number within a bin, one for x*: common random numbers across alphas.
        k = len(lay.order)
        u = rng.random((2 * k + 1, n))

        def on_column(done: int, total: int) -> None:
            progress("sampling", int(n * done / total), n)

        progress("sampling", 0, n)
        codes = self._codes(n, fairness, u, check=check, on_column=on_column)
        check()
        matrix = np.stack([codes[c] for c in lay.order], axis=1)
        return lay.decode(matrix, u[k:2 * k])

    def _codes(self, n: int, fairness: FairnessSpec, u: np.ndarray, check=None, on_column=None,
               sees_x: Optional[dict] = None) -> dict:
        """State codes of one ancestral pass over the model's conditionals (u[-1] draws x*)."""
        lay = self.layout_
        if self.kv_ is None:
            with torch.inference_mode():
                self.kv_ = self.slot_lm_.prefix_kv()
        no_parents = np.full((n, lay.max_parents), -1, dtype=np.int64)

        def probs(c: str, codes: dict) -> np.ndarray:
            slots = lay.parent_slots(c, codes) if lay.parents[c] else no_parents
            return self.slot_lm_.column_probs(self.kv_, c, slots, chunk=self.sample_chunk, check=check,
                                              memo=self.memo_[c])

        return ancestral_sample(lay.order, lay.parents, probs, fairness, self.roles_, self.groups_, u, u[-1],
                                check=check, on_column=on_column, sees_x=sees_x)

    def effects(self, n: int = 200_000, fairness: FairnessSpec = FairnessSpec(), seed: int = 0) -> dict:
        """The fitted (and edited) model's own TV, Ctf-DE/IE/SE and ETT by Monte Carlo on its
        conditionals (sampling.counterfactual_effects), as BayesNetGenerator.effects."""
        if not hasattr(self, "slot_lm_"):
            raise InputError("the language model generator is not fitted yet: call fit() first")
        n = check_sample_request(n, fairness, self.groups_.x0, self.groups_.x1, self.roles_.x)
        lay = self.layout_
        u = np.random.default_rng([int(seed), 1 << 20]).random((len(lay.order) + 2, n))
        y = lay.cols[self.roles_.y]
        with torch_threads(self.threads):
            return counterfactual_effects(  # one batch of all n units, as before the Bayes net's were batched
                lambda sees_x, part: self._codes(n, fairness, u[:-1, part], sees_x=sees_x), lay.order, self.roles_,
                self.groups_, lambda codes, part: self.outcome_.code(y.decode(codes, u[-1, part])), n=n, batch=n)

    # ------------------------------------------------------------- helpers
    def heldout_gains(self, df: pd.DataFrame) -> dict:
        """What the language model adds on rows `df` (e.g. the real holdout it never saw):
        per column {loss_fixed, loss, gain, se, rows}, the fixed part's and the fitted model's
        mean log loss (nats a row) and the mean per-row gain of the model over the fixed part
        with its standard error (a paired comparison). Rows with a value the model has no
        state for (a category unseen in fitting) are left out."""
        from faircause_core.generators.lm.train import _losses

        if not hasattr(self, "slot_lm_"):
            raise InputError("the language model generator is not fitted yet: call fit() first")
        lay = self.layout_
        missing = [c for c in lay.order if c not in df.columns]
        if missing:
            raise InputError(f"the rows lack column {missing[0]!r} of the fitted model")
        codes = lay.encode(df)
        cards = np.array([lay.cols[c].card for c in lay.order])
        codes = codes[(codes < cards[None, :]).all(axis=1)]
        if not len(codes):
            raise InputError("no row of the given table can be scored by the fitted model")
        with torch_threads(self.threads):
            loss, gain, se = _losses(self.slot_lm_, codes, np.arange(len(codes)))
        return {c: {"loss_fixed": float(a + g), "loss": float(a), "gain": float(g), "se": float(e), "rows": len(codes)}
                for c, a, g, e in zip(lay.order, loss, gain, se)}

    def column_distribution(self, column: str, parent_values: dict) -> pd.Series:
        """The fitted P(column | parents) for one parent configuration (raw values), for
        inspection in the app and the tests: index = the column's value labels."""
        if not hasattr(self, "slot_lm_"):
            raise InputError("the language model generator is not fitted yet: call fit() first")
        lay = self.layout_
        if column not in lay.cols:
            raise InputError(f"unknown column {column!r}")
        codes = {}
        for p in lay.parents[column]:
            if p not in parent_values:
                raise InputError(f"value of parent {p!r} of {column!r} missing")
            value = parent_values[p]
            state = lay.cols[p].n_values if pd.isna(value) and lay.cols[p].has_missing else None
            if state is None:
                state = lay.cols[p].state_of(value)
                if state is None and lay.cols[p].numeric:
                    state = int(lay.cols[p].binner.transform([float(value)])[0])
            if state is None:
                raise InputError(f"value {value!r} not found in column {p!r}")
            codes[p] = np.array([state])
        if self.kv_ is None:
            with torch.inference_mode():
                self.kv_ = self.slot_lm_.prefix_kv()
        slots = lay.parent_slots(column, codes) if codes else np.full((1, lay.max_parents), -1, dtype=np.int64)
        probs = self.slot_lm_.column_probs(self.kv_, column, slots, memo=self.memo_[column])[0]
        return pd.Series(probs, index=lay.value_texts(column), name=column)
