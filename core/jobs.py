"""Background training jobs, for the app: a job is a separate process running
the experiments CLI, with its state on disk so it survives page reloads and
app restarts.

.jobs/<job-id>/
  job.json   experiment, argv, pid, started, and (once over) status + exit code
  log.txt    the CLI's stdout and stderr
  CANCEL     present once the user pressed Cancel

`python -m core.jobs JOBDIR` is the supervisor process: it runs the CLI, waits,
and records how it ended, so the app never has to stay alive for a job to
finish.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from core.records import REPO_ROOT, atomic_write_json, read_json

JOBS_DIR = REPO_ROOT / ".jobs"
ACTIVE = ("starting", "running")


class JobRefused(RuntimeError):
    pass


def jobs_dir() -> Path:
    env = os.environ.get("CNNLAB_JOBS_DIR")
    return Path(env) if env else JOBS_DIR


def _alive(pid) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this process is dead for our purposes
        pid_done, _ = os.waitpid(pid, os.WNOHANG)
        return pid_done == 0
    except ChildProcessError:
        return True


class Job:
    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def info(self) -> dict:
        return read_json(self.path / "job.json", {}) or {}

    @property
    def status(self) -> str:
        info = self.info
        status = info.get("status", "starting")
        if status in ACTIVE and not _alive(info.get("supervisor_pid")):
            # supervisor gone without recording an end (machine rebooted, kill -9)
            return "interrupted"
        return status

    @property
    def experiment(self) -> str:
        return self.info.get("experiment", "?")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = (self.path / "log.txt").read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cancel(self) -> None:
        (self.path / "CANCEL").touch()
        pid = self.info.get("cli_pid")
        if self.status in ACTIVE and isinstance(pid, int):
            try:
                os.kill(pid, signal.SIGTERM)  # train_run turns this into 'cancelled'
            except ProcessLookupError:
                pass


def progress(job: Job, runs_root=None) -> dict:
    """What the page shows while a job runs: the run being trained, epoch k of
    N, its latest metrics, elapsed and estimated remaining time."""
    from core.records import list_runs
    info = job.info
    seeds = info.get("seeds", [])
    started = info.get("started", "")
    runs = [r for r in list_runs(runs_root, info.get("experiment"))
            if r.origin == "app" and r.config.get("seed") in seeds
            and (r.meta.get("sessions") or [{}])[-1].get("started", "") >= started[:19]]
    current = next((r for r in runs if r.status == "running"), None)
    finished = [r for r in runs if r.status == "done"]
    out = {"runs_done": len(finished), "runs_total": len(seeds), "run": None}
    if current is None:
        return out
    hist = current.history
    epochs = current.config["train"]["epochs"]
    secs = [r["seconds"] for r in hist if r.get("seconds")]
    per_epoch = sum(secs) / len(secs) if secs else None
    remaining_runs = len(seeds) - len(finished) - 1
    out.update({
        "run": current.ref, "epoch": len(hist), "epochs": epochs,
        "latest": hist[-1] if hist else None, "history": hist,
        "elapsed_s": sum(secs),
        "remaining_s": None if per_epoch is None else
        per_epoch * ((epochs - len(hist)) + remaining_runs * epochs),
    })
    return out


def list_jobs() -> list[Job]:
    root = jobs_dir()
    if not root.is_dir():
        return []
    jobs = [Job(p) for p in root.iterdir() if (p / "job.json").exists()]
    return sorted(jobs, key=lambda j: j.info.get("started", ""), reverse=True)


def active_job(experiment: str) -> Job | None:
    for job in list_jobs():
        if job.experiment == experiment and job.status in ACTIVE:
            return job
    return None


def start(experiment: str, seeds: list[int], epochs: int | None = None,
          extra_args: list[str] | None = None, runs_dir=None, data_dir=None) -> Job:
    """Start training in the background; refuse if this experiment already has a job."""
    running = active_job(experiment)
    if running:
        raise JobRefused(f"{experiment} is already being trained by job {running.id} "
                         f"(started {running.info.get('started')}); wait for it or cancel it")
    job_id = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    path = jobs_dir() / job_id
    path.mkdir(parents=True)
    argv = [sys.executable, "-m", "experiments"]
    if runs_dir:
        argv += ["--runs-dir", str(runs_dir)]
    if data_dir:
        argv += ["--data-dir", str(data_dir)]
    argv += ["run", experiment, "--verbose", "2", "--set", "origin=\"app\""]
    for s in seeds:
        argv += ["--seed", str(s)]
    if epochs:
        argv += ["--epochs", str(epochs)]
    argv += extra_args or []
    atomic_write_json(path / "job.json", {
        "experiment": experiment, "seeds": seeds, "epochs": epochs, "argv": argv,
        "status": "starting", "started": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    sup = subprocess.Popen([sys.executable, "-m", "core.jobs", str(path)], cwd=REPO_ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    info = read_json(path / "job.json")
    info["supervisor_pid"] = sup.pid
    atomic_write_json(path / "job.json", info)
    return Job(path)


def _supervise(path: Path) -> int:
    job = Job(path)
    info = job.info
    # Wait for start() to record our pid, so status checks see a live supervisor.
    for _ in range(100):
        if info.get("supervisor_pid"):
            break
        time.sleep(0.05)
        info = job.info
    env = {**os.environ, "CNNLAB_CANCEL_FILE": str(path / "CANCEL"), "PYTHONUNBUFFERED": "1"}
    with open(path / "log.txt", "ab") as log:
        cli = subprocess.Popen(info["argv"], cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env)
        info.update({"status": "running", "cli_pid": cli.pid})
        atomic_write_json(path / "job.json", info)
        rc = cli.wait()
    info = job.info
    if (path / "CANCEL").exists():
        status = "cancelled"
    else:
        status = "done" if rc == 0 else "failed"
    info.update({"status": status, "exit_code": rc,
                 "ended": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    atomic_write_json(path / "job.json", info)
    return rc


if __name__ == "__main__":
    sys.exit(_supervise(Path(sys.argv[1])))
