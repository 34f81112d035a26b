"""The DDPM process of SSSD-ECG: linear β schedule, ε-prediction loss, ancestral and DDIM sampling.

Indices run 0 … T−1 (step t in the papers is index t−1); the network is given the index, as
SSSD-ECG does. With fewer sampling steps than T, the sampler visits evenly strided indices
τ_1 < … < τ_S (always including T−1 and, for S ≥ 2, 0) and uses the process restricted to
them: ᾱ stays the same at the visited indices, β'_i = 1 − ᾱ_{τ_i}/ᾱ_{τ_{i−1}} (Nichol &
Dhariwal 2021's respacing). With S = T this is exactly SSSD-ECG's 200-step sampler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

from ecgbench.nn.distributed import BatchDraws

#: (x_t float[b, 8, T], index float[b]) -> predicted noise float[b, 8, T]
NoisePredictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class DDPMSchedule:
    """β_t for indices 0 … T−1 (float64) and the derived α_t = 1 − β_t, ᾱ_t = Π_{s≤t} α_s."""

    betas: np.ndarray

    @classmethod
    def linear(cls, steps: int, beta_start: float, beta_end: float) -> DDPMSchedule:
        return cls(np.linspace(beta_start, beta_end, steps, dtype=np.float64))

    @property
    def steps(self) -> int:
        return len(self.betas)

    @property
    def alphas(self) -> np.ndarray:
        return 1.0 - self.betas

    @property
    def alpha_bar(self) -> np.ndarray:
        return np.cumprod(self.alphas)

    def noised(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε for integer indices t long[b]."""
        alpha_bar = torch.as_tensor(self.alpha_bar, dtype=x0.dtype, device=x0.device)[t][:, None, None]
        return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise

    def timesteps(self, n_steps: int) -> np.ndarray:
        """The S = n_steps visited indices, ascending (all of 0 … T−1 when S = T)."""
        if not 1 <= n_steps <= self.steps:
            raise ValueError(f"sampling steps must be in 1..{self.steps}, got {n_steps}")
        if n_steps == 1:
            return np.array([self.steps - 1])
        return np.round(np.linspace(0, self.steps - 1, n_steps)).astype(int)


def epsilon_loss(
    predict: NoisePredictor, schedule: DDPMSchedule, x0: torch.Tensor, draws: BatchDraws
) -> torch.Tensor:
    """MSE between true and predicted noise at a uniformly drawn index (SSSD-ECG's only loss term);
    the index and the noise of each record come from ``draws`` (the same on every device)."""
    t = draws.randint(schedule.steps).to(x0.device)
    noise = draws.randn(*x0.shape[1:]).to(x0.device, x0.dtype)
    x_t = schedule.noised(x0, t, noise)
    return torch.mean((predict(x_t, t.float()) - noise) ** 2)


def _pairs(schedule: DDPMSchedule, n_steps: int) -> Iterable[tuple[int, float, float]]:
    """(index, ᾱ at it, ᾱ at the next visited index or 1 after the last), from noise to data."""
    visited = schedule.timesteps(n_steps)
    alpha_bar = schedule.alpha_bar
    for i in range(len(visited) - 1, -1, -1):
        previous = alpha_bar[visited[i - 1]] if i > 0 else 1.0
        yield int(visited[i]), float(alpha_bar[visited[i]]), float(previous)


def sample(
    predict: NoisePredictor,
    schedule: DDPMSchedule,
    x_T: torch.Tensor,
    n_steps: int,
    sampler: str,
    generator: torch.Generator,
    progress: Callable[[Iterable], Iterable] = iter,
) -> torch.Tensor:
    """Run the reverse process from x_T (standard normal) in n_steps network evaluations.

    ancestral: x ← (x − β'/√(1−ᾱ_t) ε̂)/√(1−β') + σ z, σ² = β'(1−ᾱ_prev)/(1−ᾱ_t), no noise at the end.
    ddim:      x̂0 = (x − √(1−ᾱ_t) ε̂)/√ᾱ_t, x ← √ᾱ_prev x̂0 + √(1−ᾱ_prev) ε̂.
    Fresh noise z is drawn from ``generator`` on the CPU, so results do not depend on the device.
    """
    if sampler not in ("ancestral", "ddim"):
        raise ValueError(f"unknown sampler {sampler!r}: use 'ancestral' or 'ddim'")
    x = x_T
    steps = list(_pairs(schedule, n_steps))
    for index, alpha_bar, previous in progress(steps):
        t = torch.full((x.shape[0],), float(index), device=x.device)
        eps = predict(x, t).to(x.dtype)
        if sampler == "ddim":
            x0_hat = (x - (1 - alpha_bar) ** 0.5 * eps) / alpha_bar**0.5
            x = previous**0.5 * x0_hat + (1 - previous) ** 0.5 * eps
            continue
        beta = 1 - alpha_bar / previous
        x = (x - beta / (1 - alpha_bar) ** 0.5 * eps) / (1 - beta) ** 0.5
        if previous < 1.0:
            sigma = (beta * (1 - previous) / (1 - alpha_bar)) ** 0.5
            x = x + sigma * torch.randn(x.shape, generator=generator).to(x.device, x.dtype)
    return x
