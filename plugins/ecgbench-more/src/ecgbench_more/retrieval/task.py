"""The ``retrieve-report`` task: fit on train + validation, rank test reports for test ECGs and back.

The test split's ECGs and reports are embedded separately; every pair is scored by the dot
product of its embeddings. A report is relevant to an ECG when it is the record's own report
(a report whose text is identical is the same report: PTB-XL repeats short reports such as
"sinusrhythmus normales ekg" verbatim); the second criterion counts a report as relevant when
its record has the same label set. Test records without a report are left out and counted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from ecgbench.context import RunContext
from ecgbench.contracts.checks import require
from ecgbench.data.dataset import ECGDataset, FoldSplit
from ecgbench.data.labels import SCP_CODES
from ecgbench.errors import DataError
from ecgbench.metrics.bootstrap import MetricValue
from ecgbench.tasks.result import TaskResult
from ecgbench_more.retrieval.contract import ReportRetriever, check_embeddings
from ecgbench_more.retrieval.metrics import retrieval_suite

REPORT_COLUMN = "report"


class RetrieveReportConfig(BaseModel):
    """Evaluator settings; they are written into every record."""

    eval_seed: int = Field(default=0, description="seed of the bootstrap (same for every model)")
    n_boot: int = Field(default=200, ge=1, description="bootstrap resamples of the test queries per metric")


def reports_of(dataset: ECGDataset) -> np.ndarray:
    """``str[n]``: the free-text report of every record ('' where it has none)."""
    if REPORT_COLUMN not in dataset.meta.columns:
        raise DataError(
            f"dataset {dataset.name!r} has no free-text reports (no {REPORT_COLUMN!r} column in its metadata); "
            "retrieve-report runs on datasets that carry them, e.g. phantom or ptbxl"
        )
    return dataset.meta[REPORT_COLUMN].fillna("").astype(str).str.strip().to_numpy()


def same_text(reports: np.ndarray) -> np.ndarray:
    """bool[n, n]: the two reports are the same text."""
    _, code = np.unique(reports, return_inverse=True)
    return code[:, None] == code[None, :]


def same_label_set(labels: np.ndarray) -> np.ndarray:
    """bool[n, n]: the two records carry exactly the same statements."""
    _, code = np.unique(np.asarray(labels), axis=0, return_inverse=True)
    code = code.ravel()
    return code[:, None] == code[None, :]


def score_similarity(similarity: np.ndarray, reports: np.ndarray, labels: np.ndarray | None, seed: int,
                     n_boot: int) -> list[MetricValue]:
    """The task's metrics from the ECG × report similarity matrix of a test split."""
    return retrieval_suite(similarity, same_text(reports), None if labels is None else same_label_set(labels),
                           seed=seed, n_boot=n_boot)


def run(
    model: ReportRetriever,
    model_name: str,
    dataset: ECGDataset,
    folds: FoldSplit,
    config: RetrieveReportConfig,
    ctx: RunContext,
) -> TaskResult:
    train, val, test = dataset.split(folds)
    reports = reports_of(test)
    keep = np.flatnonzero(reports != "")
    if len(keep) < 2:
        raise DataError(f"dataset {dataset.name!r}: the test split holds {len(keep)} records with a report; "
                        "retrieval needs at least two")
    scored = test.subset(keep)
    reports = reports[keep]
    with ctx.phase("fit"):
        model.fit(train, val)
    with ctx.phase("embed"):
        ecgs = check_embeddings(model.embed_ecgs(scored.signals), n=len(scored), model=model_name,
                                what="embed_ecgs() output")
        texts = check_embeddings(model.embed_reports(reports.tolist()), n=len(scored), model=model_name,
                                 what="embed_reports() output", dim=ecgs.shape[1])
        similarity = ecgs.astype(np.float64) @ texts.astype(np.float64).T
        require(bool(np.isfinite(similarity).all()), model_name, "embedding dot products are finite",
                "an ECG-report dot product overflowed; normalise the embeddings")
    with ctx.phase("evaluate"):
        metrics = score_similarity(similarity, reports, scored.labels, config.eval_seed, config.n_boot)
    samples = {
        "record_id": scored.record_ids.astype(str),
        "similarity": similarity.astype(np.float32),
        "report": reports.astype(str),
        "y_true": scored.labels,
        "label_codes": np.array(SCP_CODES),
    }
    notes = {
        "test_reports_sha256": hashlib.sha256("\n".join(reports).encode()).hexdigest(),
        "test_records_without_report": int(len(test) - len(keep)),
        "distinct_test_reports": int(len(np.unique(reports))),
        "embedding_dim": int(ecgs.shape[1]),
    }
    return TaskResult(
        metrics=metrics,
        samples=samples,
        notes=notes,
        splits={"train": len(train), "val": len(val), "test": len(scored)},
    )


def retriever_repeats(model: ReportRetriever, data: ECGDataset) -> bool:
    """Embedding the same ECGs and reports twice gives the same embeddings."""
    x, texts = data.signals[:4], reports_of(data)[:4].tolist()
    return bool(np.array_equal(model.embed_ecgs(x), model.embed_ecgs(x))
                and np.array_equal(model.embed_reports(texts), model.embed_reports(texts)))


def score(arrays: dict[str, np.ndarray], path: Path, seed: int) -> list[MetricValue]:
    """``ecgbench score --task retrieve-report``: ``similarity`` [n, n] (ECG rows, report columns)
    and ``report`` [n] are needed; ``y_true`` [n, 71] adds the label-set metrics."""
    missing = [k for k in ("similarity", "report") if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing array(s) {missing}; it has {sorted(arrays)}")
    return score_similarity(arrays["similarity"], arrays["report"].astype(str), arrays.get("y_true"), seed, 200)
