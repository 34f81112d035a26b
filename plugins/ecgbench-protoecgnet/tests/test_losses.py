"""Each loss term on hand-made prototypes and similarities, against its definition."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from ecgbench_protoecgnet.losses import (
    LossWeights,
    class_pos_weight,
    classification_loss,
    clustering_loss,
    contrastive_loss,
    jaccard_cooccurrence,
    orthogonality_loss,
    prototype_loss,
    separation_loss,
    wrong_class_l1,
)

# two classes, two prototypes each: p0, p1 -> class 0; p2, p3 -> class 1
IDENTITY = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
SIMS = torch.tensor([[0.9, 0.2, 0.4, 0.1], [0.3, 0.5, 0.8, 0.6]])
Y = torch.tensor([[1.0, 0.0], [1.0, 1.0]])


def test_pos_weight_is_other_positives_over_own_positives():
    y = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [0, 0, 0]])
    # counts 2, 1, 0; all positives 3 -> (3-2)/2, (3-1)/1, and 1 for the class without positives
    np.testing.assert_allclose(class_pos_weight(y), [0.5, 2.0, 1.0])


def test_pos_weight_of_the_only_class_with_positives_is_one_not_zero():
    y = np.array([[1, 0], [0, 0], [1, 0]])
    np.testing.assert_allclose(class_pos_weight(y), [1.0, 1.0])


def test_classification_loss_scales_the_positive_term_by_pos_weight():
    logits = torch.tensor([[0.3, -1.2]])
    y = torch.tensor([[1.0, 0.0]])
    pw = torch.tensor([4.0, 7.0])
    s = torch.sigmoid(logits)[0]
    hand = -(4.0 * math.log(s[0])) / 2 - math.log(1 - s[1]) / 2
    assert float(classification_loss(logits, y, pw)) == pytest.approx(hand, rel=1e-6)


def test_clustering_is_minus_the_mean_best_own_class_similarity():
    # present pairs: (0, class0) best of p0,p1 = 0.9; (1, class0) = 0.5; (1, class1) = 0.8
    assert float(clustering_loss(SIMS, Y, IDENTITY)) == pytest.approx(-(0.9 + 0.5 + 0.8) / 3)


def test_separation_is_the_mean_best_similarity_to_absent_classes():
    # absent pairs: (0, class1) best of p2,p3 = 0.4
    assert float(separation_loss(SIMS, Y, IDENTITY)) == pytest.approx(0.4)


def test_clustering_and_separation_are_zero_without_pairs():
    assert float(clustering_loss(SIMS, torch.zeros(2, 2), IDENTITY)) == 0.0
    assert float(separation_loss(SIMS, torch.ones(2, 2), IDENTITY)) == 0.0


def test_orthogonality_is_zero_for_orthogonal_prototypes_at_any_scale():
    prototypes = torch.diag(torch.tensor([3.0, 0.5, 2.0])).reshape(3, 3, 1)
    assert float(orthogonality_loss(prototypes)) == pytest.approx(0.0, abs=1e-12)


def test_orthogonality_of_two_parallel_prototypes_is_two_over_p_squared():
    # Q Q^T - I = [[0, 1], [1, 0]] -> squared Frobenius norm 2, divided by P^2 = 4
    prototypes = torch.tensor([[1.0, 0.0], [2.0, 0.0]])
    assert float(orthogonality_loss(prototypes)) == pytest.approx(0.5)


def test_jaccard_cooccurrence_is_intersection_over_union():
    y = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0]])
    j = jaccard_cooccurrence(y)
    assert j[0, 1] == pytest.approx(1 / 3)  # together once, either in 3 records
    assert j[0, 0] == 1.0 and j[2, 2] == 0.0 and j[0, 2] == 0.0


def _two_prototypes(angle: float) -> torch.Tensor:
    return torch.tensor([[1.0, 0.0], [math.cos(angle), math.sin(angle)]])


def test_contrastive_with_never_cooccurring_classes_equals_the_hand_value():
    # one prototype per class, J = I: pulled = diagonal = 1, pushed = cos(angle); loss -(1 - c)/sqrt(2)
    prototypes = _two_prototypes(math.pi / 3)
    loss = contrastive_loss(prototypes, torch.eye(2), torch.eye(2))
    assert float(loss) == pytest.approx(-(1 - 0.5) / math.sqrt(2), rel=1e-5)


def test_contrastive_pushes_apart_classes_that_never_cooccur_and_pulls_together_those_that_do():
    identity = torch.eye(2)
    apart = [
        float(contrastive_loss(_two_prototypes(a), identity, torch.eye(2))) for a in (0.3, 1.2)
    ]
    assert apart[1] < apart[0]  # a wider angle lowers the loss
    together = torch.ones(2, 2)
    close = [float(contrastive_loss(_two_prototypes(a), identity, together)) for a in (0.3, 1.2)]
    assert close[0] < close[1]  # a narrower angle lowers the loss
    # hand value with J = 1: pulled = (2 + 2c) / 4, nothing pushed
    c = math.cos(0.3)
    assert close[0] == pytest.approx(-((2 + 2 * c) / 4) / math.sqrt(2), rel=1e-5)


def test_wrong_class_l1_counts_only_connections_to_other_classes():
    weight = torch.tensor([[1.0, 2.0, -0.5, 0.25], [-3.0, 0.5, 1.0, 1.0]])  # [C, P]
    # class 0 row: other-class prototypes p2, p3 -> 0.5 + 0.25; class 1 row: p0, p1 -> 3 + 0.5
    assert float(wrong_class_l1(weight, IDENTITY)) == pytest.approx(4.25)


def test_prototype_loss_is_the_weighted_sum_of_its_terms():
    logits = torch.tensor([[0.5, -0.5], [1.0, 0.2]])
    prototypes = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    pw, cooc = torch.tensor([1.0, 2.0]), torch.tensor([[1.0, 0.5], [0.5, 1.0]])
    w = LossWeights(cluster=0.1, separation=0.2, orthogonality=3.0, contrastive=4.0)
    total, terms = prototype_loss(logits, SIMS, Y, prototypes, IDENTITY, pw, cooc, w)
    parts = {k: float(v) for k, v in terms.items()}
    expected = (
        parts["bce"] + 0.1 * parts["cluster"] + 0.2 * parts["separation"]
        + 3.0 * parts["orthogonality"] + 4.0 * parts["contrastive"]
    )  # fmt: skip
    assert float(total) == pytest.approx(expected, rel=1e-6)
    assert parts["cluster"] == pytest.approx(float(clustering_loss(SIMS, Y, IDENTITY)))
