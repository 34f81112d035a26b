"""Read one WFDB record into ``float32[n_sig, T]`` mV, with errors that name the record.

``wfdb`` reports a truncated signal file as a numpy reshape error and a missing one as a bare
FileNotFoundError; here every problem becomes a :class:`~ecgbench.errors.DataError` that names
the record, the file and what is wrong.

Speed: ``wfdb.rdheader`` spends about 2 ms per header in pandas indexing, more than reading the
samples. Headers of single-segment records in the plain form (no skew, every field up to the
description present) are therefore parsed here, following the WFDB header specification; any
other header goes to ``wfdb.rdheader``. Format-16 records in one file (PTB-XL, the Challenge
``.mat`` layout) are read with numpy; every other format with ``wfdb.rdrecord``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import wfdb

from ecgbench.errors import DataError

#: Bytes per sample of the WFDB storage formats whose size can be checked (FLAC formats cannot).
_BYTES_PER_SAMPLE: dict[str, float] = {
    "8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2, "212": 1.5, "310": 4 / 3, "311": 4 / 3,
}  # fmt: skip
#: Bits per sample; the most negative value marks an invalid sample (WFDB convention).
_BITS: dict[str, int] = {
    "8": 8, "80": 8, "16": 16, "61": 16, "160": 16, "24": 24, "32": 32, "212": 12, "310": 10, "311": 10,
}  # fmt: skip
#: Physical units -> factor to mV.
_TO_MV: dict[str, float] = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3, "nv": 1e-6}
#: WFDB: a missing or zero ADC gain means 200 units per physical unit.
_DEFAULT_GAIN = 200.0
_FORMAT = re.compile(r"^(\d+)(?:x(\d+))?(?:\+(\d+))?$")
_GAIN = re.compile(r"^([-+]?[\d.]+(?:[eE][-+]?\d+)?)(?:\((-?\d+)\))?(?:/(\S+))?$")


@dataclass(frozen=True)
class Header:
    """The fields of a single-segment WFDB header that the readers use (one entry per signal)."""

    record_name: str
    fs: float
    sig_len: int
    file_name: tuple[str, ...]
    fmt: tuple[str, ...]
    samps_per_frame: tuple[int, ...]
    byte_offset: tuple[int, ...]
    adc_gain: tuple[float, ...]
    baseline: tuple[int, ...]
    units: tuple[str, ...]
    checksum: tuple[int | None, ...]
    sig_name: tuple[str, ...]
    comments: tuple[str, ...]

    @property
    def n_sig(self) -> int:
        return len(self.sig_name)


@dataclass(frozen=True)
class WFDBRecord:
    """One record as read from disk.

    signals   float32[n_sig, T] in mV, channels in header order; NaN where the file marks a
              sample invalid, and for a channel whose unit is not a voltage.
    """

    record_id: str
    header: Header
    signals: np.ndarray

    @property
    def fs(self) -> float:
        return self.header.fs

    @property
    def sig_name(self) -> tuple[str, ...]:
        return self.header.sig_name

    @property
    def units(self) -> tuple[str, ...]:
        return self.header.units

    @property
    def comments(self) -> tuple[str, ...]:
        return self.header.comments


def read_header(path: Path, record_id: str) -> Header:
    """The header ``<path>.hea`` of a single-segment record; DataError naming the record otherwise."""
    hea = path.with_name(path.name + ".hea")
    try:
        text = hea.read_text(encoding="latin-1")
    except FileNotFoundError:
        raise DataError(f"record {record_id}: header file {hea} is missing") from None
    header = parse_header(text)
    if header is None:
        header = _header_from_wfdb(path, hea, record_id)
    if not header.n_sig:
        raise DataError(f"record {record_id}: header {hea} lists no signals")
    if not header.sig_len:
        raise DataError(f"record {record_id}: header {hea} gives no signal length")
    return header


def parse_header(text: str) -> Header | None:
    """Parse a header in the plain form; None when it needs ``wfdb.rdheader`` (or is malformed)."""
    comments, lines = [], []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            comments.append(line[1:].strip())
        elif line:
            if "#" in line:
                return None
            lines.append(line.split())
    if not lines or len(lines[0]) < 4 or "/" in lines[0][0]:
        return None  # no length given, or a multi-segment record
    try:
        name, n_sig, fs, sig_len = (
            lines[0][0],
            int(lines[0][1]),
            float(lines[0][2].split("/")[0]),
            int(lines[0][3]),
        )
        signals = [_parse_signal_line(fields) for fields in lines[1:]]
    except ValueError:
        return None
    if n_sig == 0 or len(signals) != n_sig or any(s is None for s in signals):
        return None
    file_name, fmt, spf, offset, gain, baseline, units, checksum, sig_name = zip(
        *signals, strict=True
    )
    return Header(
        record_name=name,
        fs=fs,
        sig_len=sig_len,
        file_name=file_name,
        fmt=fmt,
        samps_per_frame=spf,
        byte_offset=offset,
        adc_gain=gain,
        baseline=baseline,
        units=units,
        checksum=checksum,
        sig_name=sig_name,
        comments=tuple(comments),
    )


def _parse_signal_line(fields: list[str]) -> tuple | None:
    """(file, fmt, samps_per_frame, byte_offset, gain, baseline, units, checksum, description)."""
    if len(fields) < 9:
        return None
    fmt, gain = _FORMAT.match(fields[1]), _GAIN.match(fields[2])
    if fmt is None or gain is None:
        return None
    adc_zero = int(fields[4])
    baseline = int(gain.group(2)) if gain.group(2) is not None else adc_zero
    return (
        fields[0],
        fmt.group(1),
        int(fmt.group(2) or 1),
        int(fmt.group(3) or 0),
        float(gain.group(1)) or _DEFAULT_GAIN,
        baseline,
        gain.group(3) or "mV",
        int(fields[6]),
        " ".join(fields[8:]),
    )


def _header_from_wfdb(path: Path, hea: Path, record_id: str) -> Header:
    try:
        h = wfdb.rdheader(str(path))
    except Exception as exc:  # wfdb raises bare ValueError/IndexError on malformed headers
        raise DataError(f"record {record_id}: header {hea} cannot be parsed ({exc})") from exc
    if isinstance(h, wfdb.MultiRecord):
        raise DataError(
            f"record {record_id}: {hea} is a multi-segment record, which is not supported"
        )
    if h.skew and any(h.skew):
        raise DataError(f"record {record_id}: {hea} uses signal skew, which is not supported")
    n = h.n_sig or 0
    return Header(
        record_name=h.record_name,
        fs=float(h.fs),
        sig_len=int(h.sig_len or 0),
        file_name=tuple(h.file_name or ()),
        fmt=tuple(h.fmt or ()),
        samps_per_frame=tuple(int(s or 1) for s in (h.samps_per_frame or [1] * n)),
        byte_offset=tuple(int(b or 0) for b in (h.byte_offset or [0] * n)),
        adc_gain=tuple(float(g) or _DEFAULT_GAIN for g in (h.adc_gain or [_DEFAULT_GAIN] * n)),
        baseline=tuple(int(b) for b in (h.baseline or [0] * n)),
        units=tuple(str(u or "mV") for u in (h.units or ["mV"] * n)),
        checksum=tuple(h.checksum or [None] * n),
        sig_name=tuple(str(s) for s in (h.sig_name or [f"signal {k}" for k in range(n)])),
        comments=tuple(h.comments or ()),
    )


def mv_scale(units: str | None) -> float | None:
    """Factor from a header's unit to mV, or None when the unit is not a voltage."""
    return _TO_MV.get((units or "mV").strip().lower())


def read_record(path: Path, record_id: str, header: Header | None = None) -> WFDBRecord:
    """Read ``<path>.hea`` and its signal files; raise DataError naming ``record_id`` on any fault.

    Checks: every signal file exists and is at least as long as the header says; the per-signal
    checksums in the header match the samples (where the header has them).
    """
    header = header if header is not None else read_header(path, record_id)
    _check_signal_files(path, header, record_id)
    if _is_single_file_format_16(header):
        digital = _read_format_16(path, header)
    else:
        digital = _read_with_wfdb(path, record_id)
    _check_checksums(header, digital, record_id)
    return WFDBRecord(record_id=record_id, header=header, signals=_to_mv(header, digital))


def _check_signal_files(path: Path, header: Header, record_id: str) -> None:
    files: dict[str, list[tuple[str, int, int]]] = {}
    for name, fmt, spf, offset in zip(
        header.file_name, header.fmt, header.samps_per_frame, header.byte_offset, strict=True
    ):
        files.setdefault(name, []).append((fmt, spf, offset))
    for name, signals in files.items():
        file = path.parent / name
        if not file.is_file():
            raise DataError(f"record {record_id}: signal file {file} is missing")
        fmts = {fmt for fmt, _, _ in signals}
        fmt = next(iter(fmts))
        if len(fmts) != 1 or fmt not in _BYTES_PER_SAMPLE:
            continue  # mixed or compressed formats: wfdb itself reports what it cannot read
        n_samples = header.sig_len * sum(spf for _, spf, _ in signals)
        needed = math.ceil(n_samples * _BYTES_PER_SAMPLE[fmt]) + signals[0][2]
        size = file.stat().st_size
        if size < needed:
            raise DataError(
                f"record {record_id}: signal file {file} is truncated: {size} bytes, the header needs "
                f"{needed} ({header.sig_len} samples x {len(signals)} signals)"
            )


def _is_single_file_format_16(header: Header) -> bool:
    return (
        len(set(header.file_name)) == 1
        and set(header.fmt) == {"16"}
        and set(header.samps_per_frame) == {1}
        and len(set(header.byte_offset)) == 1
    )


def _read_format_16(path: Path, header: Header) -> np.ndarray:
    """int64[n_sig, T] digital samples of a single little-endian 16-bit file."""
    raw = np.fromfile(path.parent / header.file_name[0], dtype="<i2", offset=header.byte_offset[0])
    frames = raw[: header.sig_len * header.n_sig].reshape(header.sig_len, header.n_sig)
    return frames.T.astype(np.int64)


def _read_with_wfdb(path: Path, record_id: str) -> np.ndarray:
    try:
        record = wfdb.rdrecord(str(path), physical=False, return_res=64)
    except Exception as exc:  # wfdb gives reshape/index errors for damaged files
        raise DataError(
            f"record {record_id}: the signal data of {path} cannot be read ({exc})"
        ) from exc
    return np.asarray(record.d_signal, dtype=np.int64).T


def _check_checksums(header: Header, digital: np.ndarray, record_id: str) -> None:
    if any(c is None for c in header.checksum) or set(header.samps_per_frame) != {1}:
        return
    sums = digital.sum(axis=1) % 65536
    for name, expected, got in zip(header.sig_name, header.checksum, sums, strict=True):
        if int(expected) % 65536 != int(got):
            raise DataError(
                f"record {record_id}: the samples of signal {name!r} do not match the header checksum "
                f"(corrupt or altered signal file)"
            )


def _to_mv(header: Header, digital: np.ndarray) -> np.ndarray:
    out = np.full(digital.shape, np.nan, dtype=np.float32)
    for k in range(header.n_sig):
        scale = mv_scale(header.units[k])
        if scale is None:
            continue  # not a voltage (e.g. mmHg): left NaN, callers do not use it
        row = (digital[k] - header.baseline[k]) / header.adc_gain[k] * scale
        bits = _BITS.get(header.fmt[k])
        if bits is not None:
            row[digital[k] == -(2 ** (bits - 1))] = np.nan
        out[k] = row
    return out
