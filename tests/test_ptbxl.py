"""The PTB-XL reader on the real sample in ../shared/data/ptbxl-sample and on damaged copies of it."""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb
from pydantic import ValidationError
from shared_data import shared_data_marks, shared_sample

from ecgbench.data.dataset import FoldSplit
from ecgbench.data.labels import SCP_CODES, SCP_INDEX
from ecgbench.data.leads import LEADS
from ecgbench.data.ptbxl import PTBXLConfig, load_ptbxl
from ecgbench.errors import DataError

pytestmark = shared_data_marks

#: Records of the copies made in tmp_path: present at both rates in the sample.
COPY_IDS = (1, 2, 3, 4, 5, 6)


@pytest.fixture(scope="module")
def sample() -> Path:
    return shared_sample("ptbxl-sample")


@pytest.fixture(scope="module")
def table(sample: Path) -> pd.DataFrame:
    return pd.read_csv(sample / "ptbxl_database.csv", index_col="ecg_id")


@pytest.fixture(scope="module")
def ptbxl_100(sample: Path):
    return load_ptbxl(PTBXLConfig(path=sample, cache=False))


@pytest.fixture
def copy(sample: Path, table: pd.DataFrame, tmp_path: Path) -> Path:
    """A PTB-XL root in tmp_path with COPY_IDS at 100 and 500 Hz and a matching SHA256SUMS.txt."""
    root = tmp_path / "ptbxl"
    files = []
    for ecg_id in COPY_IDS:
        for column in ("filename_lr", "filename_hr"):
            for ext in (".hea", ".dat"):
                rel = table.loc[ecg_id, column] + ext
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(sample / rel, root / rel)
                files.append(rel)
    lines = (sample / "ptbxl_database.csv").read_text().splitlines(keepends=True)
    (root / "ptbxl_database.csv").write_text("".join(lines[: len(COPY_IDS) + 1]))
    shutil.copyfile(sample / "scp_statements.csv", root / "scp_statements.csv")
    sums = [
        f"{_sha256(root / rel)}  {rel}\n"
        for rel in ["ptbxl_database.csv", "scp_statements.csv", *files]
    ]
    (root / "SHA256SUMS.txt").write_text("".join(sums))
    return root


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record(root: Path, ecg_id: int, rate: str = "lr") -> Path:
    folder = "records100" if rate == "lr" else "records500"
    return root / folder / "00000" / f"{ecg_id:05d}_{rate}"


def _rewrite_samples(record: Path, edit) -> None:
    """Apply ``edit`` to the int16 frames of a format-16 record and fix the header checksums."""
    header = wfdb.rdheader(str(record))
    frames = np.fromfile(f"{record}.dat", dtype="<i2").reshape(-1, header.n_sig)
    edit(frames)
    frames.tofile(f"{record}.dat")
    text = Path(f"{record}.hea").read_text().splitlines()
    for k in range(header.n_sig):
        fields = text[1 + k].split()
        fields[6] = str(int(frames[:, k].astype(np.int64).sum()) % 65536)
        text[1 + k] = " ".join(fields)
    Path(f"{record}.hea").write_text("\n".join(text) + "\n")


def _edit_header(record: Path, old: str, new: str) -> None:
    hea = Path(f"{record}.hea")
    text = hea.read_text()
    assert old in text
    hea.write_text(text.replace(old, new))


def test_reads_every_sample_record_at_100_hz(ptbxl_100) -> None:
    assert ptbxl_100.name == "ptbxl"
    assert ptbxl_100.signals.shape == (353, 12, 1000)
    assert ptbxl_100.signals.dtype == np.float32
    assert ptbxl_100.fs == 100.0
    assert ptbxl_100.info["n_missing"] == 0
    assert ptbxl_100.info["skipped"] == []


def test_signals_equal_wfdb_rdsamp_in_mv(ptbxl_100, sample: Path, table: pd.DataFrame) -> None:
    for row in range(0, 353, 17):
        ecg_id = int(ptbxl_100.record_ids[row])
        expected, fields = wfdb.rdsamp(str(sample / table.loc[ecg_id, "filename_lr"]))
        assert [name.upper() for name in fields["sig_name"]] == [lead.upper() for lead in LEADS]
        np.testing.assert_allclose(ptbxl_100.signals[row], expected.T, atol=1e-6)


def test_labels_are_every_scp_codes_key_whatever_its_likelihood(
    ptbxl_100, table: pd.DataFrame
) -> None:
    for row, rid in enumerate(ptbxl_100.record_ids):
        codes = ast.literal_eval(table.loc[int(rid), "scp_codes"])
        expected = np.zeros(len(SCP_CODES), dtype=np.uint8)
        expected[[SCP_INDEX[c] for c in codes]] = 1
        np.testing.assert_array_equal(ptbxl_100.labels[row], expected)
    assert ptbxl_100.expressed == SCP_CODES


def test_zero_likelihood_statements_count_as_labels(ptbxl_100) -> None:
    first = list(ptbxl_100.record_ids).index("1")  # {'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0}
    assert {SCP_CODES[i] for i in np.flatnonzero(ptbxl_100.labels[first])} == {
        "NORM",
        "LVOLT",
        "SR",
    }


def test_folds_are_strat_fold(ptbxl_100, table: pd.DataFrame) -> None:
    expected = table.loc[[int(r) for r in ptbxl_100.record_ids], "strat_fold"].to_numpy()
    np.testing.assert_array_equal(ptbxl_100.folds, expected)


def test_sex_code_0_is_male_and_1_is_female(ptbxl_100, table: pd.DataFrame) -> None:
    codes = table.loc[[int(r) for r in ptbxl_100.record_ids], "sex"].to_numpy()
    assert set(ptbxl_100.meta["sex"][codes == 0]) == {"M"}
    assert set(ptbxl_100.meta["sex"][codes == 1]) == {"F"}


def test_meta_keeps_patient_age_and_report(ptbxl_100, table: pd.DataFrame) -> None:
    row = table.loc[int(ptbxl_100.record_ids[0])]
    meta = ptbxl_100.meta.iloc[0]
    assert meta["patient_id"] == int(row["patient_id"])
    assert meta["age"] == row["age"]
    assert meta["report"] == row["report"]


def test_500_hz_reads_the_present_records_and_counts_the_missing(sample: Path) -> None:
    data = load_ptbxl(PTBXLConfig(path=sample, fs=500))
    assert data.signals.shape == (150, 12, 5000)
    assert data.info["n_missing"] == 353 - 150
    assert data.info["skipped"] == []


def test_resample_from_500_is_close_to_the_distributed_100_hz_files(
    sample: Path, ptbxl_100
) -> None:
    data = load_ptbxl(PTBXLConfig(path=sample, fs=100, resample_from_500=True))
    assert data.signals.shape == (150, 12, 1000)
    rows = [list(ptbxl_100.record_ids).index(r) for r in data.record_ids]
    difference = np.abs(np.asarray(data.signals) - ptbxl_100.signals[rows])
    assert np.median(difference) < 0.01  # mV; the two differ only in the anti-aliasing filter
    assert data.info["resampled_from_500"] is True


def test_rate_given_as_text_is_accepted() -> None:
    assert PTBXLConfig(path=Path("."), fs="500").fs == 500


def test_resample_from_500_needs_fs_100() -> None:
    with pytest.raises(ValidationError, match="resample_from_500"):
        PTBXLConfig(path=Path("."), fs=500, resample_from_500=True)


def test_second_read_comes_from_the_cache(copy: Path) -> None:
    first = load_ptbxl(PTBXLConfig(path=copy))
    second = load_ptbxl(PTBXLConfig(path=copy))
    assert first.info["cache"]["status"] == "miss"
    assert second.info["cache"]["status"] == "hit"
    assert isinstance(second.signals, np.memmap)
    np.testing.assert_array_equal(second.signals, first.signals)
    np.testing.assert_array_equal(second.labels, first.labels)
    assert second.fingerprint == first.fingerprint
    pd.testing.assert_frame_equal(second.meta, first.meta)


def test_cached_dataset_equals_an_uncached_read(copy: Path) -> None:
    load_ptbxl(PTBXLConfig(path=copy))
    cached = load_ptbxl(PTBXLConfig(path=copy))
    fresh = load_ptbxl(PTBXLConfig(path=copy, cache=False))
    assert fresh.info["cache"]["status"] == "off"
    assert cached.fingerprint == fresh.fingerprint
    pd.testing.assert_frame_equal(cached.meta, fresh.meta)


def test_a_changed_signal_file_invalidates_the_cache(copy: Path, cache_dir: Path) -> None:
    before = np.array(load_ptbxl(PTBXLConfig(path=copy)).signals[1, 0, 0])
    _rewrite_samples(
        _record(copy, 2), lambda frames: frames.__setitem__((0, 0), frames[0, 0] + 100)
    )
    reread = load_ptbxl(PTBXLConfig(path=copy))
    assert reread.info["cache"]["status"] == "miss"
    assert reread.signals[1, 0, 0] == pytest.approx(before + 0.1)  # 100 ADC units at 1000 units/mV
    assert len(list((cache_dir / "datasets" / "ptbxl").iterdir())) == 1  # the stale entry is gone


def test_a_changed_metadata_table_invalidates_the_cache(copy: Path) -> None:
    load_ptbxl(PTBXLConfig(path=copy))
    db = copy / "ptbxl_database.csv"
    stat = db.stat()
    db.write_text(db.read_text().replace("sinusrhythmus", "sinusrhythmus!", 1))
    os.utime(
        db, ns=(stat.st_atime_ns, stat.st_mtime_ns)
    )  # same mtime: the content hash must catch it
    assert load_ptbxl(PTBXLConfig(path=copy)).info["cache"]["status"] == "miss"


def test_cache_off_writes_nothing(copy: Path, cache_dir: Path) -> None:
    load_ptbxl(PTBXLConfig(path=copy, cache=False))
    assert not cache_dir.exists()


def test_fold_override_splits_a_copy_that_lacks_folds_9_and_10(ptbxl_100) -> None:
    with pytest.raises(DataError, match="val split"):
        ptbxl_100.split()
    train, val, test = ptbxl_100.split(FoldSplit.parse("train=1-6,val=7,test=8"))
    assert (len(train), len(val), len(test)) == (265, 44, 44)


def test_records_absent_from_a_partial_copy_are_counted_not_raised(copy: Path) -> None:
    for ext in (".hea", ".dat"):
        Path(f"{_record(copy, 4)}{ext}").unlink()
    data = load_ptbxl(PTBXLConfig(path=copy))
    assert data.info["n_missing"] == 1
    assert data.info["missing_examples"] == ["4"]
    assert "4" not in data.record_ids.tolist() and len(data) == len(COPY_IDS) - 1


def test_missing_dat_names_the_record(copy: Path) -> None:
    Path(f"{_record(copy, 3)}.dat").unlink()
    with pytest.raises(DataError, match=r"ecg_id 3 .*\.dat file is missing"):
        load_ptbxl(PTBXLConfig(path=copy))


def test_truncated_dat_names_the_record(copy: Path) -> None:
    dat = Path(f"{_record(copy, 2)}.dat")
    dat.write_bytes(dat.read_bytes()[:5000])
    with pytest.raises(
        DataError, match=r"ecg_id 2 .*truncated: 5000 bytes, the header needs 24000"
    ):
        load_ptbxl(PTBXLConfig(path=copy))


def test_header_with_a_lead_missing_is_rejected(copy: Path) -> None:
    record = _record(copy, 5)
    lines = Path(f"{record}.hea").read_text().splitlines()
    lines[0] = lines[0].replace(" 12 ", " 11 ", 1)
    Path(f"{record}.hea").write_text("\n".join(lines[:12]) + "\n")  # drops the V6 line
    with pytest.raises(DataError, match=r"ecg_id 5 .*not the 12 standard leads"):
        load_ptbxl(PTBXLConfig(path=copy))


def test_header_with_leads_in_another_order_is_rejected(copy: Path) -> None:
    record = _record(copy, 5)
    _edit_header(record, " I\n", " TMP\n")
    _edit_header(record, " II\n", " I\n")
    _edit_header(record, " TMP\n", " II\n")
    with pytest.raises(DataError, match=r"ecg_id 5 .*\['II', 'I', 'III'"):
        load_ptbxl(PTBXLConfig(path=copy))


def test_header_with_another_sampling_rate_is_rejected(copy: Path) -> None:
    _edit_header(_record(copy, 6), "00006_lr 12 100 1000", "00006_lr 12 250 1000")
    with pytest.raises(DataError, match=r"ecg_id 6 .*sampling rate 250 Hz, expected 100 Hz"):
        load_ptbxl(PTBXLConfig(path=copy))


def test_header_naming_another_record_disagrees_with_the_metadata(copy: Path) -> None:
    _edit_header(_record(copy, 6), "00006_lr 12 100 1000", "00007_lr 12 100 1000")
    with pytest.raises(DataError, match=r"ecg_id 6 .*names record '00007_lr'"):
        load_ptbxl(PTBXLConfig(path=copy))


def test_invalid_samples_are_reported_as_nan(copy: Path) -> None:
    _rewrite_samples(_record(copy, 1), lambda frames: frames.__setitem__((10, 7), -32768))
    with pytest.raises(DataError, match=r"ecg_id 1 .*1 invalid \(NaN\) samples, first in lead V2"):
        load_ptbxl(PTBXLConfig(path=copy))


def test_samples_that_disagree_with_the_header_checksum_are_rejected(copy: Path) -> None:
    dat = Path(f"{_record(copy, 1)}.dat")
    raw = bytearray(dat.read_bytes())
    raw[100] ^= 0x01
    dat.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"ecg_id 1 .*header checksum"):
        load_ptbxl(PTBXLConfig(path=copy))


def test_row_without_a_file_name_is_rejected(copy: Path) -> None:
    db = copy / "ptbxl_database.csv"
    db.write_text(db.read_text().replace("records100/00000/00002_lr", ""))
    with pytest.raises(DataError, match=r"ecg_id 2: ptbxl_database.csv gives no file name"):
        load_ptbxl(PTBXLConfig(path=copy))


def test_unknown_statement_names_the_row(copy: Path) -> None:
    db = copy / "ptbxl_database.csv"
    db.write_text(db.read_text().replace("'SBRAD'", "'XYZ'"))
    with pytest.raises(DataError, match=r"ecg_id 2 \(row 2\): scp_codes \['XYZ'\]"):
        load_ptbxl(PTBXLConfig(path=copy))


def test_folder_without_the_metadata_table_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="holds no ptbxl_database.csv"):
        load_ptbxl(PTBXLConfig(path=tmp_path))


def test_skip_bad_loads_the_rest_and_lists_what_it_skipped(copy: Path) -> None:
    Path(f"{_record(copy, 3)}.dat").unlink()
    dat = Path(f"{_record(copy, 2)}.dat")
    dat.write_bytes(dat.read_bytes()[:5000])
    data = load_ptbxl(PTBXLConfig(path=copy, skip_bad=True))
    assert data.record_ids.tolist() == ["1", "4", "5", "6"]
    assert [s["record"] for s in data.info["skipped"]] == ["3", "2"]
    assert "truncated" in data.info["skipped"][1]["reason"]
    reread = load_ptbxl(PTBXLConfig(path=copy, skip_bad=True))
    assert reread.info["cache"]["status"] == "hit"
    assert reread.info["skipped"] == data.info["skipped"]
    np.testing.assert_array_equal(reread.signals, data.signals)


def test_checksums_of_the_sample_match_its_sha256sums(sample: Path) -> None:
    data = load_ptbxl(PTBXLConfig(path=sample, verify_checksums=True, cache=False))
    checks = data.info["checksums"]
    assert checks["status"] == "ok"
    assert checks["n_checked"] == 2 + 2 * 353
    assert checks["n_unlisted"] == 0


def test_checksum_mismatch_names_the_record(copy: Path) -> None:
    _rewrite_samples(_record(copy, 4), lambda frames: frames.__setitem__((0, 0), frames[0, 0] + 1))
    with pytest.raises(DataError, match=r"ecg_id 4 .*sha256 differs"):
        load_ptbxl(PTBXLConfig(path=copy, verify_checksums=True))
    data = load_ptbxl(PTBXLConfig(path=copy, verify_checksums=True, skip_bad=True))
    assert data.info["checksums"]["mismatched"] == [
        "records100/00000/00004_lr.hea",
        "records100/00000/00004_lr.dat",
    ]
    assert [s["record"] for s in data.info["skipped"]] == ["4"]


def test_checksums_after_a_cached_read_are_checked_again(copy: Path) -> None:
    load_ptbxl(PTBXLConfig(path=copy))
    data = load_ptbxl(PTBXLConfig(path=copy, verify_checksums=True))
    assert data.info["cache"]["status"] == "hit"
    assert data.info["checksums"]["status"] == "ok"


def test_absent_checksum_list_is_reported(copy: Path) -> None:
    (copy / "SHA256SUMS.txt").unlink()
    data = load_ptbxl(PTBXLConfig(path=copy, verify_checksums=True))
    assert data.info["checksums"]["status"] == "absent"


def test_an_unwritable_cache_folder_still_loads_uncached(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("ECGBENCH_CACHE", str(blocker))
    data = load_ptbxl(PTBXLConfig(path=copy))
    assert len(data) == len(COPY_IDS)
    assert data.info["cache"]["status"] == "off"
    assert "cannot write" in data.info["cache"]["reason"]


# -- a damaged metadata table names the row -------------------------------------------------------


def _edit_table(root: Path, edit) -> None:
    db = root / "ptbxl_database.csv"
    table = pd.read_csv(db, dtype=str, keep_default_na=False)
    edit(table)
    table.to_csv(db, index=False)


def test_a_duplicated_ecg_id_names_both_rows(copy: Path) -> None:
    _edit_table(copy, lambda t: t.__setitem__("ecg_id", ["1", "2", "3", "2", "5", "6"]))
    for skip_bad in (False, True):
        with pytest.raises(DataError, match=r"ecg_id 2 appears in rows 2, 4"):
            load_ptbxl(PTBXLConfig(path=copy, skip_bad=skip_bad))


def test_an_ecg_id_that_is_no_whole_number_names_the_row(copy: Path) -> None:
    _edit_table(copy, lambda t: t.__setitem__("ecg_id", ["1", "2", "x3", "4", "5", "6"]))
    with pytest.raises(DataError, match=r"row 3: ecg_id 'x3' is not a whole number"):
        load_ptbxl(PTBXLConfig(path=copy))


@pytest.mark.parametrize("fold", ["seven", "", "2.5", "0"])
def test_a_strat_fold_that_is_no_fold_number_names_the_row(copy: Path, fold: str) -> None:
    _edit_table(copy, lambda t: t.loc.__setitem__((2, "strat_fold"), fold))
    with pytest.raises(DataError, match=r"ecg_id 3 \(row 3\): strat_fold .* is not a fold number"):
        load_ptbxl(PTBXLConfig(path=copy))


def test_skip_bad_skips_rows_with_bad_scp_codes_or_strat_fold(copy: Path) -> None:
    def edit(t):
        t.loc[1, "scp_codes"] = "{'NORM': 100.0"
        t.loc[4, "strat_fold"] = "ten"

    _edit_table(copy, edit)
    data = load_ptbxl(PTBXLConfig(path=copy, skip_bad=True))
    assert data.record_ids.tolist() == ["1", "3", "4", "6"]
    skipped = {s["record"]: s["reason"] for s in data.info["skipped"]}
    assert "scp_codes" in skipped["2"] and "strat_fold 'ten'" in skipped["5"]


def test_skip_bad_skips_a_row_naming_an_unknown_statement(copy: Path) -> None:
    db = copy / "ptbxl_database.csv"
    db.write_text(db.read_text().replace("'SBRAD'", "'XYZ'"))
    data = load_ptbxl(PTBXLConfig(path=copy, skip_bad=True))
    assert "2" not in data.record_ids.tolist()
    assert "XYZ" in data.info["skipped"][0]["reason"]


# -- flat leads ------------------------------------------------------------------------------------


def test_an_all_zero_record_whose_checksums_match_is_a_bad_record(copy: Path) -> None:
    _rewrite_samples(_record(copy, 3), lambda frames: frames.fill(0))
    with pytest.raises(DataError, match=r"ecg_id 3 .*every lead is flat"):
        load_ptbxl(PTBXLConfig(path=copy))
    data = load_ptbxl(PTBXLConfig(path=copy, skip_bad=True))
    assert "3" not in data.record_ids.tolist() and data.info["skipped"][0]["record"] == "3"


def test_a_flat_lead_becomes_a_missing_lead_and_is_reported(copy: Path) -> None:
    from ecgbench.data.summary import summarize

    v2 = LEADS.index("V2")
    _rewrite_samples(_record(copy, 4), lambda frames: frames.__setitem__((slice(None), v2), 7))
    data = load_ptbxl(PTBXLConfig(path=copy))
    row = data.record_ids.tolist().index("4")
    assert np.isnan(data.signals[row, v2]).all() and not np.isnan(data.signals[row, :v2]).any()
    assert data.info["flat_leads"] == [{"record": "4", "leads": ["V2"]}]
    summary = summarize(data)
    assert summary["leads_present"]["V2"] == len(COPY_IDS) - 1
    assert summary["info"]["flat_leads"] == [{"record": "4", "leads": ["V2"]}]


def test_a_lead_of_a_few_adc_steps_is_flat_and_skip_bad_skips_its_record(copy: Path) -> None:
    def near_constant(frames):
        frames[:, 0] = 40 + (np.arange(len(frames)) % 11)  # spans 10 steps of 1 µV

    _rewrite_samples(_record(copy, 5), near_constant)
    assert load_ptbxl(PTBXLConfig(path=copy)).info["flat_leads"] == [{"record": "5", "leads": ["I"]}]
    data = load_ptbxl(PTBXLConfig(path=copy, skip_bad=True))
    assert "5" not in data.record_ids.tolist()
    assert "flat lead(s) I" in data.info["skipped"][0]["reason"]


def test_no_lead_of_the_real_sample_is_flat(ptbxl_100) -> None:
    assert ptbxl_100.info["flat_leads"] == [] and not np.isnan(ptbxl_100.signals).any()
