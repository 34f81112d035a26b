"""Settings of the phantom cohort."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Bumped whenever the generator's output changes; part of the cache key and of ``dataset.info``.
PHANTOM_VERSION = "1.1.0"


class PhantomConfig(BaseModel):
    """How large a phantom cohort to make, at what rate, with which seed and how noisy."""

    model_config = ConfigDict(extra="forbid")

    n_records: int = Field(
        default=3000,
        ge=1,
        description="records in the cohort; the first k records are the same for every n >= k",
    )
    fs: int = Field(
        default=100,
        ge=100,
        description="sampling rate in Hz (PTB-XL ships 100 and 500); any rate >= 100 Hz works",
    )
    duration_s: float = Field(
        default=10.0,
        ge=8.0,
        le=120.0,
        description="record length in seconds (PTB-XL: 10 s); at least 8 s, so that every record holds "
        "several conducted RR intervals",
    )
    seed: int = Field(default=0, ge=0, description="seed of every random draw; same seed, same cohort")
    noise: float = Field(
        default=1.0,
        ge=0.0,
        le=10.0,
        description="scale of all noise sources (baseline wander, power line, muscle); 0 = clean signal",
    )
    cache: bool = Field(
        default=True,
        description="keep the arrays under <cache dir>/phantom/<key>.npz (key: these settings, the "
        "generator version and a digest of its source) and load them from there next time",
    )

    @model_validator(mode="after")
    def _whole_number_of_samples(self) -> PhantomConfig:
        samples = self.duration_s * self.fs
        if abs(samples - round(samples)) > 1e-6:
            raise ValueError(
                f"duration_s * fs = {samples:g} is not a whole number of samples; "
                f"choose a duration that is a multiple of 1/{self.fs} s"
            )
        return self

    @property
    def n_samples(self) -> int:
        """T, samples per lead."""
        return int(round(self.duration_s * self.fs))
