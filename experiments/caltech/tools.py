"""Small calculators and tables behind the 50-class technique pages.

Each one either checks a formula against Keras itself (padding, activations,
augmentation use the real layers) or turns run records into a table (class
weights, per-class accuracy). No streamlit here: app_pages/_caltech.py draws them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.caltech.data import ImageDataNotFound, class_weights, dataset_index, load_pixels
from experiments.caltech.evaluate import PROBS, per_class_accuracy, read_classes, read_predictions, read_probs

__all__ = ["ConvSize", "conv_output_size", "keras_output_size", "padding_grid", "activation_frame",
           "stored_activation_frame",
           "class_weight_frame", "per_class_runs", "per_class_frame", "head_tail_frame", "mirror_frame",
           "augmentation_preview", "sample_images", "ImageDataNotFound"]


# --- padding -------------------------------------------------------------------

@dataclass(frozen=True)
class ConvSize:
    """One convolution's output size, by the course formula and by Keras.

    `exact` is (n + P - f)/s + 1 with P the total padding (2p, 0 for valid,
    Keras's choice for same); `keras` is what a Conv2D produces (None when the
    kernel does not fit in the padded input, which Keras refuses)."""
    n: int
    f: int
    s: int
    padding: int | str
    pad_total: int
    pad_before: int       # top / left
    pad_after: int        # bottom / right
    exact: Fraction
    is_integer: bool
    keras: int | None

    @property
    def exact_value(self) -> int | float:
        return int(self.exact) if self.is_integer else float(self.exact)


def _pads(n: int, f: int, s: int, padding: int | str) -> tuple[int, int]:
    if padding == "valid":
        return 0, 0
    if padding == "same":
        # TensorFlow's rule: pad just enough that the output is ceil(n/s); an
        # odd total puts the extra pixel after (right / bottom).
        total = max((math.ceil(n / s) - 1) * s + f - n, 0)
        return total // 2, total - total // 2
    p = int(padding)
    if p < 0:
        raise ValueError("padding must be >= 0")
    return p, p


def conv_output_size(n: int, f: int, s: int, p: int | str) -> ConvSize:
    """Output = (n + 2p - f)/s + 1, exactly, next to what Keras makes of it:
    explicit or valid padding floors the fraction (the last partial window is
    dropped); same padding always gives ceil(n/s)."""
    if min(n, f, s) < 1:
        raise ValueError("input size, kernel and stride must be >= 1")
    before, after = _pads(n, f, s, p)
    total = before + after
    exact = Fraction(n + total - f, s) + 1
    if p == "same":
        keras_size = math.ceil(n / s)
    else:
        keras_size = (n + total - f) // s + 1 if n + total >= f else None
    return ConvSize(n, f, s, p, total, before, after, exact, exact.denominator == 1, keras_size)


@lru_cache(maxsize=512)
def keras_output_size(n: int, f: int, s: int, padding: int | str) -> int | None:
    """Spatial output size of a real Conv2D on an n x n x 1 input of zeros
    (an integer padding is a ZeroPadding2D before a valid conv, as one writes
    it in Keras). None when Keras refuses: the kernel is larger than the input."""
    import keras

    x = np.zeros((1, n, n, 1), "float32")
    if padding not in ("same", "valid"):
        x = keras.layers.ZeroPadding2D(int(padding))(x)
        padding = "valid"
    try:
        y = keras.layers.Conv2D(1, f, strides=s, padding=padding)(x)
    except ValueError:  # "Computed output size would be zero or negative"
        return None
    return int(y.shape[1])


def padding_grid(n: int, f: int, p: int | tuple[int, int], limit: int = 20) -> pd.DataFrame:
    """Cells (row, col, kind) of an n x n input inside its padding, for a
    drawing; `p` is a width on every side or (before, after) for same padding's
    uneven split. The input is shrunk so the whole grid is at most `limit`
    cells wide (`shown_n` says how many input cells are drawn). `window` marks
    the kernel's first position, at the top-left corner."""
    before, after = (p, p) if isinstance(p, int) else p
    shown = max(1, min(n, limit - before - after))
    side = shown + before + after
    rows = []
    for r in range(side):
        for c in range(side):
            inside = before <= r < before + shown and before <= c < before + shown
            rows.append((r, c, "input" if inside else "padding", r < f and c < f))
    df = pd.DataFrame(rows, columns=["row", "col", "kind", "window"])
    df.attrs["shown_n"] = shown
    return df


# --- activations ---------------------------------------------------------------

def activation_frame(names=("relu", "sigmoid", "gelu", "tanh"), lo: float = -6.0, hi: float = 6.0,
                     points: int = 241, h: float = 1e-4) -> pd.DataFrame:
    """x, activation, value, derivative for Keras's own activation functions;
    the derivative is a central difference (f(x+h) - f(x-h)) / 2h in float64,
    so no formula is typed by hand. The default grid has 0 on it (step 0.05);
    there ReLU's difference quotient is 0.5, between its one-sided slopes."""
    import keras

    x = np.linspace(lo, hi, points)
    out = []
    for name in names:
        fn = keras.activations.get(name)

        def f(v):
            return keras.ops.convert_to_numpy(fn(keras.ops.convert_to_tensor(v, dtype="float64")))

        out.append(pd.DataFrame({"x": x, "activation": name, "value": f(x),
                                 "derivative": (f(x + h) - f(x - h)) / (2 * h)}))
    return pd.concat(out, ignore_index=True)


# The page's curves, computed by activation_frame() (Keras, so TensorFlow: 4-5 s
# on the activation page's first visit) and kept here; tests/test_caltech_tools.py
# recomputes them and fails when the file no longer matches Keras.
ACTIVATIONS_FILE = Path(__file__).with_name("activations.csv")


def stored_activation_frame() -> pd.DataFrame:
    """activation_frame()'s default curves from ACTIVATIONS_FILE, without
    importing Keras; computed (and not stored) when the file is missing."""
    try:
        return pd.read_csv(ACTIVATIONS_FILE)
    except (OSError, ValueError):
        return activation_frame()


def write_activation_file() -> Path:
    """`python -m experiments.caltech.tools`: recompute the curves from Keras and store them."""
    activation_frame().to_csv(ACTIVATIONS_FILE, index=False, float_format="%.17g")
    return ACTIVATIONS_FILE


# --- class weights ----------------------------------------------------------------

def class_weight_frame(train_counts, classes) -> pd.DataFrame:
    """Both of the study's class-weight formulas per class, computed by the
    training code itself (data.class_weights) on labels rebuilt from the counts:
    formula 1 = largest count / count, formula 2 = total / (classes x count).
    Largest class first; rank 1 is the largest."""
    counts = np.asarray(train_counts, dtype=int)
    y = np.repeat(np.arange(len(counts)), counts)
    w1 = class_weights(y, "max_over_count", len(counts))
    w2 = class_weights(y, "balanced", len(counts))
    df = pd.DataFrame({"class": list(classes), "count": counts,
                       "weight_formula1": [w1[i] for i in range(len(counts))],
                       "weight_formula2": [w2[i] for i in range(len(counts))]})
    df = df.sort_values(["count", "class"], ascending=[False, True], key=_ci).reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


def _ci(col: pd.Series) -> pd.Series:
    # Ties broken by name case-insensitively, like data.select_classes.
    return col if pd.api.types.is_numeric_dtype(col) else col.str.lower()


# --- per-class accuracy -----------------------------------------------------------

def per_class_runs(runs_by_experiment: dict[str, list[Path]]) -> pd.DataFrame:
    """One row per (experiment, run, class): experiment, run, class,
    train_count, test_count, accuracy on that class's test images. Runs
    without predictions.csv or classes.json (unfinished, or older than those
    files) are skipped."""
    cols = ["experiment", "run", "class", "train_count", "test_count", "accuracy"]
    rows = []
    for exp, paths in runs_by_experiment.items():
        for path in paths:
            path = Path(path)
            pred = read_predictions(path / "predictions.csv")
            info = read_classes(path / "classes.json")
            if pred is None or not info or not info.get("classes"):
                continue
            names = info["classes"]
            acc = per_class_accuracy(pred[0], pred[1], len(names))
            train = info.get("train_counts") or [np.nan] * len(names)
            test = np.bincount(pred[0], minlength=len(names))
            rows += [(exp, path.name, c, train[i], int(test[i]), acc[i]) for i, c in enumerate(names)]
    return pd.DataFrame(rows, columns=cols)


def _per_run(data) -> pd.DataFrame:
    return data if isinstance(data, pd.DataFrame) else per_class_runs(data)


def _groups(per_run: pd.DataFrame, head_n: int) -> dict[str, str]:
    """class -> 'head' (the head_n largest by training images), 'tail' (the
    head_n smallest) or 'middle'; ties broken by name."""
    sizes = (per_run.groupby("class")["train_count"].max().reset_index()
             .sort_values(["train_count", "class"], ascending=[False, True], key=_ci))
    names = list(sizes["class"])
    n = min(head_n, len(names) // 2)  # never let head and tail overlap
    out = {c: "middle" for c in names}
    out.update({c: "tail" for c in names[len(names) - n:]})
    out.update({c: "head" for c in names[:n]})
    return out


def per_class_frame(runs_by_experiment, head_n: int = 10) -> pd.DataFrame:
    """Per experiment and class: train_count, accuracy (mean over runs),
    accuracy_std (over runs; NaN with one run), runs, and group (head / middle
    / tail, see head_tail_frame). Takes {experiment: [run dirs]} or the frame
    of per_class_runs."""
    per_run = _per_run(runs_by_experiment)
    cols = ["experiment", "class", "train_count", "accuracy", "accuracy_std", "runs", "group"]
    if per_run.empty:
        return pd.DataFrame(columns=cols)
    df = (per_run.groupby(["experiment", "class"], sort=False)
          .agg(train_count=("train_count", "max"), accuracy=("accuracy", "mean"),
               accuracy_std=("accuracy", "std"), runs=("run", "nunique")).reset_index())
    df["group"] = df["class"].map(_groups(per_run, head_n))
    return df[cols]


def head_tail_frame(runs_by_experiment, head_n: int = 10) -> pd.DataFrame:
    """Mean accuracy of the head_n largest ('head') and head_n smallest
    ('tail') classes, per experiment: each run's mean over the group's
    classes, then mean and std over runs (std only with two runs or more).
    Class weights are meant to lift the tail; this is where that shows."""
    per_run = _per_run(runs_by_experiment)
    cols = ["experiment", "group", "accuracy", "std", "runs"]
    if per_run.empty:
        return pd.DataFrame(columns=cols)
    d = per_run.assign(group=per_run["class"].map(_groups(per_run, head_n)))
    d = d[d["group"] != "middle"]
    by_run = d.groupby(["experiment", "group", "run"], sort=False)["accuracy"].mean().reset_index()
    out = (by_run.groupby(["experiment", "group"], sort=False)["accuracy"]
           .agg(accuracy="mean", std="std", runs="count").reset_index())
    out["group"] = pd.Categorical(out["group"], ["head", "tail"])
    return out.sort_values(["experiment", "group"]).reset_index(drop=True)[cols].astype({"group": str})


def mirror_frame(runs_by_experiment: dict[str, list[Path]]) -> pd.DataFrame:
    """Per experiment: test accuracy on the test images as they are and on the
    same images mirrored left-right, each the mean over the runs that stored
    their test outputs (test_probs.npz), and the drop between the two. A network
    trained with flips should not care; one that does care has learned which
    way the objects face, a cue only worth having if the test images share it."""
    cols = ["experiment", "runs", "original", "mirrored", "drop"]
    rows = []
    for exp, paths in runs_by_experiment.items():
        accs = []
        for path in paths:
            out = read_probs(Path(path) / PROBS)
            if out is not None:
                accs.append([np.mean(out[k].argmax(1) == out["y"]) for k in ("plain", "mirrored")])
        if accs:
            orig, mirr = np.mean(accs, axis=0)
            rows.append((exp, len(accs), orig, mirr, orig - mirr))
    return pd.DataFrame(rows, columns=cols)


# --- augmentation -----------------------------------------------------------------

def augmentation_preview(images: np.ndarray, spec: dict, n_variants: int, seed: int) -> np.ndarray:
    """n_variants augmented copies of each image (image-major: copies of
    image 0 first), made by exactly the layers the models train with
    (models.augmentation_layers), called with training=True since they are
    identity otherwise. Fresh layers with a fixed seed: the same seed gives the
    same pictures. Pixels go in as float32 0-255, the range RandomContrast's
    default value_range assumes, and come back as uint8."""
    from experiments.caltech.models import augmentation_layers

    x = np.repeat(np.asarray(images, dtype="float32"), n_variants, axis=0)
    layers = augmentation_layers(spec, seed=seed)
    if not layers or len(x) == 0:
        return x.astype("uint8")
    import keras

    for layer in layers:
        x = layer(x, training=True)
    x = keras.ops.convert_to_numpy(x)
    return np.clip(np.round(x), 0, 255).astype("uint8")


def sample_images(n: int, size: int = 64, seed: int = 0, data_dir=None, with_classes: bool = False):
    """n training images (uint8 (n, size, size, 3)) from n different classes
    when there are that many, picked with `seed`; with_classes=True returns
    (images, class names). Raises ImageDataNotFound without the dataset."""
    index = dataset_index({}, data_dir)
    train = index["splits"]["train"]
    by_class: dict[int, list] = {}
    for item in train:
        by_class.setdefault(item[1], []).append(item)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(sorted(by_class))
    picks = [by_class[int(labels[i % len(labels)])] for i in range(n)]
    items = [c[int(rng.integers(len(c)))] for c in picks]
    images = load_pixels(items, size)
    return (images, [index["classes"][y] for _, y in items]) if with_classes else images


if __name__ == "__main__":
    print(write_activation_file())
