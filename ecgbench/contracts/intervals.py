"""Contract of the ``measure-intervals`` task: PR, QRS, QT, QTc and heart rate per record.

A measurer sees the signals only (``float32[n, 12, T]`` in mV; a lead the source lacks is
all-NaN) and returns one value per record and interval. NaN means the measurer abstains for
that record, which the evaluator counts separately instead of guessing.

Optionally it also returns the wave boundaries it found, beat by beat (:class:`BeatFiducials`),
so that the evaluator can score P onset, QRS onset, QRS offset and T offset against beat-level
reference marks. A measurer that returns none is scored on the intervals alone.
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
#: Wave boundaries a measurer may return per beat (:class:`BeatFiducials`).
FIDUCIAL_NAMES: tuple[str, ...] = ("p_on", "qrs_on", "qrs_off", "t_off")
#: Values outside these ranges (ms; bpm for hr) are unit errors, not measurements.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "pr": (0.0, 1000.0),
    "qrs": (0.0, 500.0),
    "qt": (0.0, 1200.0),
    "qtc": (0.0, 1500.0),
    "hr": (10.0, 400.0),
}


#: Values outside these ranges (ms; bpm for hr) are not physiological: a delineator that
#: produces one has mistaken a wave, and a wrapper turns it into an abstention
#: (:func:`abstain_implausible`) instead of reporting it. Adult and paediatric extremes with a
#: margin: PR 50-500 ms (first-degree AV block rarely exceeds 400 ms), QRS 40-250 ms, QT
#: 200-750 ms, heart rate 20-300 bpm (RR 200-3000 ms).
PHYSIOLOGICAL: dict[str, tuple[float, float]] = {
    "pr": (50.0, 500.0),
    "qrs": (40.0, 250.0),
    "qt": (200.0, 750.0),
    "hr": (20.0, 300.0),
    "rr": (200.0, 3000.0),
}


def abstain_implausible(values: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Copies of ``values`` (``float64[n]`` per interval name) with every value outside
    :data:`PHYSIOLOGICAL` replaced by NaN, and the count replaced per interval.

    For measurer wrappers: a value no heart produces is a delineation failure, which the
    evaluator should count as an abstention rather than score (or reject the run over)."""
    out: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for name, array in values.items():
        x = np.array(array, dtype=np.float64)
        if name in PHYSIOLOGICAL:
            lo, hi = PHYSIOLOGICAL[name]
            with np.errstate(invalid="ignore"):
                bad = np.isfinite(x) & ((x < lo) | (x > hi))
            x[bad] = np.nan
            counts[name] = int(bad.sum())
        out[name] = x
    return out, counts


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
class BeatFiducials:
    """Wave boundaries of the beats a measurer found, one row per beat.

    record      int64[m]: the record (row of the measured batch) the beat belongs to.
    r           float64[m]: the beat's time (its R peak or main QRS deflection) in seconds from
                the start of the record; the evaluator matches beats to reference beats by it.
    p_on, qrs_on, qrs_off, t_off
                float64[m]: boundaries in seconds from the start of the record; NaN = abstain
                for that boundary of that beat.

    A measurer that delineates one average beat per record reports the average beat's
    boundaries at each beat it averaged (its R-peak plus the boundary's offset from the average
    beat's R-peak): that is where it places them.
    """

    record: np.ndarray
    r: np.ndarray
    p_on: np.ndarray
    qrs_on: np.ndarray
    qrs_off: np.ndarray
    t_off: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """The boundaries by name (:data:`FIDUCIAL_NAMES`)."""
        return {name: getattr(self, name) for name in FIDUCIAL_NAMES}

    @classmethod
    def empty(cls) -> BeatFiducials:
        """No beat at all (every record abstains on every boundary)."""
        return cls(np.zeros(0, np.int64), *(np.zeros(0) for _ in range(5)))

    @classmethod
    def concatenate(cls, parts: list[BeatFiducials]) -> BeatFiducials:
        """One table of the rows of ``parts``, in order."""
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.record for p in parts]).astype(np.int64),
            *(np.concatenate([getattr(p, k) for p in parts]).astype(np.float64) for k in ("r", *FIDUCIAL_NAMES)),
        )


def beat_fiducials_from_samples(
    record: int, r: np.ndarray, bounds: dict[str, np.ndarray], fs: float, n_samples: int
) -> BeatFiducials:
    """BeatFiducials of one record from a delineator's per-beat sample indices at ``fs``.

    r       float[m], the beats' QRS sample indices; beats without one are left out.
    bounds  float[m] per name of :data:`FIDUCIAL_NAMES` (NaN or missing = not found).

    What a delineator gets wrong becomes an abstention for that boundary, never a contract
    violation: an index outside the record, or a boundary earlier than the one before it
    (P onset, QRS onset, QRS offset, T offset, in that order), is NaN.
    """
    r = np.asarray(r, dtype=np.float64)
    keep = np.isfinite(r) & (r >= 0) & (r <= n_samples - 1)
    times: dict[str, np.ndarray] = {}
    previous = np.full(int(keep.sum()), -np.inf)
    for name in FIDUCIAL_NAMES:
        values = np.asarray(bounds.get(name, np.full(len(r), np.nan)), dtype=np.float64)[keep]
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(values) | (values < 0) | (values > n_samples - 1) | (values < previous)
        values = np.where(bad, np.nan, values)
        previous = np.where(np.isfinite(values), values, previous)
        times[name] = values / fs
    return BeatFiducials(np.full(int(keep.sum()), record, dtype=np.int64), r[keep] / fs, **times)


@dataclass(frozen=True)
class IntervalMeasurements:
    """float64[n] per interval: PR, QRS, QT, QTc in ms, HR in bpm; NaN = abstain.

    ``qtc_formula`` names how ``qtc`` was corrected; the evaluator corrects the reference QT with
    the same formula so the two are comparable. ``fiducials`` (optional) are the beat-level wave
    boundaries behind the values; None when the measurer does not report them.
    """

    pr: np.ndarray
    qrs: np.ndarray
    qt: np.ndarray
    qtc: np.ndarray
    hr: np.ndarray
    qtc_formula: str = "bazett"
    fiducials: BeatFiducials | None = None

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in INTERVALS}


@runtime_checkable
class IntervalMeasurer(Protocol):
    """What a ``measure-intervals`` model implements. A ``fit(train)`` method is optional: the
    harness calls it when present (for measurers that learn)."""

    def measure(self, signals: np.ndarray, fs: float) -> IntervalMeasurements: ...


def check_measurements(
    m: object, *, n: int, model: str, duration_s: float | None = None
) -> IntervalMeasurements:
    """Validate ``measure`` output against every clause of the contract (``duration_s``: the
    records' length, which bounds the fiducial times when given)."""
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
    if m.fiducials is not None:
        check_fiducials(m.fiducials, n=n, model=model, duration_s=duration_s)
    return m


def check_fiducials(f: object, *, n: int, model: str, duration_s: float | None = None) -> BeatFiducials:
    """Validate the optional beat fiducials: one row per beat, in a record of the batch, times
    in seconds inside the record, boundaries in the order P on <= QRS on <= QRS off <= T off."""
    require(isinstance(f, BeatFiducials), model, "fiducials is BeatFiducials or None", f"got {type(f).__name__}")
    assert isinstance(f, BeatFiducials)
    require(isinstance(f.record, np.ndarray) and f.record.ndim == 1, model, "fiducials.record is int64[m]",
            f"got {type(f.record).__name__} of shape {getattr(f.record, 'shape', None)}")
    m = f.record.shape[0]
    record = check_array(f.record, model=model, what="fiducials.record", shape=(m,), dtype=np.int64)
    if m:
        require(record.min() >= 0 and record.max() < n, model, f"fiducials.record lies in [0, {n})",
                f"range [{record.min()}, {record.max()}]")
    times = {"r": check_array(f.r, model=model, what="fiducials.r", shape=(m,), dtype=np.float64)}
    for name in FIDUCIAL_NAMES:
        times[name] = check_array(getattr(f, name), model=model, what=f"fiducials.{name}", shape=(m,),
                                  dtype=np.float64, allow_nan=True)
    for name, values in times.items():
        finite = values[np.isfinite(values)]
        if finite.size and duration_s is not None:
            require(finite.min() >= 0.0 and finite.max() <= duration_s, model,
                    f"fiducials.{name} are seconds inside the record [0, {duration_s:g}]",
                    f"range [{finite.min():.4g}, {finite.max():.4g}]")
    for earlier, later in zip(FIDUCIAL_NAMES[:-1], FIDUCIAL_NAMES[1:], strict=True):
        a, b = times[earlier], times[later]
        with np.errstate(invalid="ignore"):
            wrong = np.isfinite(a) & np.isfinite(b) & (a > b)
        if wrong.any():
            require(False, model, f"fiducials.{earlier} <= fiducials.{later}",
                    f"{int(wrong.sum())} beats in the wrong order, first at row {int(np.argmax(wrong))}")
    return f


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
