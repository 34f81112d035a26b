"""Moving batches to the device and mixed precision, the same way in every training loop.

- :func:`to_device`: a host batch goes to a GPU from pinned (page-locked) memory without
  blocking, so the copy overlaps the GPU's work; on the CPU it is a no-op.
- :func:`autocast`: bfloat16 autocast on CUDA where a model's config asks for it (``amp``);
  torch keeps reductions, softmax, layer norms and losses in float32 under autocast. Parts that
  are not safe in bfloat16 open :func:`float32` regions: the S4 layer's FFT convolution (an FFT
  of 2,000-10,000 points in bfloat16's 8-bit mantissa loses the kernel's long tail) and
  ProtoECGNet's prototype similarity (log((d + 1) / (d + eps)) of squared distances, which
  bfloat16 rounds to equal values for nearby prototypes).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import numpy as np
import torch


def to_device(batch: np.ndarray | torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """``batch`` as a tensor on ``device``; from pinned memory and non-blocking on CUDA."""
    tensor = torch.from_numpy(np.ascontiguousarray(batch)) if isinstance(batch, np.ndarray) else batch
    device = torch.device(device)
    if device.type != "cuda" or tensor.device.type == "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def autocast(device: torch.device | str, enabled: bool) -> AbstractContextManager:
    """bfloat16 autocast on CUDA when ``enabled``; nothing on the CPU (where it would only slow)."""
    device = torch.device(device)
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()


def float32(device: torch.device | str) -> AbstractContextManager:
    """A region computed in float32 even inside :func:`autocast` (inputs must be cast by the caller)."""
    return torch.autocast(device_type=torch.device(device).type, enabled=False)
