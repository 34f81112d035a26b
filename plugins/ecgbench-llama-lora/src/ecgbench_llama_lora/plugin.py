"""Registers the LLaMA 3.2 Vision LoRA interpreter (a spec only: nothing here imports torch)."""

from __future__ import annotations

from ecgbench import ModelSpec, hookimpl

CITATION = (
    "Nandakishor M, Anjali M. High-Accuracy ECG Image Interpretation using Parameter-Efficient LoRA "
    "Fine-Tuning with Multimodal LLaMA 3.2. arXiv:2501.18670, 2025"
)
REFERENCE = "https://arxiv.org/abs/2501.18670"

#: The tiny random Mllama trained briefly on CPU: shows that every part runs (a wiring check).
CI = {
    "tiny": True,
    "max_train_items": 512,
    "max_steps": 64,
    "batch_size": 8,
    "grad_accum": 1,
    "learning_rate": 3e-3,
    "lora_dropout": 0.0,
    "max_new_tokens": 96,
    "answer_batch_size": 32,
}
#: Real weights (model_path is required): one epoch, effective batch 16, LoRA r 16 / alpha 32.
#: The paper publishes none of these numbers; they are common LoRA settings.
PAPER = {
    "epochs": 1,
    "batch_size": 4,
    "grad_accum": 4,
    "learning_rate": 2e-4,
    "lora_r": 16,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "gradient_checkpointing": True,
    "max_new_tokens": 128,
    "answer_batch_size": 8,
}
#: `ecgbench validate` and the contract tests: two steps, a few tokens.
TINY = {"tiny": True, "max_train_items": 16, "max_steps": 2, "batch_size": 4, "max_new_tokens": 4}


@hookimpl
def ecgbench_register_models(register) -> None:
    register(
        ModelSpec(
            name="llama-lora",
            aliases=("llama32-vision-lora",),
            task="interpret-image",
            summary="LLaMA 3.2 Vision (Mllama) with LoRA on all linear layers but lm_head; ci: tiny random model",
            factory="ecgbench_llama_lora.model:create",
            config="ecgbench_llama_lora.config:LlamaLoraConfig",
            budgets={"ci": CI, "paper": PAPER},
            validate_overrides=TINY,
            citation=CITATION,
            reference=REFERENCE,
            license="MIT (code); the Llama 3.2 weights are under Meta's Llama 3.2 Community License",
            wiring_check=False,
        )
    )
