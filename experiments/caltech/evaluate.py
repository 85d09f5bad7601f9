"""Test-split figures for a 50-class run, and its per-image predictions.

Overall accuracy hides what class weights do, so the run also records the
mean of per-class accuracies (balanced accuracy) and every test prediction
(predictions.csv), from which the pages compute accuracy per class. The full
softmax outputs on the test split, plain and on the mirrored images, go to
test_probs.npz (a few hundred KB): seed ensembles are then computed from the
committed run alone, without its model file (which is not committed) or the
images.
"""
from __future__ import annotations

import csv
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np


PROBS = "test_probs.npz"


def evaluate(model, data: dict, path: Path) -> dict:
    probs, mirrored = predict_test(model, data["x_test"])
    write_probs(path / PROBS, data["y_test"], probs, mirrored)
    y = data["y_test"]
    eps = 1e-7
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], eps, 1.0))))
    write_predictions(path / "predictions.csv", y, probs.argmax(1), probs.max(1))
    write_classes(path / "classes.json", data)
    return {**test_figures(y, probs), "loss": loss}


def test_figures(y: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, top-5 accuracy and the mean of per-class accuracies of
    softmax outputs `probs` (N, classes) against labels `y`."""
    pred = probs.argmax(1)
    return {"accuracy": float(np.mean(pred == y)),
            "top5_accuracy": float(np.mean((np.argsort(-probs, axis=1)[:, :5] == y[:, None]).any(1))),
            "balanced_accuracy": float(np.nanmean(per_class_accuracy(y, pred, probs.shape[1])))}


def predict_test(model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Softmax outputs on `x` and on its left-right mirror (a mirrored object
    is still the same object; an upside-down one often is not)."""
    plain = np.asarray(model.predict(x, batch_size=256, verbose=0), dtype="float32")
    mirrored = np.asarray(model.predict(x[:, :, ::-1], batch_size=256, verbose=0), dtype="float32")
    return plain, mirrored


def write_probs(file: Path, y, plain, mirrored) -> None:
    tmp = file.with_name(file.name + ".tmp.npz")
    np.savez_compressed(tmp, y=np.asarray(y, dtype="int32"), plain=np.asarray(plain, dtype="float32"),
                        mirrored=np.asarray(mirrored, dtype="float32"))
    os.replace(tmp, file)


def read_probs(file: Path) -> dict | None:
    """{"y", "plain", "mirrored"} of a run's test split, or None when the
    file is absent or unreadable (a half-written file never replaces a good one)."""
    try:
        with np.load(file) as z:
            out = {k: z[k] for k in ("y", "plain", "mirrored")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error):
        return None
    ok = out["plain"].ndim == 2 and out["plain"].shape == out["mirrored"].shape == (len(out["y"]),
                                                                                     out["plain"].shape[1])
    return out if ok else None


def write_classes(file: Path, data: dict) -> None:
    """Class names (label i = classes[i]) and images per class in each split,
    so pages can show per-class figures without the dataset at hand."""
    from core.records import atomic_write_json
    n = len(data["classes"])
    atomic_write_json(file, {"classes": list(data["classes"]), **{
        f"{part}_counts": np.bincount(data[f"y_{part}"], minlength=n).astype(int).tolist()
        for part in ("train", "val", "test")}})


def read_classes(file: Path) -> dict | None:
    from core.records import read_json
    return read_json(file)


def per_class_accuracy(y: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Accuracy of each class on its own test images (NaN for a class with none)."""
    out = np.full(n_classes, np.nan)
    for c in range(n_classes):
        mask = y == c
        if mask.any():
            out[c] = float(np.mean(pred[mask] == c))
    return out


def write_predictions(file: Path, y, pred, confidence) -> None:
    tmp = file.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "label", "prediction", "confidence"])
        for i, (a, b, c) in enumerate(zip(y, pred, confidence)):
            w.writerow([i, int(a), int(b), f"{float(c):.4f}"])
    os.replace(tmp, file)


def read_predictions(file: Path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with open(file, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return None
    return (np.array([int(r["label"]) for r in rows]), np.array([int(r["prediction"]) for r in rows]))
