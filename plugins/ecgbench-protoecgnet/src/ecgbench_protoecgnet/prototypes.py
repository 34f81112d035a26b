"""The prototype layer: class-specific prototypes compared with every latent window."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ecgbench.nn.devices import float32

LOG_EPSILON = 1e-4


def similarity_from_cosine(cos: torch.Tensor, kind: str) -> torch.Tensor:
    """Cosine itself, or the log activation ``log((d + 1) / (d + 1e-4))`` of ``d = 1 - cos``."""
    if kind == "cosine":
        return cos
    if kind == "log":
        d = (1.0 - cos).clamp(min=0.0)
        return torch.log((d + 1.0) / (d + LOG_EPSILON))
    raise ValueError(f"similarity {kind!r} is not 'cosine' or 'log'")


def class_identity(n_classes: int, per_class: int) -> torch.Tensor:
    """``float32[P, C]`` one-hot: prototype ``p`` belongs to class ``p // per_class``."""
    identity = torch.zeros(n_classes * per_class, n_classes)
    identity[
        torch.arange(n_classes * per_class), torch.arange(n_classes).repeat_interleave(per_class)
    ] = 1.0
    return identity


class PrototypeLayer(nn.Module):
    """``P = n_classes * per_class`` prototypes of shape ``[dim, length]`` in the latent space.

    A latent map ``z: float32[B, dim, W]`` is cut into the ``W - length + 1`` windows of
    ``length`` steps; each prototype's similarity to a record is its best window's
    (``pooling="max"``) or the mean over the windows (``"mean"``, what the reference
    implementation's forward pass computes).
    """

    def __init__(
        self, n_classes: int, per_class: int, dim: int, length: int, similarity: str = "cosine",
        pooling: str = "max",
    ):
        super().__init__()
        if pooling not in ("max", "mean"):
            raise ValueError(f"window pooling {pooling!r} is not 'max' or 'mean'")
        self.length = length
        self.similarity = similarity
        self.pooling = pooling
        self.prototypes = nn.Parameter(torch.randn(n_classes * per_class, dim, length))
        self.register_buffer("identity", class_identity(n_classes, per_class))

    @property
    def n_prototypes(self) -> int:
        return int(self.prototypes.shape[0])

    def windows(self, z: torch.Tensor) -> torch.Tensor:
        """``float32[B, dim, W]`` -> ``float32[B, n_windows, dim, length]``."""
        if z.shape[-1] < self.length:
            raise ValueError(
                f"latent map has {z.shape[-1]} steps, fewer than the prototype length {self.length}"
            )
        return z.unfold(2, self.length, 1).permute(0, 2, 1, 3)

    def window_similarities(self, z: torch.Tensor) -> torch.Tensor:
        """``float32[B, P, n_windows]``: similarity of every prototype to every window, in float32
        also under bfloat16 autocast (the log similarity cannot tell nearby prototypes apart in
        bfloat16)."""
        with float32(z.device):
            w = self.windows(z.float()).flatten(2)
            cos = torch.einsum(
                "bwk,pk->bpw", F.normalize(w, dim=-1), F.normalize(self.prototypes.flatten(1), dim=-1)
            )
            return similarity_from_cosine(cos, self.similarity)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(similarity float32[B, P], best window int64[B, P])``."""
        sims = self.window_similarities(z)
        best, window = sims.max(dim=-1)
        return (best if self.pooling == "max" else sims.mean(dim=-1)), window

    @property
    def max_similarity(self) -> float:
        """The similarity of a prototype to an identical window."""
        return 1.0 if self.similarity == "cosine" else math.log(1.0 / LOG_EPSILON)
