"""Check the phantom against a standard delineator: how close are NeuroKit2's PR, QRS and QT
to the generator's exact ground truth?

For each record (lead II, default noise), NeuroKit2 cleans the signal (``ecg_clean``), finds R
peaks (``ecg_peaks``) and delineates the beats with the discrete wavelet method
(``ecg_delineate(method="dwt")``). Per beat PR = QRS onset − P onset (``ECG_R_Onsets`` −
``ECG_P_Onsets``), QRS = ``ECG_R_Offsets`` − ``ECG_R_Onsets`` and QT = ``ECG_T_Offsets`` −
``ECG_R_Onsets``; the record's value is the median over its beats, as for the ground truth.
Each detected R peak is also matched to the true beat whose QRS contains it, to report the
error of every fiducial.

Each record runs in a worker process with a time limit, since the delineator can hang on odd
input; failures and time-outs are counted, not hidden.

For scale, the same pipeline is run on real ECGs with expert wave boundaries when the QT
Database sample is present (``../shared/data/qtdb-sample`` or ``--qtdb``): NeuroKit2's error
against a cardiologist's marks (annotator 1, ``.q1c``) shows how much of the disagreement is
the delineator's own.

    python scripts/validate_phantom_with_neurokit.py --n 200 --fs 500
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ecgbench.data.leads import LEAD_INDEX
from ecgbench.data.phantom import PhantomConfig, load_phantom

NK_FIDUCIALS = {"p_on": "ECG_P_Onsets", "qrs_on": "ECG_R_Onsets", "qrs_off": "ECG_R_Offsets", "t_off": "ECG_T_Offsets"}


def delineate(args: tuple[np.ndarray, float]) -> dict[str, np.ndarray]:
    """NeuroKit2 R peaks and fiducials (sample indices, NaN where not found) of one lead."""
    import neurokit2 as nk

    signal, fs = args
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cleaned = nk.ecg_clean(signal, sampling_rate=fs)
        _, info = nk.ecg_peaks(cleaned, sampling_rate=fs)
        peaks = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
        _, waves = nk.ecg_delineate(cleaned, peaks, sampling_rate=fs, method="dwt")
    out = {"r_peak": peaks.astype(float)}
    for ours, theirs in NK_FIDUCIALS.items():
        values = np.asarray(waves.get(theirs, [np.nan] * len(peaks)), dtype=float)
        out[ours] = values if len(values) == len(peaks) else np.full(len(peaks), np.nan)
    return out


def run_all(signals: np.ndarray | list[np.ndarray], fs: float, timeout_s: float, workers: int) -> list[dict | str]:
    """Delineate each record in a worker; a record that fails or times out gives its reason."""
    results: list[dict | str] = ["not run"] * len(signals)
    todo = list(range(len(signals)))
    while todo:
        pool = mp.get_context("spawn").Pool(workers)
        pending = {i: pool.apply_async(delineate, ((signals[i], fs),)) for i in todo}
        todo = []
        restart = False
        for i, job in pending.items():
            if restart:
                todo.append(i)
                continue
            try:
                results[i] = job.get(timeout=timeout_s)
            except mp.TimeoutError:
                results[i] = "timeout"
                restart = True  # a hung worker would hold up the rest: start a fresh pool
            except Exception as error:  # noqa: BLE001 - any delineator failure is counted, not raised
                results[i] = f"error: {type(error).__name__}"
        pool.terminate()
        pool.join()
    return results


def record_medians(fid: dict[str, np.ndarray], fs: float) -> dict[str, float]:
    ms = 1000.0 / fs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)

        def median(values: np.ndarray, lo: float, hi: float) -> float:
            values = values[np.isfinite(values) & (values > lo) & (values < hi)]
            return float(np.median(values)) if values.size else np.nan

        rr = np.diff(fid["r_peak"]) * ms
        return {
            "pr": median((fid["qrs_on"] - fid["p_on"]) * ms, 0, 600),
            "qrs": median((fid["qrs_off"] - fid["qrs_on"]) * ms, 0, 300),
            "qt": median((fid["t_off"] - fid["qrs_on"]) * ms, 100, 800),
            "hr": 60000.0 / median(rr, 200, 3000),
            "p_on_to_r": median((fid["r_peak"] - fid["p_on"]) * ms, 0, 700),
            "r_to_t_off": median((fid["t_off"] - fid["r_peak"]) * ms, 50, 800),
        }


def truth_r_anchored(ds) -> pd.DataFrame:
    """Ground-truth medians of P onset -> R peak and R peak -> T offset over conducted beats (ms)."""
    b = ds.beats[ds.beats["kind"] != "V"]
    ms = 1000.0 / ds.fs
    spans = pd.DataFrame({"record": b["record"], "p_on_to_r": (b["r_peak"] - b["p_on"]) * ms,
                          "r_to_t_off": (b["t_off"] - b["r_peak"]) * ms}).groupby("record").median()
    return spans.reindex(range(len(ds)))


def agreement(truth: np.ndarray, measured: np.ndarray, tolerance: float = 25.0) -> dict[str, float]:
    """Agreement of measured with true values over records where both exist.

    Besides MAE, bias, SD and Pearson r, the median absolute error and the share of records
    within ``tolerance`` (25 ms; 5 bpm for heart rate) show the typical error apart from the
    delineator's gross misses.
    """
    from scipy.stats import spearmanr

    ok = np.isfinite(truth) & np.isfinite(measured)
    eligible = np.isfinite(truth)
    d = measured[ok] - truth[ok]
    enough = ok.sum() > 2
    return {
        "n": int(ok.sum()),
        "delineated": float(ok.sum() / max(eligible.sum(), 1)),
        "mae": float(np.abs(d).mean()) if d.size else np.nan,
        "median_ae": float(np.median(np.abs(d))) if d.size else np.nan,
        "within_tol": float(np.mean(np.abs(d) <= tolerance)) if d.size else np.nan,
        "bias": float(d.mean()) if d.size else np.nan,
        "sd": float(d.std()) if d.size else np.nan,
        "pearson_r": float(np.corrcoef(truth[ok], measured[ok])[0, 1]) if enough else np.nan,
        "spearman_r": float(spearmanr(truth[ok], measured[ok]).statistic) if enough else np.nan,
    }


def beat_errors(ds, results, fs: float) -> pd.DataFrame:
    """Per matched beat: NeuroKit2 minus truth for each fiducial (ms)."""
    rows = []
    beats = ds.beats[ds.beats["kind"] != "V"]
    for record, fid in enumerate(results):
        if not isinstance(fid, dict):
            continue
        b = beats[beats["record"] == record]
        for k, peak in enumerate(fid["r_peak"]):
            hit = b[(b["qrs_on"] <= peak) & (b["qrs_off"] >= peak)]
            if len(hit) != 1:
                continue
            truth = hit.iloc[0]
            rows.append({name: (fid[name][k] - truth[name]) * 1000.0 / fs for name in NK_FIDUCIALS})
    return pd.DataFrame(rows)


def qtdb_beats(path: Path) -> pd.DataFrame:
    """Expert fiducials of one QTDB record (samples): p_on, qrs_on, r_peak, qrs_off, t_off."""
    import wfdb

    ann = wfdb.rdann(str(path), "q1c")
    sym, at = list(ann.symbol), np.asarray(ann.sample, dtype=float)

    def edge(i: int, step: int, mark: str) -> float:
        j = i + step
        return at[j] if 0 <= j < len(sym) and sym[j] == mark else np.nan

    rows, last_p = [], np.nan
    for i, s in enumerate(sym):
        if s == "p":
            last_p = edge(i, -1, "(")
        elif s == "N":
            rows.append({"p_on": last_p if at[i] - last_p < 150 else np.nan, "qrs_on": edge(i, -1, "("),
                         "r_peak": at[i], "qrs_off": edge(i, 1, ")"), "t_off": np.nan})
            last_p = np.nan
        elif s == "t" and rows:
            rows[-1]["t_off"] = edge(i, 1, ")")
    return pd.DataFrame(rows)


def qtdb_reference(folder: Path, timeout_s: float, workers: int) -> pd.DataFrame | None:
    """Per-beat NeuroKit2 error against the QTDB experts, over 10-s windows of the first lead."""
    import wfdb

    windows, truths = [], []
    for header in sorted(folder.glob("*.hea")):
        if not header.with_suffix(".q1c").exists():
            continue
        record = wfdb.rdrecord(str(header.with_suffix("")))
        signal, fs = record.p_signal[:, 0].astype(np.float64), float(record.fs)
        beats = qtdb_beats(header.with_suffix(""))
        start = beats["r_peak"].min() - 2 * fs
        while start < beats["r_peak"].max():
            lo, hi = int(max(start, 0)), int(min(start + 10 * fs, len(signal)))
            inside = beats[(beats["r_peak"] > lo + 0.5 * fs) & (beats["r_peak"] < hi - 1.0 * fs)]
            if len(inside):
                windows.append(signal[lo:hi])
                truths.append((inside.assign(**{c: inside[c] - lo for c in NK_FIDUCIALS}), fs))
            start += 8.5 * fs
    if not windows:
        return None
    results = run_all(windows, truths[0][1], timeout_s, workers)
    rows = []
    for fid, (truth, fs) in zip(results, truths, strict=True):
        if not isinstance(fid, dict):
            continue
        for k, peak in enumerate(fid["r_peak"]):
            hit = truth[(truth["qrs_on"] - 0.02 * fs <= peak) & (truth["qrs_off"] + 0.02 * fs >= peak)]
            if len(hit) == 1:
                rows.append({name: (fid[name][k] - hit.iloc[0][name]) * 1000.0 / fs for name in NK_FIDUCIALS})
    return pd.DataFrame(rows)


def error_summary(errors: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "beats": errors.notna().sum(),
        "bias_ms": errors.mean(),
        "mae_ms": errors.abs().mean(),
        "median_ms": errors.median(),
    })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="phantom records to delineate")
    parser.add_argument("--fs", type=int, default=500, help="sampling rate, Hz")
    parser.add_argument("--noise", type=float, default=1.0, help="phantom noise scale")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per record")
    parser.add_argument("--workers", type=int, default=2)
    default_qtdb = Path(os.environ.get("ECGBENCH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--qtdb", type=Path, default=default_qtdb / "qtdb-sample",
                        help="QT Database sample folder for the reference run (skipped when absent)")
    args = parser.parse_args(argv)

    ds = load_phantom(PhantomConfig(n_records=args.n, fs=args.fs, noise=args.noise, seed=args.seed, cache=False))
    lead = ds.signals[:, LEAD_INDEX["II"]].astype(np.float64)
    start = time.perf_counter()
    results = run_all(lead, ds.fs, args.timeout, args.workers)
    elapsed = time.perf_counter() - start
    failures = pd.Series([r for r in results if isinstance(r, str)]).value_counts()
    names = ("pr", "qrs", "qt", "hr", "p_on_to_r", "r_to_t_off")
    measured = pd.DataFrame(
        [record_medians(r, ds.fs) if isinstance(r, dict) else dict.fromkeys(names, np.nan) for r in results]
    )

    print(f"phantom n={args.n} fs={args.fs} Hz noise={args.noise} seed={args.seed}, lead II, "
          f"neurokit2 dwt; {elapsed:.0f} s")
    print(f"records delineated: {len(ds) - int(failures.sum())}/{len(ds)}"
          + ("" if failures.empty else f"; failures: {failures.to_dict()}"))
    table = {
        name: agreement(ds.intervals[name].to_numpy(), measured[name].to_numpy(), 5.0 if name == "hr" else 25.0)
        for name in ("pr", "qrs", "qt", "hr")
    }
    qtc_truth = ds.intervals["qt"] / np.sqrt(ds.intervals["rr"] / 1000.0)
    qtc_nk = measured["qt"] / np.sqrt(60.0 / measured["hr"])
    table["qtc_bazett"] = agreement(qtc_truth.to_numpy(), qtc_nk.to_numpy())
    anchored = truth_r_anchored(ds)
    for name in ("p_on_to_r", "r_to_t_off"):
        table[name] = agreement(anchored[name].to_numpy(), measured[name].to_numpy())
    print("\nrecord medians, neurokit2 - truth (ms; hr in bpm):")
    print(pd.DataFrame(table).T.to_string(float_format=lambda v: f"{v:.3f}" if abs(v) < 2 else f"{v:.1f}"))

    by_group = {}
    for group, mask in (("sinus", ~ds.meta["rhythm"].eq("AF")), ("AF", ds.meta["rhythm"].eq("AF")),
                        ("PR<=200", ds.intervals["pr"] <= 200), ("PR>200", ds.intervals["pr"] > 200),
                        ("QRS<120", ds.intervals["qrs"] < 120), ("QRS>=120", ds.intervals["qrs"] >= 120)):
        m = mask.to_numpy()
        by_group[group] = {f"{name}_mae": agreement(ds.intervals[name].to_numpy()[m], measured[name].to_numpy()[m])["mae"]
                           for name in ("pr", "qrs", "qt")} | {"records": int(m.sum())}
    print("\nMAE by group (ms):")
    print(pd.DataFrame(by_group).T.to_string(float_format=lambda v: f"{v:.1f}"))

    errors = beat_errors(ds, results, ds.fs)
    print(f"\nper-beat fiducial error, neurokit2 - phantom truth, over {len(errors)} matched beats:")
    print(error_summary(errors).to_string(float_format=lambda v: f"{v:.1f}"))

    if args.qtdb.is_dir():
        reference = qtdb_reference(args.qtdb, args.timeout, args.workers)
        if reference is not None:
            print(f"\nreference: neurokit2 - QTDB expert (annotator 1), first lead, 250 Hz, "
                  f"over {len(reference)} matched beats:")
            print(error_summary(reference).to_string(float_format=lambda v: f"{v:.1f}"))
    else:
        print(f"\n(no QT Database sample at {args.qtdb}: reference run skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
