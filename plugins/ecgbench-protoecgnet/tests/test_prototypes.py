"""The prototype layer: cosine / log similarity over latent windows, best window, class layout."""

from __future__ import annotations

import math

import pytest
import torch
from ecgbench_protoecgnet.prototypes import PrototypeLayer, class_identity, similarity_from_cosine


def test_class_identity_assigns_consecutive_prototypes_to_each_class():
    ident = class_identity(3, 2)
    assert ident.tolist() == [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]


def test_log_similarity_is_the_log_activation_of_the_cosine_distance():
    cos = torch.tensor([1.0, 0.5, -1.0])
    d = 1 - cos
    expected = torch.log((d + 1) / (d + 1e-4))
    torch.testing.assert_close(similarity_from_cosine(cos, "log"), expected)
    assert float(similarity_from_cosine(torch.tensor(1.0), "log")) == pytest.approx(math.log(1e4))


def _layer_with_prototype_from_window(similarity: str) -> tuple[PrototypeLayer, torch.Tensor]:
    torch.manual_seed(0)
    layer = PrototypeLayer(n_classes=2, per_class=1, dim=4, length=3, similarity=similarity)
    z = torch.rand(1, 4, 10)
    with torch.no_grad():
        layer.prototypes[0] = 2.5 * z[0, :, 5:8]  # window 5, scaled: cosine ignores scale
    return layer, z


def test_a_prototype_equal_to_a_window_has_maximal_similarity_there():
    layer, z = _layer_with_prototype_from_window("cosine")
    with torch.no_grad():
        sims, best = layer(z)
    assert float(sims[0, 0]) == pytest.approx(1.0, abs=1e-6)
    assert int(best[0, 0]) == 5


def test_window_similarities_cover_every_window_of_the_prototype_length():
    layer, z = _layer_with_prototype_from_window("cosine")
    assert layer.window_similarities(z).shape == (1, 2, 10 - 3 + 1)


def test_log_similarity_peaks_at_the_matching_window():
    layer, z = _layer_with_prototype_from_window("log")
    with torch.no_grad():
        sims, best = layer(z)
    assert int(best[0, 0]) == 5
    assert float(sims[0, 0]) == pytest.approx(layer.max_similarity, rel=1e-3)


def test_a_latent_map_shorter_than_the_prototype_is_an_error():
    layer = PrototypeLayer(n_classes=1, per_class=1, dim=2, length=4)
    with pytest.raises(ValueError, match="fewer than the prototype length"):
        layer(torch.rand(1, 2, 3))
