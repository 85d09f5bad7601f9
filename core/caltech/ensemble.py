"""Seed ensembles and flip test-time augmentation for a 50-class experiment.

A single network is what the study compares; an ensemble is a different kind
of model (N networks, N times the inference cost), so it is measured and
reported as its own row, never folded into an experiment's mean. The record,
runs/<experiment>/ensemble.json, names its members, so a reader can tell when
more seeds have finished since it was computed.

Members are the experiment's finished runs of the current declaration, each
with its saved model. Their softmax outputs on the test split are averaged;
"flip" also averages each model's outputs on the horizontally mirrored image
(a left-right mirror is still the same object; an up-down one often is not).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from core.caltech.evaluate import test_figures as _figures
from core.records import Run, atomic_write_json, read_json

FILE = "ensemble.json"


def member_runs(experiment: str, root=None, experiments: dict | None = None) -> list[Run]:
    """Finished runs of the declared config that kept their model file."""
    from core.results import experiment_rows
    if experiments is None:
        from experiments.caltech import EXPERIMENTS as experiments
    [row] = experiment_rows(root, {experiment: experiments[experiment]})
    return [Run(Path(p)) for p in row["run_paths"] if (Path(p) / "model.keras").is_file()]


def evaluate_ensemble(runs: list[Run], data: dict) -> dict:
    """Per-member and averaged figures, each plain and with flip averaging."""
    import keras
    x, y = data["x_test"], data["y_test"]
    plain, flipped, members = [], [], []
    t0 = time.perf_counter()
    for run in runs:
        model = keras.saving.load_model(run.path / "model.keras", safe_mode=True)
        p = np.asarray(model.predict(x, batch_size=256, verbose=0), dtype="float64")
        pf = np.asarray(model.predict(x[:, :, ::-1], batch_size=256, verbose=0), dtype="float64")
        plain.append(p)
        flipped.append(pf)
        members.append({"run": run.ref, "seed": run.config.get("seed"),
                        "test": _figures(y, p), "test_flip": _figures(y, (p + pf) / 2)})
    seconds = time.perf_counter() - t0
    mean_p = np.mean(plain, axis=0)
    mean_pf = np.mean(flipped, axis=0)
    return {"members": members, "n_test": int(len(y)),
            "test": _figures(y, mean_p), "test_flip": _figures(y, (mean_p + mean_pf) / 2),
            # Two forward passes per member per image (plain and mirrored).
            "ms_per_image_all_passes": round(1000 * seconds / len(y), 3)}


def write(experiment: str, root=None, data_dir=None, experiments: dict | None = None) -> dict:
    """Evaluate and record the ensemble of `experiment`'s finished seeds."""
    from core.caltech import data as c50
    from core.envinfo import device, git_state, versions
    from core.records import runs_dir
    runs = member_runs(experiment, root, experiments)
    if not runs:
        raise ValueError(f"{experiment}: no finished run with a saved model.keras on this machine "
                         f"(train it first: python -m experiments run {experiment})")
    cfg = runs[0].config
    data = c50.load_splits(cfg["data"], cfg.get("seed", 0), data_dir)
    record = {"experiment": experiment, "config_hash": runs[0].id.split("-", 1)[1],
              **evaluate_ensemble(runs, data),
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "git": git_state(),
              "device": device(), "versions": versions()}
    atomic_write_json(runs_dir(root) / experiment / FILE, record)
    return record


def read(experiment: str, root=None) -> dict | None:
    from core.records import runs_dir
    return read_json(runs_dir(root) / experiment / FILE)
