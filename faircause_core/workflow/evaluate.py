"""Measure a synthetic table made anywhere (another generator, SDV, MOSTLY AI, a hand-edited
copy) exactly as a generated run is measured, so the two can be compared and shared alike.

The result is a pipeline.RunResult whose generator is "external": the real fitting rows'
audit, the synthetic rows' decomposition, and pipeline.measure's fidelity, utility,
fair-predictor and privacy numbers. Without a holdout file the real rows are split as
`generate` splits them (same share, same seed). The privacy measures then mean something
only if the synthetic rows were made from the fitting part alone; that is said in a warning.
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np
import pandas as pd

from faircause_core.causal.fairness import decompose
from faircause_core.causal.graph import CausalGraph, Roles
from faircause_core.causal.question import Outcome
from faircause_core.errors import InputError
from faircause_core.generators.base import CancelToken, ProgressFn, no_progress
from faircause_core.io.data import Table, match_column
from faircause_core.metrics.frames import NUMERIC_KINDS, model_kinds, numbers
from faircause_core.workflow.pipeline import (
    EXTERNAL, METRIC_STEPS, GenerationSettings, MeasureSteps, RunResult, default_measure, measure as measure_metrics,
    fitting_notes, real_audits, say_yardsticks, split_holdout, synthetic_notes, synthetic_splits,
)

#: At most this many distinct unseen values are named in a warning.
_SHOWN = 3


def conform(frame: pd.DataFrame, real: Table, which: str) -> tuple[pd.DataFrame, list[str]]:
    """`frame` with exactly the real table's model columns, in its order and spelling.

    A missing column is refused in one line (the measures compare column by column); an extra
    column is left out and named. Columns are matched as the CLI matches flags, so a file that
    writes 'T Stage' for 'T Stage ' still lines up."""
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise InputError(f"{which} has no rows")
    names, theirs = list(real.df.columns), list(frame.columns)
    found = {col: match_column(col, theirs) for col in names}
    missing = [col for col, src in found.items() if src not in theirs]
    if missing:
        shown = ", ".join(f"'{c}'" for c in missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise InputError(f"{which} lacks {len(missing)} column(s) of the real data: {shown}")
    used = set(found.values())
    extra = [str(c) for c in frame.columns if c not in used]
    out = pd.DataFrame({col: frame[src].to_numpy() for col, src in found.items()}, index=pd.RangeIndex(len(frame)))
    for col in model_kinds(real.schema):
        if model_kinds(real.schema)[col] in NUMERIC_KINDS:
            out[col] = numbers(out[col].rename(col), which)  # a word in a number column: said now, in one line
    raw = set(map(str, real.raw.columns)) if real.raw is not None else set()
    dropped, foreign = [c for c in extra if c in raw], [c for c in extra if c not in raw]
    notes = [f"{which}: {len(foreign)} column(s) not in the real data were left out: {', '.join(foreign[:8])}"] if foreign else []
    notes += [f"{which}: {len(dropped)} column(s) left out as in the real data (an identifier or an empty column "
              f"there): {', '.join(dropped[:8])}"] if dropped else []
    return out, notes


def _unseen_values(real: pd.Series, other: pd.Series, which: str) -> Optional[str]:
    """A note when a column of the question (X or Y) holds values the real rows never take."""
    seen = set(pd.unique(real.dropna()))
    new = pd.Series(other.dropna()[~other.dropna().isin(seen)])
    if new.empty:
        return None
    counts = new.astype(str).value_counts()
    named = ", ".join(f"'{v}' ({n:,} rows)" for v, n in counts.head(_SHOWN).items())
    return f"{which} column '{real.name}' has values the real rows never take: {named}; those rows count as neither group"


def _check_question(synthetic: pd.DataFrame, real: pd.DataFrame, roles: Roles, which: str) -> list[str]:
    """Both groups of X present and Y codable in the synthetic rows, else one line."""
    x = synthetic[roles.x]
    for group in (roles.x0, roles.x1):
        if not (x.astype(str) == str(group)).any() and not (x == group).any():
            raise InputError(f"{which} has no rows with {roles.x} = {group}: both groups are needed to measure fairness")
    coding = Outcome.resolve(real[roles.y], roles.threshold, roles.positive)
    coded = coding.code(synthetic[roles.y])
    if np.all(np.isnan(coded)):
        raise InputError(f"{which}: no value of the outcome '{roles.y}' can be read as the real data codes it")
    notes = [n for n in (_unseen_values(real[roles.x], x, which),) if n]
    if roles.threshold is None:
        notes += [n for n in (_unseen_values(real[roles.y], synthetic[roles.y], which),) if n]
    return notes


#: Share of the held-out patients with a row of their own found verbatim in the synthetic table
#: above which the held-out rows are said to be inside it (an honest table holds about none).
HELD_OUT_INSIDE = 0.05


def held_out_inside(priv: dict) -> list[str]:
    """A warning when the synthetic table holds the held-out patients' own rows: its maker saw
    them, so every measure tested on them (train-on-synthetic AUROC, membership) is flattered.
    An exact copy evaluated without a holdout showed TSTR 0.998 and said nothing."""
    rows, copied = priv.get("unique_holdout_rows") or 0, priv.get("unique_holdout_copied") or 0
    if not rows or copied / rows <= HELD_OUT_INSIDE:
        return []
    return [f"{copied:,} of {rows:,} held-out patients with a row of their own are in the synthetic table verbatim: "
            f"its maker saw them, so train-on-synthetic AUROC (tested on them) and membership inference are "
            f"flattered; give --holdout with real rows the maker never saw"]


def evaluate(table: Table, synthetic: pd.DataFrame, graph: CausalGraph, roles: Roles, *,
             holdout: Optional[pd.DataFrame] = None, seed: int = 0, holdout_share: float = 0.3,
             source: str = "synthetic table", holdout_source: Optional[str] = None,
             progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None,
             measure: Optional[str] = None) -> RunResult:
    """Audit the real fitting rows, decompose the synthetic rows and measure them like a run.

    `holdout`: real rows the synthetic table's maker never saw; without it the real rows are
    split as `generate` splits them (`holdout_share`, `seed`) and the fitting part stands for
    the training rows. `measure`: the measuring profile (pipeline.MEASURE_PROFILES; None: the default)."""
    progress = progress or no_progress
    measure = default_measure() if measure is None else measure
    settings = GenerationSettings(generator=EXTERNAL, seed=seed, holdout=holdout_share, refine=False,
                                  rows=max(1, len(synthetic)) if isinstance(synthetic, pd.DataFrame) else 1,
                                  source=str(source), holdout_source=holdout_source, measure=measure)
    synth, warnings = conform(synthetic, table, f"synthetic table {source}")
    if holdout is None:
        fit_table, hold = split_holdout(table, settings.holdout, seed)
        warnings.append(f"no holdout given: the real rows were split as generate splits them ({len(fit_table.df):,} "
                        f"fitting rows, {len(hold):,} held out, seed {seed}); the privacy measures assume "
                        f"{source} was made from the fitting rows only")
        settings.holdout_source = None
    else:
        hold, notes = conform(holdout, table, f"holdout {holdout_source or ''}".strip())
        warnings += notes
        fit_table = Table(df=table.df, schema=table.schema, name=table.name, warnings=[])
    warnings += _check_question(synth, fit_table.df, roles, f"synthetic table {source}")

    timings: dict = {}
    t0 = time.perf_counter()
    # the headline "real data": every real row, as step 3 audits it (the same table when a holdout was given)
    real, all_rows, reused = real_audits(fit_table, table, roles, seed, progress, cancel,
                                         same_rows=holdout is not None)
    timings["audit_s"] = time.perf_counter() - t0
    timings["audits_reused"] = int(reused)  # as a run records it: a later plan does not take a read audit's 0 s

    t = time.perf_counter()
    # measured as a run measures, step by step (measure_<step>_s in timings; no predictor sets:
    # there is no generator to draw them from)
    say_yardsticks(progress, fit_table, hold, roles, len(synth), seed, settings.measure)
    steps = MeasureSteps(("synthetic audit", *METRIC_STEPS), progress, cancel, timings)
    final = steps("synthetic audit", lambda: decompose(
        synth, roles.x, roles.x0, roles.x1, roles.y, roles.z, roles.w, seed=seed, threshold=roles.threshold,
        positive=roles.positive, splits=synthetic_splits(len(synth), settings.measure),
        progress=steps.part("synthetic audit")))
    metrics = measure_metrics(fit_table, hold, synth, graph, roles, seed, progress=progress, cancel=cancel,
                              profile=settings.measure, steps=steps)
    timings["measure_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    progress("done", 1, 1)
    warnings += held_out_inside(metrics.get("privacy") or {})
    verdict = (metrics.get("privacy") or {}).get("verdict")
    message = (f"measured {len(synth):,} rows from {source} against {len(fit_table.df):,} real fitting rows and "
               f"{len(hold):,} held-out rows" + (f"; privacy verdict: {verdict}" if verdict else ""))
    return RunResult(
        synthetic=synth, settings=settings, real_effects=real.to_dict(), synthetic_effects=final.to_dict(),
        real_effects_all_rows=all_rows, fitting_rows=len(fit_table.df),
        target={}, rounds=[], converged=False, metrics=metrics,
        timings={k: round(v, 3) for k, v in timings.items()},
        warnings=warnings + (list(real.warnings) if holdout is not None else fitting_notes(real, len(fit_table.df)))
        + synthetic_notes(final), message=message,
    )
