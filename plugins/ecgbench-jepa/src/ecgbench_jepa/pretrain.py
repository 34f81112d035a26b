"""JEPA pre-training of the ECG encoder on unlabelled signals.

:func:`pretrain_encoder` takes a bare signal array: labels cannot reach the loop because the
function has no way to receive them. The predictor regresses, with an L1 loss, the features
that the target encoder (an exponential moving average of the context encoder) gives the
masked patches. The targets are the target encoder's output tokens after its final layer
norm, with no further normalisation (as published; I-JEPA adds another layer norm, ECG-JEPA
does not). The target encoder's weights are the result, as the published evaluation uses them.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ecgbench import Progress as ProgressBar
from ecgbench.data.streaming import RecordRows, take_rows
from ecgbench.errors import DataError
from ecgbench.nn import distributed
from ecgbench.nn.devices import autocast, to_device
from ecgbench.nn.vit import ViTEncoder, gather_tokens
from ecgbench_jepa.config import JEPAConfig
from ecgbench_jepa.masking import sample_batch_masks
from ecgbench_jepa.predictor import Predictor
from ecgbench_jepa.preprocess import LeadNormalizer, crop_starts, crops_at, samples_per
from ecgbench_jepa.schedules import adamw, linear, set_lr, warmup_cosine

#: ``ctx.progress``: (iterable, description) -> one progress bar over the iterable.
Progress = Callable[[Iterable, str], ProgressBar]

#: The progress bar's loss is the mean over the last 1/LOSS_SEGMENTS of the steps.
LOSS_SEGMENTS = 20


def build_encoder(config: JEPAConfig, fs: float, dropout: float = 0.0) -> ViTEncoder:
    """The encoder for signals at ``fs`` Hz: patches of ``patch_ms`` and positions for a
    ``pretrain_crop_s`` window (200 tokens for 10 s at 50 ms per patch)."""
    patch = samples_per(config.patch_ms / 1000.0, fs, "patch_ms")
    window = samples_per(config.pretrain_crop_s, fs, "pretrain_crop_s")
    return ViTEncoder(
        dim=config.dim,
        depth=config.depth,
        n_heads=config.n_heads,
        patch_size=patch,
        n_positions=window // patch,
        n_registers=config.n_registers,
        dropout=dropout,
        norm_bias=config.norm_bias,
    )


@torch.no_grad()
def ema_update_(target: nn.Module, online: nn.Module, momentum: float) -> None:
    """``target <- momentum * target + (1 - momentum) * online``, parameter by parameter."""
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        t.mul_(momentum).add_(o.detach(), alpha=1.0 - momentum)


class JEPA(nn.Module):
    """Context encoder, predictor and EMA target encoder (no gradients)."""

    def __init__(self, encoder: ViTEncoder, config: JEPAConfig):
        super().__init__()
        self.encoder = encoder
        self.predictor = Predictor(
            dim=config.dim,
            width=config.predictor_width,
            depth=config.predictor_blocks,
            n_heads=config.n_heads,
            n_positions=encoder.n_positions,
            init_depth=config.depth,
            norm_bias=config.norm_bias,
        )
        self.target_encoder = copy.deepcopy(encoder).requires_grad_(False)

    def loss(self, x: torch.Tensor, context: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x float32[b, 12, L]`` normalised, patch indices ``context [b, k]`` and ``target
        [b, m]`` -> (L1 loss, mean over channels of the SD of the target features)."""
        with torch.no_grad():
            h = gather_tokens(self.target_encoder(x), target)
        z = self.predictor(self.encoder(x, keep=context), context, target)
        spread = h.reshape(-1, h.shape[-1]).std(dim=0).mean()
        return torch.mean(torch.abs(z - h)), spread


@dataclass
class PretrainResult:
    """The target encoder's weights and the training curve."""

    encoder_state: dict[str, torch.Tensor]
    losses: np.ndarray  # float64[steps], L1 loss per step
    target_std: np.ndarray  # float64[steps], SD of target features per step (collapse check)
    seconds: float

    def summary(self, fraction: float = 0.05) -> dict[str, float]:
        """Mean loss and target SD over the first and last ``fraction`` of the steps."""
        k = max(1, int(len(self.losses) * fraction))
        return {
            "first_loss": float(self.losses[:k].mean()),
            "final_loss": float(self.losses[-k:].mean()),
            "first_target_std": float(self.target_std[:k].mean()),
            "final_target_std": float(self.target_std[-k:].mean()),
        }


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Endless batches of record indices drawn from successive shuffles of ``range(n)``."""
    buffer = np.empty(0, dtype=np.int64)
    while True:
        while len(buffer) < batch_size:
            buffer = np.concatenate([buffer, rng.permutation(n)])
        yield buffer[:batch_size]
        buffer = buffer[batch_size:]


def _silent(iterable: Iterable, desc: str) -> ProgressBar:
    return ProgressBar(iterable, desc=desc, enabled=False)


def pretrain_encoder(
    signals: np.ndarray | RecordRows,
    fs: float,
    config: JEPAConfig,
    *,
    seed: int,
    device: str = "cpu",
    progress: Progress | None = None,
) -> PretrainResult:
    """JEPA pre-training on ``signals`` (float32[n, 12, T], mV, at ``fs`` Hz; no labels).

    The signals are standardised per lead with their own mean and SD and clipped to
    ``+- clip_std``; each example is a random ``pretrain_crop_s`` window. Each step reads its
    batch's records (a memmapped cohort is never copied whole) and standardises them. In a
    multi-process run ``pretrain_batch_size`` is the global batch (:mod:`ecgbench.nn.distributed`);
    ``target_std`` is then the mean over ranks of each rank's share.
    """
    if not isinstance(signals, np.ndarray | RecordRows) or signals.ndim != 3 or signals.shape[1] != 12:
        raise DataError(
            f"pre-training takes a signal array float32[n, 12, T]; got {type(signals).__name__} "
            f"of shape {getattr(signals, 'shape', None)}"
        )
    started = time.perf_counter()
    normalizer = LeadNormalizer.fit(signals, clip=config.clip_std)
    window = samples_per(config.pretrain_crop_s, fs, "pretrain_crop_s")
    if window > signals.shape[-1]:
        raise DataError(
            f"pretrain_crop_s = {config.pretrain_crop_s} s needs {window} samples, "
            f"but the records have {signals.shape[-1]} at {fs:g} Hz"
        )
    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, 0x4A45])
    model = JEPA(build_encoder(config, fs), config).to(device)
    steps, total = config.pretrain_steps, config.pretrain_batch_size
    distributed.check_batch(total, "jepa pre-training")
    distributed.note_batch("jepa pre-training", total)
    distributed.broadcast_module(model)
    distributed.seed_rank(seed)
    part = distributed.share(total)  # this rank's records of every global batch
    weight, kept = distributed.share_weight(total, part), (part.stop - part.start) / total
    n_patches = model.encoder.n_positions
    optimizer = adamw(model, config.pretrain_lr, config.pretrain_weight_decay, config.pretrain_betas, eps=1e-6)
    batches = _batches(len(signals), total, rng)
    losses = torch.zeros(steps, dtype=torch.float64, device=device)  # read back once, at the end
    spreads = torch.zeros(steps, dtype=torch.float64, device=device)
    trained = [p for p in model.parameters() if p.requires_grad]
    bar = (progress or _silent)(range(steps), "jepa pre-training")
    shown_every = max(1, steps // LOSS_SEGMENTS)
    for step in bar:
        set_lr(optimizer, warmup_cosine(step, steps, config.pretrain_lr, config.pretrain_final_lr, config.pretrain_warmup_steps))
        optimizer.param_groups[0]["weight_decay"] = warmup_cosine(
            step, steps, config.pretrain_weight_decay, config.pretrain_final_weight_decay
        )
        rows = next(batches)  # the global batch's draws on every rank; this rank reads its share
        starts = crop_starts(len(rows), signals.shape[-1], window, rng)
        batch = normalizer(take_rows(signals, rows[part]))
        x = to_device(crops_at(batch, np.arange(len(batch)), starts[part], window), device)
        masks = sample_batch_masks(
            len(rows),
            n_patches,
            min_keep_ratio=config.min_keep_ratio,
            max_keep_ratio=config.max_keep_ratio,
            min_block=config.min_block_patches,
            rng=rng,
            sampler=config.mask_sampler,
        )
        context = to_device(masks.context[part], device)
        target = to_device(masks.target[part], device)
        with autocast(device, config.amp):
            loss, spread = model.loss(x, context, target)
        optimizer.zero_grad(set_to_none=True)
        (loss * weight).backward()
        distributed.average_gradients(trained)
        optimizer.step()
        ema_update_(model.target_encoder, model.encoder, linear(step, steps, config.ema_momentum, config.ema_final_momentum))
        losses[step], spreads[step] = loss.detach() * kept, spread.detach() * kept
        if (step + 1) % shown_every == 0:  # this rank's share, read back once per segment
            bar.set_postfix(loss=float(losses[step + 1 - shown_every : step + 1].mean()) / kept)
    losses = distributed.sum_over_ranks(losses).cpu().numpy()
    spreads = distributed.sum_over_ranks(spreads).cpu().numpy()
    state = {k: v.detach().cpu().clone() for k, v in model.target_encoder.state_dict().items()}
    return PretrainResult(encoder_state=state, losses=losses, target_std=spreads, seconds=time.perf_counter() - started)
