import json

import pytest

from ecgbench.errors import ConfigError
from ecgbench.nn.pretrained_folder import checked_pretrained_folder


def check(path):
    return checked_pretrained_folder(str(path), "model_path", ("roberta",), "a RoBERTa checkpoint", "/models/roberta")


def folder(tmp_path, model_type="roberta", weights="model.safetensors"):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": model_type}))
    (tmp_path / weights).write_bytes(b"")
    return tmp_path


def test_a_safetensors_checkpoint_of_an_accepted_type_is_the_folder(tmp_path):
    assert check(folder(tmp_path)) == tmp_path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "absent", r"model_path '.*absent' is not a folder.*--set model_path=/models/roberta"),
        (lambda p: p, "has no config.json"),
        (lambda p: folder(p, model_type="bert"), r"holds a 'bert' model; this model needs a RoBERTa checkpoint"),
        (lambda p: folder(p, weights="pytorch_model.bin"), r"no \*\.safetensors weights.*never pickle"),
    ],
)
def test_a_folder_that_cannot_be_loaded_safely_is_refused_with_the_reason(tmp_path, make, message):
    with pytest.raises(ConfigError, match=message):
        check(make(tmp_path))
