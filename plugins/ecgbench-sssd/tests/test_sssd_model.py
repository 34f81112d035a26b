"""The sssd generator: it learns, samples reproducibly, counts NFE, reuses its checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ecgbench_sssd.config import SSSDConfig
from ecgbench_sssd.diffusion import epsilon_loss
from ecgbench_sssd.model import SSSDGenerator, create
from ecgbench_sssd.plugin import SSSD

from ecgbench.contracts.generate import check_samples
from ecgbench.errors import ConfigError
from ecgbench.nn.distributed import BatchDraws
from ecgbench.nn.generator_config import CI_BACKBONE
from ecgbench.nn.generator_training import prepare_training_data
from ecgbench.testing.pulses import TINY_BACKBONE, quiet_context


def _fitted(tmp_path, data, **overrides) -> SSSDGenerator:
    config = SSSDConfig(**{**TINY_BACKBONE, "n_iters": 20, "steps": 20, **overrides})
    return create(config, quiet_context(tmp_path)).fit(data)


def _held_out_loss(model: SSSDGenerator, data) -> float:
    """ε-loss of the model's network on fixed noise and steps (the same draw for every call)."""
    x0 = prepare_training_data(data, model.config.normalise).batch(np.arange(len(data)))
    labels = torch.from_numpy(data.labels.astype(np.float32))
    with torch.no_grad():
        return float(epsilon_loss(lambda x, t: model.net(x, t, labels), model.schedule, x0, BatchDraws(torch.Generator().manual_seed(9), len(x0))))


def test_diffusion_loss_falls_on_a_tiny_dataset(tmp_path, pulses):
    untrained = _fitted(tmp_path / "a", pulses, n_iters=1, lr=1e-9)
    trained = _fitted(tmp_path / "b", pulses, n_iters=150)
    before, after = _held_out_loss(untrained, pulses), _held_out_loss(trained, pulses)
    assert before == pytest.approx(1.0, abs=0.15)  # zero-initialised output: loss = E[ε²]
    assert after < 0.8 * before
    curve = trained.ctx.notes["loss_curve"]
    assert curve[-1] < curve[0]


def test_sampling_is_deterministic_for_a_seed(tmp_path, pulses):
    model = _fitted(tmp_path, pulses)
    labels = pulses.labels[:5].copy()
    first, again, other = (model.sample(5, labels=labels, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_samples_meet_the_generate_contract(tmp_path, pulses):
    model = _fitted(tmp_path, pulses)
    x = model.sample(6, labels=pulses.labels[:6].copy(), seed=0)
    check_samples(x, n=6, n_samples=pulses.n_samples, model="sssd")


@pytest.mark.parametrize(("steps", "sampler"), [(None, "ancestral"), (5, "ancestral"), (7, "ddim")])
def test_nfe_is_the_number_of_denoising_steps(tmp_path, pulses, steps, sampler):
    model = _fitted(tmp_path, pulses, sampler=sampler)
    model.sample(2, steps=steps)
    assert model.nfe == (20 if steps is None else steps)


def test_steps_beyond_the_trained_process_are_rejected(tmp_path, pulses):
    with pytest.raises(ConfigError, match="steps=300"):
        SSSDConfig(steps=300)
    model = _fitted(tmp_path, pulses)
    with pytest.raises(ConfigError, match="steps=201"):
        model.sample(1, steps=201)


def test_sampling_settings_reuse_the_trained_weights(tmp_path, pulses):
    first = _fitted(tmp_path, pulses)
    second = _fitted(tmp_path, pulses, steps=8, sampler="ddim")
    assert second.ctx.notes["trained_in_this_run"] is False
    for name, value in first.net.state_dict().items():
        torch.testing.assert_close(second.net.state_dict()[name], value, rtol=0, atol=0)


def test_a_reloaded_checkpoint_samples_identically(tmp_path, pulses):
    first = _fitted(tmp_path, pulses)
    reloaded = _fitted(tmp_path, pulses)
    assert reloaded.ctx.notes["trained_in_this_run"] is False
    np.testing.assert_array_equal(first.sample(3, seed=4), reloaded.sample(3, seed=4))


def test_paper_budget_is_the_published_configuration():
    paper = SSSDConfig(**SSSD.budgets["paper"])
    assert (paper.n_blocks, paper.channels, paper.s4_state, paper.label_embed_dim) == (36, 256, 64, 128)
    assert (paper.diffusion_steps, paper.beta_start, paper.beta_end, paper.steps) == (200, 1e-4, 0.02, 200)
    assert (paper.lr, paper.n_iters, paper.batch_size, paper.normalise) == (2e-4, 100_000, 6, "none")


def test_ci_budget_shares_the_backbone_and_training_of_every_backbone_generator():
    ci = SSSDConfig(**SSSD.budgets["ci"])
    assert {k: getattr(ci, k) for k in CI_BACKBONE} == CI_BACKBONE
    assert (ci.steps, ci.sampler) == (200, "ancestral")
