"""The Data directory page and what it rests on (core.study.datasets): the
folder read and how it was chosen, each dataset present, incomplete or
missing with its file count, and the command that fetches or places it."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO, write_captcha_set, write_image_folder
from core import datadir, study

PAGE = str(REPO / "app_pages" / "data.py")


def open_data_page(language=None) -> AppTest:
    # The page on its own: it needs nothing from the entry script but the language.
    at = AppTest.from_file(PAGE, default_timeout=60)
    if language:
        at.session_state["lang_choice"] = language
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at, kind) -> list[str]:
    return [e.value for e in getattr(at, kind)]


@pytest.fixture
def some_data(tiny_mnist, monkeypatch) -> Path:
    """MNIST (IDX files) and two captcha sets; no Caltech-101."""
    write_captcha_set(tiny_mnist / "thsr-captcha", "setA", 12, seed=1)
    write_captcha_set(tiny_mnist / "thsr-captcha", "setB", 8, seed=2)
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tiny_mnist))
    return tiny_mnist


def test_datasets_found_counted_and_missing(some_data):
    mnist, captcha, caltech = study.datasets()
    assert (mnist.present, mnist.folder, mnist.files) == (True, some_data / "mnist", 4)
    assert (captcha.present, captcha.files) == (True, 20)
    assert [(p["part"], p["files"], p["labels"]) for p in captcha.parts] == [("setA", 12, 12), ("setB", 8, 8)]
    assert not caltech.present and caltech.folder == some_data / "caltech101" / "101_ObjectCategories"
    assert caltech.command == f"python -m experiments.caltech --data-dir {some_data} download"
    assert mnist.command == f"python -m experiments.mnist --data-dir {some_data} download"
    assert "git clone --depth 1 https://github.com/gary9987/keras-TaiwanHighSpeedRail-captcha" in captcha.command
    assert f"{some_data}/thsr-captcha/verified-11000/labels.csv" in captcha.command


def test_incomplete_copies_name_what_is_missing(some_data):
    (some_data / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    (some_data / "thsr-captcha" / "setB" / "images" / "8.jpg").unlink()
    mnist, captcha, _ = study.datasets()
    assert not mnist.present and mnist.missing == ["t10k-labels-idx1-ubyte.gz"] and mnist.files == 3
    assert not captcha.present and captcha.missing == ["setB/images/"]


def test_caltech_and_npz_layouts(tmp_path):
    root = tmp_path / "data"
    write_image_folder(root / "caltech101-50" / "101_ObjectCategories", {"airplanes": 5, "crab": 3})
    (root / "mnist").mkdir()
    (root / "mnist" / "mnist.npz").write_bytes(b"x" * 100)
    mnist, captcha, caltech = study.datasets(root)
    assert mnist.present and mnist.files == 1 and mnist.parts[0]["part"] == "mnist.npz"
    assert caltech.present and caltech.files == 8 and [p["part"] for p in caltech.parts] == ["airplanes", "crab"]
    assert not captcha.present and captcha.files == 0


def test_how_the_data_dir_was_chosen(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path / "d"))
    assert datadir.data_dir_choice() == (tmp_path / "d", "env")
    assert datadir.data_dir_choice(tmp_path / "x") == (tmp_path / "x", "argument")
    monkeypatch.delenv("CNNLAB_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datadir.data_dir_choice() == (tmp_path / "home" / ".cache" / "cnnlab" / "data", "default")


def test_page_shows_folder_datasets_and_commands(some_data):
    at = open_data_page()
    assert at.title[0].value == "Data directory"
    md = " ".join(texts(at, "markdown"))
    assert f"**Data directory:** `{some_data}`" in md and "Chosen by `$CNNLAB_DATA_DIR`" in md
    summary = at.dataframe[0].value
    assert list(summary["dataset"]) == ["MNIST", "THSR captchas", "Caltech-101"]
    assert list(summary["status"]) == ["present", "present", "missing"]
    assert list(summary["files"]) == [4, 20, 0]
    assert f"Found in `{some_data / 'mnist'}`: 4 files." in texts(at, "success")
    assert texts(at, "error") == [f"Not found: it belongs in `{some_data / 'caltech101' / '101_ObjectCategories'}`."]
    codes = texts(at, "code")
    assert f"python -m experiments.caltech --data-dir {some_data} download" in codes
    assert f"python -m experiments.mnist --data-dir {some_data} download" in codes  # offered again, folded away
    assert any("Downloads are switched off here" in i for i in texts(at, "info"))  # CNNLAB_OFFLINE=1


def test_page_says_what_is_missing_and_how_to_place_captchas(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path / "empty"))
    at = open_data_page()
    assert list(at.dataframe[0].value["status"]) == ["missing"] * 3
    md = " ".join(texts(at, "markdown"))
    assert "There is no download: copy the folders of the public repository" in md
    assert any("cp thsr-src/src/auto_get_image_by_selenium/label/label.csv" in c for c in texts(at, "code"))


def test_page_with_the_default_folder_and_in_chinese(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNLAB_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    at = open_data_page("繁體中文")
    assert at.title[0].value == "資料目錄"
    md = " ".join(texts(at, "markdown"))
    assert f"`{tmp_path / 'home' / '.cache' / 'cnnlab' / 'data'}`" in md and "預設值" in md
    summary = at.dataframe[0].value
    assert list(summary.columns) == ["資料集", "狀態", "檔案數", "資料夾"]
    assert list(summary["資料集"]) == ["MNIST", "高鐵驗證碼", "Caltech-101"]
    assert set(summary["狀態"]) == {"缺少"}
