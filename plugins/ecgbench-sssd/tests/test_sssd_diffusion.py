"""The DDPM process: schedule values, strided timesteps and the two samplers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ecgbench_sssd.diffusion import DDPMSchedule, sample

SCHEDULE = DDPMSchedule.linear(200, 1e-4, 0.02)


def test_linear_schedule_runs_from_beta_1_to_beta_T():
    assert SCHEDULE.steps == 200
    assert SCHEDULE.betas[0] == pytest.approx(1e-4)
    assert SCHEDULE.betas[-1] == pytest.approx(0.02)
    assert np.diff(SCHEDULE.betas) == pytest.approx(np.full(199, (0.02 - 1e-4) / 199))


def test_alpha_bar_is_the_running_product_of_one_minus_beta():
    product, expected = 1.0, []
    for k in range(200):
        product *= 1.0 - (1e-4 + k * (0.02 - 1e-4) / 199)
        expected.append(product)
    assert SCHEDULE.alpha_bar == pytest.approx(expected, rel=1e-12)
    assert SCHEDULE.alpha_bar[0] == pytest.approx(0.9999)
    assert SCHEDULE.alpha_bar[-1] == pytest.approx(0.132183, abs=1e-6)


def test_full_sampling_visits_every_index():
    np.testing.assert_array_equal(SCHEDULE.timesteps(200), np.arange(200))


@pytest.mark.parametrize("steps", [1, 2, 7, 50, 199])
def test_strided_sampling_visits_distinct_indices_ending_at_the_noisiest(steps):
    visited = SCHEDULE.timesteps(steps)
    assert len(visited) == steps and visited[-1] == 199
    assert np.all(np.diff(visited) > 0)
    assert steps == 1 or visited[0] == 0


def _toy_predictor(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return 0.3 * x + t[:, None, None] / 400.0


def test_full_ancestral_sampler_is_the_textbook_ddpm_update():
    x_T = torch.randn(2, 8, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours = sample(_toy_predictor, SCHEDULE, x_T, 200, "ancestral", torch.Generator().manual_seed(1))
    betas, alphas, alpha_bar = SCHEDULE.betas, SCHEDULE.alphas, SCHEDULE.alpha_bar
    generator, x = torch.Generator().manual_seed(1), x_T.clone()
    for t in range(199, -1, -1):
        eps = _toy_predictor(x, torch.full((2,), float(t), dtype=torch.float64))
        x = (x - betas[t] / np.sqrt(1 - alpha_bar[t]) * eps) / np.sqrt(alphas[t])
        if t > 0:
            variance = betas[t] * (1 - alpha_bar[t - 1]) / (1 - alpha_bar[t])
            x = x + np.sqrt(variance) * torch.randn(x.shape, generator=generator).double()
    torch.testing.assert_close(ours, x)


def _oracle_for(x0: torch.Tensor, schedule: DDPMSchedule):
    """The exact noise prediction when the data distribution is the single point x0."""
    alpha_bar = torch.as_tensor(schedule.alpha_bar, dtype=x0.dtype)

    def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = alpha_bar[t.long()][:, None, None]
        return (x - a.sqrt() * x0) / (1 - a).sqrt()

    return predict


@pytest.mark.parametrize(("sampler", "steps"), [("ddim", 200), ("ddim", 10), ("ancestral", 200), ("ancestral", 13)])
def test_samplers_land_on_the_data_point_given_an_oracle(sampler, steps):
    x0 = torch.randn(1, 8, 16, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    x_T = torch.randn(3, 8, 16, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    out = sample(_oracle_for(x0, SCHEDULE), SCHEDULE, x_T, steps, sampler, torch.Generator().manual_seed(4))
    torch.testing.assert_close(out, x0.expand_as(out))


def test_ddim_is_deterministic_and_ancestral_depends_on_the_generator():
    x_T = torch.randn(2, 8, 16, generator=torch.Generator().manual_seed(5))
    ddim = [sample(_toy_predictor, SCHEDULE, x_T, 20, "ddim", torch.Generator().manual_seed(s)) for s in (0, 1)]
    ancestral = [sample(_toy_predictor, SCHEDULE, x_T, 20, "ancestral", torch.Generator().manual_seed(s)) for s in (0, 1)]
    torch.testing.assert_close(ddim[0], ddim[1])
    assert not torch.allclose(ancestral[0], ancestral[1])
