"""Record-level parameters of a phantom cohort: who the patient is and what the heart does.

Findings are drawn here as parameters (a conduction defect, an infarct site, an ST shift, a
long QT, ...); the SCP labels are derived later from these parameters and from the exact
intervals they produce (:mod:`ecgbench.data.phantom.statements`), never drawn on their own.
Older patients carry more structural disease (AF, infarcts, LBBB, AV block, LVH), as in
PTB-XL. All times are in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

CONDUCTION: tuple[str, ...] = ("none", "LBBB", "RBBB", "LAFB")
MI_SITES: tuple[str, ...] = ("none", "inferior", "anteroseptal", "anterior")
ST_KINDS: tuple[str, ...] = ("none", "elevation", "depression")


@dataclass(frozen=True)
class Cohort:
    """One entry per record (arrays of length n).

    sex, age        'M'/'F', years.
    af              atrial fibrillation instead of sinus rhythm.
    hr              target mean ventricular rate (bpm) before respiratory and random variation.
    rsa             respiratory sinus arrhythmia: relative RR modulation amplitude.
    af_spread       AF: log-normal spread of the RR intervals.
    resp_hz, resp_phase   breathing rate (Hz) and phase (rad).
    amp_mod, rot_mod      respiratory QRS-T amplitude modulation (relative) and frontal-plane
                          rotation of the heart vector (rad).
    pr, p_dur       PR interval and P-wave duration (NaN in AF).
    qrs             QRS duration of the conducted beats.
    qtc             target QTc (Bazett) of the conducted beats.
    conduction      index into CONDUCTION; RBBB with qrs < 120 ms is an incomplete block.
    mi              index into MI_SITES.
    st              index into ST_KINDS (non-specific ST shift).
    qrs_gain        overall QRS-T voltage of the patient (habitus, sex).
    lvh_gain        extra left-ventricular voltage (1 = none).
    axis            frontal angle of the main QRS force (deg, hexaxial).
    n_pvc           premature ventricular complexes to place in the record.
    u_wave          a U wave follows T (slow rates).
    noise_bw, noise_emg, noise_pl   per-record noise amplitudes (mV) at noise scale 1.
    """

    sex: np.ndarray
    age: np.ndarray
    af: np.ndarray
    hr: np.ndarray
    rsa: np.ndarray
    af_spread: np.ndarray
    resp_hz: np.ndarray
    resp_phase: np.ndarray
    amp_mod: np.ndarray
    rot_mod: np.ndarray
    pr: np.ndarray
    p_dur: np.ndarray
    qrs: np.ndarray
    qtc: np.ndarray
    conduction: np.ndarray
    mi: np.ndarray
    st: np.ndarray
    qrs_gain: np.ndarray
    lvh_gain: np.ndarray
    axis: np.ndarray
    n_pvc: np.ndarray
    u_wave: np.ndarray
    noise_bw: np.ndarray
    noise_emg: np.ndarray
    noise_pl: np.ndarray

    def __len__(self) -> int:
        return len(self.sex)

    def take(self, index: np.ndarray | slice) -> Cohort:
        return Cohort(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def _categorical(u: np.ndarray, probs: list[np.ndarray]) -> np.ndarray:
    """Category 1..k where u falls into the cumulative probabilities, else 0."""
    out = np.zeros(len(u), dtype=np.int64)
    edge = np.zeros(len(u))
    for k, p in enumerate(probs, start=1):
        hit = (u >= edge) & (u < edge + p)
        out[hit] = k
        edge = edge + p
    return out


def sample_cohort(rng: np.random.Generator, n: int) -> Cohort:
    """Draw n patients. Prevalences are set so that a 3000-record cohort holds several
    percent of every expressed statement and NORM is the largest diagnostic class."""
    female = rng.random(n) >= 0.52
    sex = np.where(female, "F", "M")
    age = np.clip(np.round(rng.normal(60.0, 17.0, n)), 18, 95)
    risk = 0.4 + 1.2 * (age - 18.0) / 77.0  # mean about 1; older hearts carry more disease

    af = rng.random(n) < 0.066 * risk
    conduction = _categorical(rng.random(n), [0.05 * risk, np.full(n, 0.1), np.full(n, 0.05)])
    mi = _categorical(rng.random(n), [0.06 * risk, 0.057 * risk, 0.057 * risk])
    lbbb, rbbb, lafb = conduction == 1, conduction == 2, conduction == 3
    mi[lbbb] = 0  # infarct patterns are not read through LBBB
    mi[rbbb & (mi >= 2)] = 0  # anterior Q waves are not modelled under RBBB's late forces
    mi[lafb & (mi == 1)] = 0  # inferior MI and LAFB both move the axis superiorly
    st = _categorical(rng.random(n), [np.full(n, 0.07), np.full(n, 0.072)])
    st[lbbb | (mi > 0)] = 0  # their ST changes are secondary, not non-specific

    lvh = (rng.random(n) < 0.06 * risk) & ~lbbb
    lvh_gain = np.where(lvh, rng.uniform(1.5, 2.2, n), 1.0)
    qrs_gain = 0.95 * np.exp(rng.normal(0.0, 0.08, n)) * np.where(female, 0.86, 1.0) * np.where(age < 35, 1.12, 1.0)

    # Rate: sinus brady / normal / tachy, or AF with its mean ventricular rate.
    rate_class = _categorical(rng.random(n), [np.full(n, 0.09), np.full(n, 0.085)])
    hr_normal = np.clip(rng.normal(73.0, 9.0, n) + 3.0 * female, 62.0, 97.0)
    hr = np.select(
        [af, rate_class == 1, rate_class == 2],
        [rng.uniform(58.0, 135.0, n), rng.uniform(42.0, 58.0, n), rng.uniform(103.0, 145.0, n)],
        hr_normal,
    )
    marked_rsa = (~af) & (rate_class == 0) & (rng.random(n) < 0.09)
    rsa = np.where(marked_rsa, rng.uniform(0.075, 0.13, n), rng.uniform(0.006, 0.028, n))
    rsa = np.where(rate_class == 2, rsa * 0.5, rsa)  # vagal modulation fades at high rates

    avb1 = (~af) & (rng.random(n) < 0.058 * risk)
    pr_normal = np.clip(rng.normal(0.156 + 0.0004 * (age - 60.0), 0.018, n), 0.118, 0.196)
    pr = np.where(af, np.nan, np.where(avb1, rng.uniform(0.212, 0.32, n), pr_normal))
    p_dur = np.clip(rng.normal(0.095, 0.009, n), 0.075, 0.115)
    p_dur = np.where(af, np.nan, np.minimum(p_dur, pr - 0.035))

    incomplete_rbbb = rbbb & (rng.random(n) < 0.47)
    qrs = np.select(
        [lbbb, rbbb & incomplete_rbbb, rbbb, lafb],
        [
            rng.uniform(0.128, 0.172, n),
            rng.uniform(0.100, 0.116, n),
            rng.uniform(0.122, 0.160, n),
            np.clip(rng.normal(0.100, 0.007, n), 0.086, 0.116),
        ],
        np.clip(rng.normal(0.090, 0.008, n), 0.074, 0.108),
    )
    qrs = np.where(lvh & (qrs < 0.11), qrs + 0.006, qrs)

    long_qt = (qrs < 0.12) & (rng.random(n) < 0.062)
    qtc_normal = np.clip(rng.normal(0.410 + 0.008 * female, 0.016, n), 0.362, 0.444)
    qtc = np.where(long_qt, rng.uniform(0.468, 0.545, n), qtc_normal)
    qtc = qtc + np.maximum(qrs - 0.095, 0.0)  # a wide QRS lengthens QT, JT stays normal

    axis = np.select(
        [lafb, lbbb],
        [rng.uniform(-72.0, -50.0, n), rng.uniform(-25.0, 35.0, n)],
        np.clip(rng.normal(48.0, 26.0, n), -25.0, 95.0),
    )
    axis = np.where(lvh & ~lafb, axis - 12.0, axis)

    n_pvc = np.where(rng.random(n) < 0.062, 1 + (rng.random(n) < 0.35), 0)

    return Cohort(
        sex=sex,
        age=age,
        af=af,
        hr=hr,
        rsa=rsa,
        af_spread=rng.uniform(0.12, 0.24, n),
        resp_hz=rng.uniform(0.2, 0.33, n),
        resp_phase=rng.uniform(0.0, 2 * np.pi, n),
        amp_mod=rng.uniform(0.02, 0.07, n),
        rot_mod=np.deg2rad(rng.uniform(1.5, 4.5, n)),
        pr=pr,
        p_dur=p_dur,
        qrs=qrs,
        qtc=qtc,
        conduction=conduction,
        mi=mi,
        st=st,
        qrs_gain=qrs_gain,
        lvh_gain=lvh_gain,
        axis=axis,
        n_pvc=n_pvc,
        u_wave=(hr < 66.0) & (rng.random(n) < 0.5),
        noise_bw=0.07 * np.exp(rng.normal(0.0, 0.5, n)),
        noise_emg=0.006 * np.exp(rng.normal(0.0, 0.55, n)),
        noise_pl=rng.uniform(0.0, 0.02, n),
    )
