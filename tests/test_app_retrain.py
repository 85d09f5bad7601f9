"""The Retrain control end to end: start, progress, done; a second start refused; cancel."""
import time

import pytest

from core import jobs
from core.records import list_runs
from test_app import _app


@pytest.fixture
def env(tiny_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tiny_mnist))


def submit(at, experiment, epochs):
    variant = next(s for s in at.selectbox if s.label == "variant")
    variant.set_value(experiment)
    next(n for n in at.number_input if n.label == "epochs").set_value(epochs)
    next(b for b in at.button if b.label == "Retrain").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def rerun_until(at, predicate, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        if predicate(at):
            return
        time.sleep(0.3)
    raise AssertionError("page never showed the expected state: "
                         + " | ".join(m.value for m in at.markdown))


def texts(at):
    return " ".join([m.value for m in at.markdown] + [e.value for e in at.error]
                    + [s.value for s in at.success] + [w.value for w in at.warning])


def test_retrain_start_progress_done(env):
    at = _app("pages/mnist.py")
    submit(at, "mnist-smoke", 3)
    rerun_until(at, lambda a: "**done**" in texts(a))
    assert "Done: the new runs" in texts(at)
    runs = list_runs(experiment="mnist-smoke")
    assert len(runs) == 1 and runs[0].status == "done" and runs[0].origin == "app"
    # the new run is listed beside the others, and being the user's, can be deleted
    at = _app("pages/runs.py")
    table = at.dataframe[0].value
    assert list(table["origin"]) == ["app"] and list(table["status"]) == ["done"]
    at.multiselect[2].select(table["run"].iloc[0]).run()
    next(b for b in at.button if b.label == "delete").click()
    at.run()
    assert list_runs(experiment="mnist-smoke") == []


def test_second_start_refused_then_cancel(env):
    at = _app("pages/mnist.py")
    # A CNN at the page's 500-epoch maximum: minutes of work even on this tiny
    # set, so the cancel always lands mid-training (400 epochs of mnist-smoke's
    # tiny dense net could finish first on a loaded machine).
    submit(at, "mnist-seed-cnn1", 500)
    rerun_until(at, lambda a: len(a.get("progress")) > 0)  # live progress bar
    submit(at, "mnist-seed-cnn1", 5)
    assert "already being trained by job" in texts(at)
    assert len(jobs.list_jobs()) == 1
    next(b for b in at.button if b.label == "Cancel").click()
    at.run()
    rerun_until(at, lambda a: "**cancelled**" in texts(a))
    run = list_runs(experiment="mnist-seed-cnn1")[0]
    assert run.status == "cancelled" and run.summary is None and len(run.history) < 500
