"""The LoRA step on two processes (gloo): every rank ends with rank 0's adapter and only rank 0
writes it. Equality with one process at the same batch is not claimed: the loss is a mean over
answer tokens, which each rank takes over its share of the batch, so answers of different lengths
weigh differently (measured on this test: up to 8e-3 apart after two steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from conftest import tiny

from ecgbench.context import RunContext
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.data.qa import QAConfig, build_qa
from ecgbench.data.render import RenderConfig, render_dataset


def fit(cache: str) -> dict:
    torch.set_num_threads(1)
    data = load_phantom(PhantomConfig(n_records=8, cache=False))
    qa = build_qa(data, render_dataset(data, RenderConfig(px_per_mm=2.0), seed=0), QAConfig(question_types=("rhythm",)), seed=0)
    ctx = RunContext(seed=0, quiet=True, cache_dir=Path(cache), artifacts_dir=Path(cache))
    model = tiny(ctx, max_steps=2, batch_size=4).fit(qa)
    trained = {name: p.detach().numpy().copy() for name, p in model.model.named_parameters() if p.requires_grad}
    return {"adapter": trained, "files": len(list(Path(cache).rglob("*.safetensors"))),
            "loss": ctx.notes.get("train_loss_last")}


def test_two_processes_train_one_adapter_and_only_rank_0_writes_it(tmp_path):
    from ecgbench.testing.distributed import run_in_processes

    rank0, rank1 = run_in_processes(fit, 2, str(tmp_path / "two"))
    for name, value in rank0["adapter"].items():
        np.testing.assert_array_equal(rank1["adapter"][name], value)
    assert rank0["files"] == 1
