"""Seed ensembles of captcha models: several networks' probabilities averaged.

A single network is what the experiments compare; an ensemble is another kind
of reader (N networks, N times the work per captcha), so it is measured and
shown as its own row, never folded into an experiment's mean.

- EnsembleReader reads with several model files at once (the command line's
  repeated --model): each head's 19 probabilities are averaged over the
  members, then the most probable character is taken.
- measure(experiment) scores the ensemble of an experiment's finished runs on
  that experiment's own test split, prepared as its runs were evaluated, and
  writes runs/<experiment>/ensemble.json (members, git commit, figures) and
  ensemble-predictions.csv (one row per test image, as predictions.csv).
  Pages score that file against the audit files of the day, like the runs.

Members are read through their ONNX exports where current (no TensorFlow),
else through Keras; both read the same prepared input (onnx.json checked the
export against the model on the whole test split).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from experiments.captcha.light import ModelNotFound
from experiments.captcha.recognizer import Reader, open_reader

FILE, PREDICTIONS = "ensemble.json", "ensemble-predictions.csv"


class EnsembleReader(Reader):
    """Averaged probabilities of several captcha models that read the same
    prepared image (same preprocessing, options and input shape)."""

    def __init__(self, model_paths, trim_borders: bool = True, threads: int = 1):
        if len(model_paths) < 2:
            raise ModelNotFound("an ensemble needs two models or more")
        self.members = [open_reader(p, trim_borders=trim_borders, threads=threads) for p in model_paths]
        first = self.members[0]
        for m in self.members[1:]:
            if (m.preprocess_name, m.preprocess_options) != (first.preprocess_name, first.preprocess_options):
                raise ModelNotFound(
                    f"{m.path} prepares captchas as {m.preprocess_name} {m.preprocess_options}, "
                    f"{first.path} as {first.preprocess_name} {first.preprocess_options}: "
                    "an ensemble's models must read the same prepared image")
        self.path = first.path
        self.preprocess_name, self.preprocess_options = first.preprocess_name, first.preprocess_options
        self.model_preprocess, self.trim_borders = first.model_preprocess, trim_borders
        self.runner = f"ensemble of {len(self.members)} ({first.runner})"

    def fast_single(self) -> bool:
        return all([m.fast_single() for m in self.members])

    def warm_up(self) -> None:
        for m in self.members:
            if hasattr(m, "warm_up"):
                m.warm_up()

    def _probs(self, x: np.ndarray) -> np.ndarray:
        return np.mean([m._probs(x) for m in self.members], axis=0)


def member_runs(experiment: str, root=None) -> list:
    """The experiment's finished runs of its current declaration that kept a model file."""
    from core.results import declared_runs, with_model_file
    return declared_runs(experiment, root, keep=with_model_file)


def measure(experiment: str, root=None, data_dir=None) -> dict:
    """Score the ensemble of the experiment's finished runs on its test split
    and write ensemble.json and ensemble-predictions.csv beside its runs."""
    from core import envinfo
    from experiments.captcha import audit
    from experiments.captcha import data as cd
    from experiments.captcha import task
    from core.records import atomic_write_json, runs_dir

    runs = member_runs(experiment, root)
    if len(runs) < 2:
        raise ValueError(f"{experiment} has {len(runs)} finished run(s) with a model file; an ensemble needs two")
    cfg = runs[0].config["data"]
    items = cd.config_split(cfg, data_dir)[2]
    x = cd.preprocess_items(items, cfg["preprocess"], cfg.get("preprocess_options", {})).astype("float32") / 255
    y = cd.labels_array(items)
    t = time.perf_counter()
    members, probs = [], []
    for run in runs:
        reader = open_reader(run.path / "model.keras")
        p = np.concatenate([reader._probs(x[i:i + 256]) for i in range(0, len(x), 256)])
        probs.append(p)
        members.append({"run": run.ref, "seed": run.config.get("seed"), "runner": reader.runner})
    seconds = time.perf_counter() - t
    mean = np.mean(probs, axis=0)
    folder = Path(root or runs_dir()) / experiment
    out = folder / PREDICTIONS
    task.write_predictions(out, items, y, mean.argmax(-1), mean.max(-1))
    record = {
        "experiment": experiment, "kind": "captcha", "members": members, "n_test": len(items),
        "test_source": cfg.get("test_source"), "predictions": PREDICTIONS,
        # as computed; pages rescore the predictions against the audit files of the day
        "test": audit.accuracy(out), "seconds": round(seconds, 2),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "git": envinfo.git_state(), "device": envinfo.device(),
    }
    atomic_write_json(folder / FILE, record)
    return record


def read(experiment_folder: Path, current_runs: set[str]) -> dict | None:
    """The ensemble record of an experiment folder when every member is one of
    the experiment's current finished runs (else it is out of date: None)."""
    from core.records import read_json
    rec = read_json(Path(experiment_folder) / FILE, None)
    if not isinstance(rec, dict) or rec.get("kind") != "captcha":
        return None
    names = {m.get("run") for m in rec.get("members", []) if isinstance(m, dict)}
    if len(names) < 2 or not names <= current_runs:
        return None
    if not (Path(experiment_folder) / rec.get("predictions", PREDICTIONS)).is_file():
        return None
    return rec
