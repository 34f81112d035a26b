"""MoRE's ECG input: 100 Hz, baseline wander removed, each lead scaled to [-1, 1]; and its two
training augmentations.

As published (``utils/create_dataset.py``): missing samples set to 0; resampled to 100 Hz;
baseline = a 0.2 s median filter followed by a 0.6 s one, subtracted; then per lead
``2 (x - min) / (max - min + 1e-10) - 1``. During pre-training each record gets one of a time
warp, a segment permutation or nothing, uniformly at random (``utils/ecg_augmentations.py``).
"""

from __future__ import annotations

import numpy as np

from ecgbench.data.resample import resample

#: The rate MoRE's ECG encoder reads.
MODEL_FS = 100.0
#: Median-filter windows of the baseline estimate, seconds.
BASELINE_WINDOWS_S = (0.2, 0.6)
#: Segments per lead of both augmentations, and the time-warp factor (published: 4 and 0.25).
SEGMENTS, WARP = 4, 0.25


def remove_baseline(x: np.ndarray, fs: float) -> np.ndarray:
    """``float32[..., T]`` minus its baseline: two median filters in a row (0.2 s, then 0.6 s),
    zero beyond the record's ends, as ``scipy.signal.medfilt`` filters one lead."""
    from scipy.signal import medfilt2d

    x = np.asarray(x, dtype=np.float32)
    rows = x.reshape(-1, x.shape[-1]).astype(np.float64)
    baseline = rows
    for seconds in BASELINE_WINDOWS_S:
        width = int(np.round(seconds * fs)) + 1
        baseline = medfilt2d(baseline, (1, width))
    return (rows - baseline).astype(np.float32).reshape(x.shape)


def scale_leads(x: np.ndarray) -> np.ndarray:
    """Each lead of ``float32[..., T]`` mapped linearly onto [-1, 1] (a flat lead becomes -1)."""
    low, high = x.min(axis=-1, keepdims=True), x.max(axis=-1, keepdims=True)
    return (2.0 * (x - low) / (high - low + 1e-10) - 1.0).astype(np.float32)


def preprocess(x: np.ndarray, fs: float) -> np.ndarray:
    """``float32[n, 12, T]`` in mV at ``fs`` Hz -> ``float32[n, 12, T * 100 / fs]`` as MoRE reads it."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float32), nan=0.0)
    if fs != MODEL_FS:
        x = resample(x, fs, MODEL_FS)
    return scale_leads(remove_baseline(x, MODEL_FS))


def time_warp(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``float32[12, T]``: in each lead, half of the four segments (chosen per lead) stretched by
    25 % and the others shrunk by 25 % (linear interpolation); the last segment takes up the
    rounding so the length stays T."""
    n_leads, t = x.shape
    seg = t // SEGMENTS
    stretch = int(seg * WARP)
    out = np.empty_like(x)
    for lead in range(n_leads):
        longer = set(rng.choice(SEGMENTS, SEGMENTS // 2, replace=False).tolist())
        pieces = []
        for i in range(SEGMENTS):
            target = seg + stretch if i in longer else seg - stretch
            if i == SEGMENTS - 1:
                target = t - sum(len(p) for p in pieces)
            source = x[lead, i * seg: (i + 1) * seg]
            pieces.append(np.interp(np.linspace(0.0, 1.0, target), np.linspace(0.0, 1.0, len(source)), source))
        out[lead] = np.concatenate(pieces)
    return out


def permute_segments(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``float32[12, T]``: each lead cut into four segments put back in a random order (per lead)."""
    n_leads, t = x.shape
    seg = t // SEGMENTS
    order = np.argsort(rng.random((n_leads, SEGMENTS)), axis=1)
    index = (order[:, :, None] * seg + np.arange(seg)[None, None, :]).reshape(n_leads, -1)
    out = x.copy()
    out[:, : seg * SEGMENTS] = np.take_along_axis(x[:, : seg * SEGMENTS], index, axis=1)
    return out


#: The published augmentations, one drawn per record: ``none`` leaves it as it is.
AUGMENTATIONS = ("time_warp", "permutation", "none")


def augment(batch: np.ndarray, rng: np.random.Generator, choices: tuple[str, ...] = AUGMENTATIONS) -> np.ndarray:
    """``float32[b, 12, T]``: each record gets one of ``choices``, uniformly at random
    (published: time warp, permutation or nothing, a third each)."""
    unknown = set(choices) - set(AUGMENTATIONS)
    if unknown or not choices:
        raise ValueError(f"augmentations {sorted(unknown) or '()'}: choose from {AUGMENTATIONS}")
    if set(choices) == {"none"}:
        return batch  # and no draw from rng: the data order stays that of a run without augmentation
    out = batch.copy()
    for i, k in enumerate(rng.integers(0, len(choices), len(batch))):
        if choices[k] == "time_warp":
            out[i] = time_warp(batch[i], rng)
        elif choices[k] == "permutation":
            out[i] = permute_segments(batch[i], rng)
    return out
