"""Runs of one's own: trained in one's own script and recorded there
(core/recorder.py's RunRecorder), or imported from the logs one already has
(core/importers.py). Both write the engine's record (core/records.py), under
the same run lock, file by file atomically, each file checked against the
same schema; so every page, command and export reads them without a branch.

What makes such a run its study's: config.json says `origin` "recorded" or
"imported", `group` is the study's name, and `study` holds what the study's
page needs (its title, the baseline its variants are judged against, the
figure it compares, a paragraph). `own_studies()` reads these back from the
runs folders; core/study.py registers one study per name it finds, with
its page, Overview card and export sections, so no code is written for it.
"""
from __future__ import annotations

import math
import os
import re
import socket
from pathlib import Path

from core.record_schema import OWN_METRICS, OWN_ORIGINS
from core.records import (Run, atomic_write_json, check_record, file_mtime, now, read_json, read_record, run_id,
                          run_lock, run_roots, write_history)

ORIGINS = OWN_ORIGINS
# The figure a study of one's own compares, and where in summary.json it is:
# test accuracy when a test set was evaluated; else the validation accuracy of
# the last epoch, or of the epoch with the lowest validation loss.
METRICS = dict(zip(OWN_METRICS, [("test", "accuracy"), ("final", "val_accuracy"), ("best", "val_accuracy")]))
DEFAULT_METRIC = "test_accuracy"
# A study's and an experiment's name are folder names and the page's address.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class OwnRunError(ValueError):
    """A run of one's own that cannot be written as asked: the message says why
    and what to do; nothing was written."""


def check_name(what: str, name) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise OwnRunError(f"{what} {name!r}: use letters, digits, '-', '_' or '.' (at most 64, "
                          "starting with a letter or digit): it becomes a folder name and a page address")
    return name


def plain(value, where: str = "config"):
    """`value` as JSON can hold it: numpy numbers become numbers, tuples lists;
    anything else that is not JSON is refused by name (an optimizer object, a
    function), since a config must say what it was, not point at it."""
    if isinstance(value, dict):
        return {str(k): plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OwnRunError(f"{where} is {value}: a config holds finite numbers only")
        return value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return plain(item(), where)
    raise OwnRunError(f"{where} is a {type(value).__name__}, which a config cannot hold: "
                      "give its name or its numbers instead")


def make_config(study: str, experiment: str, seed: int, *, origin: str, params: dict | None = None,
                epochs: int, model: str = "own", title: str | None = None, study_title=None,
                baseline: str | None = None, metric: str | None = None, text=None,
                dataset: str = "own", compare_with: str | None = None) -> dict:
    """The config.json of a run of one's own: `params` is the user's own
    config, under their own names. Its run id is its study, experiment and
    seed (core/records.py: config_hash), so a title or a baseline can change
    later without orphaning a run."""
    check_name("study", study)
    check_name("experiment", experiment)
    if origin not in ORIGINS:
        raise OwnRunError(f"origin {origin!r}: one of {', '.join(ORIGINS)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise OwnRunError(f"seed {seed!r}: a whole number from 0")
    if metric is not None and metric not in METRICS:
        raise OwnRunError(f"metric {metric!r}: one of {', '.join(METRICS)}")
    if baseline is not None:
        check_name("baseline", baseline)
    words = {"title": study_title, "baseline": baseline, "metric": metric, "text": text,
             "compare_with": compare_with}
    config = {
        "experiment": experiment, "seed": seed, "group": study, "origin": origin,
        "title": title or experiment,
        "study": {k: plain(v, f"study.{k}") for k, v in words.items() if v is not None},
        "model": {"name": str(model) or "own", "kwargs": {}},
        "data": {"dataset": str(dataset) or "own"},
        "train": {"epochs": int(epochs)},
        "params": plain(params or {}, "config"),
    }
    try:
        check_record("config.json", config)
    except ValueError as e:
        raise OwnRunError(str(e)) from None
    return config


def check_folder(root: Path, config: dict, owners: dict[str, str]) -> None:
    """Refuse a run whose study is one of this project's, whose name is one of
    the declared experiments (`owners`: experiment -> its study,
    core.study.owners()), or whose experiment folder already holds another
    study's runs."""
    experiment, study = config["experiment"], config["group"]
    if study in owners.values():
        raise OwnRunError(f"study {study!r} is one of this project's; name yours differently")
    other = owners.get(experiment)
    if other and other != study:
        raise OwnRunError(f"experiment {experiment!r} is already one of study {other!r}'s; "
                          f"name yours differently, e.g. {study}-{experiment}")
    for run in (Run(p) for p in sorted((Path(root) / experiment).glob("*"))):
        group = run.config.get("group") if run.has_records() else None
        if group and group != study:
            raise OwnRunError(f"experiment {experiment!r} already holds runs of study {group!r} "
                              f"({run.path.parent}); name yours differently, e.g. {study}-{experiment}")


def finite_metrics(values: dict) -> dict:
    """Numbers only, finite only: a diverged loss (NaN) stays in the history,
    where it is a measurement, but not among a summary's figures."""
    out = {}
    for k, v in (values or {}).items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out[str(k)] = f
    return out


def with_accuracy(metrics: dict) -> dict:
    """Keras names accuracy after the metric asked for (accuracy,
    sparse_categorical_accuracy, ...): the one accuracy, when there is only
    one, is also given as `accuracy`, the figure the report reads."""
    if "accuracy" not in metrics:
        accs = [k for k in metrics if k.endswith("accuracy") and not k.startswith("val_")]
        if len(accs) == 1:
            metrics = {**metrics, "accuracy": metrics[accs[0]]}
    return metrics


def summarize(rows: list[dict], epochs_budget: int, test: dict | None = None, **extra) -> dict:
    """summary.json from the epochs' rows, as core/train.py writes it."""
    scored = [r for r in rows if isinstance(r.get("val_loss"), (int, float)) and math.isfinite(r["val_loss"])]
    best = min(scored, key=lambda r: r["val_loss"]) if scored else {}
    secs = sorted(r["seconds"] for r in rows if isinstance(r.get("seconds"), (int, float)))
    summary = {
        "epochs_run": len(rows), "epochs_budget": max(epochs_budget, len(rows)),
        "stopped_early": len(rows) < epochs_budget,
        "best_epoch": best.get("epoch"), "restored_best_epoch": None,
        "best": finite_metrics({k: v for k, v in best.items() if k not in ("epoch", "seconds")}),
        "final": finite_metrics({k: v for k, v in (rows[-1] if rows else {}).items() if k != "epoch"}),
        "test": with_accuracy(finite_metrics(test or {})),
        "train_seconds": round(sum(secs), 2),
        "seconds_per_epoch_median": secs[len(secs) // 2] if secs else None,
        "model_file": None,
    }
    summary.update({k: v for k, v in extra.items() if v is not None})
    return check_record("summary.json", summary)


def base_meta(seed: int, *, cwd: Path | None = None, device: dict | None = None, **extra) -> dict:
    """meta.json's fields of who and where: the git state of the folder the
    user's script ran in (their code, not this project's), this machine."""
    from core import envinfo
    meta = {"pid": os.getpid(), "host": socket.gethostname(), "seed": seed,
            "git": envinfo.git_state(Path(cwd or Path.cwd())), "versions": envinfo.versions()}
    if device is not None:
        meta["device"] = device
    meta.update(extra)
    return meta


def write_whole_run(root: Path, config: dict, rows: list[dict], summary: dict, meta: dict,
                    replace: bool = False) -> Run:
    """A finished run written in one go (an import), under the run lock: the
    config, the history, the summary, then meta saying done, so a reader sees
    a done run only once everything it needs is there. An existing run with
    this id is kept unless `replace`. The caller has checked the folder
    (check_folder), for every run of a batch before writing any."""
    from filelock import Timeout
    root = Path(root)
    path = root / config["experiment"] / run_id(config)
    check_record("meta.json", {**meta, "status": "done"})
    lock = run_lock(path)
    try:
        lock.acquire()
    except Timeout:
        raise OwnRunError(f"{config['experiment']}/{path.name} is being written by another process") from None
    try:
        run = Run(path)
        if run.has_records() and not replace:
            raise OwnRunError(f"{run.ref} is already recorded ({run.status}) in {root}; "
                              "pass --replace to write it again")
        for name in ("meta.json", "summary.json", "history.csv", "config.json"):
            (path / name).unlink(missing_ok=True)
        atomic_write_json(path / "config.json", config)
        atomic_write_json(path / "meta.json", {**meta, "status": "running", "started": meta.get("started", now())})
        write_history(path / "history.csv", rows)
        atomic_write_json(path / "summary.json", summary)
        atomic_write_json(path / "meta.json", {**meta, "status": "done", "started": meta.get("started", now()),
                                               "ended": meta.get("ended", now())})
    finally:
        lock.release()
    return run


# --- reading the studies back ------------------------------------------------------

_SCAN: dict = {}


def _candidates(roots: list[Path], declared: set[str]) -> list[Path]:
    """Experiment folders no declared study owns: where own runs can be."""
    out = []
    for root in roots:
        try:
            out += [p for p in root.iterdir() if p.is_dir() and p.name not in declared
                    and not p.name.startswith(".")]
        except OSError:
            continue
    return out


def own_studies(declared: set[str], roots: list[Path] | None = None) -> dict[str, dict]:
    """{study name: spec} for every study of one's own in the runs folders (the
    app's view by default: the study folder and the user's). A spec holds the
    study's words (from its latest run: title, text, baseline, metric,
    compare_with), and each experiment's config (its latest run's, without
    the seed) in `experiments`, in name order. Read again only when a folder
    or a config changes."""
    roots = [Path(r) for r in (roots or run_roots())]
    folders = _candidates(roots, declared)
    configs = [c for f in folders for c in f.glob("*/config.json")]
    signature = tuple(sorted((str(p), file_mtime(p)) for p in [*folders, *configs]))
    key = tuple(map(str, roots))
    hit = _SCAN.get(key)
    if hit and hit[0] == signature:
        return hit[1]
    found: dict[str, list[tuple[str, dict]]] = {}
    for path in configs:
        try:
            config = read_record(path)
        except ValueError:
            continue  # an unreadable record is shown as such by the listing, never guessed at
        if not config or config.get("origin") not in ORIGINS or not config.get("group"):
            continue
        meta_started = _started(path.parent)
        found.setdefault(config["group"], []).append((meta_started, config))
    specs = {}
    for name, items in sorted(found.items()):
        items.sort(key=lambda t: t[0])
        latest: dict[str, dict] = {}
        for _, config in items:  # the latest run of each experiment speaks for it
            latest[config["experiment"]] = {k: v for k, v in config.items() if k != "seed"}
        words = {}
        for _, config in items:
            words.update(config.get("study") or {})
        specs[name] = {"name": name, "title": words.get("title") or name, "text": words.get("text") or "",
                       "baseline": words.get("baseline"), "metric": words.get("metric") or DEFAULT_METRIC,
                       "compare_with": {e: c["study"]["compare_with"] for e, c in latest.items()
                                        if (c.get("study") or {}).get("compare_with")},
                       "origins": sorted({c["origin"] for _, c in items}),
                       "experiments": dict(sorted(latest.items()))}
    _SCAN[key] = (signature, specs)
    return specs


def _started(run_path: Path) -> str:
    return str((read_json(run_path / "meta.json", {}) or {}).get("started") or "")
