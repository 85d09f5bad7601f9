"""An interrupted run resumes from its last finished epoch: no epoch repeated
in the history, none lost, and it is never shown as complete meanwhile."""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from core.records import Run
from core.train import run_path, train_run
from experiments import get_config


def _config(epochs=6):
    cfg = get_config("mnist-smoke")
    cfg["train"]["epochs"] = epochs
    cfg["train"]["early_stopping"] = None  # run every epoch so the count is known
    return {**cfg, "seed": 0}


def _assert_contiguous(run, epochs):
    assert [r["epoch"] for r in run.history] == list(range(1, epochs + 1))


def stopped_at(cfg, root, data, epoch: int):
    """Train `cfg` and press Ctrl-C in epoch `epoch`'s history callback: after
    its history row is on disk, before Keras's backup records the epoch (the
    worst moment). The run's folder."""
    def stop(row):
        if row["epoch"] == epoch:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_run(cfg, root, data, verbose=0, on_epoch=stop)
    return run_path(cfg, root)


def test_ctrl_c_between_history_and_backup_resumes_cleanly(tiny_mnist, tmp_path):
    cfg = _config()
    run = Run(stopped_at(cfg, tmp_path / "runs", tiny_mnist, 3))
    assert run.status == "interrupted" and run.summary is None
    assert len(run.history) == 3  # on disk, but not yet backed up

    sessions_before = len(run.meta["sessions"])
    run, outcome = train_run(cfg, tmp_path / "runs", tiny_mnist, verbose=0)
    assert outcome == "done" and run.status == "done"
    _assert_contiguous(run, 6)
    assert len(run.meta["sessions"]) == sessions_before + 1
    # epoch 3 was never backed up, so it was trained again: the record says so
    assert run.meta["sessions"][-1]["resumed_from_epoch"] == 2


def test_history_without_a_backup_starts_over_and_says_so(tiny_mnist, tmp_path):
    """A run interrupted on another machine arrives with its history but not
    its (git-ignored) backup: it trains from epoch 1 again, and its meta must
    not claim it resumed from the history's last epoch."""
    import shutil

    cfg = _config()
    path = stopped_at(cfg, tmp_path / "runs", tiny_mnist, 4)
    shutil.rmtree(path / "backup")
    assert len(Run(path).history) == 4
    run, outcome = train_run(cfg, tmp_path / "runs", tiny_mnist, verbose=0)
    assert outcome == "done"
    _assert_contiguous(run, 6)
    assert run.meta["sessions"][-1]["resumed_from_epoch"] == 0


def test_sigkill_mid_training_resumes(cli_env, tmp_path):
    cmd = [sys.executable, "-m", "experiments", "run", "mnist-smoke", "--verbose", "0",
           "--epochs", "30", "--set", "train.batch_size=8", "--set", "train.early_stopping=null"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=cli_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    runs = tmp_path / "runs" / "mnist-smoke"
    deadline = time.time() + 120
    while time.time() < deadline:
        hist = list(runs.glob("*/history.csv"))
        if hist and len(hist[0].read_text().splitlines()) >= 4:  # header + 3 epochs
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("training never reached epoch 3: " + proc.stderr.read().decode())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    run = Run(next(runs.iterdir()))
    assert run.status == "interrupted" and run.summary is None
    killed_at = len(run.history)

    done = subprocess.run(cmd, cwd=REPO, env=cli_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert run.status == "done"
    _assert_contiguous(run, 30)
    assert run.meta["sessions"][-1]["resumed_from_epoch"] <= killed_at


def test_sigterm_marks_interrupted_and_cancel_file_marks_cancelled(tiny_mnist, tmp_path):
    cfg = _config()
    path = run_path(cfg, tmp_path / "runs")

    def terminate_at_2(row):
        if row["epoch"] == 2:
            (path / "CANCEL").touch()
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt):
        train_run(cfg, tmp_path / "runs", tiny_mnist, verbose=0, on_epoch=terminate_at_2)
    assert Run(path).status == "cancelled"


def _parent_and_child(parent_epochs=3, child_epochs=5):
    parent = _config(parent_epochs)
    child = {**parent, "experiment": "mnist-smoke-longer",
             "train": {**parent["train"], "epochs": child_epochs, "continue_from": "mnist-smoke"}}
    return parent, child


def test_longer_run_goes_on_from_its_parents_last_epoch(tiny_mnist, tmp_path):
    # The seed's 50- and 100-epoch captcha runs share their first 50 epochs:
    # the longer run starts from the shorter one's kept state.
    root = tmp_path / "runs"
    parent_cfg, child_cfg = _parent_and_child()
    parent, _ = train_run(parent_cfg, root, tiny_mnist, verbose=0, keep_state=True)
    assert (parent.path / "final_state" / "latest.weights.h5").is_file()
    assert not (parent.path / "backup").exists()

    child, outcome = train_run(child_cfg, root, tiny_mnist, verbose=0)
    assert outcome == "done"
    _assert_contiguous(child, 5)
    assert child.history[:3] == parent.history  # the parent's epochs, not retrained
    assert child.meta["continued_from"]["run"] == parent.ref
    assert child.summary["continued_from"]["epochs"] == 3
    assert child.meta["sessions"][0]["resumed_from_epoch"] == 3
    assert not (child.path / "final_state").exists()  # nothing continues from the child


def test_no_continuation_from_another_protocol_or_without_kept_state(tiny_mnist, tmp_path):
    root = tmp_path / "runs"
    parent_cfg, child_cfg = _parent_and_child(2, 3)
    train_run(parent_cfg, root, tiny_mnist, verbose=0)  # state not kept
    child, _ = train_run(child_cfg, root, tiny_mnist, verbose=0)
    assert "continued_from" not in child.meta and child.meta["sessions"][0]["resumed_from_epoch"] == 0
    _assert_contiguous(child, 3)

    other = {**parent_cfg, "train": {**parent_cfg["train"], "learning_rate": 0.02}}
    train_run(other, root, tiny_mnist, verbose=0, keep_state=True)
    child_cfg = {**child_cfg, "title": "another identity"}  # a new run folder
    from core.train import continuation_source
    assert continuation_source(child_cfg, root) is None  # its learning rate differs


def test_early_stopped_parent_is_the_longer_runs_result(tiny_mnist, tmp_path):
    # Stopped early within the short budget, the long run would have stopped
    # at the same epoch: it is only evaluated, with the parent's weights.
    root = tmp_path / "runs"
    parent_cfg, child_cfg = _parent_and_child(6, 12)
    es = {"monitor": "val_loss", "patience": 1, "min_delta": 100.0}  # stops at epoch 2
    parent_cfg["train"] = {**parent_cfg["train"], "early_stopping": es}
    child_cfg["train"] = {**child_cfg["train"], "early_stopping": es}
    parent, _ = train_run(parent_cfg, root, tiny_mnist, verbose=0, keep_state=True)
    assert len(parent.history) == 2
    child, _ = train_run(child_cfg, root, tiny_mnist, verbose=0)
    assert child.history == parent.history
    assert child.summary["continued_from"]["stopped_early"] is True
    assert child.summary["test"] == parent.summary["test"]
