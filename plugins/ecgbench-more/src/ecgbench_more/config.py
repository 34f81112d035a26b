"""Settings of the MoRE models (pydantic; no torch import here).

Defaults are the published ones (``svthapa/MoRE``: ``utils/build_model.py``,
``pretrain_multimodel.py``) where the paper or its code fixes them; the budgets in
:mod:`ecgbench_more.plugin` shrink them for a CPU.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: The settings that decide the pre-trained network (everything else only reads it out).
PRETRAIN_FIELDS: tuple[str, ...] = (
    "ecg_dim", "ecg_depth", "ecg_heads", "stem_channels", "patch_samples", "drop_key",
    "text_model_path", "text_dim", "text_depth", "text_heads", "vocab_size", "max_tokens", "lowercase",
    "lora_r", "lora_alpha", "lora_dropout", "train_text_base",
    "proj_dim", "temperature",
    "learning_rate", "weight_decay", "restart_epochs", "min_learning_rate", "batch_size", "grad_accum",
    "max_epochs", "patience", "augmentations", "seed",
)


class MoreConfig(BaseModel):
    """ECG ViT + RoBERTa-family text encoder with LoRA, contrastively aligned on ECG–report pairs."""

    model_config = ConfigDict(extra="forbid")

    # ECG encoder: ViT with MoRE's two-convolution patch embedding (12 x 1000 at 100 Hz -> 196 tokens)
    ecg_dim: int = Field(default=768, ge=8, description="ViT width (published: ViT-B, 768)")
    ecg_depth: int = Field(default=12, ge=1, description="transformer blocks (published: 12)")
    ecg_heads: int = Field(default=12, ge=1, description="attention heads (published: 12)")
    stem_channels: int = Field(default=256, ge=1, description="channels of the first patch convolution (published: 256)")
    patch_samples: int = Field(
        default=5, ge=1, description="kernel and stride of the first patch convolution, samples at 100 Hz (published: 5)"
    )
    drop_key: float = Field(default=0.3, ge=0, le=1, description="DropKey ratio of the attention logits (published: 0.3)")

    # text encoder
    text_model_path: str | None = Field(
        default=None,
        description="local folder of a RoBERTa-family checkpoint (config.json, *.safetensors, tokenizer files), "
        "e.g. RoBERTa-base-PM-M3 as published or xlm-roberta-base for German reports; never downloaded. "
        "None: a randomly initialised RoBERTa with a tokenizer trained on the training reports",
    )
    text_dim: int = Field(default=768, ge=8, description="width of the random RoBERTa (without text_model_path)")
    text_depth: int = Field(default=12, ge=1, description="layers of the random RoBERTa")
    text_heads: int = Field(default=12, ge=1, description="attention heads of the random RoBERTa")
    vocab_size: int = Field(default=8000, ge=300, description="byte-level BPE vocabulary trained on the training reports")
    max_tokens: int = Field(default=512, ge=8, description="reports are cut to this many tokens (published: 512)")
    lowercase: bool = Field(default=True, description="lower-case reports and prompts (PTB-XL's reports are lower case)")
    lora_r: int = Field(default=16, ge=1, description="LoRA rank (published: 16)")
    lora_alpha: int = Field(default=8, ge=1, description="LoRA alpha (published: 8)")
    lora_dropout: float = Field(default=0.1, ge=0, lt=1, description="LoRA dropout (published: 0.1)")
    train_text_base: bool | None = Field(
        default=None,
        description="also train the text model's own weights besides the LoRA adapters and biases. None: only "
        "for the random model (it has nothing to keep; frozen, its token embeddings would stay random), never "
        "for a pre-trained checkpoint (published: LoRA adapters and biases only)",
    )

    # shared space and loss
    proj_dim: int = Field(default=128, ge=2, description="width of the shared embedding space (published: 128)")
    temperature: float = Field(default=0.02, gt=0, lt=1, description="initial InfoNCE temperature, learned (published: 0.02)")

    # training
    learning_rate: float = Field(default=3e-5, gt=0, description="AdamW learning rate (published: 3e-5)")
    weight_decay: float = Field(default=0.1, ge=0, description="AdamW weight decay (published: 0.1)")
    restart_epochs: int = Field(default=10, ge=1, description="epochs of the first cosine cycle, T_0 (published: 10)")
    min_learning_rate: float = Field(default=3e-6, ge=0, description="cosine floor, eta_min (published: 3e-6)")
    batch_size: int = Field(default=100, ge=2, description="pairs per batch, the in-batch negatives (published: 100)")
    grad_accum: int = Field(default=4, ge=1, description="batches per optimizer step (published: 4)")
    max_epochs: int = Field(default=100, ge=1, description="upper bound; early stopping usually ends training first")
    patience: int = Field(default=10, ge=1, description="epochs without a better validation loss before stopping (published: 10)")
    augmentations: tuple[Literal["time_warp", "permutation", "none"], ...] = Field(
        default=("time_warp", "permutation", "none"),
        min_length=1,
        description="each training record gets one of these, uniformly (published: all three); ('none',) turns "
        "augmentation off",
    )

    # running
    eval_batch_size: int = Field(default=256, ge=1)
    threads: int = Field(default=0, ge=0, description="torch intra-op threads (0: leave as is)")
    cache_pretrain: bool = Field(
        default=True, description="reuse a pre-trained network from the cache when settings, data and seed match"
    )
    seed: int = Field(default=0, description="combined with the run seed for initialisation and data order")

    def pretrain_part(self) -> dict:
        """The settings that decide the pre-trained weights (the cache key)."""
        return {name: getattr(self, name) for name in PRETRAIN_FIELDS}


class ZeroShotConfig(MoreConfig):
    """MoRE zero-shot: each statement scored by the similarity of the ECG to prompts naming it."""

    prompt_language: Literal["auto", "en", "de"] = Field(
        default="auto",
        description="prompts in English (the SCP-ECG descriptions) or German (plus English); auto: German for "
        "ptbxl, whose reports are mostly German, English otherwise",
    )


class LinearProbeConfig(MoreConfig):
    """MoRE linear probe: logistic regression per statement on the frozen ECG encoder's output."""

    probe_c: tuple[float, ...] = Field(
        default=(0.01, 0.1, 1.0, 10.0),
        description="inverse L2 strengths tried; the one with the best validation macro AUROC is kept",
    )
