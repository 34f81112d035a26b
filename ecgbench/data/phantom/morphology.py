"""Beat templates: the waves of one conducted beat and of one PVC, per record.

A template is a fixed set of wave slots (see :data:`SLOTS`). Each slot has four knots
(:mod:`ecgbench.data.phantom.waves`) given in seconds from the QRS onset as
``base + jt_factor * JT``, where JT = QT − QRS of the beat: depolarisation knots do not move
with the rate, repolarisation knots (ST, T, U) stretch with the beat's JT. Forces are built
with :func:`ecgbench.data.phantom.lead_field.force` from hexaxial angles.

The QRS of a conducted beat is a sequence of overlapping forces that turns like a real QRS
loop: an initial septal force (rightward, anterior), the main left-ventricular force
(leftward, inferior, posterior) and terminal basal forces (rightward, superior, posterior).
Findings change those forces:

- LBBB: no septal force; broad leftward-posterior forces in two notched humps; ST and T
  opposite to the QRS (discordant).
- RBBB: a late slow rightward-anterior force after the normal LV forces (rSR' in V1, wide S
  in I and V6); T inverted in V1–V2.
- LAFB: initial force inferior-rightward, main force superior-leftward (left axis).
- LVH: larger and more posterior main force (tall R in V5–V6, deep S in V1–V2).
- Infarcts: the initial 40–60 ms force points away from the dead wall (inferior: superior;
  anteroseptal: posterior; anterior: posterior-rightward), which writes Q waves in the leads
  facing that wall, plus inverted T waves and, in some, residual ST elevation there.
- Non-specific ST elevation or depression: an ST-segment force toward (away from) one
  territory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecgbench.data.phantom.cohort import Cohort
from ecgbench.data.phantom.lead_field import force

SLOTS: tuple[str, ...] = (
    "P1", "P2", "QRS_INIT", "QRS_LEFT", "QRS_POST", "QRS_LATE", "QRS_TERM", "ST", "T", "U",
    "PVC_A", "PVC_B", "PVC_ST", "PVC_T",
)
S = {name: i for i, name in enumerate(SLOTS)}
ATRIAL = np.array([S["P1"], S["P2"]])
CONDUCTED_QRS = np.array([S[k] for k in ("QRS_INIT", "QRS_LEFT", "QRS_POST", "QRS_LATE", "QRS_TERM")])
CONDUCTED = np.concatenate([CONDUCTED_QRS, [S["ST"], S["T"], S["U"]]])
ECTOPIC = np.array([S[k] for k in ("PVC_A", "PVC_B", "PVC_ST", "PVC_T")])
ECTOPIC_QRS = np.array([S["PVC_A"], S["PVC_B"]])


@dataclass(frozen=True)
class Templates:
    """Per record and slot (n records, s slots):

    base, jt_factor  float[n, s, 4]  knots a, b, c, e: base + jt_factor * JT, seconds from QRS onset
    power            float[n, s, 2]  rise and fall exponents
    vector           float[n, s, 3]  Frank XYZ force (mV)
    active           bool[n, s]
    pvc_qrs, pvc_jt  float[n]        QRS duration and JT of the PVCs (fixed, s)
    """

    base: np.ndarray
    jt_factor: np.ndarray
    power: np.ndarray
    vector: np.ndarray
    active: np.ndarray
    pvc_qrs: np.ndarray
    pvc_jt: np.ndarray

    def take(self, index: np.ndarray | slice) -> Templates:
        return Templates(**{k: getattr(self, k)[index] for k in self.__dataclass_fields__})


def _stack_knots(*knots: np.ndarray) -> np.ndarray:
    return np.stack(np.broadcast_arrays(*knots), axis=-1)


def build_templates(c: Cohort, rng: np.random.Generator) -> Templates:
    """The conducted-beat and PVC templates of every record in the cohort."""
    n = len(c)
    u = lambda lo, hi: rng.uniform(lo, hi, n)  # noqa: E731 - one draw per record
    base = np.zeros((n, len(SLOTS), 4))
    jt = np.zeros((n, len(SLOTS), 4))
    power = np.ones((n, len(SLOTS), 2))
    vector = np.zeros((n, len(SLOTS), 3))
    active = np.zeros((n, len(SLOTS)), dtype=bool)

    def put(rows: np.ndarray, slot: str, knots: np.ndarray, vec: np.ndarray, pw=(1.3, 1.3), jtf=(0, 0, 0, 0)):
        k = S[slot]
        base[rows, k] = knots[rows]
        jt[rows, k] = np.broadcast_to(np.asarray(jtf, dtype=np.float64), (n, 4))[rows]
        power[rows, k] = np.asarray(pw, dtype=np.float64)
        vector[rows, k] = vec[rows]
        active[rows, k] = True

    everyone = np.ones(n, dtype=bool)
    g = c.qrs_gain
    q = c.qrs
    lbbb, rbbb, lafb = c.conduction == 1, c.conduction == 2, c.conduction == 3
    imi, asmi, ami = c.mi == 1, c.mi == 2, c.mi == 3
    lvh = c.lvh_gain

    # --- P wave: right atrium (inferior, anterior) then left atrium (leftward, posterior).
    sinus = ~c.af
    pd, pr = np.nan_to_num(c.p_dur), np.nan_to_num(c.pr)
    p_amp = u(0.7, 1.3)
    put(sinus, "P1", _stack_knots(-pr, -pr + 0.33 * pd, -pr + 0.33 * pd, -pr + 0.62 * pd),
        force(u(65, 85), 0.085 * p_amp, -u(0.02, 0.06)), pw=(1.2, 1.5))
    put(sinus, "P2", _stack_knots(-pr + 0.30 * pd, -pr + 0.62 * pd, -pr + 0.62 * pd, -pr + pd),
        force(u(40, 65), 0.075 * p_amp, u(0.05, 0.1)), pw=(1.5, 1.3))

    # --- Normal QRS loop (also the left-ventricular part of RBBB, LAFB and infarcts):
    # septal (right-anterior), free wall (left-inferior), posterobasal, terminal (right-superior).
    main_theta = c.axis
    left_mag = g * lvh * np.where(lafb, u(1.2, 1.8), u(0.8, 1.05))
    post_mag, post_z = g * lvh * u(0.2, 0.4), g * lvh**1.3 * u(0.45, 0.75)
    normal_q = np.where(rbbb, u(0.080, 0.090), q)  # RBBB: the left ventricle is done by ~85 ms
    septal = force(main_theta + 180 + rng.normal(0, 25, n), g * u(0.08, 0.2), -g * u(0.2, 0.42))
    put(everyone, "QRS_INIT", _stack_knots(0.0, 0.13 * normal_q, 0.13 * normal_q, 0.32 * normal_q), septal)
    put(everyone, "QRS_LEFT", _stack_knots(0.08 * normal_q, 0.40 * normal_q, 0.40 * normal_q, 0.70 * normal_q),
        force(main_theta, left_mag, g * u(-0.05, 0.25)))
    put(everyone, "QRS_POST", _stack_knots(0.30 * normal_q, 0.60 * normal_q, 0.60 * normal_q, 0.88 * normal_q),
        force(main_theta - u(0, 25), post_mag, post_z))
    put(~rbbb, "QRS_TERM", _stack_knots(0.55 * q, 0.8 * q, 0.8 * q, q),
        force(u(-150, -100), g * u(0.12, 0.3), g * u(0.1, 0.35)))

    # LAFB: the initial force turns inferior-rightward (q in I/aVL, r in II/III/aVF).
    put(lafb, "QRS_INIT", _stack_knots(0.0, 0.15 * q, 0.15 * q, 0.35 * q),
        force(u(100, 140), g * u(0.15, 0.3), -g * u(0.15, 0.35)))
    put(lafb, "QRS_TERM", _stack_knots(0.55 * q, 0.8 * q, 0.8 * q, q),
        force(u(-110, -80), g * u(0.1, 0.25), g * u(0.0, 0.2)))

    # RBBB: late, slow right-ventricular force, rightward and anterior.
    rv_start = 0.55 * normal_q
    rv_peak = q - u(0.4, 0.5) * (q - rv_start)
    put(rbbb, "QRS_LATE", _stack_knots(rv_start, rv_peak, rv_peak, q),
        force(u(160, 210), g * u(0.2, 0.4), -g * u(0.45, 0.85)), pw=(1.6, 1.3))

    # LBBB: septum activated from the left, broad notched leftward-posterior forces.
    put(lbbb, "QRS_INIT", _stack_knots(0.0, 0.22 * q, 0.22 * q, 0.48 * q),
        force(main_theta + u(-10, 20), g * u(0.25, 0.5), g * u(0.4, 0.7)))
    put(lbbb, "QRS_LEFT", _stack_knots(0.15 * q, 0.42 * q, 0.42 * q, 0.68 * q),
        force(main_theta, g * u(0.7, 1.1), g * u(1.3, 2.0)))
    put(lbbb, "QRS_LATE", _stack_knots(0.45 * q, 0.74 * q, 0.74 * q, q),
        force(main_theta + u(-25, 10), g * u(0.6, 1.0), g * u(1.1, 1.7)))
    active[lbbb, S["QRS_POST"]] = False
    active[lbbb, S["QRS_TERM"]] = False

    # Infarcts: for 40-65 ms the initial force points away from the scar, writing Q waves. A
    # lead sees its Q for up to ~18 ms less than the force lasts where the force projects obliquely
    # (V3-V5 for AMI, III/aVF for IMI), so those sites start at 50 ms to keep Q >= 30 ms there
    # with a margin (measured minimum 32 ms at 500 Hz over 1,600 records of seeds 4-7).
    q_dur = np.where(imi | ami, u(0.05, 0.065), u(0.04, 0.055))
    initial = _stack_knots(0.0, 0.4 * q_dur, 0.4 * q_dur, q_dur)
    put(imi, "QRS_INIT", initial, force(u(-100, -70), g * u(0.4, 0.7), -g * u(0.1, 0.3)), pw=(1.2, 1.4))
    put(asmi, "QRS_INIT", initial, force(main_theta, g * u(0.1, 0.25), g * u(0.35, 0.6)), pw=(1.2, 1.4))
    put(ami, "QRS_INIT", initial, force(u(160, 200), g * u(0.2, 0.4), g * u(0.0, 0.15)), pw=(1.2, 1.4))
    mi_any = imi | asmi | ami
    mi_theta = np.where(imi, np.clip(main_theta, -20, 45), main_theta)
    mi_left_z = np.where(asmi, g * u(0.2, 0.45), g * u(-0.05, 0.25))
    delayed_left = _stack_knots(0.55 * q_dur, 0.5 * normal_q, 0.5 * normal_q, 0.75 * normal_q)
    put(mi_any, "QRS_LEFT", delayed_left, force(mi_theta, left_mag, mi_left_z))

    # --- Repolarisation: ST force plateau from the J point, T wave, optional U wave.
    st_knots = _stack_knots(0.6 * q, q, q, q)
    st_jt = (0.0, 0.0, 0.22, 0.75)
    st_vec = np.zeros((n, 3))
    st_on = np.zeros(n, dtype=bool)
    # Non-specific ST elevation: toward one of three territories.
    ste = c.st == 1
    territory = rng.integers(0, 3, n)
    ste_vec = np.where(
        (territory == 0)[:, None], force(u(65, 95), u(0.16, 0.3), u(-0.03, 0.03)),
        np.where((territory == 1)[:, None], force(u(0, 50), u(0.03, 0.1), -u(0.1, 0.22)),
                 force(u(-15, 20), u(0.17, 0.3), -u(0.0, 0.08))),
    )
    st_vec = np.where(ste[:, None], ste_vec, st_vec)
    # Non-specific ST depression: away from the lateral and inferior walls.
    std = c.st == 2
    st_vec = np.where(std[:, None], force(u(-165, -125), u(0.14, 0.28), u(-0.06, 0.06)), st_vec)
    st_on |= ste | std
    # Residual ST elevation over an infarct in some.
    mi_ste = mi_any & (rng.random(n) < 0.4)
    mi_st_vec = np.where(imi[:, None], force(u(80, 100), u(0.05, 0.12), 0 * q),
                         force(u(20, 60), u(0.02, 0.05), -u(0.04, 0.1)))
    st_vec = np.where(mi_ste[:, None], mi_st_vec, st_vec)
    st_on |= mi_ste

    t_mag = g * u(0.25, 0.5)
    # The T axis follows the QRS axis in normal hearts, but stays inferior-leftward in LAFB.
    t_theta = np.where(lafb, rng.normal(40, 15, n), main_theta + rng.normal(0, 14, n))
    t_vec = force(t_theta, t_mag, -g * u(0.05, 0.3))
    # LBBB: ST and T discordant to the QRS.
    lb_st = force(main_theta + 180 + u(-15, 15), g * u(0.1, 0.2), -g * u(0.12, 0.25))
    st_vec = np.where(lbbb[:, None], lb_st, st_vec)
    st_on |= lbbb
    t_vec = np.where(lbbb[:, None], force(main_theta + 180 + u(-20, 20), g * u(0.3, 0.55), -g * u(0.2, 0.45)), t_vec)
    # RBBB: T away from the terminal anterior forces (inverted in V1-V2).
    t_vec = np.where(rbbb[:, None], force(t_theta, t_mag, g * u(0.1, 0.3)), t_vec)
    # Infarcts: T inverted over the scar in most.
    t_inv = mi_any & (rng.random(n) < 0.75)
    t_mi = np.where(
        imi[:, None], force(u(-50, -15), t_mag * u(0.6, 1.0), -g * u(0.0, 0.2)),
        np.where(asmi[:, None], force(main_theta, t_mag, g * u(0.12, 0.3)),
                 force(u(90, 130), t_mag * u(0.6, 1.0), g * u(0.2, 0.4))),
    )
    t_vec = np.where(t_inv[:, None], t_mi, t_vec)
    if st_on.any():
        put(st_on, "ST", st_knots, st_vec, pw=(1.5, 1.6), jtf=st_jt)
    t_peak = u(0.58, 0.68)
    put(everyone, "T", _stack_knots(q, q, q, q), t_vec, pw=(2.0, 1.35), jtf=_stack_knots(0.06, t_peak, t_peak, 1.0))
    u_gap, u_peak, u_end = u(0.01, 0.04), u(0.06, 0.08), u(0.15, 0.19)
    put(c.u_wave, "U", _stack_knots(q + u_gap, q + u_gap + u_peak, q + u_gap + u_peak, q + u_gap + u_end),
        force(main_theta, g * u(0.025, 0.05), -g * u(0.04, 0.1)), pw=(1.5, 1.5), jtf=(1.0, 1.0, 1.0, 1.0))

    # --- PVC: wide bizarre QRS from an ectopic focus, discordant ST-T, fixed JT.
    qv = u(0.13, 0.18)
    theta_a = u(-180, 180)
    vec_a = force(theta_a, g * u(1.0, 1.7), g * u(-1.0, 1.0))
    vec_b = force(theta_a + np.where(rng.random(n) < 0.5, -1, 1) * u(20, 70), g * u(0.5, 1.0), g * u(-0.6, 0.6))
    pvc_peak = u(0.3, 0.42) * qv
    put(everyone, "PVC_A", _stack_knots(0.0, pvc_peak, pvc_peak, 0.72 * qv), vec_a)
    put(everyone, "PVC_B", _stack_knots(0.3 * qv, 0.66 * qv, 0.66 * qv, qv), vec_b)
    mean_qrs = vec_a + 0.6 * vec_b
    unit = mean_qrs / np.linalg.norm(mean_qrs, axis=1, keepdims=True)
    pvc_jt = u(0.22, 0.28)
    put(everyone, "PVC_ST", _stack_knots(0.6 * qv, qv, qv + 0.2 * pvc_jt, qv + 0.7 * pvc_jt),
        -unit * (g * u(0.08, 0.16))[:, None], pw=(1.5, 1.6))
    put(everyone, "PVC_T", _stack_knots(qv + 0.04, qv + 0.55 * pvc_jt, qv + 0.55 * pvc_jt, qv + pvc_jt),
        -unit * (g * u(0.35, 0.7))[:, None], pw=(1.8, 1.4))

    return Templates(
        base=base, jt_factor=jt, power=power, vector=vector, active=active, pvc_qrs=qv, pvc_jt=pvc_jt
    )
