"""RunContext: what the harness hands a model factory and a task runner besides the config."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from ecgbench.progress import Progress

T = TypeVar("T")


def default_cache_dir() -> Path:
    """Where trained checkpoints and dataset caches live: $ECGBENCH_CACHE or ~/.cache/ecgbench."""
    return Path(os.environ.get("ECGBENCH_CACHE", Path.home() / ".cache" / "ecgbench"))


@dataclass
class RunContext:
    """Per-run settings and services.

    seed           the run's seed; models derive every random stream from it.
    device         'cpu' or 'cuda' (already resolved from 'auto').
    artifacts_dir  where a model or task may write files (plots, explanations) for the record.
    cache_dir      shared across runs: checkpoints keyed by config and data fingerprint.
    quiet          no progress bars (tests).
    notes          facts a model or task attaches to the run record.
    phases         wall seconds per phase, filled by :meth:`phase`.
    """

    seed: int = 0
    device: str = "cpu"
    artifacts_dir: Path = field(default_factory=lambda: Path("artifacts"))
    cache_dir: Path = field(default_factory=default_cache_dir)
    quiet: bool = False
    notes: dict = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)

    def rng(self, stream: str = "") -> np.random.Generator:
        """A numpy generator derived from the run seed and a stream name (independent streams)."""
        return np.random.default_rng([self.seed, *stream.encode()])

    def progress(self, iterable: Iterable[T] | None = None, desc: str = "", total: int | None = None,
                 initial: int = 0) -> Progress:
        """One progress bar for a phase (see :class:`ecgbench.progress.Progress`): iterate over it,
        or ``update()``/``track()`` it by hand; ``set_postfix(loss=...)`` shows the loss. Silent
        when quiet; plain lines when stderr is not a terminal."""
        return Progress(iterable, desc=desc, total=total, initial=initial, enabled=not self.quiet)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase of the run (fit, sample, predict, evaluate); repeated phases add up."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - start

    def note(self, key: str, value: object) -> None:
        """Attach a JSON-serialisable fact to the run record (e.g. the number of parameters)."""
        self.notes[key] = value
