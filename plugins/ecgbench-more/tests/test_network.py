"""The network: published shapes, the symmetric InfoNCE loss and its learned temperature."""

from __future__ import annotations

import math

import pytest
import torch
from ecgbench_more.config import MoreConfig
from ecgbench_more.ecg_encoder import ECGEncoder, n_tokens
from ecgbench_more.network import MoreNetwork, ProjectionHead, info_nce

from ecgbench.nn.vit import count_parameters


def test_ten_seconds_at_100_hz_make_the_published_196_tokens():
    assert n_tokens(1000) == 196
    encoder = ECGEncoder(dim=16, depth=1, n_heads=2, stem_channels=4, n_samples=1000, drop_key=0.3)
    assert encoder.vit.patch_embed(torch.zeros(2, 12, 1000)).shape == (2, 196, 16)
    assert encoder(torch.zeros(2, 12, 1000)).shape == (2, 16)


def test_the_published_ecg_encoder_is_vit_b_sized():
    c = MoreConfig()
    with torch.device("meta"):
        encoder = ECGEncoder(dim=c.ecg_dim, depth=c.ecg_depth, n_heads=c.ecg_heads, stem_channels=c.stem_channels,
                             n_samples=1000, drop_key=c.drop_key)
    blocks = count_parameters(encoder.vit.blocks)
    assert blocks == 12 * (12 * 768 * 768 + 2 * 768)  # qkv 3d², proj d², MLP 8d², two norms; no biases
    assert 85e6 < count_parameters(encoder) < 87e6


def test_published_defaults():
    c = MoreConfig()
    assert (c.lora_r, c.lora_alpha, c.lora_dropout) == (16, 8, 0.1)
    assert (c.temperature, c.proj_dim, c.learning_rate, c.weight_decay) == (0.02, 128, 3e-5, 0.1)
    assert (c.restart_epochs, c.min_learning_rate, c.batch_size, c.grad_accum, c.patience) == (10, 3e-6, 100, 4, 10)
    assert (c.drop_key, c.stem_channels, c.patch_samples) == (0.3, 256, 5)


def test_the_projection_head_is_linear_norm_relu_linear_norm():
    head = ProjectionHead(32, 8)
    kinds = [type(m).__name__ for m in head.layers]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d"]
    assert head.layers[0].bias is None and head.layers[3].bias is None


def test_info_nce_is_the_mean_of_both_directions_cross_entropy_on_cosines():
    torch.manual_seed(0)
    e, t = torch.randn(6, 4), torch.randn(6, 4)
    tau = torch.tensor(0.07)
    logits = (e / e.norm(dim=1, keepdim=True)) @ (t / t.norm(dim=1, keepdim=True)).T / tau
    expected = 0
    for i in range(6):
        expected += -torch.log_softmax(logits[i], 0)[i] - torch.log_softmax(logits[:, i], 0)[i]
    expected = expected / 12
    torch.testing.assert_close(info_nce(e, t, tau), expected)


def test_a_duplicate_report_bounds_the_loss_of_its_pair_at_log_2():
    """ECG 0 and ECG 2 share a report text: even a perfect encoder cannot tell which copy is its own."""
    e = torch.eye(4) * 10
    t = torch.eye(4) * 10
    t[2] = t[0]
    e[2] = e[0]
    loss = info_nce(e, t, torch.tensor(0.01))
    assert loss.item() == pytest.approx(math.log(2) / 2, rel=1e-3)


class _Text(torch.nn.Module):
    width = 5

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 5)

    def forward(self, ids, mask):
        return self.embed(ids).mean(dim=1)


def test_the_temperature_starts_at_the_published_value_and_learns():
    ecg = ECGEncoder(dim=8, depth=1, n_heads=2, stem_channels=4, n_samples=100, drop_key=0.0)
    network = MoreNetwork(ecg, _Text(), proj_dim=4, temperature=0.02)
    assert network.temperature.item() == pytest.approx(0.02)
    loss = network.loss(torch.randn(4, 12, 100), torch.randint(0, 10, (4, 3)), torch.ones(4, 3, dtype=torch.long))
    loss.backward()
    assert network.log_temperature.grad is not None and network.log_temperature.grad != 0
    assert math.isclose(network.log_temperature.item(), math.log(0.02), rel_tol=1e-6)
