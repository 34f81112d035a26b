"""MoRE's ECG encoder: a ViT (:mod:`ecgbench.nn.vit`) whose patch embedding is MoRE's two 1-D
convolutions, read out at its class token.

Published (``utils/build_model.py``): ``Conv1d(12 -> 256, k 5, stride 5)``, ReLU, BatchNorm,
then ``Conv1d(256 -> 768, k 5, stride 1)``, ReLU, BatchNorm: 12 x 1000 samples at 100 Hz become
196 tokens of width 768, read by a ViT-B/16 (12 blocks, 12 heads) with DropKey attention (0.3)
and a class token. Here the class token is the encoder's register token (it carries no
position) and positions are fixed sinusoids, where timm's ViT learns both.
"""

from __future__ import annotations

import torch
from torch import nn

from ecgbench.nn.vit import ViTEncoder

#: Kernel of the second convolution, and kernel = stride of the first one as published.
KERNEL = 5


def n_tokens(n_samples: int, patch_samples: int = KERNEL) -> int:
    """Tokens the stem makes of ``n_samples`` samples (1000 -> 196 with 5-sample patches)."""
    return n_samples // patch_samples - (KERNEL - 1)


class MoreStem(nn.Module):
    """``float32[b, 12, T]`` -> ``float32[b, n_tokens(T, patch_samples), dim]``."""

    def __init__(self, dim: int, channels: int, patch_samples: int = KERNEL, n_leads: int = 12):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv1d(n_leads, channels, patch_samples, stride=patch_samples), nn.ReLU(),
                                   nn.BatchNorm1d(channels))
        self.conv2 = nn.Sequential(nn.Conv1d(channels, dim, KERNEL, stride=1), nn.ReLU(), nn.BatchNorm1d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x)).transpose(1, 2)


class ECGEncoder(nn.Module):
    """``float32[b, 12, T]`` (preprocessed, 100 Hz) -> the class token ``float32[b, dim]``."""

    def __init__(self, *, dim: int, depth: int, n_heads: int, stem_channels: int, n_samples: int, drop_key: float,
                 patch_samples: int = KERNEL):
        super().__init__()
        tokens = n_tokens(n_samples, patch_samples)
        if tokens < 1:
            raise ValueError(f"{n_samples} samples make no token; the stem needs at least {KERNEL * patch_samples}")
        self.n_samples, self.dim = n_samples, dim
        self.vit = ViTEncoder(dim=dim, depth=depth, n_heads=n_heads, patch_size=patch_samples, n_positions=tokens,
                              n_registers=1, drop_key=drop_key)
        self.vit.patch_embed = MoreStem(dim, stem_channels, patch_samples)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit(x, with_registers=True)[:, 0]
