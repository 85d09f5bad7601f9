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
