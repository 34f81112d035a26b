"""The ecg-jepa converter, on checkpoints built from the published key names and shapes.

The original JEPA state (kweimann/ECG-JEPA ``models/JEPA.py``: ``encoder``, ``predictor`` and
``target_encoder``; ``models/vision_transformer.py``, ``models/predictor.py``) is described here
by its keys and shapes alone; a checkpoint is filled with random values and saved the way
``pretrain.py`` saves it (model state, config as a dict, optimizer state, step).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ecgbench_jepa.config import LinearProbeConfig
from ecgbench_jepa.convert import convert
from ecgbench_jepa.pretrain import build_encoder

from ecgbench.weights import WeightsError

LEADS = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def pretrain_config(dim=192, depth=8, heads=4, **changes) -> dict:
    """configs/pretrain/ViTXS_ptbxl.yaml as the original stores it (dataclasses.asdict)."""
    return {
        "sampling_frequency": 500, "channels": tuple(LEADS), "channel_size": 5000, "patch_size": 25,
        "min_block_size": 10, "min_keep_ratio": 0.15, "max_keep_ratio": 0.25, "datasets": {"ptb-xl": 1.0},
        "dim": dim, "depth": depth, "num_heads": heads, "pred_dim": dim // 2, "pred_depth": depth,
        "pred_num_heads": heads, "mlp_ratio": 4.0, "qkv_bias": False, "dropout": 0.0, "attn_dropout": 0.0,
        "num_registers": 1, "bias": False, "norm_eps": 1e-6, "layer_scale_eps": 0.0, "steps": 100_000,
        "batch_size": 2048, "encoder_momentum": 0.998, "final_encoder_momentum": 0.9995, "learning_rate": 1e-3,
        "final_learning_rate": 1e-6, "learning_rate_warmup_steps": 10_000, "weight_decay": 0.01,
        "final_weight_decay": 0.1, "opt_betas": (0.9, 0.99), "opt_eps": 1e-6, "gradient_clip": 0.0,
        "gradient_accumulation_steps": 1, "checkpoint_interval": 10_000, **changes,
    }


def vit_shapes(prefix: str, dim: int, depth: int, patch: int, registers: int, norm_bias: bool) -> dict:
    shapes = {f"{prefix}patch_embed.proj.weight": (dim, 12, patch), f"{prefix}registers": (1, registers, dim),
              f"{prefix}norm.weight": (dim,)}
    for i in range(depth):
        b = f"{prefix}blocks.{i}."
        shapes |= {f"{b}norm1.weight": (dim,), f"{b}attn.qkv.weight": (3 * dim, dim), f"{b}attn.proj.weight": (dim, dim),
                   f"{b}norm2.weight": (dim,), f"{b}mlp.fc1.weight": (4 * dim, dim), f"{b}mlp.fc2.weight": (dim, 4 * dim)}
        if norm_bias:
            shapes |= {f"{b}norm1.bias": (dim,), f"{b}norm2.bias": (dim,)}
    if norm_bias:
        shapes[f"{prefix}norm.bias"] = (dim,)
    return shapes


def jepa_shapes(config: dict, norm_bias: bool, minified: bool = False) -> dict:
    dim, depth, pred = config["dim"], config["depth"], config["pred_dim"]
    args = (dim, depth, config["patch_size"], config["num_registers"], norm_bias)
    shapes = vit_shapes("target_encoder.", *args)
    if minified:
        return shapes
    shapes |= vit_shapes("encoder.", *args)
    shapes |= {"predictor.embed.weight": (pred, dim), "predictor.mask_token": (1, 1, pred),
               "predictor.norm.weight": (pred,), "predictor.proj.weight": (dim, pred)}
    for i in range(config["pred_depth"]):
        b = f"predictor.blocks.{i}."
        shapes |= {f"{b}norm1.weight": (pred,), f"{b}attn.qkv.weight": (3 * pred, pred),
                   f"{b}attn.proj.weight": (pred, pred), f"{b}norm2.weight": (pred,),
                   f"{b}mlp.fc1.weight": (4 * pred, pred), f"{b}mlp.fc2.weight": (pred, 4 * pred)}
        if norm_bias:
            shapes |= {f"{b}norm1.bias": (pred,), f"{b}norm2.bias": (pred,)}
    if norm_bias:
        shapes["predictor.norm.bias"] = (pred,)
    return shapes


def save(path, config, norm_bias=False, minified=False, **extra):
    g = torch.Generator().manual_seed(0)
    model = {k: torch.randn(s, generator=g) for k, s in jepa_shapes(config, norm_bias, minified).items()}
    payload = {"model": model, "config": config, **extra}
    if not minified:
        payload |= {"optimizer": {"state": {}, "param_groups": []}, "step": 100_000}
    torch.save(payload, path)
    return model


@pytest.mark.parametrize("minified", [False, True])
def test_the_target_encoder_becomes_the_encoder_and_pretraining_parts_are_accounted_for(tmp_path, minified):
    config = pretrain_config(dim=32, depth=2, heads=2)
    model = save(tmp_path / "chkpt.pt", config, minified=minified)
    result = convert(tmp_path / "chkpt.pt")
    facts, tensors = result.facts, result.weights.tensors
    assert facts["source_keys"] == len(model)
    assert facts["source_keys_mapped"] == len(vit_shapes("", 32, 2, 25, 1, False))
    skipped = facts["skipped_pretraining_only_keys"]
    assert (skipped["encoder"] > 0 and skipped["predictor"] > 0) != minified
    assert torch.equal(tensors["encoder.blocks.1.mlp.fc2.weight"], model["target_encoder.blocks.1.mlp.fc2.weight"])
    assert result.weights.architecture == "ecg-jepa-encoder" and result.weights.contents == "encoder"


def test_the_published_vit_s_has_its_parameter_count(tmp_path):
    config = pretrain_config(dim=384, depth=8, heads=6, datasets={"mimic-iv-ecg": 0.7, "code-15": 0.1})
    save(tmp_path / "vits.pt", config, minified=True)
    result = convert(tmp_path / "vits.pt")
    assert result.facts["target_parameters"] == 14_277_888  # configs/pretrain/ViTS_all.yaml
    assert result.weights.config == {"dim": 384, "depth": 8, "n_heads": 6, "patch_ms": 50.0, "n_registers": 1,
                                     "norm_bias": False, "sample_rate_hz": 500.0, "pretrained": True}
    assert result.training_data.name == "mimic-iv-ecg 0.7, code-15 0.1"


def test_checkpoints_with_layer_norm_biases_keep_17_more_tensors(tmp_path):
    config = pretrain_config()
    save(tmp_path / "old.pt", config, norm_bias=True, minified=True)
    save(tmp_path / "new.pt", config, norm_bias=False, minified=True)
    old, new = convert(tmp_path / "old.pt"), convert(tmp_path / "new.pt")
    assert old.facts["target_keys"] - new.facts["target_keys"] == 17  # 2 per block (8) + the final norm
    assert old.weights.config["norm_bias"] is True and new.weights.config["norm_bias"] is False


def test_converted_encoder_loads_into_the_encoder_a_run_builds(tmp_path):
    config = pretrain_config(dim=32, depth=2, heads=2)
    save(tmp_path / "c.pt", config, norm_bias=True, minified=True)
    weights = convert(tmp_path / "c.pt").weights
    run = LinearProbeConfig(dim=32, depth=2, n_heads=2, norm_bias=True, sample_rate_hz=500.0)
    encoder = build_encoder(run, fs=500.0)
    encoder.load_state_dict({k[len("encoder."):]: v for k, v in weights.tensors.items()})
    assert encoder.patch_size == 25 and encoder.n_positions == 200


def test_input_channels_are_put_in_the_harness_lead_order(tmp_path):
    order = ["V1", "V2", "V3", "V4", "V5", "V6", "I", "II", "III", "AVR", "AVL", "AVF"]
    model = save(tmp_path / "c.pt", pretrain_config(dim=32, depth=1, heads=2, channels=tuple(order)), minified=True)
    tensors = convert(tmp_path / "c.pt").weights.tensors
    original = model["target_encoder.patch_embed.proj.weight"]
    np.testing.assert_array_equal(tensors["encoder.patch_embed.proj.weight"][:, 0], original[:, order.index("I")])
    np.testing.assert_array_equal(tensors["encoder.patch_embed.proj.weight"][:, 6], original[:, order.index("V1")])


def test_a_linear_bias_the_encoder_cannot_hold_is_named(tmp_path):
    save(tmp_path / "c.pt", pretrain_config(dim=32, depth=1, heads=2, qkv_bias=True), minified=True)
    with pytest.raises(WeightsError, match="'qkv_bias' is True"):
        convert(tmp_path / "c.pt")


def test_a_wrong_shape_is_named(tmp_path):
    config = pretrain_config(dim=32, depth=1, heads=2)
    save(tmp_path / "c.pt", config, minified=True)
    payload = torch.load(tmp_path / "c.pt", weights_only=True)
    payload["model"]["target_encoder.blocks.0.mlp.fc1.weight"] = torch.zeros(100, 32)
    torch.save(payload, tmp_path / "c.pt")
    with pytest.raises(WeightsError, match=r"mlp\.fc1\.weight.*\[100, 32\].*\[128, 32\]"):
        convert(tmp_path / "c.pt")


def test_an_unknown_key_is_named(tmp_path):
    config = pretrain_config(dim=32, depth=1, heads=2)
    save(tmp_path / "c.pt", config, minified=True)
    payload = torch.load(tmp_path / "c.pt", weights_only=True)
    payload["model"]["target_encoder.blocks.0.attn_ls.weight"] = torch.zeros(32)
    torch.save(payload, tmp_path / "c.pt")
    with pytest.raises(WeightsError, match="attn_ls"):
        convert(tmp_path / "c.pt")


def test_a_fine_tuned_checkpoint_is_refused_with_the_reason(tmp_path):
    save(tmp_path / "c.pt", pretrain_config(dim=32, depth=1, heads=2), minified=True, eval_config={"frozen": True})
    with pytest.raises(WeightsError, match="fine-tuned checkpoint"):
        convert(tmp_path / "c.pt")
