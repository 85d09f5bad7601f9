"""Train one config with one seed and persist it as a run record.

train_run() is the single path used by the CLI, the app's background jobs and
the tests. It is idempotent: a finished run with the same config and seed is
skipped; an interrupted one resumes from its last finished epoch.
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from core import envinfo
from core.config import validate
from core.runtime import Interrupted, worker_name  # noqa: F401 (Interrupted: as always imported from here)
from core.records import (COSMETIC, MAX_MODEL_BYTES, Run, atomic_write_json, holder, now, read_json, run_id,
                          LOCK_NAME, run_lock, runs_dir)


class RunBusy(RuntimeError):
    """Another live process is writing this run (it holds the run's lock)."""


class RunUnreadable(RuntimeError):
    """The run's folder holds damaged records; training would write over them."""


# How long a trainer waits for a run's lock: a reader checking the status
# holds it for an instant, a trainer for the whole run.
LOCK_WAIT_S = 3.0


def run_path(config: dict, root=None) -> Path:
    return runs_dir(root) / config["experiment"] / run_id(config)


def train_run(config: dict, root=None, data_dir=None, force=False, verbose=1,
              on_epoch=None, keep_state=False) -> tuple[Run, str]:
    """Returns (run, outcome) with outcome one of done / skipped.
    Raises KeyboardInterrupt subclasses after marking the run interrupted.

    keep_state keeps the last epoch's training state (weights, optimizer,
    callback counters) in `final_state/` so that a run declaring
    `train.continue_from` this experiment can go on from it."""
    validate(config)
    path = run_path(config, root)
    from filelock import Timeout
    lock = run_lock(path, timeout=LOCK_WAIT_S)
    try:
        lock.acquire()
    except Timeout:
        run = Run(path)
        raise RunBusy(f"{run.ref} is being trained by another process ({holder(run.meta)})") from None
    try:
        return _train_locked(config, path, root, data_dir, force, verbose, on_epoch, keep_state)
    finally:
        lock.release()


def _train_locked(config, path, root, data_dir, force, verbose, on_epoch, keep_state):
    run = Run(path)
    if run.has_records():
        status, error = run.check()
        if error and not force:
            raise RunUnreadable(f"{run.ref} cannot be resumed: {error}. Nothing was changed; "
                                "move the folder away, or pass --force to train it again from scratch")
        if status == "done" and not force:
            return run, "skipped"
        if force:  # from scratch: everything but the lock we hold
            for p in path.iterdir():
                if p.name != LOCK_NAME:
                    shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    path.mkdir(parents=True, exist_ok=True)
    stored = read_json(path / "config.json")
    if stored is None:
        atomic_write_json(path / "config.json", config)

    meta = read_json(path / "meta.json", {}) or {}
    continued = _continue(config, root, path) if not meta.get("sessions") else None
    if continued:
        meta["continued_from"] = continued
    sessions = meta.get("sessions", [])
    meta.update({
        "status": "running", "pid": os.getpid(), "host": envinfo.host(),
        "started": meta.get("started", now()), "ended": None,
        "git": envinfo.git_state(), "versions": envinfo.versions(),
        "device": envinfo.device(), "seed": config["seed"],
        # the executor's worker (core/executor.py) training it, if any
        "worker": worker_name(),
    })
    # Where training really picks up: Keras's own backup, not history.csv,
    # which can hold epochs whose state was never saved (or was lost with
    # another machine, when the run starts over from epoch 0).
    from core.callbacks import backup_epoch
    sessions.append({"started": now(), "resumed_from_epoch": backup_epoch(path / "backup")})
    meta["sessions"] = sessions
    atomic_write_json(path / "meta.json", meta)

    def finish(status, **extra):
        m = read_json(path / "meta.json", {}) or {}
        m.update({"status": status, "ended": now(), **extra})
        atomic_write_json(path / "meta.json", m)

    # SIGTERM (kill, the app's Cancel) becomes a clean interruption.
    prev = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _raise_interrupted)
    except ValueError:  # not the main thread: leave signals alone
        prev = None
    def cancel_asked() -> bool:
        cancel_file = os.environ.get("CNNLAB_CANCEL_FILE")
        return (path / "CANCEL").exists() or bool(cancel_file and Path(cancel_file).exists())

    _SIGNALLED.clear()
    try:
        if cancel_asked():  # pressed while the job was still starting: train nothing
            raise Interrupted("cancelled before training began")
        summary = _fit_and_evaluate(config, path, data_dir, verbose, on_epoch,
                                    stop_asked=lambda: bool(_SIGNALLED) or cancel_asked())
        if _SIGNALLED or cancel_asked():
            # The signal's exception was swallowed on its way up (seen under
            # load: fit returned early and the run would read `done`).
            raise Interrupted(f"signal {_SIGNALLED[0]}" if _SIGNALLED else "cancelled")
    except KeyboardInterrupt:
        finish("cancelled" if cancel_asked() else "interrupted")
        raise
    except BaseException as e:
        if _SIGNALLED or cancel_asked():
            # Stopping was asked, and the stop surfaced as another error: a
            # signal landing inside a library's write (h5py, TensorFlow) comes
            # out as its OSError or RuntimeError. The run was stopped, not broken.
            finish("cancelled" if cancel_asked() else "interrupted",
                   stopped_by=f"{type(e).__name__}: {e}")
            raise Interrupted(f"stopped as asked ({type(e).__name__})") from e
        finish("failed", error=f"{type(e).__name__}: {e}")
        raise
    finally:
        if prev is not None:
            signal.signal(signal.SIGTERM, prev)
        from core.devices import release
        release()
    continued = read_json(path / "meta.json", {}).get("continued_from")
    if continued:
        summary["continued_from"] = continued
    atomic_write_json(path / "summary.json", summary)
    shutil.rmtree(path / "final_state", ignore_errors=True)
    if keep_state and (path / "backup").is_dir():
        (path / "backup").rename(path / "final_state")
    shutil.rmtree(path / "backup", ignore_errors=True)
    finish("done")
    return run, "done"


# Keys that may differ between a run and the one it continues: its name, the
# fields that never change a result, and the epoch budget. Everything else
# (data, model, optimizer, callbacks, seed) must match, or the first epochs
# would not be the ones this config trains.
_CONTINUE_FREE = (set(COSMETIC) - {"seed"}) | {"experiment"}
_CONTINUE_FREE_TRAIN = {"epochs", "continue_from"}


def _protocol(config: dict) -> dict:
    out = {k: v for k, v in config.items() if k not in _CONTINUE_FREE}
    out["train"] = {k: v for k, v in config["train"].items() if k not in _CONTINUE_FREE_TRAIN}
    return out


def continuation_source(config: dict, root=None) -> Run | None:
    """The finished run of `train.continue_from` (same seed, same protocol but
    a smaller or equal epoch budget) whose last training state was kept."""
    parent = config["train"].get("continue_from")
    if not parent:
        return None
    for cand in sorted((runs_dir(root) / parent).glob(f"s{config['seed']}-*")):
        run = Run(cand)
        if (run.status == "done" and (cand / "final_state" / "state.json").is_file()
                and _protocol(run.config) == _protocol(config)
                and run.config["train"]["epochs"] <= config["train"]["epochs"]):
            return run
    return None


def _continue(config: dict, root, path: Path) -> dict | None:
    """Start a fresh run from its parent's last epoch instead of epoch 0.

    Same seed and protocol, so the first epochs of the longer run are the
    parent's epochs (up to the numerical noise of any resume). If the parent
    was stopped early, the longer budget changes nothing: the copy is marked
    finished and only evaluated. Without a kept parent state the run simply
    trains from scratch (meta.json then has no `continued_from`)."""
    parent = continuation_source(config, root)
    if parent is None or (path / "backup").exists():
        return None
    # Copied beside, then renamed: a copy cut short is never taken for a backup.
    partial = path / "backup.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(parent.path / "final_state", partial)
    state = read_json(partial / "state.json", {}) or {}
    by_epoch = state.get("by_epoch", {})
    last = by_epoch[max(by_epoch, key=int)] if by_epoch else {}
    stopped = bool((last.get("early_stopping") or {}).get("stopped_epoch"))
    if not stopped:
        state.pop("finished", None)  # more epochs to train
        state.pop("final_best_file", None)
        atomic_write_json(partial / "state.json", state)
    shutil.copy2(parent.path / "history.csv", path / "history.csv")
    partial.rename(path / "backup")
    return {"run": parent.ref, "epochs": len(parent.history), "stopped_early": stopped,
            "git": parent.meta.get("git")}


_SIGNALLED: list[int] = []  # signals received during the current run


def _raise_interrupted(signum, frame):
    _SIGNALLED.append(signum)
    raise Interrupted(f"signal {signum}")


def _fit_and_evaluate(config, path: Path, data_dir, verbose, on_epoch, stop_asked=None) -> dict:
    import keras

    from core.callbacks import EpochHistory, StopWhenAsked, TrainingState, check_backup
    from core.devices import spread
    from core.registry import build_model
    from core.task import get_task

    t_start = time.perf_counter()
    seed = config["seed"]
    keras.utils.set_random_seed(seed)
    tcfg = config["train"]
    policy = "float32"
    if tcfg.get("mixed_precision") and envinfo.device()["gpus"]:
        policy = "mixed_float16"  # only worth it (and only fast) on a GPU
    keras.mixed_precision.set_global_policy(policy)

    task = get_task(config["data"]["dataset"])
    data = task.load(config, data_dir)
    # train.devices: each batch spread over several devices (core/devices.py);
    # the model and its optimizer are made inside the backend's scope for it.
    scope, devices = spread(tcfg.get("devices"))
    with scope:
        model = build_model(config["model"]["name"], **task.model_kwargs(config, data))
        opt = make_optimizer(tcfg, len(data["y_train"]))
        task.compile(model, opt, config, data)

    backup = path / "backup"
    # A torn backup falls back to Keras's previous checkpoint or starts over.
    resumed, note = check_backup(backup)
    if note:
        m = read_json(path / "meta.json", {}) or {}
        m.setdefault("sessions", [{}])[-1].update(resumed_from_epoch=resumed, resume_note=note)
        atomic_write_json(path / "meta.json", m)
    stateful = {}
    es_cfg, rl_cfg = tcfg.get("early_stopping"), tcfg.get("reduce_lr")
    if es_cfg:
        es_cfg = {k: v for k, v in es_cfg.items() if k != "restore_best_weights"}
        # Best weights are restored by TrainingState from disk (survives resume).
        stateful["early_stopping"] = keras.callbacks.EarlyStopping(**es_cfg, verbose=1)
    if rl_cfg:
        stateful["reduce_lr"] = keras.callbacks.ReduceLROnPlateau(**rl_cfg, verbose=1)
    restore_best = tcfg.get("restore_best", bool(es_cfg))
    # The best epoch by what early stopping watches when that is a loss
    # (TrainingState keeps the lowest); by val_loss otherwise.
    monitor = (es_cfg or {}).get("monitor", "val_loss")
    state = TrainingState(backup, stateful, monitor=monitor if monitor.endswith("loss") else "val_loss",
                          keep_best=restore_best)
    # The task's first, so what it adds to an epoch's logs reaches the history and the callbacks.
    callbacks = [*task.callbacks(config, data), EpochHistory(path / "history.csv", backup, on_epoch),
                 *stateful.values(), state]
    if stop_asked is not None:
        callbacks.insert(0, StopWhenAsked(stop_asked))
    if tcfg.get("tensorboard"):
        callbacks.append(keras.callbacks.TensorBoard(str(path / "tb")))
    callbacks.append(keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True,
                                                      delete_checkpoint=False))

    already = read_json(backup / "state.json", {}) or {}
    if already.get("finished"):
        # Training ended but the process died before the summary: evaluate only.
        model.load_weights(backup / "latest.weights.h5")
        state.set_model(model)
        state.best_file = already.get("final_best_file")
        state.best_epoch = int(state.best_file.split("-e")[1].split(".")[0]) if state.best_file else 0
    else:
        args, fit_kwargs = task.fit_inputs(config, data)
        model.fit(*args, epochs=tcfg["epochs"], callbacks=callbacks, verbose=verbose, **fit_kwargs)
    restored = state.restore_best()

    t_eval = time.perf_counter()
    test = task.evaluate(model, data, path, config)
    eval_seconds = time.perf_counter() - t_eval

    from core.records import read_history
    hist = read_history(path / "history.csv")
    best_row = min(hist, key=lambda r: r.get("val_loss", float("inf"))) if hist else {}
    secs = sorted(r["seconds"] for r in hist)
    model_bytes = _save_model(model, path)
    return {
        "epochs_run": len(hist),
        "epochs_budget": tcfg["epochs"],
        "stopped_early": len(hist) < tcfg["epochs"],
        "restored_best_epoch": restored,
        "best_epoch": best_row.get("epoch"),
        "best": {k: v for k, v in best_row.items() if k not in ("epoch", "seconds")},
        "final": {k: v for k, v in (hist[-1] if hist else {}).items() if k not in ("epoch",)},
        "test": {k: float(v) for k, v in test.items()},
        "params": int(model.count_params()),
        "n_train": int(len(data["y_train"])), "n_val": int(len(data["y_val"])),
        "n_test": int(len(data["y_test"])),
        "train_seconds": round(sum(secs), 2),
        "seconds_per_epoch_median": secs[len(secs) // 2] if secs else None,
        "eval_seconds": round(eval_seconds, 3),
        "wall_seconds_this_session": round(time.perf_counter() - t_start, 2),
        "model_file": "model.keras" if model_bytes else None,
        "precision_policy": keras.mixed_precision.global_policy().name,
        "devices": devices or None,  # the devices each batch was spread over (train.devices)
    }


def make_optimizer(tcfg: dict, n_train: int):
    """The optimizer a train config names. `weight_decay` is Keras's decoupled
    decay (each step w -= lr * wd * w, as in AdamW), not an L2 loss term."""
    import keras
    optimizers = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
                  "rmsprop": keras.optimizers.RMSprop}
    lr = tcfg.get("learning_rate", 1e-3)
    if tcfg.get("lr_schedule") == "cosine":
        steps = -(-n_train // tcfg["batch_size"]) * tcfg["epochs"]
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=steps)
    extra = {"weight_decay": tcfg["weight_decay"]} if tcfg.get("weight_decay") else {}
    return optimizers[tcfg.get("optimizer", "adam")](learning_rate=lr, **extra)


def _save_model(model, path: Path) -> int | None:
    """Save an inference copy: same layers and weights, no optimizer state
    (which would triple the file for nothing a reader of the run needs)."""
    import keras

    tmp = path / ".model.tmp.keras"
    # from_config keeps the layer names of the seed's tables (clone_model
    # renames them) and, unlike clone_model, does not carry the compile state.
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    clone.save(tmp)
    size = tmp.stat().st_size
    if size > MAX_MODEL_BYTES:
        tmp.unlink()
        return None
    os.replace(tmp, path / "model.keras")
    return size
