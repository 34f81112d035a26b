"""Loading, LoRA training, adapter files and greedy answering of the llama-lora interpreter."""

import json

import numpy as np
import pytest
import torch
from conftest import batch, tiny
from ecgbench_llama_lora.config import LlamaLoraConfig
from ecgbench_llama_lora.model import ADAPTER_FILE, LlamaLoraInterpreter, create
from ecgbench_llama_lora.tiny import tiny_model
from safetensors import safe_open

from ecgbench.errors import ConfigError


def test_without_model_path_or_tiny_the_error_says_how_to_pass_the_weights(ctx):
    with pytest.raises(ConfigError, match="model_path=/path/to/Llama-3.2-11B-Vision-Instruct"):
        create(LlamaLoraConfig(), ctx)


def test_a_missing_model_path_is_named_in_the_error(ctx, tmp_path):
    missing = tmp_path / "no-such-weights"
    with pytest.raises(ConfigError, match="no-such-weights"):
        create(LlamaLoraConfig(model_path=str(missing)), ctx)


def test_a_folder_without_config_json_is_refused(ctx, tmp_path):
    with pytest.raises(ConfigError, match="no config.json"):
        create(LlamaLoraConfig(model_path=str(tmp_path)), ctx)


def test_a_checkpoint_of_another_architecture_is_refused(ctx, tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ConfigError, match="'llama' model"):
        create(LlamaLoraConfig(model_path=str(tmp_path)), ctx)


def test_the_tiny_model_reports_itself_as_a_wiring_check(ctx):
    tiny(ctx)
    assert ctx.notes["wiring_check"] is True
    assert ctx.notes["base_model"] == "tiny random Mllama"


def test_the_loss_covers_only_the_answer_tokens(ctx, qa):
    model = tiny(ctx)
    images, questions, answers = batch(qa, 2)
    encoded = model.encode(images, questions, answers)
    tokenizer = model.processor.tokenizer
    for row in range(2):
        labelled = encoded["labels"][row][encoded["labels"][row] != -100]
        assert tokenizer.decode(labelled) == answers[row] + "<|eot_id|>"


def test_training_steps_on_a_repeated_batch_lower_its_loss(ctx, qa):
    model = tiny(ctx)
    images, questions, answers = batch(qa)
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=3e-3)
    model.model.train()
    losses = []
    for _ in range(10):
        loss = model.loss(images, questions, answers)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.92 * losses[0], losses
    assert (np.diff(losses) < 0).mean() >= 0.8, losses


def test_fit_records_its_losses_and_steps(ctx, qa):
    tiny(ctx, max_steps=3).fit(qa)
    assert ctx.notes["train_steps"] == 3
    assert np.isfinite([ctx.notes["train_loss_first"], ctx.notes["train_loss_last"]]).all()


def test_only_the_adapter_is_saved_as_safetensors(ctx, qa, tmp_path):
    model = tiny(ctx).fit(qa)
    folder = model.save_adapter(tmp_path / "adapter")
    assert sorted(p.name for p in folder.iterdir()) == ["adapter_config.json", ADAPTER_FILE]
    with safe_open(str(folder / ADAPTER_FILE), framework="pt") as f:
        keys = list(f.keys())
    assert keys and all("lora_A" in k or "lora_B" in k for k in keys)


def test_a_saved_adapter_loaded_into_a_fresh_model_gives_identical_outputs(ctx, qa, tmp_path, images_questions):
    trained = tiny(ctx, max_steps=3).fit(qa)
    folder = trained.save_adapter(tmp_path / "adapter")
    fresh = tiny(ctx)  # the same base weights, adapters at their initial (zero-effect) values
    images, questions = images_questions
    encoded = trained.encode(list(images), questions)
    with torch.no_grad():
        before = fresh.model(**encoded).logits
        fresh.load_adapter(folder)
        after = fresh.model(**encoded).logits
        expected = trained.model(**encoded).logits
    assert not torch.allclose(before, expected)
    assert torch.equal(after, expected)
    assert fresh.answer(images, questions) == trained.answer(images, questions)


def test_answers_are_greedy_and_repeat_exactly(ctx, qa, images_questions):
    model = tiny(ctx).fit(qa)
    images, questions = images_questions
    first = model.answer(images, questions)
    assert first == model.answer(images, questions)
    assert len(first) == len(questions) and all(isinstance(a, str) for a in first)
    assert model.generation.do_sample is False and model.generation.num_beams == 1


def test_a_second_fit_with_the_same_settings_and_data_reuses_the_cached_adapter(ctx, qa, images_questions):
    first = tiny(ctx).fit(qa)
    second = tiny(ctx)
    second.fit(qa)
    assert ctx.notes["adapter"].startswith("reused")
    images, questions = images_questions
    assert second.answer(images, questions) == first.answer(images, questions)


def test_a_local_checkpoint_folder_loads_without_any_download(ctx, qa, tmp_path, images_questions, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    base, processor = tiny_model(seed=0, image_size=56)
    base.save_pretrained(tmp_path / "checkpoint")
    processor.save_pretrained(tmp_path / "checkpoint")
    model = LlamaLoraInterpreter(
        LlamaLoraConfig(model_path=str(tmp_path / "checkpoint"), max_steps=1, batch_size=2, max_new_tokens=4), ctx
    )
    assert "wiring_check" not in ctx.notes
    assert ctx.notes["base_model"] == "checkpoint"
    model.fit(qa)
    images, questions = images_questions
    assert len(model.answer(images, questions)) == len(questions)


@pytest.mark.parametrize("checkpointing", [False, True])
def test_the_adapters_in_the_vision_tower_and_projector_get_gradients(ctx, qa, checkpointing):
    model = tiny(ctx, gradient_checkpointing=checkpointing)
    model.model.train()
    images, questions, answers = batch(qa, 2)
    model.loss(images, questions, answers).backward()
    grads = {name: p.grad for name, p in model.model.named_parameters() if p.requires_grad}
    image_side = [g for name, g in grads.items() if "lora_B" in name
                  and any(part in name for part in ("vision_model", "multi_modal_projector", "cross_attn"))]
    assert len(image_side) == 19 + 4  # 18 vision layers + the projector, the cross-attention q, k, v, o
    assert all(g is not None and g.abs().sum() > 0 for g in image_side)


def test_the_tiny_model_looks_at_the_image(ctx, qa):
    model = tiny(ctx)
    images, questions, _ = batch(qa, 2)
    same_question = [questions[0], questions[0]]
    with torch.no_grad():
        logits = model.model(**model.encode([images[0], np.zeros_like(images[0])], same_question)).logits
    assert not torch.allclose(logits[0], logits[1])


def test_other_training_questions_train_a_new_adapter(ctx, qa):
    tiny(ctx).fit(qa)
    fewer = type(qa)(qa.images, qa.record_ids, qa.labels, qa.items[:-3])
    tiny(ctx).fit(fewer)
    assert not ctx.notes["adapter"].startswith("reused")
