"""The one interface every generator follows: fit on a table + DAG + roles, then sample.

Fairness is edited per causal pathway (method.md section 3). A `FairnessSpec` holds, for
DE, IE and SE, alpha = the share of that pathway removed: 0 keeps it as fitted, 1 removes
it, anything between is a partial dial (X is replaced by the reference x* with
probability alpha in that pathway's mechanism).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import pandas as pd

from faircause_core.errors import InputError

ProgressFn = Callable[[str, int, int], None]
PATHWAYS = ("de", "ie", "se")
REFERENCES = ("x0", "x1", "marginal")


def no_progress(stage: str, done: int, total: int) -> None:
    """Default progress callback: ignore."""


class Cancelled(Exception):
    """Raised by `sample` when its CancelToken was cancelled between batches."""


class CancelToken:
    """Thread-safe flag a UI sets to stop sampling between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("generation cancelled")


@dataclass(frozen=True)
class FairnessSpec:
    """Per-pathway alpha (0 keep .. 1 remove) and the reference group x*.

    Generators apply alpha as a mixture of mechanisms: for the edited mechanism they use
    p = (1 - alpha) * p(. | own x, ...) + alpha * p(. | x*, ...), which is the same as
    replacing X by x* with probability alpha (alpha stays in [0, 1]: outside it a share of a
    pathway has no causal meaning). DE edits Y's mechanism, IE edits the mechanisms of X's children in
    W, SE mixes P(X | Z) with the marginal P(X).
    """

    de: float = 0.0
    ie: float = 0.0
    se: float = 0.0
    reference: str = "x1"

    def __post_init__(self) -> None:
        for name in PATHWAYS:
            value = getattr(self, name)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(f"alpha for {name.upper()} must be a number in [0, 1], got {value!r}")
            if not 0.0 <= value <= 1.0:
                raise InputError(f"alpha for {name.upper()} must be in [0, 1], got {value}")
            object.__setattr__(self, name, value)
        if self.reference not in REFERENCES:
            raise InputError(f"reference must be one of x0, x1, marginal, got {self.reference!r}")

    @classmethod
    def parse(cls, remove: str = "none", alpha: str = "", reference: str = "x1") -> "FairnessSpec":
        """Build from CLI-style text: remove="DE,IE", alpha="DE=0.5,IE=1"."""
        values = {p: 0.0 for p in PATHWAYS}
        text = (remove or "none").strip().lower()
        if text not in ("", "none", "keep"):
            for part in text.replace("+", ",").split(","):
                part = part.strip()
                if part == "all":
                    values = {p: 1.0 for p in PATHWAYS}
                    continue
                if part not in PATHWAYS:
                    raise InputError(f"unknown pathway {part.upper()!r} in --remove: use DE, IE, SE or none")
                values[part] = 1.0
        for part in (alpha or "").split(","):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise InputError(f"alpha setting {part!r} must look like DE=0.5")
            key, _, val = part.partition("=")
            key = key.strip().lower()
            if key not in PATHWAYS:
                raise InputError(f"unknown pathway {key.upper()!r} in --alpha: use DE, IE or SE")
            try:
                values[key] = float(val)
            except ValueError:
                raise InputError(f"alpha for {key.upper()} must be a number in [0, 1], got {val.strip()!r}")
        return cls(reference=reference, **values)

    def removed(self) -> list[str]:
        return [p for p in PATHWAYS if getattr(self, p) > 0]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FairnessSpec":
        return cls(**{k: d[k] for k in ("de", "ie", "se", "reference") if k in d})

    def label(self) -> str:
        parts = []
        for p in PATHWAYS:
            a = getattr(self, p)
            if a >= 1.0:
                parts.append(f"{p.upper()} removed")
            elif a > 0:
                parts.append(f"{p.upper()} {a:.0%} removed")
        return ", ".join(parts) if parts else "mirror (all pathways kept)"


class Generator(ABC):
    """scikit-learn style: small object, `fit` then `sample`, plain data in and out."""

    name = "generator"

    @abstractmethod
    def fit(self, table, graph, roles, progress: Optional[ProgressFn] = None) -> "Generator":
        """Learn the mechanisms of `graph` on `table` (a data.Table); roles = graph.Roles."""

    @abstractmethod
    def sample(
        self,
        n: int,
        fairness: FairnessSpec = FairnessSpec(),
        seed: int = 0,
        progress: Optional[ProgressFn] = None,
        cancel: Optional[CancelToken] = None,
    ) -> pd.DataFrame:
        """Draw n rows with the pathway edits of `fairness`; raise Cancelled if cancelled."""


#: The most rows a run delivers (a million sample in 0.8 s from the Bayes net: docs/benchmarks.md).
MAX_GENERATED_ROWS = 1_000_000
#: The rows a run's form offers by default: the cohort's size, up to this many.
DEFAULT_GENERATED_ROWS = 200_000


def check_rows(n) -> int:
    """Validate a requested row count (a user setting)."""
    try:
        value = int(n)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
        raise InputError(f"number of rows must be a whole number, got {n!r}")
    if value != n and not isinstance(n, str):
        raise InputError(f"number of rows must be a whole number, got {n!r}")
    if value < 1 or value > MAX_GENERATED_ROWS:
        raise InputError(f"number of rows must be between 1 and {MAX_GENERATED_ROWS:,}, got {value}")
    return value


def check_sample_request(n, fairness, x0, x1, x_name) -> int:
    """Validate the arguments of `sample` once fitted: the row count (returned as an int),
    that `fairness` is a FairnessSpec, and that pathway edits have both group states."""
    n = check_rows(n)
    if not isinstance(fairness, FairnessSpec):
        raise InputError(f"fairness must be a FairnessSpec, got {type(fairness).__name__}")
    edits = fairness.de != 0 or fairness.ie != 0 or fairness.se != 0
    if edits and (x0 is None or x1 is None):
        raise InputError(f"pathway edits need both groups x0 and x1 of {x_name!r}")
    return n



def pathway_gaps(graph, roles) -> dict:
    """{pathway: one-line reason} for each of DE, IE, SE that the graph gives no path for.

    DE needs the edge X -> Y; IE a mediator (W non-empty, so some child of X lies on a path
    to Y); SE a parent of X in Z or a confounder associated with X (the standard fairness
    model's Z <-> X, `CausalGraph.associations`). The one rule behind
    check_edits and anything else that must know which pathways exist (e.g. a loop that
    cannot steer a pathway the graph lacks).
    """
    x, y = roles.x, roles.y
    gaps = {}
    if not graph.has_edge(x, y):
        gaps["de"] = f"the graph has no direct path from {x} to {y}: there is no direct effect to remove"
    if not tuple(roles.w):
        gaps["ie"] = f"the graph has no path from {x} to {y} through a mediator: there is no indirect effect to remove"
    parents = tuple(graph.parents(x)) + tuple(getattr(graph, "associated", lambda n: ())(x))
    if not parents:
        gaps["se"] = (f"{x} has no parents in this graph and is associated with no confounder: there is no "
                      f"spurious effect to remove")
    elif not set(parents) & set(roles.z):
        gaps["se"] = (f"no parent of {x} reaches {y} in this graph, nor does a column associated with it: there is "
                      f"no spurious effect to remove")
    return gaps


def check_edits(graph, roles, fairness: FairnessSpec) -> None:
    """Refuse (InputError, one line) a pathway edit that the graph gives no path for.

    Without this an edit of a missing pathway changes nothing, and a run would report the
    pathway "removed" on data that still carries whatever the graph failed to show. Any
    alpha other than 0 counts as an edit (partial ones too). The CLI, the pipeline and the
    app all reach this one rule (pathway_gaps).
    """
    gaps = pathway_gaps(graph, roles)
    problems = [gaps[p] for p in PATHWAYS if getattr(fairness, p) != 0 and p in gaps]
    if problems:
        raise InputError("; ".join(problems))
