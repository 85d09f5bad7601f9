"""`python -m experiments` end to end on the two-epoch smoke experiment."""
import json
import subprocess
import sys

import keras

from conftest import REPO


def cli(env, *args, timeout=180):
    return subprocess.run([sys.executable, "-m", "experiments", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_run_skip_force_show(cli_env, tmp_path):
    first = cli(cli_env, "run", "mnist-smoke", "--seeds", "2", "--verbose", "2")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count(": done, test accuracy") == 2
    runs = sorted((tmp_path / "runs" / "mnist-smoke").iterdir())
    assert [r.name[:3] for r in runs] == ["s0-", "s1-"]
    for r in runs:
        for name in ("config.json", "meta.json", "history.csv", "summary.json", "model.keras"):
            assert (r / name).is_file(), name
        assert not (r / "backup").exists()
        meta = json.loads((r / "meta.json").read_text())
        assert meta["status"] == "done" and meta["seed"] in (0, 1)
        assert "keras" in meta["versions"] and meta["device"]["device"]
        assert "commit" in meta["git"]
        model = keras.models.load_model(r / "model.keras", safe_mode=True)
        assert [layer.name for layer in model.layers][-1] == "out"
        assert not hasattr(model, "optimizer")  # inference copy, a third of the size
        summary = json.loads((r / "summary.json").read_text())
        assert summary["epochs_run"] == 2 and 0 <= summary["test"]["accuracy"] <= 1
        lines = (r / "history.csv").read_text().splitlines()
        assert lines[0].split(",")[:1] == ["epoch"] and "lr" in lines[0] and "seconds" in lines[0]
        assert len(lines) == 3

    again = cli(cli_env, "run", "mnist-smoke", "--seeds", "2")
    assert again.returncode == 0 and again.stdout.count("already done, skipped") == 2

    forced = cli(cli_env, "run", "mnist-smoke", "--seed", "1", "--force", "--verbose", "0")
    assert forced.returncode == 0 and "done, test accuracy" in forced.stdout

    show = cli(cli_env, "show", f"mnist-smoke/{runs[0].name}")
    assert show.returncode == 0
    assert '"experiment": "mnist-smoke"' in show.stdout and '"test"' in show.stdout

    listing = cli(cli_env, "list")
    assert "mnist-seed-cnn2" in listing.stdout and "mnist-fair-cnn1" in listing.stdout


def test_unknown_experiment_exits_2(cli_env):
    r = cli(cli_env, "run", "mnist-cnn9")
    assert r.returncode == 2 and "unknown experiment 'mnist-cnn9'" in r.stderr


def test_bad_override_exits_2(cli_env):
    r = cli(cli_env, "run", "mnist-smoke", "--set", "train.batch_size=0")
    assert r.returncode == 2 and "train.batch_size" in r.stderr


def test_bad_config_file_exits_2(cli_env, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"experiment": "mine", "data": {"dataset": "mnist"},
                               "model": {"name": "mnist_cnn1"},
                               "train": {"epochs": 2, "batch_size": 8, "warmup": 3}}))
    r = cli(cli_env, "run", "--config", str(bad))
    assert r.returncode == 2 and "train.warmup: unknown key" in r.stderr
    bad.write_text("{not json")
    r = cli(cli_env, "run", "--config", str(bad))
    assert r.returncode == 2 and "cannot read config" in r.stderr


def test_missing_data_exits_2_naming_the_files(cli_env, tmp_path):
    env = {**cli_env, "CNNLAB_DATA_DIR": str(tmp_path / "empty")}
    r = cli(env, "run", "mnist-smoke")
    assert r.returncode == 2 and "mnist.npz" in r.stderr and "train-images-idx3-ubyte.gz" in r.stderr


def test_show_unknown_run_exits_2(cli_env):
    r = cli(cli_env, "show", "nope/s0-x")
    assert r.returncode == 2 and "no run 'nope/s0-x'" in r.stderr
