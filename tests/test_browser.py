"""Real-browser smoke test: the app served headless, every page opened in
Debian's Chromium, no exception box, a screenshot of each (CI installs
chromium and chromium-driver; elsewhere this skips)."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO
from experiments.caltech import TECHNIQUES

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
PAGES = {"home": "", "mnist": "mnist", "runs": "runs", "captcha": "captcha",
         "captcha-preprocessing": "captcha-preprocessing", "captcha-models": "captcha-models",
         **{page: page for _, _, page, _ in TECHNIQUES.values()}, "c50-best": "c50-best"}
SHOTS = Path(os.environ.get("CNNLAB_SCREENSHOT_DIR", "/tmp/cnnlab-screenshots"))

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="needs Debian's chromium and chromium-driver (apt-get install)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "CNNLAB_JOBS_DIR": str(tmp_path_factory.mktemp("jobs"))}
    # The server's log goes to a file: an unread pipe fills up and blocks the
    # server mid-write, after which it cannot even shut down.
    log_path = tmp_path_factory.mktemp("server") / "streamlit.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        log.close()
        pytest.fail("streamlit never became healthy: " + log_path.read_text(errors="replace")[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()  # a slow shutdown is not what these tests check
        proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1800", f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


@pytest.mark.parametrize("name", PAGES)
def test_page_in_a_real_browser(server, browser, name):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(f"{server}/{PAGES[name]}")
    wait = WebDriverWait(browser, 90)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "h1")))
    wait.until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, "[data-testid='stApp'][data-test-script-state='notRunning']")))
    time.sleep(1.0)  # let Vega draw the charts before the screenshot
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{name}.png"))
    errors = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stException']")
    assert not errors, errors[0].text
    assert browser.find_elements(By.CSS_SELECTOR, "h1")


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
