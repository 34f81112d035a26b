"""Downstream heads and their training: random crops in training, strided crops with averaged
logits at evaluation, model selection on validation macro AUROC (as in ``finetune.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ecgbench import Progress as ProgressBar
from ecgbench.data.streaming import RecordRows, take_rows
from ecgbench.metrics.classification import macro_auroc
from ecgbench.nn import distributed
from ecgbench.nn.devices import autocast, to_device
from ecgbench.nn.vit import INIT_STD, AttentionPooling, ViTEncoder
from ecgbench_jepa.config import JEPAConfig
from ecgbench_jepa.preprocess import LeadNormalizer, crop_starts, crops_at, strided_crops
from ecgbench_jepa.schedules import adamw, set_lr, warmup_cosine

Progress = Callable[[Iterable, str], ProgressBar]


def _silent(iterable: Iterable, desc: str) -> ProgressBar:
    return ProgressBar(iterable, desc=desc, enabled=False)


class LinearProbe(nn.Module):
    """Frozen encoder, then attention pooling over all tokens (register included) projected
    straight to the labels: the only trained parts are the query and three linear maps.
    :meth:`unfreeze` makes the encoder trainable too (fine-tuning after the linear probe)."""

    def __init__(self, encoder: ViTEncoder, n_labels: int, n_heads: int):
        super().__init__()
        self.encoder = encoder.requires_grad_(False).eval()
        self.pool = AttentionPooling(encoder.dim, n_heads, n_labels)
        self.frozen = True

    def unfreeze(self) -> LinearProbe:
        self.frozen = False
        self.encoder.requires_grad_(True)
        return self

    def train(self, mode: bool = True) -> LinearProbe:
        super().train(mode)
        if self.frozen:
            self.encoder.eval()  # frozen: never in training mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            tokens = self.encoder(x, with_registers=True)
        return self.pool(tokens)


class FinetuneHead(nn.Module):
    """The whole encoder trained with a linear layer on the register token (the mean token
    when the encoder has no register)."""

    def __init__(self, encoder: ViTEncoder, n_labels: int):
        super().__init__()
        self.encoder = encoder
        self.fc = nn.Linear(encoder.dim, n_labels, bias=False)
        nn.init.trunc_normal_(self.fc.weight, std=INIT_STD)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.encoder(x, with_registers=True)
        pooled = tokens[:, 0] if self.encoder.n_registers else tokens.mean(dim=1)
        return self.fc(pooled)


@torch.no_grad()
def crop_averaged_logits(
    model: nn.Module, signals: np.ndarray | RecordRows, length: int, stride: int, batch_size: int, device: str,
    normalizer: LeadNormalizer | None = None, amp: bool = False,
) -> np.ndarray:
    """Logits averaged over the strided windows of each record:
    float32[n, 12, T] (normalised, or in mV with ``normalizer``, applied a batch at a time)
    -> float32[n, n_labels]."""
    was_training = model.training
    model.eval()
    out = []
    prepare = normalizer or np.asarray
    for start in range(0, len(signals), batch_size):
        crops = strided_crops(prepare(signals[start : start + batch_size]), length, stride)
        b, c = crops.shape[:2]
        with autocast(device, amp):
            logits = model(to_device(crops.reshape(b * c, *crops.shape[2:]), device))
        out.append(logits.reshape(b, c, -1).mean(dim=1).float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out).astype(np.float32)


@dataclass
class TrainResult:
    best_val_auroc: float  # NaN when validation has no label with both classes
    best_step: int  # 1-based step whose weights were kept
    steps_run: int
    losses: np.ndarray  # float64[steps_run], BCE per step


def train_classifier(
    model: nn.Module,
    train_x: np.ndarray | RecordRows,
    train_y: np.ndarray,
    val_x: np.ndarray | RecordRows,
    val_y: np.ndarray,
    config: JEPAConfig,
    *,
    crop: int,
    stride: int,
    rng: np.random.Generator,
    device: str,
    progress: Progress | None = None,
    normalizer: LeadNormalizer | None = None,
) -> TrainResult:
    """Train on random ``crop``-sample windows with BCE; every ``eval_every`` steps score the
    validation set (strided windows, averaged logits) and keep the weights with the best
    macro AUROC; stop after ``patience`` steps without improvement. ``*_x``: float32[n, 12, T]
    normalised, or in mV with ``normalizer`` (applied to each batch as it is read, so a
    memmapped split is never copied whole); ``*_y``: {0, 1}[n, n_labels]. The model ends
    holding the kept weights. In a multi-process run ``batch_size`` is the global batch and
    rank 0 alone scores the validation set (:mod:`ecgbench.nn.distributed`)."""
    optimizer = adamw(model, config.lr, config.weight_decay, config.betas)
    targets = torch.from_numpy(train_y.astype(np.float32))
    trainable = [p for p in model.parameters() if p.requires_grad]
    total = min(config.batch_size, len(train_x))
    distributed.check_batch(total, "jepa downstream training")
    distributed.note_batch("jepa downstream training", total)
    distributed.broadcast_module(model)
    part = distributed.share(total)  # this rank's records of every global batch
    weight, kept = distributed.share_weight(total, part), (part.stop - part.start) / total
    main = distributed.is_main()
    best_auc, best_step, best_state = -np.inf, 0, None
    step_losses = torch.zeros(config.steps, dtype=torch.float64, device=device)  # read back once, at the end
    steps_run = 0
    bar = (progress or _silent)(range(config.steps), "jepa downstream training")
    model.train()
    for step in bar:
        set_lr(optimizer, warmup_cosine(step, config.steps, config.lr, config.final_lr, config.warmup_steps))
        index = rng.integers(0, len(train_x), size=total)  # the global batch, drawn alike on every rank
        starts = crop_starts(total, train_x.shape[-1], crop, rng)
        mine = index[part]
        batch = take_rows(train_x, mine) if normalizer is None else normalizer(take_rows(train_x, mine))
        x = to_device(crops_at(batch, np.arange(len(mine)), starts[part], crop), device)
        with autocast(device, config.amp):
            loss = F.binary_cross_entropy_with_logits(model(x).float(), to_device(targets[mine], device))
        optimizer.zero_grad(set_to_none=True)
        (loss * weight).backward()
        distributed.average_gradients(trainable)
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
        optimizer.step()
        step_losses[step] = loss.detach() * kept
        done = steps_run = step + 1
        if done % config.eval_every == 0 or done == config.steps:
            auc = float("nan")
            if main:  # rank 0 scores the validation set and tells the others
                logits = crop_averaged_logits(model, val_x, crop, stride, config.eval_batch_size, device, normalizer,
                                              config.amp)
                auc, _ = macro_auroc(val_y, logits)  # AUROC ranks, so logits score like probabilities
            auc = distributed.agree(auc)
            if np.isnan(auc) or auc > best_auc:  # NaN: no usable validation label, keep the latest
                best_auc, best_step = auc, done
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            recent = step_losses[max(0, done - config.eval_every) : done]  # this rank's share, read at evaluations
            bar.set_postfix(loss=float(recent.mean()) / kept, val_auroc=float(auc))
            if done - best_step >= config.patience:
                break
    losses = distributed.sum_over_ranks(step_losses[:steps_run]).cpu().numpy()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return TrainResult(best_val_auroc=float(best_auc), best_step=best_step, steps_run=steps_run, losses=losses)
