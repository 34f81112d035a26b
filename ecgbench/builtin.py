"""The built-in plugin: the four tasks and the three datasets, registered like any plugin's."""

from __future__ import annotations

from collections.abc import Callable

from ecgbench.hookspecs import hookimpl
from ecgbench.specs import DatasetSpec, MetricSpec, TaskSpec


def _interval_metrics() -> tuple[MetricSpec, ...]:
    metrics = []
    for name, unit in (("pr", "ms"), ("qrs", "ms"), ("qt", "ms"), ("qtc", "ms"), ("hr", "bpm")):
        metrics += [
            MetricSpec(name=f"{name}_mae", higher_is_better=False, unit=unit, description=f"mean absolute error of {name.upper()}"),
            MetricSpec(name=f"{name}_pearson_r", higher_is_better=True, description=f"Pearson r of {name.upper()} with the reference"),
            MetricSpec(name=f"{name}_bias", higher_is_better=False, unit=unit, description="Bland–Altman mean difference (measured − reference); smaller |bias| is better"),
        ]
        if name != "hr":
            metrics += _error_spread_metrics(name, name.upper())
    metrics += [
        MetricSpec(name="avb1_auroc", higher_is_better=True, description="AUROC of PR for first-degree AV block over every record (an abstention ties)"),
        MetricSpec(name="lqt_auroc", higher_is_better=True, description="AUROC of QTc for long QT over every record (an abstention ties)"),
        MetricSpec(name="coverage", higher_is_better=True, description="share of the records scored by the two AUROCs that have a measurement"),
        MetricSpec(name="abstain_rate", higher_is_better=False, description="share of records a measurer declined (NaN)"),
    ]
    for name, label in (("p_on", "P onset"), ("qrs_on", "QRS onset"), ("qrs_off", "QRS offset"), ("t_off", "T offset")):
        metrics.append(MetricSpec(name=f"{name}_bias", higher_is_better=False, unit="ms",
                                  description=f"mean signed error of the {label} over matched reference beats; smaller |bias| is better"))
        metrics += _error_spread_metrics(name, label)
    return tuple(metrics)


def _error_spread_metrics(name: str, label: str) -> list[MetricSpec]:
    """``<name>_sd`` and ``<name>_within_<10|20|40>ms``."""
    specs = [MetricSpec(name=f"{name}_sd", higher_is_better=False, unit="ms",
                        description=f"standard deviation of the signed error of {label}")]
    for t in (10, 20, 40):
        specs.append(MetricSpec(name=f"{name}_within_{t}ms", higher_is_better=True,
                                description=f"share of references with the {label} within ±{t} ms (abstention = outside)"))
    return specs


TASKS = (
    TaskSpec(
        name="generate",
        summary="synthetic 12-lead ECG, label-conditioned, scored against held-out real records",
        version=2,
        contract="ecgbench.contracts.generate",
        runner="ecgbench.tasks.generate:run",
        config="ecgbench.tasks.generate:GenerateTaskConfig",
        protocol="ecgbench.contracts.generate:Generator",
        validate_settings={"n_boot": 10, "floor": False, "tstr": False, "condition": False, "plot_records": 0},
        repeat_check="ecgbench.validate:generator_repeats",
        scorer="ecgbench.scoring:score_generate",
        main_metric="mmd",
        metrics=(
            MetricSpec(name="mmd", higher_is_better=False, description="unbiased MMD² on waveforms z-scored with training-split statistics (inverse multiquadric kernel, training-split bandwidth)"),
            MetricSpec(name="dtw", higher_is_better=False, unit="mV", description="DTW of label-matched pairs, per lead, 10% Sakoe–Chiba band"),
            MetricSpec(name="wasserstein", higher_is_better=False, unit="mV", description="W1 of pooled amplitude distributions per lead"),
            MetricSpec(name="wasserstein_waveform", higher_is_better=False, description="EMD between the two sets of waveforms z-scored with training-split statistics"),
            MetricSpec(name="spectral_similarity", higher_is_better=True, description="1 − Jensen–Shannon divergence of mean Welch PSDs per lead"),
            MetricSpec(name="condition_auroc", higher_is_better=True, description="a classifier trained on real records finds the requested labels in the generated ones: macro AUROC (ceiling: its score on real test records)"),
            MetricSpec(name="tstr_macro_auroc", higher_is_better=True, description="train on generated, test on real: macro AUROC of the feature classifier"),
            MetricSpec(name="trtr_macro_auroc", higher_is_better=True, description="train on the real training records with the same label vectors, test on real: TSTR's reference"),
            MetricSpec(name="nfe", higher_is_better=False, description="network function evaluations per record"),
            MetricSpec(name="seconds_per_record", higher_is_better=False, unit="s", description="sampling wall time per generated record"),
        ),
    ),
    TaskSpec(
        name="classify-71-labels",
        summary="multi-label classification of the 71 PTB-XL SCP statements",
        version=2,
        contract="ecgbench.contracts.classify",
        runner="ecgbench.tasks.classify:run",
        config="ecgbench.tasks.classify:ClassifyTaskConfig",
        protocol="ecgbench.contracts.classify:Classifier",
        validate_settings={"n_boot": 10, "explain_records": 1},
        repeat_check="ecgbench.validate:classifier_repeats",
        scorer="ecgbench.scoring:score_classify",
        main_metric="macro_auroc",
        metrics=(
            MetricSpec(name="macro_auroc", higher_is_better=True, description="dataset-level macro AUROC over labels with both classes"),
            MetricSpec(name="fmax", higher_is_better=True, description="sample-centric F at the threshold chosen on validation"),
        ),
    ),
    TaskSpec(
        name="measure-intervals",
        summary="PR, QRS, QT, QTc and heart rate per record against reference measurements",
        # 2: AUROCs over every record (abstentions tie), coverage, error SD and within-tolerance
        # shares, beat-level fiducial agreement, bootstrap over source recordings.
        version=2,
        contract="ecgbench.contracts.intervals",
        runner="ecgbench.tasks.intervals:run",
        config="ecgbench.tasks.intervals:IntervalsTaskConfig",
        protocol="ecgbench.contracts.intervals:IntervalMeasurer",
        validate_settings={"n_boot": 10, "plots": False},
        repeat_check="ecgbench.validate:measurer_repeats",
        scorer="ecgbench.scoring:score_intervals",
        main_metric="qt_mae",
        metrics=_interval_metrics(),
    ),
    TaskSpec(
        name="interpret-image",
        summary="answer questions about printed 12-lead ECG images",
        version=1,
        contract="ecgbench.contracts.image",
        runner="ecgbench.tasks.image:run",
        config="ecgbench.tasks.image:ImageTaskConfig",
        protocol="ecgbench.contracts.image:ImageInterpreter",
        validate_settings={"max_train_images": 40, "max_test_images": 16, "example_images": 0},
        scorer="ecgbench.scoring:score_image",
        main_metric="accuracy",
        metrics=(
            MetricSpec(name="accuracy", higher_is_better=True, description="exact match of the parsed answer"),
            MetricSpec(name="label_f1", higher_is_better=True, description="micro F1 of SCP codes parsed from free-text answers"),
            MetricSpec(name="unparseable_rate", higher_is_better=False, description="answers the parser could not read (counted wrong)"),
        ),
    ),
)

DATASETS = (
    DatasetSpec(
        name="phantom",
        summary="embedded simulated 12-lead cohort with exact ground truth (default; no download)",
        factory="ecgbench.data.phantom:load_phantom",
        config="ecgbench.data.phantom:PhantomConfig",
    ),
    DatasetSpec(
        name="ptbxl",
        aliases=("ptb-xl",),
        summary="a local copy of PTB-XL v1.0.3, 100 or 500 Hz, 71 SCP statements",
        factory="ecgbench.data.ptbxl:load_ptbxl",
        config="ecgbench.data.ptbxl:PTBXLConfig",
        needs_path=True,
        citation="Wagner et al., PTB-XL, a large publicly available electrocardiography dataset. Sci Data 7, 154 (2020)",
        license="CC-BY-4.0",
    ),
    DatasetSpec(
        name="wfdb-dir",
        summary="any folder of WFDB records, with wave annotations where present",
        factory="ecgbench.data.wfdb_dir:load_wfdb_dir",
        config="ecgbench.data.wfdb_dir:WFDBDirConfig",
        needs_path=True,
    ),
)


@hookimpl
def ecgbench_register_tasks(register: Callable[[TaskSpec], None]) -> None:
    for spec in TASKS:
        register(spec)


@hookimpl
def ecgbench_register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    for spec in DATASETS:
        register(spec)
