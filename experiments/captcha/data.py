"""The real THSR captchas: find them, split them, preprocess them once.

Layout expected under the data directory (as in the public source repository,
gary9987/keras-TaiwanHighSpeedRail-captcha):

    thsr-captcha/<set>/images/1.jpg ... N.jpg
    thsr-captcha/<set>/labels.csv      line N = label of N.jpg

Every set found there is used (the study's two: handlabeled-5000 and
verified-11000). The held-out test split is 3,000 images chosen by a hash of
each image's *content*, so it does not depend on file order or on which
machine reads it, and byte-identical copies (verified-11000 has 27 groups)
always land on the same side. The remaining images, in the same hashed order,
are split into training and validation (the last `val_fraction`, like Keras's
validation_split); the test split is never used for training or model
selection.
"""
from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from experiments.captcha.labels import encode, read_labels
from core.datadir import cached_array
from core.datadir import data_dir as resolve_data_dir
from core.datadir import DataNotFound, Dataset, count_files, line_count, q, subdirs

FOLDER = "thsr-captcha"
TEST_SIZE = 3000
SPLIT_SALT = "cnnlab-thsr-split-v1"
SOURCE_URL = "https://github.com/gary9987/keras-TaiwanHighSpeedRail-captcha"


class CaptchaDataNotFound(DataNotFound):
    pass


@dataclass(frozen=True)
class Item:
    source: str      # set name, e.g. "verified-11000"
    number: int      # N of N.jpg
    path: Path
    label: str
    digest: str      # sha1 of the file's bytes

    @property
    def ref(self) -> str:
        return f"{self.source}/{self.number}"


def captcha_root(data_dir=None) -> Path:
    root = resolve_data_dir(data_dir)
    for cand in (root / FOLDER, root):
        if cand.is_dir() and any((d / "labels.csv").is_file() for d in cand.iterdir() if d.is_dir()):
            return cand
    raise CaptchaDataNotFound(
        f"no captcha sets under {root / FOLDER}: expected <set>/images/N.jpg and "
        f"<set>/labels.csv (one label per line). Get them from {SOURCE_URL} and point "
        f"--data-dir or $CNNLAB_DATA_DIR at the folder holding {FOLDER}/.")


def list_items(data_dir=None) -> list[Item]:
    root = captcha_root(data_dir)
    items = []
    for set_dir in sorted(d for d in root.iterdir() if (d / "labels.csv").is_file()):
        labels = read_labels(set_dir / "labels.csv")
        for n, label in enumerate(labels, start=1):
            path = set_dir / "images" / f"{n}.jpg"
            if not path.is_file():
                raise CaptchaDataNotFound(f"{path} is missing (labels.csv has {len(labels)} lines)")
            digest = hashlib.sha1(path.read_bytes()).hexdigest()
            items.append(Item(set_dir.name, n, path, label, digest))
    return items


def _rank(digest: str) -> str:
    return hashlib.sha256(f"{SPLIT_SALT}:{digest}".encode()).hexdigest()


def split(items: list[Item], test_size: int = TEST_SIZE, val_fraction: float = 0.2):
    """(train, val, test) lists of items. Groups of identical images move
    together; the test split takes whole groups in hashed order until it holds
    exactly `test_size` images (skipping a group that would overshoot)."""
    groups: dict[str, list[Item]] = {}
    for it in items:
        groups.setdefault(it.digest, []).append(it)
    order = sorted(groups, key=_rank)
    test, rest = [], []
    for d in order:
        g = groups[d]
        if len(test) + len(g) <= test_size:
            test.extend(g)
        else:
            rest.append(g)
    n_rest = sum(len(g) for g in rest)
    n_train_target = int(n_rest * (1 - val_fraction))
    train, val = [], []
    for g in rest:
        (train if len(train) < n_train_target else val).extend(g)
    return train, val, test


def source_split(items: list[Item], test_source: str, val_fraction: float = 0.2):
    """Leave one source out: (train, val, test) with every captcha of the set
    `test_source` in test, and training and validation from the other sets
    only, in hashed order. A captcha whose bytes also appear in the test set
    is left out of training, so no test image is ever trained on."""
    sources = sorted({it.source for it in items})
    if test_source not in sources:
        raise CaptchaDataNotFound(f"no captcha set {test_source!r} to test on; found {', '.join(sources)}")
    if len(sources) < 2:
        raise CaptchaDataNotFound(f"{test_source!r} is the only captcha set: nothing is left to train on")
    test = [it for it in items if it.source == test_source]
    seen = {it.digest for it in test}
    train, val, _ = split([it for it in items if it.source != test_source and it.digest not in seen],
                          test_size=0, val_fraction=val_fraction)
    return train, val, test


def preprocess_items(items: list[Item], preprocess: str, options: dict | None = None) -> np.ndarray:
    """uint8 array (N, H, W, C) of preprocessed images, cached on disk by the
    images' contents and the preprocessing, so a second run skips decoding."""
    from experiments.captcha.preprocess import get_preprocessor, load_image

    options = options or {}
    fn = get_preprocessor(preprocess, **options)
    key = hashlib.sha1(repr((preprocess, sorted(options.items()), [it.digest for it in items])).encode())
    return cached_array(f"captcha-{preprocess}-{key.hexdigest()[:16]}.npy", lambda: np.stack(
        [np.round(fn(load_image(it.path)) * 255).astype(np.uint8) for it in items]))


def labels_array(items: list[Item]) -> np.ndarray:
    return np.array([encode(it.label) for it in items], dtype="int64").reshape(-1, 4)


def load_splits(cfg: dict, seed: int, data_dir=None) -> dict:
    """The `data` section of a captcha config -> arrays for train.py.
    x: float32 in [0, 1]; y: (N, 4) int class indices."""
    train, val, test = config_split(cfg, data_dir)
    if cfg.get("train_limit"):
        train = train[:cfg["train_limit"]]
        val = val[:max(1, cfg["train_limit"] // 4)]
    if cfg.get("test_limit"):
        test = test[:cfg["test_limit"]]
    pre, opts = cfg["preprocess"], cfg.get("preprocess_options", {})
    out = {}
    for name, part in (("train", train), ("val", val), ("test", test)):
        out[f"x_{name}"] = preprocess_items(part, pre, opts).astype("float32") / 255.0
        out[f"y_{name}"] = labels_array(part)
    if cfg.get("synthetic"):  # added to training only: validation and test stay real captchas
        x, y = synthetic_set(cfg["synthetic"], seed, pre, opts)
        out["x_train"] = np.concatenate([out["x_train"], x.astype("float32") / 255.0])
        out["y_train"] = np.concatenate([out["y_train"], y])
    out["val_items"], out["test_items"] = val, test
    return out


def synthetic_set(spec: dict, seed: int, preprocess: str, options: dict | None = None):
    """`data.synthetic` = {"n": N, "scaled": f}: N generated captchas drawn as
    the real ones are (experiments/captcha/synth.py, arc="invert": the arc inverts what
    it crosses), at the sizes crawls use (101-158 x 44-48 px native), a share f
    of them (default 0.25) rescaled to 140 x 48 as another public crawl stores
    them; prepared like the real images. Returns (uint8 images, (N, 4) labels),
    the same for the same run seed, cached on disk."""
    from experiments.captcha.preprocess import get_preprocessor
    from experiments.captcha.synth import make_captcha

    n, scaled = int(spec["n"]), float(spec.get("scaled", 0.25))
    options = options or {}
    fn = get_preprocessor(preprocess, **options)
    key = hashlib.sha1(repr((sorted(spec.items()), seed, preprocess, sorted(options.items()))).encode())

    made = {}

    def build():
        if not made:
            rng = np.random.default_rng([seed, 24])  # 24: this generator's own stream, apart from training's
            images, labels = [], []
            for _ in range(n):
                img, label, _ = make_captcha(rng, arc="invert", scale=(140, 48) if rng.random() < scaled else None)
                images.append(np.round(fn(img) * 255).astype(np.uint8))
                labels.append(encode(label))
            made.update(x=np.stack(images), y=np.array(labels, dtype="int64"))
        return made

    name = f"captcha-synth-{key.hexdigest()[:16]}"
    return (cached_array(f"{name}-x.npy", lambda: build()["x"]),
            cached_array(f"{name}-y.npy", lambda: build()["y"]))


def config_split(cfg: dict, data_dir=None) -> tuple[list[Item], list[Item], list[Item]]:
    """(train, val, test) items as the `data` section of a captcha config
    defines them: its split, and its relabel list applied to train and val."""
    items = list_items(data_dir)
    if cfg.get("test_source"):
        train, val, test = source_split(items, cfg["test_source"], cfg.get("val_fraction", 0.2))
    else:
        train, val, test = split(items, cfg.get("test_size", TEST_SIZE), cfg.get("val_fraction", 0.2))
    if cfg.get("relabel"):
        train, val = relabelled(cfg["relabel"], train, val, test)
    return train, val, test


def relabelled(spec: dict, train: list[Item], val: list[Item], test: list[Item]):
    """Training and validation items with a committed relabel list applied
    (experiments/captcha/relabel.py). The test split keeps its labels as given: a
    list that names a test image is refused."""
    from experiments.captcha import relabel
    fixes = relabel.load(spec)
    leaked = sorted(it.ref for it in test if it.ref in fixes)
    if leaked:
        raise relabel.RelabelError(f"relabel list {spec['name']!r} names {len(leaked)} test image(s), "
                                   f"first {leaked[0]}: the test split is never relabelled")
    return relabel.apply(train, fixes), relabel.apply(val, fixes)


def test_samples(n: int = 4, data_dir=None, seed: int = 0) -> list[tuple[str, bytes]]:
    """(name, file bytes) of n captchas from the held-out test split, or []
    when the real data is not on this machine (the app then waits for uploads)."""
    try:
        items = list_items(data_dir)
    except (CaptchaDataNotFound, OSError, ValueError):
        return []
    _, _, test = split(items)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(test), size=min(n, len(test)), replace=False)
    return [(test[i].ref, test[i].path.read_bytes()) for i in pick]


def image_bytes(ref: str, data_dir=None) -> bytes | None:
    """The file behind a 'set/N' reference of predictions.csv, if present here."""
    try:
        root = captcha_root(data_dir)
    except CaptchaDataNotFound:
        return None
    set_name, _, number = ref.partition("/")
    path = root / set_name / "images" / f"{number}.jpg"
    return path.read_bytes() if path.is_file() else None


# --- what the Data page shows (core/datadir.py:datasets) ---------------------


CAPTCHA_SOURCE = "https://github.com/gary9987/keras-TaiwanHighSpeedRail-captcha"
# The public repository's folders and the set each becomes (line N of the
# label file labels image N.jpg in both).
CAPTCHA_SETS = {
    "handlabeled-5000": ("src/download_img/image ", "src/img process plus/ lebal5000.csv"),
    "verified-11000": ("src/auto_get_image_by_selenium/img", "src/auto_get_image_by_selenium/label/label.csv"),
}


def captcha_status(root: Path) -> Dataset:
    base = root / FOLDER
    lines = []
    for name, (images, labels) in CAPTCHA_SETS.items():
        lines += [f"mkdir -p {q(base / name)}",
                  f"cp -r {shlex.quote('thsr-src/' + images)} {q(base / name / 'images')}",
                  f"cp {shlex.quote('thsr-src/' + labels)} {q(base / name / 'labels.csv')}"]
    ds = Dataset("thsr-captcha", "THSR captchas", False, base, how="place", values={"source": CAPTCHA_SOURCE},
                 command="\n".join([f"git clone --depth 1 {CAPTCHA_SOURCE} thsr-src", *lines]))
    # the loader reads <data dir>/thsr-captcha/<set>/, or sets directly in the data directory
    for cand in (base, root):
        sets = sorted(d for d in subdirs(cand) if (d / "labels.csv").is_file())
        if not sets:
            continue
        ds.folder = cand
        for d in sets:
            n_images = count_files(d / "images")
            n_labels = line_count(d / "labels.csv")
            ds.parts.append({"part": d.name, "files": n_images, "labels": n_labels})
            if n_images < n_labels:  # the loader needs N.jpg for every line N
                ds.missing.append(f"{d.name}/images/")
        ds.files = sum(p["files"] for p in ds.parts)
        ds.present = ds.files > 0 and not ds.missing
        break
    return ds
