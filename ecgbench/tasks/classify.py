"""The ``classify-71-labels`` task: fit on train + validation, score test-set probabilities.

Macro AUROC is computed once over the whole test split (never averaged over batches), over
the statements that have positives and negatives there; Fmax's threshold is chosen on the
validation predictions and applied to the test predictions.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from ecgbench.context import RunContext
from ecgbench.contracts.classify import Classifier, Explainer, check_probabilities
from ecgbench.data.dataset import ECGDataset, FoldSplit
from ecgbench.data.labels import SCP_CODES
from ecgbench.data.streaming import RecordRows, iter_chunks
from ecgbench.metrics.classification import classification_suite
from ecgbench.tasks.result import TaskResult


class ClassifyTaskConfig(BaseModel):
    """Evaluator settings; they are written into every record."""

    eval_seed: int = Field(default=0, description="seed of the bootstrap (same for every model)")
    n_boot: int = Field(default=200, description="bootstrap resamples (record-level) per metric")
    explain_records: int = Field(default=3, description="test records explained when the model can explain")


def predict_in_chunks(model: Classifier, signals: np.ndarray | RecordRows) -> np.ndarray:
    """``predict_proba`` on consecutive chunks of records (:data:`~ecgbench.data.streaming.CHUNK_BYTES`
    of signal each), so that a split of a cached cohort is never in memory whole; a record's
    probabilities depend on that record alone (the contract), so the chunks change nothing."""
    parts = [np.asarray(model.predict_proba(chunk)) for _, chunk in iter_chunks(signals)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def run(
    model: Classifier,
    model_name: str,
    dataset: ECGDataset,
    folds: FoldSplit,
    config: ClassifyTaskConfig,
    ctx: RunContext,
) -> TaskResult:
    train, val, test = dataset.split(folds)
    with ctx.phase("fit"):
        model.fit(train, val)
    with ctx.phase("predict"):
        val_score = check_probabilities(predict_in_chunks(model, val.signals), n=len(val), model=model_name)
        test_score = check_probabilities(predict_in_chunks(model, test.signals), n=len(test), model=model_name)
    with ctx.phase("evaluate"):
        metrics = classification_suite(
            test.labels, test_score, val_true=val.labels, val_score=val_score,
            seed=config.eval_seed, n_boot=config.n_boot,
        )
    artifacts, notes = [], {}
    if isinstance(model, Explainer) and config.explain_records > 0:
        with ctx.phase("explain"):
            k = min(config.explain_records, len(test))
            out_dir = ctx.artifacts_dir / "explanations"
            out_dir.mkdir(parents=True, exist_ok=True)
            explanations = model.explain(test.signals[:k], test.record_ids[:k].astype(str).tolist(), out_dir)
            notes["explanations"] = explanations
            artifacts = [(out_dir / e["png"], "explanation") for e in explanations if e.get("png")]
    samples = {
        "record_id": test.record_ids.astype(str),
        "y_true": test.labels,
        "y_score": test_score,
        "label_codes": np.array(SCP_CODES),
        "val_record_id": val.record_ids.astype(str),
        "val_y_true": val.labels,
        "val_y_score": val_score,
    }
    return TaskResult(splits={"train": len(train), "val": len(val), "test": len(test)}, metrics=metrics, samples=samples, artifacts=artifacts, notes=notes)
