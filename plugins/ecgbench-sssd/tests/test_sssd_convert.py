"""The sssd-ecg converter, on checkpoints built from the published key names and shapes.

The original ``SSSD_ECG`` model state (AI4HealthUOL/SSSD-ECG, ``src/sssd/models``) is described
here by its keys and shapes alone (``original_shapes``); a checkpoint is filled with random
values that respect the original's invariants (a state space shared by all features, Q the
conjugate of P, cached FFT nodes), at small sizes so the tests take seconds.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from ecgbench_sssd.convert import (
    ORIGINAL_LEADS,
    convert,
    label_permutation,
    lead_permutation,
)

from ecgbench.data.labels import SCP_CODES
from ecgbench.data.leads import INDEPENDENT_LEADS
from ecgbench.nn.s4 import S4, legs_dplr
from ecgbench.nn.sssd_backbone import SSSDBackbone
from ecgbench.weights import WeightsError

SMALL = {"n_blocks": 2, "channels": 4, "s4_state": 8, "length": 20, "step_embed_dim": 8, "step_hidden_dim": 6,
         "label_embed_dim": 5}


def original_shapes(n_blocks=36, channels=256, s4_state=64, length=1000, step_embed_dim=128, step_hidden_dim=512,
                    label_embed_dim=128, n_labels=71, leads=8) -> dict[str, tuple[int, ...]]:
    """Every key of the original SSSD_ECG state dict with its shape (bidirectional S4, layer norm)."""
    h, half, nodes = 2 * channels, s4_state // 2, length // 2 + 1
    shapes = {
        "init_conv.0.conv.bias": (channels,), "init_conv.0.conv.weight_g": (channels, 1, 1),
        "init_conv.0.conv.weight_v": (channels, leads, 1), "embedding.weight": (n_labels, label_embed_dim),
        "residual_layer.fc_t1.weight": (step_hidden_dim, step_embed_dim), "residual_layer.fc_t1.bias": (step_hidden_dim,),
        "residual_layer.fc_t2.weight": (step_hidden_dim, step_hidden_dim), "residual_layer.fc_t2.bias": (step_hidden_dim,),
    }
    for n in range(n_blocks):
        b = f"residual_layer.residual_blocks.{n}"
        shapes |= {f"{b}.fc_t.weight": (channels, step_hidden_dim), f"{b}.fc_t.bias": (channels,)}
        for s4 in ("S41", "S42"):
            k = f"{b}.{s4}.s4_layer.kernel.kernel"
            shapes |= {
                f"{b}.{s4}.s4_layer.D": (1, h), f"{k}.C": (2, h, half, 2), f"{k}.omega": (nodes, 2), f"{k}.z": (nodes, 2),
                f"{k}.log_dt": (h,), f"{k}.B": (1, h, half, 2), f"{k}.P": (1, h, half, 2), f"{k}.w": (h, half, 2),
                f"{k}.Q": (1, h, half, 2), f"{b}.{s4}.s4_layer.output_linear.weight": (h, h),
                f"{b}.{s4}.s4_layer.output_linear.bias": (h, 1), f"{b}.{s4}.norm_layer.weight": (h,),
                f"{b}.{s4}.norm_layer.bias": (h,),
            }
        shapes |= {f"{b}.conv_layer.conv.bias": (h,), f"{b}.conv_layer.conv.weight_g": (h, 1, 1),
                   f"{b}.conv_layer.conv.weight_v": (h, channels, 3), f"{b}.fc_label.weight": (h, label_embed_dim),
                   f"{b}.fc_label.bias": (h,)}
        for conv in ("res_conv", "skip_conv"):
            shapes |= {f"{b}.{conv}.bias": (channels,), f"{b}.{conv}.weight_g": (channels, 1, 1),
                       f"{b}.{conv}.weight_v": (channels, channels, 1)}
    shapes |= {"final_conv.0.conv.bias": (channels,), "final_conv.0.conv.weight_g": (channels, 1, 1),
               "final_conv.0.conv.weight_v": (channels, channels, 1), "final_conv.2.conv.weight": (leads, channels, 1),
               "final_conv.2.conv.bias": (leads,)}
    return shapes


def original_state(seed: int = 0, **sizes) -> dict[str, torch.Tensor]:
    """Random values in the original layout, with its invariants. The state space of each layer is
    the HiPPO-LegS one with the modes in another order and another phase per mode (what an
    eigendecomposition elsewhere gives), stored once per feature."""
    g = torch.Generator().manual_seed(seed)
    sizes = {**SMALL, **sizes}
    shapes = original_shapes(**sizes)
    state = {k: torch.randn(s, generator=g) for k, s in shapes.items()}
    half, length = sizes["s4_state"] // 2, sizes["length"]
    w, p, b, _ = legs_dplr(sizes["s4_state"])
    nodes = torch.tensor(np.exp(-2j * np.pi / length), dtype=torch.complex64) ** torch.arange(length // 2 + 1)
    for key in [k for k in shapes if k.endswith(".kernel.kernel.w")]:
        prefix, h = key[: -len(".w")], shapes[key][0]
        order = torch.randperm(half, generator=g)
        phase = torch.exp(1j * 2 * math.pi * torch.rand(half, generator=g, dtype=torch.float64))
        w_, p_, b_ = (torch.from_numpy(x)[order] for x in (w, p, b))
        p_, b_ = p_ * phase.conj(), b_ * phase.conj()
        state[key] = torch.view_as_real(w_).float().expand(h, half, 2).clone()
        state[f"{prefix}.P"] = torch.view_as_real(p_).float().expand(1, h, half, 2).clone()
        state[f"{prefix}.B"] = torch.view_as_real(b_).float().expand(1, h, half, 2).clone()
        state[f"{prefix}.Q"] = torch.view_as_real(p_.conj().resolve_conj()).float().expand(1, h, half, 2).clone()
        state[f"{prefix}.log_dt"] = torch.rand(h, generator=g) * (math.log(0.1) - math.log(0.001)) + math.log(0.001)
        state[f"{prefix}.omega"] = torch.view_as_real(nodes)
        state[f"{prefix}.z"] = torch.view_as_real(2 * (1 - nodes) / (1 + nodes))
    state["init_conv.0.conv.weight_g"] = state["init_conv.0.conv.weight_v"].norm(dim=(1, 2), keepdim=True)
    return state


def write_checkpoint(path, state) -> None:
    torch.save({"model_state_dict": state, "optimizer_state_dict": {"state": {}, "param_groups": []}}, path)


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "100000.pkl"
    write_checkpoint(path, original_state())
    return path


def small_backbone(**kwargs) -> SSSDBackbone:
    s = SMALL
    return SSSDBackbone(length=s["length"], n_blocks=s["n_blocks"], channels=s["channels"], s4_state=s["s4_state"],
                        step_embed_dim=s["step_embed_dim"], step_hidden_dim=s["step_hidden_dim"],
                        label_embed_dim=s["label_embed_dim"], **kwargs)


def test_every_published_key_is_used_once_and_every_target_key_is_filled(checkpoint):
    result = convert(checkpoint)
    shapes = original_shapes(**SMALL)
    facts = result.facts
    assert facts["source_keys"] == len(shapes)
    # per S4 layer the conjugate Q and the FFT nodes omega and z are verified, not mapped
    assert facts["source_keys_verified"] == 3 * 2 * SMALL["n_blocks"]
    net = small_backbone()
    assert facts["target_keys"] == len(net.state_dict())
    net.load_state_dict({k[len("net."):]: v for k, v in result.weights.tensors.items()})
    trainable = sum(p.numel() for p in net.parameters())
    assert facts["target_trainable_parameters"] == trainable


def test_the_published_size_has_1417_original_keys_for_the_1201_of_the_network():
    shapes = original_shapes()
    with torch.device("meta"):
        net = SSSDBackbone()
    assert len(shapes) == 1417 and len(net.state_dict()) == 1201
    assert sum(p.numel() for p in net.parameters()) == 50_202_504


def test_the_result_names_the_network_sizes_and_the_published_training(checkpoint):
    result = convert(checkpoint)
    config = result.weights.config
    assert {k: config[k] for k in ("n_blocks", "channels", "s4_state", "label_embed_dim")} == {
        "n_blocks": 2, "channels": 4, "s4_state": 8, "label_embed_dim": 5}
    assert config["n_iters"] == 100_000 and config["batch_size"] == 6 and config["conv_init"] == "pytorch_default"
    assert result.weights.extra["n_samples"] == SMALL["length"] and result.weights.extra["fs"] == 100.0


def test_leads_are_put_in_this_packages_order():
    assert ORIGINAL_LEADS == ("I", "V1", "V2", "V3", "V4", "V5", "V6", "aVF")
    perm = lead_permutation()
    assert [ORIGINAL_LEADS[i] for i in perm] == list(INDEPENDENT_LEADS)


def test_input_and_output_convolutions_follow_the_lead_permutation(checkpoint):
    state = torch.load(checkpoint, weights_only=True)["model_state_dict"]
    tensors = convert(checkpoint).weights.tensors
    perm = lead_permutation()
    v_in = tensors["net.input_conv.parametrizations.weight.original1"]
    assert torch.equal(v_in, state["init_conv.0.conv.weight_v"][:, perm, 0])
    assert torch.equal(tensors["net.output_zero.weight"], state["final_conv.2.conv.weight"][perm, :, 0])
    assert torch.equal(tensors["net.output_zero.bias"], state["final_conv.2.conv.bias"][perm])


def test_label_embedding_rows_move_from_alphabetical_to_scp_codes_order(checkpoint):
    state = torch.load(checkpoint, weights_only=True)["model_state_dict"]
    tensors = convert(checkpoint).weights.tensors
    alphabetical = sorted(SCP_CODES)
    for i in (0, 17, 70):
        row = alphabetical.index(SCP_CODES[i])
        assert torch.equal(tensors["net.label_embedding"][i], state["embedding.weight"][row])
    assert sorted(label_permutation()) == list(range(71))


def original_kernel(state: dict, prefix: str, length: int, cauchy: str) -> torch.Tensor:
    """The original S4 layer's kernel [2, H, L] from its stored tensors, by its formula: Cauchy sums
    r(v) = dt Σ v / (z − w dt) (plus the conjugate terms for conjugate pairs) over the stored
    modes, the rank-1 Woodbury correction, × 2 / (1 + ω), inverse real FFT."""
    def c(key: str) -> torch.Tensor:
        return torch.view_as_complex(state[f"{prefix}.{key}"].double().contiguous())

    dt = state[f"{prefix}.log_dt"].double().exp()
    w, b, p, q, cc = c("w"), c("B")[0], c("P")[0], c("Q")[0], c("C")
    z, omega = c("z"), c("omega")
    wdt = w * dt[:, None]

    def r(v: torch.Tensor) -> torch.Tensor:
        terms = v[..., None] / (z - wdt[..., None])
        if cauchy == "conjugate_pairs":
            terms = terms + v.conj()[..., None] / (z - wdt.conj()[..., None])
        return terms.sum(-2) * dt[:, None]

    k_f = (r(cc * b) - r(cc * p) * r(q * b) / (1 + r(q * p))) * 2 / (1 + omega)
    return torch.fft.irfft(k_f, n=length)


@pytest.mark.parametrize("cauchy", ["conjugate_pairs", "stored_modes"])
def test_converted_s4_kernels_equal_the_originals_from_its_own_state_space(checkpoint, cauchy):
    state = torch.load(checkpoint, weights_only=True)["model_state_dict"]
    tensors = convert(checkpoint).weights.tensors
    h, length = 2 * SMALL["channels"], SMALL["length"]
    for block, original, target in ((0, "S41", "s4_first"), (1, "S42", "s4_second")):
        layer = S4(h, SMALL["s4_state"], length, cauchy=cauchy).double()
        prefix = f"net.blocks.{block}.{target}.s4."
        layer.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        ours = layer.kernel().detach()
        theirs = original_kernel(state, f"residual_layer.residual_blocks.{block}.{original}.s4_layer.kernel.kernel",
                                 length, cauchy)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6 * float(theirs.abs().max()))


def test_the_two_cauchy_sums_give_different_kernels(checkpoint):
    state = torch.load(checkpoint, weights_only=True)["model_state_dict"]
    prefix = "residual_layer.residual_blocks.0.S41.s4_layer.kernel.kernel"
    pairs, stored = (original_kernel(state, prefix, SMALL["length"], c) for c in ("conjugate_pairs", "stored_modes"))
    assert float((pairs - stored).norm() / pairs.norm()) > 0.05


def test_recomputing_the_state_space_instead_of_copying_it_would_change_the_kernel(checkpoint):
    tensors = convert(checkpoint).weights.tensors
    prefix = "net.blocks.0.s4_first.s4."
    copied = S4(2 * SMALL["channels"], SMALL["s4_state"], SMALL["length"]).double()
    copied.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    recomputed = S4(2 * SMALL["channels"], SMALL["s4_state"], SMALL["length"]).double()
    own = {k: v for k, v in recomputed.state_dict().items() if k in ("w", "p", "b")}
    recomputed.load_state_dict({**{k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}, **own})
    assert not torch.allclose(copied.kernel(), recomputed.kernel(), atol=1e-3)


def test_a_tensor_of_another_shape_is_named(tmp_path):
    state = original_state()
    key = "residual_layer.residual_blocks.1.fc_label.weight"
    state[key] = torch.zeros(8, 7)
    write_checkpoint(tmp_path / "c.pkl", state)
    with pytest.raises(WeightsError, match=r"fc_label\.weight.*shape \[8, 7\].*\[8, 5\]"):
        convert(tmp_path / "c.pkl")


def test_a_key_the_architecture_does_not_have_is_named(tmp_path):
    state = original_state() | {"residual_layer.residual_blocks.0.extra.weight": torch.zeros(3)}
    write_checkpoint(tmp_path / "c.pkl", state)
    with pytest.raises(WeightsError, match=r"no place in the conversion: 'residual_layer\.residual_blocks\.0\.extra"):
        convert(tmp_path / "c.pkl")


def test_a_missing_key_is_named(tmp_path):
    state = original_state()
    del state["residual_layer.residual_blocks.1.skip_conv.bias"]
    write_checkpoint(tmp_path / "c.pkl", state)
    with pytest.raises(WeightsError, match=r"no tensor 'residual_layer\.residual_blocks\.1\.skip_conv\.bias'"):
        convert(tmp_path / "c.pkl")


def test_derived_tensors_are_checked_not_ignored(tmp_path):
    state = original_state()
    key = "residual_layer.residual_blocks.0.S42.s4_layer.kernel.kernel.Q"
    state[key] = state[key] + 1.0
    write_checkpoint(tmp_path / "c.pkl", state)
    with pytest.raises(WeightsError, match="should be the conjugate of P"):
        convert(tmp_path / "c.pkl")


def test_a_state_space_trained_per_feature_is_refused(tmp_path):
    state = original_state()
    key = "residual_layer.residual_blocks.0.S41.s4_layer.kernel.kernel.w"
    state[key][3] += 0.5
    write_checkpoint(tmp_path / "c.pkl", state)
    with pytest.raises(WeightsError, match="differs between features"):
        convert(tmp_path / "c.pkl")


class _NotATensor:
    pass


def test_a_checkpoint_with_pickled_objects_is_refused_not_executed(tmp_path):
    path = tmp_path / "c.pkl"
    torch.save({"model_state_dict": original_state(), "config": _NotATensor()}, path)
    with pytest.raises(WeightsError, match="not loaded"):
        convert(path)


def test_a_converted_checkpoint_is_evaluated_by_a_run_without_training(tmp_path):
    from ecgbench.conversion import convert_checkpoint
    from ecgbench.records import sha256_file
    from ecgbench.registry import Registry
    from ecgbench.runner import RunRequest, execute

    sizes = {"n_blocks": 1, "channels": 4, "s4_state": 8, "length": 1000, "step_embed_dim": 8,
             "step_hidden_dim": 6, "label_embed_dim": 5}
    state = original_state(**sizes)
    state["final_conv.2.conv.weight"] *= 1e-3  # random weights, but outputs of ECG size (mV)
    state["final_conv.2.conv.bias"] *= 0.0
    write_checkpoint(tmp_path / "100000.pkl", state)
    registry = Registry()
    out, metadata = convert_checkpoint(registry, "sssd-ecg", tmp_path / "100000.pkl", tmp_path / "sssd.safetensors")
    assert metadata.converted_from.source_sha256 == sha256_file(tmp_path / "100000.pkl")
    network = [f"{k}={json.dumps(v)}" for k, v in metadata.config.items() if k in sizes]
    request = RunRequest(
        task="generate", model="sssd", budget="paper", weights=out, results=tmp_path / "results", quiet=True,
        sets=[*network, "steps=2", "sample_batch_size=16", "data.n_records=100", "task.n_boot=10",
              "task.floor=false", "task.tstr=false", "task.plot_records=0"],
    )
    record = execute(request, registry).record
    assert record.status == "completed", record.errors
    assert record.notes["trained_in_this_run"] is False and record.weights.converted_from["format"] == "sssd-ecg"
    assert record.weights.adapted == {} and record.metric("nfe").value == 2  # sampling settings are not in the file
