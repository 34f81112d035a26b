"""Settings of the LLaMA 3.2 Vision LoRA interpreter (pydantic; no torch import here)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LlamaLoraConfig(BaseModel):
    """Where the base model comes from, how LoRA is applied, how it is trained and how it answers.

    The paper (arXiv 2501.18670) applies LoRA to every layer except ``lm_head`` and
    ``embed_tokens`` but publishes neither rank, alpha, learning rate nor schedule; the defaults
    below are common LoRA choices, not the authors' values.
    """

    model_config = ConfigDict(extra="forbid")

    model_path: str | None = Field(
        default=None,
        description="local folder of a Mllama checkpoint (e.g. Llama-3.2-11B-Vision-Instruct) with its "
        "processor files; never downloaded. None means the tiny random model, allowed only with tiny=true",
    )
    tiny: bool = Field(
        default=False,
        description="build a tiny randomly initialised Mllama in-process (a wiring check, never a result)",
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="auto", description="weights' dtype; auto = bfloat16 on CUDA, float32 on CPU"
    )
    lora_r: int = Field(default=16, ge=1, description="LoRA rank (not published; a common choice)")
    lora_alpha: int = Field(default=32, ge=1, description="LoRA alpha (not published; 2 × r, a common choice)")
    lora_dropout: float = Field(default=0.05, ge=0, lt=1)
    learning_rate: float = Field(default=2e-4, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)
    warmup_ratio: float = Field(default=0.03, ge=0, lt=1, description="linear warm-up share, then cosine decay")
    epochs: int = Field(default=1, ge=1, description="passes over the training questions (unless max_steps)")
    max_steps: int | None = Field(default=None, ge=1, description="optimizer steps; overrides epochs")
    batch_size: int = Field(default=4, ge=1, description="questions per forward pass")
    grad_accum: int = Field(default=4, ge=1, description="forward passes per optimizer step")
    max_train_items: int | None = Field(
        default=None, ge=1, description="train on a random subset of this many questions (None: all)"
    )
    gradient_checkpointing: bool = Field(default=False, description="trade compute for memory (real weights)")
    max_new_tokens: int = Field(default=64, ge=1, description="greedy decoding length limit per answer")
    answer_batch_size: int = Field(default=8, ge=1)
    tiny_image_size: int = Field(default=112, ge=28, description="tile size of the tiny model, px (multiple of 14)")
    cache_adapter: bool = Field(
        default=True,
        description="reuse a trained adapter from the cache when model, settings, training data and seed match",
    )
    seed: int = Field(default=0, description="combined with the run seed for LoRA init and data order")
