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
    # The summary is written before meta says done: without it the record is damaged.
    _run_dir(tmp_path, status="done", summary=False)
    run = Run(tmp_path / "exp" / "s0-abc")
    assert run.status == "unreadable" and "summary.json is missing" in run.problem


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


# --- the user's runs folder ------------------------------------------------------

def _app_run(root, experiment="exp", seed=0):
    path = root / experiment / f"s{seed}-app"
    atomic_write_json(path / "config.json", {"experiment": experiment, "seed": seed, "origin": "app"})
    atomic_write_json(path / "meta.json", {"status": "done"})
    atomic_write_json(path / "summary.json", {"test": {"accuracy": 0.5}})
    return path


def test_user_runs_dir_is_per_user_and_never_the_repository(tmp_path, monkeypatch):
    from core.records import DEFAULT_RUNS_DIR, user_runs_dir
    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", str(tmp_path / "mine"))
    assert user_runs_dir() == tmp_path / "mine"
    monkeypatch.delenv("CNNLAB_USER_RUNS_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    if sys.platform.startswith("linux"):
        assert user_runs_dir() == tmp_path / "home" / ".local" / "share" / "cnnlab" / "runs"
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert user_runs_dir() == tmp_path / "xdg" / "cnnlab" / "runs"
    assert REPO not in user_runs_dir().parents and user_runs_dir() != DEFAULT_RUNS_DIR


def test_the_app_lists_user_runs_beside_the_study_runs(tmp_path, monkeypatch):
    from core.records import delete_run, runs_dir
    study, mine = tmp_path / "runs", tmp_path / "mine"
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(study))
    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", str(mine))
    _run_dir(study)
    _app_run(mine, seed=1)
    # what the app asks for (nothing, or the study folder itself) holds both ...
    for listing in (list_runs(), list_runs(str(runs_dir())), list_runs(experiment="exp")):
        assert [r.ref for r in listing] == ["exp/s0-abc", "exp/s1-app"]
        assert [r.is_user_run for r in listing] == [False, True]
    assert find_run("exp/s1-app").path == mine / "exp" / "s1-app"
    assert find_run("s1-app").path == mine / "exp" / "s1-app"
    # ... another folder named explicitly is just that folder
    assert [r.ref for r in list_runs(mine)] == ["exp/s1-app"]
    assert [r.ref for r in list_runs(study, users=False)] == ["exp/s0-abc"]
    assert find_run("exp/s1-app", tmp_path / "elsewhere") is None
    delete_run(find_run("exp/s1-app"))
    assert [r.ref for r in list_runs()] == ["exp/s0-abc"]


def test_only_the_users_own_runs_can_be_deleted(tmp_path, monkeypatch):
    import pytest

    from core.records import ProtectedRun, delete_run
    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", str(tmp_path / "mine"))
    legacy = Run(_app_run(tmp_path / "runs"))  # an app run left in a study folder
    with pytest.raises(ProtectedRun, match="not in your runs folder"):
        delete_run(legacy)
    study = Run(_run_dir(tmp_path / "other"))
    with pytest.raises(ProtectedRun, match="study run"):
        delete_run(study)
    assert legacy.path.exists() and study.path.exists()
