"""Metrics: pure functions on numpy arrays, each checked against an independent reference.

Definitions and parameters: ``docs/metrics.md``. Heavy libraries (POT, tslearn, numba,
scikit-learn, matplotlib) are imported inside the functions that need them, so importing
this package costs numpy and scipy only.
"""

from ecgbench.metrics.bootstrap import MetricValue, bootstrap_ci, percentile_p_value
from ecgbench.metrics.classification import (
    classification_suite,
    f_at_threshold,
    fmax_threshold,
    macro_auroc,
    macro_auroc_metric,
    paired_bootstrap,
    per_label_auroc,
)
from ecgbench.metrics.generation import (
    DTWPairs,
    ReferenceSpace,
    dtw_distance,
    dtw_pairs,
    generation_suite,
    mmd,
    per_record_generation_values,
    reference_space,
    spectral_similarity,
    wasserstein_amplitude,
    wasserstein_waveform,
)
from ecgbench.metrics.intervals import (
    AVB1_PR_MS,
    LQT_CUTOFFS_MS,
    agreement,
    detection,
    interval_suite,
    qtc,
)
from ecgbench.metrics.plots import bland_altman_png, roc_png
from ecgbench.metrics.text import image_suite, parse_choice, parse_codes

__all__ = [
    "AVB1_PR_MS",
    "DTWPairs",
    "LQT_CUTOFFS_MS",
    "MetricValue",
    "ReferenceSpace",
    "agreement",
    "bland_altman_png",
    "bootstrap_ci",
    "classification_suite",
    "detection",
    "dtw_distance",
    "dtw_pairs",
    "f_at_threshold",
    "fmax_threshold",
    "generation_suite",
    "image_suite",
    "interval_suite",
    "macro_auroc",
    "macro_auroc_metric",
    "mmd",
    "paired_bootstrap",
    "parse_choice",
    "parse_codes",
    "per_label_auroc",
    "per_record_generation_values",
    "percentile_p_value",
    "qtc",
    "reference_space",
    "roc_png",
    "spectral_similarity",
    "wasserstein_amplitude",
    "wasserstein_waveform",
]
