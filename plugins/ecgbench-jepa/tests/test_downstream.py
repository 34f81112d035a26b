"""Downstream protocol: crops, logit averaging, the frozen probe, model selection."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ecgbench_jepa.config import FinetuneConfig, LinearProbeConfig
from ecgbench_jepa.downstream import (
    FinetuneHead,
    LinearProbe,
    crop_averaged_logits,
    train_classifier,
)
from ecgbench_jepa.preprocess import LeadNormalizer, random_crops, strided_crops
from torch import nn

from ecgbench.metrics.classification import macro_auroc
from ecgbench.nn.vit import ViTEncoder


class MeanOfLeadZero(nn.Module):
    """A 'model' whose single logit is 10 x the mean of lead 0 over the crop."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 10.0 * x[:, 0].mean(dim=1, keepdim=True)


def _encoder(dropout: float = 0.0) -> ViTEncoder:
    torch.manual_seed(0)
    return ViTEncoder(dim=16, depth=1, n_heads=2, patch_size=5, n_positions=200, dropout=dropout)


def test_ten_seconds_give_seven_strided_windows_of_two_and_a_half() -> None:
    x = np.arange(2 * 12 * 1000, dtype=np.float32).reshape(2, 12, 1000)
    crops = strided_crops(x, 250, 125)
    assert crops.shape == (2, 7, 12, 250)
    assert np.array_equal(crops[1, 3], x[1, :, 375:625])


def test_crop_logits_are_averaged_not_their_probabilities() -> None:
    x = np.zeros((1, 12, 20), dtype=np.float32)
    x[0, 0, :10] = 1.0  # window [0, 10): mean 1; window [10, 20): mean 0 -> logits 10 and 0
    logits = crop_averaged_logits(MeanOfLeadZero(), x, length=10, stride=10, batch_size=4, device="cpu")
    assert logits[0, 0] == pytest.approx(5.0)
    prob_of_mean = 1 / (1 + np.exp(-5.0))
    mean_of_probs = (1 / (1 + np.exp(-10.0)) + 0.5) / 2
    assert prob_of_mean != pytest.approx(mean_of_probs, abs=1e-3)  # the two aggregations differ


def test_random_crops_are_windows_of_the_chosen_records() -> None:
    x = np.arange(3 * 12 * 100, dtype=np.float32).reshape(3, 12, 100)
    crops = random_crops(x, np.array([2, 0, 2]), 30, np.random.default_rng(0))
    assert crops.shape == (3, 12, 30)
    for crop, record in zip(crops, [2, 0, 2], strict=True):
        start = int(crop[0, 0] - x[record, 0, 0])
        assert np.array_equal(crop, x[record, :, start : start + 30])


def test_lead_normaliser_standardises_each_lead_and_clips() -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((20, 12, 500)) * np.arange(1, 13)[None, :, None] + 3).astype(np.float32)
    norm = LeadNormalizer.fit(x, clip=5.0)
    z = norm(x)
    assert np.allclose(z.mean(axis=(0, 2)), 0, atol=0.02) and np.allclose(z.std(axis=(0, 2)), 1, atol=0.02)
    spiky = x.copy()
    spiky[0, 0, 0] = 1e6
    spiky[0, 1, 0] = np.nan
    out = norm(spiky)
    assert out[0, 0, 0] == 5.0 and out[0, 1, 0] == 0.0


def test_linear_probe_keeps_the_encoder_frozen() -> None:
    probe = LinearProbe(_encoder(), n_labels=3, n_heads=2)
    before = {k: v.clone() for k, v in probe.encoder.state_dict().items()}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 12, 500)).astype(np.float32)
    y = (rng.random((16, 3)) < 0.5).astype(np.uint8)
    config = LinearProbeConfig(steps=5, batch_size=8, eval_every=5)
    train_classifier(probe, x, y, x, y, config, crop=250, stride=125, rng=rng, device="cpu")
    assert all(not p.requires_grad for p in probe.encoder.parameters())
    for k, v in probe.encoder.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not probe.encoder.training
    trained = [n for n, p in probe.named_parameters() if p.requires_grad]
    assert trained and all(n.startswith("pool.") for n in trained)


def test_finetune_trains_the_encoder_too() -> None:
    head = FinetuneHead(_encoder(dropout=0.05), n_labels=3)
    before = head.encoder.patch_embed.proj.weight.detach().clone()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 12, 500)).astype(np.float32)
    y = (rng.random((16, 3)) < 0.5).astype(np.uint8)
    config = FinetuneConfig(steps=3, batch_size=8, eval_every=3, warmup_steps=0)
    train_classifier(head, x, y, x, y, config, crop=250, stride=125, rng=rng, device="cpu")
    assert not torch.equal(head.encoder.patch_embed.proj.weight, before)


def test_model_selection_keeps_the_weights_of_the_best_validation_step() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 12, 500)).astype(np.float32)
    y = np.zeros((24, 2), dtype=np.uint8)
    y[:12, 0] = 1
    y[::2, 1] = 1
    probe = LinearProbe(_encoder(), n_labels=2, n_heads=2)
    config = LinearProbeConfig(steps=6, batch_size=8, eval_every=2)
    result = train_classifier(probe, x, y, x, y, config, crop=250, stride=125, rng=rng, device="cpu")
    kept, _ = macro_auroc(y, crop_averaged_logits(probe, x, 250, 125, 64, "cpu"))
    assert result.best_step in (2, 4, 6)
    assert kept == pytest.approx(result.best_val_auroc)

