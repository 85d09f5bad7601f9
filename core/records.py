"""The run record: one folder per run, read by the CLI, the app and the tests.

runs/<experiment>/<run-id>/
  config.json   exact config (with seed) that produced the run
  meta.json     git commit/dirty, versions, device, host, pid, start/end, status
  history.csv   one row per finished epoch (metrics, lr, seconds)
  summary.json  best/final validation metrics, test metrics, params, wall time
  model.keras   when at most MAX_MODEL_BYTES

Every file is written to a temporary name in the same folder and renamed, so
a reader (or a crash) never sees half a file.

Two folders hold runs. The study's, `runs/` in the repository (or
--runs-dir / $CNNLAB_RUNS_DIR), is where `python -m experiments run` writes.
The user's, `user_runs_dir()` ($CNNLAB_USER_RUNS_DIR, else the platform's
per-user data folder), is where runs started from the app go, so a user's
retraining never lands in the repository. Listing the app's view (no folder
named, or the study folder itself) shows both.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.record_schema import MAX_BYTES, MAX_DEPTH, MAX_HISTORY_BYTES, OWN_ORIGINS, SCHEMAS

MAX_MODEL_BYTES = 10 * 1024 * 1024
STATUSES = tuple(SCHEMAS["meta.json"]["properties"]["status"]["enum"])
# A run whose record files cannot be read as records (binary garbage, a torn
# or wrong-typed JSON, a done run without its history): shown with the file
# and the reason, left out of every table, never guessed at.
UNREADABLE = "unreadable"
RECORD_FILES = ("config.json", "meta.json", "summary.json", "history.csv")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RUNS_DIR = REPO_ROOT / "runs"


USER_RUNS_ENV = "CNNLAB_USER_RUNS_DIR"


def runs_dir(explicit=None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("CNNLAB_RUNS_DIR")
    return Path(env).expanduser() if env else DEFAULT_RUNS_DIR


def user_data_dir() -> Path:
    """The platform's per-user data folder for this app: ~/.local/share/cnnlab
    (or $XDG_DATA_HOME/cnnlab) on Linux, ~/Library/Application Support/cnnlab
    on macOS, %LOCALAPPDATA%\\cnnlab on Windows."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / "cnnlab"


def user_runs_dir() -> Path:
    """Where runs a user starts from the app are written: $CNNLAB_USER_RUNS_DIR,
    else `<user data folder>/runs`. Never the repository's runs/."""
    env = os.environ.get(USER_RUNS_ENV)
    return Path(env).expanduser() if env else user_data_dir() / "runs"


def _same_dir(a: Path, b: Path) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _inside(path: Path, folder: Path) -> bool:
    path, folder = os.path.abspath(path), os.path.abspath(folder)
    return os.path.commonpath([path, folder]) == folder


def now() -> str:
    """A record's time stamp: UTC, to the second, ISO 8601."""
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- atomic writes -------------------------------------------------------------

def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; records are meant to be shared
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def _jsonable(o):
    try:
        import numpy as np
        if isinstance(o, np.generic):
            return o.item()
    except ImportError:
        pass
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_json(path: Path, default=None):
    """The JSON in `path`, or `default` when the file is missing or is not
    JSON at all (empty, truncated, binary, not UTF-8)."""
    try:
        return json.loads(Path(path).read_bytes().decode("utf-8"))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, UnicodeDecodeError, ValueError):
        return default


class RecordError(ValueError):
    """A record file that exists but cannot be read as that record. Its
    words are content entry `records.<key>` (content/<lang>/records.md), so
    a page can say them in the reader's language; str() is the English."""

    def __init__(self, what: str, **values):
        self.key, self.values = what, {k: str(v) for k, v in values.items()}
        super().__init__(self.words("en"))

    def words(self, lang: str) -> str:
        return record_words(lang, self.key, self.values)


def record_words(lang: str, key: str, values: dict) -> str:
    """What a RecordError (its key and values, as a table row keeps them)
    says in `lang`."""
    from core.text import text
    values = dict(values)
    if "expected" in values:  # a schema's type names, in the reader's language
        values["expected"] = _type_words(lang, values["expected"])
    return text(lang, f"records.{key}", **values)


_MISSING = object()


class _NonFinite(float):
    """NaN or Infinity as Python's json reads them, marked so that the check
    after parsing can name the field that holds one."""

    def __new__(cls, word: str):
        value = super().__new__(cls, word)
        value.word = word
        return value


def load_json_record(path: Path, default=_MISSING):
    """A JSON object record. Missing: `default` (RecordError if none given).
    Anything else that is not a JSON object raises RecordError saying what
    the file holds instead, in words a reader can act on: also a file over
    MAX_BYTES, nesting deeper than MAX_DEPTH, or a NaN/Infinity anywhere."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        if default is _MISSING:
            raise RecordError("missing", file=path.name) from None
        return default
    except OSError as e:
        raise RecordError("os-error", file=path.name, why=e.strerror or e) from None
    if len(raw) > MAX_BYTES:
        raise RecordError("too-large", file=path.name, limit=f"{MAX_BYTES // 1024} KB")
    if not raw.strip():
        raise RecordError("empty", file=path.name)
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_NonFinite)
    except UnicodeDecodeError:
        raise RecordError("binary", file=path.name) from None
    except RecursionError:  # json's own recursion gave up first: far deeper than any limit
        raise RecordError("too-deep", file=path.name, limit=MAX_DEPTH) from None
    except ValueError as e:
        raise RecordError("not-json", file=path.name, line=getattr(e, "lineno", "?")) from None
    if not isinstance(value, dict):
        raise RecordError("not-object", file=path.name, value=_short(value))
    _check_tree(value, path.name)
    return value


def _check_tree(value, name: str) -> None:
    """Depth and finiteness of a parsed record, without recursion (the
    nesting is what is being checked)."""
    stack = [(value, (), 1)]
    while stack:
        node, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RecordError("too-deep", file=name, limit=MAX_DEPTH)
        if isinstance(node, dict):
            stack.extend((v, (*where, k), depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*where, i), depth + 1) for i, v in enumerate(node))
        elif isinstance(node, _NonFinite):
            raise RecordError("non-finite", file=name, field=_dotted(where), value=node.word)


def _dotted(where) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in where).replace(".[", "[") or "(top)"


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 24 else text[:21] + "…"


_VALIDATORS: dict = {}


def check_record(name: str, record: dict | None) -> dict | None:
    """`record` (config.json, meta.json or summary.json) against its declared
    schema (core/record_schema.py): returned as it is, or RecordError naming
    the file, the field and what was wrong with it."""
    if record is None or name not in SCHEMAS:
        return record
    validator = _VALIDATORS.get(name)
    if validator is None:
        from jsonschema import Draft202012Validator
        validator = _VALIDATORS[name] = Draft202012Validator(SCHEMAS[name])
    error = next(iter(validator.iter_errors(record)), None)
    if error is None:
        return record
    # The deepest error says most: "train.epochs: expected a whole number",
    # not "train: not valid".
    from jsonschema.exceptions import best_match
    error = best_match(validator.iter_errors(record))
    field, value = _dotted(error.absolute_path), _short(error.instance)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "type":
        expected = schema.get("type")
        raise RecordError("wrong-type", file=name, field=field, value=value,
                          expected=",".join(expected) if isinstance(expected, list) else expected)
    if error.validator == "enum":
        raise RecordError("not-one-of", file=name, field=field, value=value,
                          choices=", ".join(schema.get("enum", ())))
    if error.validator in ("minimum", "maximum"):
        raise RecordError("out-of-range", file=name, field=field, value=value,
                          low=schema.get("minimum", "…"), high=schema.get("maximum", "…"))
    if error.validator == "minLength":
        raise RecordError("empty-text", file=name, field=field)
    raise RecordError("not-allowed", file=name, field=field, value=value)


_READ: dict = {}  # (path, inode, mtime, size) -> (checked record, or None) or the RecordError


def read_record(path: Path) -> dict | None:
    """A run's JSON record file, loaded and checked against its schema
    (load_json_record, check_record); None when it is missing. Each version
    of a file is checked once per process: a listing, then the report's
    rows, then a page read the same files several times. A copy is
    returned, so that a caller's change never reaches another's."""
    import copy
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError:
        st = None
    key = None if st is None else (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
    hit = _READ.get(key) if key else None
    if hit is None:
        try:
            hit = check_record(path.name, load_json_record(path, None))
        except RecordError as e:
            hit = e
        if key:
            if len(_READ) > 20_000:
                _READ.clear()
            _READ[key] = hit
    if isinstance(hit, RecordError):
        raise hit
    return copy.deepcopy(hit)


def _type_words(lang: str, names: str) -> str:
    from core.text import text
    return text(lang, "records.or").join(text(lang, f"records.type-{n}") for n in names.split(","))


# --- history.csv ---------------------------------------------------------------

def write_history(path: Path, rows: list[dict]) -> None:
    """Rewrite the whole history atomically (a few hundred rows at most)."""
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def read_history(path: Path) -> list[dict]:
    """The history's rows; [] when it is missing or cannot be read (see
    load_history for the reason)."""
    try:
        return load_history(path)
    except RecordError:
        return []


def load_history(path: Path) -> list[dict]:
    """history.csv's rows, numbers as numbers; [] when missing. A file that is
    not text, or whose epochs are not 1, 2, ... in order, raises RecordError."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_HISTORY_BYTES + 1)
    except FileNotFoundError:
        return []
    except OSError as e:
        raise RecordError("os-error", file=path.name, why=e.strerror or e) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordError("binary", file=path.name) from None
    if len(raw) > MAX_HISTORY_BYTES:
        raise RecordError("too-large", file=path.name, limit=f"{MAX_HISTORY_BYTES // 2 ** 20} MB")
    if "\x00" in text:
        raise RecordError("binary", file=path.name)
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error:
        raise RecordError("not-csv", file=path.name) from None
    out = []
    for n, r in enumerate(rows, start=1):
        if None in r or None in r.values():
            raise RecordError("columns", file=path.name, row=n)
        row = {k: _num(v) for k, v in r.items()}
        for k, v in row.items():  # every column is a measurement; an empty cell is "not measured"
            if isinstance(v, str):
                raise RecordError("not-number", file=path.name, row=n, field=k, value=_short(v))
        if row.get("epoch") != n:
            twice = isinstance(row.get("epoch"), int) and 1 <= row["epoch"] < n
            raise RecordError("epoch-twice" if twice else "epoch", file=path.name, row=n,
                              value=row.get("epoch"))
        out.append(row)
    return out


def _num(v):
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f


# --- identity ------------------------------------------------------------------

# Fields that describe a run but do not change its result.
COSMETIC = ("seed", "title", "title_zh", "notes", "group", "reference", "study")


def config_hash(config: dict) -> str:
    """Hash of everything that changes the result; the seed is in the run id
    separately, so seeds of one config share the hash. A run of one's own
    (core/own.py) is its study's experiment, as its owner named it: a run
    recorded in a notebook and one imported from a CSV file of the same
    experiment are seeds of one figure, although only one of them knows its
    config, and Keras numbers model names (sequential_3)."""
    if config.get("origin") in OWN_ORIGINS:
        config = {"experiment": config.get("experiment"), "study": config.get("group"), "own": True}
    stripped = {k: v for k, v in config.items() if k not in COSMETIC}
    blob = json.dumps(stripped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def run_id(config: dict) -> str:
    return f"s{config['seed']}-{config_hash(config)}"


# --- the run lock ----------------------------------------------------------------

LOCK_NAME = ".lock"


def lock_path(run_path: Path) -> Path:
    """The lock a trainer holds for as long as it writes a run, in the run's
    folder (retraining from scratch empties the folder but keeps this file,
    so a lock another process holds is never deleted under it)."""
    return Path(run_path) / LOCK_NAME


def run_lock(run_path: Path, timeout: float = 0):
    """An OS file lock (flock on POSIX, via the filelock library): released by
    the kernel when its process dies, however it dies, so it proves a live
    trainer where a pid in meta.json can only suggest one."""
    from filelock import FileLock
    path = lock_path(run_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path, timeout=timeout)


def lock_held(run_path: Path) -> bool | None:
    """True when a live process holds the run's lock, False when no one does,
    None when this cannot be known here (no lock file: a run written before
    locks, or a folder we may not write)."""
    path = lock_path(run_path)
    if not path.is_file():
        return None
    from filelock import FileLock, Timeout
    try:
        probe = FileLock(path, timeout=0)
        probe.acquire()
    except Timeout:
        return True
    except OSError:
        return None
    probe.release()
    return False


# --- reading runs ----------------------------------------------------------------

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Run:
    path: Path

    @property
    def experiment(self) -> str:
        return self.path.parent.name

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def ref(self) -> str:
        return f"{self.experiment}/{self.id}"

    @property
    def config(self) -> dict:
        """config.json; {} when it cannot be read (`problem` says why)."""
        return self._record("config.json", {})

    @property
    def meta(self) -> dict:
        return self._record("meta.json", {})

    @property
    def summary(self) -> dict | None:
        return self._record("summary.json", None)

    @property
    def history(self) -> list[dict]:
        return read_history(self.path / "history.csv")

    def has_records(self) -> bool:
        """Whether any record file is in the folder (a trainer's lock alone is not a run)."""
        return any((self.path / name).exists() for name in RECORD_FILES)

    def _record(self, name: str, default):
        try:
            value = read_record(self.path / name)
        except RecordError:
            return default
        return default if value is None else value  # {} is a record (an empty one), not a missing file

    @property
    def problem(self) -> str | None:
        """Why this run cannot be read, naming the file ("meta.json is not
        text (binary data)"), or None for a readable record."""
        error = self.record_error()
        return None if error is None else str(error)

    def record_error(self) -> RecordError | None:
        """The first damage found, or None (see _scan)."""
        return self._scan()[0]

    def _scan(self) -> tuple[RecordError | None, dict, dict | None]:
        """One read of the record files: (the first damage found or None,
        meta, summary). A run is readable when every record file present is
        the record it claims to be, and a finished run has its history, one
        row per epoch trained."""
        try:
            config = read_record(self.path / "config.json")
            if config is None and self.has_records():
                raise RecordError("missing", file="config.json")
            meta = read_record(self.path / "meta.json")
            summary = read_record(self.path / "summary.json")
            history = load_history(self.path / "history.csv")
            # meta.json is written before the first epoch and summary.json
            # before meta says done: without them, the record was damaged.
            if meta is None and (history or summary is not None):
                raise RecordError("missing", file="meta.json")
            if summary is None and (meta or {}).get("status") == "done":
                raise RecordError("summary-missing")
            if summary is not None and (meta or {}).get("status") == "done":
                trained = summary.get("epochs_run")
                if not (self.path / "history.csv").is_file():
                    raise RecordError("history-missing", n=trained)
                if isinstance(trained, int) and trained != len(history):
                    raise RecordError("history-count", rows=len(history), n=trained)
        except RecordError as e:
            return e, {}, None
        return None, meta or {}, summary

    def check(self) -> tuple[str, RecordError | None]:
        """(status, damage or None) from one read of the record files: what
        a listing wants of each run."""
        error, meta, _ = self._scan()
        return (UNREADABLE, error) if error else (_live_status(self.path, meta), None)

    @property
    def status(self) -> str:
        """The status a reader should show, proved from disk. `unreadable`
        when a record file is damaged (see `problem`). `running` while a live
        process holds the run's lock; a run whose process died without saying
        so (kill -9, power cut) still reads 'running' on disk, and is reported
        interrupted when, on its own machine, no one holds its lock (or, for
        runs from before locks, its pid is gone), never done. A run is done
        only when meta says so, and then its summary exists (else it is
        unreadable)."""
        return self.check()[0]

    @property
    def origin(self) -> str:
        """'app' for runs a user started from the report, 'study' otherwise."""
        return self.config.get("origin", "study")

    @property
    def is_user_run(self) -> bool:
        """A run in the user's runs folder (user_runs_dir()): the user's own,
        shown as "yours" and the only kind that may be deleted."""
        return _inside(self.path, user_runs_dir())

    def mtime(self) -> float:
        """Latest change to any record file (config, meta, summary, history,
        predictions, stored test outputs): the app's cache key. The model file
        and the resume backup are not records."""
        times = [file_mtime(p) for pattern in ("*.json", "*.csv", "*.npz") for p in self.path.glob(pattern)]
        return max(times, default=0.0)


def _live_status(path: Path, meta: dict) -> str:
    """A readable run's status: meta's, unless it says running and no live
    trainer holds the run (Run.status says how that is proved)."""
    status = meta.get("status", "interrupted")
    if status != "running":
        return status
    held = lock_held(path)
    if held:
        return "running"
    # A free lock proves a dead trainer only on its own machine: another
    # machine's lock may not reach us through a shared file system.
    same_host = meta.get("host") == socket.gethostname()
    if same_host and held is False:
        return "interrupted"
    pid = meta.get("pid")
    if same_host and isinstance(pid, int) and not _pid_alive(pid):
        return "interrupted"
    return "running"




def holder(meta: dict) -> str:
    """Who trains a run: the executor's worker (host:worker), else host:pid,
    words in no language, as the All runs page shows them in both."""
    return meta.get("worker") or f"{meta.get('host', '?')}:{meta.get('pid', '?')}"


def file_mtime(path: Path) -> float:
    """0 for a file gone since it was listed (a temporary file renamed over its record)."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def run_roots(root=None, users: bool | None = None) -> list[Path]:
    """The folders list_runs reads: `root` (runs_dir(root)), and beside it the
    user's runs folder when `users` is true. By default (users=None) the user's
    runs are included when no folder is named or the one named is the study
    folder itself (what the app passes), and left out for any other folder
    (`--runs-dir elsewhere`, a test's private folder)."""
    main = runs_dir(root)
    if users is None:
        users = root is None or _same_dir(main, runs_dir())
    roots = [main]
    if users and not _same_dir(user_runs_dir(), main):
        roots.append(user_runs_dir())
    return roots


def list_runs(root=None, experiment: str | None = None, users: bool | None = None) -> list[Run]:
    """Every run under run_roots(root, users), sorted by ref: every folder
    <experiment>/<run-id> holding a record file, so that a run whose
    config.json was lost is listed (as unreadable) rather than hidden. A ref
    found in both folders is the study folder's."""
    found: dict[str, Run] = {}
    for folder in run_roots(root, users):
        if folder.is_dir():
            for path in folder.glob(f"{experiment}/*" if experiment else "*/*"):
                run = Run(path)
                if run.has_records():
                    found.setdefault(run.ref, run)
    return sorted(found.values(), key=lambda r: r.ref)


# Runs a user may delete (from their own runs folder): the app's and their own study's.
DELETABLE_ORIGINS = ("app", *OWN_ORIGINS)


class ProtectedRun(PermissionError):
    pass


def delete_run(run: Run) -> None:
    """Delete a run the user made in the app (one in user_runs_dir()). Study
    runs (the committed results) are refused: they are the report's evidence."""
    import shutil
    if run.origin not in DELETABLE_ORIGINS:
        raise ProtectedRun(f"{run.ref} is a study run; only runs started from the app, or of your own "
                           "study, can be deleted")
    if not run.is_user_run:
        raise ProtectedRun(f"{run.ref} is not in your runs folder ({user_runs_dir()}); "
                           "only your own runs can be deleted")
    if run.status == "running":
        raise ProtectedRun(f"{run.ref} is still training; cancel its job first")
    shutil.rmtree(run.path)


def find_run(ref: str, root=None, users: bool | None = None) -> Run | None:
    """`experiment/run-id`, or a bare run id / unique prefix of one, in the
    folders list_runs(root, users) reads."""
    for folder in run_roots(root, users):
        direct = Run(folder / ref)
        if direct.has_records():
            return direct
    matches = [r for r in list_runs(root, users=users) if r.id.startswith(ref) or r.ref.startswith(ref)]
    return matches[0] if len(matches) == 1 else None
