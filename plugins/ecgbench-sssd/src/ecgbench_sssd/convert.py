"""``ecgbench weights convert --from sssd-ecg IN OUT``: the original SSSD-ECG checkpoint into ``sssd``.

The original training script saves ``{"model_state_dict": ..., "optimizer_state_dict": ...}`` of
its ``SSSD_ECG`` network (AI4HealthUOL/SSSD-ECG, ``src/sssd``); only the model state is read, with
``torch.load(weights_only=True)``. The mapping, written from the published architecture (module
names and shapes of the original's ``SSSD_ECG``, ``Residual_group``, ``Residual_block`` and
``S4Layer``), onto :class:`ecgbench.nn.sssd_backbone.SSSDBackbone`:

- names: ``init_conv.0.conv`` -> ``input_conv``; ``embedding.weight`` -> ``label_embedding``;
  ``residual_layer.fc_t1/fc_t2`` -> ``step_mlp.0/2``; block ``i``: ``fc_t`` -> ``step_projection``,
  ``conv_layer.conv`` -> ``conv``, ``S41``/``S42`` -> ``s4_first``/``s4_second``, ``fc_label`` ->
  ``label_projection``, ``res_conv``/``skip_conv`` -> ``residual_conv``/``skip_conv``;
  ``final_conv.0.conv`` -> ``output_conv``; ``final_conv.2.conv`` -> ``output_zero``.
- weight norm: the original's ``weight_g``/``weight_v`` are the norm and direction that
  ``parametrizations.weight.original0/original1`` hold here; 1x1 convolutions drop the kernel axis.
- S4 layer: ``kernel.kernel.C`` (length-corrected, ``[2, H, N/2, 2]``: causal and anti-causal) ->
  ``c``; ``D [1, H]`` -> ``d``; ``output_linear`` (bias ``[H, 1]``) -> ``output_linear``;
  ``norm_layer`` -> ``norm``. The fixed state space is **copied**, not recomputed: ``w``, ``B``,
  ``P`` (stored once per feature, identical rows) -> ``w``, ``b``, ``p``, and ``log_dt``. C is tied
  to the mode order and phase of the original's own float32 eigendecomposition, which differ
  from this package's. ``Q`` (the conjugate of ``P``) and the cached FFT nodes ``omega`` and
  ``z`` are derived tensors: they are checked against their definition and then dropped.
- leads: the original models I, V1–V6, aVF (its arrays are ordered I, II, V1–V6, III, aVR,
  aVL, aVF and it keeps indices 0, 2–7, 11); this package models I, aVF, V1–V6. The input
  convolution's columns and the output convolution's rows are permuted accordingly.
- statements: the published preprocessing orders the 71 statements alphabetically
  (``lbl_itos = sorted(...)``); the label embedding's rows are put in ``SCP_CODES`` order.

Every key of the checkpoint is used once and every shape is checked (``SourceState``); the
network sizes are read from the shapes (published: 36 blocks, 256 channels, N = 64, L = 1000),
the training settings are the published ones (the checkpoint does not record them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ecgbench.conversion import Converted
from ecgbench.data.labels import SCP_CODES
from ecgbench.data.leads import INDEPENDENT_LEADS
from ecgbench.nn.sssd_backbone import SSSDBackbone
from ecgbench.nn.state_mapping import SourceState, fill_target, load_foreign_checkpoint, tensors_of
from ecgbench.weights import ModelWeights, TrainingData, WeightsError

#: The original's 8 modelled leads, in its channel order.
ORIGINAL_LEADS: tuple[str, ...] = ("I", "V1", "V2", "V3", "V4", "V5", "V6", "aVF")
#: The published training settings (config_SSSD_ECG.json and train.py), which the checkpoint does not record.
PUBLISHED_TRAINING = {
    "n_iters": 100_000,
    "batch_size": 6,
    "lr": 2e-4,
    "normalise": "none",
    "ema_decay": 0.0,
    "conv_init": "pytorch_default",
    "s4_dropout": 0.0,
    "diffusion_steps": 200,
    "beta_start": 1e-4,
    "beta_end": 0.02,
}
FS = 100.0


def lead_permutation() -> list[int]:
    """For each lead this package models, its channel index in the original."""
    return [ORIGINAL_LEADS.index(lead) for lead in INDEPENDENT_LEADS]


def label_permutation() -> list[int]:
    """For each statement in SCP_CODES order, its row in the original's alphabetical order."""
    original = sorted(SCP_CODES)
    return [original.index(code) for code in SCP_CODES]


def _sizes(src: SourceState) -> dict:
    """Network sizes read from the checkpoint's shapes."""
    def shape(key: str) -> tuple[int, ...]:
        if key not in src:
            raise WeightsError(f"{src.name}: no tensor {key!r}; this is not an SSSD_ECG model state")
        return tuple(src.tensors[key].shape)

    blocks = {int(k.split(".")[2]) for k in src if k.startswith("residual_layer.residual_blocks.")}
    if not blocks or blocks != set(range(max(blocks) + 1)):
        raise WeightsError(f"{src.name}: residual blocks {sorted(blocks)[:5]}... are not numbered 0..n-1")
    c_shape = shape("residual_layer.residual_blocks.0.S41.s4_layer.kernel.kernel.C")
    return {
        "n_blocks": len(blocks),
        "channels": shape("init_conv.0.conv.weight_v")[0],
        "leads": shape("init_conv.0.conv.weight_v")[1],
        "s4_state": 2 * c_shape[2],
        "s4_bidirectional": c_shape[0] == 2,
        "s4_layer_norm": "residual_layer.residual_blocks.0.S41.norm_layer.weight" in src,
        "length": 2 * (shape("residual_layer.residual_blocks.0.S41.s4_layer.kernel.kernel.omega")[0] - 1),
        "step_embed_dim": shape("residual_layer.fc_t1.weight")[1],
        "step_hidden_dim": shape("residual_layer.fc_t1.weight")[0],
        "n_labels": shape("embedding.weight")[0],
        "label_embed_dim": shape("embedding.weight")[1],
    }


def _normed_conv(src: SourceState, original: str, target: str, c_out: int, c_in: int, kernel: int) -> dict:
    """``weight_g``/``weight_v``/``bias`` -> parametrised weight norm (1x1: no kernel axis)."""
    g = src.take(f"{original}.weight_g", (c_out, 1, 1))
    v = src.take(f"{original}.weight_v", (c_out, c_in, kernel))
    if kernel == 1:
        g, v = g[:, :, 0], v[:, :, 0]
    return {
        f"{target}.parametrizations.weight.original0": g,
        f"{target}.parametrizations.weight.original1": v,
        f"{target}.bias": src.take(f"{original}.bias", (c_out,)),
    }


def _shared_rows(src: SourceState, key: str, shape: tuple[int, ...]) -> torch.Tensor:
    """A fixed state-space tensor stored once per feature: all rows must be equal; returns one."""
    tensor = src.take(key, shape)
    rows = tensor.reshape(-1, *tensor.shape[-2:]) if tensor.dim() == 4 else tensor
    if not torch.equal(rows, rows[:1].expand_as(rows)):
        raise WeightsError(
            f"{src.name}: {key!r} differs between features; SSSD-ECG keeps its state space fixed and shared, "
            "this checkpoint trained it, which the sssd network does not hold"
        )
    return rows[0].clone()


def _fft_nodes(length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The original's cached ω (L-th roots of unity, first L/2 + 1) and z = 2(1 − ω)/(1 + ω), float32."""
    omega = torch.tensor(np.exp(-2j * np.pi / length), dtype=torch.complex64) ** torch.arange(length // 2 + 1)
    z = 2 * (1 - omega) / (1 + omega)
    return torch.view_as_real(omega), torch.view_as_real(z)


def _s4_layer(src: SourceState, original: str, target: str, features: int, half: int, kernels: int,
              length: int, layer_norm: bool) -> dict:
    kernel = f"{original}.s4_layer.kernel.kernel"
    out = {
        f"{target}.s4.c": src.take(f"{kernel}.C", (kernels, features, half, 2)),
        f"{target}.s4.log_dt": src.take(f"{kernel}.log_dt", (features,)),
        f"{target}.s4.w": _shared_rows(src, f"{kernel}.w", (features, half, 2)),
        f"{target}.s4.b": _shared_rows(src, f"{kernel}.B", (1, features, half, 2)),
        f"{target}.s4.p": _shared_rows(src, f"{kernel}.P", (1, features, half, 2)),
        f"{target}.s4.d": src.take(f"{original}.s4_layer.D", (1, features))[0],
        f"{target}.s4.output_linear.weight": src.take(f"{original}.s4_layer.output_linear.weight", (features, features)),
        f"{target}.s4.output_linear.bias": src.take(f"{original}.s4_layer.output_linear.bias", (features, 1))[:, 0],
    }
    p = src.tensors[f"{kernel}.P"]
    src.verify(f"{kernel}.Q", torch.view_as_real(torch.view_as_complex(p.contiguous()).conj().resolve_conj()), "the conjugate of P", rtol=0, atol=0)
    omega, z = _fft_nodes(length)
    src.verify(f"{kernel}.omega", omega, f"the FFT nodes for length {length}", rtol=0, atol=1e-5)
    src.verify(f"{kernel}.z", z, "2(1 - omega)/(1 + omega)", rtol=1e-4, atol=1e-4)
    if layer_norm:
        out[f"{target}.norm.weight"] = src.take(f"{original}.norm_layer.weight", (features,))
        out[f"{target}.norm.bias"] = src.take(f"{original}.norm_layer.bias", (features,))
    return out


def map_state(state: dict[str, torch.Tensor], name: str) -> tuple[dict[str, torch.Tensor], dict, dict]:
    """The original's model state -> (SSSDBackbone state, sizes, facts about the mapping)."""
    src = SourceState(state, name)
    s = _sizes(src)
    if s["leads"] != len(INDEPENDENT_LEADS) or s["n_labels"] != len(SCP_CODES):
        raise WeightsError(
            f"{name}: the network models {s['leads']} leads and {s['n_labels']} statements; the published model "
            f"(and sssd) has {len(INDEPENDENT_LEADS)} leads and {len(SCP_CODES)} statements"
        )
    ch, half, kernels = s["channels"], s["s4_state"] // 2, 2 if s["s4_bidirectional"] else 1
    values: dict[str, torch.Tensor] = {}
    leads = lead_permutation()
    conv = _normed_conv(src, "init_conv.0.conv", "input_conv", ch, len(leads), 1)
    conv["input_conv.parametrizations.weight.original1"] = conv["input_conv.parametrizations.weight.original1"][:, leads]
    values.update(conv)
    values["label_embedding"] = src.take("embedding.weight", (s["n_labels"], s["label_embed_dim"]))[label_permutation()]
    for i, (orig, target) in enumerate((("fc_t1", "0"), ("fc_t2", "2"))):
        fan_in = s["step_embed_dim"] if i == 0 else s["step_hidden_dim"]
        values[f"step_mlp.{target}.weight"] = src.take(f"residual_layer.{orig}.weight", (s["step_hidden_dim"], fan_in))
        values[f"step_mlp.{target}.bias"] = src.take(f"residual_layer.{orig}.bias", (s["step_hidden_dim"],))
    for n in range(s["n_blocks"]):
        o, t = f"residual_layer.residual_blocks.{n}", f"blocks.{n}"
        values[f"{t}.step_projection.weight"] = src.take(f"{o}.fc_t.weight", (ch, s["step_hidden_dim"]))
        values[f"{t}.step_projection.bias"] = src.take(f"{o}.fc_t.bias", (ch,))
        values.update(_normed_conv(src, f"{o}.conv_layer.conv", f"{t}.conv", 2 * ch, ch, 3))
        for orig_s4, target_s4 in (("S41", "s4_first"), ("S42", "s4_second")):
            values.update(_s4_layer(src, f"{o}.{orig_s4}", f"{t}.{target_s4}", 2 * ch, half, kernels, s["length"], s["s4_layer_norm"]))
        values[f"{t}.label_projection.weight"] = src.take(f"{o}.fc_label.weight", (2 * ch, s["label_embed_dim"]))
        values[f"{t}.label_projection.bias"] = src.take(f"{o}.fc_label.bias", (2 * ch,))
        values.update(_normed_conv(src, f"{o}.res_conv", f"{t}.residual_conv", ch, ch, 1))
        values.update(_normed_conv(src, f"{o}.skip_conv", f"{t}.skip_conv", ch, ch, 1))
    values.update(_normed_conv(src, "final_conv.0.conv", "output_conv", ch, ch, 1))
    values["output_zero.weight"] = src.take("final_conv.2.conv.weight", (len(leads), ch, 1))[leads, :, 0]
    values["output_zero.bias"] = src.take("final_conv.2.conv.bias", (len(leads),))[leads]
    facts = src.finish()
    return values, s, facts


def backbone_for(sizes: dict) -> SSSDBackbone:
    """An SSSDBackbone of these sizes on the meta device (shapes only, nothing allocated)."""
    with torch.device("meta"):
        return SSSDBackbone(
            leads=sizes["leads"], length=sizes["length"], n_blocks=sizes["n_blocks"], channels=sizes["channels"],
            s4_state=sizes["s4_state"], s4_bidirectional=sizes["s4_bidirectional"],
            s4_layer_norm=sizes["s4_layer_norm"], step_embed_dim=sizes["step_embed_dim"],
            step_hidden_dim=sizes["step_hidden_dim"], n_labels=sizes["n_labels"],
            label_embed_dim=sizes["label_embed_dim"],
        )


def convert(path: Path) -> Converted:
    """The original checkpoint at ``path`` as ``sssd`` weights (see the module docs)."""
    checkpoint = load_foreign_checkpoint(path)
    state = checkpoint.get("model_state_dict", checkpoint)
    state = tensors_of(state, path, "'model_state_dict'")
    values, sizes, facts = map_state(state, Path(path).name)
    target = backbone_for(sizes)
    tensors = fill_target(target, values, Path(path).name)
    trainable = {name for name, p in target.named_parameters() if p.requires_grad}
    facts.update({
        "target_keys": len(tensors),
        "target_trainable_parameters": int(sum(tensors[k].numel() for k in trainable)),
        "leads_permuted": f"{','.join(ORIGINAL_LEADS)} -> {','.join(INDEPENDENT_LEADS)}",
        "statements": "alphabetical -> SCP_CODES order",
    })
    config = {
        "n_blocks": sizes["n_blocks"], "channels": sizes["channels"], "s4_state": sizes["s4_state"],
        "s4_bidirectional": sizes["s4_bidirectional"], "s4_layer_norm": sizes["s4_layer_norm"],
        "step_embed_dim": sizes["step_embed_dim"], "step_hidden_dim": sizes["step_hidden_dim"],
        "label_embed_dim": sizes["label_embed_dim"], "s4_cauchy": "conjugate_pairs", **PUBLISHED_TRAINING,
    }
    extra = {"data_scale_mv": 1.0, "n_samples": sizes["length"], "fs": FS, "leads": list(INDEPENDENT_LEADS)}
    training = TrainingData(
        name="ptbxl", folds="train=1-8,val=9,test=10", fs=FS, labels=list(SCP_CODES),
        fingerprint="",  # the original's preprocessed arrays are not identified by the checkpoint
    )
    weights = ModelWeights("sssd", "model", {f"net.{k}": v for k, v in tensors.items()}, extra, config)
    return Converted(weights=weights, training_data=training, facts=facts)
