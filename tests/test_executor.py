"""Runs spread over a Dask cluster (issue 26): the same records as the local
executor, the worker named in meta.json, and a run whose worker was killed
resumed by another and ended done with every epoch once."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from core.records import Run, list_runs

pytest.importorskip("distributed")


def _cli(env, runs, *args, **kw):
    return subprocess.Popen([sys.executable, "-m", "experiments", "--runs-dir", str(runs), "run", "mnist-smoke",
                             "--verbose", "0", *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_dask_trains_the_same_runs_as_local_and_names_the_worker(cli_env, tmp_path):
    local, dask = _cli(cli_env, tmp_path / "local", "--quick", "--seeds", "2"), \
        _cli(cli_env, tmp_path / "dask", "--quick", "--seeds", "2", "--executor", "dask")
    for proc in (local, dask):
        out, err = proc.communicate(timeout=400)
        assert proc.returncode == 0, err[-2000:]
    assert "== dask: 2 run(s) on 1 worker(s)" in out
    a = {r.id: r for r in list_runs(tmp_path / "local", users=False)}
    b = {r.id: r for r in list_runs(tmp_path / "dask", users=False)}
    assert sorted(a) == sorted(b) and len(a) == 2
    for rid in a:
        assert b[rid].status == "done" and b[rid].meta["worker"].endswith(":0")
        assert a[rid].meta.get("worker") is None
        assert b[rid].summary["test"]["accuracy"] == pytest.approx(a[rid].summary["test"]["accuracy"], abs=1e-6)
        assert len(b[rid].history) == len(a[rid].history) == 2


def test_a_run_whose_worker_is_killed_is_resumed_by_another_and_ends_done(cli_env, tmp_path):
    runs = tmp_path / "runs"
    proc = _cli(cli_env, runs, "--epochs", "25", "--set", "train.batch_size=8", "--executor", "dask")
    deadline = time.time() + 180
    while time.time() < deadline:
        hist = list(runs.glob("mnist-smoke/*/history.csv"))
        if hist and len(hist[0].read_text().splitlines()) >= 4:  # header + 3 epochs
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("training never reached epoch 3: " + proc.communicate()[1][-2000:])
    run = Run(hist[0].parent)
    worker_pid = run.meta["pid"]  # train_run records the process that trains: the Dask worker
    assert worker_pid != proc.pid
    os.kill(worker_pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=400)
    assert proc.returncode == 0, err[-3000:]
    assert run.status == "done", run.meta
    assert [r["epoch"] for r in run.history] == list(range(1, 26))
    sessions = run.meta["sessions"]
    assert len(sessions) == 2 and sessions[1]["resumed_from_epoch"] >= 2, sessions
