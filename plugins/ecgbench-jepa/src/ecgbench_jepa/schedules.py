"""Per-step schedules of the learning rate, weight decay and EMA momentum, and the optimiser."""

from __future__ import annotations

import math

import torch
from torch import nn

#: Learning rate at step 0 of a warm-up, as published.
WARMUP_START_LR = 1e-6


def warmup_cosine(step: int, total: int, start: float, final: float, warmup: int = 0) -> float:
    """Linear warm-up from :data:`WARMUP_START_LR` to ``start`` over ``warmup`` steps, then a
    half cosine from ``start`` to ``final`` at step ``total - 1``."""
    if step < warmup:
        return WARMUP_START_LR + (start - WARMUP_START_LR) * step / warmup
    span = max(total - 1 - warmup, 1)
    progress = min((step - warmup) / span, 1.0)
    return final + (start - final) * 0.5 * (1.0 + math.cos(math.pi * progress))


def linear(step: int, total: int, start: float, final: float) -> float:
    """From ``start`` at step 0 to ``final`` at step ``total - 1``."""
    return start + (final - start) * min(step / max(total - 1, 1), 1.0)


def adamw(
    module: nn.Module, lr: float, weight_decay: float, betas: tuple[float, float], eps: float = 1e-8
) -> torch.optim.AdamW:
    """AdamW that decays only the weights of linear and convolution layers (not norms, tokens),
    as published; the decayed group is the first, so a schedule can set its ``weight_decay``."""
    decayed: set[int] = set()
    for sub in module.modules():
        if isinstance(sub, (nn.Linear, nn.Conv1d)) and sub.weight.requires_grad:
            decayed.add(id(sub.weight))
    params = [p for p in module.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if id(p) in decayed], "weight_decay": weight_decay},
        {"params": [p for p in params if id(p) not in decayed], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
