"""Check that converted ProtoECGNet weights give the reference fusion model's logits (float64).

    python benchmarks/parity_with_original.py --original /path/to/protoecgnet/src

Needs a checkout of bbj-lab/protoecgnet (nothing of it is in this repository) and torchvision
(its 2-D branches are torchvision's ResNet-18). The script builds the reference
``FusionProtoClassifier`` over ``ProtoECGNet1D`` (rhythm, 16 statements, 5 prototypes each) and
two ``ProtoECGNet2D`` (local: 52 statements, 18 prototypes of 3 latent steps; global: 3
statements, 7 prototypes of 32 steps) with the published settings (cosine latent space, linear
add-on layers), randomises its batch-norm statistics, saves its state, converts it with the
``protoecgnet`` converter and compares the 71 logits of both on the same input, twice: as the
reference computes (a 1e-4 inside the 2-D norms) and with that epsilon set to 0.

Shims that only make the reference importable offline on a CPU: its 2-D backbone asks for
ImageNet weights by default, so it is built with ``pretrained=False`` (the weights are replaced
anyway); torchvision's compiled operators (unused here) are skipped when they cannot load.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import types
from pathlib import Path

import torch
from ecgbench_protoecgnet.branches import branch_label_indices, load_branches
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.convert import PTBXL_ORDER, convert
from ecgbench_protoecgnet.network import ProtoECGNetModule

from ecgbench.data.labels import SCP_CODES

BRANCH_SETTINGS = {  # module, dimension, classes, label set, prototypes per class, prototype length
    "model1d": ("1D", 16, "1", 5, None),
    "model2d_partial": ("2D", 52, "3", 18, 3),
    "model2d_global": ("2D", 3, "4", 7, 32),
}


def import_reference(src: Path) -> tuple[types.ModuleType, types.ModuleType, types.ModuleType]:
    try:
        importlib.import_module("torchvision")
    except RuntimeError:  # compiled operators built for another torch; the models do not need them
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    sys.path.insert(0, str(src))
    backbones = importlib.import_module("backbones")
    models_2d = importlib.import_module("proto_models2D")
    models_2d.resnet18 = lambda **kwargs: backbones.ResNet2D("resnet18", pretrained=False, **kwargs)
    return importlib.import_module("proto_models1D"), models_2d, importlib.import_module("fusion")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--original", type=Path, required=True, help="the reference's src folder")
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    models_1d, models_2d, fusion = import_reference(args.original)
    torch.manual_seed(args.seed)
    branches = {}
    for name, (dim, classes, label_set, per_class, length) in BRANCH_SETTINGS.items():
        common = dict(num_classes=classes, single_class_prototype_per_class=per_class, joint_prototypes_per_border=0,
                      proto_dim=512, latent_space_type="arc", add_on_layers_type="linear", class_specific=True,
                      last_layer_connection_weight=1.0, custom_groups=True, label_set=label_set)
        if dim == "1D":
            branches[name] = models_1d.ProtoECGNet1D(backbone="resnet1d18", **common)
        else:
            branches[name] = models_2d.ProtoECGNet2D(backbone="resnet18", proto_time_len=length, **common)
    reference = fusion.FusionProtoClassifier(branches["model1d"], branches["model2d_partial"], branches["model2d_global"])
    with torch.no_grad():
        for module in reference.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.normal_(0.0, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fusion.pth"
        torch.save(reference.state_dict(), path)
        converted = convert(path)
    facts = converted.facts
    print(f"reference keys {facts['source_keys']} (mapped {facts['source_keys_mapped']}, checked and dropped "
          f"{facts['source_keys_verified']}), target keys {facts['target_keys']}, parameters "
          f"{facts['target_parameters']:,}; similarity scales {facts['similarity_scale']}")

    ours = ProtoECGNetModule(branch_label_indices(load_branches()), ProtoECGNetConfig(**converted.weights.config), 1000)
    ours.load_state_dict({k[len("net."):]: v for k, v in converted.weights.tensors.items()}, strict=False)
    ours, reference = ours.double().eval(), reference.double().eval()
    x = torch.randn(args.batch, 12, 1000, generator=torch.Generator().manual_seed(args.seed + 1), dtype=torch.float64)
    for epsilon in (1e-4, 0.0):
        for model in branches.values():
            model.epsilon = epsilon
        previous = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)  # the reference allocates its 2-D activations in the default dtype
        try:
            with torch.no_grad():
                theirs, mine = reference(x[:, None]), ours(x)
            theirs = theirs[:, [PTBXL_ORDER.index(code) for code in SCP_CODES]]  # its outputs in PTB-XL's order
        finally:
            torch.set_default_dtype(previous)
        diff = float((theirs - mine).abs().max())
        print(f"epsilon {epsilon:g} in the reference's 2-D norms: max |reference - converted| over the 71 logits = "
              f"{diff:.3g}, relative {diff / float(theirs.abs().max()):.3g}")


if __name__ == "__main__":
    main()
