"""Turn a config's `data` section into train / validation / test arrays.

MNIST protocols (seed 002) are described by three choices:
  pool      the images the seed started from: its 55,000-image training set
            (`train55k`, the first 55,000 of MNIST's 60,000) or all 60,000;
  pool_size how many of those it actually used (it often used a fraction);
  split     Keras's `validation_split` semantics (the *last* fraction of the
            used images is validation) or a fixed number of last images.
`subset: random` draws the used images with the run's seed, so seed-to-seed
spread includes which images a small protocol happened to get.
"""
from __future__ import annotations

import numpy as np

from experiments.mnist.loader import load_mnist


def load_splits(data_cfg: dict, seed: int, data_dir=None) -> dict:
    if data_cfg["dataset"] == "mnist":
        return _mnist(data_cfg, seed, data_dir)
    raise ValueError(f"unknown dataset {data_cfg['dataset']!r}")


def _mnist(cfg: dict, seed: int, data_dir) -> dict:
    (x_all, y_all), (x_test, y_test) = load_mnist(data_dir)
    pool = cfg.get("pool", "train55k")
    if pool == "train55k":
        x_all, y_all = x_all[:55000], y_all[:55000]
    n = min(cfg.get("pool_size") or len(x_all), len(x_all))
    if cfg.get("subset", "random") == "random":
        idx = np.random.default_rng(seed).permutation(len(x_all))[:n]
    else:
        idx = np.arange(n)
    if "val_size" in cfg:
        split_at = n - min(cfg["val_size"], n - 1)
    else:
        # keras.Model.fit(validation_split=f) keeps int(n * (1 - f)) for training
        split_at = int(n * (1 - cfg.get("val_fraction", 0.2)))
    tr, va = idx[:split_at], idx[split_at:]
    limit = cfg.get("test_limit")
    if limit:
        x_test, y_test = x_test[:limit], y_test[:limit]

    # pixel_scale 255 maps pixels to [0, 1]; 1 keeps raw 0-255 values (what a
    # script that forgets to normalise feeds the network).
    scale = float(cfg.get("pixel_scale", 255))

    def prep(x):
        return (x.astype("float32") / scale)[..., None]

    return {"x_train": prep(x_all[tr]), "y_train": y_all[tr].astype("int64"),
            "x_val": prep(x_all[va]), "y_val": y_all[va].astype("int64"),
            "x_test": prep(x_test), "y_test": y_test.astype("int64")}
