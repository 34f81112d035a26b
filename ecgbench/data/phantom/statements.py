"""SCP statements of each phantom record, derived from its parameters and exact ground truth.

Rules (intervals in ms from :mod:`ecgbench.data.phantom.truth`, voltages from the clean resting
beat, :mod:`ecgbench.data.phantom.measure`). One rhythm statement per record, as in PTB-XL:

- AFIB    atrial fibrillation (no P waves, irregular RR, f-waves)
- STACH   sinus rhythm, HR > 100 bpm;  SBRAD  sinus rhythm, HR < 60 bpm
- SARRH   sinus rhythm at 60–100 bpm whose conducted RR intervals span more than 120 ms
- SR      any other sinus rhythm
Diagnostic and form statements:
- 1AVB    sinus rhythm and PR > 200 ms
- LNGQT   QTc (Bazett) > 450 ms (men) / 460 ms (women) and QRS < 120 ms
- CLBBB   left bundle branch block (QRS >= 120 ms by construction)
- CRBBB / IRBBB   right bundle branch block with QRS >= 120 ms / 100–119 ms
- LAFB    frontal QRS axis < −45° with QRS < 120 ms, no LBBB and no inferior infarct
- LVH     Sokolow–Lyon S(V1) + max R(V5, V6) > 3.5 mV or Cornell R(aVL) + S(V3) > 2.8 mV (men) /
          2.0 mV (women), not in LBBB
- IMI, ASMI, AMI   the infarct site (Q waves and ST-T changes over that wall)
- STE_ / STD_      a non-specific ST elevation / depression force
- PVC     at least one premature ventricular complex inside the record
- NORM    none of the statements above except SR and SARRH
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecgbench.data.labels import N_LABELS, SCP_INDEX
from ecgbench.data.phantom.cohort import Cohort
from ecgbench.data.phantom.measure import QRSMeasures

#: The SCP statements the phantom can carry (the other 71 − 19 columns are always zero).
EXPRESSED_CODES: tuple[str, ...] = (
    "1AVB", "AFIB", "AMI", "ASMI", "CLBBB", "CRBBB", "IMI", "IRBBB", "LAFB", "LNGQT",
    "LVH", "NORM", "PVC", "SARRH", "SBRAD", "SR", "STACH", "STD_", "STE_",
)
_NORMAL_COMPATIBLE = ("NORM", "SR", "SARRH")

QTC_LIMIT_MS = {"M": 450.0, "F": 460.0}
CORNELL_LIMIT_MV = {"M": 2.8, "F": 2.0}
SOKOLOW_LIMIT_MV = 3.5
SARRH_RANGE_MS = 120.0


def derive_statements(
    c: Cohort, intervals: pd.DataFrame, rr_range: np.ndarray, m: QRSMeasures, has_pvc: np.ndarray
) -> dict[str, np.ndarray]:
    """bool[n] per expressed code."""
    sinus = ~c.af
    hr = intervals["hr"].to_numpy()
    qrs = intervals["qrs"].to_numpy()
    male = c.sex == "M"
    s: dict[str, np.ndarray] = {}
    s["AFIB"] = c.af.copy()
    s["STACH"] = sinus & (hr > 100.0)
    s["SBRAD"] = sinus & (hr < 60.0)
    s["SARRH"] = sinus & ~s["STACH"] & ~s["SBRAD"] & (rr_range > SARRH_RANGE_MS)
    s["SR"] = sinus & ~s["STACH"] & ~s["SBRAD"] & ~s["SARRH"]
    s["1AVB"] = sinus & (intervals["pr"].to_numpy() > 200.0)
    qtc_limit = np.where(male, QTC_LIMIT_MS["M"], QTC_LIMIT_MS["F"])
    s["LNGQT"] = (intervals["qtc_bazett"].to_numpy() > qtc_limit) & (qrs < 120.0)
    lbbb, rbbb = c.conduction == 1, c.conduction == 2
    s["CLBBB"] = lbbb
    s["CRBBB"] = rbbb & (qrs >= 120.0)
    s["IRBBB"] = rbbb & (qrs < 120.0)
    s["LAFB"] = (m.axis < -45.0) & (qrs < 120.0) & ~lbbb & (c.mi != 1)
    cornell_limit = np.where(male, CORNELL_LIMIT_MV["M"], CORNELL_LIMIT_MV["F"])
    s["LVH"] = ((m.sokolow > SOKOLOW_LIMIT_MV) | (m.cornell > cornell_limit)) & ~lbbb
    s["IMI"], s["ASMI"], s["AMI"] = c.mi == 1, c.mi == 2, c.mi == 3
    s["STE_"], s["STD_"] = c.st == 1, c.st == 2
    s["PVC"] = has_pvc.copy()
    abnormal = np.zeros(len(c), dtype=bool)
    for code, value in s.items():
        if code not in _NORMAL_COMPATIBLE:
            abnormal |= value
    s["NORM"] = ~abnormal
    return s


def label_matrix(statements: dict[str, np.ndarray]) -> np.ndarray:
    """uint8[n, 71] in SCP_CODES order."""
    n = len(next(iter(statements.values())))
    y = np.zeros((n, N_LABELS), dtype=np.uint8)
    for code, value in statements.items():
        y[:, SCP_INDEX[code]] = value
    return y
