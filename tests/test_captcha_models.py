"""Seed 002 part II: the two captcha models as its tables, and label files."""
import keras
import numpy as np
import pytest

from core.captcha import ALPHABET, LabelError, decode, encode, read_labels
from core.models import build_model, summary_rows


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
