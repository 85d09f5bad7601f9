"""The 50-class image study's data: which classes, which split, one pipeline.

Layout: the official Caltech-101 archive's folder, one sub-folder per class,

    <data dir>/caltech101/101_ObjectCategories/<class>/image_0001.jpg ...

(`caltech101-50/` is accepted too: the same layout holding only the fifty), or
any folder of the same shape a user points `data.folder` at, for example the
course's own 50-class set.

Class selection (stated here so a full download gives the same fifty): drop
`BACKGROUND_Google` (clutter, not a class) and `Faces_easy` (a cropped copy of
`Faces`), rank the rest by image count, largest first, ties broken by name
(case-insensitive), keep the first `n_classes`.

Split: per class, the files sorted by name and shuffled with a fixed seed that
does not depend on the run's seed, then 70 % training, 15 % validation, 15 %
test (at least one image each). The test split never takes part in training or
model selection, and every seed of every variant sees the same three splits.

Training images are kept in class order (the order a folder listing gives):
that is what makes the shuffle-buffer experiment meaningful, since a buffer
smaller than a class hands the network long single-class runs.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from core.datadir import cached_array
from core.datadir import data_dir as resolve_data_dir
from core.datadir import DataNotFound, Dataset, count_files, line_count, q, subdirs

ARCHIVE_FOLDER = "101_ObjectCategories"
CANDIDATE_ROOTS = ("caltech101", "caltech101-50")
EXCLUDED = ("BACKGROUND_Google", "Faces_easy")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
SPLIT_SEED = 20230101            # fixed: every run sees the same split
FRACTIONS = (0.70, 0.15, 0.15)   # train, validation, test
DOWNLOAD_URL = "https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip"


class ImageDataNotFound(DataNotFound):
    pass


def default_folder(data_dir=None) -> Path:
    """The class folder under the data directory (the archive layout)."""
    root = resolve_data_dir(data_dir)
    for name in CANDIDATE_ROOTS:
        cand = root / name / ARCHIVE_FOLDER
        if cand.is_dir():
            return cand
    raise ImageDataNotFound(
        f"no Caltech-101 images under {root}: expected "
        f"{root / CANDIDATE_ROOTS[0] / ARCHIVE_FOLDER}/<class>/image_0001.jpg. "
        f"Run `python -m experiments.caltech download` (fetches {DOWNLOAD_URL}), or point "
        "data.folder / --data-dir at a folder with one sub-folder per class.")


def class_files(folder: Path) -> dict[str, list[Path]]:
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageDataNotFound(f"{folder}: not a folder (expected one sub-folder per class)")
    out = {}
    for d in sorted(folder.iterdir()):
        if d.is_dir() and not d.name.startswith("."):
            files = sorted(p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if files:
                out[d.name] = files
    if not out:
        raise ImageDataNotFound(f"{folder}: no class sub-folders with images")
    return out


def select_classes(counts: dict[str, int], n_classes: int | None = 50) -> list[str]:
    """The rule of the module docstring; returns the classes in ranked order."""
    ranked = sorted((c for c in counts if c not in EXCLUDED),
                    key=lambda c: (-counts[c], c.lower()))
    return ranked[:n_classes] if n_classes else ranked


def split_files(files: dict[str, list[Path]], classes: list[str]) -> dict[str, list[tuple[Path, int]]]:
    """{'train'|'val'|'test': [(path, label), ...]}, labels = index in sorted class names.

    Per class: a fixed-seed permutation of the sorted files; the first 70 % train,
    the next 15 % validation, the rest test. The classes' order inside each split
    is alphabetical (the folder order)."""
    names = sorted(classes, key=str.lower)
    out = {"train": [], "val": [], "test": []}
    for label, name in enumerate(names):
        fs = files[name]
        # Seeded by the class name too, so adding a class never reshuffles another.
        seed = int(hashlib.sha1(f"{SPLIT_SEED}:{name}".encode()).hexdigest()[:8], 16)
        order = np.random.default_rng(seed).permutation(len(fs))
        n = len(fs)
        n_test = max(1, round(n * FRACTIONS[2]))
        n_val = max(1, round(n * FRACTIONS[1]))
        n_train = n - n_val - n_test
        if n_train < 1:
            raise ValueError(f"class {name!r} has {n} images; at least 3 are needed")
        idx = {"train": order[:n_train], "val": order[n_train:n_train + n_val],
               "test": order[n_train + n_val:]}
        for part, ii in idx.items():
            out[part].extend((fs[i], label) for i in sorted(ii))
    return out


def dataset_index(cfg: dict, data_dir=None) -> dict:
    """Classes and split for a config's data section (no pixels loaded)."""
    folder = Path(cfg["folder"]).expanduser() if cfg.get("folder") else default_folder(data_dir)
    files = class_files(folder)
    classes = select_classes({c: len(f) for c, f in files.items()}, cfg.get("n_classes", 50))
    return {"folder": folder, "classes": sorted(classes, key=str.lower),
            "splits": split_files(files, classes)}


def load_pixels(items: list[tuple[Path, int]], size: int) -> np.ndarray:
    """uint8 (N, size, size, 3): decoded (greyscale made RGB), resized with
    bilinear filtering through tf.image, cached on disk by file list and size so
    only the first run of a study pays for decoding."""
    key = hashlib.sha1(repr((size, [(str(p), p.stat().st_size) for p, _ in items])).encode())

    def build():
        if not items:
            return np.zeros((0, size, size, 3), "uint8")
        import tensorflow as tf

        def decode(path):
            img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
            img = tf.image.resize(img, (size, size), antialias=True)
            return tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)

        ds = tf.data.Dataset.from_tensor_slices([str(p) for p, _ in items])
        ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE).batch(256)
        return np.concatenate([b.numpy() for b in ds])

    return cached_array(f"images-{size}-{key.hexdigest()[:16]}.npy", build)


def load_splits(cfg: dict, seed: int, data_dir=None) -> dict:
    """Arrays for the engine: uint8 pixels (the models rescale), int labels."""
    index = dataset_index(cfg, data_dir)
    size = cfg.get("image_size", 64)
    out = {"classes": index["classes"]}
    for part in ("train", "val", "test"):
        items = index["splits"][part]
        limit = cfg.get(f"{part}_limit")
        if limit and len(items) > limit:
            # Quick configs: an evenly spaced subset keeps every class present.
            items = [items[i] for i in np.linspace(0, len(items) - 1, limit).astype(int)]
        out[f"x_{part}"] = load_pixels(items, size)
        out[f"y_{part}"] = np.array([y for _, y in items], dtype="int64")
    return out


def class_weights(y: np.ndarray, formula: str | None, n_classes: int | None = None) -> dict | None:
    """The seed's two formulas, per class c with n_c training images:
    formula 1 (>= 1): max_k n_k / n_c;  formula 2: N / (C * n_c), which is
    scikit-learn's 'balanced' and averages to 1 over the images."""
    if not formula:
        return None
    n_classes = n_classes or int(y.max()) + 1
    counts = np.bincount(y, minlength=n_classes).astype(float)
    counts[counts == 0] = np.nan
    if formula == "max_over_count":
        w = np.nanmax(counts) / counts
    elif formula == "balanced":
        w = len(y) / (n_classes * counts)
    else:
        raise ValueError(f"unknown class-weight formula {formula!r} (max_over_count, balanced)")
    return {i: float(0.0 if np.isnan(v) else v) for i, v in enumerate(w)}


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_buffer: int | None,
                 seed: int, training: bool, n_classes: int | None = None, mix: dict | None = None):
    """tf.data: slices -> cache -> shuffle(buffer) -> batch -> [mix] -> prefetch.
    `shuffle_buffer` None or 0 means the whole set; 1 means no shuffling.

    With `n_classes` the labels become one-hot (what label smoothing and mixed
    targets need). `mix` ({"mixup": alpha, "cutmix": factor}, training only)
    blends each batch with a shuffled copy of itself by Keras's MixUp or CutMix
    layer, one of those given drawn at random per batch."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if training:
        buf = shuffle_buffer or len(x)
        if buf > 1:
            ds = ds.shuffle(min(buf, len(x)), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if n_classes:
        ds = ds.map(lambda a, b: (a, tf.one_hot(b, n_classes)))
    if training and mix:
        ds = ds.map(batch_mixer(mix, seed), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def batch_mixer(mix: dict, seed: int | None = None):
    """A tf.data map function (images, one-hot labels) -> mixed pair; images
    come back float32 in the same 0-255 range (the models rescale)."""
    import keras
    import tensorflow as tf

    makers = {"mixup": lambda v: keras.layers.MixUp(alpha=v, seed=seed),
              "cutmix": lambda v: keras.layers.CutMix(factor=v, seed=seed)}
    unknown = set(mix) - set(makers)
    if not mix or unknown:
        raise ValueError(f"mix: expected mixup and/or cutmix, got {sorted(mix)}")
    layers = [makers[k](v) for k, v in sorted(mix.items())]

    def apply(images, labels):
        batch = {"images": tf.cast(images, "float32"), "labels": tf.cast(labels, "float32")}
        if len(layers) == 1:
            out = layers[0](batch)
        else:
            pick = tf.random.uniform([], 0, len(layers), dtype=tf.int32)
            out = tf.switch_case(pick, [lambda layer=layer: layer(batch) for layer in layers])
        return out["images"], out["labels"]
    return apply


# --- what the Data page shows (core/datadir.py:datasets) ---------------------



def caltech_status(root: Path) -> Dataset:
    ds = Dataset("caltech101", "Caltech-101", False, root / CANDIDATE_ROOTS[0] / ARCHIVE_FOLDER,
                 how="download", command=f"python -m experiments.caltech --data-dir {q(root)} download")
    for name in CANDIDATE_ROOTS:
        folder = root / name / ARCHIVE_FOLDER
        classes = subdirs(folder)
        if not classes:
            continue
        counts = {d.name: count_files(d, IMAGE_SUFFIXES) for d in classes}
        counts = {c: n for c, n in counts.items() if n}
        if not counts:
            continue
        ds.present, ds.folder, ds.files = True, folder, sum(counts.values())
        ds.parts = [{"part": c, "files": n} for c, n in sorted(counts.items(), key=lambda cn: (-cn[1], cn[0].lower()))]
        break
    return ds
