"""ECGdeli (KIT-IBT; Pilia et al., SoftwareX 13:100639, 2021) as a ``measure-intervals`` model.

Uses the Python port ``ecgdeli`` (GPL-3.0-or-later), installed only with the optional extra
``ecgbench-featuredb[ecgdeli]``. Per record: ECGdeli's filter chain (band-pass 1–40 Hz, mains
notch, isoline correction), its annotation, then the medians over beats of

- PR  = ECGdeli's PQ, QRS onset − P onset. ECGdeli's own "PR" runs from P onset to the R peak
  and is not the clinical PR interval;
- QRS = QRS offset − QRS onset;  QT = T offset − QRS onset;  RR = R-to-R;

all converted with the true sampling rate (the MATLAB feature extractor's hard-coded ×2 ms per
sample assumes 500 Hz). QTc uses the configured formula (ECGdeli's own is Framingham). Its
per-beat P onset, QRS onset, QRS offset and T offset are returned as beat fiducials. A record
median outside the physiological ranges (``PHYSIOLOGICAL``: a QRS of 564 ms is a mistaken wave,
not a measurement) is an abstention, counted in ``ecgdeli_implausible_values``.
"""

from __future__ import annotations

import warnings
from types import ModuleType

import numpy as np

from ecgbench.context import RunContext
from ecgbench.contracts.intervals import (
    BeatFiducials,
    IntervalMeasurements,
    abstain_implausible,
    beat_fiducials_from_samples,
    check_measurer_input,
)
from ecgbench.data.leads import choose_leads, usable_leads
from ecgbench.errors import ConfigError
from ecgbench_featuredb.config import ECGdeliConfig
from ecgbench_featuredb.measurements import assemble, nan_array

MIN_FS = 100.0
INSTALL_HINT = "pip install 'ecgbench-featuredb[ecgdeli]'"


def import_ecgdeli() -> ModuleType:
    """The ``ecgdeli`` package, or a ConfigError that names the extra to install."""
    try:
        import ecgdeli
    except ImportError as exc:
        raise ConfigError(
            "model 'ecgdeli' needs the optional package ecgdeli (GPL-3.0-or-later), which is not "
            f"installed; install it with: {INSTALL_HINT}"
        ) from exc
    return ecgdeli


class ECGdeli:
    """The ``ecgdeli`` measurer of the ``measure-intervals`` task."""

    def __init__(self, config: ECGdeliConfig | None = None, ctx: RunContext | None = None):
        self.config = config or ECGdeliConfig()
        self.ctx = ctx
        self._ecgdeli = import_ecgdeli()
        self.failures: list[tuple[int, str]] = []
        self.implausible: dict[str, int] = {}

    def measure(self, signals: np.ndarray, fs: float) -> IntervalMeasurements:
        """signals float[n, 12, T] in mV (missing lead = all-NaN) at ``fs`` Hz -> float64[n] each."""
        check_measurer_input(signals, fs, model="ecgdeli", min_fs=MIN_FS)
        n = signals.shape[0]
        usable = usable_leads(signals)
        chosen = choose_leads(signals, self.config.lead)
        pr, qrs, qt, rr = nan_array(n), nan_array(n), nan_array(n), nan_array(n)
        self.failures = []
        beats: list[BeatFiducials] = []
        rows = range(n) if self.ctx is None else self.ctx.progress(range(n), desc="ecgdeli", total=n)
        for i in rows:
            if chosen[i] < 0:
                continue
            leads = np.flatnonzero(usable[i]) if self.config.leads == "all" else [chosen[i]]
            try:
                (rr[i], pr[i], qrs[i], qt[i]), table = self._record(signals[i, leads].astype(np.float64).T, fs)
            except (self._ecgdeli.MatlabError, IndexError, ValueError) as exc:
                # ECGdeli's failure modes on a record: its replicated MATLAB throws (MatlabError,
                # an IndexError too), and scipy's ValueError on records too short to filter.
                # The record is abstained on and the failure kept.
                self.failures.append((int(i), f"{type(exc).__name__}: {exc}"))
                continue
            beats.append(_beat_fiducials(table, int(i), fs, signals.shape[-1]))
        values, self.implausible = abstain_implausible({"pr": pr, "qrs": qrs, "qt": qt, "rr": rr})
        if self.ctx is not None:
            self.ctx.note("ecgdeli_failed_records", len(self.failures))
            self.ctx.note("ecgdeli_implausible_values", self.implausible)
        return assemble(values["pr"], values["qrs"], values["qt"], values["rr"], self.config.qtc_formula,
                        fiducials=BeatFiducials.concatenate(beats))

    def _record(self, x: np.ndarray, fs: float) -> tuple[tuple[float, float, float, float], object]:
        """((RR, PR, QRS, QT) in ms, ECGdeli's fiducial point table) of one record, x
        float64[T, leads] in mV."""
        deli = self._ecgdeli
        notch = self.config.powerline_hz
        if notch is not None and not notch < 0.5 * fs - 1.0:
            notch = None
        with deli.fidelity(self.config.fidelity), warnings.catch_warnings():
            # "too few QRS complexes" and the like: the record then simply yields no interval.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"ecgdeli\.")
            filtered = deli.filter_ecg(x, fs, notch=notch)
            annotation = deli.annotate(filtered, fs)
        table = annotation.consensus if x.shape[1] > 1 else annotation.leads[0]
        intervals = table.intervals(fs)
        medians = (
            _median(intervals.rr),
            _median(intervals.pq),
            _median(intervals.qrs_duration),
            _median(intervals.qt),
        )
        return medians, table


def _beat_fiducials(table, record: int, fs: float, n_samples: int) -> BeatFiducials:
    """ECGdeli's per-beat P on, QRS on, QRS off and T off (its FPT, 0-based samples)."""
    from ecgdeli.fpt import Wave

    samples = table.samples
    columns = {"p_on": Wave.P_ON, "qrs_on": Wave.QRS_ON, "qrs_off": Wave.QRS_OFF, "t_off": Wave.T_OFF}
    return beat_fiducials_from_samples(record, samples[:, Wave.R_PEAK],
                                       {name: samples[:, column] for name, column in columns.items()},
                                       fs, n_samples)


def _median(values: np.ndarray) -> float:
    """Median over beats ignoring NaN; NaN when no beat has the interval."""
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).any():
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmedian(values))


def create(config: ECGdeliConfig, ctx: RunContext) -> ECGdeli:
    """Factory named by the ``ecgdeli`` ModelSpec; raises ConfigError when the extra is missing."""
    return ECGdeli(config, ctx)
