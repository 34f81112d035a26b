"""SSSD-ECG hyper-parameters: the shared backbone settings plus the diffusion process and sampler."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from ecgbench.errors import ConfigError
from ecgbench.nn.generator_config import BackboneGeneratorConfig


class SSSDConfig(BackboneGeneratorConfig):
    """DDPM with a linear β schedule, ε-prediction and MSE, as SSSD-ECG (T = 200, β 1e-4 → 0.02)."""

    SAMPLING_FIELDS: ClassVar[frozenset[str]] = BackboneGeneratorConfig.SAMPLING_FIELDS | {"steps", "sampler"}

    diffusion_steps: int = Field(default=200, ge=1, description="T, the number of diffusion steps the network is trained on")
    beta_start: float = Field(default=1e-4, gt=0.0, lt=1.0, description="β_1 of the linear noise schedule")
    beta_end: float = Field(default=0.02, gt=0.0, lt=1.0, description="β_T of the linear noise schedule")
    steps: int = Field(
        default=200,
        ge=1,
        description="sampling steps = network evaluations per record; T gives SSSD-ECG's full ancestral "
        "sampler, fewer use evenly strided timesteps (respaced DDPM or DDIM)",
    )
    sampler: Literal["ancestral", "ddim"] = Field(
        default="ancestral",
        description="'ancestral': DDPM posterior sampling with σ² = β̃ (SSSD-ECG), on the strided schedule when "
        "steps < T; 'ddim': deterministic DDIM (η = 0) on the strided timesteps",
    )

    @model_validator(mode="after")
    def _steps_fit_the_process(self) -> SSSDConfig:
        if self.beta_end < self.beta_start:
            raise ConfigError(f"sssd: beta_end ({self.beta_end}) is below beta_start ({self.beta_start})")
        if self.steps > self.diffusion_steps:
            raise ConfigError(
                f"sssd: steps={self.steps} exceeds the {self.diffusion_steps} diffusion steps the network is "
                f"trained on; use 1..{self.diffusion_steps}"
            )
        return self
