"""Time the generation metrics on n generated vs n real records (12 leads x 1000 samples).

    python benchmarks/metrics.py [--sizes 250 500 1000] [--n-boot 200] [--json out.json]

The records are synthetic ECG-like beats (P, QRS and T bumps at a random rate and phase,
per-lead gain, baseline wander, noise); the "generated" set differs from the "real" one in
its rate, gain and noise, so every metric has something to measure. It prints one table of
wall and CPU seconds per metric and n (with n_boot resamples each, as the task runs them),
the total per n, how the work (CPU seconds, less sensitive than wall time to other jobs on
the machine) grows with n, and the DTW checks: the compiled banded DTW
against tslearn, and the 10 % band against plain (unconstrained) DTW.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from ecgbench.metrics import generation as g
from ecgbench.metrics.dtw import dtw_pairs_1d

FS = 100.0
T = 1000
LEADS = 12


def synthetic_records(n: int, *, rate: tuple[float, float], gain: float, noise: float, seed: int) -> np.ndarray:
    """float32[n, 12, 1000] mV of ECG-like beats."""
    rng = np.random.default_rng(seed)
    time_s = np.arange(T) / FS
    lead_gain = np.linspace(0.6, 1.4, LEADS)[None, :, None] * gain
    phase = np.mod(time_s[None, :] * rng.uniform(*rate, (n, 1)) / 60 + rng.uniform(size=(n, 1)), 1.0)
    wave = (np.exp(-(((phase - 0.30) / 0.012) ** 2)) + 0.3 * np.exp(-(((phase - 0.55) / 0.05) ** 2))
            + 0.15 * np.exp(-(((phase - 0.15) / 0.03) ** 2)))
    signals = lead_gain * rng.uniform(0.7, 1.3, (n, LEADS, 1)) * wave[:, None, :]
    wander = 0.1 * np.sin(2 * np.pi * rng.uniform(0.05, 0.5, (n, 1, 1)) * time_s + rng.uniform(0, 6.3, (n, 1, 1)))
    return (signals + wander + rng.normal(0, noise, signals.shape)).astype(np.float32)


def synthetic_labels(n: int, seed: int) -> np.ndarray:
    """uint8[n, 71] drawn from 8 label vectors, so DTW pairs are label-matched."""
    rng = np.random.default_rng(seed)
    vectors = (rng.random((8, 71)) < 0.04).astype(np.uint8)
    return vectors[rng.integers(0, 8, n)]


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def dtw_checks(gen: np.ndarray, real: np.ndarray) -> list[str]:
    """The compiled band against tslearn's band, and the band against plain DTW."""
    from tslearn.metrics import dtw

    x = gen[:4].reshape(-1, T).astype(np.float64)
    y = real[:4].reshape(-1, T).astype(np.float64)
    radius = int(round(0.1 * T))
    dtw(x[0, :50], y[0, :50], global_constraint="sakoe_chiba", sakoe_chiba_radius=3)  # compile
    dtw(x[0, :50], y[0, :50])
    ours, wall_ours, _ = timed(lambda: dtw_pairs_1d(x, y, radius))
    theirs, wall_theirs, _ = timed(lambda: np.array([
        dtw(a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=radius) for a, b in zip(x, y, strict=True)]))
    ours_plain = dtw_pairs_1d(x, y, None)
    theirs_plain, wall_plain, _ = timed(lambda: np.array([dtw(a, b) for a, b in zip(x, y, strict=True)]))
    rel = (ours - theirs_plain) / theirs_plain
    return [
        f"- compiled band (radius {radius}) vs tslearn band, {len(x)} lead pairs: max |difference| "
        f"{np.max(np.abs(ours - theirs)):.2e} mV; {wall_ours / len(x) * 1e3:.2f} vs {wall_theirs / len(x) * 1e3:.2f} ms per lead pair",
        f"- compiled plain vs tslearn plain: max |difference| {np.max(np.abs(ours_plain - theirs_plain)):.2e} mV; "
        f"tslearn plain {wall_plain / len(x) * 1e3:.1f} ms per lead pair",
        f"- 10 % band vs plain DTW (same pairs): mean {ours.mean():.4f} vs {theirs_plain.mean():.4f} mV, band higher by "
        f"{100 * rel.mean():.2f} % on average (max {100 * rel.max():.2f} %); the band never lowers DTW "
        f"({bool(np.all(ours >= theirs_plain - 1e-9))})",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000])
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--json", help="also write the timings here")
    args = parser.parse_args()

    n_max = max(args.sizes)
    real_all = synthetic_records(n_max, rate=(55, 95), gain=1.0, noise=0.02, seed=1)
    gen_all = synthetic_records(n_max, rate=(60, 100), gain=1.1, noise=0.04, seed=2)
    labels_real, labels_gen = synthetic_labels(n_max, 3), synthetic_labels(n_max, 4)
    _, compile_s, _ = timed(lambda: dtw_pairs_1d(np.zeros((1, 20)), np.zeros((1, 20)), 2))

    # the task builds the reference space once per dataset section (from the training split) and
    # caches it; here the real set is the reference, timed on its own row
    space: dict[int, g.ReferenceSpace] = {}
    metrics = {
        "reference_space (once per section)": lambda gen, real, lg, lr: space.setdefault(len(real), g.reference_space(real)),
        "dtw": lambda gen, real, lg, lr: g.dtw_distance(gen, real, lg, lr, n_boot=args.n_boot),
        "wasserstein": lambda gen, real, lg, lr: g.wasserstein_amplitude(gen, real, n_boot=args.n_boot),
        "wasserstein_waveform": lambda gen, real, lg, lr: g.wasserstein_waveform(
            gen, real, n_boot=args.n_boot, space=space[len(real)]),
        "mmd": lambda gen, real, lg, lr: g.mmd(gen, real, n_boot=args.n_boot, space=space[len(real)]),
        "spectral_similarity": lambda gen, real, lg, lr: g.spectral_similarity(gen, real, FS, n_boot=args.n_boot),
    }
    rows, values = [], {}
    load_before = os.getloadavg()[0]
    for n in args.sizes:
        gen, real, lg, lr = gen_all[:n], real_all[:n], labels_gen[:n], labels_real[:n]
        for name, fn in metrics.items():
            result, wall, cpu = timed(lambda fn=fn, args=(gen, real, lg, lr): fn(*args))
            rows.append({"metric": name, "n": n, "wall_s": wall, "cpu_s": cpu})
            values[(name, n)] = result
        _, wall, cpu = timed(lambda a=(gen, real, lg, lr), s=space[n]: g.per_record_generation_values(*a, FS, space=s))
        rows.append({"metric": "per_record_values (samples file)", "n": n, "wall_s": wall, "cpu_s": cpu})
    load_after = os.getloadavg()[0]

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"Generation metrics, n generated vs n real records of 12 x {T} samples, n_boot = {args.n_boot}, "
          f"{cores} cores; load average {load_before:.1f} before, {load_after:.1f} after; "
          f"DTW kernel compile / cache load {compile_s:.2f} s (not counted).\n")
    names = list(dict.fromkeys(r["metric"] for r in rows))
    header = "| metric | " + " | ".join(f"n={n} wall / cpu (s)" for n in args.sizes)
    print(header + (" | growth of cpu n=" + f"{args.sizes[0]}→{args.sizes[-1]} |" if len(args.sizes) > 1 else " |"))
    print("|---" * (len(args.sizes) + 1 + (len(args.sizes) > 1)) + "|")
    for name in names:
        cells = [next(r for r in rows if r["metric"] == name and r["n"] == n) for n in args.sizes]
        line = f"| {name} | " + " | ".join(f"{c['wall_s']:.2f} / {c['cpu_s']:.2f}" for c in cells)
        if len(args.sizes) > 1:
            line += f" | ×{cells[-1]['cpu_s'] / max(cells[0]['cpu_s'], 1e-9):.1f}"
        print(line + " |")
    totals = [sum(r["wall_s"] for r in rows if r["n"] == n and r["metric"] in metrics) for n in args.sizes]
    cpu_totals = [sum(r["cpu_s"] for r in rows if r["n"] == n and r["metric"] in metrics) for n in args.sizes]
    print("| **suite total** | " + " | ".join(f"**{w:.2f} / {c:.2f}**" for w, c in zip(totals, cpu_totals, strict=True))
          + (" | |" if len(args.sizes) > 1 else " |"))

    print(f"\nValues at n={n_max} (value [95% CI]):")
    for name in metrics:
        v = values[(name, n_max)]
        if isinstance(v, g.ReferenceSpace):
            continue
        extra = ""
        if name == "mmd":
            extra = f"; bandwidth {v.params['bandwidth']:.1f}, p = {v.params['p_value']:.3f}"
        if name == "wasserstein_waveform":
            extra = f"; {v.params['method']}"
        print(f"- {name}: {v.value:.6g} [{v.ci_low:.6g}, {v.ci_high:.6g}]{extra}")

    print("\nDTW checks:")
    for line in dtw_checks(gen_all, real_all):
        print(line)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "n_boot": args.n_boot, "cores": cores,
                       "load_average": [load_before, load_after]}, f, indent=2)


if __name__ == "__main__":
    main()
