"""The text encoder: tokenizer trained on reports, RoBERTa with LoRA as published, local weights."""

from __future__ import annotations

import json

import pytest
import torch
from ecgbench_more.config import MoreConfig
from ecgbench_more.pretrain import build_network
from ecgbench_more.text_encoder import (
    SPECIAL_TOKENS,
    TextEncoder,
    checked_text_model_path,
    normalise,
    random_roberta,
    train_tokenizer,
    with_lora,
)
from transformers import RobertaConfig, RobertaModel

from ecgbench.errors import ConfigError

REPORTS = [
    "sinus rhythm, normal ecg", "sinus bradycardia, first degree av block", "atrial fibrillation, lbbb",
    "sinus rhythm, left ventricular hypertrophy", "sinus tachycardia 110 bpm", "sinus rhythm, anterior infarct",
] * 5
SMALL = MoreConfig(text_dim=16, text_depth=1, text_heads=2, vocab_size=300, max_tokens=32, ecg_dim=16,
                   ecg_depth=1, ecg_heads=2, stem_channels=4)


def test_the_tokenizer_learns_from_the_reports_and_wraps_each_in_roberta_markers():
    tokenizer = train_tokenizer(REPORTS, 300)
    assert [tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    ids = tokenizer("sinus rhythm")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and len(ids) <= 4  # whole words learned from the reports
    assert train_tokenizer(REPORTS, 300).backend_tokenizer.to_str() == tokenizer.backend_tokenizer.to_str()


def test_reports_are_normalised_to_single_spaces_and_lower_case():
    assert normalise("Sinus  rhythm\n NORMAL ECG ", lowercase=True) == "sinus rhythm normal ecg"
    assert normalise("unvollstÄndiger  RSB", lowercase=False) == "unvollstÄndiger RSB"


def test_lora_as_published_trains_adapters_and_biases_only_of_pretrained_weights():
    model = with_lora(random_roberta(SMALL, 300), SMALL, random_weights=False)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trained and all("lora_" in n or n.endswith(".bias") for n in trained)
    assert any("query.lora_A" in n for n in trained) and any("value.lora_A" in n for n in trained)
    assert not any("key.lora" in n for n in trained)
    config = model.peft_config["default"]
    assert (config.r, config.lora_alpha, config.lora_dropout, config.bias) == (16, 8, 0.1, "all")


def test_the_random_models_own_weights_train_too_unless_switched_off():
    assert all(p.requires_grad for p in with_lora(random_roberta(SMALL, 300), SMALL, random_weights=True).parameters())
    frozen = with_lora(random_roberta(SMALL, 300), SMALL.model_copy(update={"train_text_base": False}), random_weights=True)
    assert not all(p.requires_grad for p in frozen.parameters())


def test_the_report_embedding_does_not_depend_on_the_padding_of_its_batch():
    tokenizer = train_tokenizer(REPORTS, 300)
    encoder = TextEncoder(with_lora(random_roberta(SMALL, len(tokenizer)), SMALL, random_weights=True)).eval()
    alone = tokenizer(["sinus rhythm"], return_tensors="pt")
    batch = tokenizer(["sinus rhythm", "atrial fibrillation, lbbb, anterior infarct"], padding=True, return_tensors="pt")
    with torch.no_grad():
        a = encoder(alone["input_ids"], alone["attention_mask"])
        b = encoder(batch["input_ids"], batch["attention_mask"])
    torch.testing.assert_close(a[0], b[0], rtol=1e-5, atol=1e-5)


def _checkpoint(folder, model_type="roberta", pickled=False):
    tokenizer = train_tokenizer(REPORTS, 300)
    model = RobertaModel(RobertaConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1,
                                       num_attention_heads=2, intermediate_size=32, max_position_embeddings=40,
                                       pad_token_id=1, bos_token_id=0, eos_token_id=2), add_pooling_layer=False)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    if pickled:  # the weights as a pickled pytorch_model.bin only
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
        for path in folder.glob("*.safetensors"):
            path.unlink()
    if model_type != "roberta":
        config = json.loads((folder / "config.json").read_text())
        config["model_type"] = model_type
        (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_a_local_checkpoint_loads_offline_and_is_not_marked_random(tmp_path):
    folder = _checkpoint(tmp_path / "roberta")
    network, tokenizer, random_text = build_network(SMALL.model_copy(update={"text_model_path": str(folder)}), 1000,
                                                    None, seed=0)
    assert not random_text
    assert network.text.width == 16 and len(tokenizer) == 300


def test_a_missing_folder_is_refused_with_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="is not a folder.*never downloaded"):
        checked_text_model_path(str(tmp_path / "absent"))


def test_a_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="no config.json"):
        checked_text_model_path(str(tmp_path))


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    folder = _checkpoint(tmp_path / "bert", model_type="bert")
    with pytest.raises(ConfigError, match="'bert' model.*RoBERTa-family"):
        checked_text_model_path(str(folder))


def test_pickled_weights_are_never_loaded(tmp_path):
    folder = _checkpoint(tmp_path / "pickled", pickled=True)
    with pytest.raises(ConfigError, match="safetensors"):
        checked_text_model_path(str(folder))
