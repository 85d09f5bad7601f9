"""Fault injection: a trainer killed anywhere, or a resume backup torn in any
way a kill or a power cut can tear it, never wipes or duplicates history.

Two halves:
- every torn state of backup/ (each file empty, cut short, binary, valid JSON
  of the wrong type, deleted; Keras's four-step save stopped between steps; a
  write left beside its name before the rename), made deterministically from
  one real interrupted run, then resumed in-process;
- SIGKILL at random moments (seeded: CNNLAB_FAULT_SEED) in subprocesses
  training a tiny MNIST run, some timed to land inside the backup's writes.

After each rerun: the run is `done`, history.csv holds epochs 1..N once each,
and its figures are an uninterrupted run's.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, make_digits, write_idx
from core.records import Run, read_history, read_json, write_history
from core.train import run_path, train_run
from experiments import get_config
from test_resume import stopped_at

# Keras's BackupAndRestore files (double_checkpoint) and TrainingState's.
WEIGHTS, META = "latest.weights.h5", "training_metadata.json"
PREV_WEIGHTS, PREV_META = WEIGHTS + ".bkp", META + ".bkp"
STATE = "state.json"
EPOCHS = 6
SNAP_EPOCH = 3  # the snapshot's backup is torn in the middle of this epoch's save


def _config(epochs=EPOCHS):
    """mnist-smoke with a rate high enough that the best epoch moves (epoch 3)
    and ReduceLROnPlateau acts: state.json's counters and best weights change
    the result, so losing them cannot pass unseen."""
    cfg = get_config("mnist-smoke")
    cfg["train"].update(epochs=epochs, learning_rate=0.3, early_stopping=None,
                        reduce_lr={"monitor": "val_loss", "factor": 0.5, "patience": 1})
    return {**cfg, "seed": 0}


def _figures(run):
    """What must match an uninterrupted run: every history figure but the
    seconds, and the test metrics."""
    hist = [{k: v for k, v in r.items() if k != "seconds"} for r in run.history]
    return hist, run.summary["test"]


def _assert_whole(run, epochs=EPOCHS):
    assert run.status == "done"
    assert [r["epoch"] for r in run.history] == list(range(1, epochs + 1))
    assert run.summary["epochs_run"] == epochs


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The same 700/200-image fake MNIST as conftest's tiny_mnist, made once."""
    root = tmp_path_factory.mktemp("data")
    (root / "mnist").mkdir()
    for name, (x, y) in (("train", make_digits(700, 0)), ("t10k", make_digits(200, 1))):
        write_idx(root / "mnist" / f"{name}-images-idx3-ubyte.gz", x)
        write_idx(root / "mnist" / f"{name}-labels-idx1-ubyte.gz", y)
    return root


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    run, outcome = train_run(_config(), tmp_path_factory.mktemp("ref"), data, verbose=0)
    assert outcome == "done"
    _assert_whole(run)
    return _figures(run)


@pytest.fixture(scope="module")
def snapshot(data, tmp_path_factory):
    """A real run stopped at the start of epoch SNAP_EPOCH's backup: history
    and state.json already hold the epoch, Keras's latest checkpoint is epoch
    SNAP_EPOCH's and its previous one SNAP_EPOCH - 1's. (Stopped by Ctrl-C in
    epoch SNAP_EPOCH + 1's history callback, which is before its state and
    backup, then that one history row dropped.)"""
    cfg = _config()
    root = tmp_path_factory.mktemp("snap")
    path = stopped_at(cfg, root, data, SNAP_EPOCH + 1)
    write_history(path / "history.csv", read_history(path / "history.csv")[:SNAP_EPOCH])
    b = path / "backup"
    assert json.loads((b / META).read_text())["epoch"] == SNAP_EPOCH
    assert json.loads((b / PREV_META).read_text())["epoch"] == SNAP_EPOCH - 1
    assert set(read_json(b / STATE)["by_epoch"]) == {str(SNAP_EPOCH - 1), str(SNAP_EPOCH)}
    return path


def _best(b: Path, epoch: int) -> str:
    return read_json(b / STATE)["by_epoch"][str(epoch)]["best_file"]


def _meta_json(epoch):
    return json.dumps({"epoch": epoch, "batch": 0})  # as Keras writes it


def _cut(p: Path):
    p.write_bytes(p.read_bytes()[: max(1, p.stat().st_size // 2)])


def _garbage(p: Path):
    p.write_bytes(random.Random(7).randbytes(max(64, p.stat().st_size if p.exists() else 0)))


def _set(name, text):
    return lambda b: (b / name).write_text(text)


def _do(*steps):
    def apply(b):
        for s in steps:
            s(b)
    return apply


def _rm(name):
    return lambda b: (b / name).unlink()


def _copy(src, dst):
    return lambda b: shutil.copyfile(b / src, b / dst)


def _on(name, fn):
    return lambda b: fn(b / name)


def _on_best(epoch, fn):
    return lambda b: fn(b / _best(b, epoch))


N, P = SNAP_EPOCH, SNAP_EPOCH - 1
# Keras's save of epoch N (see core/callbacks.py), stopped along the way: the
# state before it is latest = N-1, meta = N-1, .bkp = N-2 (rebuilt from the
# snapshot's .bkp files, which are epoch N-1's).
_BEFORE_SAVE = _do(_copy(PREV_WEIGHTS, WEIGHTS), _copy(PREV_META, META), _set(PREV_META, _meta_json(P - 1)))

# name: (tear the snapshot's backup/, epoch the rerun resumes from, a note expected)
TORN = {
    # a kill inside Keras's save of epoch N, step by step
    "save-step1-bkp-weights-cut": (_do(_BEFORE_SAVE, _on(PREV_WEIGHTS, _cut)), P, False),
    "save-step2-bkp-meta-empty": (_do(_BEFORE_SAVE, _copy(META, PREV_META), _set(PREV_META, "")), P, False),
    "save-between-2-and-3": (_do(_BEFORE_SAVE, _copy(META, PREV_META)), P, False),
    "save-step3-weights-empty": (_do(_copy(PREV_META, META), _set(WEIGHTS, "")), P, True),
    "save-step3-weights-cut": (_do(_copy(PREV_META, META), _on(WEIGHTS, _cut)), P, True),
    "save-between-3-and-4": (_copy(PREV_META, META), P, True),
    "save-step4-meta-empty": (_set(META, ""), P, True),
    "save-step4-meta-cut": (_set(META, _meta_json(N)[:9]), P, True),
    # each file of a whole backup torn afterwards (power cut, disk, a person)
    "meta-garbage": (_on(META, _garbage), P, True),
    "meta-list": (_set(META, "[]"), P, True),
    "meta-null": (_set(META, "null"), P, True),
    "meta-epoch-string": (_set(META, json.dumps({"epoch": str(N), "batch": 0})), P, True),
    "meta-no-epoch": (_set(META, "{}"), P, True),
    "meta-deleted": (_rm(META), P, True),
    "weights-empty": (_set(WEIGHTS, ""), P, True),
    "weights-cut": (_on(WEIGHTS, _cut), P, True),
    "weights-garbage": (_on(WEIGHTS, _garbage), P, True),
    "weights-deleted": (_rm(WEIGHTS), P, True),
    "bkp-meta-empty": (_set(PREV_META, ""), N, False),
    "bkp-meta-garbage": (_on(PREV_META, _garbage), N, False),
    "bkp-meta-deleted": (_rm(PREV_META), N, False),
    "bkp-weights-cut": (_on(PREV_WEIGHTS, _cut), N, False),
    "bkp-weights-deleted": (_rm(PREV_WEIGHTS), N, False),
    "both-meta-empty": (_do(_set(META, ""), _set(PREV_META, "")), 0, True),
    "weights-cut-bkp-deleted": (_do(_on(WEIGHTS, _cut), _rm(PREV_WEIGHTS)), 0, True),
    "checkpoints-deleted": (_do(*(_rm(n) for n in (WEIGHTS, META, PREV_WEIGHTS, PREV_META))), 0, True),
    "state-empty": (_set(STATE, ""), 0, True),
    "state-cut": (_on(STATE, _cut), 0, True),
    "state-garbage": (_on(STATE, _garbage), 0, True),
    "state-list": (_set(STATE, "[]"), 0, True),
    "state-by-epoch-list": (_set(STATE, '{"by_epoch": []}'), 0, True),
    "state-deleted": (_rm(STATE), 0, True),
    # epoch N's best weights (written at N, so epoch N-1's state names another)
    "best-empty": (_on_best(N, lambda p: p.write_bytes(b"")), P, True),
    "best-cut": (_on_best(N, _cut), P, True),
    "best-garbage": (_on_best(N, _garbage), P, True),
    "best-deleted": (_on_best(N, Path.unlink), P, True),
    # writes cut between write and rename: state.json and the best weights of
    # epoch N still the old ones, the new ones beside them under a .tmp name
    "tmp-beside-state-and-best": (_do(
        _BEFORE_SAVE,
        lambda b: os.replace(b / _best(b, N), b / f".{_best(b, N)[:-len('.weights.h5')]}.tmp.weights.h5"),
        lambda b: (b / f".{STATE}.x1y2z3.tmp").write_text((b / STATE).read_text()),
        lambda b: (b / STATE).write_text(json.dumps(
            {"by_epoch": {str(P): read_json(b / STATE)["by_epoch"][str(P)]}})),
    ), P, True),
}


# Trained again to the end (~3 s each): one or more of each kind per file, and
# every step of Keras's save. The rest are checked without training below.
RERUN = [
    "save-step1-bkp-weights-cut", "save-step2-bkp-meta-empty", "save-between-2-and-3",
    "save-step3-weights-empty", "save-step3-weights-cut", "save-between-3-and-4",
    "save-step4-meta-empty", "save-step4-meta-cut",
    "meta-garbage", "meta-list", "meta-epoch-string", "meta-deleted",
    "weights-cut", "weights-garbage", "weights-deleted",
    "bkp-meta-garbage", "bkp-weights-cut", "both-meta-empty",
    "state-garbage", "state-list", "state-deleted",
    "best-cut", "best-deleted", "tmp-beside-state-and-best",
]


def _torn_copy(case, snapshot, tmp_path):
    cfg = _config()
    path = run_path(cfg, tmp_path / "runs")
    shutil.copytree(snapshot, path)
    TORN[case][0](path / "backup")
    return cfg, path


def test_snapshot_best_epoch_moves(snapshot):
    """The best-weights cases need epoch N's state to name another file than
    epoch N-1's (else a torn best file could not fall back)."""
    b = snapshot / "backup"
    assert _best(b, N) != _best(b, P)


@pytest.mark.parametrize("case", RERUN)
def test_torn_backup_resumes_exactly(case, snapshot, reference, data, tmp_path, capsys):
    _, resumes_from, noted = TORN[case]
    cfg, path = _torn_copy(case, snapshot, tmp_path)
    capsys.readouterr()

    run, outcome = train_run(cfg, tmp_path / "runs", data, verbose=0)
    assert outcome == "done"
    _assert_whole(run)
    session = run.meta["sessions"][-1]
    assert session["resumed_from_epoch"] == resumes_from, session
    err = capsys.readouterr().err
    if noted:
        assert session.get("resume_note") and session["resume_note"] in err, (session, err)
    else:
        assert "resume_note" not in session, session
    assert _figures(run) == reference


@pytest.mark.parametrize("case", list(TORN))
def test_check_backup_settles_each_torn_state(case, snapshot, tmp_path, capsys):
    """Without training: the epoch check_backup settles on, its note, and a
    folder Keras resumes from at exactly that epoch, with the history cut to it."""
    from core.callbacks import _weights_problem, backup_epoch, check_backup

    _, resumes_from, noted = TORN[case]
    _, path = _torn_copy(case, snapshot, tmp_path)
    epoch, note = check_backup(path / "backup")
    assert epoch == resumes_from and bool(note) == noted, note
    if note:
        assert note in capsys.readouterr().err
    assert [r["epoch"] for r in read_history(path / "history.csv")] == list(range(1, epoch + 1))
    b = path / "backup"
    if epoch == 0:
        assert not b.exists()
        return
    assert backup_epoch(b) == epoch and _weights_problem(b / WEIGHTS) is None
    state = read_json(b / STATE)
    assert max(map(int, state["by_epoch"])) == epoch and _weights_problem(b / _best(b, epoch)) is None
    assert not list(b.glob(".*tmp*"))
    assert check_backup(b) == (epoch, None)  # settled: a second look finds nothing


def test_duplicated_history_row_is_cut_to_one(snapshot, tmp_path):
    """History left by the old bug (9 rows for 8 epochs): one row per epoch,
    the later one. (train_run itself now refuses such a history as unreadable
    before it gets here; check_backup does not depend on that.)"""
    from core.callbacks import check_backup

    path = tmp_path / "run"
    shutil.copytree(snapshot, path)
    rows = read_history(path / "history.csv")
    write_history(path / "history.csv", rows[:2] + [{**rows[1], "seconds": -1.0}] + rows[2:])
    epoch, note = check_backup(path / "backup")
    assert epoch == N and "epoch 2 twice" in note
    assert read_history(path / "history.csv") == rows[:1] + [{**rows[1], "seconds": -1.0}] + rows[2:]


def test_first_epoch_weights_without_metadata_start_over(data, reference, tmp_path):
    """Killed between Keras's first weights and its first metadata: there is
    no previous checkpoint, so epoch 1 is trained again from scratch (not from
    epoch 1's weights, as Keras alone would)."""
    cfg = _config()
    path = stopped_at(cfg, tmp_path / "runs", data, 2)
    (path / "backup" / META).unlink()
    assert not (path / "backup" / PREV_META).exists()
    run, _ = train_run(cfg, tmp_path / "runs", data, verbose=0)
    _assert_whole(run)
    assert run.meta["sessions"][-1]["resumed_from_epoch"] == 0
    assert _figures(run) == reference


def test_check_backup_leaves_a_whole_backup_alone(snapshot, tmp_path):
    from core.callbacks import check_backup

    path = tmp_path / "run"
    shutil.copytree(snapshot, path)
    before = {p.name: p.read_bytes() for p in (path / "backup").iterdir()}
    assert check_backup(path / "backup") == (N, None)
    assert {p.name: p.read_bytes() for p in (path / "backup").iterdir()} == before
    assert check_backup(tmp_path / "none") == (0, None)


# --- SIGKILL at random moments --------------------------------------------------

# A trainer that imports TensorFlow, then waits for its runs folder on stdin:
# the next one imports while the current one trains (an import costs ~5 s).
_WORKER = """
import json, sys
import keras, tensorflow
from core.train import train_run
import core.callbacks, experiments.mnist.data, experiments.mnist.models
cfg, data = json.loads(sys.argv[1]), sys.argv[2]
print("ready", flush=True)
root = sys.stdin.readline().strip()
if root:  # stdin closed (the test gone): never train into the default runs folder
    train_run(cfg, root, data, verbose=0)
"""
# Runs, each killed KILLS_PER_RUN times, then finished in-process (~10 s a run;
# CNNLAB_FAULT_RUNS=50 for a soak).
KILL_RUNS = int(os.environ.get("CNNLAB_FAULT_RUNS", "3"))
KILLS_PER_RUN = 2
# Files whose change starts a kill's short countdown, so that kills land in
# the writes that follow (the rest of Keras's backup, the best weights,
# state.json, the evaluation and summary), not only between epochs.
_TRIGGERS = ("history.csv", "backup/state.json", "backup/" + PREV_WEIGHTS,
             "backup/" + WEIGHTS, "backup/" + META, "summary.json")


def _mtime(p: Path):
    try:
        return p.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _kill_at_random(proc, path: Path, rng: random.Random) -> str:
    """SIGKILL `proc` at a moment drawn from rng; returns that moment in words:
    `delay` after the `after`-th change seen of a trigger file (counting from
    0), or after history.csv holds `after` epochs. Drawn among the epochs this
    session still has to train, so that most kills land before it is done."""
    done = len(read_history(path / "history.csv"))
    trigger = rng.choice(("epochs",) * 3 + _TRIGGERS)
    if trigger == "epochs":
        after = rng.randint(done, EPOCHS)
    else:
        after = 0 if trigger == "summary.json" else rng.randint(0, max(0, EPOCHS - done - 1))
    delay = rng.choice((0.0, rng.uniform(0, 0.005), rng.uniform(0, 0.05), rng.uniform(0, 0.5)))
    deadline = time.time() + 120
    if trigger == "epochs":
        while len(read_history(path / "history.csv")) < after and proc.poll() is None:
            time.sleep(0.002)
    else:
        seen, last = -1, _mtime(path / trigger)
        while seen < after and proc.poll() is None and time.time() < deadline:
            now = _mtime(path / trigger)
            if now != last and now is not None:
                seen += 1
            last = now
            time.sleep(0.0003)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return f"{delay * 1000:.1f} ms after {trigger} #{after}"


def test_sigkill_at_random_moments_then_finish(data, reference, tmp_path):
    seed = int(os.environ.get("CNNLAB_FAULT_SEED", "2025"))
    rng = random.Random(seed)
    cfg = _config()
    args = [sys.executable, "-c", _WORKER, json.dumps(cfg), str(data)]
    env = dict(os.environ, PYTHONPATH=str(REPO), CNNLAB_OFFLINE="1")

    errs = []

    def spawn():  # stderr to a file: a pipe nobody reads could fill and block it
        errs.append(open(tmp_path / f"trainer{len(errs)}.err", "w+b"))
        return subprocess.Popen(args, cwd=REPO, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=errs[-1])

    log, spare = [], spawn()
    where = lambda: f"CNNLAB_FAULT_SEED={seed}: " + "; ".join(log)  # noqa: E731
    try:
        for i in range(KILL_RUNS):
            root = tmp_path / f"runs{i}"
            path = run_path(cfg, root)
            for k in range(KILLS_PER_RUN):
                proc = spare
                if proc.stdout.readline().strip() != b"ready":
                    proc.wait()
                    pytest.fail("trainer did not start: " + Path(errs[-1].name).read_text()[-3000:])
                last = i == KILL_RUNS - 1 and k == KILLS_PER_RUN - 1
                spare = None if last else spawn()
                proc.stdin.write(f"{root}\n".encode())
                proc.stdin.flush()
                log.append(f"run {i} kill {k} {_kill_at_random(proc, path, rng)}")
                run = Run(path)
                assert run.status in ("interrupted", "done"), f"{run.status} ({where()})"
                if run.status == "done":  # it had finished before the kill
                    log[-1] += " (too late: done)"
                    break
                epochs = [r["epoch"] for r in run.history]
                assert epochs == list(range(1, len(epochs) + 1)), f"{epochs} ({where()})"
            run, _ = train_run(cfg, root, data, verbose=0)
            notes = [s["resume_note"] for s in run.meta["sessions"] if s.get("resume_note")]
            log[-1] += "".join(f" [{n}]" for n in notes)
            assert run.status == "done", where()
            assert [r["epoch"] for r in run.history] == list(range(1, EPOCHS + 1)), where()
            # Across processes: equal to float tolerance (in-process resumes
            # above are compared bit for bit).
            hist, test = _figures(run)
            assert len(hist) == len(reference[0]), where()
            for row, ref in zip(hist, reference[0]):
                assert row == pytest.approx(ref, rel=1e-6, abs=1e-9), where()
            assert test == pytest.approx(reference[1], rel=1e-6, abs=1e-9), where()
    finally:
        if spare:
            spare.kill()
            spare.wait()
        for f in errs:
            f.close()
    print(where())


@pytest.mark.parametrize("how", ["swallowed signal", "cancel file", "signal became another error"])
def test_a_cancel_the_fit_never_saw_still_stops_it_and_a_rerun_trains_on(how, data, reference, tmp_path, monkeypatch):
    """A SIGTERM whose exception was swallowed inside fit (the handler ran while a
    finalizer or a library's broad except was on the stack), a Cancel file that
    appeared mid-epoch, or a Cancel whose signal landed inside a library's write
    and came out as that library's error: training stops within a batch or two,
    the run reads cancelled/interrupted (never `failed`, never `finished`), and a
    rerun trains the rest."""
    from core import train

    cancel = tmp_path / "CANCEL"
    monkeypatch.setenv("CNNLAB_CANCEL_FILE", str(cancel))

    def at_epoch(row):
        if row["epoch"] == 2:  # as the handler does, minus the exception that got lost
            if how == "cancel file":
                cancel.touch()
            else:
                train._SIGNALLED.append(signal.SIGTERM)
            if how == "signal became another error":  # as h5py reports a write cut by a signal
                raise OSError("Can't write data (file write failed)")

    cfg = _config(epochs=50)
    with pytest.raises(KeyboardInterrupt):
        train_run(cfg, tmp_path / "runs", data, verbose=0, on_epoch=at_epoch)
    run = Run(run_path(cfg, tmp_path / "runs"))
    assert run.status == ("cancelled" if how == "cancel file" else "interrupted")
    assert "error" not in run.meta
    assert [r["epoch"] for r in run.history] == [1, 2]  # epoch 3 never got far
    assert not read_json(run.path / "backup" / STATE, {}).get("finished")
    cancel.unlink(missing_ok=True)
    cfg["train"]["epochs"] = 4
    run, outcome = train_run(cfg, tmp_path / "runs", data, verbose=0)
    assert outcome == "done" and [r["epoch"] for r in run.history] == [1, 2, 3, 4]
