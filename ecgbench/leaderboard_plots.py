"""Plots drawn from leaderboard sections (records only): the generation quality/cost frontier."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FRONTIER_METRICS = ("mmd", "dtw", "wasserstein", "spectral_similarity", "seconds_per_record")


#: The start of every plot file name written here, so that a rebuild recognises its own old plots.
NFE_FRONTIER_PREFIX = "generate-nfe-frontier-"


def nfe_frontier_png(sections: list, out: Path) -> list[Path]:
    """One PNG per generate section with several NFE values: each metric against NFE, per model,
    with bootstrap CIs and the real-vs-real floor as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for section in sections:
        points: dict[str, list[tuple[float, dict]]] = {}
        for row in section.rows:
            nfe = row.metric("nfe")[0]
            if nfe is not None and nfe > 0 and not row.record.model.wiring_check:
                points.setdefault(row.model, []).append((nfe, row))
        if sum(len(v) for v in points.values()) < 3:
            continue
        fig, axes = plt.subplots(1, len(FRONTIER_METRICS), figsize=(4 * len(FRONTIER_METRICS), 3.6))
        for ax, name in zip(axes, FRONTIER_METRICS, strict=True):
            for model, series in sorted(points.items()):
                series.sort(key=lambda p: p[0])
                x = np.array([p[0] for p in series])
                vals = [p[1].metric(name) for p in series]
                y = np.array([v[0] if v[0] is not None else np.nan for v in vals], dtype=float)
                lo = np.array([v[1] if v[1] is not None else np.nan for v in vals], dtype=float)
                hi = np.array([v[2] if v[2] is not None else np.nan for v in vals], dtype=float)
                ax.plot(x, y, marker="o", label=model)
                if np.isfinite(lo).any():
                    ax.fill_between(x, lo, hi, alpha=0.2)
            floor = section.floor.get(name)
            if floor is not None:
                ax.axhline(floor, color="grey", linestyle="--", linewidth=1, label="real vs real")
            ax.set_xscale("log")
            ax.set_xlabel("NFE (network evaluations per record)")
            ax.set_title(name)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.suptitle(f"generate — quality/cost frontier ({section.title})", fontsize=10)
        fig.tight_layout()
        path = out / f"{NFE_FRONTIER_PREFIX}{section.dataset}-{section.budget}-{section.fingerprint[:8]}.png"
        fig.savefig(path, dpi=90, metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    return written
