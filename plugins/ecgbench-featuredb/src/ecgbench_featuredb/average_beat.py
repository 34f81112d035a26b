"""The average beat of one lead: every complete beat cut around its R-peak, then averaged.

FeatureDB cuts each beat from R − 0.35·RR to R + 0.80·RR (RR the median). The window before R
is widened here to min(0.6·RR, 0.5 s), because at 0.35·RR a P wave of a long PR (first-degree
AV block, the condition the measurement exists to find) falls outside the beat at normal heart
rates; after R it is min(0.8·RR, 0.75 s), enough for a long QT.

FeatureDB averages every beat. Here ectopic beats are left out first, as any average-beat
method needs (one premature ventricular beat in ten visibly distorts the mean): a beat is
averaged when neither of its RR intervals is shorter than 0.8 times the median (no premature
beat on either side) and its QRS (R ± 0.1 s) correlates with the median beat's at r >= 0.9.
A filter that would leave fewer than ``min_beats`` beats is skipped (e.g. the RR filter in
atrial fibrillation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PRE_RR, PRE_MAX_S = 0.6, 0.5
POST_RR, POST_MAX_S = 0.8, 0.75
#: A neighbouring RR shorter than this fraction of the median marks a premature beat.
PREMATURE_RR = 0.8
#: Least correlation of a beat's QRS (R ± QRS_HALF_S) with the median beat's.
MIN_QRS_CORRELATION = 0.9
QRS_HALF_S = 0.1


@dataclass(frozen=True)
class AverageBeat:
    """wave     float64[L], the mean beat in mV.
    r           index of the R-peak in ``wave``.
    fs          sampling rate of ``wave`` in Hz.
    rr          median RR of the record in samples.
    n_beats     how many beats were averaged.
    beats       float64[n_beats, L], the averaged beats themselves.
    peaks       int64[k], the R-peaks (samples of the record) of the beats like the averaged ones:
                the averaged beats and those too near the record's edges to be averaged whose
                QRS passes the same tests (not premature, correlated with the median QRS).
    sem         float64[L], mV: the standard error of the mean at each sample, from the spread
                across the averaged beats (NaN for a single beat). It is large where the beats
                disagree (noise, fibrillatory waves, a misaligned neighbouring T wave).
    """

    wave: np.ndarray
    r: int
    fs: float
    rr: float
    n_beats: int
    beats: np.ndarray
    sem: np.ndarray
    peaks: np.ndarray

    def ms(self, samples: float) -> float:
        """A duration in samples of ``wave`` as milliseconds."""
        return 1000.0 * samples / self.fs


def average_beat(x: np.ndarray, r_peaks: np.ndarray, fs: float, min_beats: int) -> AverageBeat | None:
    """The mean of the beats of ``float64[T]`` (mV at ``fs``) whose window lies inside the record.

    r_peaks: int64[k] ascending. None when there are fewer than 2 R-peaks (no RR) or fewer than
    ``min_beats`` complete beats.
    """
    if len(r_peaks) < 2:
        return None
    rr = float(np.median(np.diff(r_peaks)))
    pre = int(round(min(PRE_RR * rr, PRE_MAX_S * fs)))
    post = int(round(min(POST_RR * rr, POST_MAX_S * fs)))
    inside = (r_peaks - pre >= 0) & (r_peaks + post < len(x))
    if inside.sum() < max(min_beats, 1):
        return None
    rr_all = np.diff(r_peaks)
    short = rr_all < PREMATURE_RR * rr
    premature_neighbour = np.concatenate(([False], short)) | np.concatenate((short, [False]))
    regular = ~premature_neighbour if (inside & ~premature_neighbour).sum() >= max(min_beats, 1) else np.ones(len(r_peaks), bool)
    peaks = r_peaks[inside & regular]
    beats = x[peaks[:, None] + np.arange(-pre, post + 1)[None, :]]
    half = round(QRS_HALF_S * fs)
    template = np.median(beats[:, pre - half : pre + half + 1], axis=0)
    similar = _unless_too_few(np.ones(len(beats), bool),
                              _correlation(beats[:, pre - half : pre + half + 1], template) >= MIN_QRS_CORRELATION, min_beats)
    beats = beats[similar]
    # The beats like the averaged ones, those too near the record's edges to be averaged
    # included: where the measurer places the average beat's boundaries.
    whole_qrs = np.flatnonzero((r_peaks - half >= 0) & (r_peaks + half < len(x)) & regular)
    qrs_all = x[r_peaks[whole_qrs][:, None] + np.arange(-half, half + 1)[None, :]]
    like = whole_qrs[_correlation(qrs_all, template) >= MIN_QRS_CORRELATION]
    peaks = np.union1d(peaks[similar], r_peaks[like])
    wave = beats.mean(axis=0)
    if len(beats) > 1:
        sem = beats.std(axis=0, ddof=1) / np.sqrt(len(beats))
    else:
        sem = np.full(len(wave), np.nan)
    return AverageBeat(wave=wave, r=pre, fs=fs, rr=rr, n_beats=len(beats), beats=beats, sem=sem,
                       peaks=peaks.astype(np.int64))


def _unless_too_few(before: np.ndarray, after: np.ndarray, min_beats: int) -> np.ndarray:
    """The filtered selection ``after``, or ``before`` when ``after`` keeps too few beats."""
    return after if after.sum() >= max(min_beats, 1) else before


def _correlation(rows: np.ndarray, template: np.ndarray) -> np.ndarray:
    """float64[k]: Pearson correlation of each row of float64[k, L] with float64[L]."""
    a = rows - rows.mean(axis=1, keepdims=True)
    b = template - template.mean()
    denominator = np.sqrt((a**2).sum(axis=1) * (b**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a @ b) / denominator, 0.0)
