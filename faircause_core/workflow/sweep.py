"""The trade-off sweep: one pathway's dial through several alphas with ONE fitted generator.

A stakeholder asks "what does removing this pathway cost?". Fitting is the slow part, and
the pathway edits act only at sampling time, so the generator is fitted once on the fitting
split (pipeline's seeded split) and sampled once per dial value. Every point uses the same
seed (common random numbers), so two points differ only by alpha. There is no refinement
loop: the dial is the alpha itself, and each point reports what that alpha delivers.

Each point is measured like a run (pipeline.measure's metrics, minus privacy, which takes
seconds per table and is not a trade-off of the dial): the decomposition with intervals,
SDMetrics quality, train-on-synthetic AUROC (with a Hanley-McNeil interval for the test
rows) and the fair-predictor reduction with its bootstrap interval. The real fitting split
is the reference point ("as real"), the generator's target; the audit of all the real rows
(real_all_rows) is what a summary calls the real data.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from faircause_core.causal.effects import Z95
from faircause_core.causal.fairness import decompose
from faircause_core.causal.question import Outcome, group_name
from faircause_core.errors import InputError
from faircause_core.generators.base import (
    PATHWAYS, CancelToken, FairnessSpec, Generator, ProgressFn, check_edits, check_rows, no_progress, pathway_gaps,
)
from faircause_core.io.export import plain
from faircause_core.workflow.pipeline import (
    GENERATORS, GenerationSettings, audit, audit_all_rows, effect_table, make_generator, predictor_roles,
    split_holdout,
)

PATHWAY_CHOICES = ("de", "ie", "se", "all")
DEFAULT_POINTS = (0.0, 0.25, 0.5, 0.75, 1.0)
MAX_POINTS = 21
SWEPT_EFFECT = {"de": "ctf_de", "ie": "ctf_ie", "se": "ctf_se", "all": "tv"}  # the effect the dial moves
# Refits per table for the fair predictor's interval: 4 instead of metrics.utility's 16 keeps a
# five-point Bayes-net sweep of the demo under 30 s (bench/bench_sweep.py); the interval still
# carries the refit spread, estimated from fewer refits.
SWEEP_REPEATS = 4


def parse_pathway(text) -> str:
    """'DE', 'ie', 'all' -> the lower-case choice; anything else one line."""
    value = str(text or "").strip().lower()
    if value not in PATHWAY_CHOICES:
        raise InputError(f"unknown pathway {str(text)!r} for the sweep: use DE, IE, SE or all")
    return value


def parse_points(points) -> tuple[float, ...]:
    """'0,0.25,0.5' or a sequence of numbers -> sorted distinct alphas in [0, 1] (2 to 21 of them)."""
    parts = [p.strip() for p in points.split(",")] if isinstance(points, str) else list(points or [])
    values = []
    for p in parts:
        if isinstance(p, str) and not p:
            continue
        try:
            v = float(p)
        except (TypeError, ValueError):
            raise InputError(f"sweep point {p!r} is not a number: give alphas like 0,0.25,0.5,0.75,1") from None
        if not 0.0 <= v <= 1.0:  # also refuses NaN
            raise InputError(f"sweep point {v:g} is outside [0, 1]: an alpha is the share of a pathway removed")
        values.append(v)
    values = sorted(set(values))
    if not 2 <= len(values) <= MAX_POINTS:
        raise InputError(f"a sweep needs between 2 and {MAX_POINTS} distinct points in [0, 1], got {len(values)}")
    return tuple(values)


def swept_pathways(graph, roles, pathway: str) -> tuple[tuple[str, ...], list[str]]:
    """The pathways the dial moves and notes on any left out. A single pathway the graph has no
    path for is refused (check_edits, one line); "all" moves every pathway the graph has and
    says which it lacks, refusing only when it has none."""
    if pathway != "all":
        check_edits(graph, roles, FairnessSpec(**{pathway: 1.0}))
        return (pathway,), []
    gaps = pathway_gaps(graph, roles)
    moved = tuple(p for p in PATHWAYS if p not in gaps)
    if not moved:
        raise InputError("; ".join(gaps[p] for p in PATHWAYS))
    return moved, [f"{p.upper()} is not swept: {gaps[p]}" for p in PATHWAYS if p in gaps]


def spec_for(moved: Sequence[str], alpha: float, reference: str = "x1") -> FairnessSpec:
    """The FairnessSpec of one dial value: alpha on every moved pathway, 0 elsewhere."""
    return FairnessSpec(reference=reference, **{p: alpha for p in moved})


def auroc_interval(auc: float, n_pos: int, n_neg: int) -> tuple[float, float]:
    """95% interval of an AUROC from the test rows alone (Hanley & McNeil 1982): how much the
    number would move on another set of held-out patients, not across model refits."""
    if not (n_pos > 0 and n_neg > 0) or not math.isfinite(auc):
        return math.nan, math.nan
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    se = math.sqrt(max(var, 0.0))
    return max(0.0, auc - Z95 * se), min(1.0, auc + Z95 * se)


@dataclass
class SweepPoint:
    """One dial value and what the rows drawn with it measure (JSON-safe via to_dict)."""

    alpha: float
    fairness: dict
    effects: dict  # {effect: {estimate, se, ci_low, ci_high}}
    quality: Optional[float]
    shape: Optional[float]
    trend: Optional[float]
    auroc_tstr: float
    auroc_tstr_ci: tuple
    fair_predictor: dict
    outcome_rate: float
    rows: int
    measured_rows: int
    seconds: float
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return plain({**self.__dict__, "auroc_tstr_ci": list(self.auroc_tstr_ci)})


@dataclass
class SweepResult:
    """Every point of a sweep plus the real data's point and what it was run with."""

    pathway: str
    moved: tuple
    effect: str
    points: list
    real: dict
    settings: dict
    timings: dict
    warnings: list = field(default_factory=list)
    # The audit of ALL the real rows, {"effects", "rows"}: the headline "real data" (step 3's
    # numbers); `real` is the fitting split the generator learned from, its target.
    real_all_rows: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return plain({
            "pathway": self.pathway, "moved": list(self.moved), "effect": self.effect,
            "points": [p.to_dict() for p in self.points], "real": self.real, "settings": self.settings,
            "timings": self.timings, "warnings": list(self.warnings), "real_all_rows": self.real_all_rows,
        })


def _reduction(fair: dict) -> dict:
    """The fair predictor's numbers a point keeps (the real-trained model's go to the real point)."""
    if "error" in fair:
        return {"error": fair["error"]}
    keys = ("reduction", "reduction_ci_low", "reduction_ci_high", "synthetic_trained_de",
            "synthetic_trained_de_ci_low", "synthetic_trained_de_ci_high")
    return {k: fair.get(k) for k in keys}


class _Measure:
    """What every point shares: the real split, the holdout, features, the outcome coding."""

    def __init__(self, fit_table, holdout, graph, roles, seed: int, repeats: int):
        from faircause_core.metrics.frames import model_kinds

        self.fit, self.holdout, self.graph, self.roles = fit_table, holdout, graph, roles
        self.seed, self.repeats = seed, repeats
        self.after = tuple(sorted(graph.descendants(roles.y)))  # recorded after Y: no feature (as pipeline)
        self.features = {c: k for c, k in model_kinds(fit_table.schema).items() if c not in self.after}
        self.coding = Outcome.resolve(fit_table.df[roles.y], roles.threshold, roles.positive)
        y_test = self.coding.code(holdout[roles.y])
        self.n_pos, self.n_neg = int(np.nansum(y_test == 1)), int(np.nansum(y_test == 0))
        self.fair_real: dict = {}

    def decompose(self, df):
        r = self.roles
        return decompose(df, r.x, r.x0, r.x1, r.y, r.z, r.w, seed=self.seed, threshold=r.threshold,
                         positive=r.positive)

    def point(self, alpha, spec, big, rows: int, seconds_from: float) -> SweepPoint:
        from faircause_core.metrics.fidelity import quality_report
        from faircause_core.metrics.utility import fair_predictor, tstr_auroc

        r, real = self.roles, self.fit.df
        synth = big.iloc[:rows].reset_index(drop=True)
        try:
            effects = effect_table(self.decompose(big).to_dict())
        except InputError as err:
            raise InputError(f"measuring the sweep point alpha = {alpha:g} failed: {err}") from None
        # the scores only, as a run measures them (pipeline.measure): no second report for a pairs table
        q = quality_report(real, synth, self.fit.schema, every_pair=False, seed=self.seed)
        util = tstr_auroc(real, synth, self.holdout, r.y, self.features, seed=self.seed, threshold=r.threshold,
                          positive=r.positive)
        try:
            # the whole draw: metrics.utility trains the synthetic model on sets of it of the real size
            fair = fair_predictor(real, big, self.holdout, predictor_roles(self.graph, r), self.fit.schema,
                                  seed=self.seed, exclude=self.after, repeats=self.repeats)
        except InputError as err:  # e.g. the synthetic rows lost a group entirely
            fair = {"error": str(err)}
        if "error" not in fair and not self.fair_real:
            self.fair_real = {k: fair.get(k) for k in ("real_trained_de", "real_trained_de_ci_low",
                                                       "real_trained_de_ci_high")}
        self.trtr = util["trtr"]
        return SweepPoint(
            alpha=float(alpha), fairness=spec.to_dict(), effects=effects,
            quality=float(q["quality"]), shape=float(q["shape"]), trend=float(q["trend"]),
            auroc_tstr=float(util["tstr"]), auroc_tstr_ci=auroc_interval(util["tstr"], self.n_pos, self.n_neg),
            fair_predictor=_reduction(fair), outcome_rate=float(np.nanmean(self.coding.code(synth[r.y]))),
            rows=int(len(synth)), measured_rows=int(len(big)), seconds=round(time.perf_counter() - seconds_from, 3),
            notes=list(util.get("notes") or []) + [n for n in fair.get("notes") or []
                                                   if not n.startswith("no control")],
        )


def run_sweep(
    table,
    graph,
    roles,
    pathway: str = "de",
    points=DEFAULT_POINTS,
    *,
    generator="bayesnet",
    model_dir: Optional[str] = None,
    preset: str = "quick",
    train_steps: Optional[int] = None,
    rows: Optional[int] = None,
    measure_rows: Optional[int] = None,
    seed: int = 0,
    holdout: float = 0.3,
    reference: str = "x1",
    repeats: int = SWEEP_REPEATS,
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelToken] = None,
) -> SweepResult:
    """Fit one generator, then draw and measure one table per dial value.

    `generator` is a name (llm, bayesnet, prompt) or an unfitted Generator object. `rows`
    (default: the fitting split's size) are the rows quality, AUROC and the fair predictor
    see; the effects are measured on `measure_rows` rows of the same draw (default as the
    refinement loop: 20,000 for the Bayes net, 4,000 for the language models), because the
    doubly robust Ctf-DE of a cohort-sized sample is too noisy to draw a curve from.
    """
    pathway = parse_pathway(pathway)
    alphas = parse_points(points)
    moved, notes = swept_pathways(graph, roles, pathway)
    name = generator if isinstance(generator, str) else getattr(generator, "name", type(generator).__name__)
    if isinstance(generator, str) and generator not in GENERATORS:
        raise InputError(f"unknown generator {generator!r}: use llm, bayesnet or prompt")
    if not isinstance(generator, (str, Generator)):
        raise InputError(f"generator must be a name or a Generator, got {type(generator).__name__}")
    spec_for(moved, 1.0, reference)  # the reference is checked before any work
    progress = progress or no_progress
    t0 = time.perf_counter()
    fit_table, hold = split_holdout(table, holdout, seed)
    rows = check_rows(rows if rows is not None else len(fit_table.df))
    settings = GenerationSettings(generator=name if name in GENERATORS else "bayesnet", model_dir=model_dir,
                                  preset=preset, train_steps=train_steps, rows=rows, seed=seed, holdout=holdout,
                                  measure_rows=measure_rows)
    from faircause_core.workflow.pipeline import measure_rows as default_measure_rows

    n_measure = default_measure_rows(settings)
    progress("auditing the real data", 0, 1)
    real = audit(fit_table, roles, method="dr", seed=seed)
    everything = audit_all_rows(table, roles)  # the headline: every real row, as step 3 shows it
    timings = {"audit_s": time.perf_counter() - t0}
    gen = make_generator(settings) if isinstance(generator, str) else generator
    t = time.perf_counter()
    gen.fit(fit_table, graph, roles, progress=progress)
    timings["fit_s"] = time.perf_counter() - t
    reused = bool(getattr(gen, "from_cache_", False))  # a language model's store may hold this exact fit
    measure = _Measure(fit_table, hold, graph, roles, seed, repeats)
    out = []
    for k, alpha in enumerate(alphas):
        if cancel is not None:
            cancel.check()
        progress(f"sweep point {k + 1} of {len(alphas)} (alpha {alpha:g})", k, len(alphas))
        t = time.perf_counter()
        spec = spec_for(moved, alpha, reference)
        big = gen.sample(max(rows, n_measure), spec, seed=seed, cancel=cancel).reset_index(drop=True)
        out.append(measure.point(alpha, spec, big, rows, t))
    progress("sweep done", len(alphas), len(alphas))
    timings["points_s"] = sum(p.seconds for p in out)
    timings["total_s"] = time.perf_counter() - t0
    real_point = {
        "effects": effect_table(real.to_dict()), "rows": int(len(fit_table.df)),
        "auroc_trtr": float(measure.trtr), "auroc_trtr_ci": list(auroc_interval(measure.trtr, measure.n_pos,
                                                                              measure.n_neg)),
        "outcome_rate": float(np.nanmean(measure.coding.code(fit_table.df[roles.y]))),
        "fair_predictor": measure.fair_real,
    }
    return SweepResult(
        pathway=pathway, moved=moved, effect=SWEPT_EFFECT[pathway], points=out, real=real_point,
        settings={"generator": name, "model_dir": model_dir, "preset": preset, "rows": rows,
                  "measure_rows": max(rows, n_measure), "seed": seed, "holdout": holdout, "reference": reference,
                  "repeats": repeats, "x": roles.x, "x0": str(roles.x0), "x1": str(roles.x1), "y": roles.y,
                  "x0_name": group_name(roles.x, roles.x0, getattr(roles, "labels", None)),
                  "x1_name": group_name(roles.x, roles.x1, getattr(roles, "labels", None)),
                  "positive": None if roles.positive is None else str(roles.positive),
                  "threshold": roles.threshold, "holdout_rows": int(len(hold)),
                  "holdout_positives": measure.n_pos, "holdout_negatives": measure.n_neg, "fit_reused": reused},
        timings={k: round(v, 3) for k, v in timings.items()},
        warnings=notes + list(real.warnings),
        real_all_rows={"effects": effect_table(everything), "rows": int(everything["rows"])},
    )
