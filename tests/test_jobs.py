"""Background jobs: start, progress, done; cancel; a second start refused."""
import time

import pytest

from core import jobs
from core.records import ProtectedRun, delete_run, list_runs


@pytest.fixture
def job_env(tiny_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tiny_mnist))
    return tmp_path


def wait_for(predicate, timeout=120, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_job_runs_to_completion_and_its_run_is_deletable(job_env):
    job = jobs.start("mnist-smoke", seeds=[0], epochs=3)
    assert job.status in jobs.ACTIVE
    wait_for(lambda: job.status not in jobs.ACTIVE, what="job end")
    assert job.status == "done", job.log_tail()
    assert job.info["exit_code"] == 0
    runs = list_runs(experiment="mnist-smoke")
    assert len(runs) == 1 and runs[0].origin == "app" and runs[0].status == "done"
    assert len(runs[0].history) == 3
    assert "done, test accuracy" in job.log_tail()
    delete_run(runs[0])
    assert list_runs(experiment="mnist-smoke") == []


def test_progress_second_start_refused_and_cancel(job_env):
    job = jobs.start("mnist-smoke", seeds=[0, 1], epochs=200, extra_args=["--set", "train.batch_size=8"])
    p = wait_for(lambda: (lambda q: q if q.get("epoch", 0) >= 2 else None)(jobs.progress(job)),
                 what="two epochs of progress")
    assert p["epochs"] == 200 and p["runs_total"] == 2 and p["latest"]["epoch"] >= 2
    assert p["remaining_s"] > 0
    with pytest.raises(jobs.JobRefused, match=job.id):
        jobs.start("mnist-smoke", seeds=[3])
    job.cancel()
    wait_for(lambda: job.status not in jobs.ACTIVE, what="cancel")
    assert job.status == "cancelled"
    run = list_runs(experiment="mnist-smoke")[0]
    assert run.status == "cancelled" and run.summary is None
    # the experiment is free again once the job has ended
    assert jobs.active_job("mnist-smoke") is None


def test_study_runs_cannot_be_deleted(tmp_path):
    from test_app import fake_run
    from core.records import Run
    run = Run(fake_run(tmp_path, "mnist-fair-cnn2", 0, 0.99))
    with pytest.raises(ProtectedRun, match="study run"):
        delete_run(run)
    assert run.path.exists()
