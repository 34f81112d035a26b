"""Configuration shared by the generators built on the SSSD-ECG backbone (no torch import here,
so a harness can read and validate configs without loading torch).

Defaults are the published SSSD-ECG settings (Alcaraz & Strodthoff 2023): 36 blocks, 256
channels, S4 state 64, step embedding 128 → 512, label embedding 128, Adam at 2e-4, 100,000
iterations with a checkpoint every 4,000. Their config file says batch 8 but their training
script hard-codes 6; the default is 6, the size the published model was trained with.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


class BackboneGeneratorConfig(BaseModel):
    """Network, training and sampling-batch settings common to the backbone generators."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    #: Fields that only change how samples are drawn or files are written, never the trained
    #: weights; every other field is part of the checkpoint key.
    SAMPLING_FIELDS: ClassVar[frozenset[str]] = frozenset({"sample_batch_size", "checkpoint_every"})

    # network
    n_blocks: int = Field(default=36, ge=1, description="residual blocks (two S4 layers each)")
    channels: int = Field(default=256, ge=2, description="residual and skip channels C; the S4 layers run on 2C features")
    s4_state: int = Field(default=64, ge=2, multiple_of=2, description="S4 state size N (HiPPO-LegS, N/2 complex modes)")
    s4_bidirectional: bool = Field(default=True, description="S4 layers see past and future (SSSD-ECG: yes)")
    s4_layer_norm: bool = Field(default=True, description="LayerNorm after each S4 layer's residual sum")
    s4_dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="dropout inside and after each S4 layer")
    step_embed_dim: int = Field(default=128, ge=4, multiple_of=2, description="sinusoidal time embedding size")
    step_hidden_dim: int = Field(default=512, ge=1, description="width of the two-layer swish MLP on the time embedding")
    label_embed_dim: int = Field(default=128, ge=1, description="label embedding size (71 SCP statements, summed when several are present)")
    conv_init: Literal["pytorch_default", "kaiming_normal"] = Field(
        default="pytorch_default",
        description="initialisation of the weight-normalised convolutions: 'pytorch_default' is what the published "
        "code effectively does (its kaiming_normal_ call comes after weight_norm and has no effect); "
        "'kaiming_normal' applies the He-normal initialisation that call intended",
    )
    s4_cauchy: Literal["conjugate_pairs", "stored_modes"] = Field(
        default="conjugate_pairs",
        description="modes of the S4 kernel's Cauchy sum: 'conjugate_pairs' (the real state space; SSSD-ECG's "
        "pykeops and CUDA kernels) or 'stored_modes' (SSSD-ECG's pure-PyTorch fallback, a different kernel)",
    )
    # training
    n_iters: int = Field(default=100_000, ge=1, description="optimiser steps")
    batch_size: int = Field(default=6, ge=1, description="records per step (SSSD-ECG's train.py runs 6; its config file says 8)")
    lr: float = Field(default=2e-4, gt=0.0, description="Adam learning rate")
    normalise: Literal["none", "global_std"] = Field(
        default="none",
        description="'none': the network sees mV, as SSSD-ECG does; 'global_std': signals are divided by one "
        "number, the training set's standard deviation over all leads and samples, and outputs are multiplied "
        "back by it exactly",
    )
    ema_decay: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="exponential moving average of the weights used for sampling (0: off, the raw weights, as "
        "SSSD-ECG); the decay ramps up as min(decay, (1 + i)/(10 + i)) over iterations i",
    )
    amp: bool = Field(default=False, description="bfloat16 autocast on CUDA (ignored on CPU); the S4 FFTs stay float32")
    checkpoint_every: int = Field(default=4000, ge=1, description="iterations between resumable checkpoints")
    # sampling
    sample_batch_size: int = Field(default=400, ge=1, description="records generated per batch (SSSD-ECG: 400)")

    def training_fields(self) -> dict:
        """The settings that determine the trained weights (the checkpoint key)."""
        return self.model_dump(exclude=set(self.SAMPLING_FIELDS))


#: The ``ci`` budget's network and training settings, shared by every generator on this
#: backbone so that their comparison isolates the objective and the sampler: a small network
#: (2 CPU cores, minutes; at equal compute two wide blocks learned faster than three or four
#: narrower ones), a larger learning rate for the short run and an average of the weights.
#: Signals stay in mV as published: scaling them to unit SD made the ci models worse (for
#: the DDPM, with ᾱ_T = 0.13, it leaves 36 % of the signal in x_T, which sampling starts
#: without).
CI_BACKBONE: dict[str, Any] = {
    "n_blocks": 2,
    "channels": 32,
    "s4_state": 64,
    "step_embed_dim": 64,
    "step_hidden_dim": 64,
    "label_embed_dim": 32,
    "n_iters": 800,
    "batch_size": 16,
    "lr": 4e-3,
    "ema_decay": 0.995,
    "normalise": "none",
    "checkpoint_every": 200,
    "sample_batch_size": 100,
    # the settings above were tuned, and the ci results measured, with He-normal convolutions
    "conv_init": "kaiming_normal",
}

#: Config fields a generator's exported weights may be evaluated with at another value:
#: they change how samples are drawn or files are written, not what the weights mean.
GENERATOR_ADAPTABLE: tuple[str, ...] = ("sample_batch_size", "checkpoint_every", "amp", "s4_cauchy")

#: On top of ``ci``: a network small enough for ``ecgbench validate`` and contract tests (seconds).
VALIDATE_BACKBONE: dict[str, Any] = {
    "n_blocks": 1,
    "channels": 4,
    "s4_state": 8,
    "step_embed_dim": 8,
    "step_hidden_dim": 8,
    "label_embed_dim": 4,
    "n_iters": 2,
    "batch_size": 4,
    "checkpoint_every": 1000,
}
