import numpy as np
import pytest

from conftest import make_digits, write_idx
from core.data import load_splits
from core.mnist import MnistNotFound, load_mnist, read_idx


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
    from core.data import load_splits
    cfg = {"dataset": "mnist", "pool": "train60k", "pool_size": 300, "subset": "first", "val_size": 50}
    scaled = load_splits(cfg, 0, tiny_mnist)
    raw = load_splits({**cfg, "pixel_scale": 1}, 0, tiny_mnist)
    assert scaled["x_train"].max() <= 1.0 < raw["x_train"].max() <= 255.0
    assert (raw["x_train"] / 255.0 == scaled["x_train"]).all()
