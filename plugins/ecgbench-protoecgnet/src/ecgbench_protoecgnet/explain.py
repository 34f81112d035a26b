"""Case-based explanations: for each predicted statement, the prototypes the record resembles,
the training record each prototype was projected onto, and a PNG of both side by side."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ecgbench.data.labels import SCP_CODES
from ecgbench.data.leads import LEAD_INDEX
from ecgbench_protoecgnet.network import latent_steps

if TYPE_CHECKING:
    from ecgbench_protoecgnet.model import ProtoECGNet

#: Leads drawn in the explanation PNGs (a limb lead and two precordial leads).
DRAWN_LEADS: tuple[str, ...] = ("II", "V1", "V5")
#: Rows (predicted statement, best prototype) drawn per PNG.
MAX_ROWS = 4


def _safe_name(record_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", record_id) or "record"


def _input_windows(model: ProtoECGNet, windows: np.ndarray) -> np.ndarray:
    """``int[n, P, 2]``: the input samples ``[start, stop)`` of each prototype's best window."""
    w_latent = latent_steps(model.config, model.n_samples)
    parts, offset = [], 0
    for branch in model.net.branches.values():
        layer = branch.prototypes
        best = windows[:, offset : offset + layer.n_prototypes]
        if branch.extent == "pooled":
            start, stop = np.zeros_like(best), np.full_like(best, model.n_samples)
        else:
            step = model.n_samples / w_latent
            start = np.round(best * step).astype(np.int64)
            stop = np.minimum(
                model.n_samples, np.round((best + layer.length) * step).astype(np.int64)
            )
        parts.append(np.stack([start, stop], axis=-1))
        offset += layer.n_prototypes
    return np.concatenate(parts, axis=1)


def explain_records(
    model: ProtoECGNet,
    z: np.ndarray,
    probs: np.ndarray,
    sims: np.ndarray,
    windows: np.ndarray,
    record_ids: list[str],
    out_dir: Path,
) -> list[dict]:
    """One explanation dict per record (see :meth:`ProtoECGNet.explain`)."""
    cfg = model.config
    info = model.prototype_info()
    by_class: dict[str, list[int]] = {}
    for item in info:
        by_class.setdefault(item["class"], []).append(item["index"])
    fusion_w = model.net.fusion.weight.detach().cpu().numpy()
    spans = _input_windows(model, windows)
    out_dir.mkdir(parents=True, exist_ok=True)
    explanations = []
    for i, rid in enumerate(record_ids):
        order = np.argsort(-probs[i])
        chosen = [j for j in order if probs[i, j] >= cfg.explain_threshold] or [int(order[0])]
        statements = []
        for j in chosen:
            code = SCP_CODES[j]
            ranked = sorted(by_class[code], key=lambda p: -sims[i, p])[: cfg.explain_top_k]
            statements.append(
                {
                    "code": code,
                    "probability": float(probs[i, j]),
                    "above_threshold": bool(probs[i, j] >= cfg.explain_threshold),
                    "prototypes": [
                        {
                            "prototype": int(p),
                            "branch": info[p]["branch"],
                            "similarity": float(sims[i, p]),
                            "fusion_weight": float(fusion_w[j, p]),
                            "input_window_s": [spans[i, p, 0] / cfg.fs, spans[i, p, 1] / cfg.fs],
                            "source_record_id": info[p]["source_record_id"],
                            "source_window_s": [info[p]["window_start_s"], info[p]["window_end_s"]],
                        }
                        for p in ranked
                    ],
                }
            )
        png = out_dir / f"{_safe_name(rid)}.png"
        _draw(model, info, z[i], rid, statements, png)
        explanations.append({"record_id": rid, "statements": statements, "png": png.name})
    return explanations


def _plot_leads(
    ax, signal: np.ndarray, fs: float, span: tuple[float, float] | None, whole: bool
) -> None:
    t = np.arange(signal.shape[-1]) / fs
    for k, lead in enumerate(DRAWN_LEADS):
        ax.plot(t, signal[LEAD_INDEX[lead]] - 2.0 * k, color="black", linewidth=0.6)
        ax.text(t[0], -2.0 * k + 0.6, lead, fontsize=7)
    if span is not None and span[0] is not None:
        ax.axvspan(span[0], span[1], color="tab:blue", alpha=0.08 if whole else 0.25, linewidth=0)
    ax.set_yticks([])
    ax.set_xlim(t[0], t[-1])
    ax.tick_params(labelsize=6)


def _draw(
    model: ProtoECGNet,
    info: list[dict],
    signal: np.ndarray,
    record_id: str,
    statements: list[dict],
    path: Path,
) -> None:
    """Rows: one per predicted statement (its best prototype); left the input with the matched
    stretch shaded, right the prototype's source training record with its stretch shaded."""
    rows = [(s, s["prototypes"][0]) for s in statements if s["prototypes"]][:MAX_ROWS]
    fig = Figure(figsize=(11, 1.9 * max(len(rows), 1) + 0.4))
    axes = fig.subplots(max(len(rows), 1), 2, squeeze=False)
    fs = model.config.fs
    for r, (statement, proto) in enumerate(rows):
        whole = info[proto["prototype"]]["extent"] != "local"
        _plot_leads(axes[r, 0], signal, fs, tuple(proto["input_window_s"]), whole)
        axes[r, 0].set_title(
            f"{record_id}: {statement['code']} p={statement['probability']:.2f}",
            fontsize=8,
            loc="left",
        )
        source = proto["source_record_id"]
        if source is None or source not in model.source_signals:
            why = "has no training source" if source is None else f"comes from training record {source}, not in this data"
            axes[r, 1].text(0.5, 0.5, f"prototype {why}", ha="center", fontsize=8)
            axes[r, 1].set_axis_off()
            continue
        _plot_leads(
            axes[r, 1], model.source_signals[source], fs, tuple(proto["source_window_s"]), whole
        )
        axes[r, 1].set_title(
            f"prototype {proto['prototype']} ({proto['branch']}) from training record {source}, "
            f"similarity {proto['similarity']:.2f}",
            fontsize=8,
            loc="left",
        )
    if not rows:
        axes[0, 0].set_axis_off()
        axes[0, 1].set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("time (s)", fontsize=7)
    fig.suptitle(
        "input (left) and the training ECG stretches it resembles (right); leads "
        + ", ".join(DRAWN_LEADS)
        + ", high-passed, mV",
        fontsize=8,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
