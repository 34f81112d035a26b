"""Per-record interval values -> the contract's :class:`IntervalMeasurements`."""

from __future__ import annotations

import numpy as np

from ecgbench.contracts.intervals import BeatFiducials, IntervalMeasurements, qtc


def nan_array(n: int) -> np.ndarray:
    """float64[n] of NaN: every record abstains until measured."""
    return np.full(n, np.nan)


def assemble(pr: np.ndarray, qrs: np.ndarray, qt: np.ndarray, rr: np.ndarray, formula: str,
             fiducials: BeatFiducials | None = None) -> IntervalMeasurements:
    """IntervalMeasurements from float64[n] PR, QRS, QT and RR in ms (NaN = abstain), with the
    beat fiducials behind them when the measurer reports them.

    QTc is QT corrected by ``formula`` with the record's RR; HR is 60 000 / RR.
    """
    rr = np.asarray(rr, dtype=np.float64)
    qt = np.asarray(qt, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        hr = np.where(rr > 0, 60_000.0 / rr, np.nan)
    return IntervalMeasurements(
        pr=np.asarray(pr, dtype=np.float64),
        qrs=np.asarray(qrs, dtype=np.float64),
        qt=qt,
        qtc=np.where(np.isfinite(qt) & (rr > 0), qtc(qt, rr, formula), np.nan),
        hr=hr,
        qtc_formula=formula,
        fiducials=fiducials,
    )
