"""Prototype projection: replace every prototype by the most similar latent window of a real
training record of its class, and remember which record and which stretch of it that was."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from ecgbench_protoecgnet.network import PrototypeBranch


@dataclass(frozen=True)
class PrototypeSource:
    """Where a projected prototype came from: a training record and a stretch of it.

    ``start``/``stop`` are sample indices of the preprocessed input (at the network rate);
    a pooled or global prototype spans the whole record. ``similarity_before`` is the learned
    prototype's similarity to that window, i.e. how far projection moved it (after projection
    the similarity is the maximum).
    """

    record_id: str
    window: int
    start: int
    stop: int
    similarity_before: float

    def to_dict(self) -> dict:
        return asdict(self)


def window_samples(
    window: int, length: int, n_windows: int, n_samples: int, pooled: bool
) -> tuple[int, int]:
    """The input samples ``[start, stop)`` that a latent window of ``length`` steps covers,
    by the backbone's downsampling factor (the receptive field is wider than this stretch)."""
    if pooled:
        return 0, n_samples
    step = n_samples / (n_windows + length - 1)
    return int(round(window * step)), min(n_samples, int(round((window + length) * step)))


@torch.no_grad()
def project_prototypes(
    branch: PrototypeBranch,
    x: np.ndarray,
    y: np.ndarray,
    record_ids: np.ndarray,
    batch_size: int,
    device: str,
) -> list[PrototypeSource | None]:
    """Project the prototypes of one branch onto its training set, in place.

    ``x``: ``float32[n, 12, T]`` preprocessed training inputs; ``y``: ``uint8[n, C]`` the branch's
    labels. A prototype may only take a window of a record that carries its class; a prototype
    whose class has no training record keeps its learned vector and gets ``None``.
    """
    branch.eval()
    layer = branch.prototypes
    identity = layer.identity
    n_proto = layer.n_prototypes
    best = torch.full((n_proto,), float("-inf"), device=device)
    patches = layer.prototypes.detach().clone()
    where = np.full((n_proto, 2), -1, dtype=np.int64)
    n_windows = 1
    for lo in range(0, len(x), batch_size):
        xb = torch.from_numpy(x[lo : lo + batch_size]).to(device)
        yb = torch.from_numpy(np.asarray(y[lo : lo + batch_size], dtype=np.float32)).to(device)
        z = branch.latent(xb)
        sims = layer.window_similarities(z)
        n_windows = sims.shape[-1]
        eligible = (yb @ identity.T) > 0
        sims = sims.masked_fill(~eligible[:, :, None], float("-inf"))
        values, flat = sims.permute(1, 0, 2).reshape(n_proto, -1).max(dim=1)
        better = values > best
        if better.any():
            rec, win = flat // n_windows, flat % n_windows
            windows = layer.windows(z)
            patches[better] = windows[rec[better], win[better]]
            best[better] = values[better]
            where[better.cpu().numpy()] = np.stack(
                [rec.cpu().numpy() + lo, win.cpu().numpy()], axis=1
            )[better.cpu().numpy()]
    layer.prototypes.data.copy_(patches)
    n_samples = x.shape[-1]
    pooled = branch.extent == "pooled"
    sources: list[PrototypeSource | None] = []
    for p in range(n_proto):
        rec, win = where[p]
        if rec < 0:
            sources.append(None)
            continue
        start, stop = window_samples(int(win), layer.length, n_windows, n_samples, pooled)
        sources.append(PrototypeSource(str(record_ids[rec]), int(win), start, stop, float(best[p])))
    return sources
