"""What the electrodes pick up besides the heart: baseline wander, power line and muscle noise.

Noise is made per electrode (RA, LA, LL, C1..C6) and enters the leads as electrode
differences (:func:`ecgbench.data.phantom.lead_field.leads_from_vcg`), so it obeys the
limb-lead identities like the heart's signal does. Each record draws its noise from its own
random stream (seed, record index), so a record's noise does not depend on the cohort size.

- baseline wander: three slow sinusoids per electrode (one at the breathing rate, the others
  0.03–0.45 Hz), amplitude ``noise_bw`` mV;
- power line: 50 Hz, generated only where 50 Hz lies below the Nyquist frequency, each
  electrode with its own amplitude up to ``noise_pl`` mV (the common part cancels in leads);
- muscle: band-limited noise (20–150 Hz, or up to 0.45·fs) in bursts, strongest on the limb
  electrodes, standard deviation ``noise_emg`` mV.
All of it is multiplied by the configured noise scale.
"""

from __future__ import annotations

import numpy as np

from ecgbench.data.phantom.cohort import Cohort
from ecgbench.data.phantom.streams import Domain, stream

N_ELECTRODES = 9
_LIMB = np.array([1.3, 1.3, 1.3, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8])


def _noise_gain(sos: np.ndarray, fs: float) -> float:
    """Standard deviation of the filter's output for unit white noise."""
    from scipy import signal

    impulse = np.zeros(int(2 * fs))
    impulse[0] = 1.0
    return float(np.sqrt(np.sum(signal.sosfilt(sos, impulse) ** 2)))


def _sin_cos(freq: np.ndarray, n_samples: int, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """sin and cos of 2π f t at t = k / fs, float32[..., T], by angle addition.

    t = coarse + fine with sqrt(T) values each, so only about 2·sqrt(T) sines per frequency
    are evaluated; the rest are products (exact up to rounding).
    """
    fine_n = int(np.ceil(np.sqrt(n_samples)))
    coarse_n = -(-n_samples // fine_n)
    w = 2 * np.pi * np.asarray(freq, dtype=np.float64)[..., None] / fs
    coarse = w * (np.arange(coarse_n) * fine_n)
    fine = w * np.arange(fine_n)
    sc, cc = np.sin(coarse)[..., :, None], np.cos(coarse)[..., :, None]
    sf, cf = np.sin(fine)[..., None, :], np.cos(fine)[..., None, :]
    shape = (*w.shape[:-1], coarse_n * fine_n)
    sin = (sc * cf + cc * sf).reshape(shape)[..., :n_samples]
    cos = (cc * cf - sc * sf).reshape(shape)[..., :n_samples]
    return sin.astype(np.float32), cos.astype(np.float32)


def _sinusoids(amp: np.ndarray, phase: np.ndarray, freq: np.ndarray, n_samples: int, fs: float) -> np.ndarray:
    """sum_j amp[n, e, j] * sin(2π freq[n, j] t + phase[n, e, j]) as float32[n, e, T].

    Expanded as sin(ωt)·cos φ + cos(ωt)·sin φ, so the sines are shared by the electrodes.
    """
    sin, cos = _sin_cos(freq, n_samples, fs)
    basis = np.concatenate([sin, cos], axis=1)
    weights = np.concatenate([amp * np.cos(phase), amp * np.sin(phase)], axis=2).astype(np.float32)
    return np.matmul(weights, basis)


def electrode_noise(
    c: Cohort, record_index: np.ndarray, seed: int, fs: float, n_samples: int, scale: float
) -> np.ndarray | None:
    """float32[n, 9, T] electrode noise in mV, or None when ``scale`` is 0."""
    if scale == 0:
        return None
    n = len(c)
    white = np.empty((n, N_ELECTRODES, n_samples), dtype=np.float32)
    bw_amp = np.empty((n, N_ELECTRODES, 3))
    bw_phase = np.empty((n, N_ELECTRODES, 3))
    bw_freq = np.empty((n, 3))
    pl_amp = np.empty((n, N_ELECTRODES, 1))
    pl_phase = np.empty((n, 1, 1))
    burst_freq = np.empty((n, 1))
    burst_phase = np.empty((n, N_ELECTRODES, 1))
    for row, index in enumerate(record_index):
        rng = stream(seed, Domain.NOISE, int(index))
        white[row] = rng.standard_normal((N_ELECTRODES, n_samples), dtype=np.float32)
        bw_amp[row] = rng.normal(0.0, 1.0, (N_ELECTRODES, 3)) * np.array([0.6, 0.6, 0.35])
        bw_phase[row] = rng.uniform(0, 2 * np.pi, (N_ELECTRODES, 3))
        bw_freq[row] = [c.resp_hz[row], rng.uniform(0.03, 0.12), rng.uniform(0.15, 0.45)]
        pl_amp[row, :, 0] = rng.uniform(0.0, 1.0, N_ELECTRODES)
        pl_phase[row] = rng.uniform(0, 2 * np.pi)
        burst_freq[row] = rng.uniform(0.1, 0.5)
        burst_phase[row, :, 0] = rng.uniform(0, 2 * np.pi, N_ELECTRODES)
    out = _sinusoids(c.noise_bw[:, None, None] * bw_amp, bw_phase, bw_freq, n_samples, fs)
    if fs > 100.0:
        out += _sinusoids(c.noise_pl[:, None, None] * pl_amp, np.broadcast_to(pl_phase, pl_amp.shape),
                          np.full((n, 1), 50.0), n_samples, fs)

    from scipy import signal

    high = min(150.0, 0.45 * fs)
    sos = signal.butter(2, [20.0, high], btype="bandpass", fs=fs, output="sos")
    emg = signal.sosfilt(sos.astype(np.float32), white, axis=-1)
    wave = 0.5 + 0.5 * _sinusoids(np.ones_like(burst_phase), burst_phase, burst_freq, n_samples, fs)
    envelope = 0.5 + 1.2 * wave**3
    gain = (c.noise_emg[:, None] * _LIMB / _noise_gain(sos, fs)).astype(np.float32)
    out += gain[:, :, None] * envelope * emg
    if scale != 1.0:
        out *= np.float32(scale)
    return out
