import numpy as np
import pytest

from conftest import make_digits, write_idx
from experiments.mnist.data import load_splits
from experiments.mnist.loader import MnistNotFound, load_mnist, read_idx


def test_idx_files_load_gzipped_or_raw(tmp_path):
    x, y = make_digits(30, 3)
    xs, ys = make_digits(10, 4)
    for name, arr, gz in [("train-images-idx3-ubyte", x, True), ("train-labels-idx1-ubyte", y, False),
                          ("t10k-images-idx3-ubyte", xs, False), ("t10k-labels-idx1-ubyte", ys, True)]:
        write_idx(tmp_path / (name + (".gz" if gz else "")), arr, gz=gz)
    (a, b), (c, d) = load_mnist(tmp_path)
    np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(b, y)
    np.testing.assert_array_equal(c, xs)
    np.testing.assert_array_equal(d, ys)


def test_npz_in_mnist_subfolder_is_preferred(tmp_path):
    x, y = make_digits(20, 5)
    (tmp_path / "mnist").mkdir()
    np.savez(tmp_path / "mnist" / "mnist.npz", x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])
    (a, b), (c, _) = load_mnist(tmp_path)
    assert a.shape == (20, 28, 28) and c.shape == (5, 28, 28)
    np.testing.assert_array_equal(b, y)


def test_missing_data_offline_names_the_files(tmp_path):
    with pytest.raises(MnistNotFound) as e:
        load_mnist(tmp_path, allow_download=False)
    msg = str(e.value)
    assert "mnist.npz" in msg and "train-images-idx3-ubyte.gz" in msg and str(tmp_path) in msg


def test_truncated_idx_is_rejected(tmp_path):
    x, _ = make_digits(5, 0)
    write_idx(tmp_path / "bad", x, gz=False)
    (tmp_path / "bad").write_bytes((tmp_path / "bad").read_bytes()[:-10])
    with pytest.raises(ValueError, match="bytes follow"):
        read_idx(tmp_path / "bad")


def test_real_mnist_through_the_data_dir(real_data):
    (x, y), (xs, ys) = load_mnist(real_data)
    assert x.shape == (60000, 28, 28) and xs.shape == (10000, 28, 28)
    assert set(np.unique(y)) == set(range(10))
    assert x.dtype == np.uint8


# Sample counts read off the seed's Keras logs, per experiment.
SEED_SPLITS = {"mnist-seed-nn1": (22000, 5500), "mnist-seed-nn1-20ep": (5500, 1375),
               "mnist-seed-nn2": (2750, 688), "mnist-seed-cnn1": (22000, 5500),
               "mnist-seed-cnn1-15ep": (11000, 2750), "mnist-seed-cnn2": (48000, 12000),
               "mnist-fair-cnn2": (55000, 5000)}


@pytest.mark.parametrize("name,sizes", SEED_SPLITS.items())
def test_protocol_splits_match_the_seed_logs(name, sizes, real_data):
    from experiments import get_config
    d = load_splits(get_config(name)["data"], seed=0, data_dir=real_data)
    assert (len(d["y_train"]), len(d["y_val"])) == sizes
    assert len(d["y_test"]) == 10000
    assert d["x_train"].shape[1:] == (28, 28, 1) and d["x_train"].max() <= 1.0


def test_random_subsets_are_seeded_and_disjoint(tiny_mnist):
    cfg = {"dataset": "mnist", "pool": "train55k", "pool_size": 300, "subset": "random",
           "val_fraction": 0.2}
    a, b, c = (load_splits(cfg, s, tiny_mnist) for s in (0, 0, 1))
    np.testing.assert_array_equal(a["x_train"], b["x_train"])
    assert not np.array_equal(a["x_train"], c["x_train"])
    assert (len(a["y_train"]), len(a["y_val"])) == (240, 60)
    flat_tr = {t.tobytes() for t in a["x_train"]}
    assert not any(v.tobytes() in flat_tr for v in a["x_val"])


def test_pixel_scale_option(tiny_mnist):
    from experiments.mnist.data import load_splits
    cfg = {"dataset": "mnist", "pool": "train60k", "pool_size": 300, "subset": "first", "val_size": 50}
    scaled = load_splits(cfg, 0, tiny_mnist)
    raw = load_splits({**cfg, "pixel_scale": 1}, 0, tiny_mnist)
    assert scaled["x_train"].max() <= 1.0 < raw["x_train"].max() <= 255.0
    assert (raw["x_train"] / 255.0 == scaled["x_train"]).all()


# --- the automatic download, without a network ------------------------------------

@pytest.fixture
def fake_keras_download(tmp_path, monkeypatch):
    """Keras's get_file runs for real (its argument checks, cache folder,
    checksum); only the network call under it writes a small mnist.npz."""
    import hashlib

    from keras.src.utils import file_utils

    import experiments.mnist.loader as m
    x, y = make_digits(30, 7)
    src = tmp_path / "served.npz"
    np.savez(src, x_train=x, y_train=y, x_test=x[:6], y_test=y[:6])
    calls = []

    def urlretrieve(url, target, progress=None):
        calls.append((url, target))
        with open(target, "wb") as f:
            f.write(src.read_bytes())

    monkeypatch.setattr(file_utils, "urlretrieve", urlretrieve)
    monkeypatch.setattr(m, "KERAS_SHA256", hashlib.sha256(src.read_bytes()).hexdigest(), raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    return calls, x


def test_download_goes_through_keras_into_the_data_dir(tmp_path, fake_keras_download):
    calls, x = fake_keras_download
    root = tmp_path / "data"  # does not exist yet
    (a, _), (c, _) = load_mnist(root, allow_download=True)
    np.testing.assert_array_equal(a, x)
    assert c.shape == (6, 28, 28)
    from experiments.mnist.loader import KERAS_URL
    assert calls == [(KERAS_URL, str((root / "mnist" / "mnist.npz").absolute()))]
    assert (root / "mnist" / "mnist.npz").is_file()  # where the README says
    assert not (tmp_path / "keras-home").exists()   # not in ~/.keras
    load_mnist(root, allow_download=True)           # a second load reads the file: no new download
    assert len(calls) == 1


def test_a_failed_download_explains_and_leaves_nothing(tmp_path, fake_keras_download, monkeypatch):
    from keras.src.utils import file_utils

    def no_network(url, target, progress=None):
        open(target, "wb").write(b"half")
        raise OSError("Network is unreachable")
    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    with pytest.raises(MnistNotFound, match="download failed.*Network is unreachable"):
        load_mnist(tmp_path, allow_download=True)
    assert not (tmp_path / "mnist" / "mnist.npz").exists()


def test_a_corrupted_download_is_refused(tmp_path, fake_keras_download, monkeypatch):
    import experiments.mnist.loader as m
    monkeypatch.setattr(m, "KERAS_SHA256", "0" * 64)
    with pytest.raises(MnistNotFound, match="download failed"):
        load_mnist(tmp_path, allow_download=True)
    assert not (tmp_path / "mnist" / "mnist.npz").exists()  # never taken for MNIST next time


def test_download_command_offline_says_why(tmp_path, capsys):
    from experiments.mnist.loader import main
    assert main(["--data-dir", str(tmp_path), "download"]) == 2
    assert "downloads are disabled" in capsys.readouterr().err
