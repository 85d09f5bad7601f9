"""Callbacks that make a run recordable and resumable.

Order in fit() matters; train.py builds the list as
  [EpochHistory, EarlyStopping, ReduceLROnPlateau, TrainingState, BackupAndRestore]
so that at the end of an epoch the history row and callback state are on disk
*before* Keras's backup says the epoch is finished. A process killed anywhere
in between resumes from the backup's epoch and the history is cut back to it:
an epoch can be redone, never duplicated or lost.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import keras
import numpy as np

from core.records import atomic_write_json, read_history, read_json, write_history


def backup_epoch(backup_dir: Path) -> int:
    """Epochs finished according to BackupAndRestore's own metadata (0 if none)."""
    meta = read_json(Path(backup_dir) / "training_metadata.json", {}) or {}
    return int(meta.get("epoch", 0))


def _lr(model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


class EpochHistory(keras.callbacks.Callback):
    """Writes history.csv: one row per finished epoch, with lr and seconds."""

    def __init__(self, path: Path, backup_dir: Path, on_epoch=None):
        super().__init__()
        self.path, self.backup_dir, self.on_epoch = Path(path), Path(backup_dir), on_epoch
        self.rows: list[dict] = []

    def on_train_begin(self, logs=None):
        done = backup_epoch(self.backup_dir)
        self.rows = [r for r in read_history(self.path) if r.get("epoch", 0) <= done]
        write_history(self.path, self.rows)

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._lr = _lr(self.model)  # the rate this epoch trains with

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}
        for k, v in (logs or {}).items():
            if k == "learning_rate":
                continue
            row[k] = float(np.asarray(v))
        row["lr"] = self._lr
        row["seconds"] = round(time.perf_counter() - self._t0, 3)
        self.rows.append(row)
        write_history(self.path, self.rows)
        if self.on_epoch:
            self.on_epoch(row)


_STATE_ATTRS = {
    keras.callbacks.EarlyStopping: ("wait", "best", "best_epoch", "stopped_epoch"),
    keras.callbacks.ReduceLROnPlateau: ("wait", "best", "cooldown_counter"),
}


def _plain(v):
    if v is None:
        return None
    v = float(np.asarray(v))
    return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")


def _unplain(v):
    return float(v) if isinstance(v, str) else v


class TrainingState(keras.callbacks.Callback):
    """Persists EarlyStopping / ReduceLROnPlateau counters and the best weights,
    so a resumed run stops and decays exactly as an uninterrupted one would,
    and restores the best epoch's weights even if it was before the interruption."""

    def __init__(self, backup_dir: Path, stateful: dict, monitor="val_loss", keep_best=True):
        super().__init__()
        self.dir = Path(backup_dir)
        self.stateful = stateful
        self.monitor, self.keep_best = monitor, keep_best
        self.best, self.best_epoch, self.best_file = math.inf, 0, None
        self.finished = False

    @property
    def state_path(self):
        return self.dir / "state.json"

    def on_train_begin(self, logs=None):
        done = backup_epoch(self.dir)
        by_epoch = (read_json(self.state_path, {}) or {}).get("by_epoch", {})
        state = by_epoch.get(str(done))
        if not state:
            return
        for name, cb in self.stateful.items():
            for attr, value in state.get(name, {}).items():
                setattr(cb, attr, _unplain(value))
        self.best = _unplain(state["best"])
        self.best_epoch, self.best_file = state["best_epoch"], state["best_file"]

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.keep_best and current is not None and float(current) < self.best:
            self.best, self.best_epoch = float(current), epoch + 1
            name = f"best-e{epoch + 1}.weights.h5"
            self.model.save_weights(self.dir / name)
            self.best_file = name
        state = {"best": _plain(self.best), "best_epoch": self.best_epoch, "best_file": self.best_file}
        for name, cb in self.stateful.items():
            state[name] = {a: (_plain(getattr(cb, a)) if a in ("best",) else getattr(cb, a))
                           for a in _STATE_ATTRS[type(cb)] if hasattr(cb, a)}
        doc = read_json(self.state_path, {}) or {}
        by_epoch = doc.get("by_epoch", {})
        by_epoch[str(epoch + 1)] = state
        # Keep the two newest: the backup may still be one epoch behind us.
        keep = sorted(by_epoch, key=int)[-2:]
        doc["by_epoch"] = {k: by_epoch[k] for k in keep}
        atomic_write_json(self.state_path, doc)
        live = {by_epoch[k]["best_file"] for k in keep}
        for f in self.dir.glob("best-e*.weights.h5"):
            if f.name not in live:
                f.unlink(missing_ok=True)

    def on_train_end(self, logs=None):
        # Reached only when fit() ends normally (all epochs or early stop),
        # never on Ctrl-C: a rerun then evaluates instead of training on.
        self.finished = True
        doc = read_json(self.state_path, {}) or {}
        doc["finished"] = True
        doc["final_best_file"] = self.best_file
        atomic_write_json(self.state_path, doc)

    def restore_best(self) -> int | None:
        if self.keep_best and self.best_file and (self.dir / self.best_file).exists():
            self.model.load_weights(self.dir / self.best_file)
            return self.best_epoch
        return None
