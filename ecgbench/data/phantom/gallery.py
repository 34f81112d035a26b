"""One 12-lead picture per statement the phantom expresses, and one of the fiducials:
``python -m ecgbench.data.phantom.gallery DIR``.

For each code the gallery picks, from a fixed 500 Hz cohort, the record that carries that code
with the fewest other statements (ties: in sinus rhythm, then the quietest record), so each
page shows the finding on its own as far as the cohort allows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ecgbench.data.labels import SCP_CODES, SCP_INDEX, statement
from ecgbench.data.phantom.config import PhantomConfig
from ecgbench.data.phantom.generator import generate
from ecgbench.data.phantom.statements import EXPRESSED_CODES
from ecgbench.data.plot import plot_12lead

GALLERY_CONFIG = PhantomConfig(n_records=600, fs=500, seed=0, noise=1.0, cache=False)


def file_name(code: str) -> str:
    """docs/img file name of a code: phantom-<code>.png, lower case, '_' dropped (STE_ -> ste)."""
    return f"phantom-{code.lower().rstrip('_')}.png"


def draw_gallery(out_dir: str | Path, config: PhantomConfig = GALLERY_CONFIG) -> list[Path]:
    """Draw phantom-<code>.png for every expressed code into ``out_dir``; returns the paths."""
    ds = generate(config)
    out_dir = Path(out_dir)
    noise = (ds.meta["noise_emg_mv"] + ds.meta["noise_bw_mv"] / 4).to_numpy()
    paths = []
    for code in EXPRESSED_CODES:
        carriers = np.flatnonzero(ds.labels[:, SCP_INDEX[code]] == 1)
        if carriers.size == 0:
            continue
        others = ds.labels[carriers].sum(axis=1)
        not_sr = ds.labels[carriers, SCP_INDEX["SR"]] == 0
        record = carriers[np.lexsort((noise[carriers], not_sr, others))[0]]
        codes = [c for c in SCP_CODES if ds.labels[record, SCP_INDEX[c]]]
        iv = ds.intervals.iloc[record]
        pr = "—" if np.isnan(iv["pr"]) else f"{iv['pr']:.0f}"
        title = (
            f"{ds.record_ids[record]}  {code}: {statement(code)['description']}   "
            f"PR {pr} ms  QRS {iv['qrs']:.0f} ms  QT {iv['qt']:.0f} ms  HR {iv['hr']:.0f}/min  "
            f"axis {ds.meta['axis_deg'][record]:.0f}°"
        )
        paths.append(plot_12lead(ds.signals[record], ds.fs, out_dir / file_name(code), title=title,
                                 labels="labels: " + ", ".join(codes), dpi=120))
    return paths


def draw_fiducials(path: str | Path, record: int = 1) -> Path:
    """One clean conducted beat in leads II, V1 and V5 with its ground-truth fiducials marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ecgbench.data.leads import LEAD_INDEX

    ds = generate(PhantomConfig(n_records=record + 1, fs=500, seed=0, noise=0.0, cache=False))
    beats = ds.beats[(ds.beats["record"] == record) & (ds.beats["kind"] == "N")]
    beat = beats.iloc[len(beats) // 2]
    lo, hi = int(beat["p_on"]) - 40, int(np.nanmax([beat["t_off"], beat["u_off"]])) + 40
    time_ms = (np.arange(lo, hi) - beat["qrs_on"]) / ds.fs * 1000.0
    fig, ax = plt.subplots(figsize=(9, 4))
    for offset, lead in zip((0.0, -2.0, -4.6), ("II", "V1", "V5"), strict=True):
        ax.plot(time_ms, ds.signals[record, LEAD_INDEX[lead], lo:hi] + offset, color="black", lw=1.0)
        ax.text(time_ms[0], offset + 0.15, lead, fontsize=9, fontweight="bold")
    marks = {"p_on": "P on", "p_off": "P off", "qrs_on": "QRS on", "r_peak": "R peak", "qrs_off": "QRS off",
             "t_peak": "T peak", "t_off": "T off"}
    for name, label in marks.items():
        at = (beat[name] - beat["qrs_on"]) / ds.fs * 1000.0
        ax.axvline(at, color="tab:red", lw=0.8, ls="--")
        ax.text(at, 1.25, label, rotation=90, fontsize=8, ha="right", va="bottom", color="tab:red")
    ax.set_xlabel("ms from QRS onset")
    ax.set_ylabel("mV (leads offset)")
    ax.set_ylim(-5.4, 2.2)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Draw the phantom's picture gallery.")
    parser.add_argument("out_dir", type=Path, help="folder for the PNG files (e.g. docs/img)")
    args = parser.parse_args(argv)
    for path in draw_gallery(args.out_dir):
        print(path)
    print(draw_fiducials(args.out_dir / "phantom-fiducials.png"))


if __name__ == "__main__":
    main()
