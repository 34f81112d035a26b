"""`ecgbench run --nproc 2`: two processes train SSSD-ECG (gloo), rank 0 alone writes the record,
which states the world size, the backend and the batches."""

from __future__ import annotations

import json
import os
import subprocess
import sys

TINY_SETS = ["n_blocks=1", "channels=4", "s4_state=8", "step_embed_dim=8", "step_hidden_dim=8",
             "label_embed_dim=4", "n_iters=4", "batch_size=4", "steps=2", "data.n_records=120",
             "task.n_boot=10", "task.tstr=false", "task.floor=false", "task.plot_records=0"]


def test_a_two_process_run_writes_one_record_that_states_its_processes(tmp_path):
    argv = [sys.executable, "-m", "ecgbench", "run", "--task", "generate", "--plugin", "sssd", "--device", "cpu",
            "--nproc", "2", "--out", str(tmp_path / "results"), "--quiet"]
    for item in TINY_SETS:
        argv += ["--set", item]
    env = {**os.environ, "ECGBENCH_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    records = list((tmp_path / "results").rglob("*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert record["status"] == "completed" and record["world_size"] == 2
    assert record["distributed"] == {"backend": "gloo", "world_size": 2,
                                     "batches": {"sssd train": {"effective": 4, "per_rank": 2}}}
    assert "--nproc" not in record["argv"]
    assert done.stdout.count("record:") == 1
