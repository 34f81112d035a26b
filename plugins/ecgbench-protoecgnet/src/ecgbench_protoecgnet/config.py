"""Hyper-parameters of ProtoECGNet; the defaults are the published ('paper') settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ProtoECGNetConfig(BaseModel):
    """Defaults follow the reference implementation's documented run (ResNet-18 backbones,
    512-d prototypes, 5/18/7 prototypes per class, Adam + cosine annealing, batch 32, up to
    200 epochs per stage with patience 10). The ``ci`` budget shrinks widths and epochs."""

    model_config = ConfigDict(extra="forbid")

    # preprocessing
    fs: float = Field(
        100.0, description="rate (Hz) the networks see; inputs at another rate are resampled"
    )
    highpass_hz: float = Field(
        0.5, description="1st-order Butterworth high-pass, zero-phase; 0 = off"
    )
    standardize: bool = Field(
        False, description="per-lead standardisation fitted on the training split"
    )

    # backbones (the same shape for the 1-D and the two 2-D ResNets)
    widths: tuple[int, ...] = Field((64, 128, 256, 512), description="channels per ResNet stage")
    blocks: tuple[int, ...] = Field(
        (2, 2, 2, 2), description="basic blocks per stage; (2,2,2,2) = ResNet-18"
    )
    dropout: float = Field(0.35, description="dropout before the feature-extractor head (stage 1)")

    # prototypes
    proto_dim: int = Field(512, description="channels of the latent space the prototypes live in")
    prototypes_rhythm: int = Field(5, description="prototypes per rhythm statement (1-D branch)")
    prototypes_local: int = Field(18, description="prototypes per local-morphology statement")
    prototypes_global: int = Field(7, description="prototypes per global statement")
    proto_time_len_local: int = Field(3, description="latent time steps a local prototype spans")
    similarity: Literal["cosine", "log"] = Field(
        "cosine",
        description="cosine similarity in the latent space, or the log activation "
        "log((d+1)/(d+1e-4)) of the cosine distance d = 1 - cos",
    )
    window_pooling: Literal["max", "mean"] = Field(
        "max",
        description="a time-localised prototype's similarity to a record: its best latent window ('max', the "
        "matching stretch the explanations show) or the mean over all windows ('mean', what the reference "
        "implementation's forward pass computes; needed for its converted weights)",
    )
    last_layer_correct: float = Field(1.0, description="initial weight prototype -> own class")
    last_layer_incorrect: float = Field(
        -0.5, description="initial weight prototype -> other classes"
    )

    # loss weights
    lam_cluster: float = 0.004
    lam_separation: float = 0.0004
    lam_orthogonality: float = 250.0
    lam_contrastive: float = 300.0
    lam_l1_last: float = Field(
        1e-4, description="L1 on the last layer / fusion weights in the head stages"
    )

    # optimisation
    batch_size: int = 32
    lr: float = Field(
        1e-4, description="Adam learning rate of the feature-extractor and joint stages"
    )
    lr_prototypes: float = Field(
        1e-4, description="Adam learning rate of the optional prototype warm-up"
    )
    lr_head: float = Field(
        1e-3, description="Adam learning rate of the last-layer and fusion stages"
    )
    weight_decay: float = 1.7e-4
    epochs_feature: int = 200
    epochs_prototypes: int = Field(
        0,
        description="optional warm-up before the joint stage: add-on and prototypes only, on "
        "cached features of the frozen backbone (the reference's 'prototypes' stage; 0 = skip)",
    )
    epochs_joint: int = 200
    epochs_last_layer: int = 200
    epochs_fusion: int = 200
    patience: int = Field(
        10, description="epochs without a better validation macro AUROC before stopping"
    )

    # compute
    threads: int = Field(
        0,
        description="torch intra-op threads while fitting and predicting (0 = torch's default); "
        "restored afterwards. On a shared 2-core machine one thread avoids OpenMP contention",
    )
    amp: bool = Field(
        False,
        description="bfloat16 autocast on CUDA (ignored on the CPU) for the training steps; the prototype "
        "similarities stay in float32",
    )

    # explanations
    explain_top_k: int = Field(3, description="prototypes listed per predicted statement")
    explain_threshold: float = Field(
        0.5, description="probability at which a statement counts as predicted"
    )

    def training_part(self) -> dict:
        """The fields that determine trained weights (the checkpoint key)."""
        return self.model_dump(exclude={"explain_top_k", "explain_threshold", "threads"})
