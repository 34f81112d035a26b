"""Flat leads: a lead that spans only a few ADC steps holds no ECG (an electrode off, a channel
written as zeros) and is treated as missing, never scored as a signal.

A lead is flat when its peak-to-peak amplitude is at most :data:`FLAT_ADC_STEPS` steps of the
recording's ADC (1/gain of the header, in mV). Chosen on the development samples: over every
10-s window of every lead of ptbxl-sample (100 and 500 Hz), cinc2021-sample, qtdb-sample,
qtdb-dev and physionet-wfdb-samples (12 411 lead windows), the only windows at or below 10 steps
are 6 leads that are exactly zero (V2, V4 and V6 of the Ningbo records JS20004 and JS20008), and
the smallest span of any other lead is 53 steps (a QT Database channel at 200 steps/mV); no PTB-XL
lead spans fewer than 205 steps. The bound sits a factor five below every real lead seen and
still catches a lead that holds nothing but quantisation noise.
"""

from __future__ import annotations

import numpy as np

FLAT_ADC_STEPS = 10


def flat_leads(signals: np.ndarray, adc_step_mv: np.ndarray | float) -> np.ndarray:
    """bool[n_leads] of ``signals`` ``float[n_leads, T]`` (mV): flat leads; all-NaN leads are
    missing, not flat. ``adc_step_mv`` is one ADC step per lead (or one for all), in mV."""
    signals = np.asarray(signals, dtype=np.float64)
    present = ~np.isnan(signals).all(axis=-1)
    span = np.zeros(len(signals))
    if present.any():
        span[present] = np.nanmax(signals[present], axis=-1) - np.nanmin(signals[present], axis=-1)
    bound = FLAT_ADC_STEPS * np.broadcast_to(np.asarray(adc_step_mv, dtype=np.float64), span.shape)
    # a step's float32 rounding must not decide: allow a part in a million
    return present & (span <= bound * (1 + 1e-6))
