"""Background jobs: start, progress, done; cancel; a second start refused;
quick and epochs passed through; runs in the user's runs folder; dismissing;
the failing line of a failed job's log."""
import time

import pytest

from core import jobs
from core.records import ProtectedRun, delete_run, list_runs, runs_dir


@pytest.fixture
def job_env(tiny_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tiny_mnist))
    yield tmp_path
    for job in jobs.list_jobs():  # a test that failed half way leaves no training behind
        if job.status in jobs.ACTIVE:
            job.cancel()


def wait_for(predicate, timeout=120, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_job_runs_to_completion_and_its_run_is_deletable(job_env):
    job = jobs.start("mnist-smoke", seeds=[0], epochs=3, quick=True)
    assert job.status in jobs.ACTIVE
    assert ["--epochs", "3"] == job.info["argv"][job.info["argv"].index("--epochs"):][:2]
    assert "--quick" in job.info["argv"]
    with pytest.raises(jobs.JobRefused, match="still"):
        job.dismiss()  # a running job cannot be hidden
    wait_for(lambda: job.status not in jobs.ACTIVE, what="job end")
    assert job.status == "done", job.log_tail()
    assert job.info["exit_code"] == 0 and job.failing_line() is None
    runs = list_runs(experiment="mnist-smoke")
    assert len(runs) == 1 and runs[0].origin == "app" and runs[0].status == "done"
    assert len(runs[0].history) == 3 and runs[0].config["data"]["pool_size"] == 600  # quick, 3 epochs
    # the user's run is in the user's runs folder, never in the study's
    assert runs[0].is_user_run and runs[0].path.parent.parent == job_env / "mine"
    assert list_runs(runs_dir(), users=False) == [] and not (job_env / "runs").exists()
    assert "done, test accuracy" in job.log_tail()
    job.dismiss()
    assert job.dismissed and (job.path / "DISMISSED").is_file()
    assert jobs.list_jobs(dismissed=False) == [] and [j.id for j in jobs.list_jobs()] == [job.id]
    delete_run(runs[0])
    assert list_runs(experiment="mnist-smoke") == []


def test_progress_second_start_refused_and_cancel(job_env):
    job = jobs.start("mnist-smoke", seeds=[0, 1], epochs=200, extra_args=["--set", "train.batch_size=8"])
    p = wait_for(lambda: (lambda q: q if q.get("epoch", 0) >= 2 else None)(jobs.progress(job)),
                 what="two epochs of progress")
    assert p["epochs"] == 200 and p["runs_total"] == 2 and p["latest"]["epoch"] >= 2
    assert p["remaining_s"] > 0
    with pytest.raises(jobs.JobRefused, match=job.id) as refused:
        jobs.start("mnist-smoke", seeds=[3])
    assert refused.value.job.id == job.id
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


def test_study_runs_are_refused_even_with_app_origin_outside_the_users_folder(tmp_path, monkeypatch):
    from test_app import fake_run
    from core.records import Run
    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", str(tmp_path / "mine"))
    run = Run(fake_run(tmp_path / "runs", "mnist-smoke", 0, 0.9, origin="app"))
    with pytest.raises(ProtectedRun, match="not in your runs folder"):
        delete_run(run)
    assert run.path.exists()


TF_NOISE = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796155177.497872    6611 port.cc:153] oneDNN custom operations are on.
== mnist-smoke/s0-1234abcd: a smoke test
Epoch 1/3
Traceback (most recent call last):
  File "/x/core/train.py", line 200, in train_run
    model.fit(...)
  File "/x/keras/src/trainers/trainer.py", line 90, in fit
    raise ValueError("Input 0 of layer dense is incompatible: expected shape (None, 784)")
ValueError: Input 0 of layer dense is incompatible: expected shape (None, 784)
E0000 00:00:1796155199.123456    6611 cuda_executor.cc:1309] INTERNAL Error: no GPU found
W0000 00:00:1796155199.123999    6611 gpu_device.cc:2342] Cannot dlopen some GPU libraries.
/x/keras/src/trainers/data_adapters/py_dataset_adapter.py:121: UserWarning: Your `PyDataset` class should call
  self._warn_if_super_not_called()
"""


def test_failing_line_is_the_error_not_tensorflow_noise():
    assert jobs.failing_line(TF_NOISE) == ("ValueError: Input 0 of layer dense is incompatible: "
                                           "expected shape (None, 784)")
    cli = "I0000 00:00:1.0 1 port.cc:1] noise\nerror: MNIST not found in /d or /d/mnist (downloads are disabled).\n" \
          "Put either mnist.npz (from https://…)\nor the four IDX files …\n"
    assert jobs.failing_line(cli) == "error: MNIST not found in /d or /d/mnist (downloads are disabled)."
    failed_run = "== a/s0-1: FAILED: RuntimeError: out of memory\n== b/s0-2: done, test accuracy 0.9\n"
    assert jobs.failing_line(failed_run) == "== a/s0-1: FAILED: RuntimeError: out of memory"
    assert jobs.failing_line("Epoch 1/2\n== a/s0-1: done, test accuracy 0.9\n") is None
