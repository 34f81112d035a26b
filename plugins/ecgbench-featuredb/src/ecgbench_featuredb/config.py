"""Configuration of the interval measurers (pydantic; every field documented)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ecgbench.contracts.intervals import SingleLeadConfig

if TYPE_CHECKING:
    from ecgbench_featuredb.delineation import DelineationSettings

QTcFormula = Literal["bazett", "fridericia", "framingham"]


class FeatureDBConfig(SingleLeadConfig):
    """FeatureDB: filtering, R-peaks, average beat, à-trous wavelet delineation of that beat.

    The delineation thresholds (``xi_*``, ``t_window_s``, ``biphasic_ratio`` and the wave-presence
    thresholds, which decide when the measurer abstains instead of guessing) default to the
    values chosen on the QT Database development set by leave-one-record-out selection
    (``ecgbench_featuredb/selection.json``, made by ``python -m ecgbench_featuredb.selection``);
    a test keeps the two equal.
    """

    powerline_hz: float | None = Field(
        default=50.0,
        description=(
            "Mains frequency removed by a notch filter (50 or 60 Hz); None skips it. Skipped "
            "automatically when it is not below half the sampling rate (e.g. 50 Hz at 100 Hz)."
        ),
    )
    min_beats: int = Field(
        default=2, ge=1, description="Fewest complete beats to average; fewer -> abstain on every interval."
    )
    p_min_amplitude_mv: float = Field(
        default=0.03, ge=0.0,
        description="A P wave lower than this (mV, peak against the PR baseline) is 'not found' -> PR is NaN.",
    )
    t_min_amplitude_mv: float = Field(
        default=0.03, ge=0.0,
        description="A T wave lower than this (mV, peak against the PR baseline) is 'not found' -> QT is NaN.",
    )
    p_dominance: float = Field(
        default=1.0, ge=0.0,
        description=(
            "A P wave must be this many times as high as any other wave between the previous T wave "
            "and the QRS; fibrillatory and flutter waves leave several similar bumps -> PR is NaN."
        ),
    )
    p_max_duration_ms: float = Field(
        default=160.0, gt=0.0,
        description="A 'P wave' longer than this (ms) is not one (e.g. merged f-waves) -> PR is NaN.",
    )
    min_snr: float = Field(
        default=4.0, ge=0.0,
        description=(
            "A P or T wave must also be this many times the noise of the average beat (the median "
            "standard error of the mean across the averaged beats)."
        ),
    )
    xi_qrs_on: float = Field(
        default=0.05, gt=0.0, lt=1.0,
        description="QRS onset: where the wavelet detail falls below this fraction of the first QRS slope.",
    )
    xi_qrs_off: float = Field(
        default=0.3, gt=0.0, lt=1.0,
        description="QRS offset: where the wavelet detail falls below this fraction of the last QRS slope.",
    )
    xi_t_off: float = Field(
        default=0.4, gt=0.0, lt=1.0,
        description="T offset: where the wavelet detail falls below this fraction of the T wave's last slope.",
    )
    xi_p_on: float = Field(
        default=0.5, gt=0.0, lt=1.0,
        description="P onset: where the wavelet detail falls below this fraction of the P wave's first slope.",
    )
    qrs_significant: float = Field(
        default=0.08, gt=0.0, lt=1.0,
        description="A slope belongs to the QRS when it reaches this fraction of the QRS's steepest (and lies close).",
    )
    qrs_gap_s: float = Field(
        default=0.05, gt=0.0,
        description="Consecutive slopes of one QRS lie at most this far apart (s).",
    )
    t_window_s: float = Field(
        default=0.75, gt=0.0,
        description="The T wave's slopes lie within this long (s) after the R-peak (and within 0.7 RR).",
    )
    biphasic_ratio: float = Field(
        default=0.3, gt=0.0,
        description="A third slope of alternating sign at least this fraction of a P or T wave's steepest makes it biphasic.",
    )

    def delineation(self) -> DelineationSettings:
        """The delineator's settings from this config."""
        from ecgbench_featuredb.delineation import DelineationSettings

        return DelineationSettings(**{name: getattr(self, name) for name in DelineationSettings.__dataclass_fields__})


class ECGdeliConfig(SingleLeadConfig):
    """ECGdeli (KIT-IBT) through its Python port, used as an open-source comparator."""

    leads: Literal["single", "all"] = Field(
        default="single",
        description=(
            "'single': delineate only `lead`, like FeatureDB. 'all': ECGdeli's multi-lead consensus "
            "over every usable lead (about 10x slower)."
        ),
    )
    powerline_hz: float | None = Field(
        default=50.0,
        description="Notch frequency of ECGdeli's filter chain; None or not below fs/2 skips the notch.",
    )
    fidelity: Literal["fixed", "matlab"] = Field(
        default="fixed",
        description=(
            "'fixed' applies the port's documented fixes of MATLAB defects (the 'matlab' mode "
            "replicates them and crashes on some records)."
        ),
    )
