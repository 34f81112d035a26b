"""The MoRE network (ECG–report half): two encoders, two projection heads, a learned temperature
and the symmetric InfoNCE loss.

Published (``utils/build_model.py``, ``pretrain_multimodel.py``): each projection head is
``Linear(d, d, no bias)``, BatchNorm, ReLU, ``Linear(d, 128, no bias)``, BatchNorm; the loss
is InfoNCE (``info_nce``: cosine similarities over a temperature, the batch's other items as
negatives) in both directions, averaged; the temperature starts at 0.02 and is a parameter.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

#: Bounds of the learned temperature (a guard against a collapse to 0 or a blow-up).
TEMPERATURE_BOUNDS = (1e-3, 1.0)


class ProjectionHead(nn.Module):
    """``[b, width]`` -> ``[b, out_dim]``: linear, batch norm, ReLU, linear, batch norm."""

    def __init__(self, width: int, out_dim: int, hidden: int | None = None):
        super().__init__()
        hidden = hidden or width
        self.layers = nn.Sequential(
            nn.Linear(width, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, out_dim, bias=False), nn.BatchNorm1d(out_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def info_nce(ecg: torch.Tensor, text: torch.Tensor, temperature: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE of matching rows of ``ecg`` and ``text`` (``[b, d]``, normalised here):
    row i's positive is column i, the other columns are its negatives, in both directions.

    Two records of a batch with the same report text (PTB-XL repeats short reports verbatim)
    have the same text embedding, so neither ECG can prefer its own copy: the loss of such a
    pair cannot fall below log 2, and counting the copy as a second positive would give exactly
    the same loss and gradients. Nothing needs to be done about them.
    """
    logits = F.normalize(ecg, dim=-1) @ F.normalize(text, dim=-1).T / temperature
    target = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


class MoreNetwork(nn.Module):
    """ECG encoder + text encoder, each with its projection head into the shared space."""

    def __init__(self, ecg: nn.Module, text: nn.Module, proj_dim: int, temperature: float):
        super().__init__()
        self.ecg, self.text = ecg, text
        self.ecg_head = ProjectionHead(ecg.dim, proj_dim)
        self.text_head = ProjectionHead(text.width, proj_dim)
        self.log_temperature = nn.Parameter(torch.tensor(math.log(temperature)))

    @property
    def temperature(self) -> torch.Tensor:
        low, high = TEMPERATURE_BOUNDS
        return self.log_temperature.clamp(math.log(low), math.log(high)).exp()

    def embed_ecg(self, x: torch.Tensor) -> torch.Tensor:
        """Unit vectors ``[b, proj_dim]`` of preprocessed ECGs."""
        return F.normalize(self.ecg_head(self.ecg(x)), dim=-1)

    def embed_text(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Unit vectors ``[b, proj_dim]`` of tokenised reports."""
        return F.normalize(self.text_head(self.text(ids, mask)), dim=-1)

    def loss(self, x: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return info_nce(self.ecg_head(self.ecg(x)), self.text_head(self.text(ids, mask)), self.temperature)
