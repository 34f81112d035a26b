"""An on-disk copy of a generated phantom cohort, keyed by its configuration and generator
(version and source digest).

One uncompressed ``.npz`` per key (no pickled objects), written to a temporary name and then
renamed, so a concurrent reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ecgbench.context import default_cache_dir
from ecgbench.data.dataset import ECGDataset

_FRAMES = ("meta", "intervals", "beats")


def source_digest() -> str:
    """sha256 of the generator's own source files, so that a changed generator never reads a
    cache written by an older one, even before its version has been bumped."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_key(settings: dict, version: str) -> str:
    text = json.dumps({"settings": settings, "version": version, "source": source_digest()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cache_path(key: str) -> Path:
    return default_cache_dir() / "phantom" / f"{key}.npz"


def _frame_arrays(prefix: str, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {f"{prefix}.__columns__": np.array(list(frame.columns), dtype=str)}
    for i, column in enumerate(frame.columns):
        values = frame[column].to_numpy()
        out[f"{prefix}.{i}"] = values.astype(str) if values.dtype == object else values
    return out


def _frame(prefix: str, data) -> pd.DataFrame:
    columns = data[f"{prefix}.__columns__"].tolist()
    return pd.DataFrame({name: data[f"{prefix}.{i}"] for i, name in enumerate(columns)})


def save(path: Path, ds: ECGDataset) -> None:
    arrays = {
        "signals": ds.signals,
        "record_ids": ds.record_ids.astype(str),
        "labels": ds.labels,
        "folds": ds.folds,
        "fs": np.array(ds.fs),
        "info": np.array(json.dumps(ds.info, sort_keys=True)),
        "generated_by": np.array(json.dumps(ds.generated_by, sort_keys=True)),
    }
    for name in _FRAMES:
        arrays.update(_frame_arrays(name, getattr(ds, name)))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load(path: Path, name: str, expressed: tuple[str, ...]) -> ECGDataset | None:
    """The cached cohort, or None when the file is missing or unreadable (it is then rebuilt)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return ECGDataset(
                name=name,
                signals=data["signals"],
                fs=float(data["fs"]),
                record_ids=data["record_ids"],
                labels=data["labels"],
                folds=data["folds"],
                meta=_frame("meta", data),
                expressed=expressed,
                intervals=_frame("intervals", data),
                beats=_frame("beats", data),
                info=json.loads(str(data["info"])),
                generated_by=json.loads(str(data["generated_by"])),
            )
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None
