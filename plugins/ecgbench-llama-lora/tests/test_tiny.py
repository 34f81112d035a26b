"""The tiny Mllama is built in-process and fed by Mllama's own processor classes."""

import numpy as np
import torch
from ecgbench_llama_lora.tiny import BOS, EOS, IMAGE, tiny_model, tiny_processor, tiny_tokenizer


def test_the_tokenizer_round_trips_answer_text_exactly():
    tokenizer = tiny_tokenizer()
    text = "120 ms or more; atrial fibrillation (AFIB) <= 460 ms?"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text


def test_special_tokens_are_single_tokens():
    tokenizer = tiny_tokenizer()
    for token in (BOS, EOS, IMAGE):
        assert len(tokenizer(token, add_special_tokens=False)["input_ids"]) == 1


def test_the_chat_template_gives_a_llama_3_user_turn_with_the_image_first():
    processor = tiny_processor(56)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What rhythm?"}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert prompt == (f"{BOS}<|start_header_id|>user<|end_header_id|>\n\n{IMAGE}What rhythm?{EOS}"
                      "<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_the_processor_tiles_a_wide_ecg_and_builds_the_cross_attention_mask():
    processor = tiny_processor(56)
    image = np.full((270, 530, 3), 255, dtype=np.uint8)
    prompt = f"{BOS}{IMAGE}question"
    batch = processor(images=[[image], [image]], text=[prompt, prompt + " longer"], padding=True,
                      add_special_tokens=False, return_tensors="pt")
    n, length = batch["input_ids"].shape
    assert batch["pixel_values"].shape == (2, 1, 2, 3, 56, 56)  # one image of two 56-px tiles (1 × 2)
    assert batch["aspect_ratio_ids"].tolist() == [[2], [2]]  # (1, 2) is the second supported ratio
    assert batch["aspect_ratio_mask"].tolist() == [[[1, 1]], [[1, 1]]]
    assert batch["cross_attention_mask"].shape == (n, length, 1, 2)
    image_position = batch["input_ids"][0].tolist().index(processor.image_token_id)
    assert batch["cross_attention_mask"][0, image_position:, 0].all()


def test_the_tiny_model_is_the_same_for_the_same_seed_and_differs_for_another():
    a, b, c = (tiny_model(seed, 56)[0] for seed in (1, 1, 2))
    weight = "model.language_model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(a.state_dict()[weight], b.state_dict()[weight])
    assert not torch.equal(a.state_dict()[weight], c.state_dict()[weight])
