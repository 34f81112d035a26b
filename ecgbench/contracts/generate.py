"""Contract of the ``generate`` task: synthetic 12-lead ECGs, optionally label-conditioned.

A generator is fitted on the training split and asked for one record per label vector; the
harness draws those label vectors from the training split. Output: ``float32[n, 12, T]`` in
mV, leads in the harness order I, II, III, aVR, aVL, aVF, V1–V6, at the training data's
sampling rate and length.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ecgbench.contracts.checks import check_array, require
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.leads import LEAD_INDEX

#: Amplitudes beyond this (mV) are not ECG: a unit error (µV, ADC counts) or divergence.
MAX_ABS_MV = 20.0
#: Relative RMS residual of Einthoven's and Goldberger's identities allowed over a batch.
LIMB_IDENTITY_TOLERANCE = 0.3


@runtime_checkable
class Generator(Protocol):
    """What a ``generate`` model implements (scikit-learn style: ``fit`` returns self)."""

    #: network function evaluations per generated record in the last ``sample`` call (0 when
    #: the generator has no network).
    nfe: int

    def fit(self, train: ECGDataset) -> Generator: ...

    def sample(
        self, n: int, labels: np.ndarray | None = None, steps: int | None = None, seed: int = 0
    ) -> np.ndarray:
        """``float32[n, 12, T]`` in mV; ``labels`` is ``uint8[n, 71]`` (one condition per
        record) or None; ``steps`` overrides the configured number of sampling steps."""
        ...


def limb_identity_residual(x: np.ndarray) -> float:
    """RMS of (III − (II − I)) and (aVR + aVL + aVF) relative to the RMS of lead II."""
    i, ii, iii = (x[:, LEAD_INDEX[k]] for k in ("I", "II", "III"))
    avr, avl, avf = (x[:, LEAD_INDEX[k]] for k in ("aVR", "aVL", "aVF"))
    residual = np.concatenate([(iii - (ii - i)).ravel(), (avr + avl + avf).ravel()])
    scale = float(np.sqrt(np.mean(ii.astype(np.float64) ** 2))) + 1e-6
    return float(np.sqrt(np.mean(residual.astype(np.float64) ** 2)) / scale)


def check_samples(x: object, *, n: int, n_samples: int, model: str) -> np.ndarray:
    """Validate a generator's output against every clause of the contract."""
    x = check_array(x, model=model, what="sample() output", shape=(n, 12, n_samples), dtype=np.float32)
    peak = float(np.abs(x).max()) if x.size else 0.0
    require(peak <= MAX_ABS_MV, model, f"amplitudes are in mV (|x| <= {MAX_ABS_MV})", f"max |x| = {peak:.3g}")
    residual = limb_identity_residual(x)
    require(
        residual <= LIMB_IDENTITY_TOLERANCE,
        model,
        "leads are in the order I, II, III, aVR, aVL, aVF, V1-V6",
        f"III != II - I or aVR + aVL + aVF != 0 (relative residual {residual:.2f}); "
        "a different lead order or independently generated limb leads",
    )
    return x


def check_nfe(value: object, *, model: str) -> int:
    """nfe is a non-negative integer."""
    require(
        isinstance(value, int | np.integer) and int(value) >= 0,
        model,
        "nfe is a non-negative int",
        f"got {value!r}",
    )
    return int(value)
