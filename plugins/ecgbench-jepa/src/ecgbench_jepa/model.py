"""The ``classify-71-labels`` models: JEPA-pre-trained (or random) encoder + probe or fine-tune.

Pre-training sees only the training split's signals (folds 1-8 by default), never labels,
and never the validation or test records; the validation split serves model selection of
the downstream head only.
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
import torch

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import N_LABELS
from ecgbench.errors import DataError
from ecgbench.nn.threads import torch_threads
from ecgbench.nn.vit import count_parameters
from ecgbench_jepa.config import JEPAConfig
from ecgbench_jepa.downstream import (
    FinetuneHead,
    LinearProbe,
    crop_averaged_logits,
    train_classifier,
)
from ecgbench_jepa.encoder_cache import load_or_pretrain
from ecgbench_jepa.preprocess import LeadNormalizer, samples_per
from ecgbench_jepa.pretrain import build_encoder

Head = Literal["probe", "finetune"]


class JEPAClassifier:
    """ECG-JEPA encoder with a linear probe (frozen) or a full fine-tune, per the published
    protocol. ``fit(train, val)``; ``predict_proba(float32[n, 12, T] mV) -> float32[n, 71]``."""

    def __init__(self, config: JEPAConfig, ctx: RunContext, head: Head):
        self.config, self.ctx, self.head = config, ctx, head
        self.model: torch.nn.Module | None = None
        self.normalizer: LeadNormalizer | None = None
        self.fs: float | None = None

    def fit(self, train: ECGDataset, val: ECGDataset) -> JEPAClassifier:
        with torch_threads(self.config.threads):
            return self._fit(train, val)

    def _fit(self, train: ECGDataset, val: ECGDataset) -> JEPAClassifier:
        config, ctx = self.config, self.ctx
        if val.fs != train.fs:
            raise DataError(f"validation split {val.name!r} is at {val.fs:g} Hz but training at {train.fs:g} Hz")
        self.fs = train.fs
        crop = samples_per(config.crop_s, train.fs, "crop_s")
        stride = samples_per(config.crop_stride_s, train.fs, "crop_stride_s")
        pretrained = load_or_pretrain(train.signals, train.fs, config, ctx) if config.pretrained else None
        torch.manual_seed(ctx.seed)
        encoder = build_encoder(config, train.fs, dropout=config.dropout if self.head == "finetune" else 0.0)
        if pretrained is not None:
            encoder.load_state_dict(pretrained)
        else:
            ctx.note("pretrain_cache", "none (random initialisation)")
        if self.head == "probe":
            model = LinearProbe(encoder, N_LABELS, config.n_heads)
        else:
            model = FinetuneHead(encoder, N_LABELS)
        self.model = model.to(ctx.device)
        ctx.note("n_parameters", count_parameters(model))
        ctx.note("n_parameters_encoder", count_parameters(encoder))
        ctx.note("n_parameters_trained", count_parameters(model, trainable_only=True))
        ctx.note("patch_samples", encoder.patch_size)

        self.normalizer = LeadNormalizer.fit(train.signals, clip=config.clip_std)
        started = time.perf_counter()
        result = train_classifier(
            self.model,
            self.normalizer(train.signals),
            train.labels,
            self.normalizer(val.signals),
            val.labels,
            config,
            crop=crop,
            stride=stride,
            rng=ctx.rng(f"jepa-{self.head}"),
            device=ctx.device,
            progress=ctx.progress,
        )
        ctx.note("downstream_seconds", round(time.perf_counter() - started, 2))
        ctx.note("downstream_steps", result.steps_run)
        ctx.note("downstream_best_step", result.best_step)
        ctx.note("val_macro_auroc", None if np.isnan(result.best_val_auroc) else round(result.best_val_auroc, 4))
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``x``: float32[n, 12, T] in mV at the training rate -> float32[n, 71] in [0, 1]."""
        if self.model is None or self.normalizer is None or self.fs is None:
            raise RuntimeError("predict_proba() called before fit()")
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 3 or x.shape[1] != 12:
            raise DataError(f"predict_proba expects float32[n, 12, T], got shape {x.shape}")
        with torch_threads(self.config.threads):
            logits = crop_averaged_logits(
                self.model,
                self.normalizer(x),
                samples_per(self.config.crop_s, self.fs, "crop_s"),
                samples_per(self.config.crop_stride_s, self.fs, "crop_stride_s"),
                self.config.eval_batch_size,
                self.ctx.device,
            )
        return torch.sigmoid(torch.from_numpy(logits)).numpy().astype(np.float32)


def create_linear(config: JEPAConfig, ctx: RunContext) -> JEPAClassifier:
    """``jepa-linear`` (and ``jepa-linear-random``, whose config has ``pretrained = False``)."""
    return JEPAClassifier(config, ctx, head="probe")


def create_finetune(config: JEPAConfig, ctx: RunContext) -> JEPAClassifier:
    """``jepa-finetune``: the pre-trained encoder fine-tuned end to end."""
    return JEPAClassifier(config, ctx, head="finetune")
