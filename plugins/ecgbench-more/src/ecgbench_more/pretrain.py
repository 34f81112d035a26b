"""Contrastive pre-training of MoRE on ECG–report pairs, and its cache.

Published schedule (``pretrain_multimodel.py``): AdamW (lr 3e-5, weight decay 0.1),
cosine annealing with warm restarts stepped once per epoch (T_0 = 10 epochs, eta_min 3e-6),
batches of 100 pairs, gradients accumulated over 4 batches, the last incomplete batch
dropped, early stopping after 10 epochs without a better validation loss; the weights of the
best validation epoch are kept. The temperature is learned without weight decay.

The pre-trained network is cached as safetensors (plus the trained tokenizer's JSON and the
training history) under ``<cache>/checkpoints/more-pretrain/<key>/``; the key covers the
pre-training settings, the text checkpoint, the training and validation pairs and the seed,
so ``more``, ``more-zeroshot`` and ``more-linear`` of one run setting share one pre-training.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedTokenizerFast

from ecgbench.nn.checkpoints import load_checkpoint, save_checkpoint, training_key
from ecgbench_more.config import MoreConfig
from ecgbench_more.ecg_encoder import ECGEncoder
from ecgbench_more.network import MoreNetwork
from ecgbench_more.preprocess import augment
from ecgbench_more.text_encoder import (
    TextEncoder,
    checked_text_model_path,
    load_pretrained,
    normalise,
    random_roberta,
    train_tokenizer,
    with_lora,
    wrap_tokenizer,
)

CACHE_NAME = "more-pretrain"
NETWORK_FILE, TOKENIZER_FILE, HISTORY_FILE = "network.safetensors", "tokenizer.json", "training.json"


@dataclass
class Pretrained:
    """The network, its tokenizer, and how it was made."""

    network: MoreNetwork
    tokenizer: PreTrainedTokenizerFast
    random_text: bool
    history: dict = field(default_factory=dict)


@dataclass
class Pairs:
    """Preprocessed ECGs ``float32[n, 12, T]`` (100 Hz) and their normalised reports."""

    signals: np.ndarray
    reports: list[str]

    def fingerprint(self) -> str:
        h = hashlib.sha256(f"{self.signals.shape}".encode())
        h.update(np.ascontiguousarray(self.signals, dtype=np.float32).tobytes())
        h.update("\n".join(self.reports).encode())
        return h.hexdigest()


def build_network(config: MoreConfig, n_samples: int, train_reports: list[str] | None, seed: int,
                  tokenizer_json: str | None = None) -> tuple[MoreNetwork, PreTrainedTokenizerFast, bool]:
    """(network, tokenizer, random_text) with fresh weights; the random text model's tokenizer is
    trained on ``train_reports`` or rebuilt from ``tokenizer_json``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if config.text_model_path is not None:
            base, tokenizer = load_pretrained(config.text_model_path)
            random_text = False
        else:
            tokenizer = wrap_tokenizer(tokenizer_json) if tokenizer_json else train_tokenizer(train_reports or [], config.vocab_size)
            base = random_roberta(config, len(tokenizer))
            random_text = True
        text = TextEncoder(with_lora(base, config, random_weights=random_text))
        ecg = ECGEncoder(dim=config.ecg_dim, depth=config.ecg_depth, n_heads=config.ecg_heads,
                         stem_channels=config.stem_channels, n_samples=n_samples, drop_key=config.drop_key,
                         patch_samples=config.patch_samples)
        network = MoreNetwork(ecg, text, config.proj_dim, config.temperature)
    return network, tokenizer, random_text


def tokenize(tokenizer: PreTrainedTokenizerFast, texts: list[str], max_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, mask) ``int64[n, L]``, padded to the longest of ``texts`` (at most ``max_tokens``)."""
    batch = tokenizer(list(texts), truncation=True, max_length=max_tokens, padding="longest", return_tensors="np")
    return batch["input_ids"].astype(np.int64), batch["attention_mask"].astype(np.int64)


def _trim(ids: np.ndarray, mask: np.ndarray, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch's ids and mask cut to its longest report."""
    width = max(1, int(mask.sum(axis=1).max()))
    return torch.from_numpy(ids[:, :width]).to(device), torch.from_numpy(mask[:, :width]).to(device)


def _validation_loss(network: MoreNetwork, x: np.ndarray, ids: np.ndarray, mask: np.ndarray, config: MoreConfig,
                     device: str) -> float:
    network.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(x), config.batch_size):
            rows = slice(start, start + config.batch_size)
            if len(x[rows]) < 2:
                continue
            loss = network.loss(torch.from_numpy(x[rows]).to(device), *_trim(ids[rows], mask[rows], device))
            total += float(loss) * len(x[rows])
            count += len(x[rows])
    return total / max(count, 1)


def pretrain(train: Pairs, val: Pairs, config: MoreConfig, seed: int, device: str,
             progress: Callable[[Iterable, str], Iterable] | None = None) -> Pretrained:
    """Train the network on the training pairs; keep the weights of the best validation loss."""
    started = time.perf_counter()
    network, tokenizer, random_text = build_network(config, train.signals.shape[-1], train.reports, seed)
    network.to(device)
    train_ids, train_mask = tokenize(tokenizer, train.reports, config.max_tokens)
    val_ids, val_mask = tokenize(tokenizer, val.reports, config.max_tokens)

    temperature = [network.log_temperature]
    decayed = [p for p in network.parameters() if p.requires_grad and p is not network.log_temperature]
    optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": config.weight_decay},
                                   {"params": temperature, "weight_decay": 0.0}], lr=config.learning_rate)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=config.restart_epochs,
                                                                     eta_min=config.min_learning_rate)
    rng = np.random.default_rng([seed, 1])
    n = len(train.signals)
    batch_size = min(config.batch_size, n)
    n_batches = n // batch_size
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "temperature": []}
    best, best_epoch, best_state, waited = np.inf, -1, copy.deepcopy(network.state_dict()), 0
    torch.manual_seed(seed)
    epochs: Iterable[int] = range(config.max_epochs)
    if progress is not None:
        epochs = progress(epochs, "MoRE pre-training")
    for epoch in epochs:
        network.train()
        order = rng.permutation(n)
        running = 0.0
        for b in range(n_batches):
            rows = order[b * batch_size: (b + 1) * batch_size]
            x = augment(train.signals[rows], rng, config.augmentations)
            loss = network.loss(torch.from_numpy(x).to(device), *_trim(train_ids[rows], train_mask[rows], device))
            (loss / config.grad_accum).backward()
            running += loss.item()
            if (b + 1) % config.grad_accum == 0 or b == n_batches - 1:
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        val_loss = _validation_loss(network, val.signals, val_ids, val_mask, config, device)
        history["train_loss"].append(round(running / n_batches, 6))
        history["val_loss"].append(round(val_loss, 6))
        history["temperature"].append(round(network.temperature.item(), 6))
        if val_loss < best:
            best, best_epoch, waited = val_loss, epoch, 0
            best_state = copy.deepcopy(network.state_dict())
        else:
            waited += 1
            if waited >= config.patience:
                break
    network.load_state_dict(best_state)
    network.eval()
    summary = {**history, "best_epoch": best_epoch, "epochs_run": len(history["val_loss"]),
               "seconds": round(time.perf_counter() - started, 2), "train_pairs": n, "val_pairs": len(val.reports)}
    return Pretrained(network, tokenizer, random_text, summary)


def text_model_identity(config: MoreConfig) -> str:
    """'random', or the local checkpoint's config and weight files (names and sizes)."""
    if config.text_model_path is None:
        return "random"
    path = checked_text_model_path(config.text_model_path)
    h = hashlib.sha256((path / "config.json").read_bytes())
    for weights in sorted(path.glob("*.safetensors")):
        h.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return h.hexdigest()


def pretrain_key(config: MoreConfig, train: Pairs, val: Pairs, seed: int) -> str:
    data = hashlib.sha256(f"{train.fingerprint()}|{val.fingerprint()}".encode()).hexdigest()
    return training_key(CACHE_NAME, {**config.pretrain_part(), "text_model": text_model_identity(config)}, data, seed)


def _save(folder: Path, result: Pretrained) -> None:
    """Write the folder next to its final place, then rename it (atomic; a racing writer loses)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        save_checkpoint(tmp / NETWORK_FILE, dict(result.network.state_dict()))
        if result.random_text:
            (tmp / TOKENIZER_FILE).write_text(result.tokenizer.backend_tokenizer.to_str())
        (tmp / HISTORY_FILE).write_text(json.dumps(result.history, sort_keys=True))
        os.replace(tmp, folder)
    except OSError:
        if not folder.exists():
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _load(folder: Path, config: MoreConfig, n_samples: int, seed: int) -> Pretrained:
    tokenizer_json = (folder / TOKENIZER_FILE).read_text() if (folder / TOKENIZER_FILE).exists() else None
    network, tokenizer, random_text = build_network(config, n_samples, None, seed, tokenizer_json)
    state, _ = load_checkpoint(folder / NETWORK_FILE)
    network.load_state_dict(state)
    network.eval()
    return Pretrained(network, tokenizer, random_text, json.loads((folder / HISTORY_FILE).read_text()))


def load_or_pretrain(train: Pairs, val: Pairs, config: MoreConfig, seed: int, device: str, cache_dir: Path,
                     progress: Callable[[Iterable, str], Iterable] | None = None) -> tuple[Pretrained, str, bool]:
    """(pre-trained network, cache key, whether it came from the cache)."""
    key = pretrain_key(config, train, val, seed)
    folder = Path(cache_dir) / "checkpoints" / CACHE_NAME / key
    if config.cache_pretrain and (folder / NETWORK_FILE).exists():
        result = _load(folder, config, train.signals.shape[-1], seed)
        result.network.to(device)
        return result, key, True
    result = pretrain(train, val, config, seed, device, progress)
    if config.cache_pretrain:
        result.network.to("cpu")
        _save(folder, result)
        result.network.to(device)
    return result, key, False


def pairs(signals: np.ndarray, reports: np.ndarray, lowercase: bool) -> Pairs:
    """The records with a report, their reports normalised."""
    keep = np.flatnonzero(np.array([bool(str(r).strip()) for r in reports], dtype=bool))
    return Pairs(np.ascontiguousarray(signals[keep]), [normalise(r, lowercase) for r in np.asarray(reports)[keep]])
