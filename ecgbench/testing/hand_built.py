"""Hand-built ECG records with exactly known wave boundaries, for testing interval measurers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecgbench.data.leads import LEAD_INDEX


def hann_wave(t: np.ndarray, on: float, off: float, amplitude: float) -> np.ndarray:
    """sin² bump that is exactly zero outside [on, off] (s)."""
    u = (t - on) / (off - on)
    return np.where((u >= 0) & (u <= 1), amplitude * np.sin(np.pi * u) ** 2, 0.0)


@dataclass(frozen=True)
class HandBuilt:
    """A 10-s single-lead recording: float64[T] in mV at ``fs`` and its true intervals (ms)."""

    lead: np.ndarray
    fs: float
    pr: float
    qrs: float
    qt: float
    rr: float


def hand_built(
    fs: float,
    *,
    pr: float = 160.0,
    qrs: float = 90.0,
    qt: float = 400.0,
    rr: float = 900.0,
    p_amplitude: float = 0.15,
    t_amplitude: float = 0.3,
    p_wave: bool = True,
    noise_mv: float = 0.0,
    premature_every: int = 0,
    seed: int = 0,
) -> HandBuilt:
    """Beats of Hann-shaped waves with known boundaries: P (100 ms) from QRS onset − PR; a q, R, S
    QRS from the QRS onset to onset + QRS; T (200 ms) ending at onset + QT. All times in ms.

    ``premature_every=k`` makes every k-th beat a wide, inverted premature beat (a PVC) that comes
    40 % of an RR early.
    """
    s = 1e-3
    duration = 10.0
    t = np.arange(int(round(duration * fs))) / fs
    x = np.zeros_like(t)
    onset, k = 0.45, 0
    while onset + qt * s + 0.05 < duration:
        k += 1
        if premature_every and k % premature_every == 0:
            early = onset - 0.4 * rr * s
            x += hann_wave(t, early, early + 0.14, -1.4)
            x += hann_wave(t, early + 0.16, early + 0.40, 0.4)
        else:
            if p_wave:
                x += hann_wave(t, onset - pr * s, onset - pr * s + 0.10, p_amplitude)
            q = qrs * s
            x += hann_wave(t, onset, onset + 0.25 * q, -0.1)
            x += hann_wave(t, onset + 0.2 * q, onset + 0.7 * q, 1.2)
            x += hann_wave(t, onset + 0.6 * q, onset + q, -0.3)
            x += hann_wave(t, onset + (qt - 200.0) * s, onset + qt * s, t_amplitude)
        onset += rr * s
    if noise_mv:
        x += noise_mv * np.random.default_rng(seed).standard_normal(len(x))
    return HandBuilt(lead=x, fs=fs, pr=pr, qrs=qrs, qt=qt, rr=rr)


def twelve_lead(leads: dict[str, np.ndarray]) -> np.ndarray:
    """float32[1, 12, T]: the given leads in place, every other lead missing (all-NaN)."""
    length = len(next(iter(leads.values())))
    out = np.full((1, 12, length), np.nan, dtype=np.float32)
    for name, values in leads.items():
        out[0, LEAD_INDEX[name]] = values
    return out
