"""Run records built by hand, for record and leaderboard tests."""

from __future__ import annotations

from ecgbench.records import (
    DatasetInfo,
    Environment,
    Metric,
    ModelInfo,
    RunRecord,
    Source,
    TaskInfo,
)


def make_record(
    run_id: str = "20260101T000000Z-00000001",
    model: str = "m",
    task: str = "classify-71-labels",
    main: tuple[str, float, float, float] = ("macro_auroc", 0.8, 0.75, 0.85),
    higher_is_better: bool = True,
    others: dict[str, float] | None = None,
    dataset: str = "phantom",
    fingerprint: str = "f" * 64,
    budget: str = "ci",
    seed: int = 0,
    variant: str = "",
    wiring_check: bool = False,
    training_datasets: tuple[str, ...] = (),
    status: str = "completed",
    task_version: int = 1,
) -> RunRecord:
    name, value, lo, hi = main
    metrics = [
        Metric(
            name=name,
            value=value,
            ci_low=lo,
            ci_high=hi,
            ci_level=0.95,
            ci_method="bootstrap",
            higher_is_better=higher_is_better,
            is_main=True,
        )
    ]
    metrics += [Metric(name=k, value=v) for k, v in (others or {}).items()]
    return RunRecord(
        run_id=run_id,
        status=status,  # type: ignore[arg-type]
        argv=["run"],
        task=TaskInfo(name=task, version=task_version, contract_hash="c" * 16, config={}),
        model=ModelInfo(
            name=model,
            requested_as=model,
            plugin="p",
            plugin_dist="ecgbench-p",
            plugin_version="0.1",
            factory="a.b:c",
            config={},
            config_hash="h" * 16,
            overrides={},
            variant=variant,
            training_datasets=list(training_datasets),
            wiring_check=wiring_check,
        ),
        dataset=DatasetInfo(
            name=dataset,
            config={},
            fingerprint=fingerprint,
            n_records=100,
            splits={"train": 80, "val": 10, "test": 10},
            fs=100.0,
            n_samples=1000,
            folds="train=1+2+3+4+5+6+7+8,val=9,test=10",
            fold_override=False,
        ),
        budget=budget,  # type: ignore[arg-type]
        seed=seed,
        environment=Environment(
            python="3.11", platform="Linux", packages={}, plugins={}, device="cpu"
        ),
        source=Source(git_commit="a" * 40, git_dirty=False),
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:01:00+00:00",
        wall_seconds=60.0,
        phases={"fit": 30.0},
        metrics=metrics,
    )
