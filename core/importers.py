"""Turn the logs one already has into this project's run records.

Four formats, each read with the tool's own reader where it has one:
  csvlogger    a file written by keras.callbacks.CSVLogger
  history      a JSON file of `model.fit(...).history` (metric -> one value per epoch)
  tensorboard  a log folder written by keras.callbacks.TensorBoard (TensorBoard's
               EventAccumulator reads its event files)
  mlflow       a run of an MLflow file store (`mlruns/`), read with MLflow's client

Every reader returns an `Imported` (the epochs' rows, the test figures it
holds, the user's params, the model's name, times); `import_run` writes it as
a done run (core/own.py). A file a reader cannot read is refused with an
ImportRefused naming it and saying why; nothing is written then.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from core import own
from core.records import now

MAX_LOG_BYTES = 64 * 1024 * 1024


class ImportRefused(own.OwnRunError):
    pass


@dataclass
class Imported:
    rows: list[dict]                       # epoch 1..n, Keras's metric names
    format: str
    source: Path
    test: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    model: str = "own"
    started: str | None = None
    ended: str | None = None
    commit: str | None = None
    digest: str | None = None


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def _number(value, path: Path, where: str) -> float | None:
    """A metric value (NaN, a diverged loss, is one); "" is none; other text
    is refused by name."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ImportRefused(f"{path}: {where} is {str(value)[:24]!r}, not a number") from None


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportRefused(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportRefused(f"{path}: a folder, not a file (a TensorBoard or MLflow folder? pass --format)") from None
    except OSError as e:
        raise ImportRefused(f"{path}: cannot be read ({e.strerror})") from None
    if len(raw) > MAX_LOG_BYTES:
        raise ImportRefused(f"{path}: larger than {MAX_LOG_BYTES // 2 ** 20} MB, not a training log")
    if b"\x00" in raw:
        raise ImportRefused(f"{path}: binary data, not a text log")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(f"{path}: not UTF-8 text") from None


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _check_rows(rows: list[dict], path: Path) -> list[dict]:
    if not rows:
        raise ImportRefused(f"{path}: no epochs in it")
    if not any(k not in ("epoch", "seconds", "lr") for r in rows for k in r):
        raise ImportRefused(f"{path}: no metric in it (loss, accuracy, val_accuracy, ...)")
    return rows


# --- CSVLogger ----------------------------------------------------------------------

def read_csvlogger(path: Path) -> Imported:
    """keras.callbacks.CSVLogger's file: an `epoch` column (0, 1, ...) and one
    column per metric. Its separator is found from the header line."""
    path = Path(path)
    text = _read_text(path)
    head = text.split("\n", 1)[0]
    sep = max(",;\t", key=head.count)
    try:
        table = list(csv.DictReader(io.StringIO(text), delimiter=sep))
    except csv.Error as e:
        raise ImportRefused(f"{path}: not a CSV file ({e})") from None
    if not table or "epoch" not in (table[0].keys() if table else ()):
        raise ImportRefused(f"{path}: not a Keras CSVLogger file (its header has no 'epoch' column)")
    rows = []
    for n, r in enumerate(table):
        if None in r or None in r.values():
            raise ImportRefused(f"{path}: line {n + 2} has a different number of columns than the header")
        epoch = _number(r["epoch"], path, f"line {n + 2}'s epoch")
        if epoch != n:
            raise ImportRefused(f"{path}: line {n + 2}'s epoch is {r['epoch']!r}, expected {n} "
                                "(one line per epoch, in order; a file appended by two fits? split it)")
        row = {"epoch": n + 1}
        for k, v in r.items():
            if k != "epoch":
                value = _number(v, path, f"line {n + 2}'s {k}")
                if value is not None:
                    row["lr" if k == "learning_rate" else k] = value
        rows.append(row)
    st = path.stat()
    return Imported(_check_rows(rows, path), "csvlogger", path, ended=_iso(st.st_mtime), digest=_digest(path))


# --- History JSON -------------------------------------------------------------------

def read_history_json(path: Path) -> Imported:
    """`json.dump(model.fit(...).history, f)`: {metric: [one value per epoch]};
    {"history": {...}, "params": {...}} is read too."""
    path = Path(path)
    text = _read_text(path)
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ImportRefused(f"{path}: not JSON ({e.msg}, line {e.lineno})") from None
    params = {}
    if isinstance(data, dict) and isinstance(data.get("history"), dict):
        params = data.get("params") if isinstance(data.get("params"), dict) else {}
        data = data["history"]
    if not isinstance(data, dict) or not data or not all(isinstance(v, list) for v in data.values()):
        raise ImportRefused(f"{path}: not a Keras History (a JSON object of metric -> list of per-epoch values)")
    lengths = {len(v) for v in data.values()}
    if len(lengths) != 1:
        raise ImportRefused(f"{path}: its metrics have different numbers of epochs "
                            f"({', '.join(f'{k} {len(v)}' for k, v in data.items())})")
    rows = []
    for i in range(lengths.pop()):
        row = {"epoch": i + 1}
        for k, values in data.items():
            value = _number(values[i], path, f"{k}[{i}]")
            if value is not None:
                row["lr" if k == "learning_rate" else k] = value
        rows.append(row)
    return Imported(_check_rows(rows, path), "history", path, params=params,
                    ended=_iso(path.stat().st_mtime), digest=_digest(path))


def _rows_by_step(by_step: dict[int, dict], times: dict[int, float]) -> list[dict]:
    """One row per logged step, in order, as epochs 1..n; an epoch's seconds
    are the time between its step's last write and the one before (none for
    the first: when training began is not in the log)."""
    steps = sorted(by_step)
    rows = []
    for i, step in enumerate(steps):
        row = {"epoch": i + 1, **by_step[step]}
        if i and step in times and steps[i - 1] in times:
            row["seconds"] = round(times[step] - times[steps[i - 1]], 3)
        rows.append(row)
    return rows


# --- TensorBoard --------------------------------------------------------------------

def _event_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("events.out.tfevents.*") if p.is_file())


def read_tensorboard(path: Path) -> Imported:
    """A keras.callbacks.TensorBoard log folder: `train/` and `validation/`
    event files holding `epoch_<metric>` scalars (validation ones become
    `val_<metric>`); read with TensorBoard's EventAccumulator. Seconds per
    epoch come from the events' wall times."""
    path = Path(path)
    if not path.is_dir():
        raise ImportRefused(f"{path}: not a folder (a TensorBoard log is the folder given to the callback)")
    parts = [(path / "train", ""), (path / "validation", "val_")]
    if not any(_event_files(p) for p, _ in parts):
        parts = [(path, "")]
    if not any(_event_files(p) for p, _ in parts):
        raise ImportRefused(f"{path}: no TensorBoard event files (events.out.tfevents.*) in it or in its "
                            "train/ and validation/ folders")
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        from tensorboard.util import tensor_util
    except ImportError:
        raise ImportRefused("reading TensorBoard logs needs the tensorboard package (pip install tensorboard)") from None
    by_epoch: dict[int, dict] = {}
    times: dict[int, float] = {}
    model = "own"
    files = []
    for folder, prefix in parts:
        if not _event_files(folder):
            continue
        files += _event_files(folder)
        acc = EventAccumulator(str(folder), size_guidance={"tensors": 0, "scalars": 0})
        try:
            acc.Reload()
        except Exception as e:  # noqa: BLE001 - TensorBoard's reader raises its own kinds
            raise ImportRefused(f"{folder}: TensorBoard cannot read its event files ({type(e).__name__}: {e})") from None
        tags = acc.Tags()
        for tag in tags.get("tensors", []):
            events = acc.Tensors(tag)
            if tag == "keras" and events:  # the model's config, as the callback writes it
                try:
                    model = json.loads(tensor_util.make_ndarray(events[0].tensor_proto).item())["config"]["name"]
                except (ValueError, KeyError, TypeError, AttributeError):
                    pass
                continue
            if not tag.startswith("epoch_"):
                continue
            for e in events:
                try:
                    value = float(tensor_util.make_ndarray(e.tensor_proto))
                except (TypeError, ValueError):
                    continue
                name = tag[len("epoch_"):]
                name = "lr" if name == "learning_rate" else prefix + name
                by_epoch.setdefault(e.step, {})[name] = value
                if not prefix:
                    times[e.step] = max(times.get(e.step, 0.0), e.wall_time)
        for tag in tags.get("scalars", []):  # older writers: plain scalar summaries
            if tag.startswith("epoch_"):
                for e in acc.Scalars(tag):
                    by_epoch.setdefault(e.step, {})[prefix + tag[len("epoch_"):]] = float(e.value)
    if not by_epoch:
        raise ImportRefused(f"{path}: its event files hold no epoch_* scalars (written by Keras's TensorBoard callback?)")
    rows = _rows_by_step(by_epoch, times)
    wall = sorted(times.values())
    return Imported(_check_rows(rows, path), "tensorboard", path, model=model,
                    started=_iso(wall[0]) if wall else None, ended=_iso(wall[-1]) if wall else None,
                    digest=_digest(*files))


# --- MLflow -------------------------------------------------------------------------

def _mlflow_store(path: Path) -> tuple[Path, str | None]:
    """(the store's folder, the run id) from an `mlruns/` folder or one of its
    run folders (mlruns/<experiment id>/<run id>)."""
    if (path / "meta.yaml").is_file() and (path / "metrics").is_dir():
        return path.parent.parent, path.name
    return path, None


def read_mlflow(path: Path, run: str | None = None) -> Imported:
    """A run of an MLflow file store, through MLflow's own client: metrics
    logged once per epoch (step 0, 1, ...) become the epochs' rows, those
    named test_* (logged once) the test figures, params the config."""
    path = Path(path)
    if not path.is_dir():
        raise ImportRefused(f"{path}: not a folder (give the mlruns/ folder, or one run's folder in it)")
    store, run_id = _mlflow_store(path)
    run_id = run or run_id
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ImportRefused("reading an MLflow store needs MLflow's client (pip install mlflow-skinny)") from None
    # MLflow 3 keeps its file store for reading old runs behind this switch.
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=store.resolve().as_uri())
    try:
        if run_id is None:
            found = [r for e in client.search_experiments() for r in client.search_runs([e.experiment_id])]
            if len(found) != 1:
                names = ", ".join(f"{r.info.run_id} ({r.info.run_name})" for r in found[:8]) or "none"
                raise ImportRefused(f"{path}: holds {len(found)} MLflow runs; name one with --mlflow-run "
                                    f"(or its folder). Runs: {names}")
            run_id = found[0].info.run_id
        info = client.get_run(run_id)
    except ImportRefused:
        raise
    except Exception as e:  # noqa: BLE001 - MLflow raises MlflowException for any bad store
        raise ImportRefused(f"{path}: MLflow cannot read it as a file store run ({type(e).__name__}: "
                            f"{str(e).splitlines()[0][:160]})") from None
    by_step: dict[int, dict] = {}
    times: dict[int, float] = {}
    test = {}
    for name in info.data.metrics:
        history = client.get_metric_history(run_id, name)
        if name.startswith("test_") and len(history) == 1:
            test[name[len("test_"):]] = history[0].value
            continue
        for m in history:
            by_step.setdefault(m.step, {})["lr" if name in ("lr", "learning_rate") else name] = m.value
            times[m.step] = max(times.get(m.step, 0.0), m.timestamp / 1000)
    if not by_step:
        raise ImportRefused(f"{path}: MLflow run {run_id} logged no per-epoch metric")
    rows = _rows_by_step(by_step, times)
    params = dict(info.data.params)
    for k, v in params.items():  # MLflow keeps every param as text: numbers back to numbers
        try:
            params[k] = json.loads(v)
        except ValueError:
            pass
    tags = info.data.tags
    return Imported(_check_rows(rows, path), "mlflow", path, test=test, params=params,
                    model=str(params.pop("model", "own")) if isinstance(params.get("model"), str) else "own",
                    started=_iso(info.info.start_time / 1000) if info.info.start_time else None,
                    ended=_iso(info.info.end_time / 1000) if info.info.end_time else None,
                    commit=tags.get("mlflow.source.git.commit"), digest=run_id)


READERS = {"csvlogger": read_csvlogger, "history": read_history_json,
           "tensorboard": read_tensorboard, "mlflow": read_mlflow}
FORMATS = tuple(READERS)


def detect(path: Path) -> str:
    """The format of a log, from what is on disk."""
    path = Path(path)
    if path.is_dir():
        if (path / "meta.yaml").is_file() or any(path.glob("*/meta.yaml")):
            return "mlflow"
        return "tensorboard"
    if not path.exists():
        raise ImportRefused(f"{path}: no such file or folder")
    head = _read_text(path).lstrip()[:1]
    return "history" if head in ("{", "[") else "csvlogger"


def read(path, fmt: str | None = None, mlflow_run: str | None = None) -> Imported:
    fmt = fmt or detect(Path(path))
    if fmt not in READERS:
        raise ImportRefused(f"format {fmt!r}: one of {', '.join(FORMATS)}")
    return read_mlflow(Path(path), mlflow_run) if fmt == "mlflow" else READERS[fmt](Path(path))


def prepare(log: Imported, study: str, experiment: str, seed: int, *, test: dict | None = None,
            params: dict | None = None, model: str | None = None, epochs: int | None = None, **words):
    """(config, rows, summary, meta) of an imported run, every file checked."""
    config = own.make_config(study, experiment, seed, origin="imported", params={**log.params, **(params or {})},
                             epochs=max(epochs or 0, len(log.rows)), model=model or log.model, **words)
    figures = {**log.test, **(test or {})}
    summary = own.summarize(log.rows, config["train"]["epochs"], test=figures)
    meta = {"seed": seed, "started": log.started or log.ended or now(), "ended": log.ended or now(),
            "git": {"commit": log.commit, "dirty": None}, "versions": {},
            "imported": {"format": log.format, "source": str(log.source.resolve()), "digest": log.digest,
                         "at": now()}}
    return config, log.rows, summary, meta


def import_runs(entries: list[dict], *, root=None, replace: bool = False, mlflow_run: str | None = None,
                test: dict | None = None, **options) -> list[tuple]:
    """Write each log of `entries` ({path, study, experiment, seed} and
    optionally format, test, title) as a done run: (Run, Imported, summary)
    each. Every log is read and every run checked first, so one that cannot
    be read or written stops the import before anything is written."""
    from core.records import Run, run_id, user_runs_dir
    from core.study import owners
    root = Path(root) if root else user_runs_dir()
    known = owners()
    ready = []
    for e in entries:
        log = read(e["path"], e.get("format"), mlflow_run)
        title = e.get("title") or options.get("title")
        files = prepare(log, e["study"], e["experiment"], e["seed"], test={**(test or {}), **e.get("test", {})},
                        **{**options, "title": title})
        own.check_folder(root, files[0], known)
        existing = Run(root / e["experiment"] / run_id(files[0]))
        if existing.has_records() and not replace:
            raise ImportRefused(f"{existing.ref} is already recorded ({existing.status}) in {root}; "
                                "pass --replace to write it again")
        ready.append((log, files))
    return [(own.write_whole_run(root, *files, replace=replace), log, files[2]) for log, files in ready]


def import_run(path, study: str, experiment: str, seed: int = 0, *, fmt: str | None = None, **options):
    """Read one log and write it as a done run of `study`; the Run written."""
    entry = {"path": path, "study": study, "experiment": experiment, "seed": seed, "format": fmt}
    return import_runs([entry], **options)[0][0]


MAP_COLUMNS = ("path", "experiment", "seed")


def read_map(path: Path) -> list[dict]:
    """A mapping file for many runs at once: CSV with columns path, experiment,
    seed, and optionally study, format, test_accuracy, title. Paths are
    relative to the file's folder."""
    path = Path(path)
    text = _read_text(path)
    table = list(csv.DictReader(io.StringIO(text)))
    missing = [c for c in MAP_COLUMNS if not table or c not in table[0]]
    if missing:
        raise ImportRefused(f"{path}: a mapping file needs the columns {', '.join(MAP_COLUMNS)} "
                            f"(missing: {', '.join(missing)})")
    out = []
    for n, r in enumerate(table, start=2):
        try:
            seed = int(r["seed"])
        except (TypeError, ValueError):
            raise ImportRefused(f"{path}: line {n}'s seed {r['seed']!r} is not a whole number") from None
        entry = {"path": (path.parent / r["path"]).resolve(), "experiment": r["experiment"], "seed": seed,
                 "study": r.get("study") or None, "format": r.get("format") or None, "title": r.get("title") or None}
        if r.get("test_accuracy"):
            entry["test"] = {"accuracy": _number(r["test_accuracy"], path, f"line {n}'s test_accuracy")}
        out.append(entry)
    return out
