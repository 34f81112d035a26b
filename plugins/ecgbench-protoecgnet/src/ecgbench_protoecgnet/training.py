"""One training stage: Adam + cosine annealing over shuffled mini-batches, model selection on
the validation split by the dataset-level macro AUROC, early stopping, best weights restored."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ecgbench.context import RunContext
from ecgbench.metrics.classification import macro_auroc
from ecgbench.nn import devices, distributed


@dataclass
class StageLog:
    """What a stage did, for the run record."""

    name: str
    epochs: int = 0
    best_epoch: int = -1
    best_val_macro_auroc: float = float("nan")
    train_loss: list[float] = field(default_factory=list)
    #: the starting state's value (epoch 0), then one per epoch
    val_macro_auroc: list[float] = field(default_factory=list)
    loss_terms: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready: rounded, with None for undefined values (NaN)."""
        return {
            "name": self.name,
            "epochs": self.epochs,
            "best_epoch": self.best_epoch,
            "best_val_macro_auroc": _plain(self.best_val_macro_auroc),
            "train_loss": [_plain(v) for v in self.train_loss],
            "val_macro_auroc": [_plain(v) for v in self.val_macro_auroc],
            "loss_terms": {k: _plain(v) for k, v in self.loss_terms.items()},
            "seconds": round(self.seconds, 2),
        }


def _plain(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None


StepFn = Callable[[np.ndarray], tuple[torch.Tensor, dict[str, torch.Tensor]]]


def run_stage(
    name: str,
    owner: nn.Module,
    params: list[nn.Parameter],
    step: StepFn,
    validate: Callable[[], np.ndarray],
    y_val: np.ndarray,
    n_train: int,
    *,
    epochs: int,
    patience: int,
    lr: float,
    weight_decay: float,
    batch_size: int,
    rng: np.random.Generator,
    ctx: RunContext,
    train_mode: Callable[[], None],
    amp: bool = False,
) -> StageLog:
    """Train ``params`` for up to ``epochs``; keep the state of ``owner`` with the best
    validation macro AUROC (the starting state counts as epoch 0, so a stage never ends below
    where it began; ties and NaN fall back to the later state), stop after ``patience`` epochs
    without improvement, and restore the best state. With ``amp`` the steps run under bfloat16
    autocast on CUDA.

    ``step(batch_indices)`` returns the batch loss and its named terms (detached tensors);
    ``validate()`` returns the validation probabilities ``[n_val, C]``; ``train_mode()`` sets
    the modules to the right train/eval mode before each epoch.

    In a multi-process run (:mod:`ecgbench.nn.distributed`) every rank draws the same shuffles
    and works on its share of each batch; gradients are averaged, BatchNorm statistics are
    rank 0's, and rank 0 alone validates. Terms computed over a batch (the BatchNorm statistics,
    the cluster and separation ratios) then come from each rank's share, so the result is close
    to, not equal to, the single-process one.
    """
    log = StageLog(name)
    if epochs <= 0 or not params:
        return log
    started = time.perf_counter()
    distributed.check_batch(min(batch_size, n_train), f"protoecgnet {name}")
    distributed.note_batch("protoecgnet", batch_size)
    main = distributed.is_main()
    device = params[0].device
    optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    start_score = distributed.agree(macro_auroc(y_val, validate())[0] if main else float("nan"))
    log.val_macro_auroc.append(start_score)
    best_state, waited = copy.deepcopy(owner.state_dict()), 0
    best_score = start_score if np.isfinite(start_score) else float("-inf")
    log.best_epoch, log.best_val_macro_auroc = 0, start_score
    bar = ctx.progress(range(1, epochs + 1), desc=name, total=epochs)
    for epoch in bar:
        train_mode()
        order = rng.permutation(n_train)
        losses: list[torch.Tensor] = []  # this rank's share of each batch's loss, read back per epoch
        terms: dict[str, torch.Tensor] = {}
        for lo in range(0, n_train, batch_size):
            batch = order[lo : lo + batch_size]  # the global batch: every rank draws the same order
            part = distributed.share(len(batch))
            mine, kept = batch[part], (part.stop - part.start) / len(batch)
            optimizer.zero_grad(set_to_none=True)
            if len(mine):  # a rank without records in the last, short batch adds zero gradients
                with devices.autocast(device, amp):
                    loss, parts = step(mine)
                (loss * distributed.share_weight(len(batch), part)).backward()
                losses.append(loss.detach() * kept)
                for k, v in parts.items():
                    terms[k] = terms.get(k, 0.0) + v.double() * kept
            else:
                losses.append(torch.zeros((), device=device))
            distributed.average_gradients(params)
            optimizer.step()
            distributed.broadcast_module(owner, buffers_only=True)  # BatchNorm statistics: rank 0's
        scheduler.step()
        batch_losses = distributed.sum_over_ranks(torch.stack(losses).double()).cpu().numpy()
        log.train_loss.append(float(np.mean(batch_losses)))
        log.loss_terms = {k: float(distributed.sum_over_ranks(torch.as_tensor(v, dtype=torch.float64))) / len(losses)
                          for k, v in sorted(terms.items())}
        score = distributed.agree(macro_auroc(y_val, validate())[0] if main else float("nan"))
        log.val_macro_auroc.append(score)
        log.epochs = epoch
        bar.set_postfix(loss=log.train_loss[-1], val_auroc=float(score))
        comparable = score if np.isfinite(score) else float("-inf")
        if comparable >= best_score:
            best_state, best_score, waited = copy.deepcopy(owner.state_dict()), comparable, 0
            log.best_epoch, log.best_val_macro_auroc = epoch, score
        else:
            waited += 1
            if waited >= patience:
                break
    owner.load_state_dict(best_state)
    log.seconds = time.perf_counter() - started
    return log
