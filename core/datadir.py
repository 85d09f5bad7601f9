"""One place that decides where datasets live, and what is there.

Order: an explicit argument (the CLI's --data-dir), then $CNNLAB_DATA_DIR,
then a per-user default under ~/.cache so nothing is written into the repo.

`datasets()` says, for each dataset the app uses (MNIST, the THSR captchas,
Caltech-101), whether it is in the data directory in a layout its loader
reads, how many files it has, and the command that fetches or places it: the
app's Data page shows exactly that.
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ENV_VAR = "CNNLAB_DATA_DIR"
DEFAULT = Path("~/.cache/cnnlab/data")


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return DEFAULT.expanduser()


def data_dir_choice(explicit: str | os.PathLike | None = None) -> tuple[Path, str]:
    """(the data directory, how it was chosen): "argument" (--data-dir),
    "env" ($CNNLAB_DATA_DIR) or "default"."""
    if explicit:
        return data_dir(explicit), "argument"
    if os.environ.get(ENV_VAR):
        return data_dir(), "env"
    return data_dir(), "default"


def downloads_allowed() -> bool:
    """Set CNNLAB_OFFLINE=1 (the tests do) to forbid any network fetch."""
    return os.environ.get("CNNLAB_OFFLINE", "") not in ("1", "true", "yes")


CACHE_ENV = "CNNLAB_CACHE_DIR"
DEFAULT_CACHE = Path("~/.cache/cnnlab/cache")


def cache_dir() -> Path:
    """Where derived data (decoded, resized arrays; converted models) is kept:
    $CNNLAB_CACHE_DIR, else a per-user folder. Safe to delete at any time."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else DEFAULT_CACHE.expanduser()


def cached_array(name: str, build):
    """np.load(cache_dir()/name) if it is there and whole, else build() saved
    there atomically (a killed writer never leaves a half file that reads as
    whole; one that does read badly is rebuilt)."""
    import numpy as np

    path = cache_dir() / name
    if path.is_file():
        try:
            return np.load(path)
        except (OSError, ValueError):
            pass  # a half-written cache from a killed run: rebuild it
    arr = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)
    return arr


# --- what is in the data directory ---------------------------------------------

CAPTCHA_SOURCE = "https://github.com/gary9987/keras-TaiwanHighSpeedRail-captcha"
# The public repository's folders and the set each becomes (line N of the
# label file labels image N.jpg in both).
CAPTCHA_SETS = {
    "handlabeled-5000": ("src/download_img/image ", "src/img process plus/ lebal5000.csv"),
    "verified-11000": ("src/auto_get_image_by_selenium/img", "src/auto_get_image_by_selenium/label/label.csv"),
}


@dataclass
class Dataset:
    """One dataset as found in the data directory."""
    key: str                    # "mnist" | "thsr-captcha" | "caltech101"
    name: str
    present: bool               # complete enough for its loader
    folder: Path                # where it was found, else where it belongs
    files: int = 0              # data files found (images, IDX/npz files)
    # one row per file (MNIST), set (captchas: with "labels", the label file's
    # lines) or class (Caltech): {"part", "files", ["mb"], ["labels"]}
    parts: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # files or sets an incomplete copy lacks
    command: str = ""           # shell command(s) that fetch or place it
    how: str = ""               # "download" (a command fetches it) or "place" (copy it there)


def _count_files(folder: Path, suffixes=None) -> int:
    try:
        with os.scandir(folder) as it:
            return sum(1 for e in it if e.is_file() and not e.name.startswith(".")
                       and (suffixes is None or os.path.splitext(e.name)[1].lower() in suffixes))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return 0


def _line_count(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def _q(path: Path) -> str:
    return shlex.quote(str(path))


def mnist_status(root: Path) -> Dataset:
    from core.mnist import IDX_FILES, _candidates, _find_idx
    ds = Dataset("mnist", "MNIST", False, root / "mnist", how="download",
                 command=f"python -m core.mnist --data-dir {_q(root)} download")
    partial = None
    for folder in _candidates(root):
        npz = folder / "mnist.npz"
        if npz.is_file():
            ds.present, ds.folder, ds.files = True, folder, 1
            ds.parts = [{"part": "mnist.npz", "files": 1, "mb": npz.stat().st_size / 1e6}]
            return ds
        found = {stem: _find_idx(folder, stem) for stem in IDX_FILES.values()}
        if all(found.values()):
            ds.present, ds.folder, ds.files = True, folder, 4
            ds.parts = [{"part": p.name, "files": 1, "mb": p.stat().st_size / 1e6} for p in found.values()]
            return ds
        if any(found.values()) and partial is None:
            partial = (folder, found)
    if partial:
        folder, found = partial
        ds.folder, ds.files = folder, sum(1 for p in found.values() if p)
        ds.parts = [{"part": p.name, "files": 1, "mb": p.stat().st_size / 1e6} for p in found.values() if p]
        ds.missing = [stem + ".gz" for stem, p in found.items() if not p]
    return ds


def captcha_status(root: Path) -> Dataset:
    from core.captcha.data import FOLDER
    base = root / FOLDER
    lines = []
    for name, (images, labels) in CAPTCHA_SETS.items():
        lines += [f"mkdir -p {_q(base / name)}",
                  f"cp -r {shlex.quote('thsr-src/' + images)} {_q(base / name / 'images')}",
                  f"cp {shlex.quote('thsr-src/' + labels)} {_q(base / name / 'labels.csv')}"]
    ds = Dataset("thsr-captcha", "THSR captchas", False, base, how="place",
                 command="\n".join([f"git clone --depth 1 {CAPTCHA_SOURCE} thsr-src", *lines]))
    # the loader reads <data dir>/thsr-captcha/<set>/, or sets directly in the data directory
    for cand in (base, root):
        sets = sorted(d for d in _subdirs(cand) if (d / "labels.csv").is_file())
        if not sets:
            continue
        ds.folder = cand
        for d in sets:
            n_images = _count_files(d / "images")
            n_labels = _line_count(d / "labels.csv")
            ds.parts.append({"part": d.name, "files": n_images, "labels": n_labels})
            if n_images < n_labels:  # the loader needs N.jpg for every line N
                ds.missing.append(f"{d.name}/images/")
        ds.files = sum(p["files"] for p in ds.parts)
        ds.present = ds.files > 0 and not ds.missing
        break
    return ds


def _subdirs(folder: Path) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(folder) if e.is_dir() and not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def caltech_status(root: Path) -> Dataset:
    from core.caltech.data import ARCHIVE_FOLDER, CANDIDATE_ROOTS, IMAGE_SUFFIXES
    ds = Dataset("caltech101", "Caltech-101", False, root / CANDIDATE_ROOTS[0] / ARCHIVE_FOLDER,
                 how="download", command=f"python -m core.caltech --data-dir {_q(root)} download")
    for name in CANDIDATE_ROOTS:
        folder = root / name / ARCHIVE_FOLDER
        classes = _subdirs(folder)
        if not classes:
            continue
        counts = {d.name: _count_files(d, IMAGE_SUFFIXES) for d in classes}
        counts = {c: n for c, n in counts.items() if n}
        if not counts:
            continue
        ds.present, ds.folder, ds.files = True, folder, sum(counts.values())
        ds.parts = [{"part": c, "files": n} for c, n in sorted(counts.items(), key=lambda cn: (-cn[1], cn[0].lower()))]
        break
    return ds


def datasets(explicit=None) -> list[Dataset]:
    """MNIST, the captchas and Caltech-101 as found in the data directory."""
    root = data_dir(explicit)
    return [mnist_status(root), captcha_status(root), caltech_status(root)]
