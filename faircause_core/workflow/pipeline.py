"""One generation run, end to end: split, audit, fit, refine, measure.

The CLI and the dashboard both call this, so a run means the same thing everywhere:
fit on a seeded share of the real rows, keep the rest as a real holdout for utility,
privacy and the fair-predictor measure (the peers' protocol: fit on 70%, test on 30%).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Optional

import numpy as np
import pandas as pd

from faircause_core.io.data import Table
from faircause_core.errors import InputError
from faircause_core.causal.effects import Decomposition, as_decomposition
from faircause_core.causal.fairness import MAX_SPLITS, decompose, splits_for
from faircause_core.causal.question import Outcome
from faircause_core.io.export import plain as _plain  # metrics made JSON-safe by the one sanitiser
from faircause_core.generators.base import (
    CancelToken, FairnessSpec, ProgressFn, check_edits, check_rows, no_progress, pathway_gaps,
)
from faircause_core.causal.graph import CausalGraph, Roles
from faircause_core.workflow.progress import REUSED_AUDITS, YARDSTICKS, YARDSTICKS_NOW

GENERATORS = ("llm", "bayesnet", "prompt")
#: The generator name of a table measured by `evaluate`: made elsewhere, so nothing to refit or sweep.
EXTERNAL = "external"
PRESETS = ("quick", "thorough")
#: How much repetition the measuring of a run spends (its synthetic audit, fair predictor and
#: privacy attacks): "full" (the default) as documented in each metric; "light" the same measures
#: with fewer repetitions, so wider intervals: 3 cross-fitting splits for the synthetic audit,
#: 16 synthetic sets and 20 refits for the fair predictor, 50 attacks on at most 1,000 rows for
#: privacy. It is for a quick preview and for tests that check a flow rather than a number; the
#: run records it (settings.measure) and every page and report that shows one says so. The real
#: audits are never light: they are the numbers the audit page shows. FAIRCAUSE_MEASURE sets
#: the default for a whole process (the app's jobs, the test suite).
MEASURE_PROFILES = {
    "full": {},
    "light": {"splits": 3, "draws": 16, "repeats": 20, "attacks": 50, "max_rows": 1000},
}
MEASURE_ENV = "FAIRCAUSE_MEASURE"
#: Rows of each side the fidelity scores and rules, and train-on-synthetic AUROC, read at most (a
#: seeded sample above it): on 1,400,000 x 100 real against 1,000,000 synthetic rows, SDMetrics'
#: report on every row took 521 s and the AUROCs 148 s of a 4,845 s run (bench_scale.py
#: wide_run, 2026-12-07); the scores are means over columns and pairs, and an AUROC on 200,000
#: rows has a standard error near 0.001.
FIDELITY_ROWS = 200_000
DEFAULT_HOLDOUT = 0.3  # the share of real rows a run holds out (the peers' 70/30 protocol)


def default_measure() -> str:
    """The measuring profile a new run gets: FAIRCAUSE_MEASURE if set (full or light), else full."""
    value = os.environ.get(MEASURE_ENV, "").strip() or "full"
    if value not in MEASURE_PROFILES:
        raise InputError(f"{MEASURE_ENV}={value!r} is not a measuring profile: use full or light")
    return value


def _whole(value, what: str, low: int, high: int) -> int:
    """A whole-number setting in [low, high] (2.0 is 2; 2.5, text, inf and true are refused)."""
    try:
        number = int(value)
        ok = not isinstance(value, (bool, str)) and number == value and low <= number <= high
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise InputError(f"{what} must be a whole number from {low:,} to {high:,}, got {value!r}")
    return number


@dataclass
class GenerationSettings:
    """Everything a user chose for one run; saved beside the run as JSON."""

    generator: str = "llm"
    model_dir: Optional[str] = None
    preset: str = "quick"
    train_steps: Optional[int] = None
    rows: int = 1000
    seed: int = 0
    fairness: FairnessSpec = field(default_factory=FairnessSpec)
    refine: bool = True
    max_rounds: int = 4
    holdout: float = DEFAULT_HOLDOUT
    # Rows the refinement loop measures each round (None: 20,000 for the Bayes net, which
    # samples in milliseconds, 4,000 for the language models). Measured on the demo: the
    # doubly robust Ctf-DE of a 1,629-row sample has a standard deviation of 0.041 across
    # samples, twice the 0.02 tolerance; at 20,000 rows it is about 0.012.
    measure_rows: Optional[int] = None
    # evaluate only: the file the synthetic rows came from, and where the holdout came from
    source: Optional[str] = None
    holdout_source: Optional[str] = None
    # llm only: skip the language model (no model loaded or trained; every column is the
    # causal model's fitted conditional, the rows the default gives when no column is kept)
    skip_lm: bool = False
    # how much repetition the measuring spends: full, or light (MEASURE_PROFILES says what changes)
    measure: str = field(default_factory=default_measure)

    def __post_init__(self) -> None:
        if not isinstance(self.generator, str) or self.generator not in GENERATORS + (EXTERNAL,):
            raise InputError(f"unknown generator {self.generator!r}: use llm, bayesnet or prompt")
        if not isinstance(self.preset, str) or self.preset not in PRESETS:
            raise InputError(f"unknown training preset {self.preset!r}: use quick or thorough")
        if isinstance(self.model_dir, os.PathLike):
            self.model_dir = os.fspath(self.model_dir)
        if self.model_dir is not None and not isinstance(self.model_dir, str):
            raise InputError(f"model folder must be a path, got {self.model_dir!r}")
        for name in ("source", "holdout_source"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise InputError(f"{name} must be a file name, got {getattr(self, name)!r}")
        self.rows = check_rows(self.rows)
        if self.train_steps is not None:
            self.train_steps = _whole(self.train_steps, "training steps", 1, 10**9)
        self.seed = _whole(self.seed, "seed", 0, 2**32 - 1)
        self.max_rounds = _whole(self.max_rounds, "refinement rounds", 1, 20)
        if not isinstance(self.refine, (bool, np.bool_)):
            raise InputError(f"refine must be true or false, got {self.refine!r}")
        self.refine = bool(self.refine)
        if not isinstance(self.skip_lm, (bool, np.bool_)):
            raise InputError(f"skip_lm must be true or false, got {self.skip_lm!r}")
        self.skip_lm = bool(self.skip_lm)
        if not isinstance(self.measure, str) or self.measure not in MEASURE_PROFILES:
            raise InputError(f"unknown measuring profile {self.measure!r}: use full or light")
        try:
            holdout = float(self.holdout)
        except (TypeError, ValueError):
            holdout = math.nan
        if isinstance(self.holdout, (bool, str)) or not 0.05 <= holdout <= 0.5:
            raise InputError(f"holdout share must be between 0.05 and 0.5, got {self.holdout!r}")
        self.holdout = holdout
        if self.measure_rows is not None:
            self.measure_rows = check_rows(self.measure_rows)
        if isinstance(self.fairness, dict):
            self.fairness = FairnessSpec.from_dict(self.fairness)
        if not isinstance(self.fairness, FairnessSpec):
            raise InputError(f"fairness settings must be an object like {{'de': 1}}, got {self.fairness!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["fairness"] = self.fairness.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "GenerationSettings":
        """Settings read back from JSON (a saved run); one InputError line for anything else."""
        if not isinstance(d, dict):
            raise InputError(f"generation settings must be an object, got {type(d).__name__}")
        d = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        d.setdefault("measure", "full")  # a run saved before the profiles was measured in full
        fairness = d.get("fairness", {})
        if not isinstance(fairness, dict):
            raise InputError(f"fairness settings must be an object like {{'de': 1}}, got {fairness!r}")
        d["fairness"] = FairnessSpec.from_dict(fairness)
        return cls(**d)


@dataclass
class RunResult:
    """A finished run: the synthetic rows and every number shown about them."""

    synthetic: pd.DataFrame
    settings: GenerationSettings
    real_effects: dict
    synthetic_effects: dict
    target: dict
    rounds: list
    converged: bool
    metrics: dict
    timings: dict
    warnings: list = field(default_factory=list)
    message: str = ""
    alphas_used: dict = field(default_factory=dict)  # {de, ie, se} the delivered rows were drawn with
    frozen: dict = field(default_factory=dict)  # {pathway: why it cannot be edited in this graph}
    fit_reused: bool = False  # the fitted model came from the cache of an identical earlier fit
    # The generator's own TV, Ctf-DE, Ctf-IE, Ctf-SE and ETT by Monte Carlo on its mechanisms
    # (a Decomposition's stored form, method "monte carlo"); empty for prompt mode.
    generator_effects: dict = field(default_factory=dict)
    # How far the groups overlap given Z, W on the real fitting split (causal.overlap).
    overlap: dict = field(default_factory=dict)
    # What the language model did (generators/lm/record.py): columns_used, per_column gains
    # on held-out rows, steps_run, stopped_because, model, layers; empty without one.
    language_model: dict = field(default_factory=dict)
    # The audit of ALL the real rows (audit_all_rows: step 3's numbers, the headline "real data"),
    # a Decomposition's stored form plus "rows"; real_effects stays the fitting split's, the
    # generator's target. Empty for a run saved before it was recorded.
    real_effects_all_rows: dict = field(default_factory=dict)
    fitting_rows: int = 0  # the real rows real_effects audits (the fitting split); 0 when not recorded

    def to_dict(self) -> dict:
        """JSON-safe summary (the synthetic rows are saved separately as CSV)."""
        return {
            "settings": self.settings.to_dict(),
            "real_effects": self.real_effects,
            "synthetic_effects": self.synthetic_effects,
            "target": self.target,
            "rounds": self.rounds,
            "converged": self.converged,
            "metrics": self.metrics,
            "timings": self.timings,
            "warnings": list(self.warnings),
            "message": self.message,
            "alphas_used": dict(self.alphas_used),
            "frozen": dict(self.frozen),
            "fit_reused": bool(self.fit_reused),
            "language_model": _plain(dict(self.language_model or {})),
            "generator_effects": _plain(dict(self.generator_effects or {})),
            "overlap": _plain(dict(self.overlap or {})),
            "real_effects_all_rows": _plain(dict(self.real_effects_all_rows or {})),
            "fitting_rows": int(self.fitting_rows or 0),
        }

    def decompositions(self) -> dict[str, Decomposition]:
        """{"real", "synthetic", "target"}: the run's fairness results as the one results type,
        the sources a fairness figure, sentence or report takes (no target when there is none)."""
        out = {"real": as_decomposition(self.real_effects), "synthetic": as_decomposition(self.synthetic_effects)}
        if self.target:
            out["target"] = Decomposition.from_targets(self.target)
        return out

    @classmethod
    def from_dict(cls, d: dict, synthetic: pd.DataFrame) -> "RunResult":
        return cls(
            synthetic=synthetic,
            settings=GenerationSettings.from_dict(d["settings"]),
            real_effects=d["real_effects"],
            synthetic_effects=d["synthetic_effects"],
            target=d["target"],
            rounds=d.get("rounds", []),
            converged=bool(d.get("converged", False)),
            metrics=d.get("metrics", {}),
            timings=d.get("timings", {}),
            warnings=d.get("warnings", []),
            message=d.get("message", ""),
            alphas_used=d.get("alphas_used", {}),
            frozen=d.get("frozen", {}),
            fit_reused=bool(d.get("fit_reused", False)),
            language_model=d.get("language_model") if isinstance(d.get("language_model"), dict) else {},
            generator_effects=d.get("generator_effects") if isinstance(d.get("generator_effects"), dict) else {},
            overlap=d.get("overlap") if isinstance(d.get("overlap"), dict) else {},
            real_effects_all_rows=(d.get("real_effects_all_rows")
                                   if isinstance(d.get("real_effects_all_rows"), dict) else {}),
            fitting_rows=int(d.get("fitting_rows") or 0),
        )


AUDIT_SPLITS = MAX_SPLITS  # the most cross-fitting splits an audit takes (splits_for(n) chooses, from n)


def audit(table: Table, roles: Roles, method: str = "dr", seed: int = 0, splits: Optional[int] = None,
          progress: Optional[Callable[[int, int], None]] = None) -> Decomposition:
    """The real data's decomposition for the roles read off the DAG: the reference every run,
    sweep, page and the CLI's audit compare with.

    Doubly robust with repeated cross-fitting: the median over `splits` fold splits
    (decompose's `splits`); None (the default) takes causal.fairness.splits_for(rows), the
    fewest splits whose median moves less than a tenth of the standard error over fold seeds,
    at most AUDIT_SPLITS (10 up to about 134,000 rows; bench/bench_audit_splits.py). On the
    demo's 1,140 fitting rows one split's Ctf-DE ranged from -0.101 to -0.033 over ten fold
    seeds, and seed 0 was that extreme: against it both generators looked 0.03-0.04 off,
    against the median they are within 0.01 (bench/bench_estimators.py). The count used is
    recorded in the decomposition's settings ("splits"), 1 included. `progress(k, splits)`: told
    as each split ends.
    """
    from faircause_core.workflow import audit_store

    df = table.df if isinstance(table, Table) else table
    count = splits_for(len(df)) if splits is None else splits
    key = _audit_key(df, roles, method, seed, count)
    kept = _kept(key)
    if kept is not None:  # the same rows, question, seed and splits on the same engine: the same numbers
        if progress is not None:
            for k in range(1, count + 1):
                progress(k, count)
        return copy.deepcopy(kept)
    dec = decompose(
        df, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w,
        seed=seed, method=method, threshold=roles.threshold, positive=roles.positive, splits=count,
        progress=progress,
    )
    if "splits" not in dec.settings:  # one split (or the plug-in): decompose records none
        dec = replace(dec, settings={**dec.settings, "splits": 1})
    dec = Decomposition.from_dict(json.loads(json.dumps(dec.to_dict())))  # as the stored copy reads back
    audit_store.save(key, dec)
    _remember(key, dec)
    return dec


def _kept(key: tuple) -> Optional[Decomposition]:
    """The audit for `key` from this process's memo, else from disk (another process's: the audit
    page's, an earlier run's; then memoised, so a second ask reads no file), else None."""
    from faircause_core.workflow import audit_store

    with _AUDITS_LOCK:
        kept = _AUDITS.get(key)
        if kept is not None:
            _AUDITS.move_to_end(key)
            return kept
    kept = audit_store.load(key)
    if kept is not None:
        _remember(key, kept)
    return kept


def _remember(key: tuple, dec: Decomposition) -> None:
    """Keep a copy of `dec` in the memo, the least recently used dropped past AUDIT_MEMO."""
    with _AUDITS_LOCK:
        _AUDITS[key] = copy.deepcopy(dec)
        _AUDITS.move_to_end(key)
        while len(_AUDITS) > AUDIT_MEMO:
            _AUDITS.popitem(last=False)


#: Audits kept in this process (least recently used dropped first). An audit is a pure function
#: of its rows, question, method, seed and splits (each split seeded; the engines agree, tested in
#: tests/test_engine.py), so a second run, sweep or evaluation of the same table and question in
#: one process (the CLI's sweep, a notebook, the test suite) takes the first's numbers instead of
#: refitting 2 x 10 splits (10.7 s of CPU in a 27 s demo run, bench/bench_measure.py).
AUDIT_MEMO = 32
_AUDITS: "OrderedDict[tuple, Decomposition]" = OrderedDict()
_AUDITS_LOCK = threading.Lock()


def _audit_key(df: pd.DataFrame, roles: Roles, method: str, seed: int, splits: int) -> tuple:
    """What an audit depends on: the rows (a hash of every value, the index and the dtypes), the
    question, the method, the seed, the splits and the engine (its kind: local or Ray)."""
    from faircause_core import engine

    rows = hashlib.sha256(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    rows.update(repr((list(map(str, df.columns)), list(map(str, df.dtypes)))).encode())
    question = (roles.x, str(roles.x0), str(roles.x1), roles.y, tuple(roles.z), tuple(roles.w),
                roles.threshold, None if roles.positive is None else str(roles.positive))
    return rows.hexdigest(), question, method, int(seed), int(splits), type(engine.current()).__name__


def audit_kept(table: Table, roles: Roles, seed: int, method: str = "dr", splits: Optional[int] = None) -> bool:
    """Whether audit() of these arguments would be answered from memory or disk, not computed
    (what was read from disk stays in the memo for that call): a run says so (REUSED_AUDITS),
    and its time-left estimate then plans no time for it."""
    df = table.df if isinstance(table, Table) else table
    return _kept(_audit_key(df, roles, method, seed, splits_for(len(df)) if splits is None else splits)) is not None


#: The seed of the audit of all rows: the audit page's (faircause_app.cache.audit), so a run's
#: headline "real data" is the very number step 3 shows, whatever seed the run itself uses.
ALL_ROWS_SEED = 0


def with_rows(decomposition: Decomposition, rows: int) -> dict:
    """A decomposition's stored form with the real rows it was given ("rows"): the labels say
    which rows a number is about ("real data, all 1,629 rows")."""
    return {**decomposition.to_dict(), "rows": int(rows)}


def audit_all_rows(table: Table, roles: Roles, fitted: Optional[Decomposition] = None,
                   fitted_seed: Optional[int] = None, progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """The audit of every real row, as the audit page computes it (doubly robust, ALL_ROWS_SEED),
    with "rows": the headline a run, a report and a summary call "the real data". `fitted`: the
    same table's audit at `fitted_seed`, reused when it is that very computation."""
    df = table.df if isinstance(table, Table) else table
    if fitted is not None and fitted_seed == ALL_ROWS_SEED:
        return with_rows(fitted, len(df))
    return with_rows(audit(table, roles, method="dr", seed=ALL_ROWS_SEED, progress=progress), len(df))


def split_holdout(table: Table, share: float, seed: int) -> tuple[Table, pd.DataFrame]:
    """Seeded split of the real rows into a fitting part and a real holdout."""
    n = len(table.df)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_hold = int(round(n * share))
    hold_idx, fit_idx = np.sort(order[:n_hold]), np.sort(order[n_hold:])
    fit_df = table.df.iloc[fit_idx].reset_index(drop=True)
    hold_df = table.df.iloc[hold_idx].reset_index(drop=True)
    return Table(df=fit_df, schema=table.schema, name=table.name, warnings=[]), hold_df


def make_generator(settings: GenerationSettings):
    """The generator object a setting names (imports lazily: torch is slow to import)."""
    if settings.generator == EXTERNAL:
        raise InputError(f"the rows of {settings.source or 'an evaluated table'} were made elsewhere: there is no "
                         "generator to fit or sweep; generate with one of ours to do that")
    if settings.generator == "bayesnet":
        from faircause_core.generators.bayesnet import BayesNetGenerator

        return BayesNetGenerator()
    if settings.generator == "prompt":
        from faircause_core.generators.prompt import PromptGenerator

        return PromptGenerator(model_dir=settings.model_dir)
    from faircause_core.generators.llm import LLMGenerator

    return LLMGenerator(model_dir=settings.model_dir, preset=settings.preset, train_steps=settings.train_steps,
                        body="none" if settings.skip_lm else "pretrained")


def effect_table(decomposition_dict: dict) -> dict:
    """{effect: {estimate, se, ci_low, ci_high}} from a Decomposition or its to_dict()."""
    frame = as_decomposition(decomposition_dict).to_frame()
    return {k: {c: float(v) for c, v in row.items()} for k, row in frame.iterrows()}


def predictor_roles(graph: CausalGraph, roles: Roles) -> Roles:
    """Roles for decomposing a classifier's predictions: every feature is a parent of the
    prediction, so columns that play no role for Y still count, as mediators when they
    descend from X and as confounders otherwise; columns recorded after the outcome (the
    descendants of Y) are no feature at all."""
    desc, after = graph.descendants(roles.x), graph.descendants(roles.y)
    extra_w = tuple(c for c in roles.other if c in desc and c not in after)
    extra_z = tuple(c for c in roles.other if c not in desc and c not in after)
    return replace(roles, z=tuple(roles.z) + extra_z, w=tuple(roles.w) + extra_w, other=())


#: Relative cost of the measuring steps in tenths of a second: CPU seconds of the demo's
#: Bayes-net run with DE removed (medians of 3, bench/bench_measure.py --clock cpu; the
#: synthetic audit as the median of 10 cross-fitting splits), so the progress reported
#: inside the measure phase moves with time, not with the step count. Every run records what
#: each step took (timings: measure_<step>_s), so these can be checked against any run; on
#: other cohorts the shares differ by up to about 2x.
MEASURE_COST = {"synthetic audit": 69, "predictor sets": 5, "fidelity": 4, "utility": 4, "privacy": 21,
                "fair predictor": 15}
METRIC_STEPS = ("fidelity", "utility", "privacy", "fair predictor")


def timing_key(step: str) -> str:
    """The timings key of a measuring step: "fair predictor" -> "measure_fair_predictor_s"."""
    return f"measure_{step.replace(' ', '_')}_s"


class MeasureSteps:
    """The measuring steps of one run, in order: each reports progress in MEASURE_COST units
    (so the bar moves with time), runs under progress.interruptible (a cancel returns within a
    second even inside a long library call) and records its seconds in `timings` under
    timing_key(step)."""

    def __init__(self, names, progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None,
                 timings: Optional[dict] = None):
        self.progress = progress or no_progress
        self.cancel = cancel
        self.timings = {} if timings is None else timings
        self.total = sum(MEASURE_COST[n] for n in names)
        self.done = 0

    def part(self, name: str):
        """progress(k, n) for step `name`'s own parts (the synthetic audit's splits: 1,349 s on
        1,000,000 rows with the bar standing still): part k of n ended is reported as that share of
        the step's MEASURE_COST units, and a cancel stops the step's work at its next part."""
        start, cost = self.done, MEASURE_COST[name]

        def told(k: int, n: int) -> None:
            if self.cancel is not None:
                self.cancel.check()
            if 0 < k < n:  # the last part ends the step: the next step's report says so
                self.progress(f"measuring {name}: {k} of {n} parts", start + cost * k // n, self.total)

        return told

    def note(self, stage: str) -> None:
        """A report inside the current step, its count unchanged (progress.YARDSTICKS_NOW)."""
        self.progress(stage, self.done, self.total)

    def __call__(self, name: str, fn):
        from faircause_core.workflow.progress import interruptible

        self.progress(f"measuring {name}", self.done, self.total)
        t = time.perf_counter()
        try:
            return interruptible(fn, self.cancel)
        finally:
            self.timings[timing_key(name)] = time.perf_counter() - t
            self.done += MEASURE_COST[name]


def privacy_arguments(roles: Roles, profile: str) -> dict:
    """What a run's privacy step asks of metrics.privacy beyond the rows and the seed: the outcome
    and the protected attribute inferred, what the attacker knows, the profile's attack budget."""
    light = MEASURE_PROFILES[profile]
    return dict(sensitive=roles.y, known=[roles.x, *roles.z], x=roles.x,
                **{k: light[k] for k in ("attacks", "max_rows") if k in light})


def say_yardsticks(progress: Optional[ProgressFn], real_fit: Table, holdout: pd.DataFrame, roles: Roles,
                   synthetic_rows: int, seed: int, profile: str) -> None:
    """Report progress.YARDSTICKS as the measuring starts when the privacy step will measure its
    yardsticks (a first run on these rows) rather than read them, so the time-left estimate
    counts them from there and not only once privacy has begun."""
    from faircause_core.metrics.privacy import yardsticks_kept

    if progress is not None and len(holdout) and not yardsticks_kept(
            real_fit.df, holdout, real_fit.schema, synthetic_rows, seed=seed, **privacy_arguments(roles, profile)):
        progress(YARDSTICKS, 0, 1)


def measure(real_fit: Table, holdout: pd.DataFrame, synthetic: pd.DataFrame, graph: CausalGraph,
            roles: Roles, seed: int, control: Optional[pd.DataFrame] = None,
            progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None,
            predictor_pool: Optional[pd.DataFrame] = None, timings: Optional[dict] = None,
            steps: Optional[MeasureSteps] = None, profile: str = "full") -> dict:
    """Fidelity, utility, privacy and the fair-predictor measure of one synthetic table
    (`control`: a mirror-mode synthetic table from the same generator, when there is one;
    `predictor_pool`: a larger draw like `synthetic` for the fair predictor to train on).
    Each metric runs under progress.interruptible, so a cancel returns within a second even
    inside a 30-second library call, and its seconds go into `timings` (measure_fidelity_s,
    measure_utility_s, measure_privacy_s, measure_fair_predictor_s); `steps`: the run's
    MeasureSteps when the metrics continue its measuring (progress and timings are then its);
    `profile`: MEASURE_PROFILES' repetitions (light: fewer attacks, sets and refits)."""
    from faircause_core.metrics.fidelity import quality_report
    from faircause_core.metrics.privacy import distance_to_closest_record
    from faircause_core.metrics.frames import model_kinds
    from faircause_core.metrics.utility import fair_predictor, tstr_auroc

    step = steps or MeasureSteps(METRIC_STEPS, progress, cancel, timings)
    light = MEASURE_PROFILES[profile]
    predictor_budget = {k: light[k] for k in ("draws", "repeats") if k in light}
    schema = real_fit.schema
    real = real_fit.df
    # only the score and the pairs that count (every_pair=False): the run keeps no pairs table;
    # on a seeded FIDELITY_ROWS of each side at most (stated: explain.sampled_lines)
    from faircause_core.metrics.frames import subsample

    f_rng = np.random.default_rng([seed, 9])
    f_real, f_syn = subsample(real, FIDELITY_ROWS, f_rng), subsample(synthetic, FIDELITY_ROWS, f_rng)
    q = step("fidelity", lambda: quality_report(f_real, f_syn, schema, every_pair=False, seed=seed))
    fidelity = {
        "real_rows": int(len(f_real)),
        "synthetic_rows": int(len(f_syn)),
        "shape": float(q["shape"]),
        "trend": float(q["trend"]),
        "quality": float(q["quality"]),
        "columns": q["columns"].to_dict(orient="records"),
        "notes": q["notes"],
        "rules": q["rules"],
        **{k: q[k] for k in ("trend_pairs_total", "trend_pairs_checked", "trend_pairs_sampled", "trend_pairs_counted",
                              "trend_ci_low", "trend_ci_high") if k in q},
    }
    # the graph's descendants of Y are recorded after the outcome (follow-up time, cause of
    # death): a predictor of Y that saw them would only show the leak
    after = tuple(sorted(graph.descendants(roles.y)))
    features = {c: k for c, k in model_kinds(schema).items() if c not in after}
    # on a seeded FIDELITY_ROWS of each side at most too (its counts: n_train_real, n_synth, n_test)
    u_rng = np.random.default_rng([seed, 10])
    u_sides = [subsample(df, FIDELITY_ROWS, u_rng) for df in (real, synthetic, holdout)]
    utility = step("utility", lambda: tstr_auroc(*u_sides, roles.y, features, seed=seed,
                                                 threshold=roles.threshold, positive=roles.positive))
    # disclosure: an attacker who knows a person's protected attribute and background columns guesses Y
    privacy = step("privacy", lambda: distance_to_closest_record(
        real, synthetic, holdout, schema, seed=seed, on_yardsticks=lambda: step.note(YARDSTICKS_NOW),
        **privacy_arguments(roles, profile)))
    pool = synthetic if predictor_pool is None else predictor_pool
    try:
        fair = step("fair predictor", lambda: fair_predictor(real, pool, holdout, predictor_roles(graph, roles),
                                                             schema, seed=seed, control=control, exclude=after,
                                                             **predictor_budget))
    except InputError as err:  # e.g. the synthetic data lost a group entirely
        fair = {"error": str(err)}
    coding = Outcome.resolve(real[roles.y], roles.threshold, roles.positive)  # the real rows fix what counts as 1
    # each side's rate overall and in each group, with Wilson intervals: an edit moves them
    # (explain.outcome_rate_lines says why), and a mirror should not
    rates = {side: _group_rates(df, roles, coding) for side, df in (("real", real), ("synthetic", synthetic))}
    outcome = {f"{side}_rate": float(rates[side].get("all", {}).get("rate", np.nan)) for side in rates}
    outcome["rates"] = rates
    return {
        "outcome": outcome,
        "fidelity": fidelity,
        "utility": _plain(utility),
        "privacy": _plain(privacy),
        "fair_predictor": _plain(fair),
    }


def _group_rates(df: pd.DataFrame, roles: Roles, coding: Outcome) -> dict:
    """{"all", "x0", "x1": {rate, ci_low, ci_high, rows}} of Y = 1 (rows with Y known)."""
    from faircause_core.causal.question import group_mask
    from faircause_core.metrics.frames import wilson

    y = np.asarray(coding.code(df[roles.y]), dtype=float)
    out = {}
    for key, rows in (("all", np.ones(len(df), bool)),
                      ("x0", group_mask(df[roles.x], roles.x0)), ("x1", group_mask(df[roles.x], roles.x1))):
        known = np.asarray(rows, bool) & ~np.isnan(y)
        n = int(known.sum())
        if n:
            rate, lo, hi = wilson(int(y[known].sum()), n)
            out[key] = {"rate": rate, "ci_low": lo, "ci_high": hi, "rows": n}
    return out


def measure_rows(settings: GenerationSettings) -> int:
    """How many rows each refinement round measures (never fewer than are delivered)."""
    if not settings.refine:
        return settings.rows
    default = 20000 if settings.generator == "bayesnet" else 4000
    return max(settings.rows, settings.measure_rows or default)


def predictor_rows(settings: GenerationSettings, fit_rows: int) -> int:
    """Synthetic rows the fair predictor trains on: synthetic_sets() sets of the real training
    size for the Bayes net and the fitted language model, which draw 18,000 rows in under a
    second (metrics.utility.fair_predictor says why sets); the measuring budget for prompt
    mode, whose rows are written token by token."""
    from faircause_core.metrics.utility import DRAWS, predictor_train_rows, synthetic_sets

    if settings.generator in ("bayesnet", "llm"):
        n = predictor_train_rows(fit_rows)  # the real rows its models see (a stated subsample above 50,000)
        sets = min(synthetic_sets(n), MEASURE_PROFILES[settings.measure].get("draws", DRAWS))
        return max(settings.rows, sets * n)
    return measure_rows(settings)


def predictor_tables(generator, settings: GenerationSettings, synthetic: pd.DataFrame, fairness: FairnessSpec,
                     fit_rows: int, cancel: Optional[CancelToken] = None) -> tuple[pd.DataFrame, Optional[pd.DataFrame]]:
    """The fair predictor's synthetic tables: the delivered rows topped up to predictor_rows
    with rows drawn at the delivered alphas, and its control, as many rows drawn with nothing
    removed (an edit's own share of a bias reduction is the difference to it; None for a
    mirror run, its own control)."""
    from faircause_core.workflow.refine import fresh_seed

    n = predictor_rows(settings, fit_rows)
    pool = synthetic if n <= len(synthetic) else pd.concat(
        [synthetic, draw(generator, n - len(synthetic), fairness, cancel=cancel,
                         seed=int(np.random.SeedSequence([settings.seed, 2]).generate_state(1)[0]))],
        ignore_index=True)
    control = draw(generator, n, FairnessSpec(), seed=fresh_seed(settings.seed),
                   cancel=cancel) if settings.fairness.removed() else None
    return pool, control


#: The most rows one generator.sample call draws (generators.base.check_rows' cap on a request).
SAMPLE_SHARD = 1_000_000


def draw(generator, n: int, fairness: FairnessSpec, seed: int, cancel: Optional[CancelToken] = None) -> pd.DataFrame:
    """n rows from the generator, in shards of at most SAMPLE_SHARD (each with its own seed from
    `seed`) when n is larger, past what one request may ask; up to SAMPLE_SHARD, one call. The
    fair predictor's tables stay within one call since its models see at most FAIR_TRAIN_ROWS
    real rows (16 sets of 50,000); before that cap a 70,000-row fitting split asked 1,120,000."""
    if n <= SAMPLE_SHARD:
        return generator.sample(n, fairness, seed=seed, cancel=cancel)
    starts = range(0, n, SAMPLE_SHARD)
    seeds = np.random.SeedSequence([int(seed), 3]).generate_state(len(starts))
    return pd.concat([generator.sample(min(SAMPLE_SHARD, n - a), fairness, seed=int(s), cancel=cancel)
                      for a, s in zip(starts, seeds)], ignore_index=True)


AUDIT_UNITS = 100  # the progress units of each of a run's two audits


def real_audits(fit_table: Table, table: Table, roles: Roles, seed: int, progress: ProgressFn,
                cancel: Optional[CancelToken] = None, same_rows: bool = False) -> tuple:
    """A run's (or an evaluation's) two real audits: the fitting split (the generator's target)
    and every real row (the headline, as step 3 shows it), each cross-fitting split reported as
    it ends (AUDIT_UNITS an audit; they take about as long as each other), so the time-left
    estimate has a pace from the first seconds. Both kept from before (the audit page's, an
    earlier run's: audit_store): one report that says so, and the plan counts nothing for them
    (progress.REUSED_AUDITS). `same_rows`: the fitting table is all the rows (an evaluation with
    its own holdout). Returns (fitting split's Decomposition, all rows' dict, reused)."""
    reused = audit_kept(fit_table, roles, seed) and audit_kept(table, roles, ALL_ROWS_SEED)
    first, second = (REUSED_AUDITS, REUSED_AUDITS) if reused else ("auditing the real data", "auditing all the real rows")
    progress(first, 0, 2 * AUDIT_UNITS)
    if cancel is not None:
        cancel.check()
    real = audit(fit_table, roles, method="dr", seed=seed,
                 progress=lambda k, n: progress(first, AUDIT_UNITS * k // n, 2 * AUDIT_UNITS))
    if cancel is not None:
        cancel.check()
    progress(second, AUDIT_UNITS, 2 * AUDIT_UNITS)
    all_rows = audit_all_rows(table, roles, fitted=real if same_rows else None, fitted_seed=seed,
                              progress=lambda k, n: progress(second, AUDIT_UNITS + AUDIT_UNITS * k // n,
                                                             2 * AUDIT_UNITS))
    return real, all_rows, reused


def run_generation(
    table: Table,
    graph: CausalGraph,
    roles: Roles,
    settings: GenerationSettings,
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelToken] = None,
) -> RunResult:
    """Split, audit the fitting part, fit, sample (with refinement), then measure."""
    from faircause_core.workflow.refine import refine

    check_edits(graph, roles, settings.fairness)  # an edit the graph has no path for: refused before any work
    progress = progress or no_progress
    timings: dict = {}
    t0 = time.perf_counter()
    fit_table, holdout = split_holdout(table, settings.holdout, settings.seed)

    # two audits, each cross-fitting split reported as it ends (in AUDIT_UNITS per audit; they take
    # about as long as each other): the time-left estimate has a pace from the run's first seconds
    real, all_rows, reused = real_audits(fit_table, table, roles, settings.seed, progress, cancel)
    real_dict = real.to_dict()
    timings["audit_s"] = time.perf_counter() - t0
    timings["audits_reused"] = int(reused)  # 1: read, not fitted (a later run's plan does not take its audit_s)

    generator = make_generator(settings)
    t = time.perf_counter()
    if cancel is not None:
        cancel.check()
    generator.fit(fit_table, graph, roles, **_fit_options(generator, progress, cancel))
    timings["fit_s"] = time.perf_counter() - t
    fit_reused = bool(getattr(generator, "from_cache_", False))
    if fit_reused:
        progress("reusing the fitted model of an identical earlier run", 1, 1)
    if cancel is not None:
        cancel.check()

    t = time.perf_counter()
    result = refine(
        generator, settings.rows, settings.fairness, roles, real,
        seed=settings.seed, max_rounds=settings.max_rounds if settings.refine else 1,
        n_measure=measure_rows(settings),
        progress=progress, cancel=cancel, frozen=pathway_gaps(graph, roles),
    )
    timings["sample_s"] = time.perf_counter() - t
    synthetic = result.data
    t = time.perf_counter()
    own = generator_effects(generator, result.final_fairness, settings.seed)
    timings["generator_effects_s"] = time.perf_counter() - t

    t = time.perf_counter()
    if cancel is not None:
        cancel.check()
    say_yardsticks(progress, fit_table, holdout, roles, len(synthetic), settings.seed, settings.measure)
    steps = MeasureSteps(tuple(MEASURE_COST), progress, cancel, timings)  # measure_<step>_s in timings
    final = steps("synthetic audit", lambda: decompose(
        synthetic, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w,
        seed=settings.seed, threshold=roles.threshold, positive=roles.positive,
        splits=synthetic_splits(len(synthetic), settings.measure), progress=steps.part("synthetic audit"),
    ))
    pool, control = steps("predictor sets", lambda: predictor_tables(
        generator, settings, synthetic, result.final_fairness, len(fit_table.df), cancel=cancel))
    metrics = measure(fit_table, holdout, synthetic, graph, roles, settings.seed, control=control,
                      predictor_pool=pool, steps=steps, profile=settings.measure)
    timings["measure_s"] = time.perf_counter() - t
    # what no step holds (the outcome rates, assembling the metrics): the steps and this sum to measure_s
    timings["measure_rest_s"] = max(0.0, timings["measure_s"] - sum(timings[timing_key(n)] for n in MEASURE_COST))
    timings["total_s"] = time.perf_counter() - t0
    progress("done", 1, 1)

    return RunResult(
        synthetic=synthetic,
        settings=settings,
        real_effects=real_dict,
        synthetic_effects=final.to_dict(),
        target=dict(result.targets),
        rounds=list(result.rounds),
        converged=bool(result.converged),
        metrics=metrics,
        timings={k: round(v, 3) for k, v in timings.items()},
        warnings=fitting_notes(real, len(fit_table.df)) + synthetic_notes(final) + removal_checks(own, final.to_dict(),
                                                                              result.final_fairness),
        message=result.message,
        alphas_used=result.alphas_used,
        frozen=result.frozen,
        fit_reused=fit_reused,
        language_model=dict(getattr(generator, "language_model_", None) or {}),
        generator_effects=own,
        overlap=dict(real.overlap or {}),
        real_effects_all_rows=all_rows,
        fitting_rows=len(fit_table.df),
    )


#: Monte Carlo rows of `generator_effects`, per generator (three ancestral passes each).
GENERATOR_EFFECT_ROWS = {"bayesnet": 200_000, "llm": 40_000}
EFFECT_OF_PATHWAY = {"de": "ctf_de", "ie": "ctf_ie", "se": "ctf_se"}


def synthetic_splits(rows: int, profile: str = "full") -> int:
    """Cross-fitting splits for a synthetic table of `rows`: the real audit's rule
    (causal.fairness.splits_for), so both sides are measured by the same estimator at any size;
    the light profile's fewer when it asks for fewer (MEASURE_PROFILES).
    Until issue 22 one split above 5,000 rows; measured since (bench/bench_audit_splits.py), one
    split's spread over fold seeds is still 0.20-0.26 of the standard error at 20,000 rows."""
    return min(splits_for(rows), MEASURE_PROFILES[profile].get("splits", MAX_SPLITS))


def synthetic_notes(decomposition: Decomposition) -> list[str]:
    """The synthetic rows' audit notes, each saying which rows it is about: beside the real
    audit's notes in a run's warnings, "group sex=m is small (33 rows...)" and "(32 rows...)"
    read as one table's contradiction (seen evaluating a copy of pbc)."""
    return [f"on the synthetic rows: {note}" for note in decomposition.warnings]


def fitting_notes(decomposition: Decomposition, rows: int) -> list[str]:
    """The fitting split's audit notes, saying so: the data page's question check counts every
    row ("341 rows of other groups are left out"), the split's audit its own ("dropped 236
    rows ..."), and the two read as a contradiction (seen probing a SEER-like cohort)."""
    return [f"on the fitting split ({rows:,} rows): {note}" for note in decomposition.warnings]


def generator_effects(generator, fairness: FairnessSpec, seed: int) -> dict:
    """The generator's own TV, Ctf-DE, Ctf-IE, Ctf-SE and ETT at `fairness`, exact up to Monte
    Carlo error on its mechanisms (`effects()`: the Bayes net, the language model), as a
    Decomposition's stored form (method "monte carlo", standard errors the Monte Carlo ones);
    {} for a generator without mechanisms to simulate (prompt mode) or one missing a group."""
    if not hasattr(generator, "effects"):
        return {}
    n = GENERATOR_EFFECT_ROWS.get(getattr(generator, "name", ""), 40_000)
    try:
        own = generator.effects(n, fairness, seed=seed)
    except InputError:
        return {}
    from faircause_core.causal.effects import EFFECTS

    ses = {e: float(own.get(f"se_{e}", math.nan)) for e in EFFECTS}
    return Decomposition(estimates={e: float(own[e]) for e in EFFECTS}, ses=ses, quantities={},
                         n=int(own["n0"] + own["n1"]), n0=int(own["n0"]), n1=int(own["n1"]), method="monte carlo",
                         settings={"rows": n, "seed": seed, "fairness": fairness.to_dict(),
                                   "what": "the generator's own effects, by Monte Carlo on its mechanisms"}).to_dict()


def removal_checks(own: dict, synthetic: dict, fairness: FairnessSpec) -> list[str]:
    """For each removed pathway whose audit on the delivered rows has an interval excluding 0:
    which of the two it is, the estimator on these rows (the generator's own effect is 0
    within its Monte Carlo interval) or the generator (its own effect is not 0)."""
    if not own:
        return []
    from faircause_core.causal.effects import EFFECT_LABELS

    rows = as_decomposition(synthetic).to_frame()
    mine = as_decomposition(own).to_frame()
    out = []
    for p in fairness.removed():
        if getattr(fairness, p) < 1.0:
            continue
        e = EFFECT_OF_PATHWAY[p]
        r, g = rows.loc[e], mine.loc[e]
        if r["ci_low"] <= 0 <= r["ci_high"]:
            continue
        said = (f"{EFFECT_LABELS[e]} removed: the audit of the delivered rows reads {r['estimate']:+.3f} "
                f"(95% CI {r['ci_low']:+.3f} to {r['ci_high']:+.3f}), ")
        if g["ci_low"] <= 0 <= g["ci_high"]:
            out.append(said + f"but the generator's own {EFFECT_LABELS[e]} is {g['estimate']:+.4f} (95% CI "
                              f"{g['ci_low']:+.4f} to {g['ci_high']:+.4f}, by Monte Carlo on its mechanisms): the "
                              f"gap is the estimator's error on these rows, not the generator's")
        else:
            out.append(said + f"and the generator's own {EFFECT_LABELS[e]} is {g['estimate']:+.4f} (95% CI "
                              f"{g['ci_low']:+.4f} to {g['ci_high']:+.4f}): the generator misses the removal")
    return out


def _fit_options(generator, progress, cancel) -> dict:
    """fit()'s keyword arguments: the cancel token too where the generator's fit takes one."""
    import inspect

    options = {"progress": progress}
    if cancel is not None and "cancel" in inspect.signature(generator.fit).parameters:
        options["cancel"] = cancel
    return options
