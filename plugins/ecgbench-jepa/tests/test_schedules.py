"""Learning-rate, weight-decay and momentum schedules; which parameters AdamW decays."""

from __future__ import annotations

import math

import pytest
import torch
from ecgbench_jepa.schedules import WARMUP_START_LR, adamw, linear, warmup_cosine
from torch import nn


def test_warmup_rises_linearly_to_the_peak() -> None:
    assert warmup_cosine(0, 100, 1e-3, 1e-6, warmup=10) == pytest.approx(WARMUP_START_LR)
    assert warmup_cosine(5, 100, 1e-3, 1e-6, warmup=10) == pytest.approx((WARMUP_START_LR + 1e-3) / 2)
    assert warmup_cosine(10, 100, 1e-3, 1e-6, warmup=10) == pytest.approx(1e-3)


def test_cosine_decays_to_the_final_value_at_the_last_step() -> None:
    assert warmup_cosine(99, 100, 1e-3, 1e-6, warmup=10) == pytest.approx(1e-6)
    middle = warmup_cosine(10 + 89 // 2, 100, 1e-3, 1e-6, warmup=10)
    assert middle == pytest.approx(1e-6 + (1e-3 - 1e-6) * 0.5 * (1 + math.cos(math.pi * 44 / 89)))


def test_weight_decay_schedule_rises_from_start_to_final() -> None:
    values = [warmup_cosine(s, 50, 0.01, 0.1) for s in range(50)]
    assert values[0] == pytest.approx(0.01) and values[-1] == pytest.approx(0.1)
    assert all(b >= a for a, b in zip(values, values[1:], strict=False))


def test_momentum_moves_linearly_from_start_to_final() -> None:
    assert linear(0, 11, 0.998, 0.9995) == pytest.approx(0.998)
    assert linear(5, 11, 0.998, 0.9995) == pytest.approx(0.99875)
    assert linear(10, 11, 0.998, 0.9995) == pytest.approx(0.9995)


def test_adamw_decays_only_linear_and_convolution_weights() -> None:
    model = nn.Sequential(nn.Conv1d(2, 3, 1), nn.LayerNorm(3), nn.Linear(3, 4))
    model.token = nn.Parameter(torch.zeros(3))
    optimizer = adamw(model, lr=1e-3, weight_decay=0.05, betas=(0.9, 0.99))
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.05 and plain["weight_decay"] == 0.0
    assert {id(p) for p in decayed["params"]} == {id(model[0].weight), id(model[2].weight)}
    assert len(plain["params"]) == len(list(model.parameters())) - 2
