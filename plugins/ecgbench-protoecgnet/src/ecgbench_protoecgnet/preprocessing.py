"""Input preprocessing as in the paper: 100 Hz, 0.5 Hz high-pass, standardisation off by default."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.signal import butter, filtfilt, resample_poly


def resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """``float32[n, 12, T]`` at ``fs_in`` -> ``float32[n, 12, T']`` at ``fs_out`` (polyphase)."""
    if fs_in == fs_out:
        return x
    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    return resample_poly(x, ratio.numerator, ratio.denominator, axis=-1).astype(np.float32)


def highpass(x: np.ndarray, fs: float, cutoff_hz: float) -> np.ndarray:
    """Zero-phase 1st-order Butterworth high-pass along time (removes baseline wander)."""
    if cutoff_hz <= 0:
        return x
    b, a = butter(1, cutoff_hz, btype="highpass", fs=fs)
    return filtfilt(b, a, x, axis=-1).astype(np.float32)


@dataclass
class Preprocessor:
    """Resample to ``fs_out``, fill missing (NaN) leads with 0, high-pass, optionally standardise.

    ``mean``/``std`` (``float32[12]``) are set by :meth:`fit` when standardisation is on.
    """

    fs_in: float
    fs_out: float = 100.0
    highpass_hz: float = 0.5
    standardize: bool = False
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> Preprocessor:
        if self.standardize:
            z = self._filtered(x)
            self.mean = z.mean(axis=(0, 2)).astype(np.float32)
            self.std = np.maximum(z.std(axis=(0, 2)), 1e-6).astype(np.float32)
        return self

    def _filtered(self, x: np.ndarray) -> np.ndarray:
        z = np.nan_to_num(np.asarray(x, dtype=np.float32), nan=0.0)
        z = resample(z, self.fs_in, self.fs_out)
        return highpass(z, self.fs_out, self.highpass_hz)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``float32[n, 12, T]`` mV at ``fs_in`` -> ``float32[n, 12, T']`` at ``fs_out``."""
        z = self._filtered(x)
        if self.standardize:
            if self.mean is None or self.std is None:
                raise RuntimeError("Preprocessor.fit() must run before standardising")
            z = (z - self.mean[None, :, None]) / self.std[None, :, None]
        return np.ascontiguousarray(z, dtype=np.float32)
