import os
import signal
import socket
import subprocess
import sys
import time

from conftest import REPO
from core.records import (Run, atomic_write_json, atomic_write_text, config_hash, find_run,
                          list_runs, read_history, run_id, write_history)


def _run_dir(tmp_path, status="done", pid=None, summary=True):
    path = tmp_path / "exp" / "s0-abc"
    atomic_write_json(path / "config.json", {"experiment": "exp", "seed": 0})
    atomic_write_json(path / "meta.json", {"status": status, "pid": pid or os.getpid(),
                                           "host": socket.gethostname()})
    write_history(path / "history.csv", [{"epoch": 1, "loss": 0.5, "val_loss": 0.4, "lr": 1e-3},
                                         {"epoch": 2, "loss": 0.25, "val_loss": 0.3, "lr": 5e-4}])
    if summary:
        atomic_write_json(path / "summary.json", {"test": {"accuracy": 0.9}})
    return path


def test_round_trip(tmp_path):
    path = _run_dir(tmp_path)
    run = list_runs(tmp_path)[0]
    assert run.ref == "exp/s0-abc" and run.status == "done"
    assert run.history == [{"epoch": 1, "loss": 0.5, "val_loss": 0.4, "lr": 0.001},
                           {"epoch": 2, "loss": 0.25, "val_loss": 0.3, "lr": 0.0005}]
    assert run.summary["test"]["accuracy"] == 0.9
    assert find_run("s0-abc", tmp_path).path == path
    assert find_run("missing", tmp_path) is None


def test_dead_running_run_reads_interrupted(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _run_dir(tmp_path, status="running", pid=dead.pid, summary=False)
    assert Run(tmp_path / "exp" / "s0-abc").status == "interrupted"


def test_done_without_summary_is_not_complete(tmp_path):
    _run_dir(tmp_path, status="done", summary=False)
    assert Run(tmp_path / "exp" / "s0-abc").status == "interrupted"


def test_config_hash_ignores_seed_and_cosmetics():
    a = {"experiment": "e", "seed": 0, "title": "x", "train": {"epochs": 2}}
    b = {**a, "seed": 5, "title": "y", "notes": "z"}
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash({**a, "train": {"epochs": 3}})
    assert run_id(b).startswith("s5-")


def test_history_reader_survives_missing_file(tmp_path):
    assert read_history(tmp_path / "nope.csv") == []


_SLOW_WRITER = """
import os, sys, time
sys.path.insert(0, {repo!r})
import core.records as r
real_fsync = os.fsync
def stalled_fsync(fd):
    print("writing", flush=True)
    time.sleep(60)  # the payload is in the temp file; we are killed here
os.fsync = stalled_fsync
r.atomic_write_text(sys.argv[1], "NEW" * 1_000_000)
"""


def _kill_mid_write(target):
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER.format(repo=str(REPO)), str(target)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_killed_writer_leaves_the_old_file(tmp_path):
    target = tmp_path / "summary.json"
    atomic_write_text(target, "OLD")
    _kill_mid_write(target)
    assert target.read_text() == "OLD"


def test_killed_writer_leaves_no_file_when_there_was_none(tmp_path):
    target = tmp_path / "summary.json"
    _kill_mid_write(target)
    assert not target.exists()
    # only the hidden temp file is left behind, which no reader looks at
    assert all(p.name.startswith(".") for p in tmp_path.iterdir())
