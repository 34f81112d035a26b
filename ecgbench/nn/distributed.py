"""Data-parallel training on torch.distributed, written once for every training loop.

A run launched by ``torchrun --nproc-per-node N -m ecgbench run ...`` (or ``ecgbench run --nproc
N``, which calls torch's elastic launcher) has N processes, each with a rank. Every rank builds the
same model; each training step works on one *global* batch of the configured ``batch_size``
(the effective batch, as the published papers state it) split into N contiguous shares:

- the step's random draws (which records, noise, diffusion time, crops, masks) are made for the
  whole global batch from the run's seed on every rank, and each rank keeps its share
  (:func:`share`, :class:`BatchDraws`), so a run's result does not depend on how many processes
  share it, up to the order of floating-point sums;
- each rank's loss is weighted by its share of the batch (:func:`share_weight`) and the gradients
  are averaged over ranks with one all-reduce per step (:func:`average_gradients`), which is what
  ``DistributedDataParallel`` does; the wrapper itself is not used because the loops call model
  methods other than ``forward`` and train different parameter groups in different stages;
- randomness that is not part of a batch (dropout) is seeded per rank (:func:`seed_rank`);
- decisions taken on validation data (model selection, early stopping) are taken by rank 0 and
  announced to the others (:func:`agree`), and only rank 0 evaluates, writes checkpoints and the
  run record (:func:`is_main`);
- a resumable checkpoint is read by rank 0 and sent to the others (:func:`read_on_main`), so a
  resumed run needs no shared file system for it.

With one process (no process group) every function is the identity or a no-op, so single-process
training is exactly what it was. Backend: ``gloo`` on CPU, ``nccl`` on CUDA.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ecgbench.errors import ConfigError

#: Launchers (torchrun, SLURM via torchrun) describe the process group in these variables.
ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class World:
    """This process's place in the run: rank, number of processes, rank on its node, backend."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def world() -> World:
    """The current process group (a world of one when none is initialised)."""
    if not (dist.is_available() and dist.is_initialized()):
        return World()
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)), dist.get_backend())


def is_main() -> bool:
    """True on rank 0 (and in a single-process run): the rank that evaluates and writes."""
    return world().is_main


def launched_size() -> int:
    """The number of processes a launcher started this run with (1 when not launched by one)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def start(device: str) -> World:
    """Join the process group the launcher described (``gloo`` for CPU, ``nccl`` for CUDA) and,
    on CUDA, select this rank's GPU. Returns the world; a world of one when not launched."""
    if launched_size() <= 1:
        return World()
    if not dist.is_initialized():
        missing = [name for name in ENV_VARS if name not in os.environ]
        if missing:
            raise ConfigError(
                f"WORLD_SIZE={os.environ['WORLD_SIZE']} but {', '.join(missing)} unset: launch with "
                "`torchrun --nproc-per-node N -m ecgbench run ...` or `ecgbench run --nproc N ...`"
            )
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        dist.init_process_group(backend=backend)
    return world()


def stop() -> None:
    """Leave the process group (after the last collective of the run)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def rank_device(device: str) -> str:
    """``cuda`` -> ``cuda:<local rank>`` in a multi-process run; anything else unchanged."""
    w = world()
    return f"cuda:{w.local_rank}" if w.size > 1 and device == "cuda" else device


def check_batch(batch_size: int, what: str) -> None:
    """Every rank needs at least one record of each global batch."""
    size = world().size
    if batch_size < size:
        raise ConfigError(
            f"{what}: batch_size {batch_size} is the global batch, split over {size} processes; "
            f"it must be at least {size} (or use fewer processes)"
        )


def share(total: int, w: World | None = None) -> slice:
    """This rank's contiguous share of a global batch of ``total`` items (sizes differ by <= 1)."""
    w = w or world()
    bounds = np.linspace(0, total, w.size + 1).round().astype(int)
    return slice(int(bounds[w.rank]), int(bounds[w.rank + 1]))


def share_weight(total: int, part: slice) -> float:
    """Factor on a rank's mean loss so that averaging gradients over ranks gives the gradient of
    the mean over the whole global batch: (share size / total) x world size (1 when even)."""
    size = world().size
    return (part.stop - part.start) * size / total if size > 1 else 1.0


class BatchDraws:
    """The random draws of one global batch of ``total`` records, made on the CPU from
    ``generator`` (so that they do not depend on the device or the number of processes), of
    which this rank keeps the records ``part``; the kept draws are moved to ``device``.

    With one process the draws are exactly ``torch.randint(high, (total,), generator=...)``,
    ``torch.rand(total, ...)`` and ``torch.randn((total, *shape), ...)``.
    """

    def __init__(self, generator: torch.Generator, total: int, part: slice | None = None,
                 device: torch.device | str = "cpu"):
        self.generator, self.total = generator, total
        self.part = part or slice(0, total)
        self.device = torch.device(device)

    def _kept(self, values: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
        kept = values[self.part]
        if self.device.type == "cuda":
            kept = kept.pin_memory().to(self.device, non_blocking=True)
        return kept if dtype is None else kept.to(dtype)

    def randint(self, high: int) -> torch.Tensor:
        """int64[b]: one draw from 0 .. high-1 per kept record."""
        return self._kept(torch.randint(high, (self.total,), generator=self.generator), None)

    def rand(self, dtype: torch.dtype | None = None) -> torch.Tensor:
        """float[b]: one uniform draw on [0, 1) per kept record."""
        return self._kept(torch.rand(self.total, generator=self.generator), dtype)

    def randn(self, *shape: int, dtype: torch.dtype | None = None) -> torch.Tensor:
        """float[b, *shape]: standard normal draws per kept record."""
        return self._kept(torch.randn((self.total, *shape), generator=self.generator), dtype)


def seed_rank(seed: int) -> None:
    """Seed torch's global generator (dropout, random initialisation after this point) per rank;
    nothing changes in a single-process run."""
    w = world()
    if w.size > 1:
        torch.manual_seed(int(np.random.SeedSequence([seed, 0x52414E4B, w.rank]).generate_state(1)[0]))


def _flat_gradients(params: list[nn.Parameter]) -> torch.Tensor:
    return torch.cat([
        (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params
    ])


def average_gradients(params: Iterable[nn.Parameter]) -> None:
    """Replace every gradient by its mean over the ranks (one all-reduce of all of them); a
    parameter without a gradient on some rank counts as zero there."""
    w = world()
    if w.size <= 1:
        return
    params = [p for p in params if p.requires_grad]
    if not params:
        return
    flat = _flat_gradients(params)
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= w.size
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset: offset + n].view_as(p).clone()
        offset += n


@torch.no_grad()
def broadcast_tensors(tensors: Iterable[torch.Tensor]) -> None:
    """Make every rank's copy of ``tensors`` equal to rank 0's (in place)."""
    if world().size <= 1:
        return
    for tensor in tensors:
        dist.broadcast(tensor.data, src=0)


def broadcast_module(module: nn.Module, buffers_only: bool = False) -> None:
    """Make every rank's parameters (and buffers: BatchNorm statistics) equal to rank 0's."""
    broadcast_tensors(list(module.buffers()) if buffers_only else [*module.parameters(), *module.buffers()])


def _carrier(values: torch.Tensor) -> torch.Tensor:
    """A tensor the backend can send: nccl sends only CUDA tensors."""
    return values.cuda() if world().backend == "nccl" else values


def agree(value: float) -> float:
    """Rank 0's value on every rank (a validation score, a decision): other ranks' arguments are
    ignored, so they may pass anything (e.g. NaN when they did not compute it)."""
    if world().size <= 1:
        return value
    carrier = _carrier(torch.tensor([value], dtype=torch.float64))
    dist.broadcast(carrier, src=0)
    return float(carrier.cpu()[0])


def sum_over_ranks(value: torch.Tensor) -> torch.Tensor:
    """The sum of ``value`` over ranks (a loss total for the curve), on every rank."""
    if world().size <= 1:
        return value
    carrier = _carrier(value.detach().clone())
    dist.all_reduce(carrier, op=dist.ReduceOp.SUM)
    return carrier.to(value.device)


def read_on_main(path) -> bytes | None:
    """The bytes of ``path`` as rank 0 sees them (None when rank 0 finds no such file), on every rank."""
    w = world()
    data = None
    if w.is_main and os.path.isfile(path):
        with open(path, "rb") as f:
            data = f.read()
    if w.size <= 1:
        return data
    length = _carrier(torch.tensor([-1 if data is None else len(data)], dtype=torch.int64))
    dist.broadcast(length, src=0)
    n = int(length.cpu()[0])
    if n < 0:
        return None
    payload = torch.frombuffer(bytearray(data), dtype=torch.uint8) if w.is_main else torch.empty(n, dtype=torch.uint8)
    payload = _carrier(payload)
    dist.broadcast(payload, src=0)
    return data if w.is_main else payload.cpu().numpy().tobytes()


def barrier() -> None:
    if world().size > 1:
        dist.barrier()


@contextmanager
def main_first() -> Iterator[None]:
    """Rank 0 runs the block first (e.g. builds the dataset cache), then the others (cache hits)."""
    main = is_main()
    if not main:
        barrier()
    try:
        yield
    finally:
        if main:
            barrier()


def _size(part: slice) -> int:
    return part.stop - part.start


def describe(batches: dict[str, int]) -> dict:
    """What a run record says about its processes: backend, world size and, per training loop,
    the global (effective) batch and the largest per-rank share."""
    w = world()
    return {
        "backend": w.backend or "none",
        "world_size": w.size,
        "batches": {
            name: {"effective": total, "per_rank": max(_size(share(total, World(r, w.size))) for r in range(w.size))}
            for name, total in sorted(batches.items())
        },
    }


_BATCHES: dict[str, int] = {}


def note_batch(loop: str, effective: int) -> None:
    """Record the global batch a training loop used, for the run record (:func:`describe`)."""
    _BATCHES[loop] = int(effective)


def noted_batches() -> dict[str, int]:
    return dict(_BATCHES)


def forget_batches() -> None:
    """Start a run's record of training loops afresh."""
    _BATCHES.clear()
