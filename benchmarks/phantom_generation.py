"""How fast is the phantom cohort made? Records per second at 100 and 500 Hz, and a cached load.

    python benchmarks/phantom_generation.py [--n 3000] [--repeats 3]

Generation runs without the cache (best of ``--repeats``, wall clock and process CPU time);
the cached load writes the cohort to a temporary cache directory once and times the reads.
Target: >= 500 records/s at 100 Hz on 2 CPU cores; a few thousand 500-Hz records well under
a minute; a cached load in well under a second at 100 Hz.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from ecgbench.data.phantom import PhantomConfig, load_phantom


def timed(config: PhantomConfig, repeats: int) -> tuple[float, float]:
    """Best wall-clock and CPU seconds of ``repeats`` loads."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        load_phantom(config)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="records per cohort")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"phantom generation, n={args.n} records of 10 s x 12 leads, noise 1 (cpu count {os.cpu_count()})")
    print("(records/s: per wall-clock second and per CPU second; they differ when the machine is shared)")
    print(f"{'what':<32}{'wall s':>9}{'cpu s':>9}{'records/s':>12}{'per cpu s':>12}")
    for fs in (100, 500):
        wall, cpu = timed(PhantomConfig(n_records=args.n, fs=fs, cache=False), args.repeats)
        print(f"{f'generate at {fs} Hz':<32}{wall:>9.2f}{cpu:>9.2f}{args.n / wall:>12.0f}{args.n / cpu:>12.0f}")

    with tempfile.TemporaryDirectory() as cache_dir:
        os.environ["ECGBENCH_CACHE"] = cache_dir
        for fs in (100, 500):
            config = PhantomConfig(n_records=args.n, fs=fs, cache=True)
            wall = time.perf_counter()
            load_phantom(config)
            first = time.perf_counter() - wall
            again, cpu = timed(config, args.repeats)
            print(f"{f'first load at {fs} Hz (writes)':<32}{first:>9.2f}{'':>9}{args.n / first:>12.0f}")
            print(f"{f'cached load at {fs} Hz':<32}{again:>9.2f}{cpu:>9.2f}{args.n / again:>12.0f}{args.n / cpu:>12.0f}")


if __name__ == "__main__":
    main()
