"""ECG pictures as a person reads them: the standard 12-lead page and side-by-side strips.

Everything is drawn on ECG paper at 25 mm/s and 10 mm/mV (1 mm minor and 5 mm major grid),
in axes whose units are millimetres of paper, so the proportions are those of a printed ECG.
matplotlib (Agg backend) is imported inside the functions so that importing ecgbench stays
light. PNGs are written without a software tag, so the same input gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ecgbench.data.leads import LEAD_INDEX, LEADS

MM_PER_S = 25.0
MM_PER_MV = 10.0
#: The standard 3 x 4 layout: rows of (limb, augmented, right chest, left chest) leads.
LAYOUT: tuple[tuple[str, ...], ...] = (
    ("I", "aVR", "V1", "V4"),
    ("II", "aVL", "V2", "V5"),
    ("III", "aVF", "V3", "V6"),
)
_MINOR, _MAJOR, _TRACE = "#f6c9c9", "#e88e8e", "#111111"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _paper(ax, width_mm: float, height_mm: float) -> None:
    """ECG grid over [0, width] x [-height, 0] (mm); 1 mm minor, 5 mm major lines."""
    xs = np.arange(0.0, width_mm + 1e-9, 1.0)
    ys = -np.arange(0.0, height_mm + 1e-9, 1.0)
    for major, color, lw in ((False, _MINOR, 0.3), (True, _MAJOR, 0.6)):
        keep_x = (np.round(xs) % 5 == 0) == major
        keep_y = (np.round(-ys) % 5 == 0) == major
        ax.vlines(xs[keep_x], -height_mm, 0.0, colors=color, linewidths=lw, zorder=0)
        ax.hlines(ys[keep_y], 0.0, width_mm, colors=color, linewidths=lw, zorder=0)
    ax.set_xlim(0, width_mm)
    ax.set_ylim(-height_mm, 0)
    ax.set_aspect("equal")
    ax.axis("off")


def _calibration(ax, x0: float, baseline: float) -> None:
    """The 1 mV, 200 ms calibration pulse at the start of a row."""
    xs = [x0, x0 + 1.5, x0 + 1.5, x0 + 6.5, x0 + 6.5, x0 + 8.0]
    ys = [baseline, baseline, baseline + MM_PER_MV, baseline + MM_PER_MV, baseline, baseline]
    ax.plot(xs, ys, color=_TRACE, lw=0.9, solid_joinstyle="miter")


def _trace(ax, x: np.ndarray, fs: float, x0: float, baseline: float, clip_mv: float) -> None:
    if not np.isfinite(x).any():
        return
    t_mm = x0 + np.arange(len(x)) / fs * MM_PER_S
    y = baseline + np.clip(x, -clip_mv, clip_mv) * MM_PER_MV
    ax.plot(t_mm, y, color=_TRACE, lw=0.8, solid_joinstyle="round")


def _save(fig, path: str | Path, dpi: int) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, metadata={"Software": None})
    _pyplot().close(fig)
    return path


def plot_12lead(
    signals: np.ndarray,
    fs: float,
    path: str | Path,
    title: str | None = None,
    labels: Sequence[str] | str | None = None,
    dpi: int = 110,
) -> Path:
    """Draw one record float32[12, T] (mV, harness lead order) as a standard 12-lead ECG page.

    Three rows of four 2.5-s columns (I/II/III, aVR/aVL/aVF, V1–V3, V4–V6, each column the next
    2.5 s of the simultaneous recording) and a lead II rhythm strip over the whole record, on
    25 mm/s, 10 mm/mV paper with a calibration pulse per row. ``labels`` (codes or free text)
    are printed under the title. Returns the PNG path.
    """
    x = np.asarray(signals, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != len(LEADS):
        raise ValueError(f"plot_12lead expects signals [12, T], got {x.shape}")
    plt = _pyplot()
    seconds = x.shape[1] / fs
    column_s = seconds / 4.0
    left, row_mm = 10.0, 30.0
    width = left + seconds * MM_PER_S + 2.0
    height = row_mm * 4 + 6.0
    head = 12.0 if (title or labels) else 0.0
    fig = plt.figure(figsize=(width / 25.4, (height + head) / 25.4))
    ax = fig.add_axes((0.0, 0.0, 1.0, height / (height + head)))
    _paper(ax, width, height)
    for r in range(4):
        baseline = -(r * row_mm + row_mm * 0.62)
        _calibration(ax, 1.0, baseline)
        if r == 3:
            _trace(ax, x[LEAD_INDEX["II"]], fs, left, baseline, clip_mv=1.4 * row_mm / MM_PER_MV)
            ax.text(left + 1.0, baseline + 9.0, "II", fontsize=8, fontweight="bold")
            continue
        for col, lead in enumerate(LAYOUT[r]):
            lo, hi = int(round(col * column_s * fs)), int(round((col + 1) * column_s * fs))
            x0 = left + col * column_s * MM_PER_S
            _trace(ax, x[LEAD_INDEX[lead], lo:hi], fs, x0, baseline, clip_mv=1.4 * row_mm / MM_PER_MV)
            ax.text(x0 + 1.0, baseline + 9.0, lead, fontsize=8, fontweight="bold")
            if col:
                ax.plot([x0, x0], [baseline - 3.0, baseline + 3.0], color=_TRACE, lw=0.8)
    ax.text(width - 2.0, -height + 1.5, "25 mm/s   10 mm/mV", fontsize=7, ha="right")
    if head:
        text = title or ""
        if labels:
            codes = labels if isinstance(labels, str) else ", ".join(labels)
            text = f"{text}\n{codes}" if text else codes
        fig.text(0.01, 1.0 - 1.5 / (height + head), text, fontsize=9, va="top", family="monospace")
    return _save(fig, path, dpi)


def plot_records_grid(
    signals: np.ndarray,
    fs: float,
    path: str | Path,
    leads: Sequence[str] = ("II", "V1", "V5"),
    titles: Sequence[str] | None = None,
    seconds: float | None = 5.0,
    dpi: int = 110,
) -> Path:
    """Several records float32[k, 12, T] as a grid: one row per record, one column per lead.

    Each panel shows the first ``seconds`` (None: the whole record) on ECG paper; ``titles``
    label the rows.
    """
    return _strips([(np.asarray(signals), titles or [""] * len(signals))], fs, path, leads, seconds, dpi)


def plot_comparison(
    real: np.ndarray,
    generated: np.ndarray,
    fs: float,
    path: str | Path,
    leads: Sequence[str] = ("II", "V1", "V5"),
    seconds: float | None = 4.0,
    dpi: int = 110,
) -> Path:
    """Real float32[k, 12, T] next to generated float32[k, 12, T] records: the left block of
    columns shows the real records, the right block the generated ones, row by row."""
    for name, x in (("real", real), ("generated", generated)):
        if x.ndim != 3 or x.shape[1] != len(LEADS):
            raise ValueError(f"plot_comparison expects {name} signals [k, 12, T], got {x.shape}")
    k = min(len(real), len(generated))
    length = min(real.shape[-1], generated.shape[-1])
    return _strips(
        [(np.asarray(real[:k, :, :length]), ["real"] * k), (np.asarray(generated[:k, :, :length]), ["generated"] * k)],
        fs, path, leads, seconds, dpi,
    )


def _strips(blocks, fs, path, leads, seconds, dpi) -> Path:
    plt = _pyplot()
    rows = max(len(b[0]) for b in blocks)
    n_samples = blocks[0][0].shape[-1]
    span = n_samples / fs if seconds is None else min(seconds, n_samples / fs)
    panel_w, row_mm, gap = span * MM_PER_S, 30.0, 4.0
    n_cols = len(leads) * len(blocks)
    width = n_cols * (panel_w + gap)
    height = rows * row_mm
    fig = plt.figure(figsize=(width / 25.4, (height + 8.0) / 25.4))
    ax = fig.add_axes((0.0, 0.0, 1.0, height / (height + 8.0)))
    _paper(ax, width, height)
    end = int(round(span * fs))
    for b, (sig, titles) in enumerate(blocks):
        for r in range(len(sig)):
            baseline = -(r * row_mm + row_mm * 0.6)
            for c, lead in enumerate(leads):
                x0 = (b * len(leads) + c) * (panel_w + gap)
                _trace(ax, sig[r, LEAD_INDEX[lead], :end].astype(np.float64), fs, x0, baseline, clip_mv=2.8)
                label = f"{titles[r]} {lead}".strip() if c == 0 else lead
                ax.text(x0 + 1.0, baseline + 10.0, label, fontsize=7, fontweight="bold")
    return _save(fig, path, dpi)
