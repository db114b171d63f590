"""Numbers to a few ordered bins and back: used by discovery, the Bayes net and the LM.

Going back draws a real observed value from the same bin, so sampled numbers always stay
within the observed range and at the column's precision, and the marginal is kept.
"""

from __future__ import annotations

import numpy as np

MISSING = -1


class Binner:
    """Quantile bins for one numeric column; each distinct value is its own bin when few.

    spikes=True (the generators'): a value held by at least a bin's worth of rows (1/max_bins)
    gets a bin of its own, however the quantiles fall. Without it the zeros of cigarettes per
    day (half of a Framingham-like cohort) shared a "0 to 4" bin with light smokers, and the
    Bayes net drew 0 for 7.6% of smokers and 1-4 for 7.9% of non-smokers. Discovery keeps the
    plain quantiles (its tests and the searched graphs are calibrated on them)."""

    def __init__(self, max_bins: int = 20, spikes: bool = False):
        if max_bins < 1:
            raise ValueError("max_bins must be >= 1")
        self.max_bins = max_bins
        self.spikes = spikes

    def fit(self, values) -> "Binner":
        x = np.asarray(values, dtype=float)
        seen = x[~np.isnan(x)]
        if seen.size == 0:
            raise ValueError("cannot bin a column with no observed values")
        uniq = np.unique(seen)
        if uniq.size <= self.max_bins:
            # Bin boundaries halfway between distinct values: one bin per value.
            self.edges_ = np.concatenate(([-np.inf], (uniq[:-1] + uniq[1:]) / 2.0, [np.inf]))
        else:
            qs = np.quantile(seen, np.linspace(0, 1, self.max_bins + 1)[1:-1], method="linear")
            inner = np.unique(qs)
            if self.spikes:
                counts = np.unique(seen, return_counts=True)[1]
                heavy = uniq[counts >= seen.size / self.max_bins]
                # [s, next float above s) holds s alone (bins are [edge_i, edge_i+1))
                inner = np.unique(np.concatenate([inner, heavy, np.nextafter(heavy, np.inf)]))
            self.edges_ = np.concatenate(([-np.inf], inner, [np.inf]))
        codes = self._codes(seen)
        self.n_bins_ = len(self.edges_) - 1
        # Real values per bin, sorted, to draw from when mapping codes back.
        self.pool_ = [np.sort(seen[codes == b]) for b in range(self.n_bins_)]
        keep = [b for b in range(self.n_bins_) if self.pool_[b].size > 0]
        if len(keep) < self.n_bins_:  # drop empty bins (ties at quantiles)
            lows = [self.pool_[b][0] for b in keep]
            self.edges_ = np.concatenate(([-np.inf], np.asarray(lows[1:], dtype=float), [np.inf]))
            self.pool_ = [self.pool_[b] for b in keep]
            self.n_bins_ = len(keep)
            # lows as edges with right-closed bins would move values; use searchsorted 'right'
        self.low_ = np.array([p[0] for p in self.pool_])
        self.high_ = np.array([p[-1] for p in self.pool_])
        return self

    def _codes(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.edges_, x, side="right") - 1, 0, len(self.edges_) - 2)

    def transform(self, values) -> np.ndarray:
        """Bin codes 0..n_bins-1, MISSING (-1) for NaN."""
        x = np.asarray(values, dtype=float)
        out = np.full(x.shape, MISSING, dtype=np.int64)
        ok = ~np.isnan(x)
        out[ok] = self._codes(x[ok])
        return out

    def sample(self, codes, rng: np.random.Generator) -> np.ndarray:
        """Map codes back to values: a random observed value of that bin; NaN for MISSING."""
        codes = np.asarray(codes, dtype=np.int64)
        out = np.full(codes.shape, np.nan)
        for b in np.unique(codes[codes >= 0]):
            idx = np.flatnonzero(codes == b)
            pool = self.pool_[int(b)]
            out[idx] = pool[rng.integers(0, pool.size, size=idx.size)]
        return out

    def labels(self, fmt: str = "{:g}") -> list[str]:
        """Readable bin names, e.g. '45 to 52' or '63' for single-value bins."""
        names = []
        for lo, hi in zip(self.low_, self.high_):
            names.append(fmt.format(lo) if lo == hi else f"{fmt.format(lo)} to {fmt.format(hi)}")
        return names
