"""MNIST from wherever a user's machine has it.

Looked for, in order, inside the data directory (and its `mnist/` folder):
  1. `mnist.npz`, the file Keras's own loader downloads;
  2. the four original IDX files (`train-images-idx3-ubyte[.gz]` ...);
  3. otherwise, when downloads are allowed, Keras's own download-and-cache
     function (`keras.utils.get_file`, the one `keras.datasets.mnist.load_data`
     uses, with the same URL and checksum) fetches `mnist.npz` into
     `<data dir>/mnist/`: the data directory is its cache_dir, `mnist` its
     cache_subdir. (Keras 3 refuses a path as load_data's file name.)
Offline with none of them, MnistNotFound names the files and where to get them.

`python -m experiments.mnist [--data-dir DIR] download` does step 3 on its own.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from core.datadir import data_dir as resolve_data_dir
from core.datadir import downloads_allowed
from core.datadir import DataNotFound, Dataset, count_files, line_count, q, subdirs

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
# The checksum keras.datasets.mnist.load_data checks the same file against.
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
IDX_URL = "https://yann.lecun.com/exdb/mnist/ (or any mirror of the four IDX files)"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


class MnistNotFound(DataNotFound):
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


def _read_npz(path: Path):
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def download(root: Path) -> Path:
    """Fetch mnist.npz into <root>/mnist/ through Keras's get_file (checksum
    checked; a failed or corrupted download leaves no file); returns its path.
    Call it only when <root>/mnist/mnist.npz is not there (load_mnist does)."""
    import keras  # imported late: loading from disk must not need it

    root = Path(root).expanduser().absolute()
    # get_file caches under cache_dir/cache_subdir, but only into a folder that
    # exists and is writable (else it silently uses /tmp/.keras): make it first.
    (root / "mnist").mkdir(parents=True, exist_ok=True)
    try:
        return Path(keras.utils.get_file(fname="mnist.npz", origin=KERAS_URL, file_hash=KERAS_SHA256,
                                         cache_dir=str(root), cache_subdir="mnist"))
    except BaseException:
        # Keras removes a cut-off download but keeps one whose checksum failed:
        # never leave a file behind that the next load would take for MNIST.
        (root / "mnist" / "mnist.npz").unlink(missing_ok=True)
        raise


def load_mnist(data_dir=None, allow_download: bool | None = None):
    """Return ((x_train, y_train), (x_test, y_test)) as uint8 arrays, 28x28."""
    root = resolve_data_dir(data_dir)
    for folder in _candidates(root):
        npz = folder / "mnist.npz"
        if npz.is_file():
            return _read_npz(npz)
    for folder in _candidates(root):
        found = {k: _find_idx(folder, v) for k, v in IDX_FILES.items()}
        if all(found.values()):
            arr = {k: read_idx(p) for k, p in found.items()}
            return (arr["x_train"], arr["y_train"]), (arr["x_test"], arr["y_test"])
    if allow_download is None:
        allow_download = downloads_allowed()
    if allow_download:
        try:
            return _read_npz(download(root))
        except Exception as e:  # no network, proxy, bad checksum, ...: explain, don't trace
            raise MnistNotFound(_missing_message(root, f"download failed: {e}")) from e
    raise MnistNotFound(_missing_message(root, "downloads are disabled"))


def _missing_message(root: Path, why: str) -> str:
    return (
        f"MNIST not found in {root} or {root / 'mnist'} ({why}).\n"
        f"Put either mnist.npz (from {KERAS_URL})\n"
        f"or the four IDX files {', '.join(v + '.gz' for v in IDX_FILES.values())}\n"
        f"(from {IDX_URL}) there, or point --data-dir / $CNNLAB_DATA_DIR at a folder holding them."
    )


def main(argv=None) -> int:
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m experiments.mnist",
                                description="Fetch MNIST (mnist.npz) into the data directory.")
    p.add_argument("--data-dir", help="dataset folder (default: $CNNLAB_DATA_DIR or ~/.cache/cnnlab/data)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("download", help="fetch mnist.npz into <data dir>/mnist/ unless MNIST is there")
    args = p.parse_args(argv)
    root = resolve_data_dir(args.data_dir)
    try:
        (x, _), (xs, _) = load_mnist(root)
    except MnistNotFound as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"MNIST in {root}: {len(x):,} training and {len(xs):,} test images")
    return 0


# --- what the Data page shows (core/datadir.py:datasets) ---------------------



def mnist_status(root: Path) -> Dataset:
    ds = Dataset("mnist", "MNIST", False, root / "mnist", how="download",
                 command=f"python -m experiments.mnist --data-dir {q(root)} download")
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


if __name__ == "__main__":
    raise SystemExit(main())
