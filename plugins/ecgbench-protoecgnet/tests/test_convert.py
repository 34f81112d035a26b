"""The protoecgnet converter, on a fusion-model state built from the published key names and shapes.

The reference ``FusionProtoClassifier`` (bbj-lab/protoecgnet ``src/fusion.py``) over
``ProtoECGNet1D`` (``resnet1d18``, ``src/backbones.py``) and two ``ProtoECGNet2D`` (torchvision
ResNet-18 with a 12 x 7 stem) is described here by its keys and shapes alone, with one
prototype per class (the shapes of the published 5/18/7 differ only in the first dimension).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from ecgbench_protoecgnet.branches import load_branches
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.convert import PTBXL_ORDER, convert, original_order, similarity_scale
from ecgbench_protoecgnet.network import ProtoECGNetModule

from ecgbench.data.labels import SCP_CODES
from ecgbench.weights import WeightsError


def resnet_shapes(prefix: str, two_d: bool) -> dict[str, tuple[int, ...]]:
    def kernel(k: int) -> tuple[int, ...]:
        return (k, k) if two_d else (k,)

    shapes = {f"{prefix}conv1.weight": (64, 1, 12, 7) if two_d else (64, 12, 7)}
    shapes |= {f"{prefix}bn1.{n}": (64,) for n in ("weight", "bias", "running_mean", "running_var")}
    shapes[f"{prefix}bn1.num_batches_tracked"] = ()
    c_in = 64
    for layer, width in enumerate((64, 128, 256, 512), start=1):
        for i in range(2):
            b = f"{prefix}layer{layer}.{i}."
            shapes |= {f"{b}conv1.weight": (width, c_in, *kernel(3)), f"{b}conv2.weight": (width, width, *kernel(3))}
            for bn in ("bn1", "bn2"):
                shapes |= {f"{b}{bn}.{n}": (width,) for n in ("weight", "bias", "running_mean", "running_var")}
                shapes[f"{b}{bn}.num_batches_tracked"] = ()
            if i == 0 and layer > 1:
                shapes[f"{b}downsample.0.weight"] = (width, c_in, *kernel(1))
                shapes |= {f"{b}downsample.1.{n}": (width,) for n in ("weight", "bias", "running_mean", "running_var")}
                shapes[f"{b}downsample.1.num_batches_tracked"] = ()
            c_in = width
    if two_d:
        shapes |= {f"{prefix}fc.weight": (1000, 512), f"{prefix}fc.bias": (1000,)}
    return shapes


def fusion_shapes(per_class: dict[str, int], local_len: int = 3, global_len: int = 32) -> dict[str, tuple[int, ...]]:
    counts = {b: len(c) for b, c in load_branches().items()}
    shapes: dict[str, tuple[int, ...]] = {}
    total = 0
    for branch, module, two_d, length in (("rhythm", "model1d", False, 1), ("local", "model2d_partial", True, local_len),
                                           ("global", "model2d_global", True, global_len)):
        p = per_class[branch] * counts[branch]
        total += p
        root = f"{module}.feature_extractor." + ("resnet." if two_d else "")
        shapes |= resnet_shapes(root, two_d)
        proto = (p, 512, 1, length) if two_d else (p, 512)
        add_on = (512, 512, 1, 1) if two_d else (512, 512)
        shapes |= {f"{module}.prototype_vectors": proto, f"{module}.ones": proto,
                   f"{module}.classifier.weight": (counts[branch], p),
                   f"{module}.prototype_class_identity": (p, counts[branch]),
                   f"{module}.add_on_layers.0.weight": add_on, f"{module}.add_on_layers.0.bias": (512,),
                   f"{module}.add_on_layers.2.weight": add_on, f"{module}.add_on_layers.2.bias": (512,)}
    shapes |= {"classifier.weight": (71, total), "classifier.bias": (71,)}
    return shapes


def fusion_state(per_class=None, seed=0) -> dict[str, torch.Tensor]:
    per_class = per_class or {"rhythm": 1, "local": 1, "global": 1}
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in fusion_shapes(per_class).items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(7)
        elif key.endswith("prototype_class_identity"):
            p, c = shape
            state[key] = torch.zeros(p, c)
            state[key][torch.arange(p), torch.arange(p) // (p // c)] = 1.0
        elif key.endswith(".ones"):
            state[key] = torch.ones(shape)
        else:
            state[key] = torch.randn(shape, generator=g)
    return state


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("proto") / "fusion.ckpt"
    state = fusion_state()
    torch.save({"state_dict": {f"model.{k}": v for k, v in state.items()} | {"criterion.pos_weight": torch.ones(71)}},
               path)
    return path, state


@pytest.fixture(scope="module")
def converted(checkpoint):
    return convert(checkpoint[0])


def test_every_key_is_accounted_for_and_the_network_is_filled_but_its_training_heads(converted):
    facts = converted.facts
    assert facts["source_keys"] == len(fusion_shapes({"rhythm": 1, "local": 1, "global": 1})) + 1
    net = ProtoECGNetModule({b: list(range(len(c))) for b, c in load_branches().items()},
                            ProtoECGNetConfig(**converted.weights.config), 1000)
    heads = [k for k in net.state_dict() if ".head." in k]
    assert facts["target_keys"] == len(net.state_dict()) - len(heads)
    missing, unexpected = net.load_state_dict({k[4:]: v for k, v in converted.weights.tensors.items()}, strict=False)
    assert sorted(missing) == sorted(heads) and not unexpected


def test_the_config_names_the_reference_architecture(converted):
    config = converted.weights.config
    assert config["window_pooling"] == "mean" and config["similarity"] == "cosine"
    assert (config["proto_dim"], config["proto_time_len_local"], config["prototypes_local"]) == (512, 3, 1)
    assert converted.facts["global_prototype_length"] == 32


def test_the_reference_scales_2d_cosines_by_floor_sqrt_ft_over_t():
    assert similarity_scale(512, 3, "2d") == pytest.approx(39 / 3)
    assert similarity_scale(512, 32, "2d") == pytest.approx(128 / 32)
    assert similarity_scale(512, 1, "1d") == 1.0


def test_a_3x3_kernel_on_a_one_row_map_is_its_middle_row():
    g = torch.Generator().manual_seed(1)
    x, w = torch.randn(2, 4, 1, 30, generator=g), torch.randn(5, 4, 3, 3, generator=g)
    for stride in (1, 2):
        full = F.conv2d(x, w, stride=stride, padding=1)
        middle = F.conv2d(x, w[:, :, 1:2, :], stride=(1, stride), padding=(0, 1))
        torch.testing.assert_close(full, middle)


def test_fusion_logits_of_the_reference_are_kept(converted, checkpoint):
    """Reference: logits = W [s_1d, k3 cos_local, k4 cos_global] + b over its prototype and
    statement orders; here: fusion over plain cosines in this package's orders."""
    _, state = checkpoint
    branches = load_branches()
    g = torch.Generator().manual_seed(2)
    cos = {b: torch.randn(3, len(c), generator=g, dtype=torch.float64) for b, c in branches.items()}  # one per class
    scales = {"rhythm": 1.0, "local": 39 / 3, "global": 128 / 32}
    reference_sims = torch.cat([cos[b][:, [branches[b].index(code) for code in original_order(branches[b])]] * scales[b]
                                for b in ("rhythm", "local", "global")], dim=1)
    reference = reference_sims @ state["classifier.weight"].double().T + state["classifier.bias"].double()
    reference = reference[:, [PTBXL_ORDER.index(code) for code in SCP_CODES]]
    ours = torch.cat([cos[b] for b in ("rhythm", "local", "global")], dim=1)
    tensors = converted.weights.tensors
    logits = ours @ tensors["net.fusion.weight"].double().T + tensors["net.fusion.bias"].double()
    torch.testing.assert_close(logits, reference, rtol=1e-6, atol=1e-5)  # the folded weights are float32


def test_prototypes_follow_their_class_into_scp_codes_order(converted, checkpoint):
    _, state = checkpoint
    local = load_branches()["local"]
    order = original_order(local)
    i = local.index("NDT")  # first in PTB-XL's order, not first alphabetically
    np.testing.assert_array_equal(converted.weights.tensors["net.branches.local.prototypes.prototypes"][i],
                                  state["model2d_partial.prototype_vectors"][order.index("NDT"), :, 0])


def test_ptbxl_order_is_a_permutation_of_the_71_statements():
    assert sorted(PTBXL_ORDER) == sorted(SCP_CODES) and len(PTBXL_ORDER) == 71


@pytest.mark.shared_data
def test_ptbxl_order_is_the_order_of_the_official_statement_table():
    root = Path(os.environ.get("ECGBENCH_SHARED_DATA") or Path(__file__).resolve().parents[3] / ".." / "shared" / "data")
    table = root / "ptbxl-sample" / "scp_statements.csv"
    if not table.is_file():
        pytest.skip(f"PTB-XL sample not found at {table.parent}")
    with open(table, newline="") as f:
        assert tuple(row[0] for row in list(csv.reader(f))[1:]) == PTBXL_ORDER


def test_a_branch_checkpoint_without_the_fusion_layer_is_refused(tmp_path, checkpoint):
    _, state = checkpoint
    partial = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    torch.save(partial, tmp_path / "branch.pth")
    with pytest.raises(WeightsError, match="no tensor 'classifier.weight'"):
        convert(tmp_path / "branch.pth")


def test_an_unused_placeholder_that_is_not_unused_is_still_accounted_for(tmp_path, checkpoint):
    _, state = checkpoint
    extra = dict(state) | {"model1d.feature_extractor.fc.weight": torch.zeros(16, 512)}
    torch.save(extra, tmp_path / "extra.pth")
    with pytest.raises(WeightsError, match=r"no place in the conversion: 'model1d\.feature_extractor\.fc\.weight'"):
        convert(tmp_path / "extra.pth")
