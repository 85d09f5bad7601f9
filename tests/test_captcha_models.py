"""Seed 002 part II: the two captcha models as its tables, and label files."""
import keras
import numpy as np
import pytest

from experiments.captcha import ALPHABET, LabelError, decode, encode, read_labels
from core.registry import build_model, summary_rows


@pytest.mark.parametrize("name,total,frozen,channels", [
    ("captcha_seed1", 866_412, 128, 3), ("captcha_seed2", 880_300, 512, 1)])
def test_captcha_models_match_the_seed_tables(name, total, frozen, channels, tmp_path):
    model = build_model(name)
    assert model.count_params() == total
    assert sum(int(np.prod(w.shape)) for w in model.non_trainable_weights) == frozen
    assert tuple(model.input.shape) == (None, 50, 130, channels)
    assert [tuple(o.shape) for o in model.outputs] == [(None, 19)] * 4
    model.save(tmp_path / "m.keras")
    keras.models.load_model(tmp_path / "m.keras", safe_mode=True)


def test_model2_feature_map_shapes():
    rows = {r["layer"]: r for r in summary_rows(build_model("captcha_seed2"))}
    assert rows["conv410_W1"]["output_shape"] == "(None, 2, 12, 256)"
    assert rows["flatten_1"]["output_shape"] == "(None, 1536)"
    assert rows["fc13_W1"]["params"] == 29_203


def test_label_file_with_crlf_and_lower_case(tmp_path):
    f = tmp_path / "labels.csv"
    f.write_bytes(b"7f37\r\nmm5f\r\nMT3C\r\n")
    assert read_labels(f) == ["7F37", "MM5F", "MT3C"]
    assert decode(encode("mm5f")) == "MM5F" and len(ALPHABET) == 19


def test_bad_label_line_is_named(tmp_path):
    f = tmp_path / "labels.csv"
    f.write_bytes(b"7f37\r\nmm5\r\nmt3c\r\n")
    with pytest.raises(LabelError, match=r"line 2: 'mm5' has 3 characters"):
        read_labels(f)
    f.write_bytes(b"7f37\nmm5B\n")
    with pytest.raises(LabelError, match=r"line 2: 'mm5B' character\(s\) 'B' not in the alphabet"):
        read_labels(f)


def test_real_label_files_parse(real_data):
    root = real_data / "thsr-captcha"
    if not root.exists():
        pytest.skip(f"no thsr-captcha under {real_data}")
    assert len(read_labels(root / "handlabeled-5000" / "labels.csv")) == 5000
    assert len(read_labels(root / "verified-11000" / "labels.csv")) == 11000


@pytest.mark.parametrize("name,total,shape", [("captcha_fast", 634_412, (32, 96, 1)),
                                              ("captcha_net", 834_284, (40, 112, 1))])
def test_our_captcha_models_fit_the_default_model_budget(name, total, shape, tmp_path):
    """Ours: fixed size, four 19-way heads, under 5 MB on disk, loadable with
    safe_mode, and the augmentation layers inactive at inference."""
    model = build_model(name)
    assert model.count_params() == total
    assert tuple(model.input.shape) == (None, *shape)
    assert [tuple(o.shape) for o in model.outputs] == [(None, 19)] * 4
    model.save(tmp_path / "m.keras")
    assert (tmp_path / "m.keras").stat().st_size <= 5 * 1024 * 1024
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    x = np.random.default_rng(0).random((2, *shape)).astype("float32")
    a = loaded.predict_on_batch(x)
    b = loaded.predict_on_batch(x)
    assert all(np.allclose(p, q) for p, q in zip(a, b))


def test_random_frame_pads_with_white_or_edge_and_is_off_at_inference(tmp_path):
    """RandomFrame (captcha-net-frame's augmentation): identity outside fit();
    when it shrinks the content, the new border is white (1.0) in some images
    and a copy of the edge pixels in the others; the model saves and loads
    with safe_mode."""
    from experiments.captcha.models import RandomFrame
    x = np.full((64, 20, 40, 1), 0.5, "float32")
    layer = RandomFrame(height=(0.4, 0.5), width=(0.0, 0.0), shift=0.0, white=0.5, seed=3)
    assert np.array_equal(np.asarray(layer(x)), x)
    y = np.asarray(layer(x, training=True))
    top_rows = y[:, 0, :, 0].mean(axis=1)  # a 40-50 % shrink leaves rows 0-2 as border
    white = np.isclose(top_rows, 1.0)
    assert 10 < white.sum() < 54, "both fills in use"
    assert np.allclose(top_rows[~white], 0.5), "edge fill repeats the edge"
    assert np.allclose(y[:, 10, 20, 0], 0.5), "the content stays in the middle"

    model = build_model("captcha_net", frame={"height": [-0.15, 0.3], "width": [-0.1, 0.15]})
    assert model.count_params() == 834_284
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras", safe_mode=True)
    assert loaded.get_layer("frame").height == (-0.15, 0.3)


def test_word_accuracy_logs_the_audited_validation_figure():
    from experiments.captcha import task
    from experiments.captcha.data import Item

    class Fixed(keras.Model):  # reads every captcha as "ACFH"
        def call(self, x):
            n = keras.ops.shape(x)[0]
            return [keras.ops.one_hot(keras.ops.full((n,), i), 19) for i in encode("ACFH")]

    y = np.array([encode("ACFH"), encode("ACFK")])
    cb = task.WordAccuracy(np.zeros((2, 4, 4, 1), "float32"), y, y_audited=np.array([encode("ACFH")] * 2))
    cb.set_model(Fixed())
    logs = {}
    cb.on_epoch_end(0, logs)
    assert logs["val_exact_match"] == 0.5 and logs["val_exact_match_audited"] == 1.0
    assert task.audited_labels([Item("x", 1, None, "ACFK", "")], y[1:]) is None  # nothing audited here
    audited = Item("verified-11000", 6432, None, "ZP2Y", "")  # a committed verdict: the image reads 2H2Y
    fixed = task.audited_labels([Item("x", 1, None, "ACFK", ""), audited], np.array([encode("ACFK"), encode("ZP2Y")]))
    assert [decode(r) for r in fixed] == ["ACFK", "2H2Y"]
