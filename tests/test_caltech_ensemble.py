"""Seed ensembles (experiments/caltech/ensemble.py): averaged softmax, flip averaging,
and the report's guard against records of other runs. Runs are written here
with small untrained models on the tiny Caltech folder; nothing trains."""
import json

import keras
import numpy as np
import pytest

from experiments.caltech import data as c50
from experiments.caltech import ensemble
from experiments.caltech.evaluate import PROBS, read_probs, write_probs
from experiments.caltech.report import BEST_ROWS, ensemble_rows
from core.records import config_hash
from core.results import experiment_rows

NAME = "c50-best"  # a best-combination row, so the report lists its ensemble
CFG = {"title": "t", "group": "c50-best", "data": {"dataset": "caltech50", "image_size": 16},
       "model": {"name": "tiny", "kwargs": {}}, "train": {"epochs": 1, "batch_size": 4}}
BASE = {**CFG, "group": "c50", "model": {"name": "tiny-base", "kwargs": {}}}


def _declared():
    return {NAME: lambda quick=False: json.loads(json.dumps(CFG)),
            "c50-baseline": lambda quick=False: json.loads(json.dumps(BASE))}


def _write_run(root, name, cfg, seed, acc, with_model=True):
    path = root / name / f"s{seed}-{config_hash({**cfg, 'seed': 0})}"
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({**cfg, "seed": seed, "experiment": name}))
    (path / "meta.json").write_text(json.dumps({"status": "done", "seed": seed}))
    # a finished run has one history row per epoch trained (else it reads "unreadable")
    (path / "history.csv").write_text("epoch,loss\n1,1.0\n")
    (path / "summary.json").write_text(json.dumps({
        "test": {"accuracy": acc}, "epochs_run": 1, "seconds_per_epoch_median": 1.0,
        "n_train": 1, "n_val": 1, "params": 1}))
    if with_model:
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Rescaling(1 / 255),
                                  keras.layers.Flatten(), keras.layers.Dense(6, activation="softmax")])
        model.save(path / "model.keras")
    return path


@pytest.fixture
def two_seeds(tiny_caltech, tmp_path):
    root = tmp_path / "runs"
    paths = [_write_run(root, NAME, CFG, s, 0.5) for s in (0, 1)]
    _write_run(root, "c50-baseline", BASE, 0, 0.2, with_model=False)
    return root, paths


def test_ensemble_averages_the_members_softmax_plain_and_mirrored(two_seeds, tiny_caltech):
    root, paths = two_seeds
    rec = ensemble.write(NAME, root, tiny_caltech, experiments=_declared())

    data = c50.load_splits(CFG["data"], 0, tiny_caltech)
    x, y = data["x_test"], data["y_test"]
    models = [keras.saving.load_model(p / "model.keras", safe_mode=True) for p in paths]
    plain = [m.predict(x, verbose=0) for m in models]
    mirrored = [m.predict(x[:, :, ::-1], verbose=0) for m in models]
    want = np.mean(np.argmax(np.mean(plain, 0), 1) == y)
    want_flip = np.mean(np.argmax(np.mean(plain + mirrored, 0), 1) == y)
    assert rec["test"]["accuracy"] == pytest.approx(want)
    assert rec["test_flip"]["accuracy"] == pytest.approx(want_flip)
    assert [m["seed"] for m in rec["members"]] == [0, 1]
    assert rec["members"][1]["test"]["accuracy"] == pytest.approx(np.mean(plain[1].argmax(1) == y))
    assert rec["n_test"] == len(y) and rec["git"]["commit"]
    assert json.loads((root / NAME / ensemble.FILE).read_text())["test"] == rec["test"]


def test_stored_outputs_make_the_ensemble_without_models_or_images(two_seeds, tiny_caltech, tmp_path):
    """A fresh checkout has the runs' test_probs.npz but neither the model files
    (not committed) nor the images: the ensemble comes out the same."""
    root, paths = two_seeds
    first = ensemble.write(NAME, root, tiny_caltech, experiments=_declared())
    for p in paths:  # written from each model on the first call
        assert read_probs(p / PROBS)["plain"].shape[0] == first["n_test"]
        (p / "model.keras").unlink()
    again = ensemble.write(NAME, root, tmp_path / "no-images-here", experiments=_declared())
    assert again["test"] == first["test"] and again["test_flip"] == first["test_flip"]

    # A corrupt file is not an output: with no model to recompute it, that run is left out.
    (paths[1] / PROBS).write_bytes(b"PK\x03\x04 cut short")
    assert [r.path for r in ensemble.member_runs(NAME, root, _declared())] == [paths[0]]


def test_a_record_is_not_replaced_by_one_that_drops_members(two_seeds, tiny_caltech):
    """An old member whose model file is gone and whose outputs were never
    stored cannot be re-evaluated; rewriting would silently shrink the
    ensemble, so the old record is kept unless forced."""
    root, paths = two_seeds
    first = ensemble.write(NAME, root, tiny_caltech, experiments=_declared())
    (paths[0] / PROBS).unlink()
    (paths[0] / "model.keras").unlink()
    with pytest.raises(ValueError, match=f"{NAME}/{paths[0].name}.*old record is kept"):
        ensemble.write(NAME, root, tiny_caltech, experiments=_declared())
    assert ensemble.read(NAME, root)["members"] == first["members"]

    forced = ensemble.write(NAME, root, tiny_caltech, experiments=_declared(), force=True)
    assert [m["run"] for m in forced["members"]] == [f"{NAME}/{paths[1].name}"]

    # A record of another declaration is no guard: it is replaced.
    old = {**first, "config_hash": "00000000"}
    (root / NAME / ensemble.FILE).write_text(json.dumps(old))
    assert len(ensemble.write(NAME, root, tiny_caltech, experiments=_declared())["members"]) == 1


def test_members_tested_on_other_splits_are_refused(two_seeds, tiny_caltech):
    root, paths = two_seeds
    ensemble.write(NAME, root, tiny_caltech, experiments=_declared())
    out = read_probs(paths[1] / PROBS)
    write_probs(paths[1] / PROBS, out["y"][::-1], out["plain"], out["mirrored"])
    with pytest.raises(ValueError, match="another split"):
        ensemble.write(NAME, root, tiny_caltech, experiments=_declared())


def test_report_row_says_when_more_seeds_finished_and_drops_other_declarations(two_seeds, tiny_caltech):
    root, _ = two_seeds
    rec = ensemble.write(NAME, root, tiny_caltech, experiments=_declared())
    rows = experiment_rows(root, _declared())
    [row] = ensemble_rows("en", rows, root)
    assert row["members"] == "2"
    acc = 100 * rec["test"]["accuracy"]
    assert row["ensemble %"].startswith(f"{acc:.2f} ({acc - 20:+.2f}")

    _write_run(root, NAME, CFG, 2, 0.5, with_model=False)  # a third seed finished since
    [row] = ensemble_rows("en", experiment_rows(root, _declared()), root)
    assert row["members"] == "2 of 3 finished"

    # A record whose members are runs of another config is not shown.
    rec["members"][0]["run"] = f"{NAME}/s0-00000000"
    (root / NAME / ensemble.FILE).write_text(json.dumps(rec))
    assert ensemble_rows("en", experiment_rows(root, _declared()), root) == []
    assert NAME in BEST_ROWS


def test_no_model_on_this_machine_is_a_clear_error(tiny_caltech, tmp_path):
    root = tmp_path / "runs"
    _write_run(root, NAME, CFG, 0, 0.5, with_model=False)
    with pytest.raises(ValueError, match="no finished run with stored test outputs"):
        ensemble.write(NAME, root, tiny_caltech, experiments=_declared())


def test_cli_refuses_unknown_and_untrained_experiments(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import REPO
    env = {**os.environ, "PYTHONPATH": str(REPO), "CNNLAB_RUNS_DIR": str(tmp_path / "runs")}
    for name, said in (("c50-nope", "unknown 50-class experiment"), ("c50-best-long", "train it first")):
        r = subprocess.run([sys.executable, "-m", "experiments.caltech", "ensemble", name], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and said in r.stderr, r.stderr[-1000:]
