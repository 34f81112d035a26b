"""Leaderboards: built from records alone, reproducible, sections never mixed, ties shown."""

import csv
import json

from record_factory import make_record

from ecgbench.leaderboard import build, build_sections, check
from ecgbench.records import write_record


def _rows(section):
    return [(r.rank, r.label) for r in section.rows]


def test_rows_are_ranked_by_the_main_metric_with_overlapping_cis_as_ties():
    records = [
        make_record(run_id="r1", model="a", main=("macro_auroc", 0.90, 0.88, 0.92)),
        make_record(run_id="r2", model="b", main=("macro_auroc", 0.89, 0.87, 0.91)),
        make_record(run_id="r3", model="c", main=("macro_auroc", 0.70, 0.68, 0.72)),
    ]
    (section,) = build_sections(records)["classify-71-labels"]
    assert _rows(section) == [("≈1", "a"), ("≈1", "b"), ("3", "c")]


def test_lower_is_better_metrics_rank_ascending():
    records = [
        make_record(
            run_id="r1",
            model="a",
            task="measure-intervals",
            main=("qt_mae", 30.0, 28.0, 32.0),
            higher_is_better=False,
        ),
        make_record(
            run_id="r2",
            model="b",
            task="measure-intervals",
            main=("qt_mae", 10.0, 9.0, 11.0),
            higher_is_better=False,
        ),
    ]
    (section,) = build_sections(records)["measure-intervals"]
    assert _rows(section) == [("1", "b"), ("2", "a")]


def test_different_budgets_and_datasets_get_separate_sections():
    records = [
        make_record(run_id="r1", model="a", budget="ci"),
        make_record(run_id="r2", model="a", budget="paper"),
        make_record(run_id="r3", model="a", dataset="ptbxl", fingerprint="e" * 64),
    ]
    sections = build_sections(records)["classify-71-labels"]
    assert sorted((s.dataset, s.budget) for s in sections) == [
        ("phantom", "ci"),
        ("phantom", "paper"),
        ("ptbxl", "ci"),
    ]
    assert all(len(s.rows) == 1 for s in sections)


def test_the_latest_run_represents_a_row_and_seeds_give_a_separate_spread():
    records = [
        make_record(
            run_id="20260101T000000Z-1", model="a", seed=0, main=("macro_auroc", 0.80, 0.7, 0.9)
        ),
        make_record(
            run_id="20260102T000000Z-1", model="a", seed=1, main=("macro_auroc", 0.84, 0.7, 0.9)
        ),
    ]
    (section,) = build_sections(records)["classify-71-labels"]
    (row,) = section.rows
    assert row.record.run_id == "20260102T000000Z-1"
    assert row.seeds == [0, 1]
    assert abs(row.seed_spread - 0.0282843) < 1e-6


def test_variants_are_separate_rows():
    records = [
        make_record(run_id="r1", model="flow", variant="nfe=10"),
        make_record(run_id="r2", model="flow", variant="nfe=50"),
    ]
    (section,) = build_sections(records)["classify-71-labels"]
    assert sorted(r.label for r in section.rows) == ["flow [nfe=10]", "flow [nfe=50]"]


def test_wiring_check_rows_are_listed_but_never_ranked():
    records = [
        make_record(
            run_id="r1", model="tiny", wiring_check=True, main=("macro_auroc", 0.99, 0.98, 1.0)
        ),
        make_record(run_id="r2", model="real"),
    ]
    (section,) = build_sections(records)["classify-71-labels"]
    assert _rows(section) == [("1", "real"), ("wiring check", "tiny")]


def test_failed_runs_and_superseded_task_versions_are_left_out():
    records = [
        make_record(run_id="r1", model="failed", status="failed"),
        make_record(run_id="r2", model="old", task_version=1),
        make_record(run_id="r3", model="new", task_version=2),
    ]
    (section,) = build_sections(records)["classify-71-labels"]
    assert [r.model for r in section.rows] == ["new"]


def test_a_model_trained_on_the_evaluated_dataset_is_flagged(tmp_path):
    write_record(
        make_record(run_id="r1", model="pretrained", training_datasets=("phantom",)),
        tmp_path / "results",
    )
    build(tmp_path / "results", tmp_path / "lb")
    rows = list(csv.DictReader((tmp_path / "lb" / "classify-71-labels.csv").read_text().splitlines()))
    assert rows[0]["trained_on_eval_data"] == "yes"


def test_a_rebuild_is_byte_identical_and_check_passes(tmp_path):
    results = tmp_path / "results"
    for i, model in enumerate(["a", "b", "c"]):
        write_record(
            make_record(
                run_id=f"r{i}",
                model=model,
                main=("macro_auroc", 0.7 + i / 10, 0.6 + i / 10, 0.8 + i / 10),
            ),
            results,
        )
    out = tmp_path / "lb"
    build(results, out)
    first = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    build(results, out)
    assert first == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert check(results, out).ok
    doc = json.loads((out / "classify-71-labels.json").read_text())
    assert [r["model"] for r in doc["sections"][0]["rows"]] == ["c", "b", "a"]


def test_check_names_the_files_that_differ_from_a_rebuild(tmp_path):
    results, out = tmp_path / "results", tmp_path / "lb"
    write_record(make_record(run_id="r1", model="a"), results)
    build(results, out)
    (out / "classify-71-labels.md").write_text("edited by hand\n")
    write_record(
        make_record(
            run_id="r2",
            model="b",
            task="measure-intervals",
            main=("qt_mae", 9.0, 8.0, 10.0),
            higher_is_better=False,
        ),
        results,
    )
    differing = check(results, out).differing
    assert [name for name in differing if "/" not in name] == sorted(
        ["measure-intervals.csv", "measure-intervals.json", "measure-intervals.md"]
    ) + ["classify-71-labels.md"]
    assert "site/tasks/measure-intervals.html" in differing


def test_a_rebuild_removes_the_tables_and_plots_of_sections_that_are_gone_and_check_names_them(tmp_path):
    results, out = tmp_path / "results", tmp_path / "lb"
    write_record(make_record(run_id="r1", model="a"), results)
    write_record(make_record(run_id="r2", model="b", task="measure-intervals", main=("qt_mae", 9.0, 8.0, 10.0),
                             higher_is_better=False), results)
    build(results, out)
    stale_plot = out / "generate-nfe-frontier-phantom-ci-00000000.png"
    stale_plot.write_bytes(b"an older fingerprint's plot")
    assert check(results, out).differing == [stale_plot.name]
    next(results.glob("measure-intervals/b/*.json")).unlink()
    build(results, out)
    assert not stale_plot.exists() and not list(out.glob("measure-intervals.*"))
    assert (out / "classify-71-labels.md").exists() and check(results, out).ok


def test_a_rebuild_never_deletes_files_it_did_not_write(tmp_path):
    results, out = tmp_path / "results", tmp_path / "lb"
    write_record(make_record(run_id="r1", model="a"), results)
    out.mkdir()
    notes = {out / "notes.md": "my notes\n", out / "figure.png": "a figure", out / "data.csv": "a,b\n",
             out / "config.json": "{}"}
    for path, text in notes.items():
        path.write_text(text)
    build(results, out)
    assert all(path.read_text() == text for path, text in notes.items())


def test_check_names_a_site_page_edited_by_hand(tmp_path):
    results, out = tmp_path / "results", tmp_path / "lb"
    write_record(make_record(run_id="r1", model="a"), results)
    build(results, out)
    page = out / "site" / "tasks" / "classify-71-labels.html"
    page.write_text(page.read_text() + "<!-- edited -->")
    (out / "site" / "stray.html").write_text("left behind")
    assert check(results, out).differing == ["site/stray.html", "site/tasks/classify-71-labels.html"]


def test_the_markdown_table_shows_the_main_metric_with_its_ci_and_the_run(tmp_path):
    write_record(
        make_record(run_id="r1", model="a", main=("macro_auroc", 0.8123, 0.8, 0.83)),
        tmp_path / "results",
    )
    build(tmp_path / "results", tmp_path / "lb")
    text = (tmp_path / "lb" / "classify-71-labels.md").read_text()
    assert text.startswith("<!-- generated")
    assert "| 1 | a | 0.8123 [0.8, 0.83] |" in text and "| r1 |" in text


def test_the_markdown_table_keeps_the_headline_metrics_and_the_csv_keeps_everything(tmp_path):
    others = {"fmax": 0.5, "macro_auroc_form": 0.6, "fmax_test_threshold": 0.7, "macro_auroc_all": 0.8}
    write_record(make_record(run_id="r1", model="a", others=others), tmp_path / "results")
    build(tmp_path / "results", tmp_path / "lb")
    header = next(
        line for line in (tmp_path / "lb" / "classify-71-labels.md").read_text().splitlines()
        if line.startswith("| rank")
    )
    assert header == "| rank | model | macro_auroc | fmax | macro_auroc_form | n_test | run_id |"
    csv_header = (tmp_path / "lb" / "classify-71-labels.csv").read_text().splitlines()[0]
    assert all(name in csv_header for name in [*others, "plugin", "commit", "date"])


def test_every_headline_metric_is_a_metric_its_task_reports():
    from ecgbench.builtin import TASKS
    from ecgbench.leaderboard import HEADLINE_METRICS
    from ecgbench.metrics.classification import SUBSET_METRICS

    reported = {task.name: {m.name for m in task.metrics} for task in TASKS}
    reported["classify-71-labels"] |= set(SUBSET_METRICS.values())
    for task, names in HEADLINE_METRICS.items():
        assert set(names) <= reported[task], task


def test_a_task_without_headline_metrics_shows_its_first_few(tmp_path):
    others = {f"m{i}": float(i) for i in range(8)}
    write_record(
        make_record(run_id="r1", model="a", task="retrieve-report", main=("recall", 0.5, 0.4, 0.6), others=others),
        tmp_path / "results",
    )
    build(tmp_path / "results", tmp_path / "lb")
    text = (tmp_path / "lb" / "retrieve-report.md").read_text()
    assert "| rank | model | recall | m0 | m1 | m2 | m3 | m4 | n_test | run_id |" in text


def test_the_markdown_marks_a_model_scored_on_its_training_data(tmp_path):
    write_record(make_record(run_id="r1", model="pre", training_datasets=("phantom",)), tmp_path / "results")
    build(tmp_path / "results", tmp_path / "lb")
    assert "| 1 | pre † |" in (tmp_path / "lb" / "classify-71-labels.md").read_text()
