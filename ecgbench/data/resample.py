"""Change the sampling rate of ECG signals by a rational factor (polyphase, anti-aliased)."""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np

from ecgbench.errors import DataError

#: Largest numerator/denominator of the rational factor; 360 -> 250 Hz is 25/36, 1000 -> 257 is 257/1000.
MAX_DENOMINATOR = 10_000


def rational_factor(fs_in: float, fs_out: float) -> tuple[int, int]:
    """(up, down) with fs_in * up / down == fs_out to within 1e-9 relative; DataError otherwise."""
    if fs_in <= 0 or fs_out <= 0:
        raise DataError(
            f"cannot resample from {fs_in:g} Hz to {fs_out:g} Hz: rates must be positive"
        )
    ratio = Fraction(fs_out / fs_in).limit_denominator(MAX_DENOMINATOR)
    if abs(fs_in * ratio.numerator / ratio.denominator - fs_out) > 1e-9 * fs_out:
        raise DataError(
            f"cannot resample from {fs_in:g} Hz to {fs_out:g} Hz with a rational factor of denominator "
            f"at most {MAX_DENOMINATOR}"
        )
    return ratio.numerator, ratio.denominator


@cache
def anti_alias_filter(up: int, down: int) -> np.ndarray:
    """The FIR taps ``resample_poly`` designs by default (Kaiser window, beta 5, cut-off at the lower
    Nyquist rate), computed once per factor: designing them costs more than filtering a record."""
    from scipy.signal import firwin

    max_rate = max(up, down)
    return firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0))


def filter_reach(fs_in: float, fs_out: float) -> int:
    """How many input samples on each side of an output sample the resampling filter looks at."""
    up, down = rational_factor(fs_in, fs_out)
    return int(np.ceil(10 * max(up, down) / up))


def resample(signals: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """float32[..., T] at ``fs_in`` Hz -> float32[..., round(T * fs_out / fs_in)] at ``fs_out`` Hz.

    ``scipy.signal.resample_poly`` with its default Kaiser-windowed FIR filter (cut-off at the lower
    Nyquist rate) and ``padtype='line'``: the signal is extended by its own end-to-end trend rather
    than by zeros, so a baseline offset does not ring at the record's ends. Rows that hold any NaN
    (a missing lead) stay all-NaN.
    """
    up, down = rational_factor(fs_in, fs_out)
    x = np.asarray(signals, dtype=np.float32)
    if up == down:
        return x.copy()
    from scipy.signal import resample_poly  # imported here: scipy.signal takes seconds to import

    flat = x.reshape(-1, x.shape[-1])
    n_out = -(-flat.shape[-1] * up // down)  # ceil, as resample_poly returns
    out = np.full((flat.shape[0], n_out), np.nan, dtype=np.float32)
    finite = ~np.isnan(flat).any(axis=-1)
    if finite.any():
        taps = anti_alias_filter(up, down)
        filtered = resample_poly(flat[finite], up, down, axis=-1, window=taps, padtype="line")
        out[finite] = filtered.astype(np.float32)
    return out.reshape(*x.shape[:-1], n_out)
