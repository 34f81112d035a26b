"""Generation metrics: a generated set against a held-out real set.

Both sets are ``float32[n, leads, T]`` in mV with the same leads and ``T`` (12 leads in the
harness order). The papers name DTW, Wasserstein, MMD and spectral similarity without defining
them; the definitions here are pinned in ``docs/metrics.md`` and every setting that changes a
number is written into the ``params`` of the :class:`MetricValue` it returns. Every metric
comes with a percentile bootstrap interval over records (both sets resampled independently,
except DTW, whose fixed pairs are resampled), shifted to be centred on the value
(:func:`centred_percentile_ci`). Metrics on whole z-scored records (``wasserstein_waveform``,
``mmd``, ``nearest_real_distance``) work in a :class:`ReferenceSpace` fixed from real
reference records only, never from the generated set. The task computes the "real vs real"
floor by calling the same functions, in the same space, on two disjoint sets of real records.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from ecgbench.data.streaming import RecordRows
from ecgbench.errors import DataError
from ecgbench.metrics.bootstrap import (
    MetricValue,
    bootstrap_indices,
    centred_percentile_ci,
    resample_counts,
    rng_for,
)

#: Grid points per lead on which resampled amplitude CDFs are compared (bootstrap only; the
#: point value is exact).
AMPLITUDE_GRID = 2048
#: Upper bound on network-simplex iterations of the exact EMD (POT's default, 1e5, can stop
#: short of the optimum for a thousand records a side).
EMD_MAX_ITER = 10_000_000
#: How every generation interval is made (written into each record's params).
CI_NOTE = "95% percentile bootstrap interval shifted to be centred on the value"


def _n_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# --------------------------------------------------------------------------- input checks


def _check_signals(x: np.ndarray, what: str, *, min_records: int = 1) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.ndim != 3:
        shape = getattr(x, "shape", None)
        raise DataError(f"{what}: expected a float array [n, leads, T] in mV, got shape {shape}")
    if x.shape[0] < min_records:
        raise DataError(f"{what}: needs at least {min_records} records, got {x.shape[0]}")
    finite = np.isfinite(x).all(axis=(1, 2))
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        raise DataError(f"{what}: record {first} holds NaN or infinite samples")
    return x


def _check_sets(gen: np.ndarray, real: np.ndarray, *, min_records: int = 1) -> None:
    _check_signals(gen, "generated signals", min_records=min_records)
    _check_signals(real, "real signals", min_records=min_records)
    if gen.shape[1:] != real.shape[1:]:
        raise DataError(
            f"generated signals are [n, {gen.shape[1]}, {gen.shape[2]}] but real signals are "
            f"[n, {real.shape[1]}, {real.shape[2]}]: leads and length must agree"
        )


def _check_labels(labels: np.ndarray | None, n: int, what: str) -> np.ndarray | None:
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[0] != n:
        raise DataError(f"{what}: expected a multi-hot array [{n}, n_labels], got shape {labels.shape}")
    return labels


def _squared_distances(z: np.ndarray) -> np.ndarray:
    sq = np.einsum("ij,ij->i", z, z)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (z @ z.T)
    np.maximum(d2, 0.0, out=d2)
    np.fill_diagonal(d2, 0.0)
    return d2


def _median_distance(d2: np.ndarray) -> float:
    """Median Euclidean distance over the pairs i < j of a squared-distance matrix."""
    return float(np.median(np.sqrt(d2[np.triu_indices(len(d2), k=1)])))


@dataclass(frozen=True)
class ReferenceSpace:
    """Where whole records are compared: fixed from real reference records only.

    Records are z-scored per lead with ``lead_mean`` and ``lead_sd`` (mV) and flattened to
    ``leads * T`` values; the MMD kernels use ``bandwidth`` (whole records) and
    ``lead_bandwidths`` (one lead at a time), the median pairwise Euclidean distances between
    reference records in that space. Nothing here depends on the records being scored, so
    every generator, and the real-vs-real floor, is measured in the same space, and an
    amplitude error is not normalised away (a set scaled x10 is 10x as far from the mean).
    """

    lead_mean: tuple[float, ...]
    lead_sd: tuple[float, ...]
    bandwidth: float
    lead_bandwidths: tuple[float, ...]
    n_records: int
    n_bandwidth_records: int
    source: str

    def zscore(self, x: np.ndarray) -> np.ndarray:
        """``float[n, leads, T]`` mV -> float64 ``[n, leads * T]`` in reference units."""
        mean = np.asarray(self.lead_mean)[None, :, None]
        sd = np.asarray(self.lead_sd)[None, :, None]
        return ((x.astype(np.float64) - mean) / sd).reshape(len(x), -1)

    def to_params(self) -> dict:
        """JSON form (the run record stores it; :meth:`from_params` reads it back)."""
        return {
            "source": self.source,
            "n_records": self.n_records,
            "lead_mean_mv": list(self.lead_mean),
            "lead_sd_mv": list(self.lead_sd),
            "bandwidth": self.bandwidth,
            "lead_bandwidths": list(self.lead_bandwidths),
            "n_bandwidth_records": self.n_bandwidth_records,
        }

    @classmethod
    def from_params(cls, params: dict) -> ReferenceSpace:
        return cls(
            lead_mean=tuple(params["lead_mean_mv"]), lead_sd=tuple(params["lead_sd_mv"]),
            bandwidth=float(params["bandwidth"]), lead_bandwidths=tuple(params["lead_bandwidths"]),
            n_records=int(params["n_records"]), n_bandwidth_records=int(params["n_bandwidth_records"]),
            source=str(params["source"]),
        )


def _lead_statistics(x: np.ndarray, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per-lead mean and SD (ddof 0) over every finite sample of ``float[n, leads, T]``, in
    float64, two passes over chunks of records (a memory-mapped cohort is never copied whole)."""
    total, count = np.zeros(x.shape[1]), np.zeros(x.shape[1])
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk].astype(np.float64)
        total += np.nansum(part, axis=(0, 2))
        count += np.isfinite(part).sum(axis=(0, 2))
    if (count == 0).any():
        raise DataError(f"reference records: lead {int(np.flatnonzero(count == 0)[0])} holds no finite sample")
    mean = total / count
    squares = np.zeros(x.shape[1])
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk].astype(np.float64) - mean[None, :, None]
        squares += np.nansum(part**2, axis=(0, 2))
    return mean, np.sqrt(squares / count)


def reference_space(real: np.ndarray | RecordRows, *, max_n: int = 1000, seed: int = 0,
                    source: str = "the real set") -> ReferenceSpace:
    """The :class:`ReferenceSpace` of real reference records ``float[n, leads, T]`` (mV): an array,
    or a lazily read selection of a cached cohort (read a chunk at a time).

    Per-lead mean and SD over every sample of every record (NaN samples, i.e. absent leads,
    ignored; a lead with SD 0 is only centred). The bandwidths come from a seeded subsample of
    at most ``max_n`` records. ``source`` says which records they are (for the record).
    """
    if not isinstance(real, np.ndarray | RecordRows) or real.ndim != 3 or len(real) < 2:
        raise DataError(f"reference records: expected a float array [n >= 2, leads, T] in mV, got shape "
                        f"{getattr(real, 'shape', None)}")
    mean, sd = _lead_statistics(real)
    sd[sd == 0] = 1.0
    rng = rng_for(seed, "reference_subsample")
    subset = np.sort(rng.choice(len(real), max_n, replace=False)) if len(real) > max_n else np.arange(len(real))
    partial = ReferenceSpace(tuple(mean.tolist()), tuple(sd.tolist()), 1.0, (), len(real), len(subset), source)
    z = np.nan_to_num(partial.zscore(real[subset]))
    t = real.shape[2]
    d2 = np.zeros((len(subset), len(subset)))
    lead_bandwidths = []
    for lead in range(real.shape[1]):
        d2_lead = _squared_distances(z[:, lead * t : (lead + 1) * t])
        lead_bandwidths.append(_median_distance(d2_lead))
        d2 += d2_lead
    return replace(partial, bandwidth=_median_distance(d2), lead_bandwidths=tuple(lead_bandwidths))


# --------------------------------------------------------------------------------- DTW


class DTWPairs(NamedTuple):
    """Label-matched pairs and their DTW: ``gen_idx``, ``real_idx`` int64[P], ``values``
    float64[P] (per-lead DTW in mV, averaged over leads)."""

    gen_idx: np.ndarray
    real_idx: np.ndarray
    values: np.ndarray


def match_real(
    gen_labels: np.ndarray | None,
    real_labels: np.ndarray | None,
    gen_idx: np.ndarray,
    n_real: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """For each generated record in ``gen_idx``, a real record with the identical label vector
    (uniformly among those), else one at the smallest Hamming distance; uniformly random real
    records when labels are not given."""
    if gen_labels is None or real_labels is None:
        return rng.integers(0, n_real, size=len(gen_idx))
    by_vector: dict[bytes, list[int]] = {}
    real_bool = real_labels.astype(bool)
    for i, row in enumerate(real_bool):
        by_vector.setdefault(row.tobytes(), []).append(i)
    out = np.empty(len(gen_idx), dtype=np.int64)
    for k, g in enumerate(gen_idx):
        row = gen_labels[g].astype(bool)
        candidates = by_vector.get(row.tobytes())
        if candidates is None:
            hamming = (real_bool != row).sum(axis=1)
            candidates = np.flatnonzero(hamming == hamming.min()).tolist()
        out[k] = candidates[rng.integers(len(candidates))]
    return out


def dtw_pairs(
    gen: np.ndarray,
    real: np.ndarray,
    gen_labels: np.ndarray | None,
    real_labels: np.ndarray | None,
    *,
    n_pairs: int = 256,
    window: float = 0.1,
    seed: int = 0,
    backend: str = "numba",
) -> DTWPairs:
    """Draw ``min(n_pairs, n_gen)`` generated records without replacement, match each to a real
    record (:func:`match_real`) and compute their DTW per lead (Sakoe–Chiba radius
    ``round(window * T)`` samples; ``window=None`` for no band), averaged over leads.

    ``backend``: 'numba' (compiled, parallel over pairs) or 'tslearn' (``tslearn.metrics.dtw``
    per lead); both give the same numbers.
    """
    _check_sets(gen, real)
    gen_labels = _check_labels(gen_labels, len(gen), "generated labels")
    real_labels = _check_labels(real_labels, len(real), "real labels")
    rng = rng_for(seed, "dtw_pairs")
    n_used = min(n_pairs, len(gen))
    gen_idx = np.sort(rng.choice(len(gen), size=n_used, replace=False))
    real_idx = match_real(gen_labels, real_labels, gen_idx, len(real), rng)
    n_leads, t = gen.shape[1:]
    radius = None if window is None else int(round(window * t))
    x = gen[gen_idx].reshape(-1, t)
    y = real[real_idx].reshape(-1, t)
    if backend == "numba":
        from ecgbench.metrics.dtw import dtw_pairs_1d

        per_lead = dtw_pairs_1d(x, y, radius)
    elif backend == "tslearn":
        from tslearn.metrics import dtw

        kwargs = {} if radius is None else {"global_constraint": "sakoe_chiba", "sakoe_chiba_radius": radius}
        per_lead = np.array([dtw(a.astype(np.float64), b.astype(np.float64), **kwargs) for a, b in zip(x, y, strict=True)])
    else:
        raise ValueError(f"unknown DTW backend {backend!r}; use 'numba' or 'tslearn'")
    return DTWPairs(gen_idx, real_idx, per_lead.reshape(n_used, n_leads).mean(axis=1))


def dtw_distance(
    gen: np.ndarray,
    real: np.ndarray,
    gen_labels: np.ndarray | None,
    real_labels: np.ndarray | None,
    *,
    n_pairs: int = 256,
    window: float = 0.1,
    seed: int = 0,
    n_boot: int = 200,
    pairs: DTWPairs | None = None,
) -> MetricValue:
    """Mean DTW (mV) over label-matched pairs and leads; CI by resampling the pairs.

    ``pairs``: the output of :func:`dtw_pairs` with the same settings, to reuse it.
    """
    if pairs is None:
        pairs = dtw_pairs(gen, real, gen_labels, real_labels, n_pairs=n_pairs, window=window, seed=seed)
    values = pairs.values
    boot = values[bootstrap_indices(len(values), n_boot, rng_for(seed, "dtw_boot"))].mean(axis=1)
    low, high = centred_percentile_ci(boot, float(values.mean()), bounds=(0.0, None))
    if gen_labels is None or real_labels is None:
        matching, fallbacks = "random real record (no labels given)", 0
    else:
        matching = "identical label vector, else nearest Hamming distance"
        fallbacks = int((gen_labels[pairs.gen_idx] != real_labels[pairs.real_idx]).any(axis=1).sum())
    t = gen.shape[2]
    return MetricValue(
        name="dtw",
        value=float(values.mean()),
        ci_low=low,
        ci_high=high,
        n=len(values),
        params={
            "n_pairs": n_pairs,
            "n_pairs_used": len(values),
            "window": window,
            "sakoe_chiba_radius": None if window is None else int(round(window * t)),
            "T": t,
            "local_cost": "squared difference; DTW = sqrt of the path sum (tslearn.metrics.dtw)",
            "aggregation": "per lead, mean over leads, mean over pairs",
            "matching": matching,
            "label_fallbacks": fallbacks,
            "seed": seed,
            "n_boot": n_boot,
            "ci": CI_NOTE + "; the pairs resampled",
        },
    )


# ------------------------------------------------------------------------- Wasserstein


def w1_sorted(u: np.ndarray, v: np.ndarray) -> float:
    """Exact 1-D Wasserstein-1 between two samples given sorted ascending (equal weights)."""
    if len(u) == len(v):
        return float(np.abs(u - v).mean())
    grid = np.sort(np.concatenate([u, v]))
    gaps = np.diff(grid)
    cdf_u = np.searchsorted(u, grid[:-1], side="right") / len(u)
    cdf_v = np.searchsorted(v, grid[:-1], side="right") / len(v)
    return float(np.sum(np.abs(cdf_u - cdf_v) * gaps))


def _record_cdfs(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``float64[n, K]``: each record's empirical CDF (its ``T`` samples) at the grid points."""
    n, t = x.shape
    k = len(grid)
    first_at_or_above = np.searchsorted(grid, x, side="left")  # sample <= grid[j] iff j >= this
    flat = (first_at_or_above + (k + 1) * np.arange(n)[:, None]).ravel()
    hist = np.bincount(flat, minlength=n * (k + 1)).reshape(n, k + 1)[:, :k]
    return np.cumsum(hist, axis=1) / t


def grid_w1_batch(
    g: np.ndarray,
    r: np.ndarray,
    wg: np.ndarray,
    wr: np.ndarray,
    g_sorted: np.ndarray | None = None,
    r_sorted: np.ndarray | None = None,
) -> np.ndarray:
    """Approximate W1 between the pooled samples of records ``g`` [n, T] and ``r`` [m, T]
    under record weightings ``wg`` [B, n], ``wr`` [B, m] (rows sum to 1) -> float64[B].

    The weighted CDFs are evaluated on :data:`AMPLITUDE_GRID` pooled quantiles (including
    both extremes) and ``|F_g - F_r|`` is integrated by the left Riemann sum; the sum is exact
    when every sample is a grid point and converges to the exact W1 as the grid refines.
    """
    u = np.sort(g, axis=None) if g_sorted is None else g_sorted
    v = np.sort(r, axis=None) if r_sorted is None else r_sorted
    half = AMPLITUDE_GRID // 2
    grid = np.unique(np.concatenate([u[np.linspace(0, len(u) - 1, half).astype(int)],
                                     v[np.linspace(0, len(v) - 1, half).astype(int)]]))
    # grid points are sample values, so searching in the samples' own dtype is exact (and
    # avoids converting a million samples per call)
    diff = np.abs(wg @ _record_cdfs(g, grid.astype(g.dtype)) - wr @ _record_cdfs(r, grid.astype(r.dtype)))
    return (diff[:, :-1] * np.diff(grid.astype(np.float64))).sum(axis=1)


def wasserstein_amplitude(
    gen: np.ndarray, real: np.ndarray, *, n_boot: int = 200, seed: int = 0
) -> MetricValue:
    """Per lead, the exact 1-D Wasserstein-1 (mV) between the pooled amplitudes (every sample of
    every record of that lead) of the two sets; mean over leads.

    Bootstrap: records of both sets resampled; each resample's distance is the integral of
    ``|F_gen - F_real|`` with the CDFs evaluated on :data:`AMPLITUDE_GRID` pooled quantiles
    (left Riemann sum), which avoids re-sorting a million samples per lead and resample.
    """
    _check_sets(gen, real)
    n_leads = gen.shape[1]
    per_lead = np.empty(n_leads)
    rng = rng_for(seed, "wasserstein_boot")
    cg = resample_counts(bootstrap_indices(len(gen), n_boot, rng), len(gen)) / len(gen)
    cr = resample_counts(bootstrap_indices(len(real), n_boot, rng), len(real)) / len(real)
    boot = np.zeros(n_boot)
    for lead in range(n_leads):
        u = np.sort(gen[:, lead, :], axis=None).astype(np.float64)
        v = np.sort(real[:, lead, :], axis=None).astype(np.float64)
        per_lead[lead] = w1_sorted(u, v)
        boot += grid_w1_batch(gen[:, lead, :], real[:, lead, :], cg, cr, u, v)
    low, high = centred_percentile_ci(boot / n_leads, float(per_lead.mean()), bounds=(0.0, None))
    return MetricValue(
        name="wasserstein",
        value=float(per_lead.mean()),
        ci_low=low,
        ci_high=high,
        n=len(gen),
        params={
            "definition": "1-D Wasserstein-1 between pooled per-lead amplitude distributions (mV), mean over leads",
            "per_lead": [float(v) for v in per_lead],
            "n_real": len(real),
            "seed": seed,
            "n_boot": n_boot,
            "ci": CI_NOTE + f"; records of both sets resampled, CDFs on {AMPLITUDE_GRID} pooled quantiles",
        },
    )


def _weighted_w1_batch(x: np.ndarray, y: np.ndarray, wx: np.ndarray, wy: np.ndarray) -> np.ndarray:
    """1-D W1 between ``x`` and ``y`` (float[n], float[m]) under many weightings
    ``wx`` [B, n], ``wy`` [B, m] (rows sum to 1) -> float64[B]."""
    order = np.argsort(np.concatenate([x, y]), kind="stable")
    values = np.concatenate([x, y])[order]
    signed = np.concatenate([wx, -wy], axis=1)[:, order]
    return (np.abs(np.cumsum(signed, axis=1)[:, :-1]) * np.diff(values)).sum(axis=1)


def _emd2(a: np.ndarray, b: np.ndarray, cost: np.ndarray) -> float:
    """Exact optimal transport cost; an unfinished solve is an error, never a silent number."""
    import ot

    value, log = ot.emd2(a, b, cost, numItermax=EMD_MAX_ITER, log=True)
    if log["warning"] is not None:
        raise RuntimeError(f"exact EMD did not reach the optimum: {log['warning']}")
    return float(value)


def _space_for(real: np.ndarray, space: ReferenceSpace | None) -> ReferenceSpace:
    return reference_space(real, source="the real set scored against") if space is None else space


def _normalisation_params(space: ReferenceSpace) -> dict:
    return {
        "rule": "per-lead z-score with the reference records' mean and SD, flattened",
        "reference": space.source,
        "n_reference_records": space.n_records,
        "lead_mean_mv": list(space.lead_mean),
        "lead_sd_mv": list(space.lead_sd),
    }


def wasserstein_waveform(
    gen: np.ndarray,
    real: np.ndarray,
    *,
    max_exact: int = 2000,
    n_projections: int = 256,
    seed: int = 0,
    n_boot: int = 200,
    space: ReferenceSpace | None = None,
) -> MetricValue:
    """Earth mover's distance between the two sets of whole records.

    Each record is z-scored per lead with the statistics of the reference ``space`` (real
    records only; default: ``real`` itself) and flattened to ``leads * T`` values. With at
    most ``max_exact`` records a side the distance is the exact EMD (``ot.emd2``, uniform
    weights, Euclidean cost = Wasserstein-1); above it, the sliced Wasserstein-1 over
    ``n_projections`` random directions (POT's projections for ``seed``). The two methods are
    different numbers: ``params['method']`` says which.
    """
    import ot

    _check_sets(gen, real)
    space = _space_for(real, space)
    x, y = space.zscore(gen), space.zscore(real)
    rng = rng_for(seed, "wasserstein_waveform_boot")
    cx = resample_counts(bootstrap_indices(len(x), n_boot, rng), len(x))
    cy = resample_counts(bootstrap_indices(len(y), n_boot, rng), len(y))
    exact = max(len(x), len(y)) <= max_exact
    if exact:
        cost = ot.dist(x, y, metric="euclidean")
        wx, wy = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
        value = _emd2(wx, wy, cost)

        def resampled(b: int) -> float:
            kx, ky = cx[b] > 0, cy[b] > 0
            return _emd2(cx[b, kx] / len(x), cy[b, ky] / len(y), cost[np.ix_(kx, ky)])

        with ThreadPoolExecutor(max_workers=_n_workers()) as pool:  # the solver releases the GIL
            boot = np.array(list(pool.map(resampled, range(n_boot))))
        method = "exact EMD (ot.emd2), Euclidean cost"
    else:
        directions = ot.sliced.get_random_projections(x.shape[1], n_projections, seed=seed)
        value = float(ot.sliced_wasserstein_distance(x, y, n_projections=n_projections, p=1, seed=seed))
        px, py = x @ directions, y @ directions
        boot = np.zeros(n_boot)
        for k in range(n_projections):
            boot += _weighted_w1_batch(px[:, k], py[:, k], cx / len(x), cy / len(y))
        boot /= n_projections
        method = f"sliced Wasserstein-1 (ot.sliced_wasserstein_distance, p=1, {n_projections} projections)"
    low, high = centred_percentile_ci(boot, value, bounds=(0.0, None))
    return MetricValue(
        name="wasserstein_waveform",
        value=value,
        ci_low=low,
        ci_high=high,
        n=len(gen),
        params={
            "method": method,
            "max_exact": max_exact,
            "n_projections": None if exact else n_projections,
            "normalisation": _normalisation_params(space),
            "n_real": len(real),
            "seed": seed,
            "n_boot": n_boot,
            "ci": CI_NOTE + "; records of both sets resampled (as weights on a fixed cost)",
        },
    )


# -------------------------------------------------------------------------------- MMD


def imq_kernel(d2: np.ndarray, bandwidth: float) -> np.ndarray:
    """Inverse multiquadric kernel ``(1 + d² / bandwidth²)^(-1/2)`` of squared distances.

    Unlike a Gaussian kernel it decays polynomially, so MMD keeps growing as a set moves away
    from the real one (a Gaussian kernel is ~0 for every pair a few bandwidths apart, and a
    gain error x10 and x100 then score the same). A bandwidth of 0 (a constant reference)
    makes the kernel 1 for identical records and 0 otherwise.
    """
    if bandwidth <= 0:
        return (d2 == 0).astype(np.float64)
    return 1.0 / np.sqrt(1.0 + d2 / bandwidth**2)


def _mmd2_from_kernel(kernel: np.ndarray, n_x: int) -> float:
    kxx = kernel[:n_x, :n_x]
    kyy = kernel[n_x:, n_x:]
    n_y = len(kernel) - n_x
    sxx = (kxx.sum() - np.trace(kxx)) / (n_x * (n_x - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n_y * (n_y - 1))
    return float(sxx + syy - 2.0 * kernel[:n_x, n_x:].mean())


def bootstrap_mmd2(kernel: np.ndarray, n_x: int, cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """MMD² of resamples given as record counts ``cx`` [B, n_x], ``cy`` [B, n_y] on the pooled
    ``kernel`` (first ``n_x`` rows = first set) -> float64[B].

    The within-set sums run over pairs of *different* records, as the unbiased estimator does
    on the data: ``c'Kc - sum(c²)`` (k(x, x) = 1) over ``n² - sum(c²)`` pairs; the cross term
    is the weighted mean.
    """
    n_y = len(kernel) - n_x
    kxx, kyy, kxy = kernel[:n_x, :n_x], kernel[n_x:, n_x:], kernel[:n_x, n_x:]
    self_x, self_y = (cx**2).sum(axis=1), (cy**2).sum(axis=1)
    b_xx = (np.einsum("bi,bi->b", cx @ kxx, cx) - self_x) / (n_x**2 - self_x)
    b_yy = (np.einsum("bi,bi->b", cy @ kyy, cy) - self_y) / (n_y**2 - self_y)
    b_xy = np.einsum("bi,bi->b", cx @ kxy, cy) / (n_x * n_y)
    return b_xx + b_yy - 2 * b_xy


def permutation_mmd2(kernel: np.ndarray, n_x: int, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    """MMD² of random relabellings of the pooled records (first ``n_x`` = first set) -> float64[P].

    Membership vectors a (1 = first set) give the within and cross sums through ``K @ A``.
    """
    n_y = len(kernel) - n_x
    member = np.zeros((len(kernel), n_permutations))
    for p in range(n_permutations):
        member[rng.permutation(len(kernel))[:n_x], p] = 1.0
    s_xx = np.einsum("ip,ip->p", member, kernel @ member)
    s_xy = member.T @ kernel.sum(axis=1) - s_xx
    s_yy = kernel.sum() - s_xx - 2 * s_xy
    return (s_xx - n_x) / (n_x * (n_x - 1)) + (s_yy - n_y) / (n_y * (n_y - 1)) - 2 * s_xy / (n_x * n_y)


def mmd(
    gen: np.ndarray,
    real: np.ndarray,
    *,
    max_n: int = 1000,
    seed: int = 0,
    n_boot: int = 200,
    n_permutations: int = 200,
    space: ReferenceSpace | None = None,
) -> MetricValue:
    """Unbiased MMD² between the two sets of whole records, with a permutation p-value.

    At most ``max_n`` records per set (a seeded subsample without replacement); records
    z-scored per lead with the reference ``space``'s statistics (real records only; default:
    ``real`` itself) and flattened; inverse multiquadric kernel (:func:`imq_kernel`) with the
    space's bandwidth, the median pairwise distance between reference records. Neither
    depends on the generated set. ``params['per_lead']`` holds MMD² on each lead alone (the
    space's bandwidth for that lead).

    ``params['p_value']`` is a permutation test of "both sets come from the same
    distribution": the share of random relabellings of the pooled records whose MMD² is at
    least the observed one, ``(1 + count) / (1 + permutations)``, one-sided. It is not the
    dual of the interval, which is the bootstrap spread of the estimate.
    """
    _check_sets(gen, real, min_records=2)
    space = _space_for(real, space)
    rng = rng_for(seed, "mmd_subsample")
    if len(gen) > max_n:
        gen = gen[np.sort(rng.choice(len(gen), max_n, replace=False))]
    if len(real) > max_n:
        real = real[np.sort(rng.choice(len(real), max_n, replace=False))]
    n_x, n_y = len(gen), len(real)
    z = np.concatenate([space.zscore(gen), space.zscore(real)])
    n_leads, t = gen.shape[1:]
    d2 = np.zeros((len(z), len(z)))
    per_lead = []
    for lead in range(n_leads):
        d2_lead = _squared_distances(z[:, lead * t : (lead + 1) * t])
        per_lead.append(_mmd2_from_kernel(imq_kernel(d2_lead, space.lead_bandwidths[lead]), n_x))
        d2 += d2_lead
    kernel = imq_kernel(d2, space.bandwidth)
    value = _mmd2_from_kernel(kernel, n_x)

    perm = permutation_mmd2(kernel, n_x, n_permutations, rng_for(seed, "mmd_permutations"))
    p_value = (1 + int(np.sum(perm >= value))) / (1 + n_permutations)

    brng = rng_for(seed, "mmd_boot")
    cx = resample_counts(bootstrap_indices(n_x, n_boot, brng), n_x)
    cy = resample_counts(bootstrap_indices(n_y, n_boot, brng), n_y)
    boot = bootstrap_mmd2(kernel, n_x, cx, cy)
    low, high = centred_percentile_ci(boot, value)
    return MetricValue(
        name="mmd",
        value=value,
        ci_low=low,
        ci_high=high,
        n=n_x,
        params={
            "estimator": "unbiased MMD^2",
            "kernel": "inverse multiquadric (1 + d^2 / bandwidth^2)^(-1/2)",
            "bandwidth": space.bandwidth,
            "bandwidth_rule": "median pairwise Euclidean distance between reference records (z-scored)",
            "lead_bandwidths": list(space.lead_bandwidths),
            "normalisation": _normalisation_params(space),
            "max_n": max_n,
            "n_gen_used": n_x,
            "n_real_used": n_y,
            "p_value": p_value,
            "p_value_test": "permutation test of H0 'generated and real records come from one distribution': "
                            "(1 + #{permuted MMD^2 >= observed}) / (1 + permutations), one-sided, kernel fixed; "
                            "not the dual of the interval",
            "n_permutations": n_permutations,
            "per_lead": [float(v) for v in per_lead],
            "seed": seed,
            "n_boot": n_boot,
            "ci": CI_NOTE + "; records of both subsamples resampled, kernel fixed, pairs of a record with itself left out",
        },
    )


# ----------------------------------------------------------------------------- spectra


def normalised_psds(x: np.ndarray, fs: float, nperseg: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD of every record and lead (Hamming window, 50 % overlap, constant detrend),
    each normalised to sum 1 over frequency: ``float64[n, leads, F]`` and the frequencies.
    A lead with no power stays all zero."""
    from scipy.signal import welch

    freqs, psd = welch(
        x.astype(np.float64), fs=fs, window="hamming", nperseg=nperseg, noverlap=nperseg // 2, axis=-1
    )
    total = psd.sum(axis=-1, keepdims=True)
    return np.divide(psd, total, out=np.zeros_like(psd), where=total > 0), freqs


def _renormalise(p: np.ndarray) -> np.ndarray:
    total = p.sum(axis=-1, keepdims=True)
    return np.divide(p, total, out=np.zeros_like(p), where=total > 0)


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen–Shannon divergence in bits (0 = identical, 1 = disjoint) along the last axis of
    probability vectors; equals ``scipy.spatial.distance.jensenshannon(p, q, base=2) ** 2``."""
    from scipy.special import xlogy

    m = 0.5 * (p + q)
    kl_pm = np.sum(xlogy(p, p) - xlogy(p, m), axis=-1)
    kl_qm = np.sum(xlogy(q, q) - xlogy(q, m), axis=-1)
    return np.clip(0.5 * (kl_pm + kl_qm) / np.log(2.0), 0.0, 1.0)


def _nperseg(nperseg_s: float, fs: float, t: int) -> int:
    return int(min(round(nperseg_s * fs), t))


def spectral_similarity(
    gen: np.ndarray, real: np.ndarray, fs: float, *, nperseg_s: float = 2.56, n_boot: int = 200, seed: int = 0
) -> MetricValue:
    """Per lead, ``1 - JSD`` (bits) between the mean normalised Welch PSDs of the two sets;
    mean over leads. 1 = identical spectral shape, 0 = disjoint.

    Each record's PSD is normalised to sum 1 before averaging, so the measure compares the
    shape of the spectrum only: it ignores gain and a constant offset.
    """
    _check_sets(gen, real)
    nperseg = _nperseg(nperseg_s, fs, gen.shape[2])
    pg, freqs = normalised_psds(gen, fs, nperseg)
    pr, _ = normalised_psds(real, fs, nperseg)
    per_lead = 1.0 - js_divergence(_renormalise(pg.mean(axis=0)), _renormalise(pr.mean(axis=0)))
    rng = rng_for(seed, "spectral_boot")
    cg = resample_counts(bootstrap_indices(len(gen), n_boot, rng), len(gen))
    cr = resample_counts(bootstrap_indices(len(real), n_boot, rng), len(real))
    mg = _renormalise(np.einsum("bn,nlf->blf", cg, pg))
    mr = _renormalise(np.einsum("bn,nlf->blf", cr, pr))
    boot = (1.0 - js_divergence(mg, mr)).mean(axis=1)
    low, high = centred_percentile_ci(boot, float(per_lead.mean()), bounds=(None, 1.0))
    return MetricValue(
        name="spectral_similarity",
        value=float(per_lead.mean()),
        ci_low=low,
        ci_high=high,
        n=len(gen),
        params={
            "definition": "1 - Jensen-Shannon divergence (base 2) of mean normalised Welch PSDs, mean over leads",
            "fs": fs,
            "window": "hamming",
            "nperseg": nperseg,
            "noverlap": nperseg // 2,
            "detrend": "constant",
            "frequency_bins": len(freqs),
            "per_lead": [float(v) for v in per_lead],
            "n_real": len(real),
            "seed": seed,
            "n_boot": n_boot,
            "ci": CI_NOTE + "; records of both sets resampled",
        },
    )


# ------------------------------------------------------------------ per record, the suite


def _nearest_distance(x: np.ndarray, y: np.ndarray, block: int = 256) -> np.ndarray:
    sq_y = np.einsum("ij,ij->i", y, y)
    out = np.empty(len(x))
    for start in range(0, len(x), block):
        xb = x[start : start + block]
        d2 = np.einsum("ij,ij->i", xb, xb)[:, None] + sq_y[None, :] - 2.0 * (xb @ y.T)
        out[start : start + block] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def per_record_generation_values(
    gen: np.ndarray,
    real: np.ndarray,
    gen_labels: np.ndarray | None,
    real_labels: np.ndarray | None,
    fs: float,
    *,
    n_pairs: int = 256,
    window: float = 0.1,
    nperseg_s: float = 2.56,
    seed: int = 0,
    pairs: DTWPairs | None = None,
    space: ReferenceSpace | None = None,
) -> dict[str, np.ndarray]:
    """Values per generated record, for the samples file (``float64[n_gen]`` each); the
    arguments are those of :func:`generation_suite`:

    - ``dtw_matched``: DTW to its label-matched real record (the pairs of :func:`dtw_pairs`
      with the same settings, so the records the ``dtw`` metric used; NaN for the others),
      with ``dtw_matched_real_index`` (int64, -1 where not drawn);
    - ``nearest_real_distance``: Euclidean distance to the nearest real record in the
      reference space of ``wasserstein_waveform`` (near 0 = a copy of a real record);
    - ``spectral_similarity``: 1 - JSD of its own normalised PSD against the real set's mean,
      mean over leads.
    """
    _check_sets(gen, real)
    if pairs is None:
        pairs = dtw_pairs(gen, real, gen_labels, real_labels, n_pairs=n_pairs, window=window, seed=seed)
    dtw_matched = np.full(len(gen), np.nan)
    dtw_matched[pairs.gen_idx] = pairs.values
    matched_index = np.full(len(gen), -1, dtype=np.int64)
    matched_index[pairs.gen_idx] = pairs.real_idx
    space = _space_for(real, space)
    x, y = space.zscore(gen), space.zscore(real)
    nperseg = _nperseg(nperseg_s, fs, gen.shape[2])
    pg, _ = normalised_psds(gen, fs, nperseg)
    pr, _ = normalised_psds(real, fs, nperseg)
    real_mean = _renormalise(pr.mean(axis=0))
    return {
        "dtw_matched": dtw_matched,
        "dtw_matched_real_index": matched_index,
        "nearest_real_distance": _nearest_distance(x, y),
        "spectral_similarity": (1.0 - js_divergence(pg, real_mean[None])).mean(axis=1),
    }


def generation_suite(
    gen: np.ndarray,
    real: np.ndarray,
    gen_labels: np.ndarray | None,
    real_labels: np.ndarray | None,
    fs: float,
    *,
    seed: int = 0,
    n_boot: int = 200,
    pairs: DTWPairs | None = None,
    space: ReferenceSpace | None = None,
) -> list[MetricValue]:
    """All generation metrics with their default settings: ``dtw``, ``wasserstein``,
    ``wasserstein_waveform``, ``mmd``, ``spectral_similarity`` (in that order).

    ``space``: the :class:`ReferenceSpace` of real reference records (the task passes the
    training split's); default: that of ``real``.
    """
    _check_sets(gen, real, min_records=2)
    space = _space_for(real, space)
    return [
        dtw_distance(gen, real, gen_labels, real_labels, seed=seed, n_boot=n_boot, pairs=pairs),
        wasserstein_amplitude(gen, real, seed=seed, n_boot=n_boot),
        wasserstein_waveform(gen, real, seed=seed, n_boot=n_boot, space=space),
        mmd(gen, real, seed=seed, n_boot=n_boot, space=space),
        spectral_similarity(gen, real, fs, seed=seed, n_boot=n_boot),
    ]
