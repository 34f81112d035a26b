"""Templates x beat train -> the waves of every beat, their fiducials, and AF's f-waves."""

from __future__ import annotations

import numpy as np

from ecgbench.data.phantom.lead_field import force
from ecgbench.data.phantom.morphology import (
    ATRIAL,
    CONDUCTED,
    CONDUCTED_QRS,
    ECTOPIC,
    ECTOPIC_QRS,
    SLOTS,
    Templates,
)
from ecgbench.data.phantom.morphology import S as SLOT
from ecgbench.data.phantom.rhythm import AF, PVC, SINUS, BeatTrain
from ecgbench.data.phantom.waves import Bumps

FIDUCIALS: tuple[str, ...] = ("p_on", "p_off", "qrs_on", "r_peak", "qrs_off", "t_peak", "t_off", "u_on", "u_off")


def _beat_knots(t: Templates, train: BeatTrain) -> np.ndarray:
    """Absolute knots float[n, K, slots, 4] (s) of every slot in every beat."""
    return (
        np.nan_to_num(train.onset)[:, :, None, None]
        + t.base[:, None]
        + t.jt_factor[:, None] * np.nan_to_num(train.jt)[:, :, None, None]
    )


def _slots_on(t: Templates, train: BeatTrain) -> np.ndarray:
    """bool[n, K, slots]: which waves each beat draws."""
    on = np.zeros((*train.kind.shape, len(SLOTS)), dtype=bool)
    on[..., ATRIAL] = (train.kind == SINUS)[..., None]
    on[..., CONDUCTED] = ((train.kind == SINUS) | (train.kind == AF))[..., None]
    on[..., ECTOPIC] = (train.kind == PVC)[..., None]
    return on & t.active[:, None, :]


def beat_bumps(t: Templates, train: BeatTrain, duration: float) -> Bumps:
    """Every wave of every beat that reaches into [0, duration), respiration applied."""
    knots = _beat_knots(t, train)
    on = _slots_on(t, train) & (knots[..., 3] > 0.0) & (knots[..., 0] < duration)
    rec, beat, slot = np.nonzero(on)
    vec = t.vector[rec, slot]
    rot = train.rotation[rec, beat]
    cos, sin = np.cos(rot), np.sin(rot)
    turned = np.stack([cos * vec[:, 0] - sin * vec[:, 1], sin * vec[:, 0] + cos * vec[:, 1], vec[:, 2]], axis=1)
    return Bumps(
        record=rec,
        knots=knots[rec, beat, slot],
        power=t.power[rec, slot],
        vector=turned * train.scale[rec, beat][:, None],
    )


def _group_edge(t: Templates, slots: np.ndarray, knot: int, reduce) -> np.ndarray:
    """First onset (reduce=min over knot a) or last end (max over knot e) of a slot group, float[n]."""
    values = t.base[:, slots, knot]
    fill = np.inf if reduce is np.min else -np.inf
    return reduce(np.where(t.active[:, slots], values, fill), axis=1)


def beat_fiducials(t: Templates, train: BeatTrain) -> dict[str, np.ndarray]:
    """Ground-truth fiducials float[n, K] (s from the record start; NaN where the beat has none).

    p_on    start of the first atrial force (P1);  p_off  end of the last (P2)
    qrs_on  start of the earliest QRS force;       qrs_off end of the latest QRS force
    r_peak  apex of the main ventricular force (QRS_LEFT, or a PVC's first force)
    t_peak  apex of the T force;  t_off end of the T force;  u_on / u_off  the U force
    """
    knots = _beat_knots(t, train)
    onset = train.onset
    sinus = train.kind == SINUS
    conducted = sinus | (train.kind == AF)
    pvc = train.kind == PVC
    nan = np.nan

    def at(slot: str, knot: int) -> np.ndarray:
        return knots[:, :, SLOT[slot], knot]

    qrs_on = np.where(conducted, _group_edge(t, CONDUCTED_QRS, 0, np.min)[:, None],
                      _group_edge(t, ECTOPIC_QRS, 0, np.min)[:, None])
    qrs_off = np.where(conducted, _group_edge(t, CONDUCTED_QRS, 3, np.max)[:, None],
                       _group_edge(t, ECTOPIC_QRS, 3, np.max)[:, None])
    has_u = t.active[:, SLOT["U"]][:, None] & conducted
    fid = {
        "p_on": np.where(sinus, at("P1", 0), nan),
        "p_off": np.where(sinus, at("P2", 3), nan),
        "qrs_on": onset + qrs_on,
        "r_peak": np.where(pvc, at("PVC_A", 1), at("QRS_LEFT", 1)),
        "qrs_off": onset + qrs_off,
        "t_peak": np.where(pvc, at("PVC_T", 1), at("T", 1)),
        "t_off": np.where(pvc, at("PVC_T", 3), at("T", 3)),
        "u_on": np.where(has_u, at("U", 0), nan),
        "u_off": np.where(has_u, at("U", 3), nan),
    }
    none = train.kind == 0
    return {name: np.where(none, nan, value) for name, value in fid.items()}


def draw_f_waves(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Parameters of AF's f-waves for n records (drawn for every record, used for AF ones).

    Two atrial wavefronts at 4–8 Hz with drifting frequency and amplitude, one mostly
    inferior-anterior (seen best in V1 and the inferior leads), one leftward; a second
    harmonic makes them saw-toothed.
    """
    u = lambda lo, hi: rng.uniform(lo, hi, n)  # noqa: E731
    return {
        "f0": u(4.5, 7.5), "ratio": u(0.8, 1.2), "fm": u(0.2, 0.6), "fm_rate": u(0.05, 0.25),
        "psi": u(0, 2 * np.pi), "psi2": u(0, 2 * np.pi), "am_rate": u(0.1, 0.4), "am_phase": u(0, 2 * np.pi),
        "harmonic": u(0.15, 0.45),
        "vec1": force(u(60, 120), u(0.025, 0.07), -u(0.03, 0.09)),
        "vec2": force(u(-30, 40), u(0.01, 0.03), u(-0.03, 0.03)),
    }


def f_waves(params: dict[str, np.ndarray], af: np.ndarray, fs: float, n_samples: int) -> np.ndarray:
    """AF's f-waves as heart-vector signals float64[n, 3, T] (zero where ``af`` is False)."""
    out = np.zeros((len(af), 3, n_samples))
    rows = np.flatnonzero(af)
    if rows.size == 0:
        return out
    time = np.arange(n_samples) / fs
    p = {k: v[rows] for k, v in params.items()}
    col = lambda x: x[:, None]  # noqa: E731
    envelope = 1.0 + 0.35 * np.sin(2 * np.pi * col(p["am_rate"]) * time + col(p["am_phase"]))
    for freq, vec, shift in ((p["f0"], p["vec1"], 0.0), (p["f0"] * p["ratio"], p["vec2"], 1.3)):
        phase = 2 * np.pi * col(freq) * time - col(p["fm"] / p["fm_rate"]) * np.cos(
            2 * np.pi * col(p["fm_rate"]) * time + col(p["psi"] + shift)
        )
        wave = envelope * (np.sin(phase) + col(p["harmonic"]) * np.sin(2 * phase + col(p["psi2"])))
        out[rows] += vec[:, :, None] * wave[:, None, :]
    return out
