"""Check converted ECG-JEPA encoders and the published mask sampler against the original code.

    python benchmarks/parity_with_original.py --original /path/to/ECG-JEPA [--size s] [--draws 20000]

Needs a checkout of kweimann/ECG-JEPA (nothing of it is in this repository; it imports torch,
numpy and PyYAML). The script builds the original ``JEPA`` model from its pretrain config of the
chosen size (its own random initialisation), saves it as ``pretrain.py`` does, converts that file
with the ``ecg-jepa`` converter and runs the original target encoder and the converted encoder in
float64 on the same 500 Hz input: the output tokens without registers (what pre-training
regresses) and with them (what the probe and the fine-tune read). Then it draws masks with the
original ``MaskCollator.sample_mask`` and with ``mask_sampler="published"`` and compares their
statistics (kept patches, masked runs per mask, run lengths); the two use different random
generators, so the comparison is of distributions, not of single masks.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from ecgbench_jepa.config import LinearProbeConfig
from ecgbench_jepa.convert import convert
from ecgbench_jepa.masking import masked_runs, sample_published_block_mask
from ecgbench_jepa.pretrain import build_encoder

CONFIGS = {"xs": "ViTXS_ptbxl", "s": "ViTS_all", "b": "ViTB_all"}


def mask_statistics(masks: list[np.ndarray]) -> dict[str, float]:
    runs = [masked_runs(m) for m in masks]
    lengths = [r for rs in runs for r in rs]
    return {"runs per mask": float(np.mean([len(r) for r in runs])), "mean run": float(np.mean(lengths)),
            "sd run": float(np.std(lengths)), "longest run": float(np.mean([max(r) for r in runs]))}


def sinusoidal_positions_float64(n: int, dim: int) -> torch.Tensor:
    """sin / cos of p / 10000^(2i / dim), interleaved, evaluated in float64."""
    position = torch.arange(n, dtype=torch.float64)[:, None]
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
    table = torch.zeros(n, dim, dtype=torch.float64)
    table[:, 0::2], table[:, 1::2] = torch.sin(position * frequency), torch.cos(position * frequency)
    return table


def compare(theirs, ours, x: torch.Tensor, label: str) -> None:
    with torch.no_grad():
        for registers in (False, True):
            theirs.keep_registers = registers
            a, b = theirs(x), ours(x, with_registers=registers)
            diff = float((a - b).abs().max())
            print(f"{label}, tokens {'with' if registers else 'without'} registers {tuple(a.shape)}: "
                  f"max |original - converted| = {diff:.3g}, relative {diff / float(a.abs().max()):.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--original", type=Path, required=True, help="the ECG-JEPA checkout (root folder)")
    parser.add_argument("--size", choices=sorted(CONFIGS), default="s")
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.path.insert(0, str(args.original))
    configs = importlib.import_module("configs")
    models = importlib.import_module("models")
    # data/masks.py alone: the data package's __init__ imports every dataset reader (h5py, ...)
    spec = importlib.util.spec_from_file_location("original_masks", args.original / "data" / "masks.py")
    masks_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(masks_module)
    collator = masks_module.MaskCollator

    config_file = args.original / "configs" / "pretrain" / f"{CONFIGS[args.size]}.yaml"
    config = configs.pretrain.Config(**configs.load_config_file(str(config_file)))
    torch.manual_seed(args.seed)
    original = models.JEPA(config, momentum_schedule=iter(()), use_sdp_kernel=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chkpt_100000.pt"
        torch.save({"model": original.state_dict(), "config": dataclasses.asdict(config), "step": 100_000}, path)
        converted = convert(path)
    facts = converted.facts
    print(f"ViT-{args.size.upper()}: checkpoint keys {facts['source_keys']} (mapped {facts['source_keys_mapped']}, "
          f"pre-training only {facts['skipped_pretraining_only_keys']}), encoder parameters {facts['target_parameters']:,}")

    ours = build_encoder(LinearProbeConfig(vit_size=args.size, sample_rate_hz=500.0), fs=500.0)
    ours.load_state_dict({k[len("encoder."):]: v for k, v in converted.weights.tensors.items()})
    theirs = original.target_encoder.double().eval()
    ours = ours.double().eval()
    x = torch.randn(2, 12, config.channel_size, generator=torch.Generator().manual_seed(args.seed + 1),
                    dtype=torch.float64)
    compare(theirs, ours, x, "as built")
    # Both position tables are float32 buffers of the same formula, rounded differently (the
    # original evaluates it in float32, ecgbench in float64); in float64 throughout:
    positions = sinusoidal_positions_float64(ours.n_positions, ours.dim)
    theirs.pos_embed, ours.positions = positions[None].clone(), positions.clone()
    compare(theirs, ours, x, "float64 positions")

    n = config.channel_size // config.patch_size
    np.random.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    sampler = collator(config.patch_size, config.min_block_size, config.min_keep_ratio, config.max_keep_ratio)
    theirs_masks, ours_masks = [], []
    for _ in range(args.draws):
        n_keep = math.ceil(np.random.uniform(config.min_keep_ratio, config.max_keep_ratio) * n)
        theirs_masks.append(sampler.sample_mask(n_keep, n).numpy().astype(bool))
        ours_masks.append(sample_published_block_mask(n, n_keep, config.min_block_size, rng))
    print(f"masks over {n} patches, {args.draws} draws each:")
    for name, masks in (("original", theirs_masks), ("ecgbench published", ours_masks)):
        stats = mask_statistics(masks)
        print(f"  {name:>18}: " + ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))


if __name__ == "__main__":
    main()
