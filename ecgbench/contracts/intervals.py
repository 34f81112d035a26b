"""Contract of the ``measure-intervals`` task: PR, QRS, QT, QTc and heart rate per record.

A measurer sees the signals only (``float32[n, 12, T]`` in mV; a lead the source lacks is
all-NaN) and returns one value per record and interval. NaN means the measurer abstains for
that record, which the evaluator counts separately instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ecgbench.contracts.checks import check_array, require
from ecgbench.data.leads import LEAD_PREFERENCE, standard_lead
from ecgbench.errors import ConfigError, DataError

INTERVALS: tuple[str, ...] = ("pr", "qrs", "qt", "qtc", "hr")
QTC_FORMULAS: tuple[str, ...] = ("bazett", "fridericia", "framingham")
#: Values outside these ranges (ms; bpm for hr) are unit errors, not measurements.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "pr": (0.0, 1000.0),
    "qrs": (0.0, 500.0),
    "qt": (0.0, 1200.0),
    "qtc": (0.0, 1500.0),
    "hr": (10.0, 400.0),
}


def qtc(qt_ms: np.ndarray, rr_ms: np.ndarray, formula: str = "bazett") -> np.ndarray:
    """Heart-rate corrected QT in ms from QT and RR in ms (RR in seconds inside the formula).

    bazett      QT / sqrt(RR[s])
    fridericia  QT / RR[s]^(1/3)
    framingham  QT + 154 ms * (1 - RR[s])   (Sagie et al. 1992; ECGdeli's default)
    """
    qt = np.asarray(qt_ms, dtype=np.float64)
    rr_s = np.asarray(rr_ms, dtype=np.float64) / 1000.0
    with np.errstate(invalid="ignore", divide="ignore"):
        if formula == "bazett":
            return qt / np.sqrt(rr_s)
        if formula == "fridericia":
            return qt / np.cbrt(rr_s)
        if formula == "framingham":
            return qt + 154.0 * (1.0 - rr_s)
    raise ConfigError(f"unknown QTc formula {formula!r}; choose one of {', '.join(QTC_FORMULAS)}")


@dataclass(frozen=True)
class IntervalMeasurements:
    """float64[n] per interval: PR, QRS, QT, QTc in ms, HR in bpm; NaN = abstain.

    ``qtc_formula`` names how ``qtc`` was corrected; the evaluator corrects the reference QT with
    the same formula so the two are comparable.
    """

    pr: np.ndarray
    qrs: np.ndarray
    qt: np.ndarray
    qtc: np.ndarray
    hr: np.ndarray
    qtc_formula: str = "bazett"

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in INTERVALS}


@runtime_checkable
class IntervalMeasurer(Protocol):
    """What a ``measure-intervals`` model implements. A ``fit(train)`` method is optional: the
    harness calls it when present (for measurers that learn)."""

    def measure(self, signals: np.ndarray, fs: float) -> IntervalMeasurements: ...


def check_measurements(m: object, *, n: int, model: str) -> IntervalMeasurements:
    """Validate ``measure`` output against every clause of the contract."""
    require(
        isinstance(m, IntervalMeasurements),
        model,
        "measure() returns IntervalMeasurements",
        f"got {type(m).__name__}",
    )
    assert isinstance(m, IntervalMeasurements)
    require(
        m.qtc_formula in QTC_FORMULAS,
        model,
        f"qtc_formula is one of {QTC_FORMULAS}",
        f"got {m.qtc_formula!r}",
    )
    for name in INTERVALS:
        values = check_array(
            getattr(m, name), model=model, what=f"measurements.{name}", shape=(n,), dtype=np.float64,
            allow_nan=True,
        )
        lo, hi = PLAUSIBLE[name]
        finite = values[np.isfinite(values)]
        if finite.size:
            require(
                finite.min() >= lo and finite.max() <= hi,
                model,
                f"{name} lies in [{lo:g}, {hi:g}] ({'bpm' if name == 'hr' else 'ms'})",
                f"range [{finite.min():.4g}, {finite.max():.4g}]",
            )
    return m


class SingleLeadConfig(BaseModel):
    """Settings every single-lead measurer shares (subclass it for a model's own settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lead: str = Field(
        default="II",
        description="The lead to measure. When a record lacks it (not all samples finite), the first "
        f"usable lead of {', '.join(LEAD_PREFERENCE)} is used instead.",
    )
    qtc_formula: Literal["bazett", "fridericia", "framingham"] = Field(
        default="bazett", description="Heart-rate correction of QT: bazett (default), fridericia or framingham."
    )

    @field_validator("lead")
    @classmethod
    def _standard_lead(cls, value: str) -> str:
        return standard_lead(value)


def check_measurer_input(signals: object, fs: float, *, model: str, min_fs: float = 100.0) -> None:
    """What a measurer may assume: ``float[n, 12, T]`` in mV at ``fs >= min_fs`` Hz."""
    if not isinstance(signals, np.ndarray) or signals.ndim != 3 or signals.shape[1] != 12:
        raise DataError(f"{model}: signals must be a float array [n, 12, T] in mV, got shape {getattr(signals, 'shape', None)}")
    if not fs >= min_fs:
        raise DataError(f"{model}: sampling rate {fs} Hz is below the {min_fs:g} Hz it needs")
