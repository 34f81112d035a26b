"""A tiny, randomly initialised Mllama with its processor, built in-process (no download).

It has every part of Llama 3.2 Vision in miniature — the tiled vision encoder with its local
and global transformers and gated tile embeddings, the projector, a text decoder with
self-attention and cross-attention layers — and the real processor classes
(:class:`MllamaImageProcessorPil`, :class:`MllamaProcessor`) around a character-level tokenizer
that carries Llama 3's special tokens and a Llama 3-style chat template. So image tiling,
chat templating, cross-attention masks, LoRA wrapping, training, adapter saving and
generation all run exactly as with the real weights, on a CPU in seconds. What it answers is
noise until trained and means nothing after: its scores are a wiring check.
"""

from __future__ import annotations

import string

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    MllamaConfig,
    MllamaForConditionalGeneration,
    MllamaProcessor,
    PreTrainedTokenizerFast,
)
from transformers.models.mllama.image_processing_pil_mllama import (
    MllamaImageProcessorPil,
    get_all_supported_aspect_ratios,
)

BOS, EOS, PAD = "<|begin_of_text|>", "<|eot_id|>", "<|finetune_right_pad_id|>"
IMAGE = "<|image|>"
#: Llama 3's special tokens that the processor and the chat template use.
SPECIAL_TOKENS = (BOS, "<|end_of_text|>", PAD, "<|start_header_id|>", "<|end_header_id|>", EOS, "<|python_tag|>", IMAGE)
UNKNOWN = "<unk>"

#: The Llama 3.2 Vision Instruct conversation format: a header per role, the image token
#: where the image is, each turn closed by <|eot_id|>.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|image|>{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)

MAX_TILES = 2
#: Bumped whenever the tiny model's construction changes (part of the adapter cache key).
TINY_VERSION = "1"


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A character-level tokenizer (printable ASCII and newline) with Llama 3's special tokens.

    Lossless: decoding gives back exactly the text, so answers like '120 ms or more' survive.
    """
    vocab = {UNKNOWN: 0}
    for char in [*string.printable[:95], "\n"]:
        vocab.setdefault(char, len(vocab))
    for token in SPECIAL_TOKENS:
        vocab[token] = len(vocab)
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNKNOWN))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token=BOS, eos_token=EOS, pad_token=PAD, unk_token=UNKNOWN,
        additional_special_tokens=list(SPECIAL_TOKENS),
    )


def tiny_processor(image_size: int = 112) -> MllamaProcessor:
    """Mllama's own processor classes around the tiny tokenizer; tiles of ``image_size`` px."""
    image_processor = MllamaImageProcessorPil(size={"height": image_size, "width": image_size}, max_image_tiles=MAX_TILES)
    return MllamaProcessor(image_processor=image_processor, tokenizer=tiny_tokenizer(), chat_template=CHAT_TEMPLATE)


def tiny_config(tokenizer: PreTrainedTokenizerFast, image_size: int = 112) -> MllamaConfig:
    """A Mllama with 2 local + 1 global vision layers (32 wide) and 3 text layers (64 wide), one of them cross-attention."""
    vision_hidden, intermediate_layers = 32, [0, 1]
    vision = {
        "hidden_size": vision_hidden, "num_hidden_layers": 2, "num_global_layers": 1, "attention_heads": 2,
        "intermediate_size": 64, "image_size": image_size, "patch_size": 14, "max_num_tiles": MAX_TILES,
        "intermediate_layers_indices": intermediate_layers,
        "vision_output_dim": vision_hidden * (1 + len(intermediate_layers)),
        "supported_aspect_ratios": [list(r) for r in get_all_supported_aspect_ratios(MAX_TILES)],
    }
    text = {
        "vocab_size": len(tokenizer), "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
        "num_key_value_heads": 2, "intermediate_size": 128, "cross_attention_layers": [1],
        "max_position_embeddings": 1024, "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id,
    }
    return MllamaConfig(vision_config=vision, text_config=text, image_token_index=tokenizer.convert_tokens_to_ids(IMAGE))


#: Value of the tanh gates (cross-attention, tile and position embeddings), which Mllama
#: initialises to zero: a closed cross-attention gate would cut the image off from the text.
OPEN_GATE = 0.75


def tiny_model(seed: int, image_size: int = 112) -> tuple[MllamaForConditionalGeneration, MllamaProcessor]:
    """The tiny model (weights fixed by ``seed``) and its processor.

    Its gates are opened as pre-training opens them in the real model, so the answer depends on
    the image and the vision tower's adapters get gradients.
    """
    processor = tiny_processor(image_size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MllamaForConditionalGeneration(tiny_config(processor.tokenizer, image_size))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("gate"):
                parameter.fill_(OPEN_GATE)
    return model, processor
