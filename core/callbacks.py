"""Callbacks that make a run recordable and resumable.

Order in fit() matters; train.py builds the list as
  [EpochHistory, EarlyStopping, ReduceLROnPlateau, TrainingState, BackupAndRestore]
so that at the end of an epoch the history row and callback state are on disk
*before* Keras's backup says the epoch is finished. A process killed anywhere
in between resumes from the backup's epoch and the history is cut back to it:
an epoch can be redone, never duplicated or lost.

Keras writes its backup in place, not atomically. With double_checkpoint, at
the end of epoch N it (1) copies latest.weights.h5 to latest.weights.h5.bkp,
(2) copies training_metadata.json to training_metadata.json.bkp, (3) rewrites
latest.weights.h5, (4) truncates and rewrites training_metadata.json. A kill
in (3) or (4), or between them, leaves a checkpoint whose weights and epoch
disagree, which Keras would resume from silently (or fail on for ever, for an
empty metadata file). check_backup() runs before fit and settles the folder.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import keras
import numpy as np

from core.records import atomic_write_json, read_history, read_json, write_history

WEIGHTS, META = "latest.weights.h5", "training_metadata.json"
PREV_WEIGHTS, PREV_META = WEIGHTS + ".bkp", META + ".bkp"
STATE = "state.json"


def _kind(value) -> str:
    return {list: "a list", str: "a string", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _load_json(path: Path):
    """(value, None), or (None, what is wrong with the file) for a file that is
    missing, empty, cut short, binary or otherwise not JSON."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None, "was missing"
    except OSError as e:
        return None, f"could not be read ({e.strerror or e})"
    if not raw.strip():
        return None, "was empty"
    try:
        return json.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, "held binary data, not JSON"
    except ValueError:
        return None, "was cut short (not valid JSON)"


def _read_epoch(path: Path):
    """(epoch, None) from a Keras training_metadata file, or (None, why not)."""
    doc, why = _load_json(path)
    if why:
        return None, why
    if not isinstance(doc, dict):
        return None, f"held {_kind(doc)}, not a JSON object"
    epoch = doc.get("epoch")
    if type(epoch) is not int or epoch < 1:
        return None, f"had no epoch number (epoch: {json.dumps(epoch)})"
    return epoch, None


def _weights_problem(path: Path) -> str | None:
    """None for a whole HDF5 weights file, else what is wrong with it. Every
    dataset is read, so a file cut short anywhere is caught."""
    path = Path(path)
    if not path.exists():
        return "was missing"
    if path.stat().st_size == 0:
        return "was empty"
    try:
        import h5py
        found = []

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                obj[()]
                found.append(name)

        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except Exception:  # h5py raises OSError, KeyError, RuntimeError... on a torn file
        return "was not a whole weights file (cut short or damaged)"
    return None if found else "held no weights"


def backup_epoch(backup_dir: Path) -> int:
    """Epochs finished according to BackupAndRestore's own metadata (0 if none,
    or if the metadata is not readable: check_backup() says what to do then)."""
    epoch, _ = _read_epoch(Path(backup_dir) / META)
    return epoch or 0


def _state_entry(state, epoch: int, backup_dir: Path) -> str | None:
    """None if state.json can restore the callbacks at `epoch`, else why not."""
    if not isinstance(state, dict):
        return f"backup/{STATE} held {_kind(state)}, not a JSON object"
    by_epoch = state.get("by_epoch")
    entry = by_epoch.get(str(epoch)) if isinstance(by_epoch, dict) else None
    if not isinstance(entry, dict) or not {"best", "best_epoch", "best_file"} <= set(entry):
        return f"backup/{STATE} had no callback state for epoch {epoch}"
    best = entry["best_file"]
    if best is not None:
        if not isinstance(best, str) or "/" in best or "\\" in best:
            return f"backup/{STATE} named no usable best-weights file for epoch {epoch}"
        why = _weights_problem(Path(backup_dir) / best)
        if why:
            return f"backup/{best} {why}"
    return None


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def _copy_atomic(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.restore.tmp")
    shutil.copyfile(src, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dst)


def _leftovers(d: Path) -> list[Path]:
    """Temporary files of writes cut short before their rename (atomic_write_*'s
    `.name.XXXX.tmp`, TrainingState's `.best-eN.tmp.weights.h5`)."""
    return sorted({*d.glob(".*.tmp"), *d.glob(".*.tmp.weights.h5")})


def _history_rows(history_path: Path) -> list[dict] | None:
    """history.csv's rows as written (strings), each with its epoch as an int
    under "epoch"; None when the file cannot be read as CSV text. Read here, not
    with read_history, so that a damaged history is repaired rather than
    refused, and the rows kept are written back unchanged."""
    try:
        text = Path(history_path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError):
        return None
    if "\x00" in text:
        return None
    rows = []
    try:
        for r in csv.DictReader(io.StringIO(text, newline="")):
            try:
                epoch = int(r.get("epoch") or "")
            except ValueError:
                continue
            rows.append({k: v for k, v in r.items() if k is not None} | {"epoch": epoch})
    except csv.Error:
        return None
    return rows


def check_backup(backup_dir: Path, history_path: Path | None = None) -> tuple[int, str | None]:
    """Settle a resume backup before fit: returns (epoch to resume from, note).

    A checkpoint is used only when its metadata, its weights, state.json's
    callback state for its epoch (and the best weights that names) are all
    whole and history.csv holds each of its epochs. The newest checkpoint
    Keras keeps is tried first, then the previous one (double_checkpoint),
    which is then copied over the newest so that Keras resumes from it. With
    neither whole the backup is deleted and training starts over. Either way
    history.csv is cut back to exactly one row for each epoch resumed from.

    `note` is None when nothing was wrong; otherwise it says what was found
    and done (also printed on stderr) for meta.json's session entry."""
    d = Path(backup_dir)
    history_path = Path(history_path) if history_path else d.parent / "history.csv"
    if not d.is_dir():
        return 0, None
    notes = []
    for f in _leftovers(d):
        f.unlink(missing_ok=True)
        notes.append(f"removed backup/{f.name} (a write cut short before its rename)")

    files = {n: d / n for n in (WEIGHTS, META, PREV_WEIGHTS, PREV_META)}
    state, state_why = _load_json(d / STATE)
    if state_why:
        state = None
    if not any(p.exists() for p in files.values()):
        # No checkpoint: killed before Keras's first backup (state.json may
        # hold epoch 1 already), or the folder half deleted. Start clean, so
        # that no stale callback state outlives it.
        by_epoch = state.get("by_epoch") if isinstance(state, dict) else None
        stale = isinstance(state, dict) and (state.get("finished") or (
            isinstance(by_epoch, dict) and set(by_epoch) - {"1"}))
        shutil.rmtree(d, ignore_errors=True)
        if stale:
            notes.append(f"backup/{STATE} held callback state but there was no checkpoint")
            return _start_over(d, history_path, notes)
        return 0, _report(d, "; ".join(notes) or None)

    def checkpoint(weights, meta):
        epoch, why = _read_epoch(files[meta])
        if why:
            return None, f"backup/{meta} {why}"
        why = _weights_problem(files[weights])
        if why:
            return None, f"backup/{weights} {why}"
        return epoch, None

    latest, latest_why = checkpoint(WEIGHTS, META)
    prev, prev_why = (checkpoint(PREV_WEIGHTS, PREV_META)
                      if files[PREV_WEIGHTS].exists() or files[PREV_META].exists()
                      else (None, "there was no previous checkpoint"))
    if latest is not None and latest == prev and not _same_bytes(files[WEIGHTS], files[PREV_WEIGHTS]):
        # Between steps (3) and (4): the copies say the same epoch, so the
        # weights must be the same file; new weights mean the epoch's metadata
        # was never written.
        latest, latest_why = None, (f"backup/{WEIGHTS} was newer than {META} "
                                    "(a kill between writing the two)")

    rows = _history_rows(history_path)
    have = {r["epoch"] for r in rows or []}
    problems = []
    for epoch, why, is_prev in ((latest, latest_why, False), (prev, prev_why, True)):
        if epoch is None:
            problems.append(why)
            continue
        why = f"backup/{STATE} {state_why}" if state_why else _state_entry(state, epoch, d)
        if not why and not set(range(1, epoch + 1)) <= have:
            why = ("history.csv could not be read" if rows is None
                   else f"history.csv lacked some of the {epoch} epochs backed up")
        if why:
            problems.append(why)
            continue
        if is_prev:
            _copy_atomic(files[PREV_WEIGHTS], files[WEIGHTS])
            _copy_atomic(files[PREV_META], files[META])
            notes += problems + [f"resumed from the previous checkpoint (epoch {epoch})"]
        _settle_state(d, state, epoch)
        dups = _cut_history(history_path, rows, epoch)
        if dups:
            notes.append(f"history.csv held epoch{'s' if len(dups) > 1 else ''} "
                         f"{', '.join(map(str, dups))} twice: kept one row each")
        return epoch, _report(d, "; ".join(notes) or None)
    # Nothing whole to resume from. Say first why the newest checkpoint failed.
    return _start_over(d, history_path, notes + list(dict.fromkeys(problems)))


def _settle_state(d: Path, state: dict, epoch: int) -> None:
    """Forget callback state from epochs after `epoch` (to be trained again),
    and that training had finished if it finished later than `epoch`."""
    by_epoch = state["by_epoch"]
    later = [k for k in by_epoch if not k.isdigit() or int(k) > epoch]
    if later:
        doc = dict(state, by_epoch={k: v for k, v in by_epoch.items() if k not in later})
        doc.pop("finished", None)
        doc.pop("final_best_file", None)
        atomic_write_json(d / STATE, doc)


def _cut_history(path: Path, rows: list[dict], epoch: int) -> list[int]:
    """Keep one row per epoch 1..epoch (the last written: a retrained epoch's
    row follows the one it replaces); returns the epochs that had two."""
    by_epoch: dict[int, dict] = {}
    dups = []
    for r in rows:
        if 1 <= r["epoch"] <= epoch:
            if r["epoch"] in by_epoch:
                dups.append(r["epoch"])
            by_epoch[r["epoch"]] = r
    kept = [by_epoch[e] for e in range(1, epoch + 1)]
    if dups or len(kept) != len(rows):
        write_history(path, kept)
    return sorted(set(dups))


def _start_over(d: Path, history_path: Path, notes: list[str]) -> tuple[int, str]:
    shutil.rmtree(d, ignore_errors=True)
    if history_path.exists():
        write_history(history_path, [])
    return 0, _report(d, "; ".join(notes) + ": restarted from epoch 0")


def _report(d: Path, note: str | None) -> str | None:
    if note:
        print(f"{d.parent.parent.name}/{d.parent.name}: {note}", file=sys.stderr)
    return note


def current_lr(model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def epoch_row(epoch: int, logs: dict | None, lr: float | None, seconds: float) -> dict:
    """history.csv's row of one finished epoch (0-based `epoch`): its logs
    (Keras's learning_rate aside: `lr` is the rate the epoch trained with),
    lr and seconds. The engine's EpochHistory and core/recorder.py write it."""
    row = {"epoch": epoch + 1}
    for k, v in (logs or {}).items():
        if k != "learning_rate":
            row[k] = float(np.asarray(v))
    if lr is not None:
        row["lr"] = lr
    row["seconds"] = round(seconds, 3)
    return row


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
        self._lr = current_lr(self.model)  # the rate this epoch trains with

    def on_epoch_end(self, epoch, logs=None):
        row = epoch_row(epoch, logs, self._lr, time.perf_counter() - self._t0)
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


class StopWhenAsked(keras.callbacks.Callback):
    """Raises Interrupted between batches once `asked()` is true (a SIGTERM was
    received, or the job's CANCEL file appeared).

    The SIGTERM handler raises too, but a signal's exception raised while a
    finalizer or a library's broad `except` is on the stack is swallowed there
    (seen under load: Cancel pressed, the 500-epoch job trained on). This
    check is the one that cannot be lost. Raising, not `stop_training`, keeps
    on_train_end from running, so the run is not marked finished."""

    def __init__(self, asked):
        super().__init__()
        self.asked = asked

    def _check(self, *_args, **_kw):
        # A list's truth and a file's stat: microseconds, against a batch's milliseconds.
        if self.asked():
            from core.runtime import Interrupted
            raise Interrupted("cancel asked during training")

    # Begin hooks: called in the training thread and, unlike the *_batch_end
    # hooks, they leave Keras free to dispatch the others asynchronously.
    on_train_batch_begin = on_epoch_begin = on_test_batch_begin = _check


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

    def _doc(self) -> dict:
        doc = read_json(self.state_path, {})
        return doc if isinstance(doc, dict) else {}

    def on_train_begin(self, logs=None):
        # check_backup() has made sure this entry is whole when done > 0.
        done = backup_epoch(self.dir)
        by_epoch = self._doc().get("by_epoch")
        state = by_epoch.get(str(done)) if isinstance(by_epoch, dict) else None
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
            # Beside, then renamed: a kill mid-write never leaves a torn best file
            # under the name state.json may come to point at.
            tmp = self.dir / f".best-e{epoch + 1}.tmp.weights.h5"
            self.model.save_weights(tmp)
            os.replace(tmp, self.dir / name)
            self.best_file = name
        state = {"best": _plain(self.best), "best_epoch": self.best_epoch, "best_file": self.best_file}
        for name, cb in self.stateful.items():
            state[name] = {a: (_plain(getattr(cb, a)) if a in ("best",) else getattr(cb, a))
                           for a in _STATE_ATTRS[type(cb)] if hasattr(cb, a)}
        doc = self._doc()
        by_epoch = doc.get("by_epoch")
        # Entries past this epoch are from a timeline abandoned by a resume.
        by_epoch = {k: v for k, v in by_epoch.items() if k.isdigit() and int(k) <= epoch
                    } if isinstance(by_epoch, dict) else {}
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
        doc = self._doc()
        doc["finished"] = True
        doc["final_best_file"] = self.best_file
        atomic_write_json(self.state_path, doc)

    def restore_best(self) -> int | None:
        if self.keep_best and self.best_file and (self.dir / self.best_file).exists():
            self.model.load_weights(self.dir / self.best_file)
            return self.best_epoch
        return None
