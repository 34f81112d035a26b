"""The harness's one lead order, lead-name matching and the limb-lead identities."""

from __future__ import annotations

import numpy as np

#: Every 12-lead array in ecgbench is in this order (PhysioNet / PTB-XL order), in mV.
LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
LEAD_INDEX: dict[str, int] = {name: i for i, name in enumerate(LEADS)}

# Spellings seen in WFDB headers (case-insensitive): "MLII" is a modified lead II,
# "D3"/"D4" in the European ST-T database are bipolar chest leads with no standard equivalent.
_ALIASES = {
    "i": "I", "ii": "II", "iii": "III", "avr": "aVR", "avl": "aVL", "avf": "aVF",
    "mli": "I", "mlii": "II", "mliii": "III", "di": "I", "dii": "II", "diii": "III",
    "lead i": "I", "lead ii": "II", "lead iii": "III",
    **{f"v{k}": f"V{k}" for k in range(1, 7)},
    **{f"mv{k}": f"V{k}" for k in range(1, 7)},
}


def canonical_lead(name: str) -> str | None:
    """The standard lead a header's signal name stands for, or None when it has none."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    return _ALIASES.get(key)


def derive_limb_leads(lead_i: np.ndarray, lead_avf: np.ndarray) -> dict[str, np.ndarray]:
    """Leads II, III, aVR and aVL from I and aVF (Einthoven's and Goldberger's identities).

    Used by generators that model 8 independent leads (I, aVF, V1–V6), as SSSD-ECG does:
    II = I/2 + aVF, III = aVF − I/2, aVR = −3/4·I − aVF/2, aVL = 3/4·I − aVF/2.
    """
    return {
        "II": 0.5 * lead_i + lead_avf,
        "III": lead_avf - 0.5 * lead_i,
        "aVR": -0.75 * lead_i - 0.5 * lead_avf,
        "aVL": 0.75 * lead_i - 0.5 * lead_avf,
    }


#: The 8 independent leads SSSD-ECG models, as indices into LEADS.
INDEPENDENT_LEADS: tuple[str, ...] = ("I", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def twelve_from_independent(x8: np.ndarray) -> np.ndarray:
    """float[..., 8, T] in INDEPENDENT_LEADS order -> float[..., 12, T] in LEADS order."""
    lead_i, lead_avf = x8[..., 0, :], x8[..., 1, :]
    limb = derive_limb_leads(lead_i, lead_avf)
    rows = {"I": lead_i, "aVF": lead_avf, **limb}
    rows.update({f"V{k}": x8[..., 1 + k, :] for k in range(1, 7)})
    return np.stack([rows[name] for name in LEADS], axis=-2)


def independent_from_twelve(x12: np.ndarray) -> np.ndarray:
    """float[..., 12, T] in LEADS order -> float[..., 8, T] in INDEPENDENT_LEADS order."""
    return x12[..., [LEAD_INDEX[name] for name in INDEPENDENT_LEADS], :]


#: Fallback order for single-lead measurers when the configured lead is missing: limb leads
#: with upright P and T first (II, I, aVF, III), then the lateral and mid precordial leads, and
#: last the leads where P and T are often small or inverted (V1, aVL, aVR).
LEAD_PREFERENCE: tuple[str, ...] = ("II", "I", "aVF", "III", "V5", "V6", "V4", "V3", "V2", "V1", "aVL", "aVR")


def standard_lead(name: str) -> str:
    """The standard name of ``name`` (``"ii"``, ``"MLII"`` -> ``"II"``); ValueError when none."""
    standard = canonical_lead(name)
    if standard is None:
        raise ValueError(f"{name!r} is not a lead of the 12-lead ECG; use one of {', '.join(LEADS)}")
    return standard


def usable_leads(signals: np.ndarray) -> np.ndarray:
    """bool[n, 12]: leads whose every sample is finite (a missing lead is all-NaN).

    signals: float[n, 12, T] in mV.
    """
    return np.isfinite(signals).all(axis=-1)


def choose_leads(signals: np.ndarray, lead: str) -> np.ndarray:
    """int64[n]: per record, the index of ``lead`` when usable, else of the first usable lead in
    :data:`LEAD_PREFERENCE` (``lead`` itself moved to the front); -1 when no lead is usable.

    signals: float[n, 12, T] in mV.
    """
    usable = usable_leads(signals)
    order = [LEAD_INDEX[lead]] + [LEAD_INDEX[name] for name in LEAD_PREFERENCE if name != lead]
    ranked = usable[:, order]
    chosen = np.asarray(order, dtype=np.int64)[np.argmax(ranked, axis=1)]
    return np.where(ranked.any(axis=1), chosen, -1)
