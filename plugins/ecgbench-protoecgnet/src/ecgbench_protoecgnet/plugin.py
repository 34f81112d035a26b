"""Registers ProtoECGNet with ecgbench (import strings only: listing plugins never imports torch)."""

from __future__ import annotations

from ecgbench import ModelSpec, WeightsSpec, hookimpl

CITATION = (
    "Sethi S, Chen D, Statchen T, Burkhart MC, Bhandari N, Ramadan B, Beaulieu-Jones B. "
    "ProtoECGNet: Case-Based Interpretable Deep Learning for Multi-Label ECG Classification with "
    "Contrastive Learning. Machine Learning for Healthcare (MLHC) 2025, PMLR 298. arXiv:2504.08713. "
    "Phenotypes: Prototype Learning to Create Refined Interpretable Digital Phenotypes from ECGs, "
    "arXiv:2508.01521."
)

#: Small widths, few prototypes and few epochs: all stages, prediction and explanations in
#: minutes on 2 CPU cores. The 'paper' budget keeps the published defaults of the config.
#: The contrastive weight is a tenth of the published 300: with 3 prototypes per class the
#: published weight pulls a class's prototypes onto one training window (on the phantom only a
#: third of the local prototypes stayed distinct) and costs about 0.02 validation macro AUROC.
CI_BUDGET: dict = {
    "widths": (16, 24, 32, 48),
    "blocks": (1, 1, 1, 1),
    "proto_dim": 64,
    "prototypes_rhythm": 2,
    "prototypes_local": 3,
    "prototypes_global": 3,
    "batch_size": 64,
    "lr": 3e-3,
    "lr_prototypes": 1e-2,
    "lr_head": 1e-2,
    "dropout": 0.1,
    "lam_contrastive": 30.0,
    "epochs_feature": 14,
    "epochs_prototypes": 20,
    "epochs_joint": 4,
    "epochs_last_layer": 30,
    "epochs_fusion": 60,
    "patience": 8,
    "threads": 1,
}

#: On top of 'ci': tiny enough for `ecgbench validate` and the contract tests (seconds).
VALIDATE_OVERRIDES: dict = {
    "widths": (8, 8, 8, 8),
    "proto_dim": 8,
    "prototypes_rhythm": 1,
    "prototypes_local": 1,
    "prototypes_global": 1,
    "epochs_feature": 1,
    "epochs_prototypes": 1,
    "epochs_joint": 1,
    "epochs_last_layer": 1,
    "epochs_fusion": 2,
}


@hookimpl
def ecgbench_register_models(register):
    register(
        ModelSpec(
            name="protoecgnet",
            aliases=("proto-ecgnet",),
            task="classify-71-labels",
            summary="ProtoECGNet: rhythm/local/global prototype branches, explained by training ECG segments",
            factory="ecgbench_protoecgnet.model:create",
            config="ecgbench_protoecgnet.config:ProtoECGNetConfig",
            budgets={"ci": CI_BUDGET, "paper": {}},
            validate_overrides=VALIDATE_OVERRIDES,
            citation=CITATION,
            reference="https://arxiv.org/abs/2504.08713",
            license="MIT",
            weights=WeightsSpec(
                accepts=("protoecgnet",),
                adaptable=("threads", "explain_top_k", "explain_threshold"),
                converters={"protoecgnet": "ecgbench_protoecgnet.convert:convert"},
            ),
        )
    )
