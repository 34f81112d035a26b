"""Projection moves every prototype exactly onto a latent window of a training record of its
class and records which record and which stretch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.network import PrototypeBranch, latent_steps
from ecgbench_protoecgnet.projection import project_prototypes, window_samples

CFG = ProtoECGNetConfig(widths=(8, 8, 8, 8), blocks=(1, 1, 1, 1), proto_dim=8, prototypes_local=2,
                        prototypes_rhythm=2, proto_time_len_local=3)  # fmt: skip


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12, 400)).astype(np.float32)
    y = np.zeros((n, 3), dtype=np.uint8)
    y[: n // 2, 0] = 1
    y[n // 3 :, 1] = 1  # class 2 has no positive record
    return x, y, np.array([f"rec{i:02d}" for i in range(n)])


@pytest.mark.parametrize("branch_name", ["local", "rhythm"])
def test_every_projected_prototype_equals_a_latent_window_of_its_source_record(branch_name):
    torch.manual_seed(0)
    x, y, ids = _data()
    branch = PrototypeBranch(branch_name, 3, CFG, latent_steps(CFG, 400))
    sources = project_prototypes(branch, x, y, ids, batch_size=5, device="cpu")
    layer = branch.prototypes
    index = {rid: i for i, rid in enumerate(ids)}
    with torch.no_grad():
        for p, source in enumerate(sources[:4]):  # classes 0 and 1 have records
            latent = branch.latent(torch.from_numpy(x[index[source.record_id]][None]))
            window = layer.windows(latent)[0, source.window]
            # distance 0 up to float rounding (the source was embedded in a batch, here alone)
            assert float(torch.linalg.vector_norm(layer.prototypes[p] - window)) < 1e-5
            similarity = layer.window_similarities(latent)[0, p, source.window]
            assert float(similarity) == pytest.approx(1.0, abs=1e-5)


def test_a_prototype_only_takes_windows_of_records_that_carry_its_class():
    torch.manual_seed(0)
    x, y, ids = _data()
    branch = PrototypeBranch("local", 3, CFG, latent_steps(CFG, 400))
    sources = project_prototypes(branch, x, y, ids, batch_size=7, device="cpu")
    index = {rid: i for i, rid in enumerate(ids)}
    for p, source in enumerate(sources[:4]):
        assert y[index[source.record_id], p // 2] == 1


def test_a_prototype_of_a_class_without_training_records_keeps_its_vector_and_has_no_source():
    torch.manual_seed(0)
    x, y, ids = _data()
    branch = PrototypeBranch("local", 3, CFG, latent_steps(CFG, 400))
    before = branch.prototypes.prototypes.detach().clone()
    sources = project_prototypes(branch, x, y, ids, batch_size=8, device="cpu")
    assert sources[4] is None and sources[5] is None
    torch.testing.assert_close(branch.prototypes.prototypes[4:], before[4:])


def test_projection_picks_the_best_window_over_all_batches():
    torch.manual_seed(0)
    x, y, ids = _data()
    branch = PrototypeBranch("local", 3, CFG, latent_steps(CFG, 400))
    initial = branch.prototypes.prototypes.detach().clone()
    one = project_prototypes(branch, x, y, ids, batch_size=len(x), device="cpu")
    with torch.no_grad():
        branch.prototypes.prototypes.copy_(initial)
    many = project_prototypes(branch, x, y, ids, batch_size=3, device="cpu")
    assert [(s.record_id, s.window) for s in one[:4]] == [(s.record_id, s.window) for s in many[:4]]


def test_window_samples_map_latent_steps_to_input_samples():
    # 1000 samples over 32 latent steps: 31.25 samples per step; window 4 of length 3 -> [125, 219)
    assert window_samples(4, 3, 30, 1000, pooled=False) == (125, 219)
    assert window_samples(0, 1, 1, 1000, pooled=True) == (0, 1000)
