"""Shared fixtures. Nothing here downloads: CNNLAB_OFFLINE is set for the session."""
from __future__ import annotations

import gzip
import os
import sys
import tempfile
import struct
from pathlib import Path

import numpy as np
import pytest

os.environ["CNNLAB_OFFLINE"] = "1"
# A developer's own app runs (~/.local/share/cnnlab/runs) never leak into a test:
# the session gets an empty user-runs folder unless a test names another.
os.environ["CNNLAB_USER_RUNS_DIR"] = tempfile.mkdtemp(prefix="cnnlab-test-user-runs-")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

REPO = Path(__file__).resolve().parent.parent
# The previous default captcha model, committed for comparison: it reads plain
# grey (the arc left as it is), so its cold path needs no numpy.
PREVIOUS_CAPTCHA_MODEL = REPO / "runs" / "captcha-net-clean" / "s0-5d52a22d" / "model.keras"
# Real datasets, when the checkout sits beside ../shared (dev machines, CI).
SHARED_DATA = Path(os.environ.get("CNNLAB_TEST_SHARED_DATA", REPO.parent / "shared" / "data"))


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(data)


def make_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable fake digits: class k lights up a k-dependent band of pixels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(y):
        x[i, 2 * k + 2: 2 * k + 6, 4:24] = 250
    return x, y


@pytest.fixture
def tiny_mnist(tmp_path) -> Path:
    """A data directory holding a 700/200-image MNIST in the original IDX format."""
    root = tmp_path / "data"
    (root / "mnist").mkdir(parents=True)
    xt, yt = make_digits(700, 0)
    xs, ys = make_digits(200, 1)
    write_idx(root / "mnist" / "train-images-idx3-ubyte.gz", xt)
    write_idx(root / "mnist" / "train-labels-idx1-ubyte.gz", yt)
    write_idx(root / "mnist" / "t10k-images-idx3-ubyte.gz", xs)
    write_idx(root / "mnist" / "t10k-labels-idx1-ubyte.gz", ys)
    return root


@pytest.fixture
def real_data() -> Path:
    """The data directory holding real MNIST: $CNNLAB_DATA_DIR (what .ci/run sets),
    else ../shared/data beside the checkout; skip when neither has it."""
    for root in (os.environ.get("CNNLAB_DATA_DIR"), SHARED_DATA):
        if root and any((Path(root) / sub / "train-images-idx3-ubyte.gz").exists()
                        for sub in (".", "mnist")):
            return Path(root)
    pytest.skip(f"real MNIST not found in $CNNLAB_DATA_DIR or {SHARED_DATA}")


@pytest.fixture
def cli_env(tiny_mnist, tmp_path):
    """Environment for running `python -m experiments` in a subprocess."""
    env = dict(os.environ)
    env.update({"CNNLAB_DATA_DIR": str(tiny_mnist), "CNNLAB_RUNS_DIR": str(tmp_path / "runs"),
                "CNNLAB_OFFLINE": "1", "PYTHONPATH": str(REPO)})
    return env


def pytest_configure(config):
    # Keras's TF backend trips NumPy 2's copy-keyword deprecation on every
    # predict; it is Keras's to fix and drowns the real output.
    config.addinivalue_line("filterwarnings", "ignore:__array__ implementation:DeprecationWarning")


def write_captcha_set(root: Path, name: str, n: int, seed: int, duplicates=()) -> list[str]:
    """A generated captcha set in the real layout: <name>/images/N.jpg holding
    PNG bytes, <name>/labels.csv lower case with CRLF. `duplicates` lists
    (i, j) pairs: image j is written as a byte copy of image i."""
    from PIL import Image

    from experiments.captcha.synth import make_dataset

    images, labels = make_dataset(n, seed=seed)
    d = root / name / "images"
    d.mkdir(parents=True)
    for i, img in enumerate(images, start=1):
        Image.fromarray(img).save(d / f"{i}.jpg", format="PNG")
    for i, j in duplicates:
        (d / f"{j}.jpg").write_bytes((d / f"{i}.jpg").read_bytes())
        labels[j - 1] = labels[i - 1]
    (root / name / "labels.csv").write_bytes("".join(f"{l.lower()}\r\n" for l in labels).encode())
    return labels


@pytest.fixture
def tiny_captchas(tmp_path, monkeypatch) -> Path:
    """A data directory with two small generated captcha sets (with a
    duplicate pair), and a private preprocessing cache."""
    root = tmp_path / "data"
    write_captcha_set(root / "thsr-captcha", "setA", 40, seed=1, duplicates=[(3, 4), (10, 11)])
    write_captcha_set(root / "thsr-captcha", "setB", 30, seed=2)
    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(tmp_path / "cache"))
    return root


@pytest.fixture
def untrained_captcha_model(tmp_path) -> Path:
    """Our captcha architecture with random weights, saved like a run's model."""
    from core.registry import build_model

    path = tmp_path / "model" / "model.keras"
    path.parent.mkdir()
    build_model("captcha_fast").save(path)
    return path


@pytest.fixture
def real_captchas() -> Path:
    """The data directory holding the real THSR captchas, or skip."""
    for root in (os.environ.get("CNNLAB_DATA_DIR"), SHARED_DATA):
        if root and (Path(root) / "thsr-captcha" / "verified-11000" / "labels.csv").exists():
            return Path(root)
    pytest.skip(f"real THSR captchas not found in $CNNLAB_DATA_DIR or {SHARED_DATA}")


def write_image_folder(folder: Path, counts: dict[str, int], size=(40, 30), seed: int = 0) -> None:
    """One sub-folder per class of small JPEGs, learnable: class k is a block of
    colour k on noise, at a random place."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for k, (name, n) in enumerate(sorted(counts.items())):
        (folder / name).mkdir(parents=True)
        colour = np.array([(k * 67) % 256, (k * 131) % 256, (k * 29 + 90) % 256], dtype=np.uint8)
        for i in range(n):
            img = rng.integers(0, 80, (size[1], size[0], 3)).astype(np.uint8)
            r, c = rng.integers(0, size[1] - 12), rng.integers(0, size[0] - 12)
            img[r:r + 12, c:c + 12] = colour
            mode = "L" if i % 7 == 3 else "RGB"  # Caltech holds some greyscale images
            Image.fromarray(img).convert(mode).save(folder / name / f"image_{i + 1:04d}.jpg")


@pytest.fixture
def tiny_caltech(tmp_path, monkeypatch) -> Path:
    """A data directory in the official archive's layout: six classes of
    different sizes plus the two folders the selection rule must skip."""
    root = tmp_path / "data"
    counts = {"airplanes": 30, "Motorbikes": 24, "bonsai": 12, "crab": 10, "rhino": 8, "Stegosaurus": 8,
              "BACKGROUND_Google": 40, "Faces_easy": 35}
    write_image_folder(root / "caltech101" / "101_ObjectCategories", counts)
    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(tmp_path / "cache"))
    return root


@pytest.fixture
def real_caltech() -> Path:
    """The data directory holding the 50 Caltech-101 classes, or skip."""
    for root in (os.environ.get("CNNLAB_DATA_DIR"), SHARED_DATA):
        if root and (Path(root) / "caltech101-50" / "101_ObjectCategories" / "airplanes").is_dir():
            return Path(root)
    pytest.skip(f"Caltech-101 (caltech101-50/) not found in $CNNLAB_DATA_DIR or {SHARED_DATA}")


def node_table(node):
    """The table an AppTest node draws, as a DataFrame, or None: st.dataframe's
    value, or a short table's HTML (app_pages/_common.html_table) read back
    with numbers as numbers where a whole column is numeric."""
    kind = getattr(node, "type", None)
    if kind in ("dataframe", "table"):
        return node.value
    if kind == "html" and 'class="cnn-table"' in (node.value or ""):
        import io

        import pandas as pd
        return pd.read_html(io.StringIO(node.value), keep_default_na=False, thousands=",")[0]
    return None


def page_tables(at) -> list:
    """Every table on an AppTest page, in page order, as DataFrames: the
    report draws short tables as HTML and long ones with st.dataframe."""
    out = []

    def walk(node):
        table = node_table(node)
        if table is not None:
            out.append(table)
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)
    walk(at.main)
    return out


@pytest.fixture
def own_study(monkeypatch):
    """examples/folder_study/ loaded as a user's plugin (CNNLAB_PLUGINS), and
    forgotten afterwards so no other test sees its experiments or its page."""
    from core import registry, study, task, text
    study.studies()  # the built-in ones first, so that they are what is restored
    saved = (dict(study._STUDIES), dict(registry.REGISTRY), dict(task.EXTRA), list(text.EXTRA),
             list(registry.FAMILIES))
    monkeypatch.setenv(study.PLUGINS_ENV, "examples.folder_study")
    study.load_plugins()
    yield study.study("shapes")
    for live, old in zip((study._STUDIES, registry.REGISTRY, task.EXTRA, text.EXTRA, registry.FAMILIES), saved):
        live.clear()
        live.update(old) if isinstance(live, dict) else live.extend(old)
    for name in [m for m in sys.modules if m.startswith("examples.folder_study")]:
        sys.modules.pop(name)


def page_urls() -> list[str]:
    """Every page of the app by its url path: the shell's ("" is the
    Overview) and every registered study's (core/study.py)."""
    from scripts.browse import page_paths
    return page_paths()


def goto(at, page: str):
    """Open a page of the app by its url path ("mnist", "c50-best", "" for the
    Overview): many study pages share app_pages/page.py, so a file names none.
    AppTest switches pages by file only; this finds the url's registered page
    (the test must have run the app once, as for switch_page)."""
    for page_hash, info in at._registered_pages.items():
        if info.get("url_pathname", None) == page:
            at._page_hash = page_hash
            return at
    raise ValueError(f"no page at /{page}; registered: "
                     f"{sorted(i.get('url_pathname') for i in at._registered_pages.values())}")
