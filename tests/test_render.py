"""Printed-ECG rendering: layout, scale, determinism, distortions and no leakage of the record id."""

import numpy as np
import pytest
from PIL import Image
from shared_data import shared_sample, uses_shared_data

from ecgbench.data.dataset import ECGDataset, empty_meta
from ecgbench.data.labels import N_LABELS
from ecgbench.data.leads import LEAD_INDEX
from ecgbench.data.render import (
    GRID_LEADS,
    RenderConfig,
    page_size,
    render_dataset,
    render_ecg,
    save_png,
)
from ecgbench.errors import DataError

FS = 100.0
PX = 4.0
X0 = 10 * PX  # traces start after the 10-mm calibration margin
CLEAN = RenderConfig()
DISTORTED = RenderConfig(rotation_deg_max=3, blur_max=0.2, noise_max=0.05, crop_max=0.03)


def _flat(n_samples: int = 1000) -> np.ndarray:
    return np.zeros((12, n_samples), dtype=np.float32)


def _dark(image: np.ndarray) -> np.ndarray:
    """Trace pixels: dark in every channel (the grid is red, the paper white)."""
    return image.max(axis=-1) < 100


def _baseline_y(row: int) -> float:
    return (10 + (row + 0.55) * 30) * PX


def _dataset(signals: np.ndarray, ids: list[str]) -> ECGDataset:
    n = len(ids)
    return ECGDataset(
        name="synthetic", signals=signals.astype(np.float32), fs=FS, record_ids=np.array(ids),
        labels=np.zeros((n, N_LABELS), dtype=np.uint8), folds=np.ones(n, dtype=int), meta=empty_meta(n),
    )


def test_a_ten_second_record_prints_on_a_1060_by_540_page_at_4_px_per_mm():
    image = render_ecg(_flat(), FS)
    assert image.shape == (540, 1060, 3) and image.dtype == np.uint8
    assert page_size(1000, FS, CLEAN) == (540, 1060)


def test_the_page_size_depends_on_duration_not_on_sampling_rate():
    assert render_ecg(_flat(5000), 500.0).shape == render_ecg(_flat(1000), 100.0).shape


def test_the_grid_has_a_line_every_millimetre_and_a_darker_one_every_five():
    image = render_ecg(_flat(), FS, RenderConfig(header_text=False))
    row = image[2]  # inside the header band: only paper and vertical grid lines
    minor = np.array(CLEAN.grid_minor_rgb)
    major = np.array(CLEAN.grid_major_rgb)
    for mm in range(1, 60):
        colour = major if mm % 5 == 0 else minor
        assert (row[round(mm * PX)] == colour).all(), f"no grid line at {mm} mm"
    assert (row[round(2.5 * PX)] == np.array(CLEAN.paper_rgb)).all()


def test_a_one_millivolt_deflection_rises_ten_millimetres_at_the_right_time():
    signals = _flat()
    signals[LEAD_INDEX["I"], 100:104] = 1.0  # 1 mV at t = 1.0 s, in the first column (lead I)
    image = render_ecg(signals, FS)
    x = round(X0 + 1.0 * 25 * PX)  # 25 mm/s
    rows = np.flatnonzero(_dark(image[:, x - 1: x + 3]).any(axis=1))
    near_row0 = (rows > _baseline_y(0) - 15 * PX) & (rows < _baseline_y(0) + 5 * PX)  # not the header text
    top_row0 = rows[near_row0].min()
    assert abs((_baseline_y(0) - top_row0) - 10 * PX) <= 1.5  # 10 mm/mV


def test_each_row_starts_with_a_one_millivolt_calibration_pulse():
    image = render_ecg(_flat(), FS)
    pulse_x = round(X0 - 3 * PX - 2.5 * PX)  # the middle of the 5-mm wide pulse
    for row in range(4):
        column = _dark(image[:, pulse_x])
        top = _baseline_y(row) - 10 * PX
        assert column[round(top) - 1: round(top) + 2].any(), f"row {row}: no pulse top 10 mm above the baseline"


def test_the_rhythm_strip_reproduces_lead_ii_over_the_whole_record():
    t = np.arange(1000) / FS
    signals = _flat()
    signals[LEAD_INDEX["II"]] = 0.8 * np.sin(2 * np.pi * 0.7 * t)
    image = render_ecg(signals, FS, RenderConfig(trace_width_mm=0.1))
    strip = _dark(image[round(_baseline_y(3) - 14 * PX): round(_baseline_y(3) + 14 * PX)])
    xs = np.arange(round(X0) + 2, round(X0 + 250 * PX) - 2)
    traced = np.array([np.flatnonzero(strip[:, x]).mean() for x in xs])
    expected = np.interp((xs - X0) / (25 * PX), t, signals[LEAD_INDEX["II"]])
    assert np.corrcoef(traced, -expected)[0, 1] > 0.99


def test_an_absent_lead_leaves_its_panel_blank():
    signals = _flat()
    signals[LEAD_INDEX["V1"]] = np.nan
    signals[LEAD_INDEX["V2"]] = 0.5
    image = render_ecg(signals, FS)
    column = [c for c, names in enumerate(zip(*GRID_LEADS, strict=True)) if "V1" in names][0]
    x_lo, x_hi = round(X0 + column * 62.5 * PX + 12 * PX), round(X0 + (column + 1) * 62.5 * PX - 4 * PX)
    v1_band = image[round(_baseline_y(0) - 4 * PX): round(_baseline_y(0) + 4 * PX), x_lo:x_hi]
    v2_band = image[round(_baseline_y(1) - 8 * PX): round(_baseline_y(1) + 4 * PX), x_lo:x_hi]
    assert not _dark(v1_band).any()
    assert _dark(v2_band).any()


def test_clean_rendering_is_deterministic():
    signals = np.random.default_rng(0).normal(0, 0.3, (12, 1000))
    assert np.array_equal(render_ecg(signals, FS), render_ecg(signals, FS))


def test_distortions_follow_the_generator_seed():
    signals = np.random.default_rng(0).normal(0, 0.3, (12, 1000))
    a = render_ecg(signals, FS, DISTORTED, np.random.default_rng(5))
    b = render_ecg(signals, FS, DISTORTED, np.random.default_rng(5))
    c = render_ecg(signals, FS, DISTORTED, np.random.default_rng(6))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == render_ecg(signals, FS).shape


def test_each_distortion_changes_the_image_on_its_own():
    signals = np.random.default_rng(0).normal(0, 0.3, (12, 1000))
    clean = render_ecg(signals, FS)
    for setting in ({"rotation_deg_max": 5}, {"blur_max": 0.5}, {"noise_max": 0.2}, {"crop_max": 0.1}):
        out = render_ecg(signals, FS, RenderConfig(**setting), np.random.default_rng(1))
        assert out.shape == clean.shape and not np.array_equal(out, clean), setting


def test_distortions_without_a_generator_are_refused():
    with pytest.raises(DataError, match="rng"):
        render_ecg(_flat(), FS, DISTORTED)


def test_a_wrongly_shaped_signal_is_refused_with_its_shape():
    with pytest.raises(DataError, match=r"\(8, 1000\)"):
        render_ecg(np.zeros((8, 1000)), FS)


def test_the_record_id_never_reaches_the_image():
    signals = np.random.default_rng(1).normal(0, 0.3, (1, 12, 1000))
    a = render_dataset(_dataset(signals, ["record-00017"]), CLEAN, seed=0)
    b = render_dataset(_dataset(signals, ["another-id-99"]), CLEAN, seed=0)
    assert np.array_equal(a, b)


def test_a_record_gets_the_same_distortion_whatever_else_is_rendered():
    signals = np.random.default_rng(2).normal(0, 0.3, (3, 12, 1000))
    full = render_dataset(_dataset(signals, ["a", "b", "c"]), DISTORTED, seed=3)
    alone = render_dataset(_dataset(signals[[2]], ["c"]), DISTORTED, seed=3)
    assert full.shape == (3, 540, 1060, 3)
    assert np.array_equal(full[2], alone[0])


def test_save_png_writes_the_pixels_unchanged(tmp_path):
    image = render_ecg(np.random.default_rng(3).normal(0, 0.3, (12, 1000)), FS)
    path = save_png(image, tmp_path / "sub" / "ecg.png")
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), image)


def test_save_png_refuses_a_float_array(tmp_path):
    with pytest.raises(DataError, match="uint8"):
        save_png(np.zeros((4, 4, 3)), tmp_path / "x.png")


@uses_shared_data
def test_a_ptbxl_record_prints_with_its_rhythm_strip_matching_lead_ii():
    wfdb = pytest.importorskip("wfdb")
    root = shared_sample("ptbxl-sample")
    record = wfdb.rdrecord(str(root / "records500" / "00000" / "00003_hr"))
    signals = record.p_signal.T.astype(np.float32)
    image = render_ecg(signals, record.fs, RenderConfig(trace_width_mm=0.1))
    assert image.shape == (540, 1060, 3)
    strip = _dark(image[round(_baseline_y(3) - 14 * PX): round(_baseline_y(3) + 14 * PX)])
    xs = np.arange(round(X0) + 2, round(X0 + 250 * PX) - 2)
    traced = np.array([np.flatnonzero(strip[:, x]).mean() if strip[:, x].any() else np.nan for x in xs])
    t = np.arange(signals.shape[1]) / record.fs
    lead_ii = signals[LEAD_INDEX["II"]] - np.median(signals[LEAD_INDEX["II"]])
    expected = np.interp((xs - X0) / (25 * PX), t, lead_ii)
    ok = np.isfinite(traced)
    assert ok.mean() > 0.99
    assert np.corrcoef(traced[ok], -expected[ok])[0, 1] > 0.9
