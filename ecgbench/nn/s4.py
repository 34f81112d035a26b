"""S4, the structured state-space sequence layer (Gu, Goel & Ré, ICLR 2022), as SSSD-ECG uses it.

A state space ``x'(t) = A x(t) + B u(t), y(t) = C x(t) + D u(t)`` per feature, with A and B
the HiPPO-LegS matrices (state size N), discretised by the bilinear transform with a step
``dt`` drawn log-uniformly per feature. The layer applies it as a convolution with the
length-L kernel ``K_l = C Ā^l B̄`` through the FFT, so it runs on any torch device.

The kernel is computed the S4 way: A = V(Λ − p p*)V* is diagonal plus rank one (DPLR), the
kernel's generating function at the L-th roots of unity is a Cauchy sum corrected by the
Woodbury identity, and an inverse real FFT turns it into the kernel. C is stored as
``C̃ = C(I − Ā^L)`` (the "length correction"), which makes that generating function exact.

As in the SSSD-ECG configuration, A, B, p and dt are fixed buffers and only C, D and the
output projection are trained. The kernel is then a linear function of C, so each layer
precomputes (once, lazily, on its device) the kernels that the real and imaginary part of
each state coordinate contribute, and a forward pass is one small contraction plus the FFT
convolution: fast on a CPU, and exact.

Bidirectional layers hold two kernels: one applied causally, one to the time-reversed
input (lags −1 … −L), summed into one output channel as in S4's bidirectional mode.

The Cauchy sum runs over all N modes, the N/2 stored ones and their complex conjugates
(``cauchy="conjugate_pairs"``): the kernel of the real state space above, and what S4's pykeops
and CUDA kernels compute. The pure-PyTorch fallback shipped with SSSD-ECG sums over the N/2
stored modes only, which gives a different kernel; ``cauchy="stored_modes"`` reproduces that
fallback, for weights trained with it.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: Rows of the kernel basis computed at once (bounds the complex128 working memory).
_BASIS_CHUNK = 64

#: Which modes the Cauchy sum of the kernel's generating function runs over (see the module docs).
CauchySum = Literal["conjugate_pairs", "stored_modes"]


def hippo_legs(state_size: int) -> tuple[np.ndarray, np.ndarray]:
    """HiPPO-LegS ``A`` float64[N, N] (lower triangular) and ``B`` float64[N].

    ``A[n, k] = −√(2n+1)√(2k+1)`` for n > k, ``−(n+1)`` for n = k, 0 above the diagonal;
    ``B[n] = √(2n+1)``.
    """
    q = np.arange(state_size, dtype=np.float64)
    r = np.sqrt(2 * q + 1)
    a = -np.where(q[:, None] > q[None, :], r[:, None] * r[None, :], 0.0) - np.diag(q + 1)
    return a, r.copy()


@cache
def _cached_dplr(state_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return legs_dplr(state_size)


def legs_dplr(state_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Diagonal-plus-low-rank form of HiPPO-LegS: ``A = V (Λ − p̃ p̃*) V*``.

    ``A + p pᵀ`` with ``p[n] = √(n + ½)`` equals ``−½ I + S`` with S skew-symmetric, so it is
    normal and unitarily diagonalisable; its eigenvalues come in conjugate pairs. Returns the
    N/2 eigenvalues with positive imaginary part ``w`` (complex128[N/2]), ``p̃ = V* p`` and
    ``b̃ = V* B`` on those modes (complex128[N/2]), and the full unitary ``V`` (complex128[N, N],
    columns: the N/2 kept modes, then their conjugates).
    """
    if state_size < 2 or state_size % 2:
        raise ValueError(f"S4 state size must be an even number >= 2, got {state_size}")
    a, b = hippo_legs(state_size)
    p = np.sqrt(np.arange(state_size) + 0.5)
    skew = a + np.outer(p, p) + 0.5 * np.eye(state_size)
    eigenvalues, vectors = np.linalg.eigh(1j * skew)  # i·S is Hermitian: S u = −i λ u
    half = vectors[:, eigenvalues < 0]  # modes −i λ with λ < 0: positive imaginary part
    w = -0.5 - 1j * eigenvalues[eigenvalues < 0]
    v = np.concatenate([half, half.conj()], axis=1)
    return w, half.conj().T @ p, half.conj().T @ b, v


def bilinear(a: torch.Tensor, b: torch.Tensor, dt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinear (Tustin) discretisation: ``Ā = (I − dt/2 A)⁻¹(I + dt/2 A)``, ``B̄ = (I − dt/2 A)⁻¹ dt B``.

    a: [N, N], b: [N], dt: [H] -> Ā [H, N, N], B̄ [H, N].
    """
    eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    half = dt[:, None, None] / 2 * a
    backward = eye - half
    a_bar = torch.linalg.solve(backward, eye + half)
    b_bar = torch.linalg.solve(backward, (dt[:, None] * b)[..., None])[..., 0]
    return a_bar, b_bar


class _FFTConvolution(torch.autograd.Function):
    """``irfft(rfft(u, n) · rfft(taps, n))[..., :L]`` with a hand-written backward.

    The gradients are the same FFT products with conjugated spectra (convolution's adjoint is
    correlation); this avoids the complex-to-complex FFTs autograd uses for ``rfft``'s backward
    and keeps only the two spectra for the backward pass.
    """

    @staticmethod
    def forward(ctx, u: torch.Tensor, taps: torch.Tensor, n_fft: int) -> torch.Tensor:
        u_f, taps_f = torch.fft.rfft(u, n=n_fft), torch.fft.rfft(taps, n=n_fft)
        ctx.save_for_backward(u_f, taps_f)
        ctx.n_fft, ctx.length = n_fft, u.shape[-1]
        return torch.fft.irfft(u_f * taps_f, n=n_fft)[..., : ctx.length]

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None]:
        u_f, taps_f = ctx.saved_tensors
        grad_f = torch.fft.rfft(grad, n=ctx.n_fft)
        grad_u = grad_taps = None
        if ctx.needs_input_grad[0]:
            grad_u = torch.fft.irfft(grad_f * taps_f.conj(), n=ctx.n_fft)[..., : ctx.length]
        if ctx.needs_input_grad[1]:
            spectrum = (grad_f * u_f.conj()).reshape(-1, *taps_f.shape).sum(0)
            grad_taps = torch.fft.irfft(spectrum, n=ctx.n_fft)
        return grad_u, grad_taps, None


class S4(nn.Module):
    """One S4 layer on ``float[batch, H, L]`` (features first, as SSSD-ECG calls it).

    ``y = W · GELU(K ∗ u + D u) + bias``: the state-space convolution (causal, or causal plus
    anti-causal when bidirectional), the skip term D, a GELU and a 1×1 output projection.
    ``length`` is the longest sequence the kernel covers; shorter inputs use its first L taps.
    """

    def __init__(
        self,
        features: int,
        state_size: int = 64,
        length: int = 1000,
        bidirectional: bool = True,
        dropout: float = 0.0,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        cauchy: CauchySum = "conjugate_pairs",
    ):
        super().__init__()
        if cauchy not in ("conjugate_pairs", "stored_modes"):
            raise ValueError(f"cauchy must be 'conjugate_pairs' or 'stored_modes', got {cauchy!r}")
        self.features, self.state_size, self.length = features, state_size, length
        self.cauchy = cauchy
        self.bidirectional = bidirectional
        self.kernels = 2 if bidirectional else 1
        w, p, b, _ = _cached_dplr(state_size)
        half = state_size // 2
        # Fixed HiPPO state space (buffers, as in SSSD-ECG): eigenvalues, low-rank term, B.
        self.register_buffer("w", torch.view_as_real(torch.from_numpy(w)).float())
        self.register_buffer("p", torch.view_as_real(torch.from_numpy(p)).float())
        self.register_buffer("b", torch.view_as_real(torch.from_numpy(b)).float())
        self.register_buffer("log_dt", torch.empty(features))
        # Trainable: C̃ (real view of complex [kernels, H, N/2]), D, the output projection.
        self.c = nn.Parameter(torch.empty(self.kernels, features, half, 2))
        self.d = nn.Parameter(torch.empty(features))
        self.output_linear = Pointwise(features, features)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        # Kernel contributions of Re(C̃) and Im(C̃), float32[H, N/2, L]: derived, not saved.
        self.register_buffer("basis_re", None, persistent=False)
        self.register_buffer("basis_im", None, persistent=False)
        self.register_load_state_dict_post_hook(lambda module, _incompatible: module.forget_basis())
        if self.c.device.type != "meta":
            self.reset_parameters(dt_min, dt_max)

    @torch.no_grad()
    def reset_parameters(self, dt_min: float = 1e-3, dt_max: float = 1e-1) -> None:
        """S4's initialisation: log-uniform dt, C ~ CN(0, 1) length-corrected, D ~ N(0, 1)."""
        log_span = math.log(dt_max) - math.log(dt_min)
        self.log_dt.copy_(torch.rand(self.features, device="cpu") * log_span + math.log(dt_min))
        c = torch.randn(self.kernels, self.features, self.state_size // 2, dtype=torch.complex128, device="cpu")
        self.c.copy_(torch.view_as_real(self._length_corrected(c)).float())
        self.d.normal_()
        self.forget_basis()

    def _length_corrected(self, c: torch.Tensor) -> torch.Tensor:
        """``C̃ = C (I − Ā^L)`` on the kept modes (C: complex[kernels, H, N/2])."""
        a, b = (torch.from_numpy(m) for m in hippo_legs(self.state_size))
        v = torch.from_numpy(_cached_dplr(self.state_size)[3])
        a_bar, _ = bilinear(a, b, self.log_dt.double().exp().cpu())
        power = torch.linalg.matrix_power(a_bar, self.length).to(torch.complex128)
        # The same matrix in the diagonal basis of A + p pᵀ: x_diag = V* x.
        correction = v.conj().T @ (torch.eye(self.state_size, device="cpu") - power) @ v
        c_full = torch.cat([c, c.conj()], dim=-1)
        return torch.einsum("khn,hnm->khm", c_full, correction)[..., : self.state_size // 2]

    def forget_basis(self) -> None:
        """Drop the cached kernel basis (after dt changed, e.g. a loaded state dict)."""
        self.basis_re = None
        self.basis_im = None

    @torch.no_grad()
    def _build_basis(self) -> None:
        device = self.log_dt.device
        w = torch.view_as_complex(self.w.double().contiguous())
        p = torch.view_as_complex(self.p.double().contiguous())
        b = torch.view_as_complex(self.b.double().contiguous())
        pairs = self.cauchy == "conjugate_pairs"
        w_full, p_full, b_full = (torch.cat([x, x.conj()]) if pairs else x for x in (w, p, b))
        k = torch.arange(self.length // 2 + 1, device=device, dtype=torch.float64)
        omega = torch.exp(-2j * math.pi * k / self.length)  # L-th roots of unity
        plus = 1 + omega
        half = self.state_size // 2
        rows_re, rows_im = [], []
        for dt in self.log_dt.double().exp().split(_BASIS_CHUNK):
            # 2/(1+ω) (g − A)⁻¹ with g = 2(1−ω)/(dt(1+ω)), written without the pole at ω = −1.
            denominator = (2 / dt)[:, None, None] * (1 - omega) - plus * w_full[:, None]  # [h, N, K]
            resolvent = 1 / denominator
            r10 = torch.einsum("n,hnk->hk", p_full.conj() * b_full, resolvent)
            r11 = torch.einsum("n,hnk->hk", p_full.conj() * p_full, resolvent)
            woodbury = plus * r10 / (1 + plus * r11)  # [h, K]
            g = 2 * (b_full[None, :, None] - p_full[None, :, None] * woodbury[:, None, :]) * resolvent
            if pairs:  # K̂ = Σ C̃_n G_n + conj(C̃_n) G_{n+N/2}; split into Re(C̃) and Im(C̃) coefficients.
                rows_re.append(torch.fft.irfft(g[:, :half] + g[:, half:], n=self.length))
                rows_im.append(torch.fft.irfft(1j * (g[:, :half] - g[:, half:]), n=self.length))
            else:  # K̂ = Σ C̃_n G_n over the stored modes only
                rows_re.append(torch.fft.irfft(g, n=self.length))
                rows_im.append(torch.fft.irfft(1j * g, n=self.length))
        self.basis_re = torch.cat(rows_re).to(self.c.dtype)
        self.basis_im = torch.cat(rows_im).to(self.c.dtype)

    def kernel(self) -> torch.Tensor:
        """The convolution kernels ``float32[kernels, H, length]`` (index 0: causal)."""
        basis = self.basis_re
        if basis is None or basis.device != self.c.device or basis.dtype != self.c.dtype:
            self._build_basis()
        return torch.einsum("khn,hnl->khl", self.c[..., 0], self.basis_re) + torch.einsum(
            "khn,hnl->khl", self.c[..., 1], self.basis_im
        )

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """float[batch, H, L] -> float[batch, H, L], L <= length."""
        length = u.shape[-1]
        if length > self.length:
            raise ValueError(f"S4 layer built for sequences up to {self.length} samples, got {length}")
        with torch.autocast(device_type=u.device.type, enabled=False):
            u_ = u.to(self.c.dtype)
            k = self.kernel()[..., :length]
            n_fft = 2 * length
            taps = F.pad(k[0], (0, n_fft - length))
            if self.bidirectional:  # anti-causal kernel at lags −1 … −L (wraps to the end)
                taps = taps + F.pad(k[1].flip(-1), (n_fft - length, 0))
            y = _FFTConvolution.apply(u_, taps, n_fft) + self.d[:, None] * u_
        y = self.dropout(F.gelu(y)).to(u.dtype)
        return self.output_linear(y)


class Pointwise(nn.Module):
    """A 1×1 convolution on ``float[batch, C_in, L]`` as one matrix product (faster on CPU
    than a convolution kernel); weight ``[C_out, C_in]``, as ``nn.Linear`` initialises it."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        linear = nn.Linear(c_in, c_out)
        self.weight, self.bias = linear.weight, linear.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(self.weight, x) + self.bias[:, None]


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the feature axis of ``float[batch, H, L]``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class S4Block(nn.Module):
    """SSSD-ECG's S4 layer: ``LayerNorm(x + Dropout(S4(x)))`` on ``float[batch, H, L]``."""

    def __init__(
        self,
        features: int,
        state_size: int = 64,
        length: int = 1000,
        bidirectional: bool = True,
        dropout: float = 0.0,
        layer_norm: bool = True,
        cauchy: CauchySum = "conjugate_pairs",
    ):
        super().__init__()
        self.s4 = S4(features, state_size, length, bidirectional, dropout, cauchy=cauchy)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.norm = ChannelLayerNorm(features) if layer_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.dropout(self.s4(x)))
