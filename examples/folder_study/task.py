"""How the shapes study reads its data, and how the Data page finds it."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.datadir import DataNotFound, Dataset, count_files, q, subdirs
from core.task import Task

IMAGES = (".png", ".jpg", ".jpeg")


class ShapesNotFound(DataNotFound):
    pass


def _folder(config: dict, data_dir) -> Path:
    from core.datadir import data_dir as resolve
    folder = resolve(data_dir) / config["data"]["images"]
    if not subdirs(folder):
        raise ShapesNotFound(f"{folder}: no class folders; `python -m {__package__} make` writes some")
    return folder


class FolderTask(Task):
    """Classify images from class folders: every image resized to data.side,
    split 70/15/15 in a fixed shuffled order (the same for every seed)."""

    def load(self, config, data_dir=None):
        from PIL import Image

        folder = _folder(config, data_dir)
        size = config["data"]["side"]
        classes = sorted(d.name for d in subdirs(folder))
        x, y = [], []
        for label, name in enumerate(classes):
            for path in sorted((folder / name).iterdir()):
                if path.suffix.lower() in IMAGES:
                    x.append(np.asarray(Image.open(path).convert("RGB").resize((size, size))) / 255.0)
                    y.append(label)
        x, y = np.array(x, "float32"), np.array(y, "int64")
        order = np.random.default_rng(0).permutation(len(y))
        x, y = x[order], y[order]
        limit = config["data"].get("train_limit")
        a, b = int(0.7 * len(y)), int(0.85 * len(y))
        return {"x_train": x[:a][:limit], "y_train": y[:a][:limit], "x_val": x[a:b], "y_val": y[a:b],
                "x_test": x[b:], "y_test": y[b:], "classes": classes}

    def model_kwargs(self, config, data):
        size = config["data"]["side"]
        return {**config["model"]["kwargs"], "input_shape": (size, size, 3), "classes": len(data["classes"])}


def status(root: Path) -> Dataset:
    """The Data page's row: the shapes folder, its classes and images."""
    folder = root / "shapes"
    ds = Dataset("shapes", "Shapes", False, folder, how="download",
                 command=f"python -m examples.folder_study --data-dir {q(root)} make")
    counts = {d.name: count_files(d, IMAGES) for d in subdirs(folder)}
    ds.parts = [{"part": c, "files": n} for c, n in sorted(counts.items()) if n]
    ds.files = sum(p["files"] for p in ds.parts)
    ds.present = len(ds.parts) >= 2
    return ds
