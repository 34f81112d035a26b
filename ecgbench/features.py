"""Hand-made ECG features and the simple classifier built on them.

The classifier is the reference floor of ``classify-71-labels`` (the baselines plugin
registers it) and the judge of the generation task's TSTR score (train on generated records,
test on real ones), so one definition serves both.

Features per record (all from ``float32[n, 12, T]`` in mV at ``fs`` Hz):
- rhythm: R peaks found on the multi-lead slope energy; mean and SD of RR, RMSSD, the share of
  successive RR changes over 50 ms, heart rate, and the beat count;
- morphology: the median beat of every lead (−250 ms .. +450 ms around R, resampled to 50 Hz),
  which carries QRS width, Q waves, ST level and T polarity;
- amplitude: per-lead SD, 1st/99th percentiles;
- spectrum: per-lead share of power in 0.5–4, 4–8 (f waves), 8–15 and 15–40 Hz.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from ecgbench.data.streaming import RecordRows, iter_chunks

BEAT_WINDOW_S = (-0.25, 0.45)
BEAT_RATE_HZ = 50.0
BANDS_HZ = ((0.5, 4.0), (4.0, 8.0), (8.0, 15.0), (15.0, 40.0))


def r_peaks(x: np.ndarray, fs: float) -> np.ndarray:
    """R-peak indices of one record ``[12, T]`` from the summed squared slope of all leads."""
    finite = np.nan_to_num(x, nan=0.0)
    hi = min(15.0, 0.45 * fs)
    b, a = sps.butter(2, [5.0 / (fs / 2), hi / (fs / 2)], btype="band")
    energy = (np.diff(sps.filtfilt(b, a, finite, axis=-1), axis=-1) ** 2).sum(axis=0)
    width = max(1, int(0.05 * fs))
    energy = np.convolve(energy, np.ones(width) / width, mode="same")
    peaks, _ = sps.find_peaks(energy, height=0.25 * np.percentile(energy, 99), distance=max(1, int(0.25 * fs)))
    # move each peak to the largest absolute deflection of the dominant lead nearby
    lead = int(np.argmax(np.abs(finite).max(axis=-1)))
    half = max(1, int(0.05 * fs))
    return np.array(
        [max(0, p - half) + int(np.argmax(np.abs(finite[lead, max(0, p - half): p + half + 1]))) for p in peaks],
        dtype=np.int64,
    )


def _rhythm(peaks: np.ndarray, fs: float) -> np.ndarray:
    if len(peaks) < 3:
        return np.array([0.0, 0.0, 0.0, 0.0, 0.0, float(len(peaks))])
    rr = np.diff(peaks) / fs * 1000.0
    d = np.diff(rr)
    return np.array([rr.mean(), rr.std(), np.sqrt(np.mean(d**2)), np.mean(np.abs(d) > 50.0), 60000.0 / rr.mean(), len(peaks)])


def _median_beat(x: np.ndarray, peaks: np.ndarray, fs: float) -> np.ndarray:
    before, after = int(-BEAT_WINDOW_S[0] * fs), int(BEAT_WINDOW_S[1] * fs)
    n_out = int(round((BEAT_WINDOW_S[1] - BEAT_WINDOW_S[0]) * BEAT_RATE_HZ))
    inside = [p for p in peaks if p - before >= 0 and p + after <= x.shape[-1]]
    if not inside:
        return np.zeros(12 * n_out)
    beats = np.stack([x[:, p - before: p + after] for p in inside])
    median = np.nan_to_num(np.median(beats, axis=0))
    median = median - median[:, :1]  # level at the window start (PR segment) as zero
    grid = np.linspace(0, median.shape[-1] - 1, n_out)
    return np.stack([np.interp(grid, np.arange(median.shape[-1]), lead) for lead in median]).ravel()


def _spectrum(x: np.ndarray, fs: float) -> np.ndarray:
    f, p = sps.welch(np.nan_to_num(x), fs=fs, nperseg=min(x.shape[-1], int(2.56 * fs)), axis=-1)
    total = p[:, (f >= 0.5) & (f <= min(40.0, fs / 2))].sum(axis=-1) + 1e-12
    shares = [p[:, (f >= lo) & (f < min(hi, fs / 2))].sum(axis=-1) / total for lo, hi in BANDS_HZ]
    return np.stack(shares, axis=-1).ravel()


def extract_features(x: np.ndarray | RecordRows, fs: float) -> np.ndarray:
    """``float32[n, 12, T]`` mV -> ``float64[n, F]`` (the features listed in the module docstring).

    Records are read a chunk at a time (:func:`~ecgbench.data.streaming.iter_chunks`), so a
    memmapped cohort is never held in memory whole.
    """
    rows = []
    for record in (r for _, chunk in iter_chunks(x) for r in chunk.astype(np.float64)):
        peaks = r_peaks(record, fs)
        amplitude = np.concatenate(
            [np.nanstd(record, axis=-1), np.nanpercentile(record, 1, axis=-1), np.nanpercentile(record, 99, axis=-1)]
        )
        rows.append(np.concatenate([_rhythm(peaks, fs), _median_beat(record, peaks, fs), np.nan_to_num(amplitude), _spectrum(record, fs)]))
    return np.stack(rows)


class FeatureClassifier:
    """One logistic regression per label on standardised, PCA-reduced features.

    A label with a single class in the training data gets that class's constant probability
    (its prevalence), not a fitted model.
    """

    def __init__(self, n_components: int = 64, C: float = 0.5, seed: int = 0):
        self.n_components, self.C, self.seed = n_components, C, seed

    def fit(self, x: np.ndarray, y: np.ndarray, fs: float) -> FeatureClassifier:
        """Fit on ``float32[n, 12, T]`` signals and ``uint8[n, L]`` labels."""
        self.fs = fs
        return self.fit_features(extract_features(x, fs), y)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``float32[n, L]`` probabilities, one column per training label."""
        return self.predict_features(extract_features(x, self.fs))

    def fit_features(self, features: np.ndarray, y: np.ndarray) -> FeatureClassifier:
        """Fit on features already extracted (lets a caller try several settings cheaply)."""
        from sklearn.decomposition import PCA
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        k = min(self.n_components, features.shape[0] - 1, features.shape[1])
        self.reduce = make_pipeline(StandardScaler(), PCA(n_components=k, random_state=self.seed)).fit(features)
        z = self.reduce.transform(features)
        self.models: list[object | float] = []
        for column in np.asarray(y).T:
            if column.min() == column.max():
                self.models.append(float(column[0]))
            else:
                self.models.append(LogisticRegression(C=self.C, max_iter=2000).fit(z, column))
        return self

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        z = self.reduce.transform(features)
        columns = [
            np.full(len(z), m) if isinstance(m, float) else m.predict_proba(z)[:, 1]  # type: ignore[union-attr]
            for m in self.models
        ]
        return np.stack(columns, axis=1).astype(np.float32)
