"""A local transformers checkpoint folder, checked before anything is loaded from it.

Weights are never downloaded and never unpickled: the folder must exist, hold a
``config.json`` of an accepted ``model_type`` and at least one ``*.safetensors`` file.
"""

from __future__ import annotations

import json
from pathlib import Path

from ecgbench.errors import ConfigError


def checked_pretrained_folder(
    value: str, setting: str, model_types: tuple[str, ...], needs: str, example: str
) -> Path:
    """The folder named by ``--set <setting>=value``; a ConfigError that says how to fix it
    otherwise. ``needs`` names what the model needs (e.g. "a RoBERTa-family checkpoint") and
    ``example`` is a folder to show in the message."""
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"{setting} {str(path)!r} is not a folder. Pass the local folder of {needs}, e.g. "
            f"--set {setting}={example} (weights are never downloaded)."
        )
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ConfigError(
            f"{setting} {str(path)!r} has no config.json: it is not a transformers checkpoint folder"
        )
    model_type = json.loads(config_file.read_text()).get("model_type")
    if model_type not in model_types:
        raise ConfigError(
            f"{setting} {str(path)!r} holds a {model_type!r} model; this model needs {needs} "
            f"(model_type {', '.join(repr(t) for t in model_types)})"
        )
    if not any(path.glob("*.safetensors")):
        raise ConfigError(
            f"{setting} {str(path)!r} holds no *.safetensors weights; only safetensors are loaded (never pickle). "
            "Convert once: AutoModel.from_pretrained(folder).save_pretrained(folder, safe_serialization=True)"
        )
    return path
