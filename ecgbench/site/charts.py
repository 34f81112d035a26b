"""Geometry of the site's small charts, computed here and drawn by the templates as inline SVG.

Coordinates are rounded to 0.1 px so that a rebuild writes identical pages. Charts are drawn
from the records (metric values and CIs, run notes) and the samples files beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ecgbench.leaderboard import fmt

#: Width and height of the CI interval drawn in a leaderboard cell (px).
CI_WIDTH, CI_HEIGHT, CI_PAD = 160, 14, 5
#: Curves in a ROC chart: the micro average plus this many of the most prevalent labels.
ROC_LABELS = 5
#: Points kept per curve (enough for a 320 px chart).
CURVE_POINTS = 160


def _px(x: float) -> float:
    return round(float(x), 1)


@dataclass(frozen=True)
class Interval:
    """One row's main metric on its section's common scale: a point and its CI as x positions."""

    x: float | None
    lo: float | None
    hi: float | None
    label: str


@dataclass(frozen=True)
class Scale:
    """A section's common axis for the main metric: every row's CI and the floor fit on it."""

    low: float
    high: float
    floor_x: float | None
    low_text: str
    high_text: str

    def x(self, value: float | None) -> float | None:
        if value is None or not np.isfinite(value):
            return None
        span = self.high - self.low
        position = 0.5 if span <= 0 else (value - self.low) / span
        return _px(CI_PAD + position * (CI_WIDTH - 2 * CI_PAD))

    def interval(self, value: float | None, lo: float | None, hi: float | None) -> Interval:
        label = f"{fmt(value)}, 95% CI {fmt(lo)} to {fmt(hi)}" if lo is not None else fmt(value)
        return Interval(self.x(value), self.x(lo), self.x(hi), label)


def section_scale(points: list[tuple[float | None, float | None, float | None]], floor: float | None) -> Scale | None:
    """The axis spanning every (value, lo, hi) and the floor; None when there is nothing to draw."""
    values = [v for triple in points for v in triple if v is not None and np.isfinite(v)]
    if floor is not None and np.isfinite(floor):
        values.append(floor)
    if not values:
        return None
    low, high = min(values), max(values)
    scale = Scale(low, high, None, fmt(low), fmt(high))
    return Scale(low, high, scale.x(floor) if floor is not None else None, scale.low_text, scale.high_text)


@dataclass
class Series:
    label: str
    points: str  # "x,y x,y ..." in px
    css: str = ""


@dataclass
class LineChart:
    """A small line chart: polylines in a plot area with labelled ends of both axes."""

    title: str
    x_label: str
    y_label: str
    width: int = 340
    height: int = 220
    left: int = 48
    right: int = 12
    top: int = 12
    bottom: int = 36
    series: list[Series] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    diagonal: bool = False

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom


def _thin(x: np.ndarray, y: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= points:
        return x, y
    keep = np.unique(np.linspace(0, len(x) - 1, points).round().astype(int))
    return x[keep], y[keep]


def _polyline(chart: LineChart, x: np.ndarray, y: np.ndarray, x_range: tuple[float, float],
              y_range: tuple[float, float]) -> str:
    (x0, x1), (y0, y1) = x_range, y_range
    sx = chart.plot_width / (x1 - x0 if x1 > x0 else 1.0)
    sy = chart.plot_height / (y1 - y0 if y1 > y0 else 1.0)
    px = chart.left + (x - x0) * sx
    py = chart.top + chart.plot_height - (y - y0) * sy
    return " ".join(f"{_px(a)},{_px(b)}" for a, b in zip(px, py, strict=True))


def _ticks(chart: LineChart, x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
    (x0, x1), (y0, y1) = x_range, y_range
    chart.x_ticks = [(_px(chart.left), fmt(x0, 3)), (_px(chart.left + chart.plot_width), fmt(x1, 3))]
    chart.y_ticks = [(_px(chart.top + chart.plot_height), fmt(y0, 3)), (_px(chart.top), fmt(y1, 3))]


def curve_chart(title: str, values: list[float], x_label: str, y_label: str, x_total: float | None = None) -> LineChart | None:
    """A run note that is a curve (e.g. ``loss_curve``): its values, evenly spaced over ``x_total``."""
    y = np.asarray([v for v in values if v is not None], dtype=float)
    if len(y) < 2 or not np.isfinite(y).all():
        return None
    end = float(x_total) if x_total else float(len(y))
    x = np.linspace(end / len(y), end, len(y))
    chart = LineChart(title=title, x_label=x_label, y_label=y_label)
    y_range = (float(min(y.min(), 0.0)), float(y.max()))
    x_range = (0.0, end)
    chart.series.append(Series(title, _polyline(chart, x, y, x_range, y_range)))
    _ticks(chart, x_range, y_range)
    return chart


def roc_points(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """False and true positive rates at every distinct score threshold (from (0, 0) to (1, 1))
    and the area under them. Plain numpy, so that building the site does not import scikit-learn."""
    order = np.argsort(-y_score, kind="mergesort")
    score, truth = y_score[order], y_true[order].astype(np.float64)
    last_of_tie = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tp, fp = np.cumsum(truth)[last_of_tie], np.cumsum(1.0 - truth)[last_of_tie]
    fpr, tpr = np.r_[0.0, fp / fp[-1]], np.r_[0.0, tp / tp[-1]]
    return fpr, tpr, float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)


def roc_chart(samples: Path) -> LineChart | None:
    """ROC curves from a samples file holding ``y_true`` and ``y_score`` ``[n, labels]``: the
    micro average and the most prevalent labels (by test positives); None when it holds no scores."""
    try:
        with np.load(samples, allow_pickle=False) as data:
            if "y_true" not in data or "y_score" not in data:
                return None
            y_true, y_score = np.asarray(data["y_true"]), np.asarray(data["y_score"], dtype=float)
            codes = [str(c) for c in data["label_codes"]] if "label_codes" in data else None
    except (OSError, ValueError):
        return None
    if y_true.ndim != 2 or y_true.shape != y_score.shape or not np.isfinite(y_score).all():
        return None
    chart = LineChart(title="ROC", x_label="false positive rate", y_label="true positive rate", diagonal=True,
                      width=360, height=300)
    unit = ((0.0, 1.0), (0.0, 1.0))
    flat_true, flat_score = y_true.ravel(), y_score.ravel()
    if 0 < flat_true.sum() < len(flat_true):
        fpr, tpr, auc = roc_points(flat_true, flat_score)
        fpr, tpr = _thin(fpr, tpr, CURVE_POINTS)
        chart.series.append(Series(f"micro average (AUROC {fmt(auc, 3)})", _polyline(chart, fpr, tpr, *unit), "micro"))
    positives = y_true.sum(axis=0)
    usable = [j for j in np.argsort(-positives, kind="stable") if 0 < positives[j] < len(y_true)]
    for j in usable[:ROC_LABELS]:
        fpr, tpr, auc = roc_points(y_true[:, j], y_score[:, j])
        fpr, tpr = _thin(fpr, tpr, CURVE_POINTS)
        name = codes[j] if codes else f"label {j}"
        chart.series.append(Series(f"{name} (n+ {int(positives[j])}, AUROC {fmt(auc, 3)})",
                                   _polyline(chart, fpr, tpr, *unit)))
    if not chart.series:
        return None
    _ticks(chart, *unit)
    return chart
