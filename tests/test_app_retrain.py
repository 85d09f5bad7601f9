"""The Retrain control end to end: start, progress, done; the epochs typed are
the epochs trained; quick; a second start refused (and the refusal gone once
that job ends); cancel; a failed job's reason first; dismissing finished jobs;
user runs in the user's runs folder."""
import time

import pytest

from core import jobs
from core.records import list_runs
from test_app import _app


@pytest.fixture
def env(tiny_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tiny_mnist))
    yield tmp_path
    for job in jobs.list_jobs():  # a test that failed half way leaves no training behind
        if job.status in jobs.ACTIVE:
            job.cancel()


def widget(elements, label):
    return next(w for w in elements if w.label == label)


def choose(at, experiment, quick=None):
    """Pick the variant (and the quick switch) outside the form: the page reruns."""
    widget(at.selectbox, "variant").set_value(experiment)
    if quick is not None:
        widget(at.toggle, "quick").set_value(quick)
    at.run()


def submit(at, experiment=None, epochs=None):
    """Set what is given and press Retrain, in one run of the page."""
    if experiment:
        widget(at.selectbox, "variant").set_value(experiment)
    if epochs is not None:
        widget(at.number_input, "epochs").set_value(epochs)
    widget(at.button, "Retrain").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def rerun_until(at, predicate, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        if predicate(at):
            return
        time.sleep(0.3)
    raise AssertionError("page never showed the expected state: " + texts(at))


def texts(at):
    return " ".join([m.value for m in at.markdown] + [e.value for e in at.error]
                    + [s.value for s in at.success] + [w.value for w in at.warning])


def only_job():
    (job,) = jobs.list_jobs()
    return job


def test_retrain_start_progress_done(env):
    at = _app("mnist")
    choose(at, "mnist-smoke")
    submit(at, epochs=3)
    rerun_until(at, lambda a: "**done**" in texts(a))
    assert "Done: the new runs" in texts(at)
    runs = list_runs(experiment="mnist-smoke")
    assert len(runs) == 1 and runs[0].status == "done" and runs[0].origin == "app"
    # the user's run went to the user's runs folder, not into the study's
    assert runs[0].is_user_run and runs[0].path.is_relative_to(env / "mine")
    assert list_runs(env / "runs", users=False) == []
    # listed beside the others on All runs, marked as the user's
    at = _app("runs")
    table = at.dataframe[0].value
    assert list(table["origin"]) == ["yours"] and list(table["status"]) == ["done"]


def test_the_epochs_typed_are_the_epochs_trained(env):
    at = _app("mnist")
    assert widget(at.selectbox, "variant").value == "mnist-seed-nn1"  # 30 epochs by default
    # a number typed while the variant changes in the same submit is the number trained
    submit(at, "mnist-smoke", epochs=3)  # mnist-smoke's own default is 2
    job = only_job()
    assert job.info["epochs"] == 3 and job.info["argv"][job.info["argv"].index("--epochs") + 1] == "3"
    assert widget(at.number_input, "epochs").value == 3  # still what was typed
    rerun_until(at, lambda a: "**done**" in texts(a))
    (run,) = list_runs(experiment="mnist-smoke")
    assert run.config["train"]["epochs"] == 3 and len(run.history) == 3


def test_the_epochs_default_follows_the_variant_until_a_number_is_typed(env):
    at = _app("mnist")
    assert widget(at.number_input, "epochs").value == 30
    choose(at, "mnist-seed-cnn1")
    assert widget(at.number_input, "epochs").value == 50
    choose(at, "mnist-seed-cnn1", quick=True)
    assert widget(at.number_input, "epochs").value == 2
    choose(at, "mnist-seed-nn1", quick=False)
    assert widget(at.number_input, "epochs").value == 30
    assert jobs.list_jobs() == []  # nothing was submitted


def test_quick_runs_the_shrunk_experiment(env):
    at = _app("mnist")
    choose(at, "mnist-seed-cnn1", quick=True)
    submit(at)
    job = only_job()
    assert "--quick" in job.info["argv"] and job.info["quick"] is True
    assert ", quick" in texts(at)
    rerun_until(at, lambda a: "**done**" in texts(a))
    (run,) = list_runs(experiment="mnist-seed-cnn1")
    assert run.config["data"]["pool_size"] == 600 and len(run.history) == 2


def test_second_start_refused_until_that_job_ends_then_cancel(env):
    at = _app("mnist")
    # A CNN at the page's 500-epoch maximum: minutes of work even on this tiny
    # set, so the cancel always lands mid-training.
    choose(at, "mnist-seed-cnn1")
    submit(at, epochs=500)
    rerun_until(at, lambda a: len(a.get("progress")) > 0)  # live progress bar
    submit(at, epochs=5)
    assert "already being trained by job" in texts(at)
    assert len(jobs.list_jobs()) == 1
    at.run()  # the refusal stays while the job it names still runs
    assert "already being trained by job" in texts(at)
    widget(at.button, "Cancel").click()
    at.run()
    rerun_until(at, lambda a: "**cancelled**" in texts(a))
    assert "already being trained" not in texts(at)  # gone once that job ended
    run = list_runs(experiment="mnist-seed-cnn1")[0]
    assert run.status == "cancelled" and run.summary is None and len(run.history) < 500


def test_a_failed_job_says_why_first_and_finished_jobs_can_be_dismissed(env, monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path / "no-data"))  # MNIST missing: the CLI stops
    at = _app("mnist")
    choose(at, "mnist-smoke")
    submit(at)
    rerun_until(at, lambda a: "**failed**" in texts(a))
    first = at.error[0].value.replace("\\", "")  # the line is shown as plain text (Markdown-escaped)
    assert first.startswith("The job failed (exit code 2)")
    assert "error: MNIST not found in" in first  # the failing line itself, not the log's end
    assert at.expander and "End of its log" in [e.label for e in at.expander]
    job = only_job()
    widget(at.button, "Dismiss").click()
    at.run()
    assert "**failed**" not in texts(at)
    assert (job.path / "DISMISSED").exists() and job.dismissed  # on disk, not in the session
    assert "**failed**" not in texts(_app("mnist"))  # a new session does not show it either
