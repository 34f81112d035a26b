"""Resampling to the working rate and the zero-phase filters of the FeatureDB pipeline.

Every function takes ``float64[n, T]`` (n single-lead records, mV) and filters along the last
axis, so a batch of records is processed in one call.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import signal

#: The pipeline's working rate (Hz): every record is brought to about this rate first.
WORKING_FS = 500.0


def to_working_rate(x: np.ndarray, fs: float) -> tuple[np.ndarray, float]:
    """Band-limited (polyphase) resampling of ``float64[n, T]`` at ``fs`` to about 500 Hz.

    Returns the resampled array and its exact rate ``fs * up / down``. The published code
    interpolates linearly; a polyphase filter keeps the R-peak between input samples, which
    sharpens the average beat of 100 Hz records.
    """
    ratio = Fraction(WORKING_FS / fs).limit_denominator(64)
    up, down = ratio.numerator, ratio.denominator
    if up == down:
        return x, float(fs)
    return signal.resample_poly(x, up, down, axis=-1, padtype="line"), fs * up / down


def bandpass(x: np.ndarray, fs: float, low_hz: float, high_hz: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth band-pass of ``float64[n, T]``."""
    sos = signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=fs, output="sos")
    return signal.sosfiltfilt(sos, x, axis=-1)


def notch(x: np.ndarray, fs: float, freq_hz: float, quality: float = 50.0) -> np.ndarray:
    """Zero-phase notch at ``freq_hz`` (mains interference) of ``float64[n, T]``."""
    b, a = signal.iirnotch(freq_hz, quality, fs=fs)
    return signal.filtfilt(b, a, x, axis=-1)


def powerline_applies(freq_hz: float | None, fs: float) -> bool:
    """A notch at ``freq_hz`` makes sense only below the input's Nyquist frequency."""
    return freq_hz is not None and freq_hz < 0.5 * fs - 1.0
