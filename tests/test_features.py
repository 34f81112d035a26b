"""Hand-made features and the feature classifier (the classify floor and the TSTR judge)."""

import numpy as np
import pytest

from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.features import FeatureClassifier, extract_features, r_peaks
from ecgbench.metrics.classification import macro_auroc


@pytest.fixture(scope="module")
def cohort():
    return load_phantom(PhantomConfig(n_records=600, seed=3))


def test_r_peaks_land_on_the_ground_truth_beats(cohort):
    hits, total = 0, 0
    for i in range(40):
        truth = cohort.beats[cohort.beats["record"] == i]["r_peak"].to_numpy()
        found = r_peaks(cohort.signals[i], cohort.fs)
        total += len(truth)
        hits += sum(np.min(np.abs(found - t)) <= 0.05 * cohort.fs for t in truth if len(found))
    assert hits / total > 0.95


def test_features_have_one_row_per_record_and_no_nan(cohort):
    f = extract_features(cohort.signals[:10], cohort.fs)
    assert f.shape[0] == 10 and np.isfinite(f).all()


def test_the_classifier_beats_prevalence_on_held_out_records(cohort):
    train, _, test = cohort.split()
    clf = FeatureClassifier(seed=0).fit(train.signals, train.labels, train.fs)
    score, _ = macro_auroc(test.labels, clf.predict_proba(test.signals))
    prevalence = np.tile(train.labels.mean(axis=0), (len(test), 1))
    chance, _ = macro_auroc(test.labels, prevalence)
    assert chance == pytest.approx(0.5) and score > 0.85


def test_a_label_with_one_class_in_training_gets_its_constant_probability(cohort):
    train = cohort.subset(np.arange(100))
    y = train.labels.copy()
    y[:, 0] = 1
    clf = FeatureClassifier(seed=0).fit(train.signals, y, train.fs)
    assert np.all(clf.predict_proba(train.signals[:5])[:, 0] == 1.0)
