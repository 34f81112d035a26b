"""Registers the ECG-JEPA models (specs only: nothing here imports torch)."""

from __future__ import annotations

from ecgbench import ModelSpec, WeightsSpec, hookimpl

CITATION = (
    "Weimann K, Conrad TOF. Self-Supervised Pre-Training with Joint-Embedding Predictive Architecture "
    "Boosts ECG Classification Performance. Computers in Biology and Medicine, 2025. arXiv:2410.13867"
)
REFERENCE = "https://arxiv.org/abs/2410.13867"

#: Pre-training shrunk for 2 CPU cores: a 3-block, 64-wide encoder (0.15 M parameters, against
#: ViT-XS's 3.6 M) with a 2-block predictor, 2,000 steps of 32 windows of 2.5 s (50 tokens, the
#: window the downstream heads see) instead of 100,000 steps of 2,048 whole records.
CI_PRETRAIN = {
    "dim": 64,
    "depth": 3,
    "n_heads": 4,
    "predictor_depth": 2,
    "pretrain_crop_s": 2.5,
    "pretrain_steps": 2000,
    "pretrain_batch_size": 32,
    "pretrain_warmup_steps": 200,
    "threads": 1,
}
#: The published ViT-XS pre-training (the size the authors trained on PTB-XL alone), at the
#: published rate: 500 Hz, 25-sample (50 ms) patches, 10-s windows of 5,000 samples.
#: ``--set vit_size=s`` (or ``b``) gives the other published sizes.
PAPER_PRETRAIN = {
    "vit_size": "xs",
    "sample_rate_hz": 500.0,
    "pretrain_steps": 100_000,
    "pretrain_batch_size": 2048,
    "pretrain_warmup_steps": 10_000,
}
#: The probe's 5,000 steps of 128 cut to 3,000 steps of 64 (on the phantom validation split
#: this beat 1,500 steps of 128 at the same cost: 0.857 against 0.839 macro AUROC).
CI_PROBE = {"steps": 3000, "batch_size": 64, "eval_every": 500}
#: The fine-tune's 10,000 steps of 128 cut to 1,200 steps of 64 with a 100-step warm-up
#: (validation: 0.888 against 0.805 for 600 steps of 128 at the same cost).
CI_FINETUNE = {"steps": 1200, "batch_size": 64, "warmup_steps": 100, "eval_every": 200}
#: The second stage of the fine-tune after the linear probe, cut like CI_FINETUNE.
CI_AFTER_LINEAR = {"after_steps": 600, "after_batch_size": 64, "after_warmup_steps": 50, "after_eval_every": 200}
#: The validation and contract checks: a few steps of everything.
TINY = {
    "dim": 32,
    "depth": 1,
    "n_heads": 2,
    "pretrain_steps": 4,
    "pretrain_batch_size": 8,
    "pretrain_warmup_steps": 1,
    "steps": 4,
    "batch_size": 8,
    "eval_every": 2,
}

_COMMON = dict(task="classify-71-labels", citation=CITATION, reference=REFERENCE, license="MIT")
#: Config fields a run may set differently from exported weights (ecgbench_jepa.config).
_ADAPTABLE = ("eval_batch_size", "threads", "crop_stride_s")
#: The authors' pre-trained encoder, converted by `ecgbench weights convert --from ecg-jepa IN OUT`.
_CONVERTERS = {"ecg-jepa": "ecgbench_jepa.convert:convert"}


@hookimpl
def ecgbench_register_models(register) -> None:
    register(
        ModelSpec(
            name="jepa-linear",
            summary="ECG-JEPA: JEPA-pre-trained ViT, frozen, attention-pooling linear probe",
            factory="ecgbench_jepa.model:create_linear",
            config="ecgbench_jepa.config:LinearProbeConfig",
            budgets={"ci": {**CI_PRETRAIN, **CI_PROBE}, "paper": {**PAPER_PRETRAIN, "steps": 5000}},
            validate_overrides=TINY,
            weights=WeightsSpec(accepts=("ecg-jepa-probe", "ecg-jepa-encoder"), adaptable=_ADAPTABLE,
                                converters=_CONVERTERS),
            **_COMMON,
        )
    )
    register(
        ModelSpec(
            name="jepa-finetune",
            summary="ECG-JEPA: JEPA-pre-trained ViT fine-tuned end to end",
            factory="ecgbench_jepa.model:create_finetune",
            config="ecgbench_jepa.config:FinetuneConfig",
            budgets={
                "ci": {**CI_PRETRAIN, **CI_FINETUNE},
                "paper": {**PAPER_PRETRAIN, "steps": 10_000},
            },
            validate_overrides=TINY,
            weights=WeightsSpec(accepts=("ecg-jepa-finetune", "ecg-jepa-encoder"), adaptable=_ADAPTABLE),
            **_COMMON,
        )
    )
    register(
        ModelSpec(
            name="jepa-finetune-after-linear",
            summary="ECG-JEPA: the linear probe, then encoder and attention pooling fine-tuned from it",
            factory="ecgbench_jepa.model:create_finetune_after_linear",
            config="ecgbench_jepa.config:FinetuneAfterLinearConfig",
            budgets={
                "ci": {**CI_PRETRAIN, **CI_PROBE, **CI_AFTER_LINEAR},
                "paper": {**PAPER_PRETRAIN, "steps": 5000},
            },
            validate_overrides={**TINY, "after_steps": 4, "after_batch_size": 8, "after_eval_every": 2,
                                "after_warmup_steps": 1},
            weights=WeightsSpec(accepts=("ecg-jepa-probe", "ecg-jepa-encoder"), adaptable=_ADAPTABLE),
            **_COMMON,
        )
    )
    register(
        ModelSpec(
            name="jepa-linear-random",
            summary="ECG-JEPA's linear probe on a randomly initialised encoder (no pre-training): the baseline",
            factory="ecgbench_jepa.model:create_linear",
            config="ecgbench_jepa.config:RandomInitProbeConfig",
            budgets={"ci": {**CI_PRETRAIN, **CI_PROBE}, "paper": {**PAPER_PRETRAIN, "steps": 5000}},
            validate_overrides=TINY,
            weights=WeightsSpec(accepts=("ecg-jepa-probe",), adaptable=_ADAPTABLE),
            **_COMMON,
        )
    )
