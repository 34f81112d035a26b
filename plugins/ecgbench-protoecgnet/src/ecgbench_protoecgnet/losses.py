"""ProtoECGNet's loss terms, each a small function with its definition in the docstring.

Shapes: ``sims float32[B, P]`` (prototype similarities), ``y float32[B, C]`` (0/1 targets),
``identity float32[P, C]`` (one-hot class of each prototype), ``prototypes float32[P, ...]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


def class_pos_weight(y: np.ndarray) -> np.ndarray:
    """``float32[C]``: ``(N_pos - c) / c`` per class, with ``c`` its positive count in the training
    labels and ``N_pos`` the positive count over all classes (the reference's definition).

    Two guards keep every class learnable: a class without positives gets 1 (its positive term
    never occurs), and so does a class that is the only one with positives (the formula would
    give 0 and silence its positive term, e.g. NORM when DIG and EL are absent).
    """
    counts = np.asarray(y, dtype=np.float64).sum(axis=0)
    total = counts.sum()
    weights = np.ones_like(counts)
    usable = (counts > 0) & (total > counts)
    weights[usable] = (total - counts[usable]) / counts[usable]
    return weights.astype(np.float32)


def jaccard_cooccurrence(y: np.ndarray) -> np.ndarray:
    """``float32[C, C]``: ``|i and j| / |i or j|`` over the training records (0 where neither occurs)."""
    y = np.asarray(y, dtype=np.float64)
    both = y.T @ y
    counts = y.sum(axis=0)
    union = counts[:, None] + counts[None, :] - both
    return np.where(union > 0, both / np.maximum(union, 1e-12), 0.0).astype(np.float32)


def classification_loss(
    logits: torch.Tensor, y: torch.Tensor, pos_weight: torch.Tensor
) -> torch.Tensor:
    """Binary cross-entropy on logits with the positive term of class ``c`` scaled by ``pos_weight[c]``."""
    return F.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight)


def _class_max(sims: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
    """``[B, C]``: each record's highest similarity among the prototypes of each class."""
    masked = sims[:, :, None].masked_fill(identity[None] == 0, float("-inf"))
    return masked.max(dim=1).values


def clustering_loss(sims: torch.Tensor, y: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
    """``-mean`` over (record, present class) pairs of the highest similarity to that class's
    prototypes: pulls every positive record close to one prototype of each of its classes."""
    present = y > 0.5
    if not present.any():
        return sims.sum() * 0.0
    return -_class_max(sims, identity)[present].mean()


def separation_loss(sims: torch.Tensor, y: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
    """``mean`` over (record, absent class) pairs of the highest similarity to that class's
    prototypes: pushes records away from the prototypes of classes they do not have."""
    absent = y < 0.5
    if not absent.any():
        return sims.sum() * 0.0
    return _class_max(sims, identity)[absent].mean()


def orthogonality_loss(prototypes: torch.Tensor) -> torch.Tensor:
    """``||Q Q^T - I||_F^2 / P^2`` with ``Q`` the L2-normalised, flattened prototypes."""
    q = F.normalize(prototypes.flatten(1), dim=1)
    p = q.shape[0]
    gram = q @ q.T
    return ((gram - torch.eye(p, device=q.device, dtype=q.dtype)) ** 2).sum() / p**2


def contrastive_loss(
    prototypes: torch.Tensor, identity: torch.Tensor, cooccurrence: torch.Tensor
) -> torch.Tensor:
    """Label co-occurrence contrastive term over prototype pairs.

    ``S`` = cosine similarity of the flattened prototypes (clamped to (-1, 1)),
    ``M+ = A J A^T`` (``A`` = identity, ``J`` = co-occurrence in [0, 1]), ``M- = 1 - M+``;
    loss ``= -(sum(S * M+) / sum(M+) - sum(S * M-) / sum(M-)) / sqrt(P)``: prototypes of classes
    that occur together are pulled together, the others pushed apart. ``J`` of a class with
    itself is 1, so prototypes of the same class are pulled together hardest (as in the reference).
    """
    q = F.normalize(prototypes.flatten(1), dim=1)
    s = (q @ q.T).clamp(-1 + 1e-6, 1 - 1e-6)
    pos = identity @ cooccurrence @ identity.T
    neg = 1.0 - pos
    pulled = (s * pos).sum() / (pos.sum() + 1e-6)
    pushed = (s * neg).sum() / (neg.sum() + 1e-6)
    return -(pulled - pushed) / s.shape[0] ** 0.5


def wrong_class_l1(weight: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
    """L1 norm of the last-layer weights ``[C, P]`` that connect a prototype to another class."""
    return (weight * (1.0 - identity.T)).abs().sum()


@dataclass(frozen=True)
class LossWeights:
    cluster: float = 0.004
    separation: float = 0.0004
    orthogonality: float = 250.0
    contrastive: float = 300.0


def prototype_loss(
    logits: torch.Tensor,
    sims: torch.Tensor,
    y: torch.Tensor,
    prototypes: torch.Tensor,
    identity: torch.Tensor,
    pos_weight: torch.Tensor,
    cooccurrence: torch.Tensor,
    weights: LossWeights,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The joint-stage objective: weighted sum of the five terms, and each term's value (detached,
    on the device: the training loop reads them back once per epoch)."""
    terms = {
        "bce": classification_loss(logits, y, pos_weight),
        "cluster": clustering_loss(sims, y, identity),
        "separation": separation_loss(sims, y, identity),
        "orthogonality": orthogonality_loss(prototypes),
        "contrastive": contrastive_loss(prototypes, identity, cooccurrence),
    }
    total = (
        terms["bce"]
        + weights.cluster * terms["cluster"]
        + weights.separation * terms["separation"]
        + weights.orthogonality * terms["orthogonality"]
        + weights.contrastive * terms["contrastive"]
    )
    return total, {k: v.detach() for k, v in terms.items()}
