"""R-peak detection by the gradient method (as NeuroKit2's default detector, which FeatureDB uses).

The absolute gradient of a 3–40 Hz band-passed lead, smoothed over 0.1 s, marks a QRS where it
exceeds 1.5 times its own 0.75 s moving average. Regions shorter than 0.4 times the mean region
length are noise, and so are regions whose strongest gradient is below 0.3 times the 90th
percentile of the regions' strongest gradients (tall T waves at slow heart rates otherwise pass the
moving-average test). In each region the R-peak is the extremum of the beat signal of the record's
dominant QRS polarity, so that every beat of a record is aligned on the same deflection even in
leads whose QRS is mostly negative.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

SMOOTH_S = 0.1
AVERAGE_S = 0.75
GRADIENT_FACTOR = 1.5
MIN_LENGTH_FACTOR = 0.4
#: A region's peak gradient must reach this fraction of the 90th percentile over regions.
MIN_STRENGTH_FACTOR = 0.3
#: Closest two beats may be (s): 200 bpm.
MIN_RR_S = 0.3


def qrs_regions(detect: np.ndarray, fs: float) -> np.ndarray:
    """int64[k, 2]: [start, stop) of each QRS candidate region of ``float64[T]``."""
    gradient = np.abs(np.gradient(detect))
    smooth = uniform_filter1d(gradient, max(1, round(SMOOTH_S * fs)), mode="nearest")
    average = uniform_filter1d(smooth, max(1, round(AVERAGE_S * fs)), mode="nearest")
    above = np.concatenate(([False], smooth > GRADIENT_FACTOR * average, [False]))
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    regions = edges.reshape(-1, 2)
    if len(regions) == 0:
        return regions
    lengths = regions[:, 1] - regions[:, 0]
    regions = regions[lengths >= MIN_LENGTH_FACTOR * lengths.mean()]
    strength = np.maximum.reduceat(np.append(smooth, 0.0), regions.ravel())[::2]
    return regions[strength >= MIN_STRENGTH_FACTOR * np.percentile(strength, 90)]


def detect_r_peaks(detect: np.ndarray, beat: np.ndarray, fs: float) -> np.ndarray:
    """int64[k]: R-peak sample indices, ascending.

    detect  float64[T], the lead band-passed for detection (3–40 Hz).
    beat    float64[T], the same lead band-passed for the average beat (0.75–35 Hz).
    """
    regions = qrs_regions(detect, fs)
    if len(regions) == 0:
        return np.zeros(0, dtype=np.int64)
    highs = np.array([beat[a:b].max() for a, b in regions])
    lows = np.array([beat[a:b].min() for a, b in regions])
    polarity = 1.0 if np.median(highs) >= np.median(-lows) else -1.0
    peaks = np.array([a + int(np.argmax(polarity * beat[a:b])) for a, b in regions], dtype=np.int64)
    return _enforce_min_rr(peaks, polarity * beat[peaks], round(MIN_RR_S * fs))


def _enforce_min_rr(peaks: np.ndarray, heights: np.ndarray, min_gap: int) -> np.ndarray:
    """Of two peaks closer than ``min_gap`` samples keep the higher one."""
    kept: list[int] = []
    for i in range(len(peaks)):
        if kept and peaks[i] - peaks[kept[-1]] < min_gap:
            if heights[i] > heights[kept[-1]]:
                kept[-1] = i
            continue
        kept.append(i)
    return peaks[kept]
