"""Every page in a real browser, on the committed runs, as a reader meets it:
at 1,400 and at 1,000 px, in English (tests/test_zh_interface.py opens the
Chinese pages through AppTest; in the browser only the English layout is
checked page by page, to keep the suite inside CI's time, and a walk through
the sidebar in Chinese). A page fails
when it shows an exception or a "page not found" box, a chart stays undrawn
or has no size, or a chart or table is wider than the main column. A
screenshot of each page goes to $CNNLAB_SCREENSHOT_DIR (CI installs Debian's
chromium and chromium-driver; elsewhere this skips)."""
import os
from pathlib import Path

import pytest

from scripts import browse

SHOTS = Path(os.environ.get("CNNLAB_SCREENSHOT_DIR", "/tmp/cnnlab-screenshots"))
PAGES = browse.page_paths()
VIEWS = [(1400, "en"), (1000, "en")]

pytestmark = pytest.mark.skipif(not (browse.CHROMIUM and browse.DRIVER),
                                reason="needs Debian's chromium and chromium-driver (apt-get install)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"CNNLAB_JOBS_DIR": str(tmp_path_factory.mktemp("jobs")),
           "CNNLAB_USER_RUNS_DIR": str(tmp_path_factory.mktemp("user-runs"))}
    os.environ.pop("CNNLAB_RUNS_DIR", None)  # the committed runs
    with browse.serve(env) as url:
        yield url


@pytest.fixture(scope="module")
def browsers():
    drivers = {}
    yield lambda width: drivers.setdefault(width, browse.browser(width))
    for d in drivers.values():
        d.quit()


def _shoot(driver, path: Path) -> None:
    """The whole page, not only the first screen."""
    height = driver.execute_script(
        "const m = document.querySelector(\"[data-testid='stMain']\"); return m ? m.scrollHeight : 2000")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(int(height) + 120, 12000))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(width, 1000)


@pytest.mark.parametrize("width,lang", VIEWS, ids=[f"{w}-{lang}" for w, lang in VIEWS])
@pytest.mark.parametrize("page", PAGES, ids=[p or "home" for p in PAGES])
def test_page_right_in_a_real_browser(server, browsers, page, width, lang):
    driver = browsers(width)
    browse.open_page(driver, f"{server}/{page}?lang={lang}")
    found = browse.problems(driver)
    height, contents_at, broken = driver.execute_script(_HEIGHT_AND_CONTENTS)
    assert not broken, f"/{page}: contents links to no heading: {broken}"
    _shoot(driver, SHOTS / f"{page or 'home'}-{width}-{lang}.png")
    assert not found, f"/{page} at {width} px ({lang}): " + "; ".join(found)
    if width == 1400 and height > TALL:  # a long page is read a section at a time (issue 34)
        assert contents_at is not None and contents_at < 1500, \
            f"/{page} is {height} px tall at 1,400 px without contents at its top"


TALL = 6000  # px at 1,400 px wide: past this a page opens with links to its sections
# The main column's height, where the contents line ("On this page:") starts
# (if any), and its links that lead to no heading.
_HEIGHT_AND_CONTENTS = """
const m = document.querySelector("[data-testid='stMain']");
const line = [...document.querySelectorAll("[data-testid='stMarkdownContainer'] p")]
  .find(p => p.textContent.startsWith("On this page:"));
const broken = line ? [...line.querySelectorAll("a")].map(a => a.getAttribute("href"))
  .filter(h => !document.getElementById(decodeURIComponent(h.slice(1)))) : [];
return [m ? m.scrollHeight : 0, line ? line.getBoundingClientRect().top + window.scrollY : null, broken];
"""


def test_a_page_opened_first_by_its_url_is_the_page(tmp_path_factory):
    """A deep link as the very first request of a fresh server: the page
    itself with the app's sidebar, no 'page not found' box."""
    from selenium.webdriver.common.by import By
    with browse.serve({"CNNLAB_JOBS_DIR": str(tmp_path_factory.mktemp("jobs2"))}) as url:
        driver = browse.browser(1400)
        try:
            browse.open_page(driver, f"{url}/mnist")
            assert not browse.problems(driver)
            assert "MNIST" in driver.find_element(By.CSS_SELECTOR, "h1").text
            sidebar = driver.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text
            assert "Language / 語言" in sidebar and "Dense nets vs CNNs" in sidebar
        finally:
            driver.quit()


def test_the_uploader_speaks_the_pages_language(server, browsers):
    """Streamlit draws its uploader's button and size line in English; in
    Chinese the reader sees ours instead (experiments/captcha/pages/demo.py)."""
    driver = browsers(1000)
    for lang, button, line in (("zh", "上傳", "每個檔案最多 10 MB"), ("en", "Upload", "10 MB a file")):
        browse.open_page(driver, f"{server}/captcha?lang={lang}")
        shown = driver.execute_script("""
          const p = document.querySelector("[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p");
          const s = document.querySelector("[data-testid='stFileUploaderDropzoneInstructions'] span");
          const after = e => getComputedStyle(e, '::after').content;
          return [getComputedStyle(p).fontSize, after(p), getComputedStyle(s).fontSize, after(s)];""")
        assert shown[0] == shown[2] == "0px", shown  # Streamlit's own words take no room
        assert button in shown[1] and line in shown[3], shown


def test_moving_between_pages_by_the_sidebar_keeps_the_language_and_draws_each_page(server, browsers):
    """A reader's way around: sidebar clicks in one session (no reload). Each
    click ends on that page (its own title and path), drawn and without a
    problem, still in the language chosen; scripts/bench_pages.py --click
    times this path."""
    from selenium.webdriver.common.by import By
    driver = browsers(1400)
    browse.open_page(driver, f"{server}/?lang=zh")
    titles = {}
    for page in ["mnist", "c50-best", "captcha-models", "data", ""]:
        browse.click_page(driver, page)
        assert driver.execute_script("return location.pathname").strip("/") == page
        assert not browse.problems(driver), page
        titles[page] = driver.find_element(By.CSS_SELECTOR, "h1").text
        assert "語言" in driver.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text
    assert len(set(titles.values())) == len(titles), titles  # a new page each time, not the last one's
    assert titles["mnist"].startswith("MNIST") and "全連接網路" in titles["mnist"], titles
