"""The classify-71-labels models end to end on phantom records."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from ecgbench_jepa.config import FinetuneConfig, LinearProbeConfig, RandomInitProbeConfig
from ecgbench_jepa.model import create_finetune, create_linear

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import N_LABELS
from ecgbench.errors import ConfigError, DataError

TINY = dict(dim=32, depth=1, n_heads=2, pretrain_crop_s=2.5, pretrain_batch_size=8, pretrain_steps=2,
            pretrain_warmup_steps=1, steps=4, batch_size=8, eval_every=2)


@pytest.fixture(scope="module")
def fitted(phantom: ECGDataset, tmp_path_factory):
    train, val, test = phantom.split()
    ctx = RunContext(seed=0, cache_dir=tmp_path_factory.mktemp("cache"), quiet=True)
    return create_linear(LinearProbeConfig(**TINY), ctx).fit(train, val), test, ctx


def test_probabilities_have_the_contract_shape_dtype_and_range(fitted) -> None:
    model, test, _ = fitted
    p = model.predict_proba(test.signals)
    assert p.shape == (len(test), N_LABELS) and p.dtype == np.float32
    assert np.all((p >= 0) & (p <= 1)) and np.all(np.isfinite(p))


def test_predictions_repeat(fitted) -> None:
    model, test, _ = fitted
    assert np.array_equal(model.predict_proba(test.signals), model.predict_proba(test.signals))


def test_a_record_predicts_the_same_alone_and_in_a_batch(fitted) -> None:
    model, test, _ = fitted
    np.testing.assert_allclose(model.predict_proba(test.signals[:1]), model.predict_proba(test.signals)[:1], atol=1e-6)


def test_run_notes_name_the_size_and_the_pretraining(fitted) -> None:
    _, _, ctx = fitted
    for key in ("n_parameters", "n_parameters_encoder", "pretrain_cache", "pretrain_seconds", "pretrain_final_loss"):
        assert key in ctx.notes, key
    assert ctx.notes["n_parameters_trained"] < ctx.notes["n_parameters"]


def test_same_seed_gives_the_same_model(phantom: ECGDataset, tmp_path) -> None:
    train, val, test = phantom.split()
    outputs = []
    for run in range(2):
        ctx = RunContext(seed=3, cache_dir=tmp_path / str(run), quiet=True)
        outputs.append(create_finetune(FinetuneConfig(**TINY), ctx).fit(train, val).predict_proba(test.signals))
    assert np.array_equal(outputs[0], outputs[1])


def test_random_baseline_never_pretrains(phantom: ECGDataset, tmp_path) -> None:
    train, val, _ = phantom.split()
    ctx = RunContext(seed=0, cache_dir=tmp_path, quiet=True)
    create_linear(RandomInitProbeConfig(**TINY), ctx).fit(train, val)
    assert ctx.notes["pretrain_cache"].startswith("none")
    assert not (tmp_path / "checkpoints").exists()


def test_predict_before_fit_is_an_error() -> None:
    model = create_linear(LinearProbeConfig(**TINY), RunContext(quiet=True))
    with pytest.raises(RuntimeError, match="before fit"):
        model.predict_proba(np.zeros((1, 12, 1000), dtype=np.float32))


def test_records_shorter_than_a_window_are_rejected(fitted) -> None:
    model, _, _ = fitted
    with pytest.raises(DataError, match="longer than the records"):
        model.predict_proba(np.zeros((1, 12, 100), dtype=np.float32))


def test_a_rate_that_splits_a_patch_is_a_config_error(phantom: ECGDataset) -> None:
    train, val, _ = phantom.split()
    at_250 = [replace(part, fs=250.0) for part in (train, val)]  # 50 ms = 12.5 samples
    with pytest.raises(ConfigError, match="whole number of samples"):
        create_linear(LinearProbeConfig(**TINY), RunContext(quiet=True)).fit(*at_250)


def _metadata(model: str, architecture: str, contents: str = "model"):
    from ecgbench.weights import WeightsMetadata

    return WeightsMetadata(architecture=architecture, contents=contents, model=model, plugin="ecgbench-jepa",
                           plugin_version="0", config={})


def test_a_data_rate_other_than_the_encoders_is_named(phantom: ECGDataset) -> None:
    train, val, _ = phantom.split()
    model = create_linear(LinearProbeConfig(**TINY, sample_rate_hz=500.0), RunContext(quiet=True))
    with pytest.raises(DataError, match="100 Hz, but this encoder is built for 500 Hz.*--fs 500"):
        model.fit(train, val)


def test_exported_weights_predict_identically_without_any_training(fitted, phantom: ECGDataset, tmp_path) -> None:
    model, test, _ = fitted
    weights = model.export_weights()
    assert weights.architecture == "ecg-jepa-probe" and "normalizer.mean" in weights.tensors
    ctx = RunContext(seed=5, cache_dir=tmp_path, quiet=True)
    fresh = create_linear(LinearProbeConfig(**TINY), ctx)
    fresh.import_weights(weights, _metadata("jepa-linear", "ecg-jepa-probe"))
    train, val, _ = phantom.split()
    fresh.fit(train, val)
    np.testing.assert_array_equal(fresh.predict_proba(test.signals), model.predict_proba(test.signals))
    assert "downstream_steps" not in ctx.notes and not (tmp_path / "checkpoints").exists()


def test_an_imported_encoder_replaces_pretraining_and_the_head_is_trained(fitted, phantom, tmp_path) -> None:
    from ecgbench.weights import ModelWeights

    model, _, _ = fitted
    encoder = {f"encoder.{k}": v for k, v in model.model.encoder.state_dict().items()}
    ctx = RunContext(seed=0, cache_dir=tmp_path, quiet=True)
    fresh = create_finetune(FinetuneConfig(**TINY), ctx)
    fresh.import_weights(ModelWeights("ecg-jepa-encoder", "encoder", encoder), _metadata("jepa-linear", "ecg-jepa-encoder", "encoder"))
    train, val, _ = phantom.split()
    fresh.fit(train, val)
    assert ctx.notes["pretrain_cache"] == "imported encoder weights" and ctx.notes["downstream_steps"] > 0
    assert not (tmp_path / "checkpoints").exists()


def test_fine_tune_after_linear_from_a_linear_export_repeats_the_whole_protocol(phantom, tmp_path) -> None:
    from ecgbench_jepa.config import FinetuneAfterLinearConfig
    from ecgbench_jepa.model import create_finetune_after_linear

    train, val, test = phantom.split()
    after = dict(TINY, after_steps=4, after_batch_size=8, after_eval_every=2, after_warmup_steps=1)
    whole_ctx = RunContext(seed=0, cache_dir=tmp_path / "a", quiet=True)
    whole = create_finetune_after_linear(FinetuneAfterLinearConfig(**after), whole_ctx).fit(train, val)
    assert whole_ctx.notes["downstream_steps_probe"] > 0 and whole_ctx.notes["downstream_steps_finetune"] > 0
    linear = create_linear(LinearProbeConfig(**TINY), RunContext(seed=0, cache_dir=tmp_path / "b", quiet=True))
    linear.fit(train, val)
    ctx = RunContext(seed=0, cache_dir=tmp_path / "c", quiet=True)
    second = create_finetune_after_linear(FinetuneAfterLinearConfig(**after), ctx)
    second.import_weights(linear.export_weights(), _metadata("jepa-linear", "ecg-jepa-probe"))
    second.fit(train, val)
    assert "downstream_steps_probe" not in ctx.notes and ctx.notes["downstream_steps_finetune"] > 0
    np.testing.assert_allclose(second.predict_proba(test.signals), whole.predict_proba(test.signals), atol=1e-5)
