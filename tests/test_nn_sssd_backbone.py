"""The SSSD-ECG network: published size, shapes, conditioning inputs."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from ecgbench.nn.sssd_backbone import SSSDBackbone, count_parameters, step_embedding  # noqa: E402


def _tiny(**kwargs) -> SSSDBackbone:
    settings = dict(leads=8, length=32, n_blocks=2, channels=4, s4_state=8, step_embed_dim=8,
                    step_hidden_dim=8, n_labels=71, label_embed_dim=4)
    return SSSDBackbone(**{**settings, **kwargs})


def test_paper_configuration_has_the_published_50_2_million_parameters():
    with torch.device("meta"):
        net = SSSDBackbone()  # 36 blocks, 256 channels, S4 state 64, length 1000
    # Hand count from the published layer shapes: 36 × 1,383,168 per block + 408,456 outside.
    assert count_parameters(net) == 50_202_504


def test_output_has_the_input_shape_and_starts_at_zero():
    net = _tiny()
    x = torch.randn(3, 8, 32)
    y = net(x, torch.tensor([0.0, 10.0, 199.0]), torch.zeros(3, 71))
    assert y.shape == x.shape
    assert torch.count_nonzero(y) == 0  # zero-initialised output convolution, as in DiffWave


def _with_live_head(net: SSSDBackbone) -> SSSDBackbone:
    torch.nn.init.normal_(net.output_zero.weight)
    return net


def test_labels_change_the_output():
    torch.manual_seed(0)
    net = _with_live_head(_tiny())
    x, t = torch.randn(2, 8, 32), torch.full((2,), 5.0)
    none, afib = torch.zeros(2, 71), torch.zeros(2, 71)
    afib[:, 3] = 1
    assert not torch.allclose(net(x, t, none), net(x, t, afib))


def test_several_labels_condition_through_the_sum_of_their_embeddings():
    torch.manual_seed(1)
    net = _with_live_head(_tiny())
    x, t = torch.randn(1, 8, 32), torch.full((1,), 5.0)
    both = torch.zeros(1, 71)
    both[0, [2, 9]] = 1
    summed = net.label_embedding[2] + net.label_embedding[9]
    torch.testing.assert_close(both @ net.label_embedding, summed[None])
    assert net(x, t, both).shape == x.shape


def test_time_input_changes_the_output():
    torch.manual_seed(2)
    net = _with_live_head(_tiny())
    x, y = torch.randn(1, 8, 32), torch.zeros(1, 71)
    assert not torch.allclose(net(x, torch.tensor([1.0]), y), net(x, torch.tensor([150.0]), y))


def test_step_embedding_is_sin_then_cos_of_geometric_frequencies():
    e = step_embedding(torch.tensor([0.0, 3.0]), 8)
    freqs = [math.exp(-math.log(10000.0) * k / 3) for k in range(4)]
    expected = [math.sin(3 * f) for f in freqs] + [math.cos(3 * f) for f in freqs]
    torch.testing.assert_close(e[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    torch.testing.assert_close(e[1], torch.tensor(expected))


def test_forward_runs_under_bfloat16_autocast():
    torch.manual_seed(3)
    net = _with_live_head(_tiny())
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        y = net(torch.randn(2, 8, 32), torch.full((2,), 3.0), torch.zeros(2, 71))
    assert torch.isfinite(y.float()).all()


def test_unconditional_network_has_no_label_embedding():
    net = _tiny(n_labels=0)
    assert net.label_embedding is None
    assert net(torch.randn(1, 8, 32), torch.ones(1)).shape == (1, 8, 32)
