"""The à-trous (undecimated) dyadic wavelet transform with the quadratic-spline wavelet.

Mallat's algorithm without decimation: at level j the low-pass (1, 3, 3, 1)/8 and the high-pass
(2, -2) are dilated by inserting 2^(j-1) - 1 zeros between their taps. The detail at level j is
proportional to the derivative of the signal smoothed at scale 2^j, so a wave's peak is a zero
crossing and its steepest slopes are modulus maxima (Martínez et al., IEEE TBME 51:570, 2004).
"""

from __future__ import annotations

import numpy as np

_LOW = np.array([1.0, 3.0, 3.0, 1.0]) / 8.0
_HIGH = np.array([2.0, -2.0])


def _dilate(taps: np.ndarray, step: int) -> np.ndarray:
    out = np.zeros((len(taps) - 1) * step + 1)
    out[::step] = taps
    return out


def atrous_details(x: np.ndarray, levels: int) -> np.ndarray:
    """float64[levels, T]: wavelet details of ``float64[T]`` at scales 2^1 … 2^levels (row j-1).

    Each row is shifted by its filters' group delay so that it lines up with ``x`` (to half a
    sample). The signal is extended by its edge values, so the ends carry no step.
    """
    pad = 4 * 2**levels
    approx = np.pad(np.asarray(x, dtype=np.float64), pad, mode="edge")
    delay = 0.0
    details = np.empty((levels, len(x)))
    for j in range(levels):
        step = 2**j
        detail = np.convolve(approx, _dilate(_HIGH, step), mode="full")
        shift = round(delay + 0.5 * step)
        details[j] = detail[pad + shift : pad + shift + len(x)]
        approx = np.convolve(approx, _dilate(_LOW, step), mode="full")
        delay += 1.5 * step
    return details


def level_for(frequency_hz: float, fs: float) -> int:
    """The level (1-based) whose detail is centred nearest ``frequency_hz`` (about fs / 2^(j+1))."""
    return max(1, round(np.log2(fs / frequency_hz) - 1.0))
