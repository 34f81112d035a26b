"""Compiled dynamic time warping of many 1-D series pairs at once (numba, parallel over pairs).

It computes exactly what ``tslearn.metrics.dtw`` computes for 1-D series — the square root of
the smallest sum of squared sample differences along a warping path, optionally inside a
Sakoe–Chiba band ``|i - j| <= radius`` — but keeps only two rows of the cost matrix and visits
only the band, where tslearn allocates and scans the full ``T × T`` matrix for every pair.
The tests check the two agree to machine precision, with and without the band.
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def _kernel():
    from numba import njit, prange

    @njit(parallel=True, cache=True, nogil=True)
    def banded_dtw_pairs(x, y, radius):  # pragma: no cover - compiled
        n_pairs, t = x.shape
        out = np.empty(n_pairs)
        for p in prange(n_pairs):
            prev = np.full(t + 1, np.inf)
            cur = np.full(t + 1, np.inf)
            prev[0] = 0.0
            for i in range(t):
                lo = max(0, i - radius)
                hi = min(t, i + radius + 1)
                # cells outside the band stay infinite: the left neighbour of the band's first
                # cell and the upper-right neighbour read by the next row
                cur[lo] = np.inf
                if hi + 1 <= t:
                    cur[hi + 1] = np.inf
                if lo > 0:
                    cur[lo - 1] = np.inf
                xi = x[p, i]
                for j in range(lo, hi):
                    d = xi - y[p, j]
                    best = prev[j]
                    if prev[j + 1] < best:
                        best = prev[j + 1]
                    if cur[j] < best:
                        best = cur[j]
                    cur[j + 1] = d * d + best
                prev, cur = cur, prev
            out[p] = np.sqrt(prev[t])
        return out

    return banded_dtw_pairs


def dtw_pairs_1d(x: np.ndarray, y: np.ndarray, radius: int | None) -> np.ndarray:
    """DTW of each row pair: ``x``, ``y`` float[P, T] -> float64[P].

    ``radius``: Sakoe–Chiba band half-width in samples; None = no band (plain DTW). Both
    series of a pair have the same length, where tslearn's band is ``|i - j| <= radius``.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"expected two [P, T] arrays of one shape, got {x.shape} and {y.shape}")
    r = x.shape[1] if radius is None else int(radius)
    if r < 0:
        raise ValueError(f"the band radius must be >= 0, got {r}")
    return _kernel()(x, y, r)
