"""The SSSD-ECG network (Alcaraz & Strodthoff 2023): a DiffWave residual stack with S4 layers.

It maps a noisy multi-lead signal, a time value (the diffusion step for a diffusion model, a
scaled flow time for a flow-matching model) and a multi-hot label vector to a tensor of the
same shape as the signal (the predicted noise or velocity)::

    x ─ 1×1 conv ─ ReLU ─┬─ block 1 ─ … ─ block B ─┐  (each block also emits a skip output)
                         └──── Σ skips · √(1/B) ───┴─ 1×1 conv ─ ReLU ─ zero-init 1×1 conv

    block(h):  h + W_t·e(t) ─ conv k=3 (C→2C) ─ S4 ─ + W_y·e(y) ─ S4 ─ tanh ⊙ sigmoid
               ├─ 1×1 conv → (h + ·)·√½  (residual)      └─ 1×1 conv → skip

e(t): sinusoidal embedding (128) → Linear 512 → swish → Linear 512 → swish.
e(y): multi-hot labels times a 71×128 embedding matrix (the sum of the present labels'
embeddings). With 36 blocks, 256 channels and S4 state 64 this has ≈50.2 M trainable
parameters, the published size.

Initialisation of the weight-normalised convolutions (``conv_init``): SSSD-ECG's code calls
``kaiming_normal_`` on a convolution's weight *after* wrapping it in ``weight_norm``; that weight
is recomputed from the norm and direction before every forward pass, so the call has no effect
and the published network trains from PyTorch's default initialisation (``"pytorch_default"``).
``"kaiming_normal"`` applies the He-normal initialisation the call intended.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from ecgbench.nn.s4 import CauchySum, Pointwise, S4Block

ConvInit = Literal["pytorch_default", "kaiming_normal"]


def step_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """DiffWave's sinusoidal embedding of ``float[batch]`` time values -> ``float[batch, dim]``.

    The frequencies are float32 (as published); the angles take the precision of ``t`` (float32
    for integer steps), so a float64 ``t`` gives float64 angles exactly as the original does."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, device=t.device, dtype=torch.float32) * -(math.log(10000.0) / (half - 1)))
    angles = (t if t.is_floating_point() else t.float())[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def _normed_conv(c_in: int, c_out: int, kernel_size: int, init: ConvInit) -> nn.Module:
    """Weight-normalised convolution with 'same' padding, initialised as ``init`` says (module docs)."""
    conv = Pointwise(c_in, c_out) if kernel_size == 1 else nn.Conv1d(c_in, c_out, kernel_size, padding=kernel_size // 2)
    if init == "kaiming_normal" and conv.weight.device.type != "meta":
        nn.init.kaiming_normal_(conv.weight)
    elif init not in ("pytorch_default", "kaiming_normal"):
        raise ValueError(f"conv_init must be 'pytorch_default' or 'kaiming_normal', got {init!r}")
    return weight_norm(conv)


class ResidualBlock(nn.Module):
    """One DiffWave block with two S4 layers, step and label conditioning."""

    def __init__(
        self,
        channels: int,
        step_dim: int,
        label_dim: int | None,
        s4_state: int,
        length: int,
        bidirectional: bool,
        dropout: float,
        layer_norm: bool,
        conv_init: ConvInit = "pytorch_default",
        cauchy: CauchySum = "conjugate_pairs",
    ):
        super().__init__()
        self.channels = channels
        self.step_projection = nn.Linear(step_dim, channels)
        self.conv = _normed_conv(channels, 2 * channels, 3, conv_init)
        self.s4_first = S4Block(2 * channels, s4_state, length, bidirectional, dropout, layer_norm, cauchy)
        self.label_projection = nn.Linear(label_dim, 2 * channels) if label_dim else None
        self.s4_second = S4Block(2 * channels, s4_state, length, bidirectional, dropout, layer_norm, cauchy)
        self.residual_conv = _normed_conv(channels, channels, 1, conv_init)
        self.skip_conv = _normed_conv(channels, channels, 1, conv_init)

    def forward(
        self, x: torch.Tensor, step: torch.Tensor, label: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = x + self.step_projection(step)[:, :, None]
        h = self.s4_first(self.conv(h))
        if self.label_projection is not None and label is not None:
            h = h + self.label_projection(label)[:, :, None]
        h = self.s4_second(h)
        gated = torch.tanh(h[:, : self.channels]) * torch.sigmoid(h[:, self.channels :])
        return (x + self.residual_conv(gated)) * math.sqrt(0.5), self.skip_conv(gated)


class SSSDBackbone(nn.Module):
    """The SSSD-ECG denoiser: ``float[batch, leads, L]`` in, the same shape out.

    n_labels=0 builds an unconditional network (no label embedding).
    """

    def __init__(
        self,
        leads: int = 8,
        length: int = 1000,
        n_blocks: int = 36,
        channels: int = 256,
        s4_state: int = 64,
        s4_bidirectional: bool = True,
        s4_layer_norm: bool = True,
        s4_dropout: float = 0.0,
        step_embed_dim: int = 128,
        step_hidden_dim: int = 512,
        n_labels: int = 71,
        label_embed_dim: int = 128,
        conv_init: ConvInit = "pytorch_default",
        s4_cauchy: CauchySum = "conjugate_pairs",
    ):
        super().__init__()
        self.leads, self.length, self.step_embed_dim = leads, length, step_embed_dim
        self.input_conv = _normed_conv(leads, channels, 1, conv_init)
        self.label_embedding = nn.Parameter(torch.randn(n_labels, label_embed_dim)) if n_labels else None
        self.step_mlp = nn.Sequential(
            nn.Linear(step_embed_dim, step_hidden_dim),
            nn.SiLU(),
            nn.Linear(step_hidden_dim, step_hidden_dim),
            nn.SiLU(),
        )
        self.blocks = nn.ModuleList(
            ResidualBlock(
                channels,
                step_hidden_dim,
                label_embed_dim if n_labels else None,
                s4_state,
                length,
                s4_bidirectional,
                s4_dropout,
                s4_layer_norm,
                conv_init,
                s4_cauchy,
            )
            for _ in range(n_blocks)
        )
        self.output_conv = _normed_conv(channels, channels, 1, conv_init)
        self.output_zero = Pointwise(channels, leads)
        nn.init.zeros_(self.output_zero.weight)
        nn.init.zeros_(self.output_zero.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """x float[batch, leads, L]; t float[batch] (step or scaled time); labels float[batch, n_labels]."""
        step = self.step_mlp(step_embedding(t, self.step_embed_dim).to(self.step_mlp[0].weight.dtype))
        label = None
        if self.label_embedding is not None and labels is not None:
            label = labels.to(self.label_embedding.dtype) @ self.label_embedding
        h = F.relu(self.input_conv(x))
        skip = torch.zeros_like(h)
        for block in self.blocks:
            h, skip_n = block(h, step, label)
            skip = skip + skip_n
        skip = skip * math.sqrt(1.0 / len(self.blocks))
        return self.output_zero(F.relu(self.output_conv(skip)))


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters (works on the meta device)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
