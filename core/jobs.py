"""Background training jobs, for the app: a job is a separate process running
the experiments CLI, with its state on disk so it survives page reloads and
app restarts.

.jobs/<job-id>/
  job.json   experiment, seeds, epochs, quick, runs_dir, argv, pid, started,
             and (once over) status + exit code
  log.txt    the CLI's stdout and stderr
  CANCEL     present once the user pressed Cancel
  DISMISSED  present once the user hid the finished job from the page

A job's runs go to the user's runs folder (core.records.user_runs_dir()),
never into the repository's runs/.

`python -m core.jobs JOBDIR` is the supervisor process: it runs the CLI, waits,
and records how it ended, so the app never has to stay alive for a job to
finish.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from core.records import REPO_ROOT, atomic_write_json, read_json, user_runs_dir

JOBS_DIR = REPO_ROOT / ".jobs"
ACTIVE = ("starting", "running")
FINISHED = ("done", "failed", "cancelled", "interrupted")


class JobRefused(RuntimeError):
    """This experiment already has a job; `job` is that job."""

    def __init__(self, message: str, job: "Job | None" = None):
        super().__init__(message)
        self.job = job


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
        """How the job stands, proved from what is alive and on disk. The
        supervisor records the end; when it died without doing so (kill -9,
        a reboot), the training process itself is asked: still alive, the job
        is running; gone, the job is done if every run it asked for is done,
        cancelled if Cancel was pressed, else interrupted."""
        info = self.info
        status = info.get("status", "starting")
        if status not in ACTIVE or _alive(info.get("supervisor_pid")):
            return status
        if _alive(info.get("cli_pid")):
            return "running"
        if (self.path / "CANCEL").exists():
            return "cancelled"
        p = progress(self)
        return "done" if p["runs_total"] and p["runs_done"] == p["runs_total"] else "interrupted"

    @property
    def experiment(self) -> str:
        return self.info.get("experiment", "?")

    def log(self) -> str:
        try:
            return (self.path / "log.txt").read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def failing_line(self) -> str | None:
        """The line of the log that says why the job failed (failing_line())."""
        return failing_line(self.log())

    @property
    def dismissed(self) -> bool:
        return (self.path / "DISMISSED").exists()

    def dismiss(self) -> None:
        """Hide a finished job from the page for good (a file in its folder,
        so every tab and every later session sees it gone)."""
        if self.status in ACTIVE:
            raise JobRefused(f"job {self.id} is still {self.status}; cancel it first", self)
        (self.path / "DISMISSED").touch()

    def cancel(self) -> None:
        """Ask the job to stop. The file comes first: a job still starting
        has no training process to signal yet, and its supervisor checks
        the file once it has started one (and before starting at all)."""
        (self.path / "CANCEL").touch()
        pid = self.info.get("cli_pid")
        if self.status in ACTIVE and isinstance(pid, int):
            _terminate(pid)


# TensorFlow / absl log lines ("I0000 00:00:…", "W0000 …", "E0000 …") and
# Python warnings are noise next to the reason a job failed.
_NOISE = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages|To enable the following instructions|"
                    r"\S+Warning: )")
_CLI_FAILURE = re.compile(r"^(?:error: .+|== .+: (?:FAILED|BUSY): .+)$")


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)  # train_run turns this into 'cancelled'
    except ProcessLookupError:
        pass


def failing_line(log: str) -> str | None:
    """The line of a log that says why it failed: whichever comes last of the
    CLI's own `error: …` (bad usage, missing data) or `== run: FAILED: Type:
    message`, and the exception line that ends a Python traceback
    (`ValueError: …`). TensorFlow's log lines and warnings are skipped. None
    when the log names no failure."""
    lines = [line.rstrip() for line in log.splitlines()]
    found = None
    in_traceback = False
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
            continue
        if not line or line[0].isspace() or _NOISE.match(line):
            continue
        if in_traceback:  # the first unindented line after the frames names the exception
            found, in_traceback = line, False
        elif _CLI_FAILURE.match(line):
            found = line
    return found


def progress(job: Job, runs_root=None) -> dict:
    """What the page shows while a job runs: the run being trained, epoch k of
    N, its latest metrics, elapsed and estimated remaining time."""
    from core.records import list_runs
    info = job.info
    seeds = info.get("seeds", [])
    started = info.get("started", "")
    root = runs_root or info.get("runs_dir") or user_runs_dir()
    runs = [r for r in list_runs(root, info.get("experiment"), users=False)
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


def list_jobs(dismissed: bool = True) -> list[Job]:
    """Every job, newest first; dismissed=False leaves out those the user hid."""
    root = jobs_dir()
    if not root.is_dir():
        return []
    jobs = [Job(p) for p in root.iterdir() if (p / "job.json").exists()]
    if not dismissed:
        jobs = [j for j in jobs if not j.dismissed]
    return sorted(jobs, key=lambda j: j.info.get("started", ""), reverse=True)


def get_job(job_id: str) -> Job | None:
    path = jobs_dir() / job_id
    return Job(path) if job_id and (path / "job.json").exists() else None


def active_job(experiment: str) -> Job | None:
    for job in list_jobs():
        if job.experiment == experiment and job.status in ACTIVE:
            return job
    return None


def start(experiment: str, seeds: list[int], epochs: int | None = None, quick: bool = False,
          extra_args: list[str] | None = None, runs_dir=None, data_dir=None) -> Job:
    """Start training in the background; refuse if this experiment already has a job.

    `epochs` is passed to the CLI as given (--epochs), `quick` as --quick (a
    few hundred images; the epochs still those asked for, when given). Runs
    go to `runs_dir`, by default the user's runs folder."""
    running = active_job(experiment)
    if running:
        raise JobRefused(f"{experiment} is already being trained by job {running.id} "
                         f"(started {running.info.get('started')}); wait for it or cancel it", running)
    job_id = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    path = jobs_dir() / job_id
    path.mkdir(parents=True)
    runs_dir = Path(runs_dir) if runs_dir else user_runs_dir()
    argv = [sys.executable, "-m", "experiments", "--runs-dir", str(runs_dir)]
    if data_dir:
        argv += ["--data-dir", str(data_dir)]
    argv += ["run", experiment, "--verbose", "2", "--set", "origin=\"app\""]
    for s in seeds:
        argv += ["--seed", str(s)]
    if epochs:
        argv += ["--epochs", str(int(epochs))]
    if quick:
        argv += ["--quick"]
    argv += extra_args or []
    atomic_write_json(path / "job.json", {
        "experiment": experiment, "seeds": seeds, "epochs": epochs, "quick": bool(quick),
        "runs_dir": str(runs_dir), "argv": argv,
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
    cancel = path / "CANCEL"
    if cancel.exists():  # Cancel pressed while the job was starting: train nothing
        info.update({"status": "cancelled", "exit_code": None,
                     "ended": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        atomic_write_json(path / "job.json", info)
        return 0
    env = {**os.environ, "CNNLAB_CANCEL_FILE": str(cancel), "PYTHONUNBUFFERED": "1"}
    with open(path / "log.txt", "ab") as log:
        cli = subprocess.Popen(info["argv"], cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env)
        info.update({"status": "running", "cli_pid": cli.pid})
        atomic_write_json(path / "job.json", info)
        # Cancel pressed between our check above and the pid reaching job.json
        # found no pid to signal: signal it now (cancel() touches the file
        # before it reads the pid, so one of the two always signals).
        if cancel.exists():
            _terminate(cli.pid)
        rc = cli.wait()
    info = job.info
    if cancel.exists():
        status = "cancelled"
    else:
        status = "done" if rc == 0 else "failed"
    info.update({"status": status, "exit_code": rc,
                 "ended": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    atomic_write_json(path / "job.json", info)
    return rc


if __name__ == "__main__":
    sys.exit(_supervise(Path(sys.argv[1])))
