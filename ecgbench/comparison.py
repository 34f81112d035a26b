"""``ecgbench compare``: are two classifiers' macro AUROCs different on the same test records?

Both inputs are ``classify-71-labels`` samples files (a run's ``<run_id>.samples.npz`` or one
made elsewhere). Records are matched by ``record_id``; the paired bootstrap resamples records
once for both models (:func:`ecgbench.metrics.classification.paired_bootstrap`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecgbench.errors import DataError


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz samples file ({exc})") from exc
    missing = [k for k in ("record_id", "y_true", "y_score") if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing array(s) {missing}; a classify-71-labels samples file has record_id, y_true, y_score")
    return arrays


def compare_classifiers(path_a: Path, path_b: Path, n_boot: int = 1000, seed: int = 0) -> dict:
    """Paired bootstrap of macro AUROC, model a minus model b, on the records both files hold."""
    from ecgbench.metrics.classification import paired_bootstrap

    a, b = _load(path_a), _load(path_b)
    ids_a, ids_b = a["record_id"].astype(str), b["record_id"].astype(str)
    if set(ids_a) != set(ids_b) or len(ids_a) != len(ids_b):
        only_a, only_b = sorted(set(ids_a) - set(ids_b)), sorted(set(ids_b) - set(ids_a))
        raise DataError(
            f"{path_a} and {path_b} hold different test records ({len(ids_a)} and {len(ids_b)}; "
            f"e.g. only in the first: {only_a[:3]}, only in the second: {only_b[:3]}): a paired comparison needs the same ones"
        )
    order_b = {rid: i for i, rid in enumerate(ids_b)}
    rows_b = np.array([order_b[rid] for rid in ids_a])
    if not np.array_equal(a["y_true"], b["y_true"][rows_b]):
        raise DataError(f"{path_a} and {path_b} give different labels for the same record ids")
    result = paired_bootstrap(a["y_true"], a["y_score"], b["y_score"][rows_b], n_boot=n_boot, seed=seed)
    return {"a": str(path_a), "b": str(path_b), "n_records": len(ids_a), **result}
