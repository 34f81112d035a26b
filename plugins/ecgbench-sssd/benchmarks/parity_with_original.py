"""Check that converted SSSD-ECG weights give the original network's output (float64).

    python benchmarks/parity_with_original.py --original /path/to/SSSD-ECG/src/sssd [--size published|small] [--blocks 4]

Needs a checkout of the original code (AI4HealthUOL/SSSD-ECG; nothing of it is in this
repository) and its small dependencies ``einops`` and ``opt_einsum``. The script builds the
original ``SSSD_ECG`` network with the published config (its own random initialisation), saves
its state as its training script does, converts that file with the ``sssd-ecg`` converter, and
runs both networks in float64 on the same noisy input, diffusion steps and labels (the output
layer, zero at initialisation, gets random weights first):

- once with the original's own pure-PyTorch Cauchy kernel (``cauchy_slow``, what runs without
  pykeops or its CUDA extension) against ``s4_cauchy="stored_modes"``;
- once with the conjugate-pair Cauchy kernel of the original's pykeops path, supplied here as a
  torch function of the same formula (pykeops needs a GPU), against ``"conjugate_pairs"``.

Both comparisons run twice: as shipped, where the original rounds its cached FFT nodes and each
S4 kernel to float32 even in a float64 network, and in float64 throughout (nodes recomputed,
the kernel's final cast to float32 left out). It prints the largest absolute and relative output
differences, the relative difference between
the two kernels on one layer, and the spread of a convolution's initial weights against the two
initialisations (PyTorch's default, which the original effectively uses, and He-normal).
Two shims only make the original importable on a CPU: ``pytorch_lightning`` (used for a logging
decorator) is stubbed when absent, and ``Tensor.cuda`` returns the tensor when there is no GPU.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import re
import sys
import tempfile
import types
from pathlib import Path

import torch
from ecgbench_sssd.convert import convert, lead_permutation

from ecgbench.data.labels import SCP_CODES
from ecgbench.nn.sssd_backbone import SSSDBackbone

SMALL = {"num_res_layers": 3, "res_channels": 16, "skip_channels": 16, "s4_d_state": 16, "s4_lmax": 100,
         "diffusion_step_embed_dim_in": 32, "diffusion_step_embed_dim_mid": 64, "diffusion_step_embed_dim_out": 64,
         "label_embed_dim": 16}


def import_original(folder: Path) -> types.ModuleType:
    """The original's models.SSSD_ECG module, importable on a CPU."""
    if importlib.util.find_spec("pytorch_lightning") is None:
        lightning = types.ModuleType("pytorch_lightning")
        lightning.utilities = types.SimpleNamespace(rank_zero_only=lambda f: f)
        sys.modules["pytorch_lightning"] = lightning
        sys.modules["pytorch_lightning.utilities"] = lightning.utilities  # type: ignore[assignment]
    if not torch.cuda.is_available():
        torch.Tensor.cuda = lambda self, *args, **kwargs: self  # type: ignore[method-assign]
    sys.path.insert(0, str(folder))
    return importlib.import_module("models.SSSD_ECG")


def published_config(folder: Path) -> dict:
    """wavenet_config of config_SSSD_ECG.json (whose trailing commas plain json rejects)."""
    text = (folder / "config" / "config_SSSD_ECG.json").read_text()
    return json.loads(re.sub(r",\s*([}\]])", r"\1", text))["wavenet_config"]


def conjugate_pair_cauchy(v: torch.Tensor, z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Σ_n v_n/(z − w_n) + conj(v_n)/(z − conj(w_n)): the sum the original's pykeops kernel computes."""
    v, w = v.unsqueeze(-1), w.unsqueeze(-1)
    return (v / (z - w) + v.conj() / (z - w.conj())).sum(dim=-2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--original", type=Path, required=True, help="the original's src/sssd folder")
    parser.add_argument("--size", choices=["published", "small"], default="published")
    parser.add_argument("--blocks", type=int, help="residual blocks for the output comparison (default: the "
                        "config's; in float64 each S4 layer caches about 260 MB of kernel basis at the published width)")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    original = import_original(args.original)
    s4_module = sys.modules["models.S4Model"]
    config = published_config(args.original) | (SMALL if args.size == "small" else {})
    if args.blocks:
        torch.manual_seed(args.seed)
        full = original.SSSD_ECG(**config)
        with tempfile.TemporaryDirectory() as tmp:
            torch.save({"model_state_dict": full.state_dict()}, Path(tmp) / "100000.pkl")
            counts = convert(Path(tmp) / "100000.pkl").facts
        print(f"{config['num_res_layers']} blocks: original keys {counts['source_keys']}, target keys "
              f"{counts['target_keys']}, trainable parameters {counts['target_trainable_parameters']:,}")
        del full
        config = config | {"num_res_layers": args.blocks}
    torch.manual_seed(args.seed)
    net = original.SSSD_ECG(**config)
    with torch.no_grad():  # its output layer starts at zero; give it weights so outputs can differ
        net.final_conv[2].conv.weight.normal_(0.0, 0.1)
        net.final_conv[2].conv.bias.normal_(0.0, 0.1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "100000.pkl"
        torch.save({"model_state_dict": net.state_dict()}, path)
        converted = convert(path)
    facts = converted.weights.config | converted.facts
    print(f"original keys {facts['source_keys']} (mapped {facts['source_keys_mapped']}, verified and dropped "
          f"{facts['source_keys_verified']}), target keys {facts['target_keys']}, trainable parameters "
          f"{facts['target_trainable_parameters']:,}")

    length = config["s4_lmax"]
    g = torch.Generator().manual_seed(args.seed + 1)
    x = torch.randn(args.batch, 8, length, generator=g, dtype=torch.float64)
    steps = torch.randint(0, 200, (args.batch, 1), generator=g)
    labels = (torch.rand(args.batch, 71, generator=g) < 0.1).double()
    net = net.double().eval()
    compare(net, converted, facts, x, steps, labels, s4_module, "as shipped")
    # The original rounds two things to float32 even in a float64 network: its cached FFT nodes
    # and every S4 kernel (HippoSSKernel.forward returns k.float()). Without those roundings:
    for module in net.modules():
        if isinstance(module, s4_module.SSKernelNPLR):
            module._omega(module.L, dtype=torch.cdouble, device="cpu", cache=True)
    s4_module.HippoSSKernel.forward = lambda self, L=None: self.kernel(rate=self.rate, L=L)[0]
    compare(net, converted, facts, x, steps, labels, s4_module, "float64 throughout")
    report_kernels_and_init(net, original, config, s4_module, args.seed)


def compare(net, converted, facts, x, steps, labels, s4_module, label: str) -> None:
    length, leads = x.shape[-1], lead_permutation()
    alphabetical = sorted(SCP_CODES)
    labels_ours = labels[:, [alphabetical.index(code) for code in SCP_CODES]]
    for cauchy in ("stored_modes", "conjugate_pairs"):
        if cauchy == "conjugate_pairs":
            s4_module.has_pykeops, s4_module.cauchy_conj = True, conjugate_pair_cauchy
        else:
            s4_module.has_pykeops = False
        ours = SSSDBackbone(
            leads=8, length=length, n_blocks=facts["n_blocks"], channels=facts["channels"], s4_state=facts["s4_state"],
            step_embed_dim=facts["step_embed_dim"], step_hidden_dim=facts["step_hidden_dim"],
            label_embed_dim=facts["label_embed_dim"], s4_cauchy=cauchy,
        )
        ours.load_state_dict({k[len("net."):]: v for k, v in converted.weights.tensors.items()})
        ours = ours.double().eval()
        with torch.no_grad():
            theirs = net((x, labels, steps.double()))[:, leads]
            mine = ours(x[:, leads], steps[:, 0].double(), labels_ours)
        diff = float((theirs - mine).abs().max())
        print(f"{label}, {cauchy:>15}: max |original - converted| = {diff:.3g}, relative to max |output| "
              f"{diff / float(theirs.abs().max()):.3g}")


def report_kernels_and_init(net, original, config, s4_module, seed: int) -> None:
    length = config["s4_lmax"]
    kernel = net.residual_layer.residual_blocks[0].S41.s4_layer.kernel
    s4_module.has_pykeops, s4_module.cauchy_conj = True, conjugate_pair_cauchy
    with torch.no_grad():
        pairs = kernel(L=length)
        s4_module.has_pykeops = False
        stored = kernel(L=length)
    print(f"kernel of block 0, first S4 layer: ||stored modes - conjugate pairs|| / ||conjugate pairs|| = "
          f"{float((stored - pairs).norm() / pairs.norm()):.3g}")

    torch.manual_seed(seed)
    conv = original.Conv(config["res_channels"], 2 * config["res_channels"], kernel_size=3)
    fan_in = config["res_channels"] * 3
    print(f"initial conv direction SD {float(conv.conv.weight_v.std()):.4f}; PyTorch default predicts "
          f"{1 / math.sqrt(3 * fan_in):.4f}, He-normal {math.sqrt(2 / fan_in):.4f}")


if __name__ == "__main__":
    main()
