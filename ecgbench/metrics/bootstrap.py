"""Metric values with their uncertainty, and the record-level bootstrap behind it.

Every bootstrap in ecgbench resamples *records* (never samples or leads) with replacement and
reports the percentile interval of the resampled statistic. Resamples come from a seeded
generator, so the same inputs and seed give the same interval.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np

#: Attempts per requested resample before :func:`bootstrap_ci` gives up on redrawing.
MAX_DRAWS_PER_RESAMPLE = 10


@dataclass(frozen=True)
class MetricValue:
    """One named number with its bootstrap interval and the settings that define it.

    ``params`` holds every setting needed to reproduce the number (window, bandwidth, nperseg,
    number of pairs, seed, method, ...) and values a reader needs beside it (dropped labels,
    limits of agreement). It is written into run records as JSON, so it holds only plain
    Python scalars, strings, lists and dicts.
    """

    name: str
    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    params: dict = field(default_factory=dict)


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent generator per (seed, purpose), so adding one random step to a metric
    never shifts the draws of another."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


_FIXED_RESAMPLES: ContextVar[np.ndarray | None] = ContextVar("fixed_resamples", default=None)


@contextmanager
def fixed_resamples(indices: np.ndarray) -> Iterator[None]:
    """Use these ``int[n_boot, n]`` resample indices for every bootstrap over n records inside
    the block, instead of drawing them (``ecgbench score --bootstrap-ids``: reproduces a
    published CI exactly). Undefined resamples are then skipped, not redrawn."""
    indices = np.asarray(indices, dtype=np.int64)
    if indices.ndim != 2 or indices.min() < 0 or indices.max() >= indices.shape[1]:
        raise ValueError(f"bootstrap ids must be int[n_boot, n] with values in [0, n), got shape {indices.shape}")
    token = _FIXED_RESAMPLES.set(indices)
    try:
        yield
    finally:
        _FIXED_RESAMPLES.reset(token)


def resamples_are_fixed(n: int) -> bool:
    """Whether :func:`fixed_resamples` is in force for bootstraps over n records (then the
    resamples are used as given: nothing is redrawn or completed)."""
    fixed = _FIXED_RESAMPLES.get()
    return fixed is not None and fixed.shape[1] == n


def bootstrap_indices(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``int64[n_boot, n]``: record indices of ``n_boot`` resamples with replacement (or the
    fixed resamples of :func:`fixed_resamples` when they cover n records)."""
    if n < 1:
        raise ValueError("cannot bootstrap an empty set of records")
    fixed = _FIXED_RESAMPLES.get()
    if fixed is not None and fixed.shape[1] == n:
        return fixed
    return rng.integers(0, n, size=(n_boot, n))


def resample_counts(indices: np.ndarray, n: int) -> np.ndarray:
    """``float64[n_boot, n]``: how often each record occurs in each resample of ``indices``."""
    n_boot = indices.shape[0]
    flat = (indices + n * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(np.float64)


def percentile_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the finite bootstrap ``values`` (NaN, NaN when there are none)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    low, high = np.percentile(values, [100 * alpha, 100 * (1 - alpha)])
    return float(low), float(high)


def _quantile_position(sorted_values: np.ndarray, null: float, side: str) -> float:
    """On the linear-interpolation quantile function ``q`` of ``sorted_values`` (numpy's
    default, which :func:`percentile_ci` uses), the largest ``u`` with ``q(u) <= null``
    (``side='low'``) or the smallest ``u`` with ``q(u) >= null`` (``side='high'``)."""
    v = sorted_values
    last = len(v) - 1
    if side == "low":
        k = int(np.searchsorted(v, null, side="right")) - 1  # last knot at or below null
        if k >= last:
            return 1.0
        position = k + (null - v[k]) / (v[k + 1] - v[k])
    else:
        k = int(np.searchsorted(v, null, side="left"))  # first knot at or above null
        if k <= 0:
            return 0.0
        position = k - (v[k] - null) / (v[k] - v[k - 1])
    return float(position / last)


def percentile_p_value(values: np.ndarray, null: float = 0.0) -> float:
    """Two-sided p-value that inverts :func:`percentile_ci` over the same resamples.

    p is the largest ``alpha`` for which the ``1 - alpha`` percentile interval of ``values``
    still contains ``null``, floored at ``1 / (B + 1)`` (B finite resamples; no resample
    beyond the null is not evidence of p = 0). Hence the 95 % interval excludes ``null``
    exactly when p < 0.05 (for B >= 20), and likewise at every level above ``1 - 1/(B+1)``.
    Up to the interpolation between neighbouring resamples, p = 2 * min(share of values <=
    null, share of values >= null). NaN when no resample is finite.
    """
    values = np.asarray(values, dtype=np.float64)
    values = np.sort(values[np.isfinite(values)])
    if values.size == 0:
        return float("nan")
    floor = 1.0 / (values.size + 1)
    if values.size == 1:
        return 1.0 if values[0] == null else floor
    median = float(np.percentile(values, 50))
    if median == null:
        return 1.0
    if median > null:
        if values[0] > null:
            return floor
        share = _quantile_position(values, null, "low")
    else:
        if values[-1] < null:
            return floor
        share = 1.0 - _quantile_position(values, null, "high")
    return float(min(1.0, max(2.0 * share, floor)))


def centred_percentile_ci(
    values: np.ndarray,
    point: float,
    level: float = 0.95,
    bounds: tuple[float | None, float | None] = (None, None),
) -> tuple[float, float]:
    """Percentile interval of ``values`` shifted by the bootstrap bias ``point - mean(values)``.

    Resampling records with replacement duplicates some of them, which moves a two-sample
    distance away from its value on the data (duplicates look like a less diverse set). The
    shifted interval keeps the spread of the resamples and is centred on ``point``; it is
    clipped to ``bounds`` (e.g. ``(0, None)`` for a distance).
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    shift = point - float(values.mean())
    low, high = percentile_ci(values, level)
    low, high = low + shift, high + shift
    if bounds[0] is not None:
        low, high = max(low, bounds[0]), max(high, bounds[0])
    if bounds[1] is not None:
        low, high = min(low, bounds[1]), min(high, bounds[1])
    return low, high


def bootstrap_ci(
    stat: Callable[[np.ndarray], float],
    n: int,
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    min_valid: float = 0.5,
) -> tuple[float, float]:
    """Percentile interval of ``stat(indices)`` over record-index resamples.

    ``stat`` receives ``int64[n]`` indices into the records and returns a float. A resample on
    which the statistic is undefined (NaN, e.g. an AUROC whose resample holds one class only)
    is *redrawn*, as the PTB-XL benchmark does, up to :data:`MAX_DRAWS_PER_RESAMPLE` draws per
    requested resample; if fewer than ``min_valid * n_boot`` resamples were defined the
    interval is (NaN, NaN).
    """
    fixed = _FIXED_RESAMPLES.get()
    if fixed is not None and fixed.shape[1] == n:
        values = [float(stat(idx)) for idx in fixed]
        return percentile_ci(np.asarray(values), level)
    rng = rng_for(seed, "bootstrap")
    values = []
    draws = 0
    max_draws = MAX_DRAWS_PER_RESAMPLE * n_boot
    while len(values) < n_boot and draws < max_draws:
        batch = bootstrap_indices(n, min(n_boot - len(values), max_draws - draws), rng)
        draws += batch.shape[0]
        for idx in batch:
            value = float(stat(idx))
            if np.isfinite(value):
                values.append(value)
    if len(values) < min_valid * n_boot:
        return float("nan"), float("nan")
    return percentile_ci(np.asarray(values), level)
