"""The ECG pictures: standard 12-lead page, record grids and real-versus-generated strips."""

from __future__ import annotations

import numpy as np
import pytest

from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.data.plot import plot_12lead, plot_comparison, plot_records_grid

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def records() -> np.ndarray:
    return load_phantom(PhantomConfig(n_records=3, fs=100, seed=2, cache=False)).signals


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_plot_12lead_draws_a_page_at_paper_proportions(records, tmp_path):
    path = plot_12lead(records[0], 100.0, tmp_path / "page.png", title="phantom-000000", labels=["NORM", "SR"])
    width, height = _png_size(path)
    # 10 s at 25 mm/s is 250 mm of trace plus a 12 mm margin; four 30-mm rows plus a header.
    assert width == pytest.approx(262 / 25.4 * 110, abs=2)
    assert height == pytest.approx((126 + 12) / 25.4 * 110, abs=2)


def test_plot_12lead_gives_the_same_bytes_for_the_same_record(records, tmp_path):
    a = plot_12lead(records[1], 100.0, tmp_path / "a.png").read_bytes()
    b = plot_12lead(records[1], 100.0, tmp_path / "b.png").read_bytes()
    assert a == b
    assert b"Software" not in a


def test_plot_12lead_rejects_signals_that_are_not_twelve_leads(tmp_path):
    with pytest.raises(ValueError, match=r"\[12, T\]"):
        plot_12lead(np.zeros((8, 1000), np.float32), 100.0, tmp_path / "bad.png")


def test_plot_12lead_skips_a_missing_lead(records, tmp_path):
    x = records[0].copy()
    x[6] = np.nan
    assert plot_12lead(x, 100.0, tmp_path / "missing.png").exists()


def test_plot_records_grid_has_one_row_per_record(records, tmp_path):
    one = _png_size(plot_records_grid(records[:1], 100.0, tmp_path / "one.png"))
    three = _png_size(plot_records_grid(records, 100.0, tmp_path / "three.png", titles=["a", "b", "c"]))
    assert three[0] == one[0] and three[1] > 2 * one[1]


def test_plot_comparison_puts_real_and_generated_side_by_side(records, tmp_path):
    single = _png_size(plot_records_grid(records[:2], 100.0, tmp_path / "single.png", seconds=4.0))
    both = _png_size(plot_comparison(records[:2], records[1:], 100.0, tmp_path / "cmp.png"))
    assert both[0] == pytest.approx(2 * single[0], abs=2) and both[1] == single[1]


def test_gallery_draws_one_page_per_statement_present(tmp_path):
    from ecgbench.data.phantom.gallery import draw_gallery, file_name

    config = PhantomConfig(n_records=30, fs=100, seed=0, cache=False)
    ds = load_phantom(config)
    present = [code for code, count in ds.label_prevalence().items() if count]
    paths = draw_gallery(tmp_path, config)
    assert sorted(p.name for p in paths) == sorted(file_name(code) for code in present)
    assert file_name("STE_") == "phantom-ste.png"
