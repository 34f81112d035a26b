"""Conditional flow matching with the linear (rectified) path, and fixed-step ODE solvers.

Path: x_t = (1 − t)·x_0 + t·x_1 with x_0 ~ N(0, I) and x_1 a training record, t ~ U(0, 1);
the network regresses the path's velocity x_1 − x_0 with MSE (Lipman et al. 2023; Liu et
al. 2023). Sampling integrates dx/dt = v(x, t) from t = 0 (noise) to t = 1 (data).

NFE accounting (:func:`ecgbench_flowecg.config.solver_steps`): NFE = steps × evaluations
per step of the solver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from ecgbench.errors import ConfigError
from ecgbench.nn.distributed import BatchDraws
from ecgbench_flowecg.config import EVALUATIONS_PER_STEP

#: (x float[b, 8, T], t float[b] in [0, 1]) -> velocity float[b, 8, T]
VelocityField = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

def flow_matching_loss(
    velocity: VelocityField, x1: torch.Tensor, draws: BatchDraws
) -> torch.Tensor:
    """MSE between v(x_t, t) and x_1 − x_0 on the linear path, t ~ U(0, 1) per record; the noise
    x_0 and the time of each record come from ``draws`` (the same on every device)."""
    x0 = draws.randn(*x1.shape[1:]).to(x1.device, x1.dtype)
    t = draws.rand().to(x1.device, x1.dtype)
    x_t = (1 - t[:, None, None]) * x0 + t[:, None, None] * x1
    return torch.mean((velocity(x_t, t) - (x1 - x0)) ** 2)


def _step(velocity: VelocityField, solver: str, x: torch.Tensor, t: float, h: float) -> torch.Tensor:
    def v(x_: torch.Tensor, time: float) -> torch.Tensor:
        return velocity(x_, torch.full((x_.shape[0],), time, device=x_.device)).to(x_.dtype)

    if solver == "euler":
        return x + h * v(x, t)
    if solver == "midpoint":
        return x + h * v(x + h / 2 * v(x, t), t + h / 2)
    if solver == "heun":
        k1 = v(x, t)
        k2 = v(x + h * k1, t + h)
        return x + h / 2 * (k1 + k2)
    k1 = v(x, t)
    k2 = v(x + h / 2 * k1, t + h / 2)
    k3 = v(x + h / 2 * k2, t + h / 2)
    k4 = v(x + h * k3, t + h)
    return x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def integrate(
    velocity: VelocityField,
    x0: torch.Tensor,
    steps: int,
    solver: str,
    progress: Callable[[Iterable], Iterable] = iter,
) -> torch.Tensor:
    """Solve dx/dt = v(x, t) from t = 0 to 1 in ``steps`` equal steps of ``solver``."""
    if solver not in EVALUATIONS_PER_STEP:
        raise ConfigError(f"flowecg: unknown solver {solver!r}; use one of {sorted(EVALUATIONS_PER_STEP)}")
    if steps < 1:
        raise ConfigError(f"flowecg: solver steps must be >= 1, got {steps}")
    h = 1.0 / steps
    x = x0
    for i in progress(range(steps)):
        x = _step(velocity, solver, x, i * h, h)
    return x
