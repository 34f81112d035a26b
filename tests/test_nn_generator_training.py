"""Shared generator plumbing: lead mapping, scaling, conditions, checkpointed training and resume."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from generator_fixtures import Denoiser, synthetic_dataset  # noqa: E402

from ecgbench.context import RunContext  # noqa: E402
from ecgbench.data.leads import LEAD_INDEX  # noqa: E402
from ecgbench.errors import DataError  # noqa: E402
from ecgbench.nn.generator_config import BackboneGeneratorConfig  # noqa: E402
from ecgbench.nn.generator_training import (  # noqa: E402
    WeightAverage,
    condition_labels,
    prepare_training_data,
    stream_seed,
    twelve_lead_mv,
)

TINY = dict(n_blocks=1, channels=4, s4_state=8, step_embed_dim=8, step_hidden_dim=8, label_embed_dim=4,
            n_iters=6, batch_size=4, lr=1e-2, checkpoint_every=2, sample_batch_size=3, normalise="global_std")


def _model(tmp_path, quiet: bool = True, **overrides) -> Denoiser:
    ctx = RunContext(seed=3, cache_dir=tmp_path / "cache", artifacts_dir=tmp_path, quiet=quiet)
    return Denoiser(BackboneGeneratorConfig(**{**TINY, **overrides}), ctx)


def test_training_signals_are_the_independent_leads_in_order():
    data = synthetic_dataset()
    prepared = prepare_training_data(data, "none")
    order = [LEAD_INDEX[name] for name in ("I", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")]
    np.testing.assert_array_equal(prepared.batch(np.arange(len(data))).numpy(), data.signals[:, order])


@pytest.mark.parametrize("normalise", ["none", "global_std"])
def test_outputs_reproduce_records_that_obey_the_limb_identities(normalise):
    data = synthetic_dataset()
    prepared = prepare_training_data(data, normalise)
    np.testing.assert_allclose(twelve_lead_mv(prepared.batch(np.arange(len(data))), prepared.scale), data.signals, atol=1e-6)


def test_global_std_scale_is_the_standard_deviation_of_the_modelled_leads():
    data = synthetic_dataset()
    prepared = prepare_training_data(data, "global_std")
    assert prepared.scale == pytest.approx(float(np.std(data.signals[:, [0, 5, 6, 7, 8, 9, 10, 11]])), rel=1e-5)
    assert float(prepared.batch(np.arange(len(data))).std(correction=0)) == pytest.approx(1.0, rel=1e-5)


def test_a_missing_lead_is_an_error_naming_the_record():
    data = synthetic_dataset()
    data.signals[3, LEAD_INDEX["V2"], :] = np.nan
    with pytest.raises(DataError, match="rec3"):
        prepare_training_data(data, "none")


def test_conditions_default_to_training_label_vectors():
    train = synthetic_dataset().labels
    drawn = condition_labels(20, None, train, seed=0)
    assert drawn.shape == (20, 71)
    assert all((row == train).all(axis=1).any() for row in drawn)


@pytest.mark.parametrize("bad", [np.zeros((3, 70), np.uint8), np.full((4, 71), 2, np.uint8)])
def test_malformed_conditions_are_rejected(bad):
    with pytest.raises(DataError, match="labels"):
        condition_labels(4, bad, synthetic_dataset().labels, seed=0)


def test_stream_seeds_differ_between_items_and_seeds():
    seeds = {stream_seed(s, i) for s in range(3) for i in range(50)}
    assert len(seeds) == 150


def test_sampling_before_fit_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="fit"):
        _model(tmp_path).sample(2)


def test_output_is_twelve_leads_in_mv_at_training_length(tmp_path):
    model = _model(tmp_path).fit(synthetic_dataset())
    x = model.sample(5, seed=1)
    assert x.shape == (5, 12, 32) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, LEAD_INDEX["III"]], x[:, LEAD_INDEX["II"]] - x[:, LEAD_INDEX["I"]], atol=1e-5)
    assert model.nfe == 2


def test_run_notes_describe_the_training(tmp_path):
    model = _model(tmp_path).fit(synthetic_dataset())
    notes = model.ctx.notes
    assert notes["n_parameters"] > 0 and notes["train_iterations"] == 6
    assert notes["trained_in_this_run"] is True
    assert 1 <= len(notes["loss_curve"]) <= 20 and notes["final_loss"] == notes["loss_curve"][-1]


def test_a_second_fit_loads_the_cached_weights_and_samples_identically(tmp_path):
    data = synthetic_dataset()
    first = _model(tmp_path).fit(data)
    second = _model(tmp_path, checkpoint_every=5).fit(data)  # not a training setting: same key
    assert second.ctx.notes["trained_in_this_run"] is False
    assert second.ctx.notes["checkpoint"] == first.ctx.notes["checkpoint"]
    np.testing.assert_array_equal(first.sample(4, seed=2), second.sample(4, seed=2))


def test_training_settings_change_the_checkpoint_key(tmp_path):
    data = synthetic_dataset()
    first = _model(tmp_path).fit(data)
    other = _model(tmp_path, n_iters=4).fit(data)
    assert other.ctx.notes["checkpoint"] != first.ctx.notes["checkpoint"]
    assert other.ctx.notes["trained_in_this_run"] is True


@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_interrupted_training_resumes_from_the_last_checkpoint_with_identical_result(tmp_path, ema_decay):
    data = synthetic_dataset()
    uninterrupted = _model(tmp_path / "a", ema_decay=ema_decay).fit(data)
    interrupted = _model(tmp_path / "b", ema_decay=ema_decay)
    interrupted.fail_at_call = 6  # dies in iteration 5, after the checkpoint at iteration 4
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(data)
    resumed = _model(tmp_path / "b", ema_decay=ema_decay).fit(data)
    assert resumed.ctx.notes["resumed_from_iteration"] == 4
    assert resumed.ctx.notes["train_iterations"] == 6
    for name, value in uninterrupted.net.state_dict().items():
        torch.testing.assert_close(resumed.net.state_dict()[name], value, rtol=0, atol=0)
    assert resumed.ctx.notes["loss_curve"] == uninterrupted.ctx.notes["loss_curve"]
    assert not list((tmp_path / "b" / "cache").rglob("*-resume.safetensors"))


def test_weight_average_moves_towards_the_weights_by_one_minus_decay():
    net = torch.nn.Linear(2, 1)
    average = WeightAverage(net, 0.9)
    before = average.average["weight"].clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    average.update(iteration=1000)  # past the warm-up: decay min(0.9, 1001/1010) = 0.9
    torch.testing.assert_close(average.average["weight"], before + 0.1)


def test_averaged_weights_are_the_ones_sampled_with(tmp_path):
    data = synthetic_dataset()
    raw = _model(tmp_path / "raw").fit(data)
    averaged = _model(tmp_path / "ema", ema_decay=0.9).fit(data)
    assert averaged.ctx.notes["checkpoint"] != raw.ctx.notes["checkpoint"]
    assert not np.allclose(raw.sample(2, seed=0), averaged.sample(2, seed=0))


def _imported(tmp_path, trained: Denoiser, **overrides) -> Denoiser:
    from ecgbench.weights import WeightsMetadata

    weights = trained.export_weights()
    metadata = WeightsMetadata(architecture="denoiser", contents="model", model="denoiser", plugin="t",
                               plugin_version="0", config={})
    fresh = _model(tmp_path / "fresh", **overrides)
    fresh.import_weights(weights, metadata)
    return fresh


def test_exported_weights_sample_like_the_trained_model_without_training(tmp_path):
    data = synthetic_dataset()
    trained = _model(tmp_path / "a").fit(data)
    weights = trained.export_weights()
    assert weights.architecture == "denoiser" and weights.contents == "model"
    assert weights.extra["n_samples"] == data.n_samples and weights.extra["fs"] == 100.0
    fresh = _imported(tmp_path, trained).fit(data)
    np.testing.assert_array_equal(fresh.sample(4, seed=1), trained.sample(4, seed=1))
    assert fresh.ctx.notes["trained_in_this_run"] is False
    assert not (tmp_path / "fresh" / "cache").exists()  # nothing trained, nothing cached


def test_imported_weights_refuse_data_of_another_length(tmp_path):
    trained = _model(tmp_path / "a").fit(synthetic_dataset(length=32))
    with pytest.raises(DataError, match="32 samples at 100 Hz.*48 samples"):
        _imported(tmp_path, trained).fit(synthetic_dataset(length=48))


def test_nothing_is_exported_before_fit(tmp_path):
    assert _model(tmp_path).export_weights() is None


def _progress_lines(text: str, desc: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(desc + ":")]


def test_training_shows_one_progress_bar_over_all_iterations_with_the_loss(tmp_path, capsys):
    _model(tmp_path, quiet=False, n_iters=20).fit(synthetic_dataset())
    lines = _progress_lines(capsys.readouterr().err, "denoiser train")
    assert lines and all("/20 " in line for line in lines)  # never a bar that restarts per segment
    counts = [int(line.split(": ")[1].split("/")[0]) for line in lines]
    assert counts == sorted(counts) and counts[-1] == 20
    assert "loss=" in lines[-1]


def test_sampling_shows_one_progress_bar_over_every_batch_and_step(tmp_path, capsys):
    model = _model(tmp_path).fit(synthetic_dataset())
    model.ctx.quiet = False
    model.sample(5, steps=3, seed=0)  # two batches of at most 3 records, 3 steps each
    lines = _progress_lines(capsys.readouterr().err, "denoiser sample (5 records, NFE 3)")
    assert lines and all("/6 " in line for line in lines)
    assert lines[-1].startswith("denoiser sample (5 records, NFE 3): 6/6 (100%)")
