"""The ``classify-71-labels`` models: JEPA-pre-trained (or random) encoder + probe or fine-tune.

Pre-training sees only the training split's signals (folds 1-8 by default), never labels,
and never the validation or test records; the validation split serves model selection of
the downstream head only.

Weights: a fitted model exports everything prediction needs (encoder, head, the per-lead
normalisation, the rate) as ``ecg-jepa-probe`` or ``ecg-jepa-finetune``; importing such a file
skips all training. An ``ecg-jepa-encoder`` file (e.g. the authors' pre-trained encoder,
converted) replaces pre-training only: the head is trained in the run, as the protocol says.
For the fine-tune after the linear probe, a ``jepa-linear`` export is the first stage: importing
it runs only the second.
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
from ecgbench.weights import ModelWeights, WeightsMetadata
from ecgbench_jepa.config import FinetuneAfterLinearConfig, JEPAConfig
from ecgbench_jepa.downstream import (
    FinetuneHead,
    LinearProbe,
    crop_averaged_logits,
    train_classifier,
)
from ecgbench_jepa.encoder_cache import load_or_pretrain
from ecgbench_jepa.preprocess import LeadNormalizer, samples_per
from ecgbench_jepa.pretrain import build_encoder

Head = Literal["probe", "finetune", "probe_then_finetune"]
#: Architecture names of the weight files: a whole probe model, a whole fine-tuned model, an encoder.
PROBE, FINETUNE, ENCODER = "ecg-jepa-probe", "ecg-jepa-finetune", "ecg-jepa-encoder"


class JEPAClassifier:
    """ECG-JEPA encoder with a linear probe (frozen), a full fine-tune, or a linear probe
    fine-tuned further, per the published protocols.
    ``fit(train, val)``; ``predict_proba(float32[n, 12, T] mV) -> float32[n, 71]``."""

    def __init__(self, config: JEPAConfig, ctx: RunContext, head: Head):
        self.config, self.ctx, self.head = config, ctx, head
        self.model: torch.nn.Module | None = None
        self.normalizer: LeadNormalizer | None = None
        self.fs: float | None = None
        self.imported: tuple[ModelWeights, WeightsMetadata] | None = None

    @property
    def architecture(self) -> str:
        return FINETUNE if self.head == "finetune" else PROBE

    def fit(self, train: ECGDataset, val: ECGDataset) -> JEPAClassifier:
        with torch_threads(self.config.threads):
            return self._fit(train, val)

    def _check_rate(self, data: ECGDataset) -> None:
        wanted = self.config.sample_rate_hz
        if wanted is not None and float(data.fs) != float(wanted):
            raise DataError(
                f"dataset {data.name!r} is at {data.fs:g} Hz, but this encoder is built for {wanted:g} Hz "
                f"(sample_rate_hz; the published model: 500 Hz, 25-sample patches); load the data at "
                f"{wanted:g} Hz (--fs {wanted:g}) or --set sample_rate_hz=null"
            )

    def _build(self, fs: float, pretrained: dict[str, torch.Tensor] | None) -> torch.nn.Module:
        config = self.config
        dropout = {"probe": 0.0, "finetune": config.dropout}.get(self.head, getattr(config, "after_dropout", 0.0))
        torch.manual_seed(self.ctx.seed)
        encoder = build_encoder(config, fs, dropout=dropout)
        if pretrained is not None:
            encoder.load_state_dict(pretrained)
        if self.head == "finetune":
            return FinetuneHead(encoder, N_LABELS)
        return LinearProbe(encoder, N_LABELS, config.n_heads)

    def _fit(self, train: ECGDataset, val: ECGDataset) -> JEPAClassifier:
        config, ctx = self.config, self.ctx
        if val.fs != train.fs:
            raise DataError(f"validation split {val.name!r} is at {val.fs:g} Hz but training at {train.fs:g} Hz")
        self._check_rate(train)
        self.fs = train.fs
        if self.imported is not None and self.imported[1].contents == "model":
            return self._use_imported_model(train, val)
        if self.imported is not None:  # an encoder: it stands for pre-training
            pretrained = {k[len("encoder."):]: v for k, v in self.imported[0].tensors.items()}
            ctx.note("pretrain_cache", "imported encoder weights")
        elif config.pretrained:
            pretrained = load_or_pretrain(train.signals, train.fs, config, ctx)
        else:
            pretrained = None
            ctx.note("pretrain_cache", "none (random initialisation)")
        self.model = self._build(train.fs, pretrained).to(ctx.device)
        self._note_sizes()
        self.normalizer = LeadNormalizer.fit(train.signals, clip=config.clip_std)
        stages = ["probe", "finetune"] if self.head == "probe_then_finetune" else [self.head]
        for stage in stages:
            self._train(stage, train, val)
        return self

    def _train(self, stage: str, train: ECGDataset, val: ECGDataset) -> None:
        """One downstream stage; the second stage of probe-then-finetune unfreezes the encoder."""
        config, stream, suffix = self.config, f"jepa-{stage}", ""
        if self.head == "probe_then_finetune":
            suffix = f"_{stage}"
            if stage == "finetune":
                assert isinstance(self.model, LinearProbe) and isinstance(config, FinetuneAfterLinearConfig)
                self.model.unfreeze()
                config, stream = config.second_stage(), "jepa-after-linear"
        started = time.perf_counter()
        result = train_classifier(
            self.model,
            train.signals,
            train.labels,
            val.signals,
            val.labels,
            config,
            crop=samples_per(config.crop_s, train.fs, "crop_s"),
            stride=samples_per(config.crop_stride_s, train.fs, "crop_stride_s"),
            rng=self.ctx.rng(stream),
            device=self.ctx.device,
            progress=self.ctx.progress,
            normalizer=self.normalizer,
        )
        self.ctx.note(f"downstream_seconds{suffix}", round(time.perf_counter() - started, 2))
        self.ctx.note(f"downstream_steps{suffix}", result.steps_run)
        self.ctx.note(f"downstream_best_step{suffix}", result.best_step)
        auroc = None if np.isnan(result.best_val_auroc) else round(result.best_val_auroc, 4)
        self.ctx.note(f"val_macro_auroc{suffix}", auroc)

    def _note_sizes(self) -> None:
        model = self.model
        assert model is not None
        self.ctx.note("n_parameters", count_parameters(model))
        self.ctx.note("n_parameters_encoder", count_parameters(model.encoder))
        self.ctx.note("n_parameters_trained", count_parameters(model, trainable_only=True))
        self.ctx.note("patch_samples", model.encoder.patch_size)

    # -- weights ---------------------------------------------------------------------------
    def export_weights(self) -> ModelWeights | None:
        """Encoder, head and normalisation after fit(): everything predict_proba needs."""
        if self.model is None or self.normalizer is None:
            return None
        tensors = {f"model.{k}": v.detach().cpu() for k, v in self.model.state_dict().items()}
        tensors["normalizer.mean"] = torch.from_numpy(self.normalizer.mean)
        tensors["normalizer.std"] = torch.from_numpy(self.normalizer.std)
        return ModelWeights(self.architecture, "model", tensors, {"fs": self.fs, "clip_std": self.normalizer.clip})

    def import_weights(self, weights: ModelWeights, metadata: WeightsMetadata) -> None:
        """Use these weights in fit(): a whole model skips training, an encoder skips pre-training,
        and a jepa-linear model is the first stage of the fine-tune after the linear probe."""
        self.imported = (weights, metadata)

    def _use_imported_model(self, train: ECGDataset, val: ECGDataset) -> JEPAClassifier:
        weights, metadata = self.imported  # type: ignore[misc]
        fs = float(weights.extra["fs"])
        if float(train.fs) != fs:
            raise DataError(
                f"the weights were trained on records at {fs:g} Hz, dataset {train.name!r} is at {train.fs:g} Hz; "
                f"load it at {fs:g} Hz (--fs {fs:g})"
            )
        self.model = self._build(fs, None).to(self.ctx.device)
        self.model.load_state_dict({k[len("model."):]: v for k, v in weights.tensors.items() if k.startswith("model.")})
        self.normalizer = LeadNormalizer(
            mean=weights.tensors["normalizer.mean"].cpu().numpy(),
            std=weights.tensors["normalizer.std"].cpu().numpy(),
            clip=float(weights.extra["clip_std"]),
        )
        self._note_sizes()
        first_stage_only = self.head == "probe_then_finetune" and metadata.model != "jepa-finetune-after-linear"
        self.ctx.note("pretrain_cache", "imported model weights")
        if first_stage_only:  # a jepa-linear probe: the fine-tune after it still has to run
            self.ctx.note("first_stage", "imported (jepa-linear weights)")
            self._train("finetune", train, val)
        self.model.eval()
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
                amp=self.config.amp,
            )
        return torch.sigmoid(torch.from_numpy(logits)).numpy().astype(np.float32)


def create_linear(config: JEPAConfig, ctx: RunContext) -> JEPAClassifier:
    """``jepa-linear`` (and ``jepa-linear-random``, whose config has ``pretrained = False``)."""
    return JEPAClassifier(config, ctx, head="probe")


def create_finetune(config: JEPAConfig, ctx: RunContext) -> JEPAClassifier:
    """``jepa-finetune``: the pre-trained encoder fine-tuned end to end."""
    return JEPAClassifier(config, ctx, head="finetune")


def create_finetune_after_linear(config: FinetuneAfterLinearConfig, ctx: RunContext) -> JEPAClassifier:
    """``jepa-finetune-after-linear``: the linear probe, then encoder and pooling trained further."""
    return JEPAClassifier(config, ctx, head="probe_then_finetune")
