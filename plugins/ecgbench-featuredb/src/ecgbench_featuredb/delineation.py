"""Wave boundaries of an average beat from the modulus maxima of its à-trous wavelet transform.

The rules follow Martínez et al. (IEEE TBME 51:570, 2004), the method FeatureDB's delineator
adapts, with their boundary thresholds: a wave's steepest slopes are modulus maxima of the
wavelet detail; its peak is the zero crossing between two maxima of opposite sign; its onset
(offset) is where the detail, walking away from the first (last) maximum, falls below a fixed
fraction ξ of that maximum or reaches a local minimum of its modulus.

QRS boundaries are taken at the ~31 Hz scale (2^2 at 250 Hz), P and T at the ~8 Hz scale (2^4
at 250 Hz). Before P and T are searched, the QRS is replaced by a straight line between its
onset and offset so that its large slopes do not leak into the P and T scales.

The T wave is the first strong wave from 0.1 s after the R-peak; the P wave is the highest
wave between the previous beat's T wave and the QRS. Either counts as found only when its
height (T: from the isoelectric level before the QRS; P: from the line joining its onset and
offset) reaches the configured amplitude and ``min_snr`` times the standard error of the
average beat at its peak; a P wave must moreover dominate every other bump in its window
(``p_dominance``) and last at most ``p_max_duration_ms``. Otherwise its boundaries are NaN and
the measurer abstains on the intervals that need it. These rules were written against
hand-built beats, the phantom and the QT Database sample; the model card gives the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from ecgbench_featuredb.average_beat import AverageBeat
from ecgbench_featuredb.wavelet import atrous_details, level_for

QRS_SCALE_HZ = 31.0
PT_SCALE_HZ = 8.0
#: A QRS slope is significant above this fraction of the largest slope of the complex (and above
#: QRS_NOISE_FACTOR times the typical modulus outside the QRS).
QRS_SIGNIFICANT = 0.08
#: The first and last significant QRS slope lie this far (s) before / after the R-peak at most,
#: and consecutive slopes of one QRS at most QRS_GAP_S apart.
QRS_BEFORE_S, QRS_AFTER_S = 0.12, 0.15
QRS_GAP_S = 0.05
QRS_NOISE_FACTOR = 4.0
#: Boundary thresholds ξ (fractions of the bounding modulus maximum), Martínez et al. 2004.
XI_QRS_ON, XI_QRS_OFF = 0.05, 0.125
XI_T_ON, XI_T_OFF = 0.25, 0.4
XI_P_ON, XI_P_OFF = 0.5, 0.9
#: A wave maximum counts if it exceeds this fraction of the RMS of the detail in its window.
WAVE_SIGNIFICANT_RMS = 0.25
#: A third maximum of alternating sign this large (fraction of the wave's largest) makes the
#: wave biphasic when it lies within BIPHASIC_GAP_S of the wave's own maxima; the boundary is
#: then taken beyond it.
BIPHASIC_RATIO = 0.5
BIPHASIC_GAP_S = 0.12
#: T waves whose summed slope modulus reaches this fraction of the strongest compete on
#: nearness to the QRS.
STRONG_RATIO = 0.5
#: The T wave's slopes are searched from T_START_S after the R-peak (past the ST segment, whose
#: deviation would otherwise pass for a wave) to T_WINDOW_RR times the RR after it.
T_START_S = 0.1
T_WINDOW_RR = 0.7
#: Rival waves of a P wave (see WaveCriteria.p_dominance) are those further than this (s) from
#: its slopes.
DOMINANCE_SPAN_S = 0.04
#: The T wave's height is taken from the isoelectric level: the mean of the beat over this span
#: (s) ending at the QRS onset. (A P wave's is taken from the line joining its on- and offset.)
ISOELECTRIC_S = 0.01
#: The P wave's slopes end at least this long (s) before the QRS onset (the PR segment), so a
#: QRS slope that begins a little before the detected onset is not paired with the P wave's.
PR_SEGMENT_S = 0.02


@dataclass(frozen=True)
class WaveCriteria:
    """When a P or T wave counts as found (see the module docstring)."""

    p_min_amplitude_mv: float
    t_min_amplitude_mv: float
    min_snr: float
    p_dominance: float
    p_max_duration_ms: float


@dataclass(frozen=True)
class Fiducials:
    """Positions in samples of the average beat (float; NaN = not found)."""

    p_on: float
    p_peak: float
    p_off: float
    qrs_on: float
    qrs_off: float
    t_on: float
    t_peak: float
    t_off: float


_NAN = float("nan")


def _extrema(modulus: np.ndarray, lo: int, hi: int, min_height: float) -> np.ndarray:
    """Indices of the local maxima of ``modulus`` in [lo, hi) that reach ``min_height``."""
    lo, hi = max(lo, 0), min(hi, len(modulus))
    if hi - lo < 3:
        return np.zeros(0, dtype=np.int64)
    peaks, _ = find_peaks(modulus[lo:hi], height=min_height)
    return peaks.astype(np.int64) + lo


def _boundary(modulus: np.ndarray, start: int, limit: int, level: float) -> float:
    """Walk from ``start`` towards ``limit`` (exclusive of ``start``, inclusive of ``limit``) to the
    first sample whose modulus is below ``level`` or a local minimum; NaN when none is reached."""
    step = 1 if limit > start else -1
    if limit == start:
        return _NAN
    idx = np.arange(start + step, limit + step, step)
    idx = idx[(idx >= 1) & (idx <= len(modulus) - 2)]
    if len(idx) == 0:
        return _NAN
    m = modulus[idx]
    local_min = (m <= modulus[idx - 1]) & (m <= modulus[idx + 1])
    hit = np.flatnonzero((m < level) | local_min)
    return float(idx[hit[0]]) if len(hit) else _NAN


def _zero_crossing(detail: np.ndarray, a: int, b: int) -> float:
    """Where ``detail`` changes sign between the maxima at ``a`` < ``b`` (linear interpolation)."""
    seg = detail[a : b + 1]
    k = int(np.flatnonzero(np.sign(seg) != np.sign(seg[0]))[0])
    y0, y1 = seg[k - 1], seg[k]
    return a + k - 1 + float(y0 / (y0 - y1))


def _qrs_bounds(detail: np.ndarray, r: int, fs: float) -> tuple[float, float]:
    """QRS onset and offset: the chain of significant slopes around the R-peak, then ξ rules.

    The chain starts at the steepest slope on each side of R and grows outward, one modulus
    maximum at a time, while the next maximum is significant, of the opposite sign and no more
    than QRS_GAP_S away. A maximum is significant when it reaches QRS_SIGNIFICANT of the
    steepest slope and QRS_NOISE_FACTOR times the median modulus outside the QRS (the noise
    left in the average beat). So the slopes of a P or T wave, which lie further away, behind
    a weaker maximum or have the wrong sign, do not widen the QRS.
    """
    modulus = np.abs(detail)
    lo = max(r - round(QRS_BEFORE_S * fs), 1)
    hi = min(r + round(QRS_AFTER_S * fs), len(detail) - 1)
    up = lo + int(np.argmax(modulus[lo:r]))
    down = r + 1 + int(np.argmax(modulus[r + 1 : hi]))
    outside = np.concatenate((modulus[:lo], modulus[hi:]))
    noise = float(np.median(outside)) if len(outside) else 0.0
    floor = max(QRS_SIGNIFICANT * max(modulus[up], modulus[down]), QRS_NOISE_FACTOR * noise)
    ext = _extrema(modulus, lo, hi, 0.0)
    gap = round(QRS_GAP_S * fs)
    first = _chain_end(detail, ext[ext < up][::-1], up, gap, floor)
    last = _chain_end(detail, ext[ext > down], down, gap, floor)
    onset = _boundary(modulus, first, max(first - round(0.1 * fs), 1), XI_QRS_ON * modulus[first])
    offset = _boundary(
        modulus, last, min(last + round(0.1 * fs), len(detail) - 2), XI_QRS_OFF * modulus[last]
    )
    return onset, offset


def _chain_end(detail: np.ndarray, candidates: np.ndarray, start: int, gap: int, floor: float) -> int:
    """Follow the maxima ``candidates`` (ordered away from ``start``) while each reaches ``floor``,
    alternates in sign with the previous one and lies within ``gap`` samples of it; return the
    last one reached."""
    current = start
    for k in candidates:
        if (abs(detail[k]) < floor or abs(int(k) - current) > gap
                or np.sign(detail[k]) == np.sign(detail[current])):
            break
        current = int(k)
    return current


@dataclass(frozen=True)
class _Wave:
    on: float
    peak: float
    off: float


@dataclass(frozen=True)
class _Search:
    """Where and how to look for one wave (P or T) in the QRS-free beat (indices into the beat).

    lo, hi              window of the wave's slopes (modulus maxima)
    xi_on, xi_off       boundary thresholds (fractions of the bounding maximum)
    on_limit, off_limit how far the onset / offset walk may go
    min_amplitude_mv    height floor
    first_strong        T rule (first strong wave) instead of the P rule (highest wave)
    dominance           0, or how many times higher than any rival the wave must be
    """

    lo: int
    hi: int
    xi_on: float
    xi_off: float
    on_limit: int
    off_limit: int
    min_amplitude_mv: float
    first_strong: bool
    dominance: float


def _wave(beat: AverageBeat, detail: np.ndarray, search: _Search, min_snr: float,
          level: float | None = None) -> _Wave | None:
    """The wave in [lo, hi), or None when none stands out or a boundary is not reached.

    Candidates are the adjacent pairs of opposite-sign modulus maxima; a candidate's peak is
    their zero crossing and its height the distance of the beat at the peak from ``level`` (the
    isoelectric level) or, without one, from the straight line joining the beat at the
    candidate's onset and offset. Candidates lower than the amplitude floor or
    ``min_snr`` standard errors of the average beat at the peak are dropped. For P the highest
    candidate wins (FeatureDB's rule) and must be ``search.dominance`` times as high as any
    other in the window. For T, of the candidates whose summed modulus reaches ``STRONG_RATIO``
    of the strongest, the first after the QRS wins, so a U wave or the next beat's P cannot
    displace it. A third maximum of alternating sign, close and large, widens a biphasic wave.
    """
    modulus = np.abs(detail)
    lo, hi = max(search.lo, 1), min(search.hi, len(detail) - 1)
    if hi - lo < 3:
        return None
    rms = float(np.sqrt(np.mean(detail[lo:hi] ** 2)))
    ext = _extrema(modulus, lo, hi, WAVE_SIGNIFICANT_RMS * rms)
    signs = np.sign(detail[ext])
    candidates: list[tuple[int, float, float, float]] = []  # (pair index, score, height, peak)
    for i in np.flatnonzero(signs[:-1] != signs[1:]):
        a, b = int(ext[i]), int(ext[i + 1])
        peak = _zero_crossing(detail, a, b)
        if level is None:
            height = _height(beat.wave, peak, _bounds(modulus, a, b, search))
        else:
            height = abs(beat.wave[int(round(peak))] - level)
        noise = beat.sem[int(round(peak))] if beat.n_beats > 1 else 0.0
        if height >= search.min_amplitude_mv and height >= min_snr * noise:
            candidates.append((int(i), modulus[a] + modulus[b], height, peak))
    if not candidates:
        return None
    if search.first_strong:
        strongest_score = max(c[1] for c in candidates)
        chosen = next(c for c in candidates if c[1] >= STRONG_RATIO * strongest_score)
    else:
        chosen = max(candidates, key=lambda c: c[2])
    best = chosen[0]
    a, b = int(ext[best]), int(ext[best + 1])
    if search.dominance > 0:
        margin = round(DOMINANCE_SPAN_S * beat.fs)
        rivals = [c[2] for c in candidates if not a - margin <= c[3] <= b + margin]
        if rivals and chosen[2] < search.dominance * max(rivals):
            return None
    strongest = max(modulus[a], modulus[b])
    gap = round(BIPHASIC_GAP_S * beat.fs)

    def widens(j: int, neighbour: int) -> bool:
        return (0 <= j < len(ext) and signs[j] != signs[neighbour]
                and modulus[ext[j]] >= BIPHASIC_RATIO * strongest and abs(ext[j] - ext[neighbour]) <= gap)

    first = int(ext[best - 1]) if widens(best - 1, best) else a
    last = int(ext[best + 2]) if first == a and widens(best + 2, best + 1) else b
    onset, offset = _bounds(modulus, first, last, search)
    return _Wave(onset, chosen[3], offset)


def _bounds(modulus: np.ndarray, first: int, last: int, search: _Search) -> tuple[float, float]:
    """Onset before the maximum ``first`` and offset after the maximum ``last`` (ξ rules)."""
    onset = _boundary(modulus, first, search.on_limit, search.xi_on * modulus[first])
    offset = _boundary(modulus, last, search.off_limit, search.xi_off * modulus[last])
    return onset, offset


def _height(wave: np.ndarray, peak: float, bounds: tuple[float, float]) -> float:
    """|wave at ``peak`` − the line joining the wave at the two bounds| (mV); 0 when a bound is
    missing."""
    onset, offset = bounds
    if np.isnan(onset) or np.isnan(offset) or offset <= onset:
        return 0.0
    k, i, j = int(round(peak)), int(onset), int(offset)
    baseline = wave[i] + (wave[j] - wave[i]) * (k - i) / (j - i)
    return float(abs(wave[k] - baseline))


def delineate(beat: AverageBeat, criteria: WaveCriteria) -> Fiducials:
    """P, QRS and T boundaries of an average beat (samples of ``beat.wave``; NaN = not found)."""
    fs, r, wave = beat.fs, beat.r, beat.wave
    qrs_level, pt_level = level_for(QRS_SCALE_HZ, fs), level_for(PT_SCALE_HZ, fs)
    qrs_detail = atrous_details(wave, qrs_level)[qrs_level - 1]
    qrs_on, qrs_off = _qrs_bounds(qrs_detail, r, fs)
    if np.isnan(qrs_on) or np.isnan(qrs_off):
        return Fiducials(*([_NAN] * 8))
    on, off = int(qrs_on), int(qrs_off)

    flat = wave.copy()
    flat[on : off + 1] = np.linspace(wave[on], wave[off], off - on + 1)
    pt_detail = atrous_details(flat, pt_level)[pt_level - 1]
    last = len(wave) - 2
    isoelectric = float(wave[max(on - round(ISOELECTRIC_S * fs), 0) : on + 1].mean())

    t_search = _Search(
        lo=max(off, r + round(T_START_S * fs)), hi=min(r + round(T_WINDOW_RR * beat.rr), last),
        xi_on=XI_T_ON, xi_off=XI_T_OFF, on_limit=off, off_limit=last,
        min_amplitude_mv=criteria.t_min_amplitude_mv, first_strong=True, dominance=0.0,
    )
    t = _wave(beat, pt_detail, t_search, criteria.min_snr, isoelectric)
    if t is not None and np.isnan(t.off):
        t = None

    # The P wave lies after the previous beat's T wave, which ended one RR before this one's.
    p_lo = 1 if t is None else max(1, int(np.ceil(t.off - beat.rr)))
    p_search = _Search(
        lo=p_lo, hi=on - round(PR_SEGMENT_S * fs), xi_on=XI_P_ON, xi_off=XI_P_OFF,
        on_limit=p_lo, off_limit=on, min_amplitude_mv=criteria.p_min_amplitude_mv,
        first_strong=False, dominance=criteria.p_dominance,
    )
    p = _wave(beat, pt_detail, p_search, criteria.min_snr)
    if p is not None and (
        np.isnan(p.on) or np.isnan(p.off) or beat.ms(p.off - p.on) > criteria.p_max_duration_ms
    ):
        p = None

    p = p or _Wave(_NAN, _NAN, _NAN)
    t = t or _Wave(_NAN, _NAN, _NAN)
    return Fiducials(p.on, p.peak, p.off, qrs_on, qrs_off, t.on, t.peak, t.off)
