"""The static site: rebuilt from records alone, reproducible, self-contained, every task alike."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from record_factory import make_record

from ecgbench.leaderboard import build
from ecgbench.records import Artifact, sha256_file, write_record, write_samples
from ecgbench.site import MARKER, SiteError, build_site


def _write(results: Path, record, files: dict[str, bytes] | None = None):
    """Write the artifact files, then the record naming them with their sha256."""
    folder = results / record.task.name / record.model.name
    artifacts = []
    for relative, (kind, data) in (files or {}).items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        artifacts.append(Artifact(path=relative, sha256=sha256_file(target), kind=kind))
    return write_record(record.model_copy(update={"artifacts": artifacts}) if artifacts else record, results)


def _with(record, **update):
    return record.model_copy(update=update)


@pytest.fixture
def site(tmp_path) -> Path:
    """Three ranked rows (two tied), a second dataset, a task no built-in knows, and a run with
    a plot, a samples file with scores and a loss curve."""
    results = tmp_path / "results"
    scored = make_record(run_id="20260101T000000Z-a", model="alpha", main=("macro_auroc", 0.90, 0.88, 0.92),
                         others={"fmax": 0.7})
    rng = np.random.default_rng(0)
    y_true = (rng.uniform(size=(40, 71)) < 0.2).astype(np.uint8)
    y_score = np.clip(y_true * 0.3 + rng.uniform(size=(40, 71)) * 0.7, 0, 1).astype(np.float32)
    samples = tmp_path / "samples.npz"
    write_samples({"record_id": np.arange(40).astype(str), "y_true": y_true, "y_score": y_score,
                   "label_codes": np.array([f"L{j}" for j in range(71)])}, samples)
    _write(results, _with(scored, notes={"loss_curve": [1.0, 0.6, 0.4, 0.3], "train_iterations": 400,
                                         "n_parameters": 1234}),
           {"20260101T000000Z-a/roc-like.png": ("plot", b"\x89PNG not really"),
            "20260101T000000Z-a.samples.npz": ("samples", samples.read_bytes())})
    _write(results, make_record(run_id="20260101T000000Z-b", model="beta", main=("macro_auroc", 0.89, 0.87, 0.91)))
    _write(results, make_record(run_id="20260101T000000Z-c", model="gamma", main=("macro_auroc", 0.70, 0.68, 0.72)))
    _write(results, make_record(run_id="20260101T000000Z-d", model="alpha", dataset="ptbxl", fingerprint="e" * 64))
    _write(results, make_record(run_id="20260101T000000Z-e", model="retriever", task="retrieve-report",
                                main=("recall_at_1", 0.4, 0.3, 0.5)))
    _write(results, make_record(run_id="20260101T000000Z-f", model="gamma", status="failed"))
    build(results, tmp_path / "lb")
    return tmp_path / "lb" / "site"


def _page(site: Path, relative: str) -> str:
    return (site / relative).read_text(encoding="utf-8")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append((tag, name, value))


def _links(html: str) -> list[tuple[str, str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def test_every_task_in_the_records_gets_a_page_even_one_no_builtin_knows(site):
    assert sorted(p.name for p in (site / "tasks").iterdir()) == ["classify-71-labels.html", "retrieve-report.html"]
    assert "recall_at_1" in _page(site, "tasks/retrieve-report.html")
    index = _page(site, "index.html")
    assert 'href="tasks/retrieve-report.html"' in index and 'href="tasks/classify-71-labels.html"' in index


def test_every_run_record_gets_a_page_and_a_copy_of_its_record(site):
    for run in "abcdef":
        assert (site / "runs" / f"20260101T000000Z-{run}.html").is_file()
        assert (site / "runs" / f"20260101T000000Z-{run}.json").is_file()


def test_a_rebuild_writes_identical_bytes(site, tmp_path):
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    build(tmp_path / "results", tmp_path / "lb")
    assert before == {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def test_every_local_link_resolves_and_nothing_is_loaded_from_elsewhere(site):
    for page in site.rglob("*.html"):
        for tag, _, target in _links(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "//")):
                assert tag == "a", f"{page.relative_to(site)} loads {target} from the network"
                continue
            local = target.split("#")[0]
            if local:
                assert (page.parent / local).resolve().is_file(), f"{page.relative_to(site)}: {target} is missing"


def test_tied_rows_share_a_tie_group_and_the_untied_row_has_none(site):
    html = _page(site, "tasks/classify-71-labels.html")
    rows = re.findall(r'<tr class="([^"]*)" data-run="([^"]+)"( data-tie-group="(\d+)")?', html)
    groups = {run: (css, group) for css, run, _, group in rows}
    assert groups["20260101T000000Z-a"] == ("tie tie-a", "1")
    assert groups["20260101T000000Z-b"] == ("tie tie-a", "1")
    assert groups["20260101T000000Z-c"] == ("", "")


def test_the_main_metric_ci_is_drawn_on_the_section_scale_around_its_value(site):
    html = _page(site, "tasks/classify-71-labels.html")
    drawn = {}
    for run, svg in re.findall(r'data-run="([^"]+)".*?(<svg class="ci".*?</svg>)', html, flags=re.S):
        lo, hi = (float(v) for v in re.search(r'class="ci-bar" x1="([\d.]+)" y1="7" x2="([\d.]+)"', svg).groups())
        x = float(re.search(r'class="ci-point" cx="([\d.]+)"', svg).group(1))
        drawn[run] = (lo, x, hi)
    low, best = drawn["20260101T000000Z-c"], drawn["20260101T000000Z-a"]
    assert low[0] < low[1] < low[2] < best[0] < best[1] < best[2]
    assert low[0] == 5.0 and best[2] == 155.0  # the widest interval spans the scale


def test_filters_offer_the_datasets_and_budgets_of_the_sections(site):
    html = _page(site, "tasks/classify-71-labels.html")
    assert re.findall(r'<select data-filter="dataset">(.*?)</select>', html, flags=re.S)[0].count("<option") == 3
    assert 'data-dataset="phantom" data-budget="ci"' in html and 'data-dataset="ptbxl" data-budget="ci"' in html


def test_a_run_page_shows_provenance_every_metric_with_its_ci_and_links_the_model_card(site):
    html = _page(site, "runs/20260101T000000Z-a.html")
    assert "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" in html  # commit
    assert "f" * 64 in html  # data fingerprint
    assert "[0.88, 0.92]" in html and "<code>fmax</code>" in html
    assert 'href="../models/alpha.html"' in html and "ecgbench models show alpha" in html
    assert "rank <b>≈1</b> of 3" in html


def test_a_run_page_shows_its_plots_its_curves_and_a_roc_from_its_samples(site):
    html = _page(site, "runs/20260101T000000Z-a.html")
    assert 'src="20260101T000000Z-a/roc-like.png"' in html
    assert (site / "runs" / "20260101T000000Z-a" / "roc-like.png").read_bytes() == b"\x89PNG not really"
    assert 'aria-label="loss curve"' in html
    assert 'aria-label="ROC"' in html and "micro average (AUROC" in html


def test_runs_off_the_leaderboard_say_why(site):
    assert "the run failed" in _page(site, "runs/20260101T000000Z-f.html")


def test_a_missing_artifact_is_reported_not_fatal(tmp_path):
    record = _with(make_record(run_id="r1"), artifacts=[Artifact(path="r1/gone.png", sha256="0" * 64, kind="plot")])
    path = tmp_path / "results" / "classify-71-labels" / "m" / "r1.json"
    build_site(tmp_path / "www", [(path, record)], {}, {}, [])
    assert "file missing" in _page(tmp_path / "www", "runs/r1.html")


def test_a_model_page_without_an_installed_plugin_says_where_its_card_is(site):
    html = _page(site, "models/alpha.html")
    assert "ecgbench models show alpha" in html and "≈1 of 3" in html


def test_a_folder_that_ecgbench_did_not_write_is_never_cleared(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(SiteError, match="not empty"):
        build_site(tmp_path / "mine", [], {}, {}, [])
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_a_rebuild_removes_pages_of_records_that_are_gone(site, tmp_path):
    stale = site / "runs" / "old.html"
    stale.write_text("stale")
    build(tmp_path / "results", tmp_path / "lb")
    assert not stale.exists() and (site / MARKER).is_file()


def test_a_plot_drawn_across_a_section_is_shown_and_checked_for_presence_only(tmp_path):
    from ecgbench.leaderboard import check

    results, out = tmp_path / "results", tmp_path / "lb"
    for i, nfe in enumerate((10, 20, 50)):
        _write(results, make_record(run_id=f"r{i}", model="flow", task="generate", variant=f"nfe={nfe}",
                                    main=("mmd", 0.1 / nfe, 0.05 / nfe, 0.2 / nfe), higher_is_better=False,
                                    others={"nfe": float(nfe)}))
    build(results, out)
    (plot,) = (out / "site" / "img").iterdir()
    assert f'src="../img/{plot.name}"' in _page(out / "site", "tasks/generate.html")
    plot.write_bytes(b"rasterised elsewhere")
    assert check(results, out).ok
    plot.unlink()
    assert check(results, out).differing == [f"site/img/{plot.name}"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_roc_drawn_matches_scikit_learn_ties_included(seed):
    from sklearn.metrics import roc_auc_score, roc_curve

    from ecgbench.site.charts import roc_points

    rng = np.random.default_rng(seed)
    y_true = (rng.uniform(size=300) < 0.3).astype(np.uint8)
    y_score = np.round(rng.uniform(size=300) + 0.5 * y_true, 1)  # rounding makes many ties
    fpr, tpr, auc = roc_points(y_true, y_score)
    ref_fpr, ref_tpr, _ = roc_curve(y_true, y_score, drop_intermediate=False)
    np.testing.assert_allclose(fpr, ref_fpr)
    np.testing.assert_allclose(tpr, ref_tpr)
    assert auc == pytest.approx(roc_auc_score(y_true, y_score))


def test_imported_weights_and_an_external_validation_get_their_own_row_section_and_words(tmp_path):
    from ecgbench.records import WeightsInfo

    def imported(external: bool) -> WeightsInfo:
        return WeightsInfo(source="imported", location="given", file="w.safetensors", bytes=10, architecture="m",
                           contents="model", written_by="m 0.1", training_data={"name": "ptbxl", "fingerprint": "9" * 64},
                           external_validation=external)

    results = tmp_path / "results"
    _write(results, make_record(run_id="r1", model="m"))
    _write(results, _with(make_record(run_id="r2", model="m"), weights=imported(False), weights_sha256="ab" * 32,
                          trained_by_run="r0"))
    _write(results, _with(make_record(run_id="r3", model="m"), weights=imported(True), weights_sha256="cd" * 32))
    build(results, tmp_path / "lb")
    html = _page(tmp_path / "lb" / "site", "tasks/classify-71-labels.html")
    anchors = re.findall(r'<section class="board" id="([^"]+)"', html)
    assert len(anchors) == len(set(anchors)) == 2
    assert "External validation: weights trained on ptbxl" in html
    assert "m · weights abababab" in html and "<td class=\"meta\">run r0</td>" in html
    assert "run r0" in _page(tmp_path / "lb" / "site", "runs/r2.html")
