"""The exported HTML report in a real browser without a network: every
chart drawn at a real size (CI installs Debian's chromium and chromium-driver;
elsewhere this skips). The app's pages are opened in tests/test_browser_pages.py."""
import os
from pathlib import Path

import pytest

from scripts import browse

SHOTS = Path(os.environ.get("CNNLAB_SCREENSHOT_DIR", "/tmp/cnnlab-screenshots"))

pytestmark = pytest.mark.skipif(not (browse.CHROMIUM and browse.DRIVER),
                                reason="needs Debian's chromium and chromium-driver (apt-get install)")


@pytest.fixture(scope="module")
def browser():
    driver = browse.browser(1400, 1800)
    yield driver
    driver.quit()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_exported_report_works_offline(browser, tmp_path, monkeypatch, language):
    """The downloaded HTML of the committed runs has no external script and
    every chart draws, at a real size, in a browser that has no network."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from core.export import export_html
    monkeypatch.delenv("CNNLAB_RUNS_DIR", raising=False)
    html = export_html(language)
    assert "<script src" not in html and "cdn.jsdelivr" not in html
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    browser.get(page.as_uri())
    n_charts = html.count('class="chart"')
    assert n_charts > 10
    drawn = ".chart svg, .chart canvas"
    WebDriverWait(browser, 90).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, drawn)) >= n_charts)
    sizes = browser.execute_script(
        "return [...document.querySelectorAll('.chart')].map(c => {"
        "  const g = c.querySelector('svg, canvas'); if (!g) return [0, 0];"
        "  const r = g.getBoundingClientRect(); return [r.width, r.height]; });")
    assert len(sizes) == n_charts and all(w > 0 and h > 0 for w, h in sizes), sizes
    assert ("卷積網路實驗報告" if language == "zh" else "CNN experiments report") in browser.title
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / ("exported-report.png" if language == "zh" else "exported-report-en.png")))
