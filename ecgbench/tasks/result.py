"""What a task runner hands back to the harness."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ecgbench.metrics.bootstrap import MetricValue


@dataclass
class TaskResult:
    """metrics     the scores, with bootstrap CIs where the task gives them.
    samples     per-record outputs for ``<run_id>.samples.npz`` (always ``record_id``).
    artifacts   (path, kind) of files written under ``ctx.artifacts_dir`` (plots).
    notes       facts for the record (dropped labels, the real-vs-real floor, ...).
    splits      records per split the task used, e.g. {"train": 2400, "val": 300, "test": 300}.
    """

    metrics: list[MetricValue]
    samples: dict[str, np.ndarray]
    artifacts: list[tuple[Path, str]] = field(default_factory=list)
    notes: dict = field(default_factory=dict)
    splits: dict[str, int] = field(default_factory=dict)
