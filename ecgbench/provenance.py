"""Where a run came from: git state, package versions, machine."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from ecgbench.errors import ConfigError

TRACKED_PACKAGES = ("ecgbench-harness", "numpy", "scipy", "pandas", "torch", "scikit-learn", "wfdb", "pot",
                    "tslearn", "pydantic", "pluggy", "neurokit2", "transformers", "peft")


def git_state(cwd: Path | None = None) -> tuple[str, bool]:
    """(commit sha, dirty) of the git checkout holding the ecgbench code that runs (or ``cwd``);
    ('unknown', True) when that code is not in a git checkout."""
    cwd = cwd or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, check=True, timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown", True
    return sha, bool(status.strip())


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that can change a score."""
    found = {}
    for name in TRACKED_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def python_version() -> str:
    return sys.version.split()[0]


def platform_string() -> str:
    return f"{platform.system()} {platform.release()} {platform.machine()}"


def resolve_device(requested: str) -> tuple[str, str]:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; returns (device, device name).

    Call it after the model's factory is imported: a model without torch never needs a GPU,
    so 'auto' does not import torch just to ask (a model that imports torch only when built
    runs on the CPU under 'auto'). 'cuda' imports torch whatever the model does, and is a
    ConfigError when torch is missing or sees no GPU.
    """
    if requested not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"--device must be auto, cpu or cuda, got {requested!r}")
    if requested == "cuda":
        try:
            import torch
        except ImportError:
            raise ConfigError("--device cuda needs torch, which is not installed") from None
        if not torch.cuda.is_available():
            build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            raise ConfigError(
                f"--device cuda: torch {torch.__version__} ({build}) sees no CUDA device; use --device cpu or auto"
            )
        return "cuda", torch.cuda.get_device_name(0)
    torch = sys.modules.get("torch")
    if requested == "auto" and torch is not None and torch.cuda.is_available():
        return "cuda", torch.cuda.get_device_name(0)
    return "cpu", platform.processor() or platform.machine()


def seed_everything(seed: int) -> None:
    """Seed python's and numpy's global generators, and torch's when the model imported it."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
