"""MoRE's text encoder: a RoBERTa-family model with LoRA (PEFT), mean-pooled.

Published: ``RoBERTa-base-PM-M3`` loaded from a local folder, LoRA r = 16, alpha = 8, dropout
0.1 on PEFT's default RoBERTa targets (the attention ``query`` and ``value`` projections),
every bias trainable (``bias="all"``), the rest frozen; the report embedding is the mean of the
last hidden states. The published mean runs over padding too; here it runs over the report's
tokens only (masked), so an embedding does not depend on the batch's longest report.

Weights come from ``text_model_path`` (checked, loaded offline and from safetensors only), or,
without one, a randomly initialised RoBERTa of the configured size with a byte-level BPE
tokenizer trained on the training reports (``tokenizers``).
"""

from __future__ import annotations

from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from torch import nn
from transformers import (
    AutoModel,
    AutoTokenizer,
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaModel,
)

from ecgbench.nn.pretrained_folder import checked_pretrained_folder
from ecgbench_more.config import MoreConfig

#: RoBERTa's special tokens, in the order that gives them RoBERTa's ids (0..4).
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
#: Architectures the text_model_path may hold.
ROBERTA_FAMILY = ("roberta", "xlm-roberta", "camembert")


def normalise(text: str, lowercase: bool) -> str:
    """One report or prompt as the tokenizer sees it: single spaces (and lower case)."""
    text = " ".join(str(text).split())
    return text.lower() if lowercase else text


def train_tokenizer(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer (RoBERTa's kind) learned from ``texts``, wrapping each text in
    ``<s> ... </s>`` as RoBERTa does."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    return wrap_tokenizer(tokenizer.to_str())


def wrap_tokenizer(tokenizer_json: str) -> PreTrainedTokenizerFast:
    """A transformers tokenizer around a ``tokenizers`` JSON (what the cache stores)."""
    from tokenizers import Tokenizer

    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(tokenizer_json), bos_token="<s>", eos_token="</s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
    )


def random_roberta(config: MoreConfig, vocab_size: int) -> RobertaModel:
    """A RoBERTa of the configured size with random weights (seed the caller's generator first)."""
    return RobertaModel(
        RobertaConfig(
            vocab_size=vocab_size, hidden_size=config.text_dim, num_hidden_layers=config.text_depth,
            num_attention_heads=config.text_heads, intermediate_size=4 * config.text_dim,
            max_position_embeddings=config.max_tokens + 2, type_vocab_size=1,
            pad_token_id=1, bos_token_id=0, eos_token_id=2,
        ),
        add_pooling_layer=False,
    )


def checked_text_model_path(text_model_path: str) -> Path:
    """The folder, after checking it holds a RoBERTa-family checkpoint in safetensors."""
    return checked_pretrained_folder(text_model_path, "text_model_path", ROBERTA_FAMILY,
                                     "a RoBERTa-family checkpoint (MoRE's text encoder)",
                                     "/path/to/RoBERTa-base-PM-M3-hf")


def load_pretrained(text_model_path: str) -> tuple[nn.Module, PreTrainedTokenizerFast]:
    """(model, tokenizer) of a local checkpoint, offline, from safetensors."""
    path = checked_text_model_path(text_model_path)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True, use_safetensors=True, add_pooling_layer=False)
    return model, tokenizer


def with_lora(model: nn.Module, config: MoreConfig, random_weights: bool) -> PeftModel:
    """LoRA adapters on PEFT's default targets, all biases trainable; the base frozen unless
    ``train_text_base`` says otherwise (by default: trained when its weights are random)."""
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      bias="all", task_type="FEATURE_EXTRACTION")
    peft_model = get_peft_model(model, lora)
    train_base = random_weights if config.train_text_base is None else config.train_text_base
    if train_base:
        for parameter in peft_model.parameters():
            parameter.requires_grad = True
    return peft_model


class TextEncoder(nn.Module):
    """Token ids and attention mask ``int64[b, L]`` -> masked mean of the last hidden states ``[b, width]``."""

    def __init__(self, model: PeftModel):
        super().__init__()
        self.model = model
        self.width = int(model.config.hidden_size)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
