"""Registers the ``retrieve-report`` task, its TF-IDF/CCA floor and the MoRE models (specs only:
nothing here imports torch)."""

from __future__ import annotations

from ecgbench import MetricSpec, ModelSpec, TaskSpec, hookimpl

TASK = "retrieve-report"
CITATION = (
    "Thapa S, Howlader K, Bhattacharjee S, Le W. MoRE: Multi-Modal Contrastive Pre-training with Transformers "
    "on X-Rays, ECGs, and Diagnostic Report. arXiv:2410.16239, 2024"
)
REFERENCE = "https://arxiv.org/abs/2410.16239"

_DIRECTION_TEXT = {"ecg_to_report": "an ECG finds its own report", "report_to_ecg": "a report finds its own ECG"}


def _metrics() -> tuple[MetricSpec, ...]:
    """In the order the evaluator reports them (``retrieval.metrics.metric_names``)."""
    metrics = []
    for direction, text in _DIRECTION_TEXT.items():
        metrics.append(MetricSpec(name=f"recall_at_10_{direction}", higher_is_better=True,
                                  description=f"share of test queries where {text} among the top 10"))
    for direction, text in _DIRECTION_TEXT.items():
        metrics.append(MetricSpec(name=f"median_rank_{direction}", higher_is_better=False,
                                  description=f"median rank at which {text}"))
    for k in (1, 5):
        for direction, text in _DIRECTION_TEXT.items():
            metrics.append(MetricSpec(name=f"recall_at_{k}_{direction}", higher_is_better=True,
                                      description=f"share of test queries where {text} among the top {k}"))
    for k in (10, 1, 5):
        for direction in _DIRECTION_TEXT:
            metrics.append(MetricSpec(name=f"label_recall_at_{k}_{direction}", higher_is_better=True,
                                      description=f"share of test queries with an item of the same label set among the top {k}"))
    return tuple(metrics)


RETRIEVE_REPORT = TaskSpec(
    name=TASK,
    summary="ECG-to-report and report-to-ECG retrieval on the test split's free-text reports",
    version=1,
    contract="ecgbench_more.retrieval.contract",
    runner="ecgbench_more.retrieval.task:run",
    config="ecgbench_more.retrieval.task:RetrieveReportConfig",
    protocol="ecgbench_more.retrieval.contract:ReportRetriever",
    validate_settings={"n_boot": 10},
    repeat_check="ecgbench_more.retrieval.task:retriever_repeats",
    scorer="ecgbench_more.retrieval.task:score",
    main_metric="recall_at_10_ecg_to_report",
    metrics=_metrics(),
)

#: Minutes on 2 CPU cores: a 2-block ViT (width 64) over 10-sample patches (96 tokens, not 196),
#: a 2-layer random RoBERTa (width 64, trained whole: random weights have nothing to keep), no
#: augmentation, lr 2e-3 (floor 1e-4), weight decay 0.5, one optimizer step per batch of 64.
#: Chosen on the phantom validation split by ECG->report recall@10 (README, "How the ci settings
#: were chosen").
CI = {
    "ecg_dim": 64,
    "ecg_depth": 2,
    "ecg_heads": 4,
    "stem_channels": 32,
    "patch_samples": 10,
    "text_dim": 64,
    "text_depth": 2,
    "text_heads": 4,
    "vocab_size": 1000,
    "max_tokens": 128,
    "augmentations": ("none",),
    "learning_rate": 2e-3,
    "weight_decay": 0.5,
    "min_learning_rate": 1e-4,
    "batch_size": 64,
    "grad_accum": 1,
    "max_epochs": 30,
    "patience": 6,
    "threads": 1,
}
#: The published sizes and schedule (ViT-B, RoBERTa-base with LoRA r 16 / alpha 8; text weights from
#: text_model_path, or a random RoBERTa-base without one).
PAPER: dict = {}
#: `ecgbench validate` and the contract tests: seconds.
TINY = {
    "ecg_dim": 16,
    "ecg_depth": 1,
    "ecg_heads": 2,
    "stem_channels": 8,
    "text_dim": 16,
    "text_depth": 1,
    "text_heads": 2,
    "vocab_size": 300,
    "max_tokens": 64,
    "batch_size": 16,
    "max_epochs": 2,
    "patience": 1,
    "cache_pretrain": False,
}

_MORE = dict(citation=CITATION, reference=REFERENCE, license="MIT", budgets={"ci": CI, "paper": PAPER},
             validate_overrides=TINY)


@hookimpl
def ecgbench_register_tasks(register) -> None:
    register(RETRIEVE_REPORT)


@hookimpl
def ecgbench_register_models(register) -> None:
    register(
        ModelSpec(
            name="baseline-tfidf-cca",
            task=TASK,
            summary="floor: TF-IDF of reports and hand-made ECG features, aligned by CCA (no network, no labels)",
            factory="ecgbench_more.baseline:create",
            config="ecgbench_more.baseline:TfidfCCAConfig",
            budgets={"ci": {}, "paper": {}},
            license="MIT",
        )
    )
    register(
        ModelSpec(
            name="more",
            task=TASK,
            summary="MoRE: ECG ViT and RoBERTa with LoRA, contrastively aligned on ECG-report pairs",
            factory="ecgbench_more.model:create_retriever",
            config="ecgbench_more.config:MoreConfig",
            **_MORE,
        )
    )
    register(
        ModelSpec(
            name="more-zeroshot",
            task="classify-71-labels",
            summary="MoRE zero-shot: each statement scored by the ECG's similarity to prompts naming it",
            factory="ecgbench_more.model:create_zeroshot",
            config="ecgbench_more.config:ZeroShotConfig",
            **_MORE,
        )
    )
    register(
        ModelSpec(
            name="more-linear",
            task="classify-71-labels",
            summary="MoRE linear probe: logistic regression per statement on the frozen ECG encoder",
            factory="ecgbench_more.model:create_linear",
            config="ecgbench_more.config:LinearProbeConfig",
            **_MORE,
        )
    )
