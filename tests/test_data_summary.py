"""summarize(): the JSON-ready description behind `ecgbench data summary NAME --json`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from shared_data import shared_sample, uses_shared_data

from ecgbench.data.dataset import ECGDataset, empty_meta
from ecgbench.data.labels import N_LABELS, SCP_INDEX
from ecgbench.data.ptbxl import PTBXLConfig, load_ptbxl
from ecgbench.data.summary import summarize
from ecgbench.data.wfdb_dir import WFDBDirConfig, load_wfdb_dir


def _tiny(info: dict | None = None) -> ECGDataset:
    labels = np.zeros((3, N_LABELS), dtype=np.uint8)
    labels[0, SCP_INDEX["NORM"]] = labels[1, SCP_INDEX["NORM"]] = labels[1, SCP_INDEX["SR"]] = 1
    signals = np.zeros((3, 12, 20), dtype=np.float32)
    signals[2, 3:] = np.nan
    return ECGDataset(
        name="tiny",
        signals=signals,
        fs=2.0,
        record_ids=np.array(["a", "b", "c"], dtype=object),
        labels=labels,
        folds=np.array([1, 1, 10]),
        meta=empty_meta(3),
        expressed=("NORM", "SR", "AFIB"),
        intervals=pd.DataFrame(
            {
                "pr": [150.0, np.nan, 170.0],
                "qrs": [90.0, 100.0, 110.0],
                "qt": [400.0] * 3,
                "rr": [1000.0] * 3,
                "hr": [60.0] * 3,
            }
        ),
        info=info or {},
    )


def test_counts_rate_and_folds() -> None:
    summary = summarize(_tiny())
    assert (summary["name"], summary["n_records"], summary["fs"], summary["n_samples"]) == (
        "tiny",
        3,
        2.0,
        20,
    )
    assert summary["duration_s"] == 10.0
    assert summary["folds"] == {"1": 2, "10": 1}


def test_prevalence_is_over_expressed_codes_with_absent_ones_counted() -> None:
    summary = summarize(_tiny())
    assert summary["label_prevalence"] == {"NORM": 2, "SR": 1}
    assert summary["absent_codes"] == 1  # AFIB
    assert summary["n_unlabelled_records"] == 1


def test_leads_present_counts_records_per_lead() -> None:
    present = summarize(_tiny())["leads_present"]
    assert present["I"] == 3 and present["aVR"] == 2 and present["V6"] == 2


def test_skipped_records_come_from_the_info() -> None:
    skipped = [{"record": "d", "reason": "record d: signal file d.dat is truncated"}]
    summary = summarize(_tiny({"skipped": skipped, "n_missing": 4}))
    assert summary["n_skipped"] == 1 and summary["skipped"] == skipped
    assert summary["info"]["n_missing"] == 4


def test_interval_summary_ignores_nan() -> None:
    pr = summarize(_tiny())["intervals"]["pr"]
    assert pr == {"n": 2, "median": 160.0, "q1": 155.0, "q3": 165.0, "min": 150.0, "max": 170.0}


def test_summary_is_strict_json() -> None:
    json.dumps(
        summarize(_tiny({"skipped": [], "native_fs": {"250": np.int64(2)}})), allow_nan=False
    )


@uses_shared_data
def test_ptbxl_sample_summary() -> None:
    data = load_ptbxl(PTBXLConfig(path=shared_sample("ptbxl-sample")))
    summary = summarize(data)
    assert summary["n_records"] == 353 and summary["fs"] == 100.0
    assert summary["folds"] == {str(f): int((data.folds == f).sum()) for f in range(1, 9)}
    assert summary["label_prevalence"]["NORM"] == 225
    assert summary["absent_codes"] == 71 - len(summary["label_prevalence"])
    assert summary["fingerprint"] == data.fingerprint
    json.dumps(summary, allow_nan=False)


@uses_shared_data
def test_qtdb_sample_summary_has_interval_statistics() -> None:
    summary = summarize(load_wfdb_dir(WFDBDirConfig(path=shared_sample("qtdb-sample"))))
    assert summary["intervals"]["qt"]["n"] == summary["n_records"]
    assert summary["n_beats"] > summary["n_records"]
    assert summary["label_prevalence"] == {} and summary["n_expressed_codes"] == 0
    json.dumps(summary, allow_nan=False)


@uses_shared_data
def test_cinc_sample_summary_lists_mapped_labels() -> None:
    summary = summarize(load_wfdb_dir(WFDBDirConfig(path=shared_sample("cinc2021-sample"))))
    assert summary["label_prevalence"]["SR"] == 15
    assert summary["info"]["layout"] == "cinc2021"
    json.dumps(summary, allow_nan=False)
