"""Signal preparation: per-lead standardisation, patch length in samples, random and strided crops."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecgbench.data.streaming import RecordRows, iter_chunks
from ecgbench.errors import ConfigError, DataError


def samples_per(seconds: float, fs: float, what: str) -> int:
    """``seconds * fs`` as a whole number of samples; a fractional count is a ConfigError."""
    exact = seconds * fs
    count = round(exact)
    if count < 1 or abs(exact - count) > 1e-6:
        raise ConfigError(f"{what} = {seconds} s is {exact:g} samples at {fs:g} Hz; choose a whole number of samples")
    return count


@dataclass(frozen=True)
class LeadNormalizer:
    """Per-lead mean and SD (over records and time of the training signals), then clipping to
    ``+- clip`` SDs; missing (NaN) samples become 0, the lead mean."""

    mean: np.ndarray  # float32[12]
    std: np.ndarray  # float32[12]
    clip: float = 5.0

    @classmethod
    def fit(cls, signals: np.ndarray | RecordRows, clip: float = 5.0) -> LeadNormalizer:
        """``signals``: float32[n, 12, T] in mV, read a chunk of records at a time (two passes in
        float64: the mean, then the mean squared deviation from it)."""
        if signals.ndim != 3 or signals.shape[0] == 0:
            raise DataError(f"expected signals float32[n, 12, T] with n > 0, got shape {signals.shape}")
        total, count = np.zeros(signals.shape[1]), np.zeros(signals.shape[1])
        for _, chunk in iter_chunks(signals):
            total += np.nansum(chunk, axis=(0, 2), dtype=np.float64)
            count += (~np.isnan(chunk)).sum(axis=(0, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
            squares = np.zeros(signals.shape[1])
            for _, chunk in iter_chunks(signals):
                squares += np.nansum((chunk.astype(np.float64) - mean[None, :, None]) ** 2, axis=(0, 2))
            std = np.sqrt(squares / count)
        mean = np.where(np.isfinite(mean), mean, 0.0)
        std = np.where(np.isfinite(std) & (std > 1e-8), std, 1.0)
        return cls(mean=mean.astype(np.float32), std=std.astype(np.float32), clip=clip)

    def __call__(self, signals: np.ndarray) -> np.ndarray:
        """float32[n, 12, T] mV -> float32[n, 12, T] standardised and clipped."""
        out = (np.asarray(signals, dtype=np.float32) - self.mean[None, :, None]) / self.std[None, :, None]
        np.nan_to_num(out, copy=False, nan=0.0)
        return np.clip(out, -self.clip, self.clip, out=out)


def crop_starts(n: int, n_samples: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """int[n]: a uniformly drawn first sample of a ``length``-sample window in each of n records."""
    if length > n_samples:
        raise DataError(f"crop of {length} samples is longer than the records ({n_samples} samples)")
    return rng.integers(0, n_samples - length + 1, size=n)


def crops_at(signals: np.ndarray, index: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """The window of ``length`` samples from ``starts[i]`` of record ``index[i]``:
    float32[n, 12, T], int[b], int[b] -> float32[b, 12, length]."""
    time = starts[:, None] + np.arange(length)[None, :]
    return signals[index[:, None, None], np.arange(signals.shape[1])[None, :, None], time[:, None, :]]


def random_crops(signals: np.ndarray, index: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """One random window of ``length`` samples from each selected record:
    float32[n, 12, T], int[b] -> float32[b, 12, length]."""
    return crops_at(signals, index, crop_starts(len(index), signals.shape[-1], length, rng), length)


def strided_crops(signals: np.ndarray, length: int, stride: int) -> np.ndarray:
    """Every window of ``length`` samples starting at ``0, stride, 2 * stride, ...`` that fits:
    float32[n, 12, T] -> float32[n, n_crops, 12, length]."""
    n_samples = signals.shape[-1]
    if length > n_samples:
        raise DataError(f"window of {length} samples is longer than the records ({n_samples} samples)")
    starts = range(0, n_samples - length + 1, stride)
    return np.stack([signals[:, :, s : s + length] for s in starts], axis=1)
