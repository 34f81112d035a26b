"""FlowECG as an ecgbench ``generate`` model: the SSSD-ECG backbone trained by flow matching."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from ecgbench.context import RunContext
from ecgbench.errors import ConfigError
from ecgbench.nn.distributed import BatchDraws
from ecgbench.nn.generator_training import BackboneGenerator
from ecgbench_flowecg.config import EVALUATIONS_PER_STEP, FlowECGConfig, solver_steps
from ecgbench_flowecg.flow import flow_matching_loss, integrate


class FlowECGGenerator(BackboneGenerator):
    """Label-conditional flow matching on the SSSD-ECG S4 network, sampled with a fixed-step ODE solver.

    ``sample(steps=k)`` takes k solver steps (k × evaluations per step network evaluations);
    without ``steps`` the configured ``nfe`` decides.
    """

    name = "flowecg"
    config: FlowECGConfig

    def training_loss(self, net: nn.Module, x0: torch.Tensor, labels: torch.Tensor, draws: BatchDraws) -> torch.Tensor:
        scale = self.config.time_scale
        return flow_matching_loss(lambda x, t: net(x, t * scale, labels), x0, draws)

    def sampling_steps(self, steps: int | None) -> int:
        if steps is None:
            return solver_steps(self.config.solver, self.config.nfe)
        if int(steps) < 1:
            raise ConfigError(f"flowecg: steps={steps}; use at least one solver step")
        return int(steps)

    def evaluations(self, steps: int) -> int:
        return steps * EVALUATIONS_PER_STEP[self.config.solver]

    def sample_batch(self, noise: torch.Tensor, labels: torch.Tensor, steps: int, generator: torch.Generator,
                     progress: Callable[[Iterable[int]], Iterable[int]]) -> torch.Tensor:
        assert self.net is not None
        net, scale, solver = self.net, self.config.time_scale, self.config.solver
        return integrate(
            lambda x, t: net(x, t * scale, labels),
            noise,
            steps,
            solver,
            progress=progress,
        )


def create(config: FlowECGConfig, ctx: RunContext) -> FlowECGGenerator:
    """The harness's factory: ``create(config, ctx)``."""
    return FlowECGGenerator(config, ctx)
