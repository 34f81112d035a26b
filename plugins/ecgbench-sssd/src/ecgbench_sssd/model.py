"""SSSD-ECG as an ecgbench ``generate`` model: the shared backbone trained as a DDPM."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from ecgbench.context import RunContext
from ecgbench.errors import ConfigError
from ecgbench.nn.distributed import BatchDraws
from ecgbench.nn.generator_training import BackboneGenerator
from ecgbench_sssd.config import SSSDConfig
from ecgbench_sssd.diffusion import DDPMSchedule, epsilon_loss, sample


class SSSDGenerator(BackboneGenerator):
    """Label-conditional DDPM (T = 200, ε-prediction) on the SSSD-ECG S4 network."""

    name = "sssd"
    config: SSSDConfig

    def __init__(self, config: SSSDConfig, ctx: RunContext):
        super().__init__(config, ctx)
        self.schedule = DDPMSchedule.linear(config.diffusion_steps, config.beta_start, config.beta_end)

    def training_loss(self, net: nn.Module, x0: torch.Tensor, labels: torch.Tensor, draws: BatchDraws) -> torch.Tensor:
        return epsilon_loss(lambda x, t: net(x, t, labels), self.schedule, x0, draws)

    def sampling_steps(self, steps: int | None) -> int:
        steps = self.config.steps if steps is None else int(steps)
        if not 1 <= steps <= self.schedule.steps:
            raise ConfigError(f"sssd: steps={steps}; the network was trained on {self.schedule.steps} diffusion steps, use 1..{self.schedule.steps}")
        return steps

    def evaluations(self, steps: int) -> int:
        return steps

    def sample_batch(self, noise: torch.Tensor, labels: torch.Tensor, steps: int, generator: torch.Generator,
                     progress: Callable[[Iterable[int]], Iterable[int]]) -> torch.Tensor:
        assert self.net is not None
        net = self.net
        return sample(
            lambda x, t: net(x, t, labels),
            self.schedule,
            noise,
            steps,
            self.config.sampler,
            generator,
            progress=progress,
        )


def create(config: SSSDConfig, ctx: RunContext) -> SSSDGenerator:
    """The harness's factory: ``create(config, ctx)``."""
    return SSSDGenerator(config, ctx)
