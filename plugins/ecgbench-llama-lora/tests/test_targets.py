"""LoRA goes on every linear layer of the language model and the vision tower but lm_head."""

import pytest
from conftest import tiny
from ecgbench_llama_lora.targets import EXCLUDED, lora_target_modules
from ecgbench_llama_lora.tiny import tiny_model
from peft.tuners.lora import LoraLayer
from torch import nn


@pytest.fixture(scope="module")
def base():
    return tiny_model(seed=0, image_size=56)[0]


def _linear_names(model: nn.Module) -> set[str]:
    return {name for name, module in model.named_modules() if isinstance(module, nn.Linear)}


def test_lm_head_and_embed_tokens_are_not_targets(base):
    targets = lora_target_modules(base)
    assert not [t for t in targets if t.rsplit(".", 1)[-1] in EXCLUDED]
    assert "lm_head" in _linear_names(base)  # it is linear, and excluded by name


def test_every_other_linear_layer_is_a_target(base):
    assert set(lora_target_modules(base)) == _linear_names(base) - {"lm_head"}


def test_targets_cover_vision_encoders_projector_self_and_cross_attention(base):
    targets = lora_target_modules(base)

    def having(part: str) -> list[str]:
        return [t for t in targets if part in t]

    assert len(having("vision_model.transformer.")) == 2 * 6  # 2 local layers × q, k, v, o, fc1, fc2
    assert len(having("vision_model.global_transformer.")) == 1 * 6
    assert having("multi_modal_projector")
    assert len(having("cross_attn.")) == 4  # the one cross-attention layer's q, k, v, o
    assert len(having("self_attn.")) == 2 * 4 + 3 * 4  # vision (2 + 1 layers) and text (2 layers)
    assert len([t for t in having("language_model.") if ".mlp." in t]) == 3 * 3  # gate, up, down per layer


def test_after_wrapping_only_the_targets_carry_adapters_and_only_adapters_train(ctx):
    model = tiny(ctx)
    adapted = {name.removeprefix("base_model.model.") for name, m in model.model.named_modules() if isinstance(m, LoraLayer)}
    assert adapted == set(model.targets)
    trainable = [name for name, p in model.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
