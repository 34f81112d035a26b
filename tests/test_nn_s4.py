"""S4 layer: the FFT kernel equals the state-space recurrence; causal and bidirectional behaviour."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ecgbench.nn.s4 import S4, S4Block, bilinear, hippo_legs, legs_dplr  # noqa: E402


def _recurrence_kernels(layer: S4, length: int) -> torch.Tensor:
    """K_l = C Ā^l B̄ by stepping the discretised HiPPO-LegS system in its original basis.

    The layer stores C̃ = C(I − Ā^L) in the diagonal basis; undo both to get the real C.
    """
    n = layer.state_size
    a, b = (torch.from_numpy(m) for m in hippo_legs(n))
    v = torch.from_numpy(legs_dplr(n)[3])
    a_bar, b_bar = bilinear(a, b, layer.log_dt.double().exp())
    power = torch.linalg.matrix_power(a_bar, layer.length).to(torch.complex128)
    correction = v.conj().T @ (torch.eye(n, dtype=torch.float64) - power) @ v  # [H, N, N]
    c_tilde = torch.view_as_complex(layer.c.detach().double().contiguous())
    c_tilde_full = torch.cat([c_tilde, c_tilde.conj()], dim=-1)  # [k, H, N]
    # row vector: c_full @ correction = c_tilde_full  <=>  correctionᵀ c_fullᵀ = c_tilde_fullᵀ
    c_full = torch.linalg.solve(correction.transpose(-1, -2), c_tilde_full.unsqueeze(-1)).squeeze(-1)
    c_real = c_full @ v.conj().T  # y = C_full x_diag = C_full V* x
    assert c_real.imag.abs().max() < 1e-8
    kernels = torch.zeros(layer.kernels, layer.features, length, dtype=torch.float64)
    state = b_bar.clone()  # Ā^0 B̄
    for step in range(length):
        kernels[:, :, step] = torch.einsum("khn,hn->kh", c_real.real, state)
        state = torch.einsum("hnm,hm->hn", a_bar, state)
    return kernels


def test_legs_dplr_reconstructs_the_hippo_matrix():
    n = 16
    a, _ = hippo_legs(n)
    w, p_tilde, _, v = legs_dplr(n)
    lam = np.concatenate([w, w.conj()])
    p_full = np.concatenate([p_tilde, p_tilde.conj()])
    rebuilt = v @ (np.diag(lam) - np.outer(p_full, p_full.conj())) @ v.conj().T
    np.testing.assert_allclose(rebuilt, a, atol=1e-9)


def test_fft_kernel_matches_the_state_space_recurrence():
    torch.manual_seed(0)
    layer = S4(features=3, state_size=8, length=64, bidirectional=True).double()
    kernels = layer.kernel().detach()
    reference = _recurrence_kernels(layer, 64)
    assert kernels.shape == (2, 3, 64)
    np.testing.assert_allclose(kernels.numpy(), reference.numpy(), atol=1e-6 * reference.abs().max().item())


def test_layer_output_equals_direct_two_sided_convolution():
    torch.manual_seed(1)
    layer = S4(features=2, state_size=8, length=40, bidirectional=True).double()
    u = torch.randn(3, 2, 25, dtype=torch.float64)  # shorter than the kernel: uses its first taps
    k = layer.kernel().detach()
    conv = torch.zeros_like(u)
    for t in range(25):
        for j in range(25):
            if j <= t:  # causal kernel at lag j
                conv[..., t] += k[0, :, j] * u[..., t - j]
            if t + 1 + j < 25:  # anti-causal kernel at lag −(j+1)
                conv[..., t] += k[1, :, j] * u[..., t + 1 + j]
    pre = torch.nn.functional.gelu(conv + layer.d.detach()[:, None] * u)
    expected = torch.matmul(layer.output_linear.weight.detach(), pre) + layer.output_linear.bias.detach()[:, None]
    np.testing.assert_allclose(layer(u).detach().numpy(), expected.numpy(), atol=1e-9)


def test_causal_layer_output_does_not_depend_on_future_inputs():
    torch.manual_seed(2)
    layer = S4(features=4, state_size=8, length=50, bidirectional=False)
    u = torch.randn(1, 4, 50)
    changed = u.clone()
    changed[..., 30:] += 1.0
    y, y_changed = layer(u), layer(changed)
    torch.testing.assert_close(y[..., :30], y_changed[..., :30])
    assert not torch.allclose(y[..., 30:], y_changed[..., 30:])


def test_bidirectional_layer_output_depends_on_future_inputs():
    torch.manual_seed(3)
    layer = S4(features=4, state_size=8, length=50, bidirectional=True)
    u = torch.randn(1, 4, 50)
    changed = u.clone()
    changed[..., 30:] += 1.0
    assert not torch.allclose(layer(u)[..., :30], layer(changed)[..., :30])


def test_loading_a_state_dict_rebuilds_the_kernel_from_the_loaded_timescales():
    torch.manual_seed(4)
    source = S4(features=3, state_size=8, length=32)
    torch.manual_seed(5)
    target = S4(features=3, state_size=8, length=32)
    target.kernel()  # cache a basis built from target's own dt
    target.load_state_dict(source.state_dict())
    torch.testing.assert_close(target.kernel(), source.kernel())


def test_kernel_basis_is_not_saved_in_the_state_dict():
    layer = S4(features=2, state_size=8, length=16)
    layer.kernel()
    assert set(layer.state_dict()) == {"w", "p", "b", "log_dt", "c", "d", "output_linear.weight", "output_linear.bias"}


def test_only_c_d_and_the_output_projection_are_trainable():
    layer = S4(features=5, state_size=8, length=16, bidirectional=True)
    shapes = {name: tuple(p.shape) for name, p in layer.named_parameters()}
    assert shapes == {"c": (2, 5, 4, 2), "d": (5,), "output_linear.weight": (5, 5), "output_linear.bias": (5,)}


def test_block_normalises_each_time_step_over_features():
    torch.manual_seed(6)
    block = S4Block(features=6, state_size=8, length=20)
    y = block(torch.randn(2, 6, 20))
    torch.testing.assert_close(y.mean(dim=1), torch.zeros(2, 20), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(dim=1, unbiased=False), torch.ones(2, 20), atol=1e-3, rtol=0)


def test_inputs_longer_than_the_kernel_are_rejected():
    layer = S4(features=2, state_size=8, length=16)
    with pytest.raises(ValueError, match="up to 16 samples"):
        layer(torch.randn(1, 2, 17))


def test_fft_convolution_gradients_match_finite_differences():
    from ecgbench.nn.s4 import _FFTConvolution

    u = torch.randn(2, 3, 10, dtype=torch.float64, requires_grad=True)
    taps = torch.randn(3, 20, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: _FFTConvolution.apply(a, b, 20), (u, taps))


def test_layer_gradients_reach_the_trainable_state_space_parameters():
    torch.manual_seed(7)
    layer = S4(features=2, state_size=4, length=12).double()
    u = torch.randn(2, 2, 12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (u,))
    layer(u).square().sum().backward()
    assert layer.c.grad.abs().sum() > 0 and layer.d.grad.abs().sum() > 0
