"""JEPA pre-training: EMA, the loss, and that labels never reach it."""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest
import torch
from ecgbench_jepa import encoder_cache, model
from ecgbench_jepa.config import FinetuneConfig, LinearProbeConfig
from ecgbench_jepa.pretrain import ema_update_, pretrain_encoder
from torch import nn

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset
from ecgbench.errors import DataError

TINY = dict(dim=32, depth=1, n_heads=2, pretrain_crop_s=2.5, pretrain_batch_size=8, steps=2, batch_size=8, eval_every=1)


def test_ema_update_follows_the_formula() -> None:
    torch.manual_seed(0)
    online, target = nn.Linear(3, 2), nn.Linear(3, 2)
    before = copy.deepcopy(target)
    ema_update_(target, online, momentum=0.9)
    for t, b, o in zip(target.parameters(), before.parameters(), online.parameters(), strict=True):
        torch.testing.assert_close(t, 0.9 * b + 0.1 * o)


def test_ema_update_leaves_the_online_module_alone() -> None:
    online, target = nn.Linear(3, 2), nn.Linear(3, 2)
    kept = copy.deepcopy(online)
    ema_update_(target, online, momentum=0.5)
    for o, k in zip(online.parameters(), kept.parameters(), strict=True):
        assert torch.equal(o, k)


def test_pretraining_loss_falls(phantom: ECGDataset) -> None:
    config = LinearProbeConfig(**TINY, pretrain_steps=40, pretrain_warmup_steps=4, pretrain_lr=2e-3)
    result = pretrain_encoder(phantom.signals, phantom.fs, config, seed=0)
    summary = result.summary(fraction=0.1)
    assert summary["final_loss"] < 0.8 * summary["first_loss"]
    assert np.all(np.isfinite(result.losses))


def test_pretraining_returns_the_target_encoder_weights(phantom: ECGDataset) -> None:
    config = LinearProbeConfig(**TINY, pretrain_steps=2, pretrain_warmup_steps=1)
    state = pretrain_encoder(phantom.signals, phantom.fs, config, seed=0).encoder_state
    assert "patch_embed.proj.weight" in state and "registers" in state
    assert not any(k.startswith(("predictor", "target_encoder")) for k in state)


def test_pretraining_takes_a_signal_array_and_nothing_labelled() -> None:
    params = inspect.signature(pretrain_encoder).parameters
    assert list(params) == ["signals", "fs", "config", "seed", "device", "progress"]


def test_pretraining_refuses_a_dataset(phantom: ECGDataset) -> None:
    with pytest.raises(DataError, match="signal array"):
        pretrain_encoder(phantom, phantom.fs, LinearProbeConfig(**TINY, pretrain_steps=1), seed=0)


def test_fit_pretrains_on_the_training_signals_only(phantom: ECGDataset, tmp_path, monkeypatch) -> None:
    seen = []
    real = encoder_cache.pretrain_encoder

    def spy(*args, **kwargs):
        seen.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(encoder_cache, "pretrain_encoder", spy)
    train, val, _ = phantom.split()
    ctx = RunContext(seed=0, cache_dir=tmp_path, quiet=True)
    model.create_linear(LinearProbeConfig(**TINY, pretrain_steps=1), ctx).fit(train, val)
    (args, kwargs), = seen
    passed = [*args, *kwargs.values()]
    assert not any(isinstance(a, ECGDataset) for a in passed)
    arrays = [a for a in passed if isinstance(a, np.ndarray)]
    assert len(arrays) == 1 and np.array_equal(arrays[0], train.signals)
    assert not any(np.array_equal(a, phantom.labels) or a.dtype == np.uint8 for a in arrays)


def test_linear_probe_and_finetune_share_one_cached_pretraining(phantom: ECGDataset, tmp_path) -> None:
    train, val, _ = phantom.split()
    notes = []
    for create, config in ((model.create_linear, LinearProbeConfig), (model.create_finetune, FinetuneConfig)):
        ctx = RunContext(seed=0, cache_dir=tmp_path, quiet=True)
        create(config(**TINY, pretrain_steps=3, pretrain_warmup_steps=1), ctx).fit(train, val)
        notes.append(ctx.notes)
    assert notes[0]["pretrain_cache"] == "miss" and notes[1]["pretrain_cache"] == "hit"
    assert notes[0]["pretrain_key"] == notes[1]["pretrain_key"]
    assert notes[1]["pretrain_final_loss"] == notes[0]["pretrain_final_loss"]  # facts of the cached run
    assert len(list((tmp_path / "checkpoints" / "jepa-pretrain").glob("*.safetensors"))) == 1


def test_pretraining_key_depends_on_data_seed_and_pretraining_settings_only() -> None:
    base = LinearProbeConfig()
    key = encoder_cache.pretrain_key(base, 100, "abc", 0)
    assert encoder_cache.pretrain_key(FinetuneConfig(), 100, "abc", 0) == key  # head settings differ
    assert encoder_cache.pretrain_key(base, 100, "abd", 0) != key
    assert encoder_cache.pretrain_key(base, 100, "abc", 1) != key
    assert encoder_cache.pretrain_key(base, 500, "abc", 0) != key
    assert encoder_cache.pretrain_key(LinearProbeConfig(pretrain_steps=7), 100, "abc", 0) != key
