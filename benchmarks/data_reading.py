"""Records per second of the real-data readers: first read (cache empty), cached read, no cache.

    python benchmarks/data_reading.py [--data DIR] [--repeat 3] [--replicate K] [--json]

DIR is the shared data folder (default: $ECGBENCH_SHARED_DATA or ../shared/data beside the
repository). Every measurement uses a fresh temporary cache folder, so the user's cache is neither
read nor written. The operating system's page cache is not dropped: after the first repetition the
files come from memory, as they do on a second run in practice.

--replicate K also measures PTB-XL at release size: a temporary root holding the sample's 100 Hz
records K times under new ecg_ids (signal files hard-linked, headers renamed; K=62 gives 21 886
records, about the 21 799 of v1.0.3).

Rows:
  first read    cache empty: read every record, check it, write the memmap cache entry
  cached read   the entry exists: open the memmap and metadata (signals are paged in lazily)
  cached+touch  the same, then copy every signal into memory (what a model's first pass pays)
  no cache      cache=False: read and check every record, write nothing
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ecgbench.data.dataset import ECGDataset
from ecgbench.data.ptbxl import PTBXLConfig, load_ptbxl
from ecgbench.data.wfdb_dir import WFDBDirConfig, load_wfdb_dir


def _default_data_dir() -> Path:
    configured = os.environ.get("ECGBENCH_SHARED_DATA")
    return (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )


def _timed(load: Callable[[], ECGDataset], touch: bool = False) -> tuple[float, int]:
    start = time.perf_counter()
    data = load()
    if touch:
        np.array(data.signals)
    return time.perf_counter() - start, len(data)


def measure(
    name: str, make_config: Callable[..., object], load: Callable, repeat: int
) -> list[dict]:
    """Median seconds and records/s of the four ways of reading one source."""
    runs: dict[str, list[float]] = {
        "first read": [],
        "cached read": [],
        "cached+touch": [],
        "no cache": [],
    }
    n = 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["ECGBENCH_CACHE"] = cache
            seconds, n = _timed(lambda: load(make_config(cache=True)))
            runs["first read"].append(seconds)
            runs["cached read"].append(_timed(lambda: load(make_config(cache=True)))[0])
            runs["cached+touch"].append(
                _timed(lambda: load(make_config(cache=True)), touch=True)[0]
            )
            runs["no cache"].append(_timed(lambda: load(make_config(cache=False)))[0])
    rows = []
    for mode, times in runs.items():
        median = statistics.median(times)
        rows.append(
            {"source": name, "mode": mode, "n": n, "seconds": median, "records_per_s": n / median}
        )
    return rows


def replicated_ptbxl(sample: Path, k: int, into: Path) -> Path:
    """A PTB-XL root with the sample's 100 Hz records repeated k times under new ecg_ids."""
    import pandas as pd

    table = pd.read_csv(sample / "ptbxl_database.csv", index_col="ecg_id")
    rows = []
    for copy in range(k):
        for ecg_id, row in table.iterrows():
            new_id = copy * 100_000 + int(ecg_id)
            old_stem, new_stem = f"{int(ecg_id):05d}_lr", f"{new_id:07d}_lr"
            rel = f"records100/{new_id // 1000 * 1000:07d}/{new_stem}"
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            os.link(sample / f"{row['filename_lr']}.dat", into / f"{rel}.dat")
            header = (sample / f"{row['filename_lr']}.hea").read_text().replace(old_stem, new_stem)
            (into / f"{rel}.hea").write_text(header)
            rows.append(
                {
                    **row.to_dict(),
                    "ecg_id": new_id,
                    "filename_lr": rel,
                    "filename_hr": rel.replace("lr", "hr"),
                }
            )
    pd.DataFrame(rows).set_index("ecg_id").to_csv(into / "ptbxl_database.csv")
    (into / "scp_statements.csv").write_bytes((sample / "scp_statements.csv").read_bytes())
    return into


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=_default_data_dir(), help="the shared data folder"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="repetitions per measurement (median reported)"
    )
    parser.add_argument(
        "--replicate", type=int, default=0, help="also read the sample repeated K times"
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    ptbxl, qtdb = args.data / "ptbxl-sample", args.data / "qtdb-sample"
    if not ptbxl.is_dir() or not qtdb.is_dir():
        print(f"samples not found under {args.data}", file=sys.stderr)
        return 2
    saved = os.environ.get("ECGBENCH_CACHE")
    try:
        rows = [
            *measure(
                "ptbxl 100 Hz",
                lambda cache: PTBXLConfig(path=ptbxl, fs=100, cache=cache),
                load_ptbxl,
                args.repeat,
            ),
            *measure(
                "ptbxl 500 Hz",
                lambda cache: PTBXLConfig(path=ptbxl, fs=500, cache=cache),
                load_ptbxl,
                args.repeat,
            ),
            *measure(
                "ptbxl 100 Hz from 500",
                lambda cache: PTBXLConfig(path=ptbxl, fs=100, resample_from_500=True, cache=cache),
                load_ptbxl,
                args.repeat,
            ),
            *_replicated_rows(ptbxl, args.replicate, args.repeat),
            *measure(
                "wfdb-dir qtdb (windows)",
                lambda cache: WFDBDirConfig(path=qtdb, cache=cache),
                load_wfdb_dir,
                args.repeat,
            ),
        ]
    finally:
        if saved is None:
            os.environ.pop("ECGBENCH_CACHE", None)
        else:
            os.environ["ECGBENCH_CACHE"] = saved
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'source':<26}{'mode':<14}{'n':>6}{'seconds':>10}{'records/s':>12}")
    for row in rows:
        print(
            f"{row['source']:<26}{row['mode']:<14}{row['n']:>6}{row['seconds']:>10.3f}{row['records_per_s']:>12.0f}"
        )
    print(
        f"(median of {args.repeat}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end)"
    )
    return 0


def _replicated_rows(sample: Path, k: int, repeat: int) -> list[dict]:
    if k <= 0:
        return []
    with tempfile.TemporaryDirectory() as folder:
        root = replicated_ptbxl(sample, k, Path(folder))
        return measure(
            f"ptbxl 100 Hz x{k}",
            lambda cache: PTBXLConfig(path=root, cache=cache),
            load_ptbxl,
            repeat,
        )


if __name__ == "__main__":
    sys.exit(main())
