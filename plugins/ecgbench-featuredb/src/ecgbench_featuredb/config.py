"""Configuration of the interval measurers (pydantic; every field documented)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ecgbench.contracts.intervals import SingleLeadConfig

QTcFormula = Literal["bazett", "fridericia", "framingham"]


class FeatureDBConfig(SingleLeadConfig):
    """FeatureDB: filtering, R-peaks, average beat, à-trous wavelet delineation of that beat.

    The defaults are the published pipeline's; the wave-presence thresholds decide when the
    measurer abstains (NaN) instead of guessing.
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
        default=1.2, ge=0.0,
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
