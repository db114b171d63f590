"""The one results type: `Decomposition`, the effect names and labels, one serialiser.

Every figure, sentence, log and saved run reads fairness numbers through this type, so an
effect means the same thing everywhere. A measured decomposition has all five effects with
standard errors; a target (what the user asks a pathway to become) is a Decomposition of
point values for some effects, built by `Decomposition.from_targets`, with no intervals.
Stored form: `to_dict()` (a target is stored as its plain {effect: number} mapping);
`as_decomposition` reads either stored form back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from faircause_core.errors import InputError
from faircause_core.io.export import plain

EFFECTS = ["tv", "ctf_de", "ctf_ie", "ctf_se", "ett"]
EFFECT_LABELS = {
    "tv": "TV (total gap)",
    "ctf_de": "Ctf-DE (direct)",
    "ctf_ie": "Ctf-IE (indirect)",
    "ctf_se": "Ctf-SE (spurious)",
    "ett": "ETT (effect on x0)",
}
COLUMNS = ["estimate", "se", "ci_low", "ci_high"]
QUANTITIES = ["mu0", "mu1", "A", "B"]
Z95 = 1.959963984540054  # standard normal 97.5% quantile
TARGET = "target"  # the method of a Decomposition of point values (no sample behind it)


def _number(value) -> float:
    """A stored number; None (how JSON keeps NaN) reads back as NaN."""
    return math.nan if value is None else float(value)


@dataclass
class Decomposition:
    """Estimates, standard errors and intervals of the effects, plus the four means.

    A measured one carries all of EFFECTS; a target only the effects it sets, with NaN
    standard errors. Kept JSON-safe (to_dict/from_dict) so the app, CLI and logs store it.
    """

    estimates: dict
    ses: dict
    quantities: dict  # {"mu0"|"mu1"|"A"|"B": {"estimate": float, "se": float}}
    n: int
    n0: int
    n1: int
    method: str
    warnings: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    #: how far the groups overlap given the covariates (causal.overlap); {} for a target
    overlap: dict = field(default_factory=dict)

    @classmethod
    def from_targets(cls, targets: Mapping) -> "Decomposition":
        """Point values {effect: number} (e.g. a refinement target) as a Decomposition."""
        if not isinstance(targets, Mapping):
            raise InputError(f"cannot read fairness effects from a {type(targets).__name__}")
        unknown = [str(e) for e in targets if e not in EFFECTS]
        if unknown:
            raise InputError(f"unknown effect {unknown[0]!r}; use one of {', '.join(EFFECTS)}")
        try:
            values = {e: _number(targets[e]) for e in EFFECTS if e in targets}
        except (TypeError, ValueError):
            raise InputError(f"target effects must be numbers, got {dict(targets)!r}") from None
        if not values:
            raise InputError("no fairness effects to show")
        return cls(estimates=values, ses={e: math.nan for e in values}, quantities={},
                   n=0, n0=0, n1=0, method=TARGET)

    @property
    def effects(self) -> list[str]:
        """The effects this result carries, in the order of EFFECTS."""
        return [e for e in EFFECTS if e in self.estimates]

    def __getitem__(self, effect: str) -> float:
        if effect not in self.estimates:
            raise KeyError(f"unknown effect {effect!r}; use one of {', '.join(self.effects)}")
        return float(self.estimates[effect])

    def to_frame(self) -> pd.DataFrame:
        """estimate, se and the 95% interval per effect (NaN interval for a target)."""
        names = self.effects
        est = np.array([self.estimates[e] for e in names], dtype=float)
        se = np.array([self.ses.get(e, math.nan) for e in names], dtype=float)
        out = pd.DataFrame(
            {"estimate": est, "se": se, "ci_low": est - Z95 * se, "ci_high": est + Z95 * se},
            index=pd.Index(names),
        )
        return out[COLUMNS]

    def to_dict(self) -> dict:
        """The stored form (JSON types only; NaN becomes null); "overlap" only when measured."""
        extra = {"overlap": self.overlap} if self.overlap else {}
        return plain({**extra,
            "estimates": {e: float(self.estimates[e]) for e in self.effects},
            "ses": {e: float(self.ses.get(e, math.nan)) for e in self.effects},
            "quantities": {
                q: {"estimate": float(v["estimate"]), "se": float(v["se"])} for q, v in self.quantities.items()
            },
            "n": int(self.n),
            "n0": int(self.n0),
            "n1": int(self.n1),
            "method": str(self.method),
            "warnings": [str(w) for w in self.warnings],
            "settings": self.settings,
        })

    @classmethod
    def from_dict(cls, d: dict) -> "Decomposition":
        """Read `to_dict()` back; InputError when it is not one."""
        try:
            method = str(d["method"])
            estimates = {e: _number(v) for e, v in d["estimates"].items()}
            missing = [e for e in EFFECTS if e not in estimates] if method != TARGET else []
            unknown = [e for e in estimates if e not in EFFECTS]
            if missing or unknown or not estimates:
                raise KeyError((missing or unknown or ["estimates"])[0])
            return cls(
                estimates=estimates,
                ses={e: _number(d["ses"].get(e)) for e in estimates},
                quantities={
                    q: {"estimate": _number(v["estimate"]), "se": _number(v["se"])}
                    for q, v in d["quantities"].items()
                },
                n=int(d["n"]),
                n0=int(d["n0"]),
                n1=int(d["n1"]),
                method=method,
                warnings=list(d.get("warnings", [])),
                settings=dict(d.get("settings", {})),
                overlap=dict(d.get("overlap") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:  # Overflow: int(inf)
            raise InputError(f"not a saved decomposition: missing or bad field {err}") from None

    def __repr__(self) -> str:
        parts = ", ".join(f"{e}={self.estimates[e]:+.4f}" for e in self.effects)
        return f"Decomposition({self.method}, n={self.n}: {parts})"


def as_decomposition(obj) -> Decomposition:
    """A Decomposition, or one read from a stored form: its to_dict(), or a target's
    {effect: number}. The one reader for results kept in runs, logs and reports."""
    if isinstance(obj, Decomposition):
        return obj
    if obj is None:
        raise InputError("no fairness effects to show")
    if isinstance(obj, Mapping) and "estimates" in obj:
        return Decomposition.from_dict(obj)
    return Decomposition.from_targets(obj)
