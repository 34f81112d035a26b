"""The JEPA predictor: from context tokens, predict the encoder features of the masked patches."""

from __future__ import annotations

import torch
from torch import nn

from ecgbench.nn.vit import (
    INIT_STD,
    NORM_EPS,
    TransformerBlock,
    gather_tokens,
    init_vit_weights,
    sinusoidal_positions,
)


class Predictor(nn.Module):
    """A narrow transformer (published: half the encoder width, the same depth and heads).

    The context tokens are projected to the predictor width and given their positions again;
    one learned mask token per masked patch, plus that patch's position, is appended; after the
    blocks the mask tokens are projected back to the encoder width.
    """

    def __init__(self, *, dim: int, width: int, depth: int, n_heads: int, n_positions: int, init_depth: int,
                 norm_bias: bool = False):
        super().__init__()
        self.embed = nn.Linear(dim, width, bias=False)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, width))
        self.register_buffer("positions", sinusoidal_positions(n_positions, width), persistent=False)
        self.blocks = nn.ModuleList(TransformerBlock(width, n_heads, norm_bias=norm_bias) for _ in range(depth))
        self.norm = nn.LayerNorm(width, eps=NORM_EPS, bias=norm_bias)
        self.proj = nn.Linear(width, dim, bias=False)
        init_vit_weights(self, init_depth)
        nn.init.trunc_normal_(self.mask_token, std=INIT_STD)

    def forward(self, context: torch.Tensor, context_index: torch.Tensor, target_index: torch.Tensor) -> torch.Tensor:
        """``context float32[b, k, dim]`` at patches ``context_index int64[b, k]`` ->
        predictions ``float32[b, m, dim]`` for the patches ``target_index int64[b, m]``."""
        b, m = target_index.shape
        positions = self.positions[None].expand(b, -1, -1)
        x = self.embed(context) + gather_tokens(positions, context_index)
        queries = self.mask_token.expand(b, m, -1) + gather_tokens(positions, target_index)
        x = torch.cat([x, queries], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.proj(self.norm(x)[:, -m:])
