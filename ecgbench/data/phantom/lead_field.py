"""From the heart vector to the 12 leads: Dower's lead matrix and the limb-lead identities.

The heart is one time-varying dipole h(t) in Frank's orthogonal coordinates: X to the
patient's left, Y inferior (toward the feet), Z posterior (toward the back). Dower's matrix
(Dower et al., Clin. Cardiol. 3:87, 1980) projects it onto leads I, II and V1–V6; III, aVR,
aVL and aVF follow from I and II by Einthoven's and Goldberger's identities, so those hold
exactly in every phantom record, noise included (noise is added per electrode, see
:func:`leads_from_vcg`).

Wave forces are specified in clinical terms (:func:`force`): the frontal-plane angle on the
hexaxial reference system (0° = lead I, +90° = aVF), the deflection that force writes in the
limb lead parallel to it (mV) and a posterior component. The frontal part is solved through
Dower's I and aVF rows, so a force at angle θ gives limb-lead deflections in exactly the
hexaxial ratios (I = m·cos θ, aVF = m·(√3/2)·sin θ) and a QRS made of one force has a measured
axis of exactly θ.
"""

from __future__ import annotations

import numpy as np

#: Dower's VCG -> ECG matrix, rows I, II, V1..V6, columns X (left), Y (inferior), Z (posterior).
DOWER = np.array(
    [
        [0.632, -0.235, 0.059],  # I
        [0.235, 1.066, -0.132],  # II
        [-0.515, 0.157, -0.917],  # V1
        [0.044, 0.164, -1.387],  # V2
        [0.882, 0.098, -1.277],  # V3
        [1.213, 0.127, -0.601],  # V4
        [1.125, 0.127, -0.086],  # V5
        [0.831, 0.076, 0.230],  # V6
    ]
)

#: Rows of the full 12 x 3 lead-field matrix in the harness order I, II, III, aVR, aVL, aVF, V1-V6.
LEAD_FIELD = np.vstack(
    [
        DOWER[0],
        DOWER[1],
        DOWER[1] - DOWER[0],
        -(DOWER[0] + DOWER[1]) / 2,
        DOWER[0] - DOWER[1] / 2,
        DOWER[1] - DOWER[0] / 2,
        DOWER[2:],
    ]
)

_AVF = DOWER[1] - DOWER[0] / 2
# Frontal-plane solve: [I, aVF] = F @ [X, Y] + Z * [I_z, aVF_z].
_FRONTAL = np.array([[DOWER[0, 0], DOWER[0, 1]], [_AVF[0], _AVF[1]]])
_FRONTAL_INV = np.linalg.inv(_FRONTAL)
_FRONTAL_Z = np.array([DOWER[0, 2], _AVF[2]])


def force(theta_deg: np.ndarray, magnitude: np.ndarray, posterior: np.ndarray) -> np.ndarray:
    """Frank-XYZ vectors float64[..., 3] of forces given in hexaxial terms.

    theta_deg   frontal angle on the hexaxial system (0 = lead I, 90 = aVF, -90 = superior).
    magnitude   deflection (mV) the force writes in the limb lead parallel to it.
    posterior   Frank Z component (mV); negative = anterior (writes upright in V1–V2).
    """
    theta = np.deg2rad(np.asarray(theta_deg, dtype=np.float64))
    m = np.asarray(magnitude, dtype=np.float64)
    z = np.asarray(posterior, dtype=np.float64)
    target_i = m * np.cos(theta)
    target_avf = m * np.sqrt(3.0) / 2.0 * np.sin(theta)
    rhs = np.stack([target_i - z * _FRONTAL_Z[0], target_avf - z * _FRONTAL_Z[1]], axis=-1)
    xy = rhs @ _FRONTAL_INV.T
    return np.concatenate([xy, z[..., None]], axis=-1)


def leads_from_vcg(vcg: np.ndarray, electrode_noise: np.ndarray | None = None) -> np.ndarray:
    """float32[n, 12, T] leads (mV) from float64[n, 3, T] heart vectors.

    ``electrode_noise`` float[n, 9, T] holds what each electrode picks up besides the heart
    (RA, LA, LL, C1..C6, mV). Leads are differences of electrode potentials: I = LA − RA,
    II = LL − RA, Vk = Ck − (RA + LA + LL)/3; the augmented leads and III are then derived
    from I and II, so the limb-lead identities hold for the noise as well.
    """
    eight = np.einsum("lk,nkt->nlt", DOWER, vcg)
    if electrode_noise is not None:
        ra, la, ll = electrode_noise[:, 0], electrode_noise[:, 1], electrode_noise[:, 2]
        eight[:, 0] += la - ra
        eight[:, 1] += ll - ra
        eight[:, 2:] += electrode_noise[:, 3:] - ((ra + la + ll) / 3.0)[:, None, :]
    lead_i, lead_ii = eight[:, 0], eight[:, 1]
    out = np.empty((vcg.shape[0], 12, vcg.shape[-1]), dtype=np.float32)
    out[:, 0] = lead_i
    out[:, 1] = lead_ii
    out[:, 2] = lead_ii - lead_i
    out[:, 3] = -(lead_i + lead_ii) / 2.0
    out[:, 4] = lead_i - lead_ii / 2.0
    out[:, 5] = lead_ii - lead_i / 2.0
    out[:, 6:] = eight[:, 2:]
    return out
