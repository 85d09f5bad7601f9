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

MAX_MODEL_BYTES = 10 * 1024 * 1024
STATUSES = ("running", "done", "failed", "interrupted", "cancelled")
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
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return default


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
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        return []
    out = []
    for r in rows:
        out.append({k: _num(v) for k, v in r.items()})
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
COSMETIC = ("seed", "title", "title_zh", "notes", "group", "reference")


def config_hash(config: dict) -> str:
    """Hash of everything that changes the result; the seed is in the run id
    separately, so seeds of one config share the hash."""
    stripped = {k: v for k, v in config.items() if k not in COSMETIC}
    blob = json.dumps(stripped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def run_id(config: dict) -> str:
    return f"s{config['seed']}-{config_hash(config)}"


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
        return read_json(self.path / "config.json", {}) or {}

    @property
    def meta(self) -> dict:
        return read_json(self.path / "meta.json", {}) or {}

    @property
    def summary(self) -> dict | None:
        return read_json(self.path / "summary.json")

    @property
    def history(self) -> list[dict]:
        return read_history(self.path / "history.csv")

    @property
    def status(self) -> str:
        """The status a reader should show. A run whose process died without
        saying so (kill -9, power cut) still reads 'running' on disk: if its
        pid is gone on this host it is reported as interrupted, never done.
        A run is done only when meta says so *and* its summary exists."""
        meta = self.meta
        status = meta.get("status", "interrupted")
        if status == "running":
            same_host = meta.get("host") == socket.gethostname()
            pid = meta.get("pid")
            if same_host and isinstance(pid, int) and not _pid_alive(pid):
                return "interrupted"
        if status == "done" and self.summary is None:
            return "interrupted"
        return status

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
    """Every run under run_roots(root, users), sorted by ref. A ref found in
    both folders is the study folder's."""
    pattern = f"{experiment}/*/config.json" if experiment else "*/*/config.json"
    found: dict[str, Run] = {}
    for folder in run_roots(root, users):
        if folder.is_dir():
            for p in folder.glob(pattern):
                run = Run(p.parent)
                found.setdefault(run.ref, run)
    return sorted(found.values(), key=lambda r: r.ref)


class ProtectedRun(PermissionError):
    pass


def delete_run(run: Run) -> None:
    """Delete a run the user made in the app (one in user_runs_dir()). Study
    runs (the committed results) are refused: they are the report's evidence."""
    import shutil
    if run.origin != "app":
        raise ProtectedRun(f"{run.ref} is a study run; only runs started from the app can be deleted")
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
        direct = folder / ref
        if (direct / "config.json").is_file():
            return Run(direct)
    matches = [r for r in list_runs(root, users=users) if r.id.startswith(ref) or r.ref.startswith(ref)]
    return matches[0] if len(matches) == 1 else None
