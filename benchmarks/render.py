"""Rendering speed of printed ECGs on one core: images per second, clean and with each distortion.

Target: at least 20 images/s at 4 px/mm for a clean 10-s record. Both wall-clock and CPU-time
rates are printed; on a shared machine the CPU-time rate is the one-core figure. Run with

    python benchmarks/render.py [--n 100] [--fs 100] [--px-per-mm 4]

Torch is not involved; numpy, PIL and the BLAS pool are held to one thread so that the number
is a one-core figure.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from ecgbench.data.phantom import PhantomConfig, load_phantom  # noqa: E402
from ecgbench.data.render import RenderConfig, record_rng, render_ecg  # noqa: E402

SETTINGS: dict[str, dict[str, float]] = {
    "clean": {},
    "rotation 3°": {"rotation_deg_max": 3.0},
    "crop 5%": {"crop_max": 0.05},
    "blur 0.3 mm": {"blur_max": 0.3},
    "scan noise 0.1": {"noise_max": 0.1},
    "all four": {"rotation_deg_max": 3.0, "crop_max": 0.05, "blur_max": 0.3, "noise_max": 0.1},
}


def images_per_second(signals: np.ndarray, fs: float, config: RenderConfig) -> tuple[float, float]:
    """(per wall-clock second, per CPU second of this process): on a busy machine the second is
    the one-core figure."""
    render_ecg(signals[0], fs, config, record_rng(0, "warm-up"))  # builds the cached background
    wall, cpu = time.perf_counter(), time.process_time()
    for i, record in enumerate(signals):
        render_ecg(record, fs, config, record_rng(0, str(i)))
    return len(signals) / (time.perf_counter() - wall), len(signals) / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="records rendered per setting")
    parser.add_argument("--fs", type=int, default=100, help="sampling rate of the phantom records, Hz")
    parser.add_argument("--px-per-mm", type=float, default=4.0)
    args = parser.parse_args()
    data = load_phantom(PhantomConfig(n_records=args.n, fs=args.fs, cache=False))
    print(f"{args.n} phantom records, {args.fs} Hz, 10 s, {args.px_per_mm:g} px/mm, one thread")
    print(f"  {'setting':16s} {'images/s':>9s} {'images/CPU-s':>13s}")
    for name, setting in SETTINGS.items():
        config = RenderConfig(px_per_mm=args.px_per_mm, **setting)
        wall, cpu = images_per_second(data.signals, data.fs, config)
        print(f"  {name:16s} {wall:9.1f} {cpu:13.1f}")


if __name__ == "__main__":
    main()
