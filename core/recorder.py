"""Record a run from one's own `model.fit`, as this project's engine would.

    from core.recorder import RunRecorder
    recorder = RunRecorder(study="my-study", experiment="bn", seed=0,
                           config={"batch_norm": True, "lr": 1e-3}, baseline="plain")
    model.fit(x, y, validation_split=0.1, epochs=20, callbacks=[recorder])
    recorder.evaluate(x_test, y_test)   # the test figures the report compares

That writes <runs>/bn/s0-<hash>/ with config.json, meta.json, history.csv and
summary.json (and model.keras with save_model=True): the same record, under
the same run lock, each file written whole (core/own.py). `runs_dir`
defaults to the folder the app reads one's runs from (core.records.
user_runs_dir()), so the next `streamlit run streamlit_app.py` shows the study.

Statuses follow the engine's rules. While fit runs, the run is `running`
and this process holds its lock; it is `done` when fit ends. Ctrl-C (or a
notebook's Stop) marks it `interrupted` before the interrupt goes on; a
process that dies mid-fit leaves a free lock, which readers prove
`interrupted`. An exception inside fit reaches no callback: use the recorder
as a context manager (`with RunRecorder(...) as r: model.fit(..., callbacks=[r])`)
to have it marked `failed` with the error, or a new recorder of the same run
in this process takes it over.

Only Keras's callback API is used, so it records on every Keras backend.
"""
from __future__ import annotations

import atexit
import signal
import threading
import time
from pathlib import Path

import keras

from core import own
from core.callbacks import current_lr, epoch_row
from core.records import (Run, atomic_write_json, check_record, now, read_history, read_json, run_id, run_lock,
                          user_runs_dir, write_history)

# run folder -> the recorder of this process that holds its lock (a notebook
# cell run again takes its run over from the earlier recorder)
_HOLDING: dict[str, "RunRecorder"] = {}


class RunRecorder(keras.callbacks.Callback):
    """A Keras callback that writes a complete run record of the fit it is
    passed to. `config` is one's own (any JSON: numbers, strings, lists,
    dicts) and, with the experiment, the model's name and the epoch budget,
    makes the run's identity. `baseline` names the experiment of the study
    the others are judged against; `metric` the figure compared
    ("test_accuracy" by default, else "val_accuracy" or "best_val_accuracy");
    `title`, `study_title` and `text` are the report's words; `compare_with`
    names one of this project's experiments to be shown beside. A done run
    with this id is refused unless overwrite=True."""

    def __init__(self, study: str, experiment: str, seed: int = 0, config: dict | None = None, *,
                 runs_dir=None, baseline: str | None = None, metric: str | None = None,
                 title: str | None = None, study_title=None, text=None, dataset: str = "own",
                 save_model: bool = False, overwrite: bool = False, compare_with: str | None = None):
        super().__init__()
        self.words = dict(study=study, experiment=experiment, seed=seed, params=config, baseline=baseline,
                          metric=metric, title=title, study_title=study_title, text=text, dataset=dataset,
                          compare_with=compare_with)
        # Checked now, before any training: a bad name, a config that is not
        # JSON or a name taken fails at this line, not after the first epoch.
        from core.study import owners
        self.root = Path(runs_dir).expanduser() if runs_dir else user_runs_dir()
        own.check_folder(self.root, own.make_config(**self.words, origin="recorded", epochs=1), owners())
        self.save_model, self.overwrite = save_model, overwrite
        self.path: Path | None = None
        self._lock = None
        self._rows: list[dict] = []
        self._test: dict = {}
        self._prev_sigint = None

    # --- where the run is ---------------------------------------------------------

    @property
    def run(self) -> Run | None:
        return None if self.path is None else Run(self.path)

    def _config(self, epochs: int) -> dict:
        name = getattr(self.model, "name", None) or "own"
        return own.make_config(**self.words, origin="recorded", epochs=epochs, model=name)

    # --- the fit ------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        epochs = int((self.params or {}).get("epochs") or 1)
        config = self._config(epochs)
        path = self.root / config["experiment"] / run_id(config)
        self._take_lock(path)
        run = Run(path)
        status = run.check()[0] if run.has_records() else None
        if status == "done" and not self.overwrite:
            self._release()
            raise own.OwnRunError(f"{run.ref} is already recorded (done) in {self.root}: pass overwrite=True "
                                  "to record it again, or another seed")
        self.path = path
        keep = read_history(path / "history.csv") if status not in (None, "done") else []
        self._rows = keep  # cut to the first epoch this fit trains (initial_epoch) at on_epoch_begin
        self._test = {}
        for name in ("summary.json", "model.keras"):
            (path / name).unlink(missing_ok=True)
        atomic_write_json(path / "config.json", config)
        from core import envinfo
        meta = read_json(path / "meta.json", {}) or {}
        started = meta.get("started") if keep else None
        meta = {**own.base_meta(config["seed"], device=envinfo.device()), "status": "running",
                "started": started or now(), "ended": None,
                "sessions": [*(meta.get("sessions", []) if keep else []), {"started": now()}]}
        check_record("meta.json", meta)
        atomic_write_json(path / "meta.json", meta)
        write_history(path / "history.csv", self._rows)
        self._catch_interrupt()

    def on_epoch_begin(self, epoch, logs=None):
        self._rows = [r for r in self._rows if r.get("epoch", 0) <= epoch]
        self._t0 = time.perf_counter()
        self._lr = _learning_rate(self.model)

    def on_epoch_end(self, epoch, logs=None):
        self._rows.append(epoch_row(epoch, logs, self._lr, time.perf_counter() - self._t0))
        write_history(self.path / "history.csv", self._rows)

    def on_train_end(self, logs=None):
        self._restore_interrupt()
        self._write_summary()
        self._set_status("done")
        self._release()

    # --- after the fit ------------------------------------------------------------

    def evaluate(self, x=None, y=None, **kwargs) -> dict:
        """model.evaluate on the test set, its figures written to the run's
        summary (as `test`); returned as a dict."""
        if self.path is None:
            raise own.OwnRunError("evaluate() comes after model.fit(..., callbacks=[this recorder])")
        kwargs.setdefault("verbose", 0)
        out = self.model.evaluate(x, y, return_dict=True, **kwargs)
        n = None if y is None or not hasattr(y, "__len__") else len(y)
        return self.record_test(n_test=n, **out)

    def record_test(self, n_test: int | None = None, **metrics) -> dict:
        """Test figures computed elsewhere (accuracy=0.93, loss=...), written
        to the run's summary."""
        if self.path is None:
            raise own.OwnRunError("record_test() comes after model.fit(..., callbacks=[this recorder])")
        self._test.update(own.finite_metrics(metrics))
        self._write_summary(n_test=n_test)
        return own.with_accuracy(dict(self._test))

    def _write_summary(self, n_test=None):
        old = read_json(self.path / "summary.json", {}) or {}
        model_file = old.get("model_file")
        if self.save_model and model_file is None:
            from core.train import _save_model
            model_file = "model.keras" if _save_model(self.model, self.path) else None
        params = None
        try:
            params = int(self.model.count_params())
        except (ValueError, AttributeError):  # a model never built
            pass
        summary = own.summarize(self._rows, int((self.params or {}).get("epochs") or len(self._rows)),
                                test=self._test, params=params, model_file=model_file,
                                n_test=n_test if n_test is not None else old.get("n_test"))
        atomic_write_json(self.path / "summary.json", summary)

    # --- status -------------------------------------------------------------------

    def _set_status(self, status: str, **extra):
        meta = read_json(self.path / "meta.json", {}) or {}
        meta.update({"status": status, "ended": now(), **extra})
        atomic_write_json(self.path / "meta.json", meta)

    def _take_lock(self, path: Path):
        from filelock import Timeout
        earlier = _HOLDING.get(str(path))
        if earlier is not None and earlier is not self:
            earlier._abandon("interrupted", stopped_by="a new recorder of this run took it over")
        elif earlier is self:
            self._release()
        self._lock = run_lock(path)
        try:
            self._lock.acquire()
        except Timeout:
            self._lock = None
            holder = read_json(path / "meta.json", {}) or {}
            raise own.OwnRunError(f"{path.parent.name}/{path.name} is being recorded by another process "
                                  f"({holder.get('host', '?')}:{holder.get('pid', '?')})") from None
        _HOLDING[str(path)] = self

    def _release(self):
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self.path is not None and _HOLDING.get(str(self.path)) is self:
            del _HOLDING[str(self.path)]

    def _abandon(self, status: str, **extra):
        """End a fit that did not end (interrupted, failed, taken over): say so
        on disk, then free the run."""
        self._restore_interrupt()
        if self.path is not None and self._lock is not None:
            self._set_status(status, **extra)
        self._release()

    def _catch_interrupt(self):
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGINT)

        def interrupted(signum, frame):
            self._abandon("interrupted", stopped_by="Ctrl-C")
            if callable(previous):
                return previous(signum, frame)
            raise KeyboardInterrupt
        self._prev_sigint = previous
        signal.signal(signal.SIGINT, interrupted)

    def _restore_interrupt(self):
        if self._prev_sigint is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._prev_sigint)
        self._prev_sigint = None

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if self._lock is not None:  # fit did not reach its end
            if kind is None:
                self._abandon("interrupted", stopped_by="the with-block ended during fit")
            elif issubclass(kind, KeyboardInterrupt):
                self._abandon("interrupted", stopped_by="Ctrl-C")
            else:
                self._abandon("failed", error=f"{kind.__name__}: {error}")
        return False


def _learning_rate(model) -> float | None:
    """The engine's reading of the rate (core/callbacks.py), or None for a
    model compiled without an optimizer that has one."""
    try:
        return current_lr(model)
    except (AttributeError, TypeError, ValueError):
        return None


@atexit.register
def _exit_during_fit():
    """A script that ends (an exception, sys.exit) while fit still runs."""
    for recorder in list(_HOLDING.values()):
        recorder._abandon("interrupted", stopped_by="the process ended during fit")
