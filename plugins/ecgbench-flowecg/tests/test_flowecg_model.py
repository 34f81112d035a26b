"""The flowecg generator: it learns, its solvers agree, sampling is reproducible, NFE is counted."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ecgbench_flowecg.config import FlowECGConfig
from ecgbench_flowecg.flow import flow_matching_loss
from ecgbench_flowecg.model import FlowECGGenerator, create
from ecgbench_flowecg.plugin import FLOWECG

from ecgbench.contracts.generate import check_samples
from ecgbench.nn.distributed import BatchDraws
from ecgbench.nn.generator_config import CI_BACKBONE
from ecgbench.nn.generator_training import prepare_training_data
from ecgbench.testing.pulses import TINY_BACKBONE, quiet_context


def _fitted(tmp_path, data, **overrides) -> FlowECGGenerator:
    config = FlowECGConfig(**{**TINY_BACKBONE, "n_iters": 20, **overrides})
    return create(config, quiet_context(tmp_path)).fit(data)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, pulses) -> FlowECGGenerator:
    return _fitted(tmp_path_factory.mktemp("trained"), pulses, n_iters=150, solver="euler", nfe=20)


def _held_out_loss(model: FlowECGGenerator, data) -> float:
    x1 = prepare_training_data(data, model.config.normalise).batch(np.arange(len(data)))
    labels = torch.from_numpy(data.labels.astype(np.float32))
    scale = model.config.time_scale
    with torch.no_grad():
        return float(flow_matching_loss(lambda x, t: model.net(x, t * scale, labels), x1, BatchDraws(torch.Generator().manual_seed(9), len(x1))))


def test_flow_matching_loss_falls_on_a_tiny_dataset(tmp_path, pulses, trained):
    untrained = _fitted(tmp_path, pulses, n_iters=1, lr=1e-9)
    before, after = _held_out_loss(untrained, pulses), _held_out_loss(trained, pulses)
    assert before == pytest.approx(2.0, abs=0.3)  # zero output: E|x1 − x0|² = 1 + 1 per sample
    assert after < 0.6 * before
    curve = trained.ctx.notes["loss_curve"]
    assert curve[-1] < curve[0]


def test_euler_with_many_steps_and_rk4_with_few_agree_on_a_trained_model(trained, pulses):
    labels = trained.train_labels[:4].copy()
    reference = trained.sample(4, labels=labels, steps=400, seed=3)
    rk4 = _fitted(trained.ctx.cache_dir.parent, pulses, n_iters=150, solver="rk4", nfe=20)  # cached weights
    assert rk4.ctx.notes["trained_in_this_run"] is False
    coarse_euler = trained.sample(4, labels=labels, steps=5, seed=3)
    few_rk4 = rk4.sample(4, labels=labels, steps=5, seed=3)
    size = np.sqrt(np.mean(reference**2))
    rk4_error = np.sqrt(np.mean((few_rk4 - reference) ** 2)) / size
    euler_error = np.sqrt(np.mean((coarse_euler - reference) ** 2)) / size
    assert rk4_error < 0.05
    assert rk4_error < euler_error / 3


def test_sampling_is_deterministic_for_a_seed(trained):
    labels = trained.train_labels[:5].copy()
    first, again, other = (trained.sample(5, labels=labels, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_samples_meet_the_generate_contract(trained, pulses):
    x = trained.sample(6, labels=pulses.labels[:6].copy(), seed=0)
    check_samples(x, n=6, n_samples=pulses.n_samples, model="flowecg")


@pytest.mark.parametrize(("solver", "nfe", "steps", "expected"), [
    ("euler", 6, None, 6), ("midpoint", 6, None, 6), ("rk4", 8, None, 8), ("rk4", 8, 3, 12), ("heun", 4, 5, 10),
])
def test_nfe_records_the_network_evaluations_per_record(tmp_path, pulses, solver, nfe, steps, expected):
    model = _fitted(tmp_path, pulses, n_iters=2, solver=solver, nfe=nfe)
    model.sample(2, steps=steps)
    assert model.nfe == expected


def test_sampling_settings_reuse_the_trained_weights(tmp_path, pulses):
    first = _fitted(tmp_path, pulses, n_iters=5)
    second = _fitted(tmp_path, pulses, n_iters=5, solver="rk4", nfe=8)
    assert second.ctx.notes["trained_in_this_run"] is False
    assert second.ctx.notes["checkpoint"] == first.ctx.notes["checkpoint"]


def test_a_reloaded_checkpoint_samples_identically(tmp_path, pulses):
    first = _fitted(tmp_path, pulses, n_iters=5)
    reloaded = _fitted(tmp_path, pulses, n_iters=5)
    assert reloaded.ctx.notes["trained_in_this_run"] is False
    np.testing.assert_array_equal(first.sample(3, seed=4), reloaded.sample(3, seed=4))


def test_paper_budget_is_the_sssd_ecg_configuration():
    paper = FlowECGConfig(**FLOWECG.budgets["paper"])
    assert (paper.n_blocks, paper.channels, paper.s4_state, paper.label_embed_dim) == (36, 256, 64, 128)
    assert (paper.lr, paper.n_iters, paper.batch_size, paper.normalise) == (2e-4, 100_000, 6, "none")


def test_ci_budget_shares_the_backbone_and_training_of_every_backbone_generator():
    ci = FlowECGConfig(**FLOWECG.budgets["ci"])
    assert {k: getattr(ci, k) for k in CI_BACKBONE} == CI_BACKBONE
