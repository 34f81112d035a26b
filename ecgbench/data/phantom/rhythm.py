"""Beat timing: when each QRS starts, what kind of beat it is and how respiration shapes it.

Sinus rhythm: RR_k = RR0 * (1 + rsa * sin(2π f_resp t_k + φ)) plus a small random jitter
(respiratory sinus arrhythmia). AF: RR intervals drawn independently from a log-normal
around RR0 (irregularly irregular). A PVC replaces a beat: it comes early, after a coupling
interval of 50–75 % of the RR (never before the preceding T wave has ended), and the sinus
schedule goes on, which leaves a full compensatory pause.

QT follows the preceding RR (QT_k = QT0 * (RR_{k-1} / RR0)^(1/3), QT0 = QTc * sqrt(RR0)), and
respiration modulates each beat's amplitude and turns the heart vector in the frontal plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecgbench.data.phantom.cohort import Cohort

#: Beat kinds in the beats table: sinus-conducted, AF-conducted, premature ventricular.
KIND_CODES: tuple[str, ...] = ("", "N", "A", "V")
NONE, SINUS, AF, PVC = 0, 1, 2, 3


@dataclass(frozen=True)
class BeatTrain:
    """Per record and beat slot (n records, K beat slots; unused slots have kind NONE).

    onset     float[n, K]  QRS onset, seconds from the record start
    kind      int[n, K]    NONE, SINUS, AF or PVC
    jt        float[n, K]  JT of the beat (QT − QRS), s
    scale     float[n, K]  respiratory amplitude factor
    rotation  float[n, K]  respiratory frontal-plane rotation, rad
    """

    onset: np.ndarray
    kind: np.ndarray
    jt: np.ndarray
    scale: np.ndarray
    rotation: np.ndarray

    def take(self, index: np.ndarray | slice) -> BeatTrain:
        return BeatTrain(**{k: getattr(self, k)[index] for k in self.__dataclass_fields__})


def beat_train(
    c: Cohort, pvc_qrs: np.ndarray, pvc_jt: np.ndarray, rng: np.random.Generator, duration: float
) -> BeatTrain:
    """Beat times from before the record starts to 0.5 s after it ends, for every record."""
    n = len(c)
    rr0 = 60.0 / c.hr
    k_max = int(np.ceil((duration + 2.5) / 0.28)) + 2
    onset = np.full((n, k_max), np.nan)
    t = -rr0 * rng.uniform(0.4, 1.4, n)
    jitter = rng.normal(0.0, 1.0, (n, k_max))
    af_draw = rng.normal(0.0, 1.0, (n, k_max))
    for k in range(k_max):
        alive = t < duration + 0.5
        onset[alive, k] = t[alive]
        sinus_rr = rr0 * (1.0 + c.rsa * np.sin(2 * np.pi * c.resp_hz * t + c.resp_phase)) * (1.0 + 0.007 * jitter[:, k])
        af_rr = np.clip(rr0 * np.exp(c.af_spread * af_draw[:, k] - c.af_spread**2 / 2), 0.30, 2.2)
        t = t + np.where(c.af, af_rr, sinus_rr)
    kind = np.where(np.isnan(onset), NONE, np.where(c.af[:, None], AF, SINUS))

    qt0 = c.qtc * np.sqrt(rr0)
    qt = _adapted_qt(onset, qt0, rr0)
    pvc_qt = pvc_qrs + pvc_jt
    for i in np.flatnonzero(c.n_pvc > 0):
        _place_pvcs(onset[i], kind[i], qt[i], int(c.n_pvc[i]), float(pvc_qt[i]), rng, duration)
    qt = np.where(kind == PVC, pvc_qt[:, None], _adapted_qt(onset, qt0, rr0))
    jt = qt - np.where(kind == PVC, pvc_qrs[:, None], c.qrs[:, None])

    phase = 2 * np.pi * c.resp_hz[:, None] * np.nan_to_num(onset) + c.resp_phase[:, None]
    scale = 1.0 + c.amp_mod[:, None] * np.sin(phase + 0.5 * np.pi)
    rotation = c.rot_mod[:, None] * np.sin(phase)
    return BeatTrain(onset=onset, kind=kind, jt=jt, scale=scale, rotation=rotation)


def _adapted_qt(onset: np.ndarray, qt0: np.ndarray, rr0: np.ndarray) -> np.ndarray:
    """QT of every beat after its preceding RR (the first beat: RR0), float[n, K] in s."""
    rr_prev = np.diff(onset, axis=1, prepend=np.nan)
    rr_prev[:, 0] = rr0
    rr_prev = np.where(np.isfinite(rr_prev), rr_prev, rr0[:, None])
    return qt0[:, None] * np.cbrt(rr_prev / rr0[:, None])


def _place_pvcs(onset, kind, qt, count: int, pvc_qt: float, rng, duration: float) -> None:
    """Turn up to ``count`` non-adjacent beats of one record, well inside it, into PVCs (in place).

    The PVC comes after 50–75 % of the RR, but not before 40 ms after the preceding T wave
    ends; in AF the beats after it move so that none falls into the PVC's T wave.
    """
    candidates = np.flatnonzero((onset > 0.7) & (onset < duration - 1.2))
    candidates = candidates[candidates >= 1]
    chosen: list[int] = []
    for cand in rng.permutation(candidates):
        if len(chosen) == count:
            break
        if all(abs(int(cand) - j) > 2 for j in chosen):
            chosen.append(int(cand))
    for j in sorted(chosen):
        prev = onset[j - 1]
        coupled = prev + rng.uniform(0.5, 0.75) * (onset[j] - prev)
        onset[j] = min(max(coupled, prev + qt[j - 1] + 0.04), onset[j] - 0.06)
        kind[j] = PVC
        if j + 1 < len(onset) and np.isfinite(onset[j + 1]):
            gap = onset[j] + pvc_qt + 0.05 - onset[j + 1]
            if gap > 0:
                onset[j + 1 :] += gap
