"""Hyper-parameters of ECG-JEPA: encoder, JEPA pre-training and the downstream head.

Defaults are the published values (kweimann/ECG-JEPA, ``configs/pretrain/ViTXS_ptbxl.yaml``
and ``configs/eval/{linear,finetune,finetune_after_linear}.yaml``); the ``ci`` budget shrinks
them to run on a CPU. The encoder defaults to ViT-XS, the size the authors pre-trained on PTB-XL
alone, which is the only pre-training data a run here has (the training split of the chosen
dataset); ``vit_size`` names the published sizes (``"s"`` is the headline model).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The published encoder sizes by name: (dim, depth, heads); the same table as
#: ``ecgbench.nn.vit.VIT_SIZES``, kept here so that configs load without torch.
PUBLISHED_SIZES: dict[str, tuple[int, int, int]] = {"xs": (192, 8, 4), "s": (384, 8, 6), "b": (768, 12, 12)}

#: Config fields that decide the pre-trained encoder weights (with the data and the seed);
#: together they key the pre-training cache, so a linear probe and a fine-tune share one run.
PRETRAIN_FIELDS: tuple[str, ...] = (
    "dim",
    "depth",
    "n_heads",
    "patch_ms",
    "n_registers",
    "predictor_dim",
    "predictor_depth",
    "pretrain_steps",
    "pretrain_batch_size",
    "pretrain_crop_s",
    "pretrain_lr",
    "pretrain_final_lr",
    "pretrain_warmup_steps",
    "pretrain_weight_decay",
    "pretrain_final_weight_decay",
    "pretrain_betas",
    "ema_momentum",
    "ema_final_momentum",
    "min_keep_ratio",
    "max_keep_ratio",
    "min_block_patches",
    "mask_sampler",
    "clip_std",
    "norm_bias",
    "amp",
)

#: Config fields of a pre-trained encoder that a run must match to load it as its encoder.
ENCODER_FIELDS: tuple[str, ...] = ("dim", "depth", "n_heads", "patch_ms", "n_registers", "norm_bias",
                                   "sample_rate_hz", "pretrained")

#: Fields a run may set differently from exported weights: they change how predictions are
#: computed in batches and windows, not the weights.
ADAPTABLE_FIELDS: tuple[str, ...] = ("eval_batch_size", "threads", "crop_stride_s")


class JEPAConfig(BaseModel):
    """Everything that shapes an ECG-JEPA classifier; the subclasses set the head's defaults."""

    model_config = ConfigDict(extra="forbid")

    # encoder (ViT-XS)
    vit_size: Literal["xs", "s", "b"] | None = Field(
        None,
        description="a published encoder size by name: sets dim, depth and n_heads (xs 192/8/4, s 384/8/6, "
        "b 768/12/12); None: the three fields as given",
    )
    dim: int = Field(192, description="token width (ViT-XS 192, ViT-S 384, ViT-B 768)")
    depth: int = Field(8, description="transformer blocks (XS 8, S 8, B 12)")
    n_heads: int = Field(4, description="attention heads (XS 4, S 6, B 12)")
    patch_ms: float = Field(
        50.0,
        description="patch length in ms: 25 samples at 500 Hz as published, 5 samples at 100 Hz "
        "(the same 50 ms, so 10 s is 200 tokens at either rate)",
    )
    sample_rate_hz: float | None = Field(
        None,
        description="the rate in Hz the encoder is built for (published: 500, with 25-sample patches and a "
        "5,000-sample window); data at another rate is an error. None: the data's rate",
    )
    n_registers: int = Field(1, description="register tokens prepended to the patch tokens")
    norm_bias: bool = Field(
        False,
        description="layer norms with a bias (the published code had them until October 2025, so its checkpoints "
        "of that time hold 2 per block + 1 more tensors); linear layers never have one",
    )
    predictor_dim: int | None = Field(None, description="predictor width; None = dim / 2 as published")
    predictor_depth: int | None = Field(None, description="predictor blocks; None = the encoder depth")

    # JEPA pre-training (labels are never used)
    pretrained: bool = Field(True, description="False: a randomly initialised encoder, no pre-training")
    pretrain_steps: int = Field(100_000, ge=1)
    pretrain_batch_size: int = Field(2048, ge=1)
    pretrain_crop_s: float = Field(10.0, gt=0, description="window per pre-training example, s (whole record)")
    pretrain_lr: float = Field(1e-3, gt=0, description="peak AdamW learning rate after warm-up")
    pretrain_final_lr: float = Field(1e-6, ge=0, description="learning rate at the end of the cosine decay")
    pretrain_warmup_steps: int = Field(10_000, ge=0, description="linear warm-up from 1e-6")
    pretrain_weight_decay: float = Field(0.01, ge=0, description="weight decay at the start (cosine schedule)")
    pretrain_final_weight_decay: float = Field(0.1, ge=0, description="weight decay at the end")
    pretrain_betas: tuple[float, float] = (0.9, 0.99)
    ema_momentum: float = Field(0.998, ge=0, le=1, description="target-encoder EMA momentum at step 0")
    ema_final_momentum: float = Field(0.9995, ge=0, le=1, description="momentum at the last step (linear)")
    min_keep_ratio: float = Field(0.15, gt=0, lt=1, description="smallest share of patches the context keeps")
    max_keep_ratio: float = Field(0.25, gt=0, lt=1, description="largest share of patches the context keeps")
    min_block_patches: int = Field(10, ge=1, description="masked patches come in contiguous blocks this long")
    mask_sampler: Literal["published", "separated"] = Field(
        "published",
        description="'published': blocks are cut out of the remaining kept intervals one by one, as the reference "
        "sampler does, so blocks may touch and merge; 'separated': at least one kept patch between blocks "
        "(every masked run is one drawn block; fewer, shorter runs)",
    )
    clip_std: float = Field(5.0, gt=0, description="normalised signals are clipped to +- this many SDs")

    # downstream head (defaults: the linear probe)
    steps: int = Field(5000, ge=1, description="optimiser steps of the downstream training")
    batch_size: int = Field(128, ge=1)
    lr: float = Field(1e-3, gt=0)
    final_lr: float = Field(1e-3, ge=0, description="learning rate at the end of the cosine decay")
    warmup_steps: int = Field(0, ge=0)
    weight_decay: float = Field(0.1, ge=0)
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = Field(1.0, ge=0, description="gradient-norm clip; 0 = none")
    dropout: float = Field(0.0, ge=0, lt=1, description="encoder dropout while fine-tuning")
    crop_s: float = Field(2.5, gt=0, description="training crops and test windows, s")
    crop_stride_s: float = Field(1.25, gt=0, description="stride of the test windows, s (logits are averaged)")
    eval_every: int = Field(100, ge=1, description="validation macro AUROC every this many steps")
    patience: int = Field(5000, ge=1, description="stop when validation AUROC has not improved for this many steps")
    eval_batch_size: int = Field(256, ge=1, description="records per forward pass when predicting")

    # compute
    threads: int = Field(
        0,
        ge=0,
        description="torch intra-op threads while fitting and predicting (0 = torch's default), restored "
        "afterwards; on a shared 2-core machine one thread avoids OpenMP contention between small ops",
    )
    amp: bool = Field(
        False,
        description="bfloat16 autocast on CUDA (ignored on the CPU) for pre-training, the head and prediction; "
        "torch keeps softmax, layer norms and the losses in float32",
    )

    @model_validator(mode="before")
    @classmethod
    def _size_by_name(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("vit_size") is None:
            return data
        name = data["vit_size"]
        if name not in PUBLISHED_SIZES:
            raise ValueError(f"vit_size={name!r}: use one of {sorted(PUBLISHED_SIZES)}")
        sizes = dict(zip(("dim", "depth", "n_heads"), PUBLISHED_SIZES[name], strict=True))
        clashes = {field: data[field] for field, value in sizes.items() if field in data and data[field] != value}
        if clashes:
            given = ", ".join(f"{field}={value}" for field, value in clashes.items())
            wanted = " ".join(f"--set {field}={sizes[field]}" for field in clashes)
            raise ValueError(
                f"vit_size={name!r} means dim={sizes['dim']}, depth={sizes['depth']}, n_heads={sizes['n_heads']}, but "
                f"{given} is set (by the budget or --set); add {wanted}, or use the paper budget"
            )
        return {**data, **sizes}

    @model_validator(mode="after")
    def _consistent(self) -> JEPAConfig:
        if self.min_keep_ratio > self.max_keep_ratio:
            raise ValueError(f"min_keep_ratio {self.min_keep_ratio} exceeds max_keep_ratio {self.max_keep_ratio}")
        if self.dim % self.n_heads:
            raise ValueError(f"dim {self.dim} is not divisible by n_heads {self.n_heads}")
        if self.predictor_width % self.n_heads:
            raise ValueError(f"predictor width {self.predictor_width} is not divisible by n_heads {self.n_heads}")
        if self.crop_s > self.pretrain_crop_s:
            raise ValueError(f"crop_s {self.crop_s} exceeds pretrain_crop_s {self.pretrain_crop_s}")
        return self

    @property
    def predictor_width(self) -> int:
        return self.predictor_dim or self.dim // 2

    @property
    def predictor_blocks(self) -> int:
        return self.predictor_depth or self.depth

    def pretrain_part(self) -> dict:
        """The fields that determine the pre-trained weights (the cache key's config part)."""
        return {name: getattr(self, name) for name in PRETRAIN_FIELDS}

    def encoder_part(self) -> dict:
        """The fields a pre-trained encoder must share with a run that loads it."""
        return {name: getattr(self, name) for name in ENCODER_FIELDS}


class LinearProbeConfig(JEPAConfig):
    """Frozen encoder + attention pooling + linear read-out (``configs/eval/linear.yaml``)."""


class RandomInitProbeConfig(LinearProbeConfig):
    """The same probe on a randomly initialised encoder: the baseline JEPA must beat."""

    pretrained: bool = False


class FinetuneConfig(JEPAConfig):
    """The whole encoder trained with a linear head on the register token (``finetune.yaml``)."""

    steps: int = Field(10_000, ge=1)
    final_lr: float = 1e-5
    warmup_steps: int = 200
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float = 0.0
    dropout: float = 0.05
    patience: int = 2000


class FinetuneAfterLinearConfig(LinearProbeConfig):
    """The linear probe, then the whole model (encoder and attention pooling) trained further from
    it (``finetune_after_linear.yaml``): the ``after_*`` fields set the second stage."""

    after_steps: int = Field(5000, ge=1, description="optimiser steps of the second stage")
    after_batch_size: int = Field(128, ge=1)
    after_lr: float = Field(1e-4, gt=0)
    after_final_lr: float = Field(1e-6, ge=0)
    after_warmup_steps: int = Field(200, ge=0)
    after_weight_decay: float = Field(0.0, ge=0)
    after_betas: tuple[float, float] = (0.9, 0.999)
    after_grad_clip: float = Field(1.0, ge=0)
    after_dropout: float = Field(0.1, ge=0, lt=1, description="encoder dropout in the second stage")
    after_eval_every: int = Field(100, ge=1)
    after_patience: int = Field(2000, ge=1)

    def second_stage(self) -> JEPAConfig:
        """The settings train_classifier reads, for the second stage."""
        return JEPAConfig(**{
            **self.model_dump(include=set(JEPAConfig.model_fields)),
            "vit_size": None,
            "steps": self.after_steps, "batch_size": self.after_batch_size, "lr": self.after_lr,
            "final_lr": self.after_final_lr, "warmup_steps": self.after_warmup_steps,
            "weight_decay": self.after_weight_decay, "betas": self.after_betas, "grad_clip": self.after_grad_clip,
            "dropout": self.after_dropout, "eval_every": self.after_eval_every, "patience": self.after_patience,
        })
