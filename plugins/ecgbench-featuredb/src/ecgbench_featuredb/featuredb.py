"""FeatureDB (arXiv 2502.17499): PR, QRS, QT, QTc and HR from one lead via its average beat.

Pipeline per record: resample to ~500 Hz; notch the mains; band-pass 3–40 Hz for R-peak
detection and 0.75–35 Hz for the beat; R-peaks by the gradient method; average of the complete
beats; à-trous wavelet delineation of the average beat. Then PR = QRS onset − P onset,
QRS = QRS offset − QRS onset, QT = T offset − QRS onset (not from the QRS offset, as the public
code does), RR = the median R-R distance in ms (not in samples), QTc from QT and that RR. A
value outside the physiological ranges of the contract is an abstention (counted in
``featuredb_implausible_values``). The average beat's boundaries, placed at every beat like
the averaged ones, are returned as beat fiducials.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ecgbench.context import RunContext
from ecgbench.contracts.intervals import (
    FIDUCIAL_NAMES,
    BeatFiducials,
    IntervalMeasurements,
    abstain_implausible,
    check_measurer_input,
)
from ecgbench.data.leads import LEAD_INDEX, choose_leads, usable_leads
from ecgbench_featuredb.average_beat import AverageBeat, average_beat
from ecgbench_featuredb.config import FeatureDBConfig
from ecgbench_featuredb.delineation import Fiducials, delineate
from ecgbench_featuredb.measurements import assemble, nan_array
from ecgbench_featuredb.preprocess import bandpass, notch, powerline_applies, to_working_rate
from ecgbench_featuredb.rpeaks import detect_r_peaks

MIN_FS = 100.0
#: Records shorter than this (s) hold too few beats to average: every interval is NaN.
MIN_DURATION_S = 1.0
#: Records filtered together in one vectorised call (bounds memory: 256 x 5000 float64 = 10 MB).
CHUNK = 256
DETECT_BAND_HZ = (3.0, 40.0)
BEAT_BAND_HZ = (0.75, 35.0)


@dataclass(frozen=True)
class LeadAnalysis:
    """What FeatureDB found in one lead: R-peaks (samples at ``fs``), the average beat and its
    fiducials (samples of the beat), or None where it found too few beats."""

    fs: float
    r_peaks: np.ndarray
    beat: AverageBeat | None
    fiducials: Fiducials | None


class FeatureDB:
    """The ``featuredb`` measurer of the ``measure-intervals`` task."""

    def __init__(self, config: FeatureDBConfig | None = None, ctx: RunContext | None = None):
        self.config = config or FeatureDBConfig()
        self.ctx = ctx
        self._settings = self.config.delineation()

    def measure(self, signals: np.ndarray, fs: float) -> IntervalMeasurements:
        """signals float[n, 12, T] in mV (missing lead = all-NaN) at ``fs`` Hz -> float64[n] each."""
        check_measurer_input(signals, fs, model="featuredb", min_fs=MIN_FS)
        n = signals.shape[0]
        usable = usable_leads(signals)
        leads = choose_leads(signals, self.config.lead)
        self._note_fallbacks(usable, leads)
        pr, qrs, qt, rr = nan_array(n), nan_array(n), nan_array(n), nan_array(n)
        if signals.shape[-1] < MIN_DURATION_S * fs:
            return assemble(pr, qrs, qt, rr, self.config.qtc_formula, fiducials=BeatFiducials.empty())
        measured = np.flatnonzero(leads >= 0)
        analyses = self._analyse_many(signals, leads, measured, fs)
        if self.ctx is not None:
            analyses = self.ctx.progress(analyses, desc="featuredb", total=len(measured))
        beats = []
        for i, analysis in zip(measured, analyses, strict=True):
            rr[i], pr[i], qrs[i], qt[i] = _intervals(analysis)
            beats.append(beat_fiducials(analysis, int(i), signals.shape[-1] / fs))
        values, implausible = abstain_implausible({"pr": pr, "qrs": qrs, "qt": qt, "rr": rr})
        if self.ctx is not None:
            self.ctx.note("featuredb_implausible_values", implausible)
        return assemble(values["pr"], values["qrs"], values["qt"], values["rr"], self.config.qtc_formula,
                        fiducials=BeatFiducials.concatenate(beats))

    def analyse(self, lead: np.ndarray, fs: float) -> LeadAnalysis:
        """Run the pipeline on one lead, float[T] in mV at ``fs`` Hz, keeping the intermediate
        results (R-peaks, average beat, fiducials) for inspection and plots."""
        x = np.asarray(lead, dtype=np.float64)[None, :]
        detect, beat_signal, working_fs = self._filter(x, fs)
        return self._analyse_filtered(detect[0], beat_signal[0], working_fs)

    def _analyse_many(self, signals: np.ndarray, leads: np.ndarray, rows: np.ndarray,
                      fs: float) -> Iterator[LeadAnalysis]:
        """One LeadAnalysis per row, filtering CHUNK records at a time in one vectorised call."""
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            x = signals[chunk, leads[chunk]].astype(np.float64)
            detect, beat_signal, working_fs = self._filter(x, fs)
            for k in range(len(chunk)):
                yield self._analyse_filtered(detect[k], beat_signal[k], working_fs)

    def _filter(self, x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray, float]:
        """float64[m, T] at fs -> (detection signal, beat signal) float64[m, T'] at the working rate."""
        x = x - np.median(x, axis=-1, keepdims=True)
        x, working_fs = to_working_rate(x, fs)
        if powerline_applies(self.config.powerline_hz, fs):
            x = notch(x, working_fs, float(self.config.powerline_hz))
        return bandpass(x, working_fs, *DETECT_BAND_HZ), bandpass(x, working_fs, *BEAT_BAND_HZ), working_fs

    def _analyse_filtered(self, detect: np.ndarray, beat_signal: np.ndarray, fs: float) -> LeadAnalysis:
        r_peaks = detect_r_peaks(detect, beat_signal, fs)
        beat = average_beat(beat_signal, r_peaks, fs, self.config.min_beats)
        fiducials = None if beat is None else delineate(beat, self._settings)
        return LeadAnalysis(fs=fs, r_peaks=r_peaks, beat=beat, fiducials=fiducials)

    def _note_fallbacks(self, usable: np.ndarray, leads: np.ndarray) -> None:
        if self.ctx is None:
            return
        wanted = LEAD_INDEX[self.config.lead]
        self.ctx.note("featuredb_fallback_lead_records", int(np.sum((leads >= 0) & ~usable[:, wanted])))
        self.ctx.note("featuredb_no_lead_records", int(np.sum(leads < 0)))


def _intervals(analysis: LeadAnalysis) -> tuple[float, float, float, float]:
    """(RR, PR, QRS, QT) in ms; NaN where a wave was not found."""
    nan = float("nan")
    peaks = analysis.r_peaks
    rr = 1000.0 * float(np.median(np.diff(peaks))) / analysis.fs if len(peaks) >= 2 else nan
    f, beat = analysis.fiducials, analysis.beat
    if f is None or beat is None:
        return rr, nan, nan, nan
    return rr, beat.ms(f.qrs_on - f.p_on), beat.ms(f.qrs_off - f.qrs_on), beat.ms(f.t_off - f.qrs_on)


def beat_fiducials(analysis: LeadAnalysis, record: int, duration_s: float) -> BeatFiducials:
    """The average beat's boundaries placed at every beat that was averaged (its R-peak plus
    the boundary's offset from the average beat's R-peak), in seconds; a boundary that would
    fall outside the record is NaN."""
    beat, f = analysis.beat, analysis.fiducials
    if beat is None or f is None:
        return BeatFiducials.empty()
    r = beat.peaks / analysis.fs
    bounds = {}
    for name in FIDUCIAL_NAMES:
        t = r + (getattr(f, name) - beat.r) / analysis.fs
        bounds[name] = np.where((t >= 0.0) & (t <= duration_s), t, np.nan)
    return BeatFiducials(np.full(len(r), record, dtype=np.int64), r.astype(np.float64), **bounds)


def create(config: FeatureDBConfig, ctx: RunContext) -> FeatureDB:
    """Factory named by the ``featuredb`` ModelSpec."""
    return FeatureDB(config, ctx)
