"""The fitted model: outputs, prototype descriptions, explanations, checkpoints, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TINY
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.model import ProtoECGNet

from ecgbench.context import RunContext
from ecgbench.data.labels import SCP_INDEX
from ecgbench.errors import DataError


def test_predict_proba_gives_float32_probabilities_for_the_71_statements(tiny_model, cohort):
    p = tiny_model.predict_proba(cohort.signals[:5])
    assert p.shape == (5, 71) and p.dtype == np.float32
    assert p.min() >= 0.0 and p.max() <= 1.0


def test_prototype_similarities_have_one_column_per_described_prototype(tiny_model, cohort):
    sims = tiny_model.prototype_similarities(cohort.signals[:4])
    info = tiny_model.prototype_info()
    assert sims.shape == (4, len(info)) and sims.dtype == np.float32
    assert [item["index"] for item in info] == list(range(len(info)))
    assert {item["branch"] for item in info} == {"rhythm", "local", "global"}


def test_every_prototype_source_is_a_training_record_of_its_class(tiny_model, cohort):
    train, _, _ = cohort.split()
    rows = {rid: i for i, rid in enumerate(train.record_ids)}
    sourced = [item for item in tiny_model.prototype_info() if item["source_record_id"] is not None]
    assert sourced, "no prototype was projected"
    for item in sourced:
        assert train.labels[rows[item["source_record_id"]], SCP_INDEX[item["class"]]] == 1
        assert 0.0 <= item["window_start_s"] < item["window_end_s"] <= 10.0


def test_a_source_record_is_maximally_similar_to_its_prototype(tiny_model, cohort):
    train, _, _ = cohort.split()
    rows = {rid: i for i, rid in enumerate(train.record_ids)}
    item = next(
        i
        for i in tiny_model.prototype_info()
        if i["source_record_id"] is not None and i["branch"] == "local"
    )
    sims = tiny_model.prototype_similarities(train.signals[[rows[item["source_record_id"]]]])
    assert sims[0, item["index"]] == pytest.approx(1.0, abs=1e-4)


def test_explain_names_each_record_and_the_training_records_its_prototypes_came_from(
    tiny_model, cohort, tmp_path
):
    _, _, test = cohort.split()
    ids = test.record_ids[:3].tolist()
    explanations = tiny_model.explain(test.signals[:3], ids, tmp_path)
    assert [e["record_id"] for e in explanations] == ids
    info = tiny_model.prototype_info()
    for e in explanations:
        assert (tmp_path / e["png"]).stat().st_size > 0
        json.dumps(e)  # JSON-serialisable
        for statement in e["statements"]:
            for proto in statement["prototypes"]:
                assert info[proto["prototype"]]["class"] == statement["code"]
                assert proto["source_record_id"] == info[proto["prototype"]]["source_record_id"]


def test_explaining_a_prototype_source_points_back_at_that_record(cohort, tmp_path):
    train, val, _ = cohort.split()
    ctx = RunContext(seed=0, cache_dir=tmp_path / "cache", quiet=True)
    model = ProtoECGNet(ProtoECGNetConfig(**TINY, explain_threshold=0.0), ctx).fit(train, val)
    item = next(
        i
        for i in model.prototype_info()
        if i["source_record_id"] is not None and i["branch"] == "local"
    )
    row = int(np.flatnonzero(train.record_ids == item["source_record_id"])[0])
    (explanation,) = model.explain(
        train.signals[[row]], [item["source_record_id"]], tmp_path / "png"
    )
    statement = next(s for s in explanation["statements"] if s["code"] == item["class"])
    best = statement["prototypes"][0]
    assert best["similarity"] == pytest.approx(1.0, abs=1e-4)
    assert best["source_record_id"] == item["source_record_id"]
    assert best["input_window_s"] == pytest.approx([item["window_start_s"], item["window_end_s"]])


def test_a_second_fit_with_the_same_settings_reuses_the_checkpoint(cohort, tmp_path):
    train, val, test = cohort.split()
    first_ctx = RunContext(seed=0, cache_dir=tmp_path, quiet=True)
    first = ProtoECGNet(ProtoECGNetConfig(**TINY), first_ctx).fit(train, val)
    second_ctx = RunContext(seed=0, cache_dir=tmp_path, quiet=True)
    second = ProtoECGNet(ProtoECGNetConfig(**TINY), second_ctx).fit(train, val)
    assert first_ctx.notes["checkpoint"]["reused"] is False
    assert second_ctx.notes["checkpoint"]["reused"] is True
    assert second_ctx.notes["stages"] == first_ctx.notes["stages"]
    np.testing.assert_array_equal(
        first.predict_proba(test.signals), second.predict_proba(test.signals)
    )
    assert first.prototype_info() == second.prototype_info()


def test_training_is_repeatable_for_a_seed(cohort, tmp_path, tiny_model):
    train, val, test = cohort.split()
    again = ProtoECGNet(
        ProtoECGNetConfig(**TINY), RunContext(seed=0, cache_dir=tmp_path, quiet=True)
    ).fit(train, val)
    np.testing.assert_allclose(
        again.predict_proba(test.signals), tiny_model.predict_proba(test.signals), atol=1e-6
    )


def test_input_of_another_length_is_rejected_naming_both_lengths(tiny_model):
    with pytest.raises(DataError, match="1000 samples.*500"):
        tiny_model.predict_proba(np.zeros((2, 12, 500), dtype=np.float32))


def test_input_without_12_leads_is_rejected(tiny_model):
    with pytest.raises(DataError, match=r"\[n, 12, T\]"):
        tiny_model.predict_proba(np.zeros((2, 8, 1000), dtype=np.float32))


def test_the_stage_log_covers_every_stage_in_order(cohort, tmp_path):
    train, val, _ = cohort.split()
    ctx = RunContext(seed=0, cache_dir=tmp_path, quiet=True)
    ProtoECGNet(ProtoECGNetConfig(**TINY, epochs_prototypes=1), ctx).fit(train, val)
    names = [s["name"] for s in ctx.notes["stages"]]
    per_branch = ["feature_extractor", "prototypes", "joint", "projection", "last_layer"]
    assert names == [f"{b}/{s}" for b in ("rhythm", "local", "global") for s in per_branch] + [
        "fusion"
    ]
    assert ctx.notes["n_parameters"] > 0


def _imported(tiny_model, tmp_path) -> ProtoECGNet:
    from ecgbench.weights import WeightsMetadata

    weights = tiny_model.export_weights()
    metadata = WeightsMetadata(architecture="protoecgnet", contents="model", model="protoecgnet",
                               plugin="ecgbench-protoecgnet", plugin_version="0", config={})
    fresh = ProtoECGNet(tiny_model.config, RunContext(seed=4, cache_dir=tmp_path, quiet=True))
    fresh.import_weights(weights, metadata)
    return fresh


def test_exported_weights_predict_identically_without_training(tiny_model, cohort, tmp_path):
    train, val, test = cohort.split()
    fresh = _imported(tiny_model, tmp_path).fit(train, val)
    np.testing.assert_array_equal(fresh.predict_proba(test.signals), tiny_model.predict_proba(test.signals))
    assert fresh.prototype_info() == tiny_model.prototype_info()
    assert fresh.ctx.notes["trained_in_this_run"] is False and not (tmp_path / "checkpoints").exists()


def test_imported_weights_explain_records_whose_prototype_sources_are_not_in_the_data(tiny_model, cohort, tmp_path):
    train, val, test = cohort.split()
    other = train.subset(slice(0, 10), name="other")  # the prototypes' training records are mostly absent
    fresh = _imported(tiny_model, tmp_path).fit(other, val)
    explanations = fresh.explain(test.signals[:2], test.record_ids[:2].tolist(), tmp_path / "png")
    assert len(explanations) == 2 and all((tmp_path / "png" / e["png"]).is_file() for e in explanations)


def test_mean_window_pooling_averages_what_max_pooling_maximises():
    import torch
    from ecgbench_protoecgnet.prototypes import PrototypeLayer

    z = torch.randn(3, 8, 12, generator=torch.Generator().manual_seed(0))
    best, mean = (PrototypeLayer(2, 2, 8, 3, pooling=p) for p in ("max", "mean"))
    mean.load_state_dict(best.state_dict())
    windows = best.window_similarities(z)
    torch.testing.assert_close(best(z)[0], windows.max(-1).values)
    torch.testing.assert_close(mean(z)[0], windows.mean(-1))
    assert torch.equal(best(z)[1], mean(z)[1])  # the matching window is the best one either way
