"""Seed ensembles and flip test-time augmentation for a 50-class experiment.

A single network is what the study compares; an ensemble is a different kind
of model (N networks, N times the inference cost), so it is measured and
reported as its own row, never folded into an experiment's mean. The record,
runs/<experiment>/ensemble.json, names its members, so a reader can tell when
more seeds have finished since it was computed.

Members are the experiment's finished runs of the current declaration. Their
softmax outputs on the test split are averaged; "flip" also averages each
model's outputs on the horizontally mirrored image (a left-right mirror is
still the same object; an up-down one often is not). Those outputs come from
the run's test_probs.npz, written when it was evaluated, so an ensemble needs
neither the (uncommitted) model files nor the images; a run from before that
file existed is predicted once from its model.keras, and its file written.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np

from experiments.caltech.evaluate import PROBS, predict_test, read_probs, write_probs
from experiments.caltech.evaluate import test_figures as _figures
from core.records import Run, atomic_write_json, read_json

FILE = "ensemble.json"


def member_runs(experiment: str, root=None, experiments: dict | None = None) -> list[Run]:
    """Finished runs of the declared config whose test outputs are stored or
    can be computed (their model file is on this machine)."""
    from core.results import experiment_rows
    if experiments is None:
        from experiments.caltech.configs import EXPERIMENTS as experiments
    [row] = experiment_rows(root, {experiment: experiments[experiment]})
    return [Run(Path(p)) for p in row["run_paths"]
            if read_probs(Path(p) / PROBS) is not None or (Path(p) / "model.keras").is_file()]


def member_outputs(run: Run, load_data) -> dict:
    """The run's stored test outputs; computed from its model (and stored)
    when it predates test_probs.npz. `load_data()` gives the splits."""
    stored = read_probs(run.path / PROBS)
    if stored is not None:
        return stored
    import keras
    data = load_data()
    model = keras.saving.load_model(run.path / "model.keras", safe_mode=True)
    plain, mirrored = predict_test(model, data["x_test"])
    write_probs(run.path / PROBS, data["y_test"], plain, mirrored)
    return {"y": np.asarray(data["y_test"]), "plain": plain, "mirrored": mirrored}


def evaluate_ensemble(runs: list[Run], load_data) -> dict:
    """Per-member and averaged figures, each plain and with flip averaging."""
    plain, mirrored, members, y = [], [], [], None
    for run in runs:
        out = member_outputs(run, load_data)
        if y is None:
            y = out["y"]
        elif not np.array_equal(y, out["y"]):
            raise ValueError(f"{run.ref} was tested on another split than {runs[0].ref}")
        p, pf = out["plain"].astype("float64"), out["mirrored"].astype("float64")
        plain.append(p)
        mirrored.append(pf)
        members.append({"run": run.ref, "seed": run.config.get("seed"),
                        "test": _figures(y, p), "test_flip": _figures(y, (p + pf) / 2)})
    mean_p, mean_pf = np.mean(plain, axis=0), np.mean(mirrored, axis=0)
    return {"members": members, "n_test": int(len(y)),
            "test": _figures(y, mean_p), "test_flip": _figures(y, (mean_p + mean_pf) / 2)}


def write(experiment: str, root=None, data_dir=None, experiments: dict | None = None,
          force: bool = False) -> dict:
    """Evaluate and record the ensemble of `experiment`'s finished seeds.

    Refuses (unless `force`) to replace a record whose members include runs
    that can no longer be evaluated here: an old run whose model file is gone
    and which never stored its outputs would silently drop out of the new
    record, which would then describe a smaller ensemble than the one kept."""
    from experiments.caltech import data as c50
    from core.envinfo import device, git_state, versions
    from core.records import runs_dir
    runs = member_runs(experiment, root, experiments)
    if not runs:
        raise ValueError(f"{experiment}: no finished run with stored test outputs ({PROBS}) or a saved "
                         f"model.keras on this machine (train it first: python -m experiments run {experiment})")
    config_hash = runs[0].id.split("-", 1)[1]
    old = read(experiment, root) or {}
    # A record of another declaration (another config hash) is simply replaced.
    kept = old.get("members", []) if old.get("config_hash") == config_hash else []
    lost = sorted({m.get("run") for m in kept} - {r.ref for r in runs})
    if lost and not force:
        raise ValueError(f"{experiment}: the recorded ensemble has member(s) {', '.join(map(str, lost))} whose "
                         f"test outputs ({PROBS}) and model file are not on this machine, so a new record would "
                         f"drop them; the old record is kept (pass --force to replace it anyway)")
    cfg = runs[0].config
    # Loaded at most once, and only for runs without stored outputs.
    load_data = functools.cache(lambda: c50.load_splits(cfg["data"], cfg.get("seed", 0), data_dir))

    record = {"experiment": experiment, "config_hash": config_hash,
              **evaluate_ensemble(runs, load_data),
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "git": git_state(),
              "device": device(), "versions": versions()}
    atomic_write_json(runs_dir(root) / experiment / FILE, record)
    return record


def read(experiment: str, root=None) -> dict | None:
    from core.records import runs_dir
    return read_json(runs_dir(root) / experiment / FILE)
