"""The generate task's evaluation: one metric space fixed from real training records, conditions
drawn from the training split, TSTR beside TRTR, and condition_auroc."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecgbench.cli import main
from ecgbench.context import RunContext
from ecgbench.data.dataset import FoldSplit
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.features import FeatureClassifier
from ecgbench.metrics.classification import macro_auroc
from ecgbench.metrics.generation import reference_space
from ecgbench.tasks import generate as task
from ecgbench.testing.dummies import DummyGenerator

AMPLITUDE_METRICS = ("dtw", "wasserstein", "wasserstein_waveform", "mmd")


@pytest.fixture(scope="module")
def cohort():
    return load_phantom(PhantomConfig(n_records=600, cache=False))


@pytest.fixture(scope="module")
def splits(cohort):
    return cohort.split(FoldSplit())


class LabelRespectingGenerator:
    """For each requested label vector, a training record with the nearest label vector."""

    nfe = 0

    def fit(self, train):
        self.signals, self.labels = np.nan_to_num(train.signals), train.labels.astype(np.int16)
        return self

    def sample(self, n, labels=None, steps=None, seed=0):
        self.requested = labels.copy()
        rng = np.random.default_rng(seed)
        out = []
        for row in labels.astype(np.int16):
            distance = np.abs(self.labels - row).sum(axis=1)
            out.append(self.signals[rng.choice(np.flatnonzero(distance == distance.min()))])
        return np.stack(out).astype(np.float32)


class ScaledCopyGenerator(DummyGenerator):
    """Training records resampled and scaled: ignores its condition, wrong amplitude."""

    def sample(self, n, labels=None, steps=None, seed=0):
        return super().sample(n, labels, steps, seed) * np.float32(1.5)


def run_task(model, cohort, tmp_path, **settings):
    config = task.GenerateTaskConfig(n_boot=30, plot_records=0, **settings)
    ctx = RunContext(seed=0, artifacts_dir=tmp_path / "artifacts", cache_dir=tmp_path / "cache", quiet=True)
    result = task.run(model, "test-model", cohort, FoldSplit(), config, ctx)
    return {m.name: m for m in result.metrics}, result


# ------------------------------------------------------------------------ scale sweep


def scored(tmp_path, capsys, name, generated, real, reference, fs):
    path = tmp_path / f"{name}.npz"
    np.savez(path, generated=generated, real=real, reference=reference, fs=fs)
    assert main(["score", "--task", "generate", "--samples", str(path), "--json"]) == 0
    return {m["name"]: m for m in json.loads(capsys.readouterr().out)}


def test_amplitude_errors_grow_every_amplitude_metric_and_never_saturate(tmp_path, capsys, splits):
    train, _, test = splits
    scales = (1, 2, 10, 100)
    runs = [scored(tmp_path, capsys, f"x{k}", test.signals * np.float32(k), test.signals, train.signals, test.fs)
            for k in scales]
    for name in AMPLITUDE_METRICS:
        values = [r[name]["value"] for r in runs]
        assert all(a < b for a, b in zip(values, values[1:], strict=False)), (name, values)
    # the identity coupling costs (k - 1) x the records' norm: the EMD grows in proportion
    emd = np.array([r["wasserstein_waveform"]["value"] for r in runs[1:]])
    np.testing.assert_allclose(emd / emd[0], [1, 9, 99], rtol=0.05)
    # spectral similarity compares normalised spectra: scale-free by design
    assert all(r["spectral_similarity"]["value"] == pytest.approx(1.0) for r in runs)
    # one space for every scored set: the reference's
    space = reference_space(train.signals, source="the file's reference records").to_params()
    for r in runs:
        assert r["mmd"]["params"]["bandwidth"] == pytest.approx(space["bandwidth"], rel=1e-12)
        assert r["wasserstein_waveform"]["params"]["normalisation"]["lead_sd_mv"] == pytest.approx(space["lead_sd_mv"])


# ------------------------------------------------------------- one space for every model


def test_every_model_and_the_floor_are_measured_in_the_training_split_space(tmp_path, cohort, splits):
    train = splits[0]
    expected = reference_space(train.signals, source=f"training split ({len(train)} real records)")
    first, _ = run_task(LabelRespectingGenerator(), cohort, tmp_path, tstr=False, condition=False)
    second, _ = run_task(ScaledCopyGenerator(), cohort, tmp_path, tstr=False, condition=False)
    for metrics in (first, second):
        assert metrics["mmd"].params["bandwidth"] == pytest.approx(expected.bandwidth, rel=1e-12)
        for name in ("mmd", "wasserstein_waveform"):
            normalisation = metrics[name].params["normalisation"]
            assert normalisation["lead_mean_mv"] == pytest.approx(list(expected.lead_mean), rel=1e-12)
            assert normalisation["lead_sd_mv"] == pytest.approx(list(expected.lead_sd), rel=1e-12)
            assert normalisation["reference"].startswith("training split")
    for name in ("mmd", "wasserstein_waveform", "dtw"):
        assert first[name].params["floor"] == second[name].params["floor"]
        assert first[name].params["floor"]["what"].startswith("validation fold vs test fold")


# ------------------------------------------------------------------- conditions, TSTR


def test_the_generator_is_conditioned_on_training_label_vectors_and_tstr_has_trtr_beside_it(tmp_path, cohort, splits):
    train, _, test = splits
    model = LabelRespectingGenerator()
    metrics, result = run_task(model, cohort, tmp_path, floor=False, condition=False)
    drawn = task.draw_conditions(train, len(test), seed=0)
    np.testing.assert_array_equal(model.requested, train.labels[drawn])
    assert set(result.samples["condition_record_id"]) <= set(train.record_ids.astype(str))
    for name in ("tstr_macro_auroc", "trtr_macro_auroc"):
        assert metrics[name].ci_low <= metrics[name].value <= metrics[name].ci_high
    # TRTR: the same classifier trained on the real training records behind the conditions
    real = FeatureClassifier(seed=0).fit(train.signals[drawn], train.labels[drawn], train.fs)
    assert metrics["trtr_macro_auroc"].value == pytest.approx(
        macro_auroc(test.labels, real.predict_proba(test.signals))[0], abs=1e-6)


# ------------------------------------------------------------------------ condition_auroc


def test_condition_auroc_catches_a_generator_that_ignores_its_condition(tmp_path, cohort):
    respecting, result = run_task(LabelRespectingGenerator(), cohort, tmp_path, floor=False, tstr=False)
    ignoring, _ = run_task(DummyGenerator(), cohort, tmp_path, floor=False, tstr=False)
    good, bad = respecting["condition_auroc"], ignoring["condition_auroc"]
    assert good.value > 0.9 and good.ci_low > bad.ci_high
    assert abs(bad.value - 0.5) < 0.1
    ceiling = good.params["ceiling"]
    assert ceiling == bad.params["ceiling"] and 0.5 < ceiling["value"] <= 1.0
    assert ceiling["what"].startswith("the same classifier on the real test records")
    per_label = result.samples["condition_auroc_per_label"]
    assert per_label.shape == (71,) and result.samples["condition_score"].shape == (len(result.samples["record_id"]), 71)
    assert np.nanmean(per_label) == pytest.approx(good.value)
