"""Flow matching and the ODE solvers: order of accuracy, NFE accounting, impossible NFE."""

from __future__ import annotations

import math

import pytest
import torch
from ecgbench_flowecg.config import FlowECGConfig, solver_steps
from ecgbench_flowecg.flow import flow_matching_loss, integrate

from ecgbench.errors import ConfigError
from ecgbench.nn.distributed import BatchDraws


def _growth(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return x  # dx/dt = x: x(1) = e · x(0)


@pytest.mark.parametrize(
    ("solver", "per_step_factor"),
    [
        ("euler", lambda h: 1 + h),
        ("midpoint", lambda h: 1 + h + h**2 / 2),
        ("heun", lambda h: 1 + h + h**2 / 2),
        ("rk4", lambda h: 1 + h + h**2 / 2 + h**3 / 6 + h**4 / 24),
    ],
)
def test_solvers_take_their_textbook_step_on_a_linear_ode(solver, per_step_factor):
    x0 = torch.ones(1, 1, 1, dtype=torch.float64)
    for steps in (1, 3, 10):
        out = integrate(_growth, x0, steps, solver)
        assert out.item() == pytest.approx(per_step_factor(1 / steps) ** steps, rel=1e-12)


def test_rk4_is_far_more_accurate_than_euler_at_equal_nfe():
    x0 = torch.ones(1, 1, 1, dtype=torch.float64)
    euler = abs(integrate(_growth, x0, 8, "euler").item() - math.e)
    rk4 = abs(integrate(_growth, x0, 2, "rk4").item() - math.e)
    assert rk4 < euler / 20


def test_time_runs_from_zero_to_one():
    seen = []

    def record(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        seen.append(t[0].item())
        return torch.zeros_like(x)

    integrate(record, torch.zeros(2, 1, 1), 4, "euler")
    assert seen == [0.0, 0.25, 0.5, 0.75]


@pytest.mark.parametrize(("solver", "nfe", "steps"), [("euler", 10, 10), ("midpoint", 10, 5), ("heun", 4, 2), ("rk4", 12, 3)])
def test_nfe_maps_to_solver_steps(solver, nfe, steps):
    assert solver_steps(solver, nfe) == steps


@pytest.mark.parametrize(("solver", "nfe"), [("rk4", 10), ("midpoint", 7), ("rk4", 2), ("heun", 1)])
def test_config_rejects_an_nfe_the_solver_cannot_hit(solver, nfe):
    with pytest.raises(ConfigError, match=f"nfe={nfe} cannot be hit exactly"):
        FlowECGConfig(solver=solver, nfe=nfe)


def test_loss_targets_the_straight_line_velocity():
    x1 = torch.randn(4, 8, 16, generator=torch.Generator().manual_seed(0))
    draw = torch.Generator().manual_seed(1)
    x0 = torch.randn(x1.shape, generator=draw)
    t = torch.rand(4, generator=draw)

    def exact(x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        torch.testing.assert_close(time, t)
        torch.testing.assert_close(x, (1 - t[:, None, None]) * x0 + t[:, None, None] * x1)
        return x1 - x0

    assert flow_matching_loss(exact, x1, BatchDraws(torch.Generator().manual_seed(1), len(x1))).item() == pytest.approx(0.0, abs=1e-12)
