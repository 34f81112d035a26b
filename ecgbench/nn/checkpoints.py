"""Checkpoints as safetensors (never pickle), cached by what determines the trained weights.

A checkpoint's key hashes the model name, the training part of its config, the fingerprint
of the training data and the seed, so a second run with the same settings (e.g. the same
generator sampled at another NFE) reuses the weights instead of training again.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load, load_file, safe_open, save_file


def training_key(model: str, train_config: dict, data_fingerprint: str, seed: int) -> str:
    """A short stable hash of everything that determines trained weights."""
    blob = json.dumps(
        {"model": model, "config": train_config, "data": data_fingerprint, "seed": seed},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def checkpoint_path(cache_dir: Path, model: str, key: str, suffix: str = "") -> Path:
    """``<cache_dir>/checkpoints/<model>/<key><suffix>.safetensors``."""
    return Path(cache_dir) / "checkpoints" / model / f"{key}{suffix}.safetensors"


def save_checkpoint(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> Path:
    """Write atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    contiguous = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(contiguous, tmp, metadata={k: str(v) for k, v in (metadata or {}).items()})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_checkpoint_bytes(data: bytes, device: str = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and metadata of a safetensors file's bytes (a checkpoint rank 0 read and sent)."""
    (length,) = struct.unpack("<Q", data[:8])
    metadata = json.loads(data[8 : 8 + length]).get("__metadata__", {})
    return {k: v.to(device) for k, v in load(data).items()}, dict(metadata)


def load_checkpoint(path: Path, device: str = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and metadata of a safetensors file."""
    with safe_open(str(path), framework="pt") as f:
        metadata = dict(f.metadata() or {})
    return load_file(str(path), device=device), metadata
