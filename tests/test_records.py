"""Run records: round trip, never overwritten, atomic, safe under concurrent writers."""

import json
import multiprocessing
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from record_factory import make_record

from ecgbench.errors import RecordError
from ecgbench.records import (
    iter_records,
    new_run_id,
    read_record,
    record_json_schema,
    write_record,
    write_samples,
)


def test_a_record_reads_back_equal_to_what_was_written(tmp_path):
    record = make_record()
    path = write_record(record, tmp_path)
    assert path == tmp_path / "classify-71-labels" / "m" / f"{record.run_id}.json"
    assert read_record(path) == record


def test_a_record_is_never_overwritten(tmp_path):
    write_record(make_record(), tmp_path)
    with pytest.raises(RecordError, match="never overwritten"):
        write_record(make_record(), tmp_path)


def test_a_write_that_fails_midway_leaves_no_file(tmp_path, monkeypatch):
    def explode(f, **arrays):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", explode)
    with pytest.raises(RecordError, match="x.samples.npz: cannot be written"):
        write_samples({"record_id": np.array(["a"])}, tmp_path / "x.samples.npz")
    assert list(tmp_path.iterdir()) == []


def test_object_arrays_are_refused_in_samples_files(tmp_path):
    with pytest.raises(RecordError, match="dtype object"):
        write_samples({"record_id": np.array([{"a": 1}], dtype=object)}, tmp_path / "x.samples.npz")


def _write_many(results: str, worker: int) -> None:
    for i in range(20):
        write_record(make_record(run_id=f"20260101T000000Z-{worker:04d}{i:04d}"), results)


def test_concurrent_writers_never_lose_a_record(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_many, args=(str(tmp_path), w)) for w in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert all(p.exitcode == 0 for p in workers)
    assert len(iter_records(tmp_path)) == 60


def test_run_ids_sort_by_time_and_differ_for_simultaneous_runs():
    ids = [new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50


def test_a_killed_writer_leaves_no_half_record(tmp_path):
    """A process killed while writing a large samples file leaves only a temporary file, never
    a file under the final name."""
    script = textwrap.dedent(f"""
        import numpy as np, os, signal
        from ecgbench import records
        real = np.savez_compressed
        def slow(f, **arrays):
            f.write(b"x" * 1000)
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        records.np.savez_compressed = slow
        records.write_samples({{"a": np.zeros(3)}}, {str(tmp_path / "r.samples.npz")!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode != 0
    assert not (tmp_path / "r.samples.npz").exists()


def test_a_damaged_record_gets_an_error_naming_its_file(tmp_path):
    path = tmp_path / "t" / "m" / "bad.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(RecordError, match="bad.json"):
        read_record(path)


def test_the_record_json_schema_names_the_provenance_fields():
    schema = record_json_schema()
    text = json.dumps(schema)
    for field in ("fingerprint", "git_commit", "config_hash", "contract_hash", "seed", "phases"):
        assert field in text
