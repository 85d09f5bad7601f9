"""Drive the app in a real browser: serve it headless, open pages in Debian's
Chromium, wait until the script is done and every chart is drawn, and list
what a reader would see wrong. Used by tests/test_browser.py and by
`python -m scripts.bench_pages`."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")

# The app's pages by url path ("" is the Overview), in sidebar order.
def page_paths() -> list[str]:
    """Every page's url path, in the navigation's order: the Overview, each
    registered study's pages (core/study.py), the runs and the data."""
    from core.study import pages
    return ["", *(p.key for _, p in pages()), "runs", "data"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(env: dict | None = None, timeout: float = 90):
    """A fresh `streamlit run streamlit_app.py`; yields its URL. The log goes
    to a file: an unread pipe fills up and blocks the server mid-write."""
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="cnnlab-server-")) / "streamlit.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=REPO, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + timeout
            while True:
                try:
                    if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    if time.time() > deadline or proc.poll() is not None:
                        raise RuntimeError("streamlit never became healthy: "
                                           + log_path.read_text(errors="replace")[-2000:])
                    time.sleep(0.25)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def browser(width: int = 1400, height: int = 1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars", f"--window-size={width},{height}",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='cnnlab-chrome-')}"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


# True once the script has finished and every Vega chart on the page has an
# svg or canvas of non-zero size.
_READY_JS = """
const app = document.querySelector("[data-testid='stApp']");
if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
if (!document.querySelector('h1')) return false;
if (document.querySelector("[data-testid='stSkeleton'], [data-testid='stSpinner']")) return false;
const charts = document.querySelectorAll("[data-testid='stVegaLiteChart'], .vega-embed");
for (const c of charts) {
  const g = c.querySelector('svg, canvas');
  if (!g) return false;
  const r = g.getBoundingClientRect();
  if (r.width < 2 || r.height < 2) return false;
}
return true;
"""


def open_page(driver, url: str, timeout: float = 90) -> float:
    """Navigate and wait until the page is done and drawn; seconds taken."""
    from selenium.webdriver.support.ui import WebDriverWait
    t0 = time.perf_counter()
    driver.get(url)
    time.sleep(0.05)  # let the old page go before polling for the new one
    WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(_READY_JS))
    return time.perf_counter() - t0


# Watches the app's script state from before a click: the new page is done
# only after the script has run for it (the old page's finished state would
# otherwise read as done).
_ARM_JS = """
const app = document.querySelector("[data-testid='stApp']");
window.__cnnlabRan = false;
if (window.__cnnlabObserver) window.__cnnlabObserver.disconnect();
// A run seen as the state now or as the value a change left (a short run may
// begin and end before the observer's callback).
window.__cnnlabObserver = new MutationObserver(records => {
  if (app.getAttribute('data-test-script-state') === 'running' ||
      records.some(r => r.oldValue === 'running')) window.__cnnlabRan = true;
});
window.__cnnlabObserver.observe(app, {attributes: true, attributeOldValue: true,
                                      attributeFilter: ['data-test-script-state']});
"""


def click_page(driver, path: str, timeout: float = 90) -> float:
    """Open a page as a reader moves between pages: a click on its sidebar
    link (no reload: the same session and connection). Seconds until the
    script is done for it and every chart is drawn."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    links = [a for a in driver.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNav'] a")
             if urllib.parse.urlparse(a.get_attribute("href") or "").path.strip("/") == path]
    if not links:
        raise LookupError(f"no sidebar link to /{path}")
    driver.execute_script(_ARM_JS)
    t0 = time.perf_counter()
    links[0].click()
    WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: d.execute_script("return window.__cnnlabRan") and d.execute_script(_READY_JS))
    return time.perf_counter() - t0


# What a reader would see wrong: an exception box, a "page not found" box, a
# chart that is not drawn or has no size, an element wider than the main
# column (cut off or scrolled sideways).
_PROBLEMS_JS = """
const out = [];
for (const e of document.querySelectorAll("[data-testid='stException']"))
  out.push('exception: ' + e.innerText.slice(0, 300));
for (const e of document.querySelectorAll("[data-testid='stAlertContentError'], [data-testid='stAlert']"))
  if (/page not found/i.test(e.innerText)) out.push('page-not-found box: ' + e.innerText.slice(0, 200));
const main = document.querySelector("[data-testid='stMainBlockContainer']") ||
             document.querySelector("section.main .block-container");
const limit = main ? main.getBoundingClientRect().right + 2 : window.innerWidth;
for (const c of document.querySelectorAll("[data-testid='stVegaLiteChart']")) {
  const g = c.querySelector('svg, canvas');
  if (!g) { out.push('chart not drawn'); continue; }
  const r = g.getBoundingClientRect();
  if (r.width < 2 || r.height < 2) out.push('chart of zero size');
  if (r.right > limit) out.push(`chart wider than the column (${Math.round(r.right)} > ${Math.round(limit)} px)`);
}
for (const c of document.querySelectorAll("[data-testid='stVegaLiteChart'] svg, [data-testid='stVegaLiteChart'] canvas")) {
  const box = c.closest("[data-testid='stVegaLiteChart']").getBoundingClientRect();
  const r = c.getBoundingClientRect();
  if (r.right > box.right + 4) out.push(`chart cut off by its frame (${Math.round(r.right - box.right)} px)`);
}
for (const t of document.querySelectorAll("[data-testid='stTable'], .cnn-table")) {
  const r = t.getBoundingClientRect();
  if (r.right > limit) out.push('table wider than the column');
  for (const e of [t, ...t.querySelectorAll('div')])
    if (e.scrollWidth > e.clientWidth + 2 && getComputedStyle(e).overflowX !== 'visible') {
      out.push(`table scrolls sideways (${e.scrollWidth} > ${e.clientWidth} px): ` +
               (t.querySelector('th') || {innerText: ''}).innerText.slice(0, 40));
      break;
    }
}
return out;
"""


def problems(driver) -> list[str]:
    return driver.execute_script(_PROBLEMS_JS)


def set_language(driver, label: str) -> None:
    """Click the sidebar's language radio option (e.g. '繁體中文')."""
    from selenium.webdriver.common.by import By
    for el in driver.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebar'] label"):
        if el.text.strip() == label:
            el.click()
            return
    raise LookupError(f"no language option {label!r}")
