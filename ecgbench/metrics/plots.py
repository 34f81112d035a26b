"""Plots of metric results as PNG files (matplotlib's object API, no global pyplot state)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecgbench.metrics.intervals import agreement


def _save(fig, path: str | Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=120, format="png", metadata={"Software": None})
    return path


def bland_altman_png(
    reference: np.ndarray, measured: np.ndarray, name: str, unit: str, path: str | Path
) -> Path:
    """Bland–Altman plot: difference (measured - reference) against the pair mean, with the
    bias and the 95 % limits of agreement; records with a NaN on either side are left out
    (their count is in the title)."""
    from matplotlib.figure import Figure

    reference = np.asarray(reference, dtype=np.float64)
    measured = np.asarray(measured, dtype=np.float64)
    stats = agreement(reference, measured)
    both = np.isfinite(reference) & np.isfinite(measured)
    mean = (reference[both] + measured[both]) / 2
    diff = measured[both] - reference[both]
    fig = Figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    ax.scatter(mean, diff, s=8, alpha=0.5, color="tab:blue", linewidths=0)
    if stats["n_pairs"] >= 2:
        for y, label, style in (
            (stats["bias"], f"bias {stats['bias']:.1f}", "-"),
            (stats["loa_low"], f"-1.96 SD {stats['loa_low']:.1f}", "--"),
            (stats["loa_high"], f"+1.96 SD {stats['loa_high']:.1f}", "--"),
        ):
            ax.axhline(y, color="tab:red", linestyle=style, linewidth=1)
            ax.annotate(label, xy=(1.0, y), xycoords=("axes fraction", "data"), ha="right", va="bottom",
                        fontsize=8, color="tab:red")
    n_missing = int(np.isfinite(reference).sum()) - stats["n_pairs"]
    ax.set_title(f"{name}: n = {stats['n_pairs']}, abstained = {n_missing}")
    ax.set_xlabel(f"mean of measured and reference ({unit})")
    ax.set_ylabel(f"measured - reference ({unit})")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def roc_png(score: np.ndarray, positive: np.ndarray, name: str, path: str | Path) -> Path:
    """ROC curve of a continuous score for a binary condition (NaN scores left out)."""
    from matplotlib.figure import Figure
    from sklearn.metrics import roc_auc_score, roc_curve

    score = np.asarray(score, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    ok = np.isfinite(score)
    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle=":")
    if positive[ok].any() and not positive[ok].all():
        fpr, tpr, _ = roc_curve(positive[ok], score[ok])
        ax.plot(fpr, tpr, color="tab:blue")
        ax.set_title(f"{name}: AUROC {roc_auc_score(positive[ok], score[ok]):.3f} (n = {int(ok.sum())})")
    else:
        ax.set_title(f"{name}: one class only, no ROC (n = {int(ok.sum())})")
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_aspect("equal")
    fig.tight_layout()
    return _save(fig, path)


def errors_by_recording_png(
    panels: dict[str, tuple[np.ndarray, np.ndarray]], unit: str, path: str | Path
) -> Path:
    """One strip per quantity: the signed errors (measured - reference) of every window or
    beat, one column per source recording, with the ±20 ms band shaded, so the recordings
    where a measurer fails stand out. ``panels``: title -> (recording per row, error per row);
    NaN errors (abstentions, unmatched beats) are counted under each column instead of drawn."""
    from matplotlib.figure import Figure

    recordings = sorted({str(g) for groups, _ in panels.values() for g in np.asarray(groups).tolist()})
    position = {name: i for i, name in enumerate(recordings)}
    fig = Figure(figsize=(max(6.0, 0.32 * len(recordings) + 2.0), 2.2 * len(panels) + 0.8))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    jitter = np.random.default_rng(0)
    for ax, (title, (groups, errors)) in zip(axes, panels.items(), strict=True):
        groups = np.asarray(groups).astype(str)
        errors = np.asarray(errors, dtype=np.float64)
        x = np.array([position[g] for g in groups], dtype=np.float64)
        ok = np.isfinite(errors)
        ax.axhspan(-20, 20, color="tab:green", alpha=0.12, linewidth=0)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.scatter(x[ok] + jitter.uniform(-0.2, 0.2, ok.sum()), errors[ok], s=7, alpha=0.6,
                   color="tab:blue", linewidths=0)
        for name, i in position.items():
            missing = int((~ok & (groups == name)).sum())
            if missing:
                ax.annotate(f"{missing}∅", xy=(i, 0.02), xycoords=("data", "axes fraction"), ha="center",
                            fontsize=6, color="tab:red")
        ax.set_ylabel(f"{title} ({unit})", fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    axes[-1].set_xticks(range(len(recordings)))
    axes[-1].set_xticklabels(recordings, rotation=90, fontsize=7)
    axes[0].set_title("measured - reference per recording (green: within ±20 ms; ∅: abstained or missed)",
                      fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
