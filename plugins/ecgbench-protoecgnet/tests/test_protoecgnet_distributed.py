"""ProtoECGNet on two processes (gloo): every rank ends with rank 0's weights and only rank 0
writes. BatchNorm statistics and the batch-level cluster and separation ratios come from each
rank's share, so the result is not that of one process at the same batch (and model selection
on validation AUROC may then keep another epoch): equality is not claimed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from conftest import TINY, synthetic_cohort
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.model import ProtoECGNet

from ecgbench.context import RunContext
from ecgbench.testing.distributed import run_in_processes


def fit(cache: str) -> dict:
    torch.set_num_threads(1)
    train, val, _ = synthetic_cohort(n=120).split()
    ctx = RunContext(seed=0, device="cpu", cache_dir=Path(cache), artifacts_dir=Path(cache), quiet=True)
    model = ProtoECGNet(ProtoECGNetConfig(**{**TINY, "dropout": 0.0}), ctx).fit(train, val)
    return {"weights": {k: v.numpy().copy() for k, v in model.net.state_dict().items()},
            "files": len(list(Path(cache).rglob("*.safetensors")))}


def test_two_processes_end_with_the_same_weights_and_only_rank_0_writes(tmp_path):
    rank0, rank1 = run_in_processes(fit, 2, str(tmp_path / "two"))
    for name, value in rank0["weights"].items():
        np.testing.assert_array_equal(rank1["weights"][name], value)
    assert rank0["files"] == 1
