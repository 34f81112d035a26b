"""Fitting and sampling plumbing shared by the generators built on the SSSD-ECG backbone.

A subclass of :class:`BackboneGenerator` supplies only its objective (the training loss) and
its sampler; data preparation, the lead mapping, label handling, the checkpointed training
loop with resume, caching of trained weights and the run notes live here, written once.

Leads: the network models the 8 independent leads (I, aVF, V1–V6, :data:`INDEPENDENT_LEADS`);
II, III, aVR and aVL are derived by Einthoven's and Goldberger's identities, and the output is
in the harness order I, II, III, aVR, aVL, aVF, V1–V6.
"""

from __future__ import annotations

import json
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import N_LABELS
from ecgbench.data.leads import INDEPENDENT_LEADS, independent_from_twelve, twelve_from_independent
from ecgbench.data.streaming import RecordRows, iter_chunks, take_rows
from ecgbench.errors import DataError
from ecgbench.nn import devices, distributed
from ecgbench.nn.checkpoints import (
    checkpoint_path,
    load_checkpoint,
    load_checkpoint_bytes,
    save_checkpoint,
    training_key,
)
from ecgbench.nn.distributed import BatchDraws
from ecgbench.nn.generator_config import BackboneGeneratorConfig
from ecgbench.nn.sssd_backbone import SSSDBackbone, count_parameters
from ecgbench.weights import ModelWeights, WeightsMetadata

#: Points kept in the ``loss_curve`` run note.
LOSS_CURVE_POINTS = 20
#: Loss is averaged over this many segments of the run (progress bar and stored curve).
LOSS_SEGMENTS = 40

#: ``loss(net, x0 float[b, 8, T], labels float[b, 71], draws) -> scalar``: the mean loss over the
#: batch, its random draws (noise, time) taken from ``draws`` (see :class:`BatchDraws`).
LossFunction = Callable[[nn.Module, torch.Tensor, torch.Tensor, BatchDraws], torch.Tensor]


def stream_seed(seed: int, index: int) -> int:
    """An independent 63-bit seed for item ``index`` of a stream (an iteration, a batch)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0] >> 1)


@dataclass(frozen=True)
class TrainingData:
    """What the network trains on, read a batch at a time.

    records  float32[n, 12, T] in mV: the training split's signals as the dataset holds them
             (an array, a memmap or a lazily read selection of one; never copied whole here).
    labels   float32[n, 71] multi-hot.
    scale    mV per model unit (1.0 when not normalised).
    """

    records: np.ndarray | RecordRows
    labels: torch.Tensor
    scale: float

    def __len__(self) -> int:
        return len(self.records)

    def batch(self, rows: np.ndarray) -> torch.Tensor:
        """float32[b, 8, T] in model units: the independent leads of records ``rows``."""
        x8 = independent_from_twelve(take_rows(self.records, rows))
        return torch.from_numpy(np.ascontiguousarray(x8 / self.scale if self.scale != 1.0 else x8, dtype=np.float32))


def prepare_training_data(train: ECGDataset, normalise: str) -> TrainingData:
    """Check that every record has the 8 independent leads and, for ``global_std``, find the one
    scale (the SD over all of them), reading the records a chunk at a time (two passes, float64)."""
    if len(train) == 0:
        raise DataError(f"dataset {train.name!r}: no training records")
    bad: list[int] = []
    total = count = 0.0
    for rows, chunk in iter_chunks(train.signals):
        x8 = independent_from_twelve(chunk)
        finite = np.isfinite(x8).all(axis=(1, 2))
        bad += (rows.start + np.flatnonzero(~finite)).tolist()
        total += float(x8.sum(dtype=np.float64))
        count += x8.size
    if bad:
        raise DataError(
            f"dataset {train.name!r}, record {train.record_ids[bad[0]]!r}: missing or non-finite samples in "
            f"leads {', '.join(INDEPENDENT_LEADS)}; the generator models these 8 leads and needs all of them "
            f"({len(bad)} records affected)"
        )
    scale = 1.0
    if normalise == "global_std":
        mean = total / count
        squares = sum(float(((independent_from_twelve(chunk).astype(np.float64) - mean) ** 2).sum())
                      for _, chunk in iter_chunks(train.signals))
        scale = math.sqrt(squares / count)
    if not scale > 0:
        raise DataError(f"dataset {train.name!r}: the training signals are constant; nothing to learn")
    return TrainingData(train.signals, torch.from_numpy(train.labels.astype(np.float32)), scale)


class BatchFeed:
    """Batches for the training loop. On CUDA the whole training set is moved to the GPU once (a
    chunk at a time through pinned memory), so that no step copies data from the host; on the
    CPU each batch is read from the (memmapped) records when it is needed."""

    def __init__(self, data: TrainingData, device: torch.device):
        self.data, self.device = data, device
        self.labels = data.labels.to(device)
        self.resident: torch.Tensor | None = None
        if device.type == "cuda":
            t = data.records.shape[-1]
            self.resident = torch.empty((len(data), len(INDEPENDENT_LEADS), t), dtype=torch.float32, device=device)
            for rows, chunk in iter_chunks(data.records):
                x8 = independent_from_twelve(chunk).astype(np.float32) / np.float32(data.scale)
                self.resident[rows] = devices.to_device(x8, device)
            torch.cuda.synchronize(device)

    def __call__(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(x0 float32[b, 8, T], labels float32[b, 71]) on the device for CPU row indices ``rows``."""
        if self.resident is not None:
            index = devices.to_device(rows, self.device)
            return self.resident[index], self.labels[index]
        return self.data.batch(rows.numpy()).to(self.device), self.labels[rows]


def twelve_lead_mv(x8: torch.Tensor, scale: float) -> np.ndarray:
    """float[n, 8, T] model units -> float32[n, 12, T] mV in the harness lead order."""
    return twelve_from_independent(x8.detach().float().cpu().numpy() * scale).astype(np.float32)


def condition_labels(n: int, labels: np.ndarray | None, train_labels: np.ndarray, seed: int) -> np.ndarray:
    """float32[n, 71] conditions: the given multi-hot rows, or (None) rows drawn from the training set."""
    if labels is None:
        rows = np.random.default_rng([seed, 71]).integers(len(train_labels), size=n)
        return train_labels[rows].astype(np.float32)
    labels = np.asarray(labels)
    if labels.shape != (n, N_LABELS):
        raise DataError(f"sample(): labels must be uint8[{n}, {N_LABELS}] (one multi-hot row per record), got {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise DataError("sample(): labels must be multi-hot (0 or 1 only)")
    return labels.astype(np.float32)


@dataclass(frozen=True)
class TrainingOutcome:
    """What a (possibly cached or resumed) training run reports."""

    iterations: int
    loss_curve: list[float]
    train_seconds: float
    trained_now: bool
    resumed_from: int | None


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    tensors = {}
    for index, state in optimizer.state_dict()["state"].items():
        for name, value in state.items():
            tensors[f"optimizer.{index}.{name}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return tensors


def _load_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})


def _model_tensors(net: nn.Module, prefix: str = "model.") -> dict[str, torch.Tensor]:
    return {f"{prefix}{k}": v for k, v in net.state_dict().items()}


def _load_model(net: nn.Module, tensors: dict[str, torch.Tensor], prefix: str = "model.") -> None:
    net.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})


class WeightAverage:
    """Exponential moving average of a network's floating-point state (parameters and buffers)."""

    def __init__(self, net: nn.Module, decay: float):
        self.net, self.decay = net, decay
        self.average = {k: v.detach().clone() for k, v in net.state_dict().items()}

    @torch.no_grad()
    def update(self, iteration: int) -> None:
        decay = min(self.decay, (1 + iteration) / (10 + iteration))
        for name, value in self.net.state_dict().items():
            if value.is_floating_point():
                self.average[name].lerp_(value, 1 - decay)
            else:
                self.average[name].copy_(value)

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f"ema.{k}": v for k, v in self.average.items()}

    def load(self, tensors: dict[str, torch.Tensor]) -> None:
        for name in self.average:
            self.average[name].copy_(tensors[f"ema.{name}"])


def train_network(
    net: nn.Module,
    loss_fn: LossFunction,
    data: TrainingData,
    config: BackboneGeneratorConfig,
    *,
    seed: int,
    final_path: Path,
    resume_path: Path,
    ctx: RunContext,
    desc: str,
) -> TrainingOutcome:
    """Train ``net`` with Adam for ``config.n_iters`` steps, or load the weights if cached.

    Every random draw of iteration i (batch indices, noise, time) comes from a generator
    seeded by (seed, i), so an interrupted run resumed from its last checkpoint ends with the
    same weights as an uninterrupted one. A resumable checkpoint (weights, Adam state, loss
    so far) is written every ``config.checkpoint_every`` iterations; the final weights go to
    ``final_path`` and the resumable file is removed. With ``config.ema_decay > 0`` the
    network ends with (and the cache holds) the moving average of its weights.

    In a multi-process run (:mod:`ecgbench.nn.distributed`) ``config.batch_size`` is the global
    batch: every rank draws the whole batch's rows and noise and works on its share, gradients
    are averaged, and only rank 0 writes checkpoints; the result is the single-process one up to
    the order of floating-point sums. The loss is read back from the device once per segment of
    the loss curve, not at every step.
    """
    device = next(net.parameters()).device
    world = distributed.world()
    cached = distributed.agree(float(final_path.exists())) > 0
    if cached and not world.is_main:  # rank 0 evaluates with the cached weights; nothing to train here
        return TrainingOutcome(0, [], 0.0, False, None)
    if cached:
        tensors, meta = load_checkpoint(final_path, device=str(device))
        _load_model(net, tensors)
        return TrainingOutcome(int(meta["iteration"]), json.loads(meta["loss_curve"]), float(meta["train_seconds"]), False, None)

    distributed.check_batch(config.batch_size, desc)
    distributed.note_batch(desc, config.batch_size)
    distributed.broadcast_module(net)
    distributed.seed_rank(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    average = WeightAverage(net, config.ema_decay) if config.ema_decay > 0 else None
    start, curve, seconds_before, resumed_from = 0, [], 0.0, None
    segment_total = torch.zeros((), dtype=torch.float64, device=device)  # this rank's share of the losses
    segment_count = 0
    saved = distributed.read_on_main(resume_path)
    if saved is not None:
        tensors, meta = load_checkpoint_bytes(saved, device=str(device))
        _load_model(net, tensors)
        _load_optimizer(optimizer, tensors)
        if average is not None:
            average.load(tensors)
        start = resumed_from = int(meta["iteration"])
        curve, seconds_before = json.loads(meta["loss_curve"]), float(meta["train_seconds"])
        segment_count = int(meta["segment_count"])
        if world.is_main:
            segment_total += float(meta["segment_sum"])

    feed = BatchFeed(data, device)
    part = distributed.share(config.batch_size)
    weight = distributed.share_weight(config.batch_size, part)
    kept = (part.stop - part.start) / config.batch_size
    mixed = devices.autocast(device, config.amp)
    segment = math.ceil(config.n_iters / LOSS_SEGMENTS)
    began = time.perf_counter()

    def segment_sum() -> float:
        """The global batch's loss summed over the segment so far (one collective, one readback)."""
        return float(distributed.sum_over_ranks(segment_total))

    def checkpoint(iteration: int, total: float) -> None:
        meta = {
            "iteration": iteration,
            "loss_curve": json.dumps(curve),
            "train_seconds": seconds_before + time.perf_counter() - began,
            "segment_sum": total,
            "segment_count": segment_count,
            "data_scale": data.scale,
        }
        if world.is_main:
            tensors = {**_model_tensors(net), **_optimizer_tensors(optimizer)}
            save_checkpoint(resume_path, {**tensors, **(average.tensors() if average else {})}, meta)

    net.train()
    with ctx.progress(desc=desc, total=config.n_iters, initial=start) as bar:
        if curve:
            bar.set_postfix(loss=curve[-1])
        for i in bar.track(range(start, config.n_iters)):
            generator = torch.Generator().manual_seed(stream_seed(seed, i))
            rows = torch.randint(len(data), (config.batch_size,), generator=generator)
            x0, labels = feed(rows[part])
            with mixed:
                loss = loss_fn(net, x0, labels, BatchDraws(generator, config.batch_size, part, device))
            optimizer.zero_grad(set_to_none=True)
            (loss * weight).backward() if weight != 1.0 else loss.backward()
            distributed.average_gradients(net.parameters())
            optimizer.step()
            if average is not None:
                average.update(i)
            segment_total += loss.detach().double() * kept if kept != 1.0 else loss.detach().double()
            segment_count += 1
            if (i + 1) % segment == 0 or i + 1 == config.n_iters:
                total = segment_sum()
                if not math.isfinite(total):
                    raise FloatingPointError(
                        f"{desc}: the training loss became {total} in iterations {i + 1 - segment_count}-{i}"
                    )
                curve.append(total / segment_count)
                segment_total.zero_()
                segment_count = 0
                bar.set_postfix(loss=curve[-1])
            if (i + 1) % config.checkpoint_every == 0 and i + 1 < config.n_iters:
                checkpoint(i + 1, segment_sum())

    seconds = seconds_before + time.perf_counter() - began
    if average is not None:  # sample with (and cache) the averaged weights
        net.load_state_dict(average.average)
    if world.is_main:
        meta = {"iteration": config.n_iters, "loss_curve": json.dumps(curve), "train_seconds": seconds, "data_scale": data.scale}
        save_checkpoint(final_path, _model_tensors(net), meta)
        resume_path.unlink(missing_ok=True)
    return TrainingOutcome(config.n_iters, curve, seconds, True, resumed_from)


def _thin(curve: list[float], points: int) -> list[float]:
    """At most ``points`` values of a curve, evenly spaced, always keeping the last."""
    if len(curve) <= points:
        return [round(v, 6) for v in curve]
    index = np.unique(np.linspace(0, len(curve) - 1, points).round().astype(int))
    return [round(curve[i], 6) for i in index]


class BackboneGenerator(ABC):
    """A ``generate`` model on the SSSD-ECG backbone; subclasses supply objective and sampler.

    ``fit(train)`` trains (or loads cached weights keyed by the training settings, the data
    fingerprint and the run seed); ``sample(n, labels, steps, seed)`` returns
    ``float32[n, 12, T]`` in mV at the training data's rate and length. The trained network is
    exported with the run (``export_weights``); ``import_weights`` makes fit() use given weights.
    """

    #: Model name: checkpoint folder and the prefix of progress bars.
    name: ClassVar[str]

    def __init__(self, config: BackboneGeneratorConfig, ctx: RunContext):
        self.config, self.ctx = config, ctx
        self.device = torch.device(ctx.device)
        self.net: SSSDBackbone | None = None
        self.scale = 1.0
        self.n_samples = 0
        self.fs = 0.0
        self.imported: tuple[ModelWeights, WeightsMetadata] | None = None
        self.train_labels = np.zeros((0, N_LABELS), dtype=np.uint8)
        #: network evaluations per record in the last sample() call.
        self.nfe = 0

    # -- what a subclass supplies ---------------------------------------------------------
    @abstractmethod
    def training_loss(self, net: nn.Module, x0: torch.Tensor, labels: torch.Tensor, draws: BatchDraws) -> torch.Tensor:
        """Mean loss on a batch of clean signals ``x0`` float[b, 8, T] (model units), its random
        draws taken from ``draws`` (one per record of the global batch, this rank's kept)."""

    @abstractmethod
    def sampling_steps(self, steps: int | None) -> int:
        """The number of sampler steps for a sample() call (None: the configured default)."""

    @abstractmethod
    def evaluations(self, steps: int) -> int:
        """Network evaluations per record for ``steps`` sampler steps."""

    @abstractmethod
    def sample_batch(self, noise: torch.Tensor, labels: torch.Tensor, steps: int, generator: torch.Generator,
                     progress: Callable[[Iterable[int]], Iterable[int]]) -> torch.Tensor:
        """Denoise / integrate from ``noise`` float[b, 8, T] to samples in model units, looping
        over the sampler steps through ``progress`` (which counts them into the phase's bar)."""

    # -- shared -----------------------------------------------------------------------------
    def build_network(self, length: int) -> SSSDBackbone:
        c = self.config
        return SSSDBackbone(
            leads=len(INDEPENDENT_LEADS),
            length=length,
            n_blocks=c.n_blocks,
            channels=c.channels,
            s4_state=c.s4_state,
            s4_bidirectional=c.s4_bidirectional,
            s4_layer_norm=c.s4_layer_norm,
            s4_dropout=c.s4_dropout,
            step_embed_dim=c.step_embed_dim,
            step_hidden_dim=c.step_hidden_dim,
            n_labels=N_LABELS,
            label_embed_dim=c.label_embed_dim,
            conv_init=c.conv_init,
            s4_cauchy=c.s4_cauchy,
        )

    def export_weights(self) -> ModelWeights | None:
        """The network after fit() with what sampling needs: the amplitude scale, length and rate."""
        if self.net is None:
            return None
        tensors = {f"net.{k}": v.detach().cpu() for k, v in self.net.state_dict().items()}
        extra = {"data_scale_mv": self.scale, "n_samples": self.n_samples, "fs": self.fs,
                 "leads": list(INDEPENDENT_LEADS)}
        return ModelWeights(self.name, "model", tensors, extra)

    def import_weights(self, weights: ModelWeights, metadata: WeightsMetadata) -> None:
        """Evaluate these weights: fit() then checks the data against them instead of training."""
        self.imported = (weights, metadata)

    def _use_imported(self, train: ECGDataset) -> None:
        weights, metadata = self.imported  # type: ignore[misc]
        length, fs = int(weights.extra["n_samples"]), float(weights.extra["fs"])
        if train.n_samples != length or float(train.fs) != fs:
            raise DataError(
                f"{self.name}: the weights were made for records of {length} samples at {fs:g} Hz, dataset "
                f"{train.name!r} has {train.n_samples} samples at {train.fs:g} Hz; load the data at that rate and length "
                f"(e.g. --fs {fs:g})"
            )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.ctx.seed)
            net = self.build_network(length)
        state = {k[len("net."):]: v for k, v in weights.tensors.items() if k.startswith("net.")}
        net.load_state_dict(state)
        self.net, self.scale, self.n_samples, self.fs = net.to(self.device).eval(), float(weights.extra["data_scale_mv"]), length, fs
        self.train_labels = train.labels.copy()
        self.ctx.note("n_parameters", count_parameters(net))
        self.ctx.note("trained_in_this_run", False)
        self.ctx.note("data_scale_mv", self.scale)

    def fit(self, train: ECGDataset) -> BackboneGenerator:
        """Train on ``train`` (float32[n, 12, T] mV), or load the weights a previous run cached;
        with imported weights, only check that the data fits them (no training)."""
        if self.imported is not None:
            self._use_imported(train)
            return self
        data = prepare_training_data(train, self.config.normalise)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.ctx.seed)
            net = self.build_network(train.n_samples).to(self.device)
        key = training_key(self.name, self.config.training_fields(), train.fingerprint, self.ctx.seed)
        outcome = train_network(
            net,
            self.training_loss,
            data,
            self.config,
            seed=self.ctx.seed,
            final_path=checkpoint_path(self.ctx.cache_dir, self.name, key),
            resume_path=checkpoint_path(self.ctx.cache_dir, self.name, key, suffix="-resume"),
            ctx=self.ctx,
            desc=f"{self.name} train",
        )
        self.net, self.scale, self.n_samples, self.fs = net.eval(), data.scale, train.n_samples, float(train.fs)
        self.train_labels = train.labels.copy()
        self.ctx.note("n_parameters", count_parameters(net))
        self.ctx.note("train_seconds", round(outcome.train_seconds, 2))
        self.ctx.note("train_iterations", outcome.iterations)
        self.ctx.note("final_loss", round(outcome.loss_curve[-1], 6) if outcome.loss_curve else None)
        self.ctx.note("loss_curve", _thin(outcome.loss_curve, LOSS_CURVE_POINTS))
        self.ctx.note("checkpoint", key)
        self.ctx.note("trained_in_this_run", outcome.trained_now)
        if outcome.resumed_from is not None:
            self.ctx.note("resumed_from_iteration", outcome.resumed_from)
        self.ctx.note("data_scale_mv", self.scale)
        return self

    def sample(self, n: int, labels: np.ndarray | None = None, steps: int | None = None, seed: int = 0) -> np.ndarray:
        """float32[n, 12, T] mV; ``labels`` uint8[n, 71] or None (conditions drawn from the training set)."""
        if self.net is None:
            raise RuntimeError(f"{self.name}: call fit(train) before sample()")
        n_steps = self.sampling_steps(steps)
        conditions = condition_labels(n, labels, self.train_labels, seed)
        out = np.empty((n, 12, self.n_samples), dtype=np.float32)
        size = self.config.sample_batch_size
        n_batches = math.ceil(n / size)
        desc = f"{self.name} sample ({n} records, NFE {self.evaluations(n_steps)})"
        with (torch.inference_mode(), devices.autocast(self.device, self.config.amp),
              self.ctx.progress(desc=desc, total=n_batches * n_steps) as bar):
            for b, begin in enumerate(range(0, n, size)):
                end = min(n, begin + size)
                generator = torch.Generator().manual_seed(stream_seed(seed, b))
                noise = torch.randn((end - begin, len(INDEPENDENT_LEADS), self.n_samples), generator=generator)
                batch_labels = devices.to_device(conditions[begin:end], self.device)
                x = self.sample_batch(devices.to_device(noise, self.device), batch_labels, n_steps, generator, bar.track)
                out[begin:end] = twelve_lead_mv(x, self.scale)
        self.nfe = self.evaluations(n_steps)
        return out
