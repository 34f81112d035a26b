"""``ecgbench weights convert --from ecg-jepa IN OUT``: the authors' pre-trained ECG-JEPA encoder.

The original pre-training (kweimann/ECG-JEPA, ``pretrain.py``) saves ``{"model": <JEPA state>,
"config": <its pretrain Config as a dict>, "optimizer": ..., "step": ...}``; its
``scripts/minify_pretrained_checkpoint.py`` keeps only ``model`` (the ``target_encoder.*``
tensors) and ``config``. Both are read with ``torch.load(weights_only=True)``. As the original's
``finetune.py`` does, the **target encoder** (the exponential moving average) is the encoder
that is kept; the context encoder (``encoder.*``) and the predictor (``predictor.*``) serve
pre-training only and are accounted for as such, not converted.

The original ``VisionTransformer`` and ``ecgbench.nn.vit.ViTEncoder`` have the same module
names, so the mapping is the identity on names, checked shape by shape: ``patch_embed.proj``
(``Conv1d(12, dim, patch, stride=patch)``), ``registers``, per block ``norm1``,
``attn.qkv``, ``attn.proj``, ``norm2``, ``mlp.fc1``, ``mlp.fc2``, and the final ``norm``.
Checkpoints written before mid-October 2025 hold layer-norm biases (2 per block + 1): they are
kept, and the weights then need ``norm_bias=true``. The input channels are put in the
harness's lead order (the published configs already use it). Configurations the encoder here
does not have (biased linear layers, LayerScale, an MLP ratio other than 4) are refused with
the field named. Fine-tuned checkpoints (with an ``eval_config``) are refused: they hold a
head for a task, not a pre-trained encoder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ecgbench.conversion import Converted
from ecgbench.data.leads import LEADS, canonical_lead
from ecgbench.nn.state_mapping import SourceState, fill_target, load_foreign_checkpoint, tensors_of
from ecgbench.nn.vit import ViTEncoder
from ecgbench.weights import ModelWeights, TrainingData, WeightsError
from ecgbench_jepa.model import ENCODER

#: Fields of the original's pretrain Config the encoder here needs, with the value it supports
#: (None: any value, read from the config).
_REQUIRED = ("sampling_frequency", "channels", "channel_size", "patch_size", "dim", "depth", "num_heads",
             "num_registers", "bias", "qkv_bias", "mlp_ratio", "layer_scale_eps")
_SUPPORTED = {"bias": False, "qkv_bias": False, "mlp_ratio": 4.0, "layer_scale_eps": 0.0}


def _config(checkpoint: dict, name: str) -> dict[str, Any]:
    config = checkpoint.get("config")
    if not isinstance(config, dict):
        raise WeightsError(f"{name}: no 'config' dict; an ECG-JEPA checkpoint stores its pretrain Config as a dict")
    missing = [k for k in _REQUIRED if k not in config]
    if missing:
        raise WeightsError(f"{name}: the checkpoint's config lacks {missing}; it is not an ECG-JEPA pretrain config")
    for field, supported in _SUPPORTED.items():
        if float(config[field]) != float(supported):
            raise WeightsError(
                f"{name}: config field {field!r} is {config[field]!r}; the ecgbench encoder supports only "
                f"{supported!r} (the published setting)"
            )
    if config["channel_size"] % config["patch_size"]:
        raise WeightsError(f"{name}: channel_size {config['channel_size']} is not a multiple of patch_size")
    return config


def channel_order(channels: list[str] | tuple[str, ...], name: str) -> list[int]:
    """For each lead of the harness order, its input channel in the checkpoint."""
    canonical = [canonical_lead(str(c)) for c in channels]
    if sorted(filter(None, canonical)) != sorted(LEADS) or len(canonical) != len(LEADS):
        raise WeightsError(f"{name}: the encoder reads channels {list(channels)}; the 12 standard leads are needed")
    return [canonical.index(lead) for lead in LEADS]


def encoder_prefix(state: dict[str, torch.Tensor], name: str) -> str:
    if any(k.startswith("target_encoder.") for k in state):
        return "target_encoder."
    raise WeightsError(f"{name}: no target_encoder.* tensors; this is not a (minified) ECG-JEPA pretrain checkpoint")


def convert(path: Path) -> Converted:
    """The target encoder of an ECG-JEPA pretrain checkpoint as an ``ecg-jepa-encoder`` weights file."""
    name = Path(path).name
    checkpoint = load_foreign_checkpoint(path)
    if "eval_config" in checkpoint:
        raise WeightsError(
            f"{name}: a fine-tuned checkpoint (it has an eval_config and a task head); convert the pre-trained "
            "checkpoint (pretrain.py output or its minified form) instead"
        )
    config = _config(checkpoint, name)
    state = tensors_of(checkpoint.get("model"), path, "'model'")
    src = SourceState(state, name)
    prefix = encoder_prefix(state, name)
    dim, depth = int(config["dim"]), int(config["depth"])
    norm_bias = f"{prefix}norm.bias" in src
    fs, patch = float(config["sampling_frequency"]), int(config["patch_size"])
    with torch.device("meta"):  # shapes only
        target = ViTEncoder(dim=dim, depth=depth, n_heads=int(config["num_heads"]), patch_size=patch,
                            n_positions=int(config["channel_size"]) // patch,
                            n_registers=int(config["num_registers"]), norm_bias=norm_bias)
    shapes = {k: tuple(v.shape) for k, v in target.state_dict().items()}
    values = {key: src.take(prefix + key, shape) for key, shape in shapes.items()}
    values["patch_embed.proj.weight"] = values["patch_embed.proj.weight"][:, channel_order(config["channels"], name)]
    skipped = {}
    for part in ("encoder.", "predictor."):  # pre-training only: the context encoder and the predictor
        keys = [k for k in src if k.startswith(part)]
        for key in keys:
            src.take(key, role=f"pre-training only ({part.rstrip('.')})")
        skipped[part.rstrip(".")] = len(keys)
    facts = src.finish()
    tensors = fill_target(target, values, name)
    facts |= {
        "target_keys": len(tensors),
        "target_parameters": int(sum(v.numel() for v in tensors.values())),
        "layer_norm_biases": norm_bias,
        "skipped_pretraining_only_keys": skipped,
        "original_config": {k: v for k, v in config.items() if isinstance(v, str | int | float | bool | list | tuple | dict)},
    }
    encoder_config = {
        "dim": dim, "depth": depth, "n_heads": int(config["num_heads"]), "patch_ms": 1000.0 * patch / fs,
        "n_registers": int(config["num_registers"]), "norm_bias": norm_bias, "sample_rate_hz": fs, "pretrained": True,
    }
    datasets = config.get("datasets") or {}
    training = TrainingData(
        name=", ".join(f"{k} {v:g}" for k, v in datasets.items()) if isinstance(datasets, dict) else str(datasets),
        fs=fs,
    )
    weights = ModelWeights(ENCODER, "encoder", {f"encoder.{k}": v for k, v in tensors.items()}, {"fs": fs}, encoder_config)
    return Converted(weights=weights, training_data=training, facts=facts)
