"""One place that decides where datasets live.

Order: an explicit argument (the CLI's --data-dir), then $CNNLAB_DATA_DIR,
then a per-user default under ~/.cache so nothing is written into the repo.
"""
from __future__ import annotations

import os
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
