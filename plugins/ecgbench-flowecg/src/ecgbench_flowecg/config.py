"""FlowECG hyper-parameters: the SSSD-ECG backbone settings plus the flow time scale and the ODE solver.

NFE accounting: a solver step costs 1 (euler), 2 (midpoint, heun) or 4 (rk4) network
evaluations, so NFE = steps × evaluations per step; an NFE that is not a multiple of the
per-step cost cannot be hit exactly and is rejected with a ConfigError.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from ecgbench.errors import ConfigError
from ecgbench.nn.generator_config import BackboneGeneratorConfig

EVALUATIONS_PER_STEP: dict[str, int] = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}


def solver_steps(solver: str, nfe: int) -> int:
    """Solver steps that spend exactly ``nfe`` evaluations; ConfigError when impossible."""
    if solver not in EVALUATIONS_PER_STEP:
        raise ConfigError(f"flowecg: unknown solver {solver!r}; use one of {sorted(EVALUATIONS_PER_STEP)}")
    per_step = EVALUATIONS_PER_STEP[solver]
    if nfe < per_step or nfe % per_step:
        lower, upper = max(per_step, nfe - nfe % per_step), nfe - nfe % per_step + per_step
        nearby = sorted({lower, upper})
        raise ConfigError(
            f"flowecg: solver {solver!r} evaluates the network {per_step} times per step, so nfe={nfe} cannot be "
            f"hit exactly; use a multiple of {per_step} (e.g. {' or '.join(map(str, nearby))}) or another solver"
        )
    return nfe // per_step



class FlowECGConfig(BackboneGeneratorConfig):
    """Conditional flow matching on the SSSD-ECG network, same data and training budget as ``sssd``."""

    SAMPLING_FIELDS: ClassVar[frozenset[str]] = BackboneGeneratorConfig.SAMPLING_FIELDS | {"nfe", "solver"}

    time_scale: float = Field(
        default=200.0,
        gt=0.0,
        description="the network's time input is t·time_scale for flow time t in [0, 1], so the sinusoidal "
        "embedding sees the 0..200 range it has in SSSD-ECG (there: the diffusion step)",
    )
    nfe: int = Field(
        default=20,
        ge=1,
        description="network evaluations per record; the solver takes nfe / (evaluations per step) equal steps "
        "from t = 0 to 1 (euler 1, midpoint 2, heun 2, rk4 4 per step) and nfe must be a multiple of that",
    )
    solver: Literal["euler", "midpoint", "heun", "rk4"] = Field(
        default="midpoint", description="fixed-step ODE solver for dx/dt = v(x, t)"
    )

    @model_validator(mode="after")
    def _nfe_fits_the_solver(self) -> FlowECGConfig:
        solver_steps(self.solver, self.nfe)  # raises ConfigError when nfe cannot be hit exactly
        return self
