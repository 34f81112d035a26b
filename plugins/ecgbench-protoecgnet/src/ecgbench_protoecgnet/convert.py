"""``ecgbench weights convert --from protoecgnet IN OUT``: the reference ProtoECGNet fusion model.

Input: the state of the reference implementation's ``FusionProtoClassifier`` (bbj-lab/protoecgnet,
``src/fusion.py``), as ``torch.save(model.state_dict())`` or a Lightning checkpoint
(``{"state_dict": ...}`` with a ``model.`` prefix); read with ``torch.load(weights_only=True)``.
It holds the three trained branches (``model1d``: ``ProtoECGNet1D`` on ``resnet1d18``;
``model2d_partial`` and ``model2d_global``: ``ProtoECGNet2D`` on the torchvision ResNet-18 with
a 12 x 7 stem) and the fusion layer ``classifier`` over their concatenated prototype
similarities. A branch checkpoint alone has no fusion layer and cannot give the 71 outputs.

What the mapping does, written from the published modules:

- backbones: ``conv1``/``bn1`` -> the stem; ``layerL.i`` -> stage block ``2(L-1)+i``;
  ``downsample`` -> ``shortcut``. The 2-D blocks' 3 x 3 kernels run on a map one row high,
  where their outer rows only ever meet zero padding: the middle row is the 1 x 3 kernel
  here, exactly. torchvision's ImageNet head ``resnet.fc`` is never called by the reference
  forward pass; it is checked for its shape and dropped.
- add-on layers (two ``Linear`` in 1-D, two 1 x 1 ``Conv2d`` in 2-D) -> 1 x 1 ``Conv1d``;
  prototypes ``[P, 512]`` / ``[P, 512, 1, T]`` -> ``[P, 512, T]``.
- similarity: the reference uses cosine similarity, in the 2-D branches scaled by
  ``floor(sqrt(512 T)) / T`` for prototypes of ``T`` latent steps (its normalising factor is
  ``sqrt(1 * T)``: the prototype shape's height, 1, stands where the comment says F), and
  averages the 2-D windows (``window_pooling="mean"``).
  Since everything after a similarity is linear, the scale is folded into the branch last
  layers and the fusion columns of those branches: the logits are the reference's, while the
  similarities reported here stay plain cosines. The reference normalises with
  ``sqrt(sum x^2 + 1e-4)`` where this package uses the exact norm: a relative difference of
  about 1e-7 for the latent windows' norms (reported by the parity script).
- statements: the reference orders each branch's statements, and the 71 fusion outputs, as
  PTB-XL's ``scp_statements.csv`` lists them (its regrouped table keeps that order); the
  prototypes (grouped by class), last layers and fusion rows are put in ``SCP_CODES`` order.
- ``ones`` (unused by the reference), ``prototype_class_identity`` (checked: one block of
  prototypes per class, no joint prototypes) and a Lightning ``criterion.pos_weight`` are
  accounted for and dropped. The stage-1 heads of this package (training only) stay empty.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ecgbench.conversion import Converted
from ecgbench.data.labels import SCP_CODES
from ecgbench.nn.state_mapping import SourceState, fill_target, load_foreign_checkpoint, tensors_of
from ecgbench.weights import ModelWeights, TrainingData, WeightsError
from ecgbench_protoecgnet.branches import BRANCHES, branch_label_indices, load_branches
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.network import ProtoECGNetModule

#: PTB-XL's scp_statements.csv order: the reference's order of the 71 statements (fusion
#: outputs) and, filtered, of each branch's statements.
PTBXL_ORDER: tuple[str, ...] = (
    "NDT", "NST_", "DIG", "LNGQT", "NORM", "IMI", "ASMI", "LVH", "LAFB", "ISC_", "IRBBB", "1AVB", "IVCD", "ISCAL",
    "CRBBB", "CLBBB", "ILMI", "LAO/LAE", "AMI", "ALMI", "ISCIN", "INJAS", "LMI", "ISCIL", "LPFB", "ISCAS", "INJAL",
    "ISCLA", "RVH", "ANEUR", "RAO/RAE", "EL", "WPW", "ILBBB", "IPLMI", "ISCAN", "IPMI", "SEHYP", "INJIN", "INJLA",
    "PMI", "3AVB", "INJIL", "2AVB", "ABQRS", "PVC", "STD_", "VCLVH", "QWAVE", "LOWT", "NT_", "PAC", "LPR", "INVT",
    "LVOLT", "HVOLT", "TAB_", "STE_", "PRC(S)", "SR", "AFIB", "STACH", "SARRH", "SBRAD", "PACE", "SVARR", "BIGU",
    "AFLT", "SVTAC", "PSVT", "TRIGU",
)
#: The reference's branch modules in fusion order, and their backbone kind.
ORIGINAL_BRANCHES: dict[str, tuple[str, str]] = {
    "rhythm": ("model1d", "1d"), "local": ("model2d_partial", "2d"), "global": ("model2d_global", "2d"),
}
WIDTHS, BLOCKS = (64, 128, 256, 512), (2, 2, 2, 2)
TRAINING_ONLY = ("criterion.pos_weight",)


def original_order(branch_codes: tuple[str, ...]) -> list[str]:
    """A branch's statements in the reference's order."""
    return [code for code in PTBXL_ORDER if code in branch_codes]


def similarity_scale(proto_dim: int, length: int, kind: str) -> float:
    """What the reference multiplies a cosine by: 1 in 1-D, floor(sqrt(F T)) / T in 2-D (its
    ``input_vector_length`` over the square of ``sqrt(prototype_shape[-2] * prototype_shape[-1])``)."""
    return 1.0 if kind == "1d" else int(math.sqrt(proto_dim * length)) / length


def _backbone(src: SourceState, original: str, target: str, kind: str) -> dict[str, torch.Tensor]:
    root = f"{original}.feature_extractor" + (".resnet" if kind == "2d" else "")
    out: dict[str, torch.Tensor] = {}

    def conv(o: str, t: str, c_out: int, c_in: int, k: int) -> None:
        if kind == "1d":
            out[t] = src.take(o, (c_out, c_in, k))
        elif k == 1:
            out[t] = src.take(o, (c_out, c_in, 1, 1))
        else:  # 3 x 3 on a one-row map: only the middle row meets data
            out[t] = src.take(o, (c_out, c_in, 3, 3))[:, :, 1:2, :]

    def bn(o: str, t: str, c: int) -> None:
        for name in ("weight", "bias", "running_mean", "running_var"):
            out[f"{t}.{name}"] = src.take(f"{o}.{name}", (c,))
        out[f"{t}.num_batches_tracked"] = src.take(f"{o}.num_batches_tracked", ())

    if kind == "1d":
        out[f"{target}.stem.0.weight"] = src.take(f"{root}.conv1.weight", (WIDTHS[0], 12, 7))
    else:
        out[f"{target}.stem.0.weight"] = src.take(f"{root}.conv1.weight", (WIDTHS[0], 1, 12, 7))
    bn(f"{root}.bn1", f"{target}.stem.1", WIDTHS[0])
    block, c_in = 0, WIDTHS[0]
    for stage, (width, n) in enumerate(zip(WIDTHS, BLOCKS, strict=True)):
        for i in range(n):
            o, t = f"{root}.layer{stage + 1}.{i}", f"{target}.stages.{block}"
            conv(f"{o}.conv1.weight", f"{t}.conv1.weight", width, c_in, 3)
            bn(f"{o}.bn1", f"{t}.bn1", width)
            conv(f"{o}.conv2.weight", f"{t}.conv2.weight", width, width, 3)
            bn(f"{o}.bn2", f"{t}.bn2", width)
            if f"{o}.downsample.0.weight" in src:
                conv(f"{o}.downsample.0.weight", f"{t}.shortcut.0.weight", width, c_in, 1)
                bn(f"{o}.downsample.1", f"{t}.shortcut.1", width)
            block, c_in = block + 1, width
    if kind == "2d":  # torchvision's ImageNet classifier, never called by the reference forward
        src.take(f"{root}.fc.weight", (1000, WIDTHS[-1]), role="unused (torchvision's ImageNet head)")
        src.take(f"{root}.fc.bias", (1000,), role="unused (torchvision's ImageNet head)")
    return out


def _branch(src: SourceState, branch: str, codes: tuple[str, ...], dim: int) -> tuple[dict, torch.Tensor, float, dict]:
    """One branch's tensors in this package's layout (last layer scaled), the permutation of its
    prototypes (new -> original index), the similarity scale, and its sizes."""
    original, kind = ORIGINAL_BRANCHES[branch]
    target = f"branches.{branch}"
    values = _backbone(src, original, f"{target}.backbone", kind)
    order = original_order(codes)
    key = f"{original}.prototype_vectors"
    if key not in src:
        raise WeightsError(f"{src.name}: no tensor {key!r}; this is not a ProtoECGNet fusion model state")
    shape = tuple(src.tensors[key].shape)
    n_protos = shape[0]
    if n_protos % len(codes):
        raise WeightsError(f"{src.name}: {key!r} has {n_protos} prototypes for {len(codes)} classes; joint "
                           "prototypes (shared by two classes) have no place in this package's network")
    per_class = n_protos // len(codes)
    length = 1 if kind == "1d" else shape[3]
    protos = src.take(key, (n_protos, dim) if kind == "1d" else (n_protos, dim, 1, length))
    perm = torch.tensor([order.index(code) * per_class + k for code in codes for k in range(per_class)])
    values[f"{target}.prototypes.prototypes"] = protos.reshape(n_protos, dim, length)[perm]
    identity = torch.zeros(n_protos, len(codes))
    identity[torch.arange(n_protos), torch.arange(n_protos) // per_class] = 1.0
    src.verify(f"{original}.prototype_class_identity", identity, "one block of prototypes per class", rtol=0, atol=0)
    values[f"{target}.prototypes.identity"] = identity
    src.take(f"{original}.ones", protos.shape, role="unused (the reference's placeholder of ones)")
    rows = [order.index(code) for code in codes]
    scale = similarity_scale(dim, length, kind)
    values[f"{target}.last_layer.weight"] = src.take(f"{original}.classifier.weight", (len(codes), n_protos))[rows][:, perm] * scale
    for i in (0, 2):
        if kind == "1d":
            w = src.take(f"{original}.add_on_layers.{i}.weight", (dim, dim))[:, :, None]
        else:
            w = src.take(f"{original}.add_on_layers.{i}.weight", (dim, dim, 1, 1))[:, :, :, 0]
        values[f"{target}.add_on.{i}.weight"] = w
        values[f"{target}.add_on.{i}.bias"] = src.take(f"{original}.add_on_layers.{i}.bias", (dim,))
    return values, perm, scale, {"per_class": per_class, "length": length}


def map_state(state: dict[str, torch.Tensor], name: str) -> tuple[dict[str, torch.Tensor], dict, dict]:
    """The reference fusion state -> (ProtoECGNetModule state without the stage-1 heads, config, facts)."""
    if any(k.startswith("model.") for k in state):  # a Lightning checkpoint of the training module
        state = {k.removeprefix("model."): v for k, v in state.items()}
    src = SourceState(state, name)
    branches = load_branches()
    dim = int(src.tensors.get("model1d.prototype_vectors", torch.zeros(0, 512)).shape[-1])
    values: dict[str, torch.Tensor] = {}
    columns, scales, sizes = [], [], {}
    offset = 0
    for branch in BRANCHES:
        part, perm, scale, size = _branch(src, branch, branches[branch], dim)
        values |= part
        columns.append(perm + offset)
        scales.append(torch.full((len(perm),), scale))
        offset += len(perm)
        sizes[branch] = size
    rows = [PTBXL_ORDER.index(code) for code in SCP_CODES]
    fusion = src.take("classifier.weight", (len(SCP_CODES), offset))
    values["fusion.weight"] = fusion[rows][:, torch.cat(columns)] * torch.cat(scales)[None, :]
    values["fusion.bias"] = src.take("classifier.bias", (len(SCP_CODES),))[rows]
    for key in TRAINING_ONLY:
        if key in src:
            src.take(key, role="training only (the loss's class weights)")
    facts = src.finish()
    config = {
        "fs": 100.0, "highpass_hz": 0.5, "standardize": False, "widths": list(WIDTHS), "blocks": list(BLOCKS),
        "proto_dim": dim, "prototypes_rhythm": sizes["rhythm"]["per_class"],
        "prototypes_local": sizes["local"]["per_class"], "prototypes_global": sizes["global"]["per_class"],
        "proto_time_len_local": sizes["local"]["length"], "similarity": "cosine", "window_pooling": "mean",
    }
    facts["similarity_scale"] = {b: float(s[0]) for b, s in zip(BRANCHES, scales, strict=True)}
    facts["global_prototype_length"] = sizes["global"]["length"]
    return values, config, facts


def convert(path: Path) -> Converted:
    """The reference fusion model at ``path`` as ``protoecgnet`` weights (see the module docs)."""
    checkpoint = load_foreign_checkpoint(path)
    state = tensors_of(checkpoint.get("state_dict", checkpoint), path, "the model state")
    values, config, facts = map_state(state, Path(path).name)
    cfg = ProtoECGNetConfig(**config)
    n_samples = 1000  # 10 s at 100 Hz, the reference's input
    with torch.device("meta"):
        network = ProtoECGNetModule(branch_label_indices(load_branches()), cfg, n_samples)
    if network.branches["global"].prototypes.length != facts["global_prototype_length"]:
        raise WeightsError(
            f"{Path(path).name}: the global branch's prototypes span {facts['global_prototype_length']} latent steps, "
            f"the latent map of a 10-s record at 100 Hz has {network.branches['global'].prototypes.length}"
        )
    tensors = fill_target(network, values, Path(path).name, leave_out=lambda key: ".head." in key)
    facts |= {"target_keys": len(tensors), "target_parameters": int(sum(v.numel() for v in tensors.values()))}
    extra = {"n_samples": n_samples, "sources": [None] * sum(
        int(values[f"branches.{b}.prototypes.prototypes"].shape[0]) for b in BRANCHES)}
    training = TrainingData(name="ptbxl", folds="train=1-8,val=9,test=10", fs=100.0, labels=list(SCP_CODES))
    weights = ModelWeights("protoecgnet", "model", {f"net.{k}": v for k, v in tensors.items()}, extra, config)
    return Converted(weights=weights, training_data=training, facts=facts)
