"""Measurements on the clean signal that some statements are defined by.

Voltage criteria (LVH), the frontal QRS axis (LAFB) and Q waves are read from the noise-free
conducted beat at rest (no respiratory modulation, JT at the resting rate), evaluated on a
1 kHz grid so that they do not depend on the sampling rate. The same functions measure a
stretch of any signal (:func:`qrs_measures`), which is how the tests check the labels on the
generated records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecgbench.data.leads import LEAD_INDEX
from ecgbench.data.phantom.lead_field import LEAD_FIELD
from ecgbench.data.phantom.morphology import CONDUCTED, S, Templates
from ecgbench.data.phantom.waves import bump

GRID_HZ = 1000.0


@dataclass(frozen=True)
class QRSMeasures:
    """Per record (float[n]) or per record and lead (float[n, 12]).

    r_amp, s_amp  largest positive / negative QRS deflection per lead (mV, >= 0)
    q_ms, q_mv    initial negative deflection per lead: duration from QRS onset to its
                  upward zero crossing (the whole QRS for a QS complex) and depth; 0 if none
    sokolow       S(V1) + max(R(V5), R(V6)), mV
    cornell       R(aVL) + S(V3), mV
    axis          frontal QRS axis from the net QRS areas of I and aVF, degrees
    """

    r_amp: np.ndarray
    s_amp: np.ndarray
    q_ms: np.ndarray
    q_mv: np.ndarray
    sokolow: np.ndarray
    cornell: np.ndarray
    axis: np.ndarray


def qrs_measures(x: np.ndarray, valid: np.ndarray, fs: float, q_threshold: float = 0.02) -> QRSMeasures:
    """Measure QRS complexes ``x`` float[n, 12, L] (mV) that start at the QRS onset.

    ``valid`` bool[n, L] marks the samples up to the QRS offset. A Q wave starts when the lead
    first leaves the baseline by ``q_threshold`` mV in the negative direction.
    """
    inside = valid[:, None, :]
    r_amp = np.maximum(np.where(inside, x, 0.0).max(axis=-1), 0.0)
    s_amp = np.maximum(np.where(inside, -x, 0.0).max(axis=-1), 0.0)

    first = np.argmax(inside & (np.abs(x) >= q_threshold), axis=-1)
    starts_negative = np.take_along_axis(x, first[..., None], -1)[..., 0] <= -q_threshold
    index = np.arange(x.shape[-1])
    after = index >= first[..., None]
    upward = inside & after & (x >= 0.0)
    has_cross = upward.any(axis=-1)
    n_valid = valid.sum(axis=-1)[:, None]
    cross = np.where(has_cross, np.argmax(upward, axis=-1), n_valid - 1)
    q_ms = np.where(starts_negative, cross / fs * 1000.0, 0.0)
    before_cross = inside & (index < cross[..., None])
    q_mv = np.where(starts_negative, np.maximum(np.where(before_cross, -x, 0.0).max(axis=-1), 0.0), 0.0)

    area = np.where(inside, x, 0.0).sum(axis=-1) / fs
    axis = np.degrees(np.arctan2(area[:, LEAD_INDEX["aVF"]] * 2.0 / np.sqrt(3.0), area[:, LEAD_INDEX["I"]]))
    lead = LEAD_INDEX
    sokolow = s_amp[:, lead["V1"]] + np.maximum(r_amp[:, lead["V5"]], r_amp[:, lead["V6"]])
    cornell = r_amp[:, lead["aVL"]] + s_amp[:, lead["V3"]]
    return QRSMeasures(r_amp, s_amp, q_ms, q_mv, sokolow, cornell, axis)


def resting_qrs(t: Templates, qrs: np.ndarray, jt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The clean conducted QRS on the 1 kHz grid: leads float[n, 12, L] and valid bool[n, L].

    Every conducted wave is included (an ST force may start inside the QRS).
    """
    length = int(np.ceil(qrs.max() * GRID_HZ)) + 1
    time = np.arange(length) / GRID_HZ
    knots = t.base[:, CONDUCTED] + t.jt_factor[:, CONDUCTED] * jt[:, None, None]
    k = knots[..., None]
    values = bump(time, k[:, :, 0], k[:, :, 1], k[:, :, 2], k[:, :, 3],
                  t.power[:, CONDUCTED, 0, None], t.power[:, CONDUCTED, 1, None])
    values *= t.active[:, CONDUCTED, None]
    vcg = np.einsum("nsl,nsk->nkl", values, t.vector[:, CONDUCTED])
    leads = np.einsum("ck,nkl->ncl", LEAD_FIELD, vcg)
    valid = time[None, :] <= qrs[:, None] + 1e-9
    return leads, valid


def st_deviation(t: Templates) -> np.ndarray:
    """ST-segment deviation at the J point per lead, float[n, 12] mV (the ST force's plateau)."""
    return np.einsum("ck,nk->nc", LEAD_FIELD, t.vector[:, S["ST"]] * t.active[:, S["ST"], None])
