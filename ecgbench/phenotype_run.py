"""``ecgbench phenotype``: fit a prototype model, then associate its prototype similarities on
unseen records with per-record outcomes (statistics in :mod:`ecgbench.phenotype`).

Any classify-71-labels model with ``prototype_similarities(x) -> float32[n, P]`` and
``prototype_info() -> list[dict]`` qualifies (ProtoECGNet does)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ecgbench.data.dataset import ECGDataset
from ecgbench.errors import ConfigError, DataError
from ecgbench.phenotype import align_outcomes, associate, write_report
from ecgbench.registry import Registry


def run_phenotype(
    model: Any,
    dataset: ECGDataset,
    outcomes: pd.DataFrame,
    out_dir: Path,
    *,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
    projected_only: bool = True,
) -> dict:
    """Associate every prototype (and every class score) of a fitted model with the outcomes.

    ``model``: fitted, with ``prototype_similarities(x) -> float32[n, P]``,
    ``prototype_info() -> list[dict]`` and ``predict_proba(x) -> float32[n, 71]`` (a
    ProtoECGNet model). ``outcomes``: a ``record_id`` column plus
    one 0/1 column per outcome (empty = not defined for that record). With ``projected_only``
    the family of tests holds only the prototypes that were projected onto a training record
    (a prototype of a class without training records is a learned vector, not a case one can
    look at). Writes the tables, ``summary.json`` and ``volcano.png`` into ``out_dir``; returns
    ``{"summary": ..., "files": ..., "n_prototypes": ...}``.
    """
    aligned = align_outcomes(dataset.record_ids.astype(str), outcomes)
    info = model.prototype_info()
    keep = [
        i
        for i, item in enumerate(info)
        if item.get("source_record_id") is not None or not projected_only
    ]
    result = associate(
        model.prototype_similarities(dataset.signals)[:, keep],
        [info[i] for i in keep],
        model.predict_proba(dataset.signals),
        aligned,
        n_boot=n_boot,
        seed=seed,
    )
    result.per_prototype["prototype"] = [keep[i] for i in result.per_prototype["prototype"]]
    return {
        "summary": result.summary(alpha),
        "files": write_report(result, out_dir, alpha),
        "n_prototypes": len(keep),
    }


def read_outcomes(path: Path) -> pd.DataFrame:
    """The outcome table of ``--outcomes``; errors name the file."""
    try:
        table = pd.read_csv(path, dtype={"record_id": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"outcome table {path}: {exc}") from None
    if "record_id" not in table.columns:
        raise DataError(
            f"outcome table {path}: no 'record_id' column (columns: {list(table.columns)})"
        )
    return table


def run_phenotype_command(args: argparse.Namespace, registry: Registry | None = None) -> int:
    """``ecgbench phenotype --plugin protoecgnet --outcomes outcomes.csv [--dataset ...]``.

    Builds the model with the chosen budget and ``--set`` overrides, fits it on the train and
    validation folds of the dataset (reusing a cached checkpoint when there is one), and
    analyses the records of the test folds: the model never saw them. The report goes to
    ``--out``; the summary is printed as JSON.
    """
    from ecgbench.context import RunContext
    from ecgbench.data.dataset import FoldSplit
    from ecgbench.provenance import resolve_device
    from ecgbench.runner import RunRequest, parse_sets, resolve_dataset, resolve_model_config
    from ecgbench.specs import load_object

    registry = registry or Registry()
    spec = registry.model(args.plugin)
    task = registry.task(spec.task)
    request = RunRequest(
        task=task.name,
        model=spec.name,
        dataset=args.dataset,
        data_path=args.data_path,
        fs=args.fs,
        folds=args.folds,
        skip_bad=getattr(args, "skip_bad", False),
        budget=args.budget,
        seed=args.seed,
        sets=args.set or [],
    )
    sets = parse_sets(request.sets)
    config = resolve_model_config(spec, request.budget, sets["model"])
    dataset_spec, dataset_config = resolve_dataset(registry, request, task, sets["data"])
    outcomes = read_outcomes(args.outcomes)
    data = load_object(dataset_spec.factory)(dataset_config)
    train, val, test = data.split(FoldSplit.parse(args.folds) if args.folds else FoldSplit())
    ctx = RunContext(
        seed=args.seed, artifacts_dir=Path(args.out), quiet=getattr(args, "quiet", False)
    )
    ctx.device, _ = resolve_device(getattr(args, "device", "auto"))
    model = load_object(spec.factory)(config, ctx)
    if not all(hasattr(model, m) for m in ("prototype_similarities", "prototype_info")):
        raise ConfigError(
            f"model {spec.name!r} has no prototypes: it lacks prototype_similarities()/prototype_info()"
        )
    model.fit(train, val)
    report = run_phenotype(model, test, outcomes, Path(args.out), seed=args.seed)
    print(json.dumps({"cohort": test.name, **report}, indent=1, default=str))
    return 0
