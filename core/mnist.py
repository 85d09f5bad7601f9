"""MNIST from wherever a user's machine has it.

Looked for, in order, inside the data directory (and its `mnist/` folder):
  1. `mnist.npz`, the file Keras's own loader downloads;
  2. the four original IDX files (`train-images-idx3-ubyte[.gz]` ...);
  3. otherwise, when downloads are allowed, Keras's loader fetches `mnist.npz`
     straight into `<data dir>/mnist/`.
Offline with none of them, MnistNotFound names the files and where to get them.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from core.datadir import data_dir as resolve_data_dir
from core.datadir import downloads_allowed

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
IDX_URL = "https://yann.lecun.com/exdb/mnist/ (or any mirror of the four IDX files)"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


class MnistNotFound(FileNotFoundError):
    pass


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (optionally gzipped): magic, dims, then uint8 data."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - offset != expected:
        raise ValueError(f"{path}: header says {dims} ({expected} bytes) "
                         f"but {len(raw) - offset} bytes follow")
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _candidates(root: Path) -> list[Path]:
    return [root, root / "mnist"]


def load_mnist(data_dir=None, allow_download: bool | None = None):
    """Return ((x_train, y_train), (x_test, y_test)) as uint8 arrays, 28x28."""
    root = resolve_data_dir(data_dir)
    for folder in _candidates(root):
        npz = folder / "mnist.npz"
        if npz.is_file():
            with np.load(npz, allow_pickle=False) as f:
                return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    for folder in _candidates(root):
        found = {k: _find_idx(folder, v) for k, v in IDX_FILES.items()}
        if all(found.values()):
            arr = {k: read_idx(p) for k, p in found.items()}
            return (arr["x_train"], arr["y_train"]), (arr["x_test"], arr["y_test"])
    if allow_download is None:
        allow_download = downloads_allowed()
    if allow_download:
        import keras  # imported late: loading from disk must not need it

        target = root / "mnist" / "mnist.npz"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # An absolute path makes Keras's get_file cache into our data dir.
            return keras.datasets.mnist.load_data(path=str(target.resolve()))
        except Exception as e:  # no network, proxy, ...: explain, don't trace
            raise MnistNotFound(_missing_message(root, f"download failed: {e}")) from e
    raise MnistNotFound(_missing_message(root, "downloads are disabled"))


def _missing_message(root: Path, why: str) -> str:
    return (
        f"MNIST not found in {root} or {root / 'mnist'} ({why}).\n"
        f"Put either mnist.npz (from {KERAS_URL})\n"
        f"or the four IDX files {', '.join(v + '.gz' for v in IDX_FILES.values())}\n"
        f"(from {IDX_URL}) there, or point --data-dir / $CNNLAB_DATA_DIR at a folder holding them."
    )
