"""The committed leaderboard site in a real browser (headless Chromium driven by Selenium).

It opens ``leaderboards/site`` from ``file://``, sorts a column, filters by dataset, checks that
every CI interval is drawn inside the table, follows a run link and the model card link, and
requires a console free of errors on every page. ``tox -e browser`` runs it; elsewhere it is
skipped with the reason (no Selenium, or no Chromium: ``apt-get install chromium chromium-driver``).
Set ``ECGBENCH_SCREENSHOTS=docs/img`` to keep the screenshots it takes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="Selenium is not installed here; `tox -e browser` runs this test")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

SITE = Path(__file__).resolve().parents[2] / "leaderboards" / "site"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000")

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                       reason="Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"),
    pytest.mark.skipif(not (SITE / "index.html").is_file(), reason="leaderboards/site is not built"),
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


def _console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _screenshot(driver, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("ECGBENCH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(folder / name))


def _main_values(section) -> list[float]:
    cells = section.find_elements(By.CSS_SELECTOR, "tbody td.main-metric")
    return [float(c.get_attribute("data-value")) for c in cells if c.get_attribute("data-value")]


def _sections_with_rows(driver, least: int):
    return [s for s in driver.find_elements(By.CSS_SELECTOR, "section.board")
            if len(s.find_elements(By.CSS_SELECTOR, "tbody tr")) >= least]


def _task_with_several_datasets(driver) -> str:
    """The first task page whose dataset filter offers two or more datasets."""
    driver.get((SITE / "index.html").as_uri())
    pages = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "header nav a[href*='tasks/']")]
    assert pages, "the index links no task page"
    for page in pages:
        driver.get(page)
        options = driver.find_elements(By.CSS_SELECTOR, "select[data-filter='dataset'] option")
        if len(options) >= 3:  # "all" and two datasets
            return page
    return pages[0]


def test_sorting_filtering_intervals_and_run_links_work_without_console_errors(browser, tmp_path):
    driver = browser
    driver.get((SITE / "index.html").as_uri())
    assert driver.find_elements(By.CSS_SELECTOR, "section.task-summary"), "the index lists no task"
    assert _console_errors(driver) == []

    driver.get(_task_with_several_datasets(driver))
    assert _console_errors(driver) == []
    _screenshot(driver, "site-leaderboard.png", tmp_path)
    section = _sections_with_rows(driver, 3)[0]
    ranked = _main_values(section)

    # Sorting: a first click puts the best rows first (by the arrow of the metric), the next reverses.
    header = section.find_element(By.CSS_SELECTOR, "thead th.main-metric")
    header.find_element(By.TAG_NAME, "button").click()
    first = _main_values(section)
    assert sorted(first) == sorted(ranked)
    descending = header.get_attribute("aria-sort") == "descending"
    assert first == sorted(first, reverse=descending)
    header.find_element(By.TAG_NAME, "button").click()
    assert _main_values(section) == sorted(first, reverse=not descending)
    model_header = section.find_elements(By.CSS_SELECTOR, "thead th")[1]
    model_header.find_element(By.TAG_NAME, "button").click()
    names = [c.text.split()[0].lower() for c in section.find_elements(By.CSS_SELECTOR, "tbody td.model")]
    assert names == sorted(names)

    # The CI intervals are drawn: a bar of positive width with the point inside it, in every row.
    boxes = driver.execute_script("""
        return Array.from(arguments[0].querySelectorAll('svg.ci')).map(function (svg) {
            var bar = svg.querySelector('.ci-bar'), point = svg.querySelector('.ci-point');
            var b = bar ? bar.getBoundingClientRect() : null, p = point.getBoundingClientRect();
            return {bar: b ? [b.left, b.right] : null, point: (p.left + p.right) / 2, visible: svg.getBoundingClientRect().width};
        });""", section)
    assert len(boxes) == len(ranked)
    for box in boxes:
        assert box["visible"] > 0 and box["bar"] is not None and box["bar"][1] - box["bar"][0] > 0
        assert box["bar"][0] - 1 <= box["point"] <= box["bar"][1] + 1

    # Filtering by dataset hides the other datasets' sections.
    dataset = Select(driver.find_element(By.CSS_SELECTOR, "select[data-filter='dataset']"))
    chosen = dataset.options[-1].get_attribute("value")
    dataset.select_by_value(chosen)
    shown = [s for s in driver.find_elements(By.CSS_SELECTOR, "section.board") if s.is_displayed()]
    assert shown and all(s.get_attribute("data-dataset") == chosen for s in shown)
    assert driver.find_element(By.CSS_SELECTOR, ".filter-count").text.endswith("shown")
    dataset.select_by_value("")

    # The "all metrics" toggle reveals the columns the table hides by default.
    hidden = [th for th in section.find_elements(By.CSS_SELECTOR, "thead th.extra")]
    if hidden:
        assert not hidden[0].is_displayed()
        driver.find_element(By.ID, "show-all-metrics").click()
        assert hidden[0].is_displayed()

    # A run link leads to the run's page: provenance, metrics with CIs, the model card link.
    link = section.find_element(By.CSS_SELECTOR, "tbody tr[data-order='0'] a.run-link")  # the top-ranked row
    run_id = link.get_attribute("href").rsplit("/", 1)[1].removesuffix(".html")
    link.click()
    assert run_id in driver.title
    assert driver.find_elements(By.CSS_SELECTOR, "table.metrics tbody tr")
    assert driver.find_element(By.XPATH, "//th[text()='data fingerprint']").is_displayed()
    assert _console_errors(driver) == []
    _screenshot(driver, "site-run.png", tmp_path)
    driver.find_element(By.CSS_SELECTOR, "a.model-card-link").click()
    assert "model card" in driver.find_element(By.TAG_NAME, "h1").text
    assert _console_errors(driver) == []


LOAD_IMAGES = """
var done = arguments[arguments.length - 1];
var sources = Array.from(document.images).map(function (i) { return i.src; });
if (!sources.length) { done([]); return; }
var failed = [], left = sources.length;
sources.forEach(function (src) {
    var probe = new Image();
    probe.onload = function () { if (--left === 0) { done(failed); } };
    probe.onerror = function () { failed.push(src); if (--left === 0) { done(failed); } };
    probe.src = src;
});
"""


def test_every_page_loads_its_images_without_console_errors(browser):
    driver = browser
    driver.set_script_timeout(20)
    pages = sorted(SITE.rglob("*.html"))
    for page in pages:
        driver.get(page.as_uri())
        assert driver.execute_async_script(LOAD_IMAGES) == [], f"{page.relative_to(SITE)}: images that do not load"
        assert _console_errors(driver) == [], f"{page.relative_to(SITE)}: console errors"
