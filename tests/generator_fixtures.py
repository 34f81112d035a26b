"""A tiny generator on the shared generator loop, and records for it: what the tests of the loop
(single- and multi-process) train."""

from __future__ import annotations

import numpy as np
import torch

from ecgbench.data.dataset import ECGDataset, empty_meta
from ecgbench.data.leads import twelve_from_independent
from ecgbench.nn.generator_training import BackboneGenerator


def synthetic_dataset(n: int = 12, length: int = 32, seed: int = 0) -> ECGDataset:
    """Records whose limb leads obey Einthoven/Goldberger exactly, with random multi-hot labels."""
    rng = np.random.default_rng(seed)
    t = np.arange(length) / length
    x8 = np.sin(2 * np.pi * (rng.uniform(1, 3, (n, 8, 1)) * t + rng.uniform(0, 1, (n, 8, 1))))
    labels = (rng.uniform(size=(n, 71)) < 0.1).astype(np.uint8)
    return ECGDataset(
        name="synthetic",
        signals=twelve_from_independent(0.5 * x8).astype(np.float32),
        fs=100.0,
        record_ids=np.array([f"rec{i}" for i in range(n)]),
        labels=labels,
        folds=np.ones(n, dtype=int),
        meta=empty_meta(n),
    )


class Denoiser(BackboneGenerator):
    """A minimal objective: reconstruct noised records; sampling applies the network ``steps`` times.
    ``fail_at_call`` interrupts training at that loss call (to test resuming); ``random_time``
    draws a per-record time as the real generators do (to test the per-record random draws)."""

    name = "denoiser"
    fail_at_call: int | None = None
    noise_scale: float = 0.1
    random_time: bool = False

    def training_loss(self, net, x0, labels, draws):
        self.calls = getattr(self, "calls", 0) + 1
        if self.fail_at_call == self.calls:
            raise KeyboardInterrupt("simulated interruption")
        time = draws.rand() if self.random_time else torch.zeros(len(x0), device=x0.device)
        return torch.mean((net(x0 + self.noise_scale * draws.randn(*x0.shape[1:]), time, labels) - x0) ** 2)

    def sampling_steps(self, steps):
        return 2 if steps is None else steps

    def evaluations(self, steps):
        return steps

    def sample_batch(self, noise, labels, steps, generator, progress):
        x = noise
        for _ in progress(range(steps)):
            x = self.net(x, torch.zeros(len(x)), labels)
        return x
