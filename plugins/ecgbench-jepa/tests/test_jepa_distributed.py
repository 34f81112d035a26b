"""JEPA pre-training and the downstream head on two processes (gloo): two ranks at batch b train
what one process trains at batch 2b."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from ecgbench_jepa.config import FinetuneConfig
from ecgbench_jepa.model import create_finetune

from ecgbench.context import RunContext
from ecgbench.testing import tiny_dataset
from ecgbench.testing.distributed import run_in_processes

#: dropout 0: it is the only randomness drawn per rank, not per global batch
TINY = dict(dim=32, depth=1, n_heads=2, pretrain_crop_s=2.5, pretrain_batch_size=8, pretrain_steps=4,
            pretrain_warmup_steps=1, steps=4, batch_size=8, eval_every=2, dropout=0.0)


def finetune(cache: str) -> dict:
    torch.set_num_threads(1)
    train, val, _ = tiny_dataset().split()
    ctx = RunContext(seed=0, cache_dir=Path(cache), quiet=True)
    model = create_finetune(FinetuneConfig(**TINY), ctx).fit(train, val)
    return {"weights": {k: v.numpy().copy() for k, v in model.model.state_dict().items()},
            "best_step": ctx.notes["downstream_best_step"], "pretrain_loss": ctx.notes["pretrain_final_loss"],
            "files": len(list(Path(cache).rglob("*.safetensors")))}


def largest_difference(a: dict, b: dict) -> float:
    return max(float(np.abs(a[k] - v).max()) for k, v in b.items())


def test_pretraining_and_fine_tuning_on_two_processes_match_one_process(tmp_path):
    rank0, rank1 = run_in_processes(finetune, 2, str(tmp_path / "two"))
    single = finetune(str(tmp_path / "one"))
    assert largest_difference(rank0["weights"], single["weights"]) < 1e-5
    assert largest_difference(rank1["weights"], rank0["weights"]) == 0.0
    assert abs(rank0["pretrain_loss"] - single["pretrain_loss"]) < 1e-5
    assert rank0["best_step"] == rank1["best_step"] == single["best_step"]
    assert rank0["files"] == 1  # the pre-trained encoder, written once, by rank 0
