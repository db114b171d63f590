"""The one ancestral sampling loop of the generators whose mechanisms are per-column
conditionals (the Bayes net's CPDs, the slot language model's masked queries).

method.md section 3: walk the DAG's topological order, draw each column given its parents,
and edit a pathway by changing what its mechanism is conditioned on:
- DE: Y's mechanism is also evaluated with X replaced by the reference x*,
- IE: so are the mechanisms of the mediators W that have X as a parent,
- SE: X's mechanism P(X | Z) is mixed with the marginal P(X),
each as the alpha-mixture of FairnessSpec (mechanisms.py). A generator supplies only
`probs(column, codes)`, its P(column | parents) per row for the state codes drawn so far;
which mechanisms are edited, and how, is decided here once for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from faircause_core.errors import InputError
from faircause_core.generators.base import FairnessSpec
from faircause_core.generators.columns import ColumnCodec
from faircause_core.generators.mechanisms import draw, edits_needed, mix, pathway_alpha, reference_states

# probs(column, codes) -> (n, card of column): the fitted mechanism for every row, given
# the state codes (column -> (n,) ints) of at least the column's parents.
ProbsFn = Callable[[str, dict], np.ndarray]


@dataclass(frozen=True)
class Groups:
    """What the pathway edits need to know about X, in state codes: the marginal P(X)
    (SE edit, marginal reference) and the states of the groups x0 / x1 (None if unset)."""

    px: np.ndarray
    x0: Optional[int] = None
    x1: Optional[int] = None

    @classmethod
    def fit(cls, col: ColumnCodec, xcodes, roles) -> "Groups":
        """From X's fitted codes and roles.x0 / roles.x1 (raw values or their text); a
        binary X whose groups were not chosen takes its two states in order."""
        xcodes = np.asarray(xcodes)
        px = np.bincount(xcodes, minlength=col.card).astype(float) / len(xcodes)
        states = []
        for label in ("x0", "x1"):
            value = getattr(roles, label, None)
            state = None if value is None else col.state_of(value)
            if value is not None and state is None:
                raise InputError(f"group value {value!r} ({label}) not found in column {col.name!r}")
            states.append(state)
        if states == [None, None] and col.n_values == 2:
            states = [0, 1]
        return cls(px, *states)

    @property
    def complete(self) -> bool:
        return self.x0 is not None and self.x1 is not None

    def reference(self, reference: str, u) -> Optional[np.ndarray]:
        """Per-row x* (one per uniform in `u`) for the DE/IE edits; None without both groups.
        The marginal reference draws x0 with P(X = x0 | X in {x0, x1})."""
        if not self.complete:
            return None
        both = self.px[self.x0] + self.px[self.x1]
        p_x0 = self.px[self.x0] / both if both > 0 else 0.5
        return reference_states(reference, len(u), self.x0, self.x1, p_x0, u)


def ancestral_sample(
    order: list,
    parents: dict,
    probs: ProbsFn,
    fairness: FairnessSpec,
    roles,
    groups: Groups,
    u: np.ndarray,
    u_ref: np.ndarray,
    check: Optional[Callable[[], None]] = None,
    on_column: Optional[Callable[[int, int], None]] = None,
    sees_x: Optional[dict] = None,
) -> dict:
    """State codes (column -> (n,) ints) for n = len(u_ref) rows, with the pathway edits.

    Column order[j] is drawn with the uniforms u[j] (one per row, so with common random
    numbers a change of alpha moves few rows) and x* with u_ref. `check()` runs before each
    column (raise there to cancel); `on_column(done, total)` after each one.
    `sees_x` {column: X state}: that column's mechanism reads X as this state instead of
    the row's own (an intervention on one edge out of X, for counterfactuals; the pathway
    edits then act on top of it, as on the row's own X).
    """
    x, y = roles.x, roles.y
    mediators = set(getattr(roles, "w", ()) or ())
    edit = edits_needed(fairness)
    xstar = groups.reference(fairness.reference, u_ref)
    codes: dict = {}
    for j, v in enumerate(order):
        if check is not None:
            check()
        pa = parents[v]
        seen = codes if not sees_x or v not in sees_x or x not in pa else {**codes, x: np.full(len(u_ref), sees_x[v])}
        p = probs(v, seen)
        if v == x and edit["se"]:
            p = mix(p, np.broadcast_to(groups.px, p.shape), fairness.se)
        elif x in pa and ((v == y and edit["de"]) or (v in mediators and edit["ie"])):
            alpha = fairness.de if v == y else fairness.ie
            p_ref = probs(v, {**codes, x: xstar})
            p = mix(p, p_ref, pathway_alpha(alpha, seen[x], groups.x0, groups.x1))
        codes[v] = draw(p, u[j])
        if on_column is not None:
            on_column(j + 1, len(order))
    return codes


def counterfactual_effects(run: Callable[[Optional[dict], slice], dict], order: list, roles, groups: Groups,
                           positive: Callable[[np.ndarray, slice], np.ndarray], n: int, batch: int) -> dict:
    """The generator's own TV, Ctf-DE, Ctf-IE, Ctf-SE and ETT (method.md section 2), by
    Monte Carlo on its mechanisms rather than by estimation on its rows.

    `run(sees_x, part)` returns the state codes of one ancestral pass over the units `part` (a
    slice of 0..n) with the same uniforms (ancestral_sample's `sees_x`); `positive(codes of Y,
    part)` codes the outcome as 0/1 (NaN: missing, left out). Three
    passes: factual; every mechanism reading X = x1 (gives Y_{x1}); only Y's reading x1
    (gives Y_{x1, W_{x0}} on the rows whose X is x0). Z and X are drawn alike in all three,
    so each effect is a difference of means over the same rows (common random numbers).
    `se_<effect>`: its Monte Carlo standard error (paired where both means are over the x0 rows).

    The n units are passed `batch` at a time; each unit's draw reads only its own uniforms, so
    the numbers are those of one pass, and memory is a batch's (one pass of 200,000 units
    through a 99-parent outcome took 2 GB on the 100-column table).
    """
    if not groups.complete:
        raise InputError("the counterfactual effects need both groups x0 and x1")
    x, y = roles.x, roles.y
    xs, ys = [], []
    for part in (slice(a, min(a + batch, n)) for a in range(0, n, batch)):
        fact = run(None, part)
        total = run({v: groups.x1 for v in order if v != x}, part)
        direct = run({y: groups.x1}, part)
        for v in order:  # X and what precedes it must not depend on the interventions
            if v == x:
                break
            if not (np.array_equal(fact[v], total[v]) and np.array_equal(fact[v], direct[v])):
                raise RuntimeError(f"column {v!r} before X changed under an intervention on X")
        xs.append(np.asarray(fact[x]))
        ys.append([np.asarray(positive(c[y], part), dtype=float) for c in (fact, total, direct)])
    fx = np.concatenate(xs)
    in0, in1 = fx == groups.x0, fx == groups.x1
    if not in0.any() or not in1.any():
        raise InputError("the generator drew no row of one of the groups x0, x1")
    y_f, y_tot, y_dir = (np.concatenate([b[i] for b in ys]) for i in range(3))
    e_y0, e_y1 = np.nanmean(y_f[in0]), np.nanmean(y_f[in1])
    e_x1 = np.nanmean(y_tot[in0])  # E[Y_{x1} | x0]
    e_x1w0 = np.nanmean(y_dir[in0])  # E[Y_{x1, W_{x0}} | x0]

    def se(*parts) -> float:  # Monte Carlo standard error: paired differences on the x0 rows, else two groups
        return float(np.sqrt(sum(np.nanvar(p, ddof=1) / max(np.sum(~np.isnan(p)), 1) for p in parts)))

    return {"tv": e_y1 - e_y0, "ctf_de": e_x1w0 - e_y0, "ctf_ie": e_x1w0 - e_x1,
            "ctf_se": e_x1 - e_y1, "ett": e_x1 - e_y0, "n0": int(in0.sum()), "n1": int(in1.sum()),
            "se_tv": se(y_f[in1], y_f[in0]), "se_ctf_de": se(y_dir[in0] - y_f[in0]),
            "se_ctf_ie": se(y_dir[in0] - y_tot[in0]), "se_ctf_se": se(y_tot[in0], y_f[in1]),
            "se_ett": se(y_tot[in0] - y_f[in0])}
