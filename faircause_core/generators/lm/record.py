"""What the language model did in one fit, as a record and as one line for people.

`build` turns a fit's training statistics (lm/train.py) into the run's `language_model`
record: which columns the model changed (`columns_used`), what each column gained on
held-out rows (`per_column`: mean per-row log-loss gain over the fixed part, in nats, with
its standard error), how many steps ran of how many, why training stopped, the model and
how many of its layers ran. The generate report JSON carries it (RunResult.language_model)
and `sentence` says it in one line: on the generate page, the compare page, the HTML
report and the CLI. Light on purpose (no torch): the pages import it.
"""

from __future__ import annotations

from typing import Mapping, Optional

#: Why training stopped (lm/train.py's stats["stopped_because"]), in words.
STOPPED = {
    "patience": "the held-out loss stopped improving after the warm-up",
    "budget": "the step budget was used up",
    "seconds": "the time budget was used up",
    "no_lm": "no language model was run",
    "too_few_rows": "too few rows to hold any out",
}

#: What the rows come from where the language model is not used, in the user's words.
FIXED_PART = "the causal model's fitted conditionals"
TEST = "one-sided paired t-test of the per-row log-loss gain per column, Holm-corrected across columns"


def build(stats: Mapping, columns: list[str], model: str, layers: Optional[int], body: str = "pretrained",
          fit_seconds: Optional[float] = None, from_cache: bool = False, alpha: float = 0.05) -> dict:
    """The run's `language_model` record from one fit's training statistics."""
    per_column = {c: {"gain": float(v["gain"]), "se": float(v["se"]), "p_holm": float(v.get("p_holm", 1.0)),
                      "used": bool(v.get("used", False))}
                  for c, v in (stats.get("per_column") or {}).items()}
    used = [c for c in columns if per_column.get(c, {}).get("used")]
    return {
        "model": model if body != "none" else None,
        "body": body,
        "layers": layers if body != "none" else 0,
        "columns": list(columns),
        "columns_used": used,
        "per_column": per_column,
        "steps_run": int(stats.get("steps") or 0),
        "step_budget": int(stats.get("step_budget") or 0),
        "best_step": int(stats.get("best_step") or 0),
        "warmup_steps": int(stats.get("warmup_steps") or 0),
        "stopped_because": STOPPED.get(stats.get("stopped_because"), stats.get("stopped_because") or ""),
        "held_out_rows": {"stopping": int(stats.get("stop_rows") or 0), "selection": int(stats.get("select_rows") or 0)},
        "test": f"{TEST}, alpha {alpha:g}" if per_column else None,
        "fit_seconds": None if fit_seconds is None else round(float(fit_seconds), 2),
        "from_cache": bool(from_cache),
        # wall seconds of the fit on each torch thread count, where lm.threads.ThreadGovernor chose them
        "torch_threads": {},
        # the fixed part's Dirichlet strength per column (generators/strength.py); {} when fixed
        "prior_strengths": {c: float(v) for c, v in (stats.get("strengths") or {}).items()},
    }


def prompt_record(model: str, columns: list[str]) -> dict:
    """Prompt mode's record: the language model writes every value, nothing is trained or judged."""
    return {"model": model, "body": "prompt", "layers": None, "columns": list(columns), "columns_used": list(columns),
            "per_column": {}, "steps_run": 0, "step_budget": 0, "best_step": 0, "warmup_steps": 0,
            "stopped_because": "prompt mode: no training", "held_out_rows": {"stopping": 0, "selection": 0},
            "test": None, "fit_seconds": None, "from_cache": False, "torch_threads": {},
            "prior_strengths": {}}


def _model_words(record: Mapping) -> str:
    layers = record.get("layers")
    return f"{record.get('model') or 'a local model'}" + (f", {layers} layers" if layers else "")


def _gain_words(column: str, v: Mapping) -> str:
    return f"{column}: log loss down {v['gain']:.3f} ± {v['se']:.3f} nats a row"


def sentence(record: Optional[Mapping]) -> Optional[str]:
    """One line saying what the language model did (None for a run without one: the Bayes net,
    a table made elsewhere, or a run saved before this record existed)."""
    if not record:
        return None
    columns = list(record.get("columns") or [])
    k = len(columns)
    if record.get("body") == "none" or not record.get("model"):
        return (f"no language model was run: all {k} columns come from {FIXED_PART} "
                "(the language model was skipped)")
    used = list(record.get("columns_used") or [])
    who = f"the language model ({_model_words(record)})"
    if record.get("body") == "prompt":
        return (f"{who} wrote all {k} columns by few-shot prompting: prompt mode trains nothing and no held-out "
                "rows judge it")
    held = record.get("held_out_rows") or {}
    if not held.get("selection"):
        return (f"{who} changed 0 of {k} columns: there were too few rows to hold any out to judge it on, "
                f"so these rows come from {FIXED_PART}")
    steps = f"it trained {record.get('steps_run', 0)} of {record.get('step_budget', 0)} steps"
    why = record.get("stopped_because")
    steps += f" ({why})" if why else ""
    if not used:
        return (f"{who} changed 0 of {k} columns: held-out rows showed no gain, so these rows come from "
                f"{FIXED_PART}; {steps}")
    per = record.get("per_column") or {}
    gains = "; ".join(_gain_words(c, per[c]) for c in used if c in per)
    return (f"{who} changed {len(used)} of {k} columns ({gains} on {held['selection']} held-out rows); the other "
            f"{k - len(used)} come from {FIXED_PART}; {steps}")


#: Where the language model won on held-out rows, measured (bench/bench_lm_where.py and, at
#: the shared cohorts' full size, bench_lm_schedule.py; quick preset, seed 0;
#: docs/language_model.md): fitting rows -> (columns whose log loss it lowered by more than
#: 2 SE on evaluation rows no part of the fit saw, columns tested, cohorts), summed over the
#: cohorts measured at about that many rows.
MEASURED: dict[int, tuple[int, int, str]] = {
    100: (0, 36, "subsamples of the demo, flchain and medpar"),
    200: (0, 36, "subsamples of the demo, flchain and medpar"),
    400: (0, 41, "subsamples of the demo, flchain and medpar and a cohort with 120 diagnosis names"),
    800: (0, 36, "subsamples of the demo, flchain and medpar"),
    1100: (0, 25, "the demo and medpar"),
    1500: (0, 5, "a cohort with 120 diagnosis names"),
    5512: (0, 11, "flchain"),
    50_000: (0, 6, "a simulated cohort with interactions the additive fixed part misses"),
}


def advice(rows: int) -> Optional[str]:
    """A line to say BEFORE training where the measurement says the language model will improve
    no column at about `rows` fitting rows (the nearest measured size within a factor of 2),
    else None: no claim outside what was measured, nor where it ever won."""
    if not MEASURED or rows is None or rows <= 0:
        return None
    import math

    near = min(MEASURED, key=lambda n: abs(math.log(n / rows)))
    if abs(math.log(near / rows)) > math.log(2):
        return None
    won, tested, cohorts = MEASURED[near]
    if won:
        return None
    return (f"measured at about {near:,} fitting rows on {cohorts}, the language model improved 0 of {tested} "
            f"columns on rows it never saw, so it will most likely change none here and its training is time "
            f"spent for the same rows")
