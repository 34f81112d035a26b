"""Render 12-lead ECGs as printed paper ECGs: ``float32[12, T]`` mV -> ``uint8[H, W, 3]`` RGB.

The layout is the standard clinical printout: a 3 × 4 grid of 2.5-s lead segments
(I, II, III | aVR, aVL, aVF | V1, V2, V3 | V4, V5, V6) above a full-length lead-II rhythm strip,
at 25 mm/s and 10 mm/mV on a red 1 mm / 5 mm grid, with a 1-mV calibration pulse at the
start of every row. Everything that is the same for every record (grid, labels, calibration
pulses, the speed/gain line) is drawn once per configuration and cached, so rendering a record
only draws 13 polylines with PIL (no matplotlib).

The page never carries anything that identifies the record (no id, date or patient fields,
unlike ECG-Image-Kit's header band), so an image model cannot read its answer off the header.

Optional distortions imitate a scanned printout: rotation, crop (resized back to the page
size, so every image of a configuration has the same shape), blur and scan noise (sensor noise
plus uneven illumination). Each magnitude is drawn uniformly between 0 and its maximum, per
image, from the generator passed in.
"""

from __future__ import annotations

import warnings
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from pydantic import BaseModel, ConfigDict, Field

from ecgbench.data.dataset import ECGDataset
from ecgbench.data.leads import LEAD_INDEX, LEADS
from ecgbench.errors import DataError

RGB = tuple[int, int, int]

#: Lead names of the 3 × 4 block, row by row; column c shows the c-th quarter of the record.
GRID_LEADS: tuple[tuple[str, ...], ...] = (
    ("I", "aVR", "V1", "V4"),
    ("II", "aVL", "V2", "V5"),
    ("III", "aVF", "V3", "V6"),
)
RHYTHM_LEAD = "II"

_LEFT_MARGIN_MM = 10.0  # room for the calibration pulse before the traces start (a major line)
_RIGHT_MARGIN_MM = 5.0
_HEADER_MM = 10.0
_BOTTOM_MARGIN_MM = 5.0
_BASELINE_IN_ROW = 0.55  # baseline position within a row, from its top (R waves need more room)


class RenderConfig(BaseModel):
    """How a record is printed. All distortion maxima 0 (the default) gives a clean print."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    px_per_mm: float = Field(
        default=4.0, gt=0,
        description="resolution: 4 px/mm (~100 dpi) prints a 10-s record as a 1060 × 540 image "
        "(1.7 MB as uint8), with 1-mm grid squares 4 px wide",
    )
    layout: Literal["3x4+II"] = Field(default="3x4+II", description="3 × 4 lead grid plus a lead-II rhythm strip")
    speed_mm_s: float = Field(default=25.0, gt=0, description="paper speed, mm/s")
    gain_mm_mv: float = Field(default=10.0, gt=0, description="amplitude scale, mm/mV")
    row_mm: float = Field(default=30.0, gt=0, description="vertical pitch of the four printed rows, mm")
    paper_rgb: RGB = (255, 255, 255)
    grid_minor_rgb: RGB = Field(default=(250, 200, 200), description="1-mm grid lines")
    grid_major_rgb: RGB = Field(default=(230, 110, 110), description="5-mm grid lines")
    trace_rgb: RGB = (0, 0, 0)
    trace_width_mm: float = Field(default=0.25, gt=0, description="pen width; at least one pixel")
    header_text: bool = Field(
        default=True,
        description="print the speed and gain ('25 mm/s  10 mm/mV') in the header band; nothing "
        "else is ever printed there (never the record id or patient fields)",
    )
    rotation_deg_max: float = Field(default=0.0, ge=0, le=45, description="page rotation, ± degrees")
    blur_max: float = Field(default=0.0, ge=0, description="Gaussian blur sigma, mm")
    noise_max: float = Field(
        default=0.0, ge=0, le=1,
        description="scan noise: pixel noise SD and illumination ramp, as a fraction of full scale",
    )
    crop_max: float = Field(
        default=0.0, ge=0, lt=0.5,
        description="fraction of the width/height cut off each edge at most (then resized back)",
    )

    @property
    def distorted(self) -> bool:
        return any((self.rotation_deg_max, self.blur_max, self.noise_max, self.crop_max))


def page_size(n_samples: int, fs: float, config: RenderConfig) -> tuple[int, int]:
    """(H, W) in pixels of the page for a record of ``n_samples`` at ``fs`` Hz."""
    width_mm = _LEFT_MARGIN_MM + n_samples / fs * config.speed_mm_s + _RIGHT_MARGIN_MM
    height_mm = _HEADER_MM + 4 * config.row_mm + _BOTTOM_MARGIN_MM
    return round(height_mm * config.px_per_mm), round(width_mm * config.px_per_mm)


def _baseline_px(row: int, config: RenderConfig) -> float:
    return (_HEADER_MM + (row + _BASELINE_IN_ROW) * config.row_mm) * config.px_per_mm


def _font(size_px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled font, so the print looks the same on every machine."""
    return ImageFont.load_default(size=max(size_px, 6))


@lru_cache(maxsize=8)
def _background(n_samples: int, fs: float, config: RenderConfig) -> Image.Image:
    """The static part of a page: grid, calibration pulses, lead labels, separators, header."""
    height, width = page_size(n_samples, fs, config)
    px = config.px_per_mm
    page = np.empty((height, width, 3), dtype=np.uint8)
    page[:] = config.paper_rgb
    lines_x = np.round(np.arange(0, width / px) * px).astype(int)
    lines_y = np.round(np.arange(0, height / px) * px).astype(int)
    lines_x, lines_y = lines_x[lines_x < width], lines_y[lines_y < height]
    page[:, lines_x] = config.grid_minor_rgb
    page[lines_y, :] = config.grid_minor_rgb
    page[:, lines_x[::5]] = config.grid_major_rgb  # every fifth millimetre, from the page origin
    page[lines_y[::5], :] = config.grid_major_rgb

    image = Image.fromarray(page)
    draw = ImageDraw.Draw(image)
    pen = max(1, round(config.trace_width_mm * px))
    label_font = _font(round(3.5 * px))
    x0 = _LEFT_MARGIN_MM * px
    column_px = n_samples / fs / 4 * config.speed_mm_s * px
    pulse_height = config.gain_mm_mv * px  # 1 mV
    pulse_width = 0.2 * config.speed_mm_s * px  # 200 ms
    for row in range(4):
        base = _baseline_px(row, config)
        start = x0 - pulse_width - 3 * px
        pulse = [
            (start - 1 * px, base), (start, base), (start, base - pulse_height),
            (start + pulse_width, base - pulse_height), (start + pulse_width, base), (x0, base),
        ]
        draw.line(pulse, fill=config.trace_rgb, width=pen)
        names = GRID_LEADS[row] if row < 3 else (RHYTHM_LEAD,)
        for col, name in enumerate(names):
            x = x0 + col * column_px
            draw.text((x + 1.5 * px, base - 0.42 * config.row_mm * px), name, fill=config.trace_rgb, font=label_font)
            if col > 0:  # the bar that marks a change of lead
                draw.line([(x, base - 2.5 * px), (x, base + 2.5 * px)], fill=config.trace_rgb, width=2 * pen)
    if config.header_text:
        text = f"{config.speed_mm_s:g} mm/s   {config.gain_mm_mv:g} mm/mV"
        draw.text((x0, 2.5 * px), text, fill=config.trace_rgb, font=_font(round(4 * px)))
    return image


def _polyline_runs(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    """Flat [x0, y0, x1, y1, ...] point lists of the finite stretches of a trace."""
    finite = np.isfinite(y)
    if finite.all():
        return [np.column_stack([x, y]).ravel().tolist()]
    runs = []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - start >= 2:
            runs.append(np.column_stack([x[start:stop], y[start:stop]]).ravel().tolist())
    return runs


def _draw_traces(image: Image.Image, signals: np.ndarray, fs: float, config: RenderConfig) -> None:
    px = config.px_per_mm
    n_samples = signals.shape[1]
    draw = ImageDraw.Draw(image)
    pen = max(1, round(config.trace_width_mm * px))
    height = image.height
    x0 = _LEFT_MARGIN_MM * px
    px_per_sample = config.speed_mm_s * px / fs
    scale = config.gain_mm_mv * px
    with warnings.catch_warnings():  # an absent (all-NaN) lead has no median and stays blank
        warnings.simplefilter("ignore", RuntimeWarning)
        # The printer's high-pass filter puts each lead's baseline on its row.
        centred = signals - np.nanmedian(signals, axis=1, keepdims=True)
    quarter = n_samples / 4

    def trace(lead: str, start: int, stop: int, row: int) -> None:
        values = centred[LEAD_INDEX[lead], start:stop]
        x = x0 + np.arange(start, stop) * px_per_sample
        y = np.clip(_baseline_px(row, config) - values * scale, -height, 2 * height)
        for points in _polyline_runs(x, y):
            draw.line(points, fill=config.trace_rgb, width=pen)

    for row, names in enumerate(GRID_LEADS):
        for col, name in enumerate(names):
            # one sample of overlap joins a segment to the boundary bar without a gap
            trace(name, round(col * quarter), min(n_samples, round((col + 1) * quarter) + 1), row)
    trace(RHYTHM_LEAD, 0, n_samples, 3)


def _distort(image: Image.Image, config: RenderConfig, rng: np.random.Generator) -> Image.Image:
    """Rotate, crop, blur and add scan noise, in the order a scanned printout meets them."""
    width, height = image.size
    if config.rotation_deg_max > 0:
        angle = rng.uniform(-config.rotation_deg_max, config.rotation_deg_max)
        image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=config.paper_rgb)
    if config.crop_max > 0:
        left, right = rng.uniform(0, config.crop_max, 2) * width
        top, bottom = rng.uniform(0, config.crop_max, 2) * height
        box = (left, top, width - right, height - bottom)
        image = image.resize((width, height), Image.Resampling.BILINEAR, box=box)
    if config.blur_max > 0:
        sigma = rng.uniform(0, config.blur_max) * config.px_per_mm
        image = image.filter(ImageFilter.GaussianBlur(radius=sigma))
    if config.noise_max > 0:
        level = rng.uniform(0, config.noise_max) * 255
        direction = rng.uniform(0, 2 * np.pi)
        ramp_x = (np.cos(direction) * level / width) * np.arange(width, dtype=np.float32)
        ramp_y = (np.sin(direction) * level / height) * np.arange(height, dtype=np.float32)
        # grey (luminance) noise and illumination shading, as a scanner's sensor and lamp give
        shade = rng.standard_normal((height, width), dtype=np.float32) * np.float32(level)
        shade += ramp_y[:, None]
        shade += ramp_x[None, :]
        pixels = np.asarray(image, dtype=np.float32) - shade[..., None]
        image = Image.fromarray(np.clip(pixels, 0, 255, out=pixels).astype(np.uint8))
    return image


def render_ecg(
    signals: np.ndarray, fs: float, config: RenderConfig | None = None, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Print one record: ``float32[12, T]`` in mV (leads in :data:`LEADS` order) -> ``uint8[H, W, 3]``.

    A lead that is all-NaN (absent) stays blank; NaN gaps break the trace. ``rng`` draws the
    distortions and is required when ``config`` has any.
    """
    config = config or RenderConfig()
    signals = np.asarray(signals)
    if signals.ndim != 2 or signals.shape[0] != len(LEADS) or signals.shape[1] < 8:
        raise DataError(f"render_ecg: signals must be float[12, T] with T >= 8, got shape {signals.shape}")
    if not fs > 0:
        raise DataError(f"render_ecg: fs must be positive, got {fs}")
    if config.distorted and rng is None:
        raise DataError("render_ecg: the config asks for distortions, so pass rng=np.random.default_rng(seed)")
    image = _background(signals.shape[1], float(fs), config).copy()
    _draw_traces(image, signals.astype(np.float64, copy=False), float(fs), config)
    if config.distorted:
        assert rng is not None
        image = _distort(image, config, rng)
    return np.asarray(image, dtype=np.uint8)


def record_rng(seed: int, record_id: str) -> np.random.Generator:
    """The distortion stream of one record: fixed by seed and id, whatever else is rendered."""
    return np.random.default_rng([seed, zlib.crc32(str(record_id).encode())])


def render_dataset(dataset: ECGDataset, config: RenderConfig | None = None, seed: int = 0) -> np.ndarray:
    """Print every record of a dataset: ``uint8[n, H, W, 3]``, in dataset order."""
    config = config or RenderConfig()
    height, width = page_size(dataset.n_samples, dataset.fs, config)
    images = np.empty((len(dataset), height, width, 3), dtype=np.uint8)
    for i, record_id in enumerate(dataset.record_ids):
        try:
            images[i] = render_ecg(dataset.signals[i], dataset.fs, config, record_rng(seed, record_id))
        except DataError as error:
            raise DataError(f"dataset {dataset.name!r}, record {record_id!r}: {error}") from error
    return images


def save_png(image: np.ndarray, path: str | Path) -> Path:
    """Write a ``uint8[H, W, 3]`` image as PNG (folders are created)."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise DataError(f"save_png({path}): expected uint8[H, W, 3], got {image.dtype}{list(image.shape)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, format="PNG")
    return path
