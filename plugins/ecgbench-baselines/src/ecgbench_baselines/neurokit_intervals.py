"""``neurokit-dwt``: PR, QRS, QT, QTc and HR from one lead with NeuroKit2's delineator.

A comparator for the interval measurers, built from NeuroKit2 defaults only: ``ecg_clean``
(method "neurokit": 0.5 Hz high-pass, mains filter), ``ecg_peaks`` (gradient method) and
``ecg_delineate(method="dwt")``, the discrete-wavelet delineator after Martínez et al. (IEEE
TBME 51:570, 2004). Per beat, PR = QRS onset − P onset, QRS = QRS offset − QRS onset and
QT = T offset − QRS onset (NeuroKit2 names the QRS on/offsets ``ECG_R_Onsets``/``ECG_R_Offsets``);
a record's value is the median over its beats. A beat whose boundaries come in the wrong order
gives no value for that interval, and a record with no beat left abstains (NaN). A record
median outside the physiological ranges (``PHYSIOLOGICAL`` of the contract; NeuroKit2 has
returned a QRS of 564 ms on QT Database records) is an abstention too, counted in the run
record (``neurokit_implausible_values``), so one mistaken wave never fails the run. The
per-beat boundaries are returned as beat fiducials.

Lead: ``lead`` (default II); when a record lacks it (all-NaN), the first usable lead of
II, I, aVF, III, V5, V6, V4, V3, V2, V1, aVL, aVR.
"""

from __future__ import annotations

import warnings

import numpy as np
from pydantic import Field

from ecgbench.context import RunContext
from ecgbench.contracts.intervals import (
    BeatFiducials,
    IntervalMeasurements,
    SingleLeadConfig,
    abstain_implausible,
    beat_fiducials_from_samples,
    check_measurer_input,
    qtc,
)
from ecgbench.data.leads import choose_leads

MIN_FS = 100.0
#: NeuroKit2's names of the scored boundaries.
WAVE_COLUMNS = {"p_on": "ECG_P_Onsets", "qrs_on": "ECG_R_Onsets", "qrs_off": "ECG_R_Offsets", "t_off": "ECG_T_Offsets"}


class NeurokitConfig(SingleLeadConfig):
    """Settings of the ``neurokit-dwt`` measurer."""

    powerline_hz: int = Field(default=50, description="Mains frequency removed by nk.ecg_clean (50 or 60).")


class NeurokitDWT:
    """The ``neurokit-dwt`` measurer of the ``measure-intervals`` task."""

    def __init__(self, config: NeurokitConfig | None = None, ctx: RunContext | None = None):
        self.config = config or NeurokitConfig()
        self.ctx = ctx
        self.failures: list[tuple[int, str]] = []
        self.implausible: dict[str, int] = {}

    def measure(self, signals: np.ndarray, fs: float) -> IntervalMeasurements:
        """signals float[n, 12, T] in mV (missing lead = all-NaN) at ``fs`` Hz -> float64[n] each."""
        check_measurer_input(signals, fs, model="neurokit-dwt", min_fs=MIN_FS)
        n = signals.shape[0]
        leads = choose_leads(signals, self.config.lead)
        values = np.full((4, n), np.nan)
        self.failures = []
        beats: list[BeatFiducials] = []
        rows = range(n) if self.ctx is None else self.ctx.progress(range(n), desc="neurokit-dwt", total=n)
        for i in rows:
            if leads[i] < 0:
                continue
            try:
                values[:, i], waves = self._record(signals[i, leads[i]].astype(np.float64), fs)
            except (ValueError, IndexError, ZeroDivisionError) as exc:
                # NeuroKit2's failure modes on a record, seen on phantom records: epochs of NaN
                # length (ValueError), no beat to list (ZeroDivisionError), a wave window outside
                # the signal (IndexError). The record is abstained on and the failure kept.
                self.failures.append((int(i), f"{type(exc).__name__}: {exc}"))
                continue
            if waves:
                beats.append(beat_fiducials_from_samples(int(i), waves["r"], waves, fs, signals.shape[-1]))
        rr, pr, qrs, qt = values
        plausible, self.implausible = abstain_implausible({"pr": pr, "qrs": qrs, "qt": qt, "rr": rr})
        if self.ctx is not None:
            self.ctx.note("neurokit_failed_records", len(self.failures))
            self.ctx.note("neurokit_implausible_values", self.implausible)
        rr, pr, qrs, qt = (plausible[k] for k in ("rr", "pr", "qrs", "qt"))
        with np.errstate(divide="ignore", invalid="ignore"):
            hr = np.where(rr > 0, 60_000.0 / rr, np.nan)
        return IntervalMeasurements(
            pr=pr, qrs=qrs, qt=qt,
            qtc=np.where(np.isfinite(qt) & (rr > 0), qtc(qt, rr, self.config.qtc_formula), np.nan),
            hr=hr, qtc_formula=self.config.qtc_formula, fiducials=BeatFiducials.concatenate(beats),
        )

    def _record(self, x: np.ndarray, fs: float) -> tuple[tuple[float, float, float, float], dict[str, np.ndarray]]:
        """((RR, PR, QRS, QT) in ms, per-beat sample indices: "r" and the scored boundaries) of
        one lead, float64[T] in mV."""
        import neurokit2 as nk

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NeuroKit2 warns on every short or noisy record
            cleaned = nk.ecg_clean(x, sampling_rate=fs, method="neurokit", powerline=self.config.powerline_hz)
            _, info = nk.ecg_peaks(cleaned, sampling_rate=fs, method="neurokit")
            r_peaks = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
            if len(r_peaks) < 2:
                return (np.nan,) * 4, {}
            _, waves = nk.ecg_delineate(cleaned, r_peaks, sampling_rate=fs, method="dwt")
        ms = 1000.0 / fs

        def span(start: str, end: str) -> float:
            a = np.asarray(waves[start], dtype=np.float64)
            b = np.asarray(waves[end], dtype=np.float64)
            d = (b - a) * ms
            d = d[np.isfinite(d) & (d > 0)]
            return float(np.median(d)) if len(d) else np.nan

        rr = float(np.median(np.diff(r_peaks))) * ms
        medians = (rr, span("ECG_P_Onsets", "ECG_R_Onsets"), span("ECG_R_Onsets", "ECG_R_Offsets"),
                   span("ECG_R_Onsets", "ECG_T_Offsets"))
        per_beat = {name: np.asarray(waves[column], dtype=np.float64) for name, column in WAVE_COLUMNS.items()}
        per_beat["r"] = r_peaks.astype(np.float64)
        return medians, per_beat


def create(config: NeurokitConfig, ctx: RunContext) -> NeurokitDWT:
    """Factory named by the ``neurokit-dwt`` ModelSpec."""
    return NeurokitDWT(config, ctx)
