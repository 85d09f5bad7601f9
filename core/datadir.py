"""One place that decides where datasets live, and what is there.

Order: an explicit argument (the CLI's --data-dir), then $CNNLAB_DATA_DIR,
then a per-user default under ~/.cache so nothing is written into the repo.

`core.study.datasets()` says, for each dataset a registered study reads (core/study.py:
Study.datasets), whether it is in the data directory in a layout its loader
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

@dataclass
class Dataset:
    """One dataset as found in the data directory."""
    key: str                    # the study's name for it; content keys data.name_<key> etc.
    name: str
    present: bool               # complete enough for its loader
    folder: Path                # where it was found, else where it belongs
    files: int = 0              # data files found (images, IDX/npz files)
    # one row per file, set (with "labels": its label file's lines) or
    # class, as its study counts them: {"part", "files", ["mb"], ["labels"]}
    parts: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # files or sets an incomplete copy lacks
    command: str = ""           # shell command(s) that fetch or place it
    how: str = ""               # "download" (a command fetches it) or "place" (copy it there)
    values: dict = field(default_factory=dict)  # placeholders of its texts ({source})


def count_files(folder: Path, suffixes=None) -> int:
    try:
        with os.scandir(folder) as it:
            return sum(1 for e in it if e.is_file() and not e.name.startswith(".")
                       and (suffixes is None or os.path.splitext(e.name)[1].lower() in suffixes))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return 0


def line_count(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def q(path: Path) -> str:
    return shlex.quote(str(path))


def subdirs(folder: Path) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(folder) if e.is_dir() and not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


class DataNotFound(FileNotFoundError):
    """A run's data is not in the data directory: the run ends "no data"
    (never "failed"), with this message. A study's loaders raise a subclass."""
