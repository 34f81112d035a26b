"""Wave boundaries of an average beat from the modulus maxima of its à-trous wavelet transform.

The rules follow Martínez et al. (IEEE TBME 51:570, 2004), the method FeatureDB's delineator
adapts: a wave's steepest slopes are modulus maxima of the wavelet detail; its peak is the zero
crossing between two maxima of opposite sign; its onset (offset) is where the detail, walking
away from the first (last) maximum, falls below a fraction ξ of that maximum or reaches a local
minimum of its modulus.

QRS boundaries are taken at the ~31 Hz scale (2^2 at 250 Hz), P and T at the ~8 Hz scale (2^4
at 250 Hz). Before P and T are searched, the QRS is replaced by a straight line between its
onset and offset so that its large slopes do not leak into the P and T scales.

The QRS is the chain of significant slopes around the R-peak, of either sign. The T wave is
anchored on the steepest slope between the QRS offset and the end of its window: of the two
waves that slope bounds, the one further from the isoelectric level (an ST deviation before
it, a U wave after it, or the T wave itself). The P wave is the highest wave between the
previous beat's T wave and the QRS. P or T counts as found only when its height (T: from the
isoelectric level before the QRS; P: from the line joining its onset and offset) reaches the
configured amplitude and ``min_snr`` times the standard error of the average beat at its peak;
a P wave must moreover be ``p_dominance`` times as high as every other bump in its window and
last at most ``p_max_duration_ms``. Otherwise its boundaries are NaN and the measurer abstains
on the intervals that need it.

The rules answer the failures seen on the QT Database development set (``qtdb-dev``): a T wave
taken for the trough of a depressed ST segment, an inverted T wave whose first slope starts
inside a wide QRS, a slurred QRS onset cut short. The thresholds of :class:`DelineationSettings`
were chosen there by leave-one-record-out selection (:mod:`ecgbench_featuredb.selection`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from ecgbench_featuredb.average_beat import AverageBeat
from ecgbench_featuredb.wavelet import atrous_details, level_for

QRS_SCALE_HZ = 31.0
P_SCALE_HZ = 8.0
T_SCALE_HZ = 8.0
#: A QRS slope is significant above DelineationSettings.qrs_significant times the largest slope
#: of the complex and above QRS_NOISE_FACTOR times the typical modulus outside the QRS. The
#: first and last significant QRS slope lie this far (s) before / after the R-peak at most,
#: consecutive slopes of one QRS at most DelineationSettings.qrs_gap_s apart.
QRS_BEFORE_S, QRS_AFTER_S = 0.12, 0.15
QRS_NOISE_FACTOR = 4.0
#: Boundary thresholds ξ of the T onset and P offset, which no reported interval uses: the
#: published values of Martínez et al. 2004 (the others are DelineationSettings).
XI_T_ON, XI_P_OFF = 0.25, 0.9
#: A wave maximum counts if it exceeds this fraction of the RMS of the detail in its window.
WAVE_SIGNIFICANT_RMS = 0.25
#: A third maximum of alternating sign (see DelineationSettings.biphasic_ratio) widens the wave
#: when it lies within BIPHASIC_GAP_S of the wave's own maxima.
BIPHASIC_GAP_S = 0.12
#: The T wave's slopes are searched from the QRS offset to T_WINDOW_RR times the RR after the
#: R-peak (at most DelineationSettings.t_window_s).
T_WINDOW_RR = 0.7
#: Rival waves of a P wave (see DelineationSettings.p_dominance) are those further than this (s) from
#: its slopes.
DOMINANCE_SPAN_S = 0.04
#: The T wave's height is taken from the isoelectric level: the mean of the beat over this span
#: (s) ending at the QRS onset. (A P wave's is taken from the line joining its on- and offset.)
ISOELECTRIC_S = 0.01
#: The P wave's slopes end at least this long (s) before the QRS onset (the PR segment), so a
#: QRS slope that begins a little before the detected onset is not paired with the P wave's.
PR_SEGMENT_S = 0.02


@dataclass(frozen=True)
class DelineationSettings:
    """The delineator's thresholds. ``FeatureDBConfig`` carries them; the defaults there were
    chosen on the QT Database development set by leave-one-record-out selection
    (:mod:`ecgbench_featuredb.selection`).

    xi_qrs_on, xi_qrs_off, xi_t_off, xi_p_on
        boundary thresholds ξ: fraction of the bounding modulus maximum at which the walk away
        from the wave stops (Martínez et al. 2004 published 0.05, 0.125, 0.4, 0.5).
    qrs_significant, qrs_gap_s
        a slope belongs to the QRS when it reaches this fraction of the steepest and lies within
        this long (s) of the QRS's next slope.
    t_window_s
        the T wave's slopes lie within this long (s) after the R-peak (and 0.7 RR).
    biphasic_ratio
        a third slope of alternating sign at least this fraction of the wave's steepest
        widens the T or P wave (biphasic waves).
    p_min_amplitude_mv, t_min_amplitude_mv, min_snr, p_dominance, p_max_duration_ms
        when a P or T wave counts as found (see the module docstring).
    """

    xi_qrs_on: float
    xi_qrs_off: float
    xi_t_off: float
    xi_p_on: float
    qrs_significant: float
    qrs_gap_s: float
    t_window_s: float
    biphasic_ratio: float
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


def _qrs_bounds(detail: np.ndarray, r: int, fs: float, settings: DelineationSettings) -> tuple[float, float]:
    """QRS onset and offset: the chain of significant slopes around the R-peak, then ξ rules.

    The chain starts at the steepest slope on each side of R and grows outward, one
    significant modulus maximum at a time, while the next lies no more than ``qrs_gap_s`` from
    the last. A maximum is significant when it reaches ``qrs_significant`` of the steepest
    slope and QRS_NOISE_FACTOR times the median modulus outside the QRS (the noise left in the
    average beat); weaker maxima in between are passed over. Either sign counts: a slurred
    upstroke or a notch is a second slope of the same sign, and it belongs to the QRS. The
    slopes of a P or T wave lie further away or are weaker, so they do not widen the QRS.
    """
    modulus = np.abs(detail)
    lo = max(r - round(QRS_BEFORE_S * fs), 1)
    hi = min(r + round(QRS_AFTER_S * fs), len(detail) - 1)
    up = lo + int(np.argmax(modulus[lo:r]))
    down = r + 1 + int(np.argmax(modulus[r + 1 : hi]))
    outside = np.concatenate((modulus[:lo], modulus[hi:]))
    noise = float(np.median(outside)) if len(outside) else 0.0
    floor = max(settings.qrs_significant * max(modulus[up], modulus[down]), QRS_NOISE_FACTOR * noise)
    ext = _extrema(modulus, lo, hi, floor)
    gap = round(settings.qrs_gap_s * fs)
    first = _chain_end(ext[ext < up][::-1], up, gap)
    last = _chain_end(ext[ext > down], down, gap)
    onset = _boundary(modulus, first, max(first - round(0.1 * fs), 1), settings.xi_qrs_on * modulus[first])
    offset = _boundary(
        modulus, last, min(last + round(0.1 * fs), len(detail) - 2), settings.xi_qrs_off * modulus[last]
    )
    return onset, offset


def _chain_end(candidates: np.ndarray, start: int, gap: int) -> int:
    """Follow the significant maxima ``candidates`` (ordered away from ``start``) while each lies
    within ``gap`` samples of the previous one; return the last one reached."""
    current = start
    for k in candidates:
        if abs(int(k) - current) > gap:
            break
        current = int(k)
    return current


@dataclass(frozen=True)
class _Wave:
    """Boundaries and peak (samples); ``last``: the wave's last slope (modulus maximum)."""

    on: float
    peak: float
    off: float
    last: int = -1


@dataclass(frozen=True)
class _Search:
    """Where and how to look for one wave (P or T) in the QRS-free beat (indices into the beat).

    lo, hi              window of the wave's slopes (modulus maxima)
    xi_on, xi_off       boundary thresholds (fractions of the bounding maximum)
    on_limit, off_limit how far the onset / offset walk may go
    min_amplitude_mv    height floor
    steepest            T rule (the wave of the steepest slope) instead of the P rule (highest wave)
    dominance           0, or how many times higher than any rival the wave must be
    biphasic_ratio      see DelineationSettings
    """

    lo: int
    hi: int
    xi_on: float
    xi_off: float
    on_limit: int
    off_limit: int
    min_amplitude_mv: float
    steepest: bool
    dominance: float
    biphasic_ratio: float


def _wave(beat: AverageBeat, detail: np.ndarray, search: _Search, min_snr: float,
          level: float | None = None) -> _Wave | None:
    """The wave in [lo, hi), or None when none stands out or a boundary is not reached.

    Candidates are the adjacent pairs of opposite-sign modulus maxima; a candidate's peak is
    their zero crossing and its height the distance of the beat at the peak from ``level`` (the
    isoelectric level) or, without one, from the straight line joining the beat at the
    candidate's onset and offset. Candidates lower than the amplitude floor or
    ``min_snr`` standard errors of the average beat at the peak are dropped. For P the highest
    candidate wins (FeatureDB's rule) and must be ``search.dominance`` times as high as any
    other in the window. For T the steepest slope of the window that bounds a candidate anchors
    the wave: of the two candidates it bounds (the wave it rises or falls into, the wave it leaves), the one further
    from the isoelectric level wins. An ST-segment deviation or a U wave has gentler slopes
    than the T wave, so neither displaces it, while an inverted T, whose first slope may begin
    inside the QRS, is found by its steep return. A third maximum of alternating sign, close and
    at least ``search.biphasic_ratio`` of the wave's steepest, widens a biphasic wave.
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
    if search.steepest:
        # The T wave holds the steepest slope of its window; of the two waves that slope can
        # bound (the one it rises or falls into, the one it leaves), the T wave is the one
        # further from the isoelectric level. An ST deviation or a U wave has gentler slopes.
        paired = sorted({j for c in candidates for j in (c[0], c[0] + 1)})
        anchor = max(paired, key=lambda j: modulus[ext[j]])
        around = [c for c in candidates if c[0] in (anchor - 1, anchor)]
        chosen = max(around, key=lambda c: c[2])
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
                and modulus[ext[j]] >= search.biphasic_ratio * strongest and abs(ext[j] - ext[neighbour]) <= gap)

    first = int(ext[best - 1]) if widens(best - 1, best) else a
    last = int(ext[best + 2]) if first == a and widens(best + 2, best + 1) else b
    onset, offset = _bounds(modulus, first, last, search)
    return _Wave(onset, chosen[3], offset, last)


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


def delineate(beat: AverageBeat, settings: DelineationSettings) -> Fiducials:
    """P, QRS and T boundaries of an average beat (samples of ``beat.wave``; NaN = not found)."""
    fs, r, wave = beat.fs, beat.r, beat.wave
    qrs_level, p_level, t_level = level_for(QRS_SCALE_HZ, fs), level_for(P_SCALE_HZ, fs), level_for(T_SCALE_HZ, fs)
    qrs_detail = atrous_details(wave, qrs_level)[qrs_level - 1]
    qrs_on, qrs_off = _qrs_bounds(qrs_detail, r, fs, settings)
    if np.isnan(qrs_on) or np.isnan(qrs_off):
        return Fiducials(*([_NAN] * 8))
    on, off = int(qrs_on), int(qrs_off)

    flat = wave.copy()
    flat[on : off + 1] = np.linspace(wave[on], wave[off], off - on + 1)
    details = atrous_details(flat, max(p_level, t_level))
    p_detail, t_detail = details[p_level - 1], details[t_level - 1]
    last = len(wave) - 2
    isoelectric = float(wave[max(on - round(ISOELECTRIC_S * fs), 0) : on + 1].mean())

    t_end = r + round(min(T_WINDOW_RR * beat.rr, settings.t_window_s * fs))
    t_search = _Search(
        lo=off, hi=min(t_end, last), xi_on=XI_T_ON, xi_off=settings.xi_t_off, on_limit=off, off_limit=last,
        min_amplitude_mv=settings.t_min_amplitude_mv, steepest=True, dominance=0.0,
        biphasic_ratio=settings.biphasic_ratio,
    )
    t = _wave(beat, t_detail, t_search, settings.min_snr, isoelectric)
    if t is not None and np.isnan(t.off):
        t = None


    # The P wave lies after the previous beat's T wave, which ended one RR before this one's.
    p_lo = 1 if t is None else max(1, int(np.ceil(t.off - beat.rr)))
    p_search = _Search(
        lo=p_lo, hi=on - round(PR_SEGMENT_S * fs), xi_on=settings.xi_p_on, xi_off=XI_P_OFF,
        on_limit=p_lo, off_limit=on, min_amplitude_mv=settings.p_min_amplitude_mv,
        steepest=False, dominance=settings.p_dominance, biphasic_ratio=settings.biphasic_ratio,
    )
    p = _wave(beat, p_detail, p_search, settings.min_snr)
    if p is not None and (
        np.isnan(p.on) or np.isnan(p.off) or beat.ms(p.off - p.on) > settings.p_max_duration_ms
    ):
        p = None

    p = p or _Wave(_NAN, _NAN, _NAN)
    t = t or _Wave(_NAN, _NAN, _NAN)
    return Fiducials(p.on, p.peak, p.off, qrs_on, qrs_off, t.on, t.peak, t.off)
