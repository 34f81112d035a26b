"""The features baseline learns: it beats the prevalence classifier on held-out phantom records."""

import numpy as np
import pytest
from ecgbench_baselines.feature_classifier import FeatureClassifierConfig, create

from ecgbench.context import RunContext
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.metrics.classification import macro_auroc
from ecgbench.testing import ClassifyContract


class TestContract(ClassifyContract):
    model = "baseline-features"


@pytest.mark.slow
def test_the_feature_baseline_beats_prevalence_on_held_out_records():
    train, val, test = load_phantom(PhantomConfig(n_records=600, seed=11)).split()
    model = create(FeatureClassifierConfig(), RunContext(quiet=True)).fit(train, val)
    score, _ = macro_auroc(test.labels, model.predict_proba(test.signals))
    assert score > 0.85
    assert model.c in FeatureClassifierConfig().c_grid


def test_probabilities_have_the_contract_shape():
    train, val, test = load_phantom(PhantomConfig(n_records=120, seed=12)).split()
    p = create(FeatureClassifierConfig(c_grid=(0.5,)), RunContext(quiet=True)).fit(train, val).predict_proba(test.signals)
    assert p.shape == (len(test), 71) and p.dtype == np.float32 and (p >= 0).all() and (p <= 1).all()
