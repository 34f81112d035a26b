"""Compact-support wave shapes and their vectorised rendering into heart-vector signals.

Every wave (P, each QRS force, the ST injury current, T, U) is a bump with four knots
a <= b <= c <= e (seconds): it is exactly zero outside [a, e], rises on [a, b] as
sin(pi/2 * (t - a)/(b - a)) ** g_rise, is 1 on [b, c] and falls on [c, e] as
sin(pi/2 * (e - t)/(e - c)) ** g_fall. b == c gives a peaked wave with its apex at b; a
plateau (b < c) is used for the ST segment. The support [a, e] is what makes the ground-truth
on- and offsets exact. An exponent near 1 leaves the baseline with a visible slope, as a wave
front does; larger exponents give the gradual start of an ST segment or T wave.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def bump(t: np.ndarray, a, b, c, e, g_rise, g_fall) -> np.ndarray:
    """Bump values float64[...] at times ``t`` (broadcasting over the knot arrays)."""
    t = np.asarray(t, dtype=np.float64)
    rising = t < b
    falling = t > c
    with np.errstate(divide="ignore", invalid="ignore"):
        u_rise = (t - a) / (b - a)
        u_fall = (e - t) / (e - c)
    u = np.where(rising, u_rise, np.where(falling, u_fall, 1.0))
    u = np.clip(np.nan_to_num(u, nan=0.0), 0.0, 1.0)
    power = np.where(rising, g_rise, np.where(falling, g_fall, 1.0))
    return np.sin(0.5 * np.pi * u) ** power


@dataclass(frozen=True)
class Bumps:
    """A flat table of m wave instances to be drawn into n records.

    record  int[m]       row of the record each bump belongs to
    knots   float[m, 4]  a, b, c, e in seconds from the record start
    power   float[m, 2]  rise and fall exponents
    vector  float[m, 3]  Frank-XYZ direction times amplitude (mV)
    """

    record: np.ndarray
    knots: np.ndarray
    power: np.ndarray
    vector: np.ndarray


def render(bumps: Bumps, n: int, fs: float, n_samples: int) -> np.ndarray:
    """Sum the bumps into heart-vector signals float64[n, 3, n_samples].

    Each bump is evaluated only on the samples inside its support (a ragged expansion, no
    padding), and the products are scattered with ``np.bincount``.
    """
    a, e = bumps.knots[:, 0], bumps.knots[:, 3]
    first = np.maximum(np.ceil(a * fs), 0).astype(np.int64)
    last = np.minimum(np.floor(e * fs), n_samples - 1).astype(np.int64)
    lengths = np.maximum(last - first + 1, 0)
    total = int(lengths.sum())
    out = np.zeros((n, 3, n_samples))
    if total == 0:
        return out
    ids = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.cumsum(lengths) - lengths
    index = first[ids] + (np.arange(total) - starts[ids])
    k = bumps.knots[ids]
    p = bumps.power[ids]
    values = bump(index / fs, k[:, 0], k[:, 1], k[:, 2], k[:, 3], p[:, 0], p[:, 1])
    flat = bumps.record[ids] * (3 * n_samples) + index
    size = n * 3 * n_samples
    for axis in range(3):
        out.reshape(-1)[:] += np.bincount(
            flat + axis * n_samples, weights=values * bumps.vector[ids, axis], minlength=size
        )
    return out
