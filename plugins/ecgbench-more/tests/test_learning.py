"""MoRE learns: its contrastive loss falls, and held-out phantom ECGs find their reports (and
their statements, zero-shot) far above chance.

One small network is pre-trained once for the module (a 1,000-record phantom cohort, a
1-block ViT and a 1-layer RoBERTa, at most 20 epochs); every test reads it from the shared
cache. That the ci budget beats the TF-IDF/CCA floor is measured by the leaderboard matrix
(and shown in the README); it takes minutes, too long for a unit test.
"""

from __future__ import annotations

import numpy as np
import pytest
from ecgbench_more.config import LinearProbeConfig, MoreConfig, ZeroShotConfig
from ecgbench_more.model import MoreLinear, MoreRetriever, MoreZeroShot
from ecgbench_more.retrieval.task import RetrieveReportConfig
from ecgbench_more.retrieval.task import run as run_retrieval

from ecgbench.context import RunContext
from ecgbench.data.dataset import FoldSplit
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.tasks.classify import ClassifyTaskConfig
from ecgbench.tasks.classify import run as run_classify

SMALL = {
    "ecg_dim": 32, "ecg_depth": 1, "ecg_heads": 2, "stem_channels": 16, "patch_samples": 10,
    "text_dim": 32, "text_depth": 1, "text_heads": 2, "vocab_size": 600, "max_tokens": 96,
    "learning_rate": 2e-3, "min_learning_rate": 1e-4, "weight_decay": 0.5, "batch_size": 48, "grad_accum": 1,
    "max_epochs": 20, "patience": 5, "augmentations": ("none",), "threads": 1,
}


@pytest.fixture(scope="module")
def cohort():
    return load_phantom(PhantomConfig(n_records=1000, cache=False))


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("more-cache")


def _ctx(shared_cache, tmp_path) -> RunContext:
    return RunContext(seed=0, artifacts_dir=tmp_path / "artifacts", cache_dir=shared_cache, quiet=True)


@pytest.fixture(scope="module")
def retrieval(cohort, shared_cache, tmp_path_factory):
    model = MoreRetriever(MoreConfig(**SMALL), _ctx(shared_cache, tmp_path_factory.mktemp("run")))
    result = run_retrieval(model, "more", cohort, FoldSplit(), RetrieveReportConfig(n_boot=200), model.ctx)
    return model, {m.name: m for m in result.metrics}


def test_the_contrastive_loss_falls(retrieval):
    history = retrieval[0].pretrained.history
    assert history["train_loss"][-1] < 0.85 * history["train_loss"][0]
    assert min(history["val_loss"]) < 0.9 * history["val_loss"][0]


def test_held_out_ecgs_find_their_reports_above_chance_by_more_than_the_interval(retrieval):
    metrics = retrieval[1]
    for direction in ("ecg_to_report", "report_to_ecg"):
        recall, rank = metrics[f"recall_at_10_{direction}"], metrics[f"median_rank_{direction}"]
        assert recall.ci_low > recall.params["chance"], recall
        assert rank.ci_high < rank.params["chance"], rank


def test_zero_shot_beats_the_label_prior_by_more_than_its_interval(retrieval, cohort, shared_cache, tmp_path):
    """The label prior (training prevalence) scores every record alike: macro AUROC exactly 0.5."""
    model = MoreZeroShot(ZeroShotConfig(**SMALL), _ctx(shared_cache, tmp_path))
    result = run_classify(model, "more-zeroshot", cohort, FoldSplit(), ClassifyTaskConfig(n_boot=200), model.ctx)
    assert model.ctx.notes["pretrain_cache"] == "hit"  # the network the retrieval test trained, no label seen
    auroc = next(m for m in result.metrics if m.name == "macro_auroc")
    assert auroc.ci_low > 0.5, auroc
    assert model.ctx.notes["prompt_language"] == "en"


def test_the_linear_probe_reads_the_statements_off_the_frozen_encoder(retrieval, cohort, shared_cache, tmp_path):
    model = MoreLinear(LinearProbeConfig(**SMALL, probe_c=(0.1, 1.0)), _ctx(shared_cache, tmp_path))
    result = run_classify(model, "more-linear", cohort, FoldSplit(), ClassifyTaskConfig(n_boot=200), model.ctx)
    auroc = next(m for m in result.metrics if m.name == "macro_auroc")
    assert auroc.ci_low > 0.6, auroc
    assert model.ctx.notes["probe_c"] in (0.1, 1.0)


def test_a_second_fit_with_the_same_settings_reads_the_cache_and_embeds_identically(retrieval, cohort, shared_cache,
                                                                                    tmp_path):
    first = retrieval[0]
    again = MoreRetriever(MoreConfig(**SMALL), _ctx(shared_cache, tmp_path))
    train, val, test = cohort.split()
    again.fit(train, val)
    assert again.ctx.notes["pretrain_cache"] == "hit"
    np.testing.assert_array_equal(again.embed_ecgs(test.signals[:5]), first.embed_ecgs(test.signals[:5]))
    reports = test.meta["report"].tolist()[:5]
    np.testing.assert_array_equal(again.embed_reports(reports), first.embed_reports(reports))


@pytest.mark.slow
def test_the_ci_budget_retrieves_own_reports_far_above_chance_on_held_out_phantom(tmp_path):
    """Minutes: the ci budget on the default cohort (as the leaderboard matrix runs it) finds the
    own report among the top 10 of the held-out test reports far more often than a random ranking
    (10 / n). Against the TF-IDF/CCA floor it is level on phantom 1.1.0 (README, "Measured"), so
    the floor is reported there, not asserted here."""
    from ecgbench_more.plugin import CI
    from ecgbench_more.retrieval.metrics import first_relevant, hit_at
    from ecgbench_more.retrieval.task import same_text

    data = load_phantom(PhantomConfig())
    model = MoreRetriever(MoreConfig(**CI), _ctx(tmp_path, tmp_path))
    samples = run_retrieval(model, "m", data, FoldSplit(), RetrieveReportConfig(n_boot=10), model.ctx).samples
    above, tied = first_relevant(samples["similarity"], same_text(samples["report"]))
    hits = hit_at(10, above, tied)
    resamples = np.random.default_rng(0).integers(0, len(hits), (1000, len(hits)))
    assert np.percentile(hits[resamples].mean(axis=1), 2.5) > 5 * 10 / len(hits), hits.mean()
