"""The template generator fits per-label templates and follows the requested labels."""

import numpy as np
import pytest
from ecgbench_baselines.template_generator import TemplateGeneratorConfig, create

from ecgbench.context import RunContext
from ecgbench.data.labels import SCP_INDEX
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.features import r_peaks
from ecgbench.testing import GenerateContract


class TestContract(GenerateContract):
    model = "baseline-template"


@pytest.fixture(scope="module")
def fitted():
    data = load_phantom(PhantomConfig(n_records=400, seed=5))
    train, _, test = data.split()
    return create(TemplateGeneratorConfig(), RunContext(quiet=True)).fit(train), test


def _rr_irregularity(x: np.ndarray, fs: float) -> float:
    rr = np.diff(r_peaks(x, fs)) / fs
    return float(np.std(rr) / np.mean(rr))


def test_afib_conditions_give_irregular_rhythms_and_sinus_conditions_regular_ones(fitted):
    model, test = fitted
    afib = test.labels[test.labels[:, SCP_INDEX["AFIB"]] == 1][:1]
    sinus = test.labels[(test.labels[:, SCP_INDEX["SR"]] == 1) & (test.labels.sum(axis=1) <= 2)][:1]
    x_afib = model.sample(20, labels=np.repeat(afib, 20, axis=0), seed=0)
    x_sinus = model.sample(20, labels=np.repeat(sinus, 20, axis=0), seed=0)
    irregular = np.median([_rr_irregularity(x, model.fs) for x in x_afib])
    regular = np.median([_rr_irregularity(x, model.fs) for x in x_sinus])
    assert irregular > 2 * regular


def test_samples_are_reproducible_for_a_seed_and_differ_across_seeds(fitted):
    model, test = fitted
    labels = test.labels[:3]
    assert np.array_equal(model.sample(3, labels=labels, seed=1), model.sample(3, labels=labels, seed=1))
    assert not np.array_equal(model.sample(3, labels=labels, seed=1), model.sample(3, labels=labels, seed=2))


def test_an_unseen_label_vector_falls_back_to_the_nearest_template(fitted):
    model, _ = fitted
    unseen = np.zeros((1, 71), dtype=np.uint8)
    unseen[0, [SCP_INDEX["AFIB"], SCP_INDEX["CLBBB"], SCP_INDEX["LNGQT"], SCP_INDEX["STE_"]]] = 1
    x = model.sample(1, labels=unseen, seed=0)
    assert x.shape == (1, 12, model.n_samples) and np.isfinite(x).all()
