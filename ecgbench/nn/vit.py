"""Vision-transformer blocks for 12-lead ECGs: one token per time patch spanning all leads.

The layout follows ECG-JEPA (Weimann & Conrad 2024): a patch is a window of ``patch_size``
samples across all 12 leads, embedded by a strided ``Conv1d(12 -> dim)``; positions are fixed
1-D sinusoids; optional register tokens are prepended; pre-norm transformer blocks with
``mlp_ratio`` 4 and, by default, no bias anywhere (linear layers and layer norms).
``norm_bias`` gives the layer norms biases on their own: the published code gave them biases
until October 2025 while its linear layers had none, so checkpoints of that time hold them.

Shapes: signals ``float32[b, 12, T]`` (normalised per lead), tokens ``float32[b, n, dim]``
with ``n = T // patch_size``; an index of kept tokens is ``int64[b, k]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

#: Layer-norm epsilon of the published encoder.
NORM_EPS = 1e-6
#: Standard deviation of the truncated-normal weight initialisation.
INIT_STD = 0.02
#: What DropKey adds to a dropped key's attention logit (as published: large but finite, so a query
#: whose keys are all dropped attends to all of them equally instead of giving NaN).
DROP_KEY_BIAS = -1e12


@dataclass(frozen=True)
class ViTSize:
    """Width, depth and number of attention heads of an encoder."""

    dim: int
    depth: int
    n_heads: int


#: The published ECG-JEPA encoder sizes (3,600,000, 14,277,888 and 85,185,024 parameters at 500 Hz, patch 25).
VIT_SIZES: dict[str, ViTSize] = {
    "xs": ViTSize(dim=192, depth=8, n_heads=4),
    "s": ViTSize(dim=384, depth=8, n_heads=6),
    "b": ViTSize(dim=768, depth=12, n_heads=12),
}


def sinusoidal_positions(n_positions: int, dim: int) -> torch.Tensor:
    """Fixed 1-D sinusoidal position codes, ``float32[n_positions, dim]``.

    Even channels hold ``sin(p / 10000^(2i/dim))``, odd channels the matching cosine.
    """
    if dim % 2:
        raise ValueError(f"sinusoidal positions need an even width, got dim={dim}")
    position = torch.arange(n_positions, dtype=torch.float64)[:, None]
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
    table = torch.zeros(n_positions, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table.float()


def gather_tokens(tokens: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Select tokens per sample: ``tokens[b, n, d]``, ``index int64[b, k]`` -> ``[b, k, d]``."""
    return torch.gather(tokens, 1, index[:, :, None].expand(-1, -1, tokens.shape[-1]))


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (optionally only those with ``requires_grad``)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


class PatchEmbedding(nn.Module):
    """``float32[b, n_leads, T]`` -> ``float32[b, T // patch_size, dim]``: one token per patch."""

    def __init__(self, dim: int, patch_size: int, n_leads: int = 12, bias: bool = False):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv1d(n_leads, dim, kernel_size=patch_size, stride=patch_size, bias=bias)

    def forward(self, signals: torch.Tensor) -> torch.Tensor:
        return self.proj(signals).transpose(1, 2)


class SelfAttention(nn.Module):
    """Multi-head self-attention over ``[b, n, dim]`` tokens.

    ``drop_key`` > 0 turns on DropKey (Li et al., CVPR 2023) while training: each attention
    logit is dropped with that probability before the softmax (the keys a query sees are
    thinned at random), instead of dropping attention weights after it.
    """

    def __init__(self, dim: int, n_heads: int, bias: bool = False, dropout: float = 0.0, drop_key: float = 0.0):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"dim={dim} is not divisible by n_heads={n_heads}")
        if not 0.0 <= drop_key <= 1.0:
            raise ValueError(f"drop_key={drop_key} is not a probability")
        self.n_heads, self.drop_key = n_heads, drop_key
        self.qkv = nn.Linear(dim, 3 * dim, bias=bias)
        self.proj = nn.Linear(dim, dim, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        mask = None
        if self.training and self.drop_key > 0:
            dropped = torch.rand(b, self.n_heads, n, n, device=x.device) < self.drop_key
            mask = torch.zeros(b, self.n_heads, n, n, dtype=q.dtype, device=x.device).masked_fill_(dropped, DROP_KEY_BIAS)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.dropout(self.proj(out.transpose(1, 2).reshape(b, n, d)))


class MLP(nn.Module):
    """Two linear layers with a GELU between them."""

    def __init__(self, dim: int, hidden: int, bias: bool = False, dropout: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, bias=bias)
        self.fc2 = nn.Linear(hidden, dim, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.fc2(self.dropout(F.gelu(self.fc1(x)))))


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``."""

    def __init__(self, dim: int, n_heads: int, mlp_ratio: float = 4.0, bias: bool = False, dropout: float = 0.0,
                 norm_bias: bool | None = None, drop_key: float = 0.0):
        super().__init__()
        norm_bias = bias if norm_bias is None else norm_bias
        self.norm1 = nn.LayerNorm(dim, eps=NORM_EPS, bias=norm_bias)
        self.attn = SelfAttention(dim, n_heads, bias=bias, dropout=dropout, drop_key=drop_key)
        self.norm2 = nn.LayerNorm(dim, eps=NORM_EPS, bias=norm_bias)
        self.mlp = MLP(dim, int(dim * mlp_ratio), bias=bias, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def init_vit_weights(module: nn.Module, depth: int) -> None:
    """Truncated-normal weights (std 0.02), zero biases, unit layer norms; the projections that
    write into the residual stream (attention output, second MLP layer) get std
    ``0.02 / sqrt(2 * depth)`` so the residual sum keeps its scale with depth."""
    for sub in module.modules():
        if isinstance(sub, (nn.Linear, nn.Conv1d)):
            nn.init.trunc_normal_(sub.weight, std=INIT_STD)
            if sub.bias is not None:
                nn.init.zeros_(sub.bias)
        elif isinstance(sub, nn.LayerNorm):
            nn.init.ones_(sub.weight)
            if sub.bias is not None:
                nn.init.zeros_(sub.bias)
    residual_std = INIT_STD / math.sqrt(2 * depth)
    for sub in module.modules():
        if isinstance(sub, TransformerBlock):
            nn.init.trunc_normal_(sub.attn.proj.weight, std=residual_std)
            nn.init.trunc_normal_(sub.mlp.fc2.weight, std=residual_std)


class ViTEncoder(nn.Module):
    """ECG vision transformer: ``float32[b, 12, T]`` -> tokens ``float32[b, n, dim]``.

    ``n_positions`` is the longest input in patches (e.g. 200 for 10 s at 50 ms per patch); a
    shorter input (a 2.5 s crop) uses the first positions. Register tokens carry no position
    and are dropped from the output unless ``with_registers`` is set (then they come first).
    """

    def __init__(
        self,
        *,
        dim: int,
        depth: int,
        n_heads: int,
        patch_size: int,
        n_positions: int,
        n_leads: int = 12,
        n_registers: int = 1,
        mlp_ratio: float = 4.0,
        bias: bool = False,
        dropout: float = 0.0,
        norm_bias: bool | None = None,
        drop_key: float = 0.0,
    ):
        super().__init__()
        self.dim, self.depth, self.patch_size, self.n_registers = dim, depth, patch_size, n_registers
        norm_bias = bias if norm_bias is None else norm_bias
        self.patch_embed = PatchEmbedding(dim, patch_size, n_leads=n_leads, bias=bias)
        self.register_buffer("positions", sinusoidal_positions(n_positions, dim), persistent=False)
        self.registers = nn.Parameter(torch.zeros(1, n_registers, dim)) if n_registers else None
        self.blocks = nn.ModuleList(
            TransformerBlock(dim, n_heads, mlp_ratio=mlp_ratio, bias=bias, dropout=dropout, norm_bias=norm_bias,
                             drop_key=drop_key)
            for _ in range(depth)
        )
        self.norm = nn.LayerNorm(dim, eps=NORM_EPS, bias=norm_bias)
        init_vit_weights(self, depth)
        if self.registers is not None:
            nn.init.trunc_normal_(self.registers, std=INIT_STD)

    @property
    def n_positions(self) -> int:
        return int(self.positions.shape[0])

    def forward(
        self, signals: torch.Tensor, keep: torch.Tensor | None = None, with_registers: bool = False
    ) -> torch.Tensor:
        """``signals float32[b, 12, T]``; ``keep int64[b, k]`` selects the patches to encode
        (JEPA context); returns ``[b, k or n (+ registers), dim]``."""
        x = self.patch_embed(signals)
        n = x.shape[1]
        if n > self.n_positions:
            raise ValueError(f"input has {n} patches but the encoder has {self.n_positions} positions")
        x = x + self.positions[:n]
        if keep is not None:
            x = gather_tokens(x, keep)
        if self.registers is not None:
            x = torch.cat([self.registers.expand(x.shape[0], -1, -1), x], dim=1)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        if self.n_registers and not with_registers:
            x = x[:, self.n_registers :]
        return x


class AttentionPooling(nn.Module):
    """One learned query attends over the tokens and is projected to ``out_dim`` outputs:
    ``float32[b, n, dim]`` -> ``float32[b, out_dim]`` (a linear read-out with learned weighting
    of the tokens, as the ECG-JEPA linear probe uses)."""

    def __init__(self, dim: int, n_heads: int, out_dim: int, bias: bool = False):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"dim={dim} is not divisible by n_heads={n_heads}")
        self.n_heads = n_heads
        self.query = nn.Parameter(torch.zeros(1, 1, dim))
        self.q = nn.Linear(dim, dim, bias=bias)
        self.kv = nn.Linear(dim, 2 * dim, bias=bias)
        self.proj = nn.Linear(dim, out_dim, bias=bias)
        for layer in (self.q, self.kv, self.proj):
            nn.init.trunc_normal_(layer.weight, std=INIT_STD)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        nn.init.trunc_normal_(self.query, std=INIT_STD)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        b, n, d = tokens.shape
        h = self.n_heads
        q = self.q(self.query.expand(b, -1, -1)).reshape(b, 1, h, d // h).transpose(1, 2)
        k, v = self.kv(tokens).reshape(b, n, 2, h, d // h).permute(2, 0, 3, 1, 4)
        pooled = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, d)
        return self.proj(pooled)
