"""Faults around the trainer (issue 25, problems 4, 5, 6 and 8): the run lock,
a Cancel pressed while a job is starting, a supervisor killed under its job,
and bad command-line and config values."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from core import jobs
from core.records import Run, atomic_write_json, list_runs, lock_path
from test_app import fake_run
from test_jobs import job_env, wait_for  # noqa: F401 - job_env is a fixture


# --- the run lock ---------------------------------------------------------------------

_HOLDER = """
import sys, time
sys.path.insert(0, {repo!r})
from core.records import run_lock
lock = run_lock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_the_lock_not_the_pid_proves_a_run_is_running(tmp_path):
    path = fake_run(tmp_path / "runs", "mnist-fair-cnn2", 0, 0.99)
    (path / "summary.json").unlink()
    # meta names a live process (this one: a reused pid, say), but no one holds the lock
    import socket
    atomic_write_json(path / "meta.json", {"status": "running", "pid": os.getpid(), "host": socket.gethostname()})
    lock_path(path).touch()
    assert Run(path).status == "interrupted"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER.format(repo=str(REPO)), str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert Run(path).status == "running"
        holder.send_signal(signal.SIGKILL)  # the kernel frees the lock of a killed holder
        holder.wait()
        assert Run(path).status == "interrupted"
    finally:
        holder.kill()


def _train_cmd(env, *extra, epochs=12):
    return subprocess.Popen([sys.executable, "-m", "experiments", "run", "mnist-smoke", "--verbose", "0",
                             "--epochs", str(epochs), "--set", "train.batch_size=8", *extra],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_trainers_of_one_run_started_at_once_train_it_once(cli_env, tmp_path):
    procs = [_train_cmd(cli_env), _train_cmd(cli_env)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    trained = [o for o in outs if "done, test accuracy" in o[0]]
    assert len(trained) == 1, outs
    other = next(o for o in outs if o is not trained[0])
    # the other waited for the lock and stood back, or came after the end and skipped
    assert codes in ([0, 3], [0, 0]), outs
    assert "BUSY" in other[1] or "already done, skipped" in other[0], other
    (run,) = list_runs(tmp_path / "runs", users=False)
    assert run.status == "done" and len(run.meta["sessions"]) == 1 and "error" not in run.meta
    assert [r["epoch"] for r in run.history] == list(range(1, 13))


# --- jobs -----------------------------------------------------------------------------

def _no_training_left(job):
    pid = job.info.get("cli_pid")
    return pid is None or not jobs._alive(pid)


def test_cancel_while_the_job_is_still_starting_trains_nothing(job_env):
    job = jobs.start("mnist-smoke", seeds=[0], epochs=50, extra_args=["--set", "train.batch_size=8"])
    assert job.status == "starting"
    job.cancel()
    wait_for(lambda: job.status not in jobs.ACTIVE, what="the job's end")
    assert job.status == "cancelled"
    wait_for(lambda: _no_training_left(job), timeout=30, what="no training process")
    assert not [r for r in list_runs(experiment="mnist-smoke") if r.status in ("done", "running")]


def test_cancel_while_the_trainer_is_still_importing_trains_nothing(job_env):
    job = jobs.start("mnist-smoke", seeds=[0], epochs=50, extra_args=["--set", "train.batch_size=8"])
    wait_for(lambda: job.info.get("cli_pid"), what="the training process")
    job.cancel()  # TensorFlow takes seconds to import: no run has started yet
    wait_for(lambda: job.status not in jobs.ACTIVE, what="the job's end")
    assert job.status == "cancelled"
    wait_for(lambda: _no_training_left(job), timeout=30, what="no training process")
    runs = list_runs(experiment="mnist-smoke")
    assert all(r.status in ("cancelled", "interrupted") and r.summary is None for r in runs), \
        [(r.ref, r.status) for r in runs]


def test_a_killed_supervisor_leaves_the_job_running_refused_twice_and_then_done(job_env):
    job = jobs.start("mnist-smoke", seeds=[0], epochs=8, extra_args=["--set", "train.batch_size=16"])
    wait_for(lambda: (jobs.progress(job).get("epoch") or 0) >= 1, what="the first epoch")
    os.kill(job.info["supervisor_pid"], signal.SIGKILL)
    wait_for(lambda: not jobs._alive(job.info["supervisor_pid"]), timeout=10, what="the supervisor's death")
    assert job.status == "running"  # training goes on: proved by its live process
    with pytest.raises(jobs.JobRefused, match=job.id):
        jobs.start("mnist-smoke", seeds=[0])
    wait_for(lambda: job.status != "running", timeout=240, what="the training's end")
    assert job.status == "done"  # proved by the run's records: every run asked for is done
    (run,) = list_runs(experiment="mnist-smoke")
    assert run.status == "done" and len(run.history) == 8


def test_a_job_that_found_its_run_busy_is_failed_not_done(job_env, tiny_mnist):
    env = {**os.environ, "CNNLAB_RUNS_DIR": str(job_env / "mine"), "CNNLAB_DATA_DIR": str(tiny_mnist)}
    # Another trainer (outside the app) holds the run this job would train.
    other = _train_cmd(env, "--set", 'origin="app"', "--seed", "0", epochs=60)
    wait_for(lambda: any(r.status == "running" for r in list_runs(job_env / "mine", users=False)),
             what="the other trainer")
    try:
        job = jobs.start("mnist-smoke", seeds=[0], epochs=60, extra_args=["--set", "train.batch_size=8"])
        wait_for(lambda: job.status not in jobs.ACTIVE, what="the job's end")
        assert job.status == "failed" and job.info["exit_code"] == 3
        assert "BUSY" in job.failing_line() and "another process" in job.failing_line()
    finally:
        other.kill()
        other.wait()


# --- bad command-line and config values ---------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (["--epochs", "0"], "--epochs 0"),
    (["--epochs", "-3"], "--epochs -3"),
    (["--seeds", "-1"], "--seeds -1"),
    (["--seeds", "0"], "--seeds 0"),
    (["--seed", "-1"], "--seed -1"),
    # NumPy's and Keras's seeds are unsigned 32-bit: refused before a run starts (issue 34)
    (["--seed", "99999999999999999999999"], "--seed 99999999999999999999999: seeds are integers from 0 to 4294967295"),
    (["--seed", "4294967296"], "from 0 to 4294967295"),
    (["--seeds", "4294967297"], "at most 4294967296"),
    (["--set", "train.learning_rate=Infinity"], "train.learning_rate: invalid value Infinity"),
    (["--set", "train.learning_rate=NaN"], "train.learning_rate: invalid value NaN"),
    (["--set", "train.learning_rate=1e9"], "train.learning_rate"),
    (["--set", "train.label_smoothing=-Infinity"], "train.label_smoothing"),
])
def test_bad_values_exit_2_naming_the_problem(args, says, capsys, cli_env):
    from experiments.__main__ import main
    with pytest.raises(SystemExit) as stop:
        main(["run", "mnist-smoke", *args])
    assert stop.value.code == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"[1, 2]", b'"oops"', b"null", b"\x89PNG\r\n\x1a\n\x00\x00", b""])
def test_a_config_file_that_is_not_an_object_exits_2(content, tmp_path, capsys, cli_env):
    from experiments.__main__ import main
    path = tmp_path / "config.json"
    path.write_bytes(content)
    with pytest.raises(SystemExit) as stop:
        main(["run", "--config", str(path)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err


def test_sigterm_while_importing_exits_130_not_killed(cli_env):
    proc = subprocess.Popen([sys.executable, "-m", "experiments", "run", "mnist-smoke", "--verbose", "0"],
                            cwd=REPO, env=cli_env, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # arguments parsed, TensorFlow still importing
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "rerun the same command to resume" in err
