"""The pre-trained encoder, cached as safetensors and keyed by what determines its weights:
the pre-training part of the config, the sampling rate, the signals used and the seed. A
linear probe and a fine-tune of the same run settings therefore share one pre-training."""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from ecgbench.context import RunContext
from ecgbench.data.streaming import RecordRows, iter_chunks
from ecgbench.nn import distributed
from ecgbench.nn.checkpoints import (
    checkpoint_path,
    load_checkpoint_bytes,
    save_checkpoint,
    training_key,
)
from ecgbench_jepa.config import JEPAConfig
from ecgbench_jepa.pretrain import pretrain_encoder

#: The name pre-trained encoders are cached under (``<cache>/checkpoints/jepa-pretrain/``).
CACHE_NAME = "jepa-pretrain"


def signals_fingerprint(signals: np.ndarray | RecordRows, fs: float) -> str:
    """sha256 of the rate, the shape and the float32 samples (read a chunk at a time)."""
    h = hashlib.sha256(f"{fs}|{tuple(signals.shape)}".encode())
    for _, chunk in iter_chunks(signals):
        h.update(np.ascontiguousarray(chunk, dtype=np.float32).tobytes())
    return h.hexdigest()


def pretrain_key(config: JEPAConfig, fs: float, fingerprint: str, seed: int) -> str:
    return training_key(CACHE_NAME, {**config.pretrain_part(), "fs": fs}, fingerprint, seed)


def load_or_pretrain(signals: np.ndarray | RecordRows, fs: float, config: JEPAConfig, ctx: RunContext) -> dict[str, torch.Tensor]:
    """Target-encoder weights pre-trained on ``signals`` (float32[n, 12, T], mV), from the cache
    when the same pre-training ran before; notes whether the cache was hit."""
    key = pretrain_key(config, fs, signals_fingerprint(signals, fs), ctx.seed)
    path = checkpoint_path(ctx.cache_dir, CACHE_NAME, key)
    ctx.note("pretrain_key", key)
    ctx.note("pretrain_records", int(len(signals)))
    saved = distributed.read_on_main(path)  # rank 0 reads it and sends it to the other ranks
    if saved is not None:
        state, metadata = load_checkpoint_bytes(saved)
        ctx.note("pretrain_cache", "hit")
        for name, value in sorted(metadata.items()):
            if name.startswith("pretrain_"):
                ctx.note(name, float(value))
        return state
    result = pretrain_encoder(signals, fs, config, seed=ctx.seed, device=ctx.device, progress=ctx.progress)
    summary = {f"pretrain_{k}": round(v, 6) for k, v in result.summary().items()}
    summary["pretrain_seconds"] = round(result.seconds, 2)
    if distributed.is_main():
        save_checkpoint(path, result.encoder_state, metadata={**summary, "steps": config.pretrain_steps})
    ctx.note("pretrain_cache", "miss")
    for name, value in summary.items():
        ctx.note(name, value)
    return result.encoder_state
