"""The 50-class pages' calculators (experiments/caltech/tools.py) against Keras itself,
and their widgets (experiments/caltech/app.py) in AppTests on run folders written here."""
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO
from experiments.caltech import tools
from experiments.caltech.models import NO_AUGMENT


# --- padding -----------------------------------------------------------------------

def test_padding_formula_matches_real_keras_layers():
    checked = 0
    for n in (5, 7, 8, 13):
        for f in (1, 2, 3, 5):
            for s in (1, 2, 3):
                for p in (0, 1, 2, "same", "valid"):
                    size = tools.conv_output_size(n, f, s, p)
                    real = tools.keras_output_size(n, f, s, p)
                    assert real == size.keras, (n, f, s, p)
                    if p == "same":
                        assert real == -(-n // s)  # ceil(n / s)
                        continue
                    pad = 0 if p == "valid" else 2 * p
                    assert size.exact == Fraction(n + pad - f, s) + 1
                    if size.is_integer:
                        assert real == size.exact
                    else:  # Keras drops the last partial window
                        assert real == int(np.floor(float(size.exact)))
                    checked += 1
    assert checked == 4 * 4 * 3 * 4


def test_padding_examples_and_same_split():
    s = tools.conv_output_size(7, 3, 2, 0)
    assert (s.exact, s.is_integer, s.keras) == (3, True, 3)
    s = tools.conv_output_size(8, 3, 2, 0)
    assert (s.exact, s.is_integer, s.keras) == (Fraction(7, 2), False, 3)
    s = tools.conv_output_size(8, 3, 2, "same")  # needs 1 pixel: it goes bottom/right
    assert (s.keras, s.pad_total, s.pad_before, s.pad_after) == (4, 1, 0, 1)
    s = tools.conv_output_size(7, 5, 1, "same")
    assert (s.pad_total, s.pad_before, s.pad_after, s.exact) == (4, 2, 2, 7)
    s = tools.conv_output_size(3, 5, 1, 0)
    assert s.keras is None and tools.keras_output_size(3, 5, 1, 0) is None


def test_same_padding_puts_the_odd_pixel_after():
    """A 2x2 kernel that copies its top-left input: with no padding before, the
    output is the input itself (TF pads bottom/right), as tools says."""
    import keras
    size = tools.conv_output_size(4, 2, 1, "same")
    assert (size.pad_before, size.pad_after) == (0, 1)
    conv = keras.layers.Conv2D(1, 2, padding="same", use_bias=False)
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1) + 1
    conv.build(x.shape)
    w = np.zeros((2, 2, 1, 1), "float32")
    w[0, 0] = 1
    conv.set_weights([w])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(conv(x)), x)


def test_padding_grid():
    g = tools.padding_grid(3, 3, 1)
    assert len(g) == 25 and (g["kind"] == "input").sum() == 9 and (g["kind"] == "padding").sum() == 16
    assert g["window"].sum() == 9
    g = tools.padding_grid(64, 3, 2)  # capped at 20 cells wide
    assert g["row"].max() == 19 and g.attrs["shown_n"] == 16
    g = tools.padding_grid(4, 2, (0, 1))
    inside = g[g["kind"] == "input"]
    assert inside["row"].min() == 0 and inside["row"].max() == 3 and g["row"].max() == 4


# --- activations, class weights ------------------------------------------------------

def test_activation_derivatives():
    df = tools.activation_frame()
    assert set(df["activation"]) == {"relu", "sigmoid", "gelu", "tanh"}
    sig = df[df["activation"] == "sigmoid"].set_index("x")
    assert sig.loc[0.0, "derivative"] == pytest.approx(0.25, abs=1e-6)
    assert sig.loc[0.0, "value"] == pytest.approx(0.5)
    relu = df[df["activation"] == "relu"]
    assert (relu[relu["x"] < -1e-3]["derivative"].abs() < 1e-9).all()
    assert np.allclose(relu[relu["x"] > 1e-3]["derivative"], 1.0)
    tanh = df[df["activation"] == "tanh"].set_index("x")
    assert tanh.loc[0.0, "derivative"] == pytest.approx(1.0, abs=1e-6)


def test_the_stored_activation_curves_are_what_keras_computes():
    """experiments/caltech/activations.csv (read by the page without Keras) against
    Keras today; on failure run `python -m experiments.caltech.tools`."""
    stored, fresh = tools.stored_activation_frame(), tools.activation_frame()
    assert list(stored.columns) == list(fresh.columns) and len(stored) == len(fresh)
    assert list(stored["activation"]) == list(fresh["activation"])
    for col in ("x", "value", "derivative"):
        np.testing.assert_allclose(stored[col], fresh[col], rtol=1e-12, atol=1e-15, err_msg=col)


def test_class_weight_frame_both_formulas():
    df = tools.class_weight_frame([5, 10, 2], ["b", "a", "c"])
    assert list(df["class"]) == ["a", "b", "c"] and list(df["rank"]) == [1, 2, 3]
    assert list(df["count"]) == [10, 5, 2]
    assert np.allclose(df["weight_formula1"], [1, 2, 5])
    assert np.allclose(df["weight_formula2"], [17 / 30, 17 / 15, 17 / 6])
    # formula 2 averages to 1 over the images
    assert (df["weight_formula2"] * df["count"]).sum() == pytest.approx(17)


# --- per-class accuracy --------------------------------------------------------------

def write_run(path: Path, classes, train_counts, labels, preds):
    path.mkdir(parents=True)
    (path / "classes.json").write_text(json.dumps({
        "classes": classes, "train_counts": train_counts,
        "val_counts": [1] * len(classes), "test_counts": np.bincount(labels, minlength=len(classes)).tolist()}))
    rows = ["index,label,prediction,confidence"] + [f"{i},{a},{b},0.5" for i, (a, b) in enumerate(zip(labels, preds))]
    (path / "predictions.csv").write_text("\n".join(rows) + "\n")


def test_per_class_frame_and_head_tail(tmp_path):
    classes = ["a", "b", "c", "d"]
    counts = [40, 30, 20, 10]
    labels = [0, 0, 1, 1, 2, 2, 3, 3]
    # run 1: a 2/2, b 1/2, c 0/2, d 1/2; run 2: a 1/2, b 1/2, c 1/2, d 2/2
    write_run(tmp_path / "exp" / "s0", classes, counts, labels, [0, 0, 1, 0, 0, 1, 3, 0])
    write_run(tmp_path / "exp" / "s1", classes, counts, labels, [0, 1, 1, 2, 2, 1, 3, 3])
    (tmp_path / "exp" / "s2").mkdir()  # unfinished: no predictions yet
    runs = {"exp": [tmp_path / "exp" / s for s in ("s0", "s1", "s2")]}
    df = tools.per_class_frame(runs, head_n=1).set_index("class")
    assert df.loc["a", "accuracy"] == pytest.approx(0.75)
    assert df.loc["c", "accuracy"] == pytest.approx(0.25)
    assert df.loc["d", "accuracy"] == pytest.approx(0.75)
    assert df.loc["a", "train_count"] == 40 and df.loc["a", "runs"] == 2
    assert df.loc["a", "group"] == "head" and df.loc["d", "group"] == "tail" and df.loc["b", "group"] == "middle"

    ht = tools.head_tail_frame(runs, head_n=2).set_index("group")
    # head = a, b: run means 0.75 and 0.5; tail = c, d: 0.25 and 0.75
    assert ht.loc["head", "accuracy"] == pytest.approx(0.625)
    assert ht.loc["head", "std"] == pytest.approx(np.std([0.75, 0.5], ddof=1))
    assert ht.loc["tail", "accuracy"] == pytest.approx(0.5)
    assert ht.loc["tail", "std"] == pytest.approx(np.std([0.25, 0.75], ddof=1))
    assert ht.loc["tail", "runs"] == 2
    # one run: no std
    one = tools.head_tail_frame({"exp": [tmp_path / "exp" / "s0"]}, head_n=2)
    assert one["std"].isna().all()
    assert tools.per_class_frame({"exp": []}).empty and tools.head_tail_frame({}).empty


def test_mirror_frame_compares_original_and_mirrored_test_images(tmp_path):
    from experiments.caltech.evaluate import PROBS, write_probs
    y = np.array([0, 1, 2, 3])
    eye = np.eye(4, dtype="float32")
    # s0: right on all four as they are, on one mirrored; s1: 3 of 4 both ways.
    (tmp_path / "e" / "s0").mkdir(parents=True)
    write_probs(tmp_path / "e" / "s0" / PROBS, y, eye[y], eye[[0, 0, 0, 0]])
    (tmp_path / "e" / "s1").mkdir()
    write_probs(tmp_path / "e" / "s1" / PROBS, y, eye[[0, 1, 2, 0]], eye[[0, 1, 0, 3]])
    (tmp_path / "e" / "s2").mkdir()  # no stored outputs: left out
    (tmp_path / "e" / "s2" / PROBS).write_bytes(b"not a zip")
    mf = tools.mirror_frame({"e": [tmp_path / "e" / s for s in ("s0", "s1", "s2")],
                             "empty": []}).set_index("experiment")
    assert list(mf.index) == ["e"] and mf.loc["e", "runs"] == 2
    assert mf.loc["e", "original"] == pytest.approx((1 + 0.75) / 2)
    assert mf.loc["e", "mirrored"] == pytest.approx((0.25 + 0.75) / 2)
    assert mf.loc["e", "drop"] == pytest.approx(0.375)


# --- augmentation --------------------------------------------------------------------

def _images(n=3, size=16):
    return np.random.default_rng(0).integers(0, 256, (n, size, size, 3)).astype("uint8")


def test_augmentation_preview_is_deterministic_per_seed():
    x = _images()
    spec = {"flip": "horizontal_and_vertical", "rotation": 0.2, "zoom": 0.1, "translation": 0.1,
            "contrast": 0.3}
    a = tools.augmentation_preview(x, spec, 4, seed=1)
    assert a.shape == (12, 16, 16, 3) and a.dtype == np.uint8
    assert np.array_equal(a, tools.augmentation_preview(x, spec, 4, seed=1))
    assert not np.array_equal(a, tools.augmentation_preview(x, spec, 4, seed=2))
    off = tools.augmentation_preview(x, dict(NO_AUGMENT), 2, seed=1)
    assert np.array_equal(off, np.repeat(x, 2, axis=0))


def test_horizontal_flip_gives_the_image_or_its_mirror():
    x = _images(2)
    out = tools.augmentation_preview(x, {"flip": "horizontal"}, 8, seed=3)
    flipped = 0
    for i in range(len(out)):
        src = x[i // 8]
        same, mirror = np.array_equal(out[i], src), np.array_equal(out[i], src[:, ::-1])
        assert same or mirror
        flipped += mirror
    assert 0 < flipped < len(out)  # this seed flips some copies and not others


def test_sample_images_spread_over_classes(tiny_caltech):
    images, names = tools.sample_images(4, 24, seed=0, data_dir=tiny_caltech, with_classes=True)
    assert images.shape == (4, 24, 24, 3) and images.dtype == np.uint8
    assert len(set(names)) == 4 and not {"BACKGROUND_Google", "Faces_easy"} & set(names)
    assert np.array_equal(images, tools.sample_images(4, 24, seed=0, data_dir=tiny_caltech))
    assert len(tools.sample_images(9, 24, seed=1, data_dir=tiny_caltech)) == 9  # more than the 6 classes


def test_sample_images_from_the_real_dataset(real_caltech, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(tmp_path / "cache"))
    images, names = tools.sample_images(6, 32, seed=0, data_dir=real_caltech, with_classes=True)
    assert images.shape == (6, 32, 32, 3) and images.dtype == np.uint8
    assert len(set(names)) == 6  # spread over classes
    out = tools.augmentation_preview(images, {"rotation": 0.2}, 2, seed=0)
    assert out.shape == (12, 32, 32, 3)


def test_sample_images_without_the_dataset(tmp_path):
    with pytest.raises(tools.ImageDataNotFound):
        tools.sample_images(2, 32, seed=0, data_dir=tmp_path)


# --- widgets (AppTest) ------------------------------------------------------------------

def _widget_app(repo: str, widget: str, root=None):
    import sys
    if repo not in sys.path:
        sys.path.insert(0, repo)
    import experiments.caltech.app as w
    getattr(w, widget)(*([root] if root else []))


def _run(widget, root=None):
    at = AppTest.from_function(_widget_app, args=(str(REPO), widget, root), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _set(at, n, f, s, mode, p=0):
    at.number_input(key="pad_n").set_value(n)
    at.number_input(key="pad_f").set_value(f)
    at.number_input(key="pad_s").set_value(s)
    at.selectbox(key="pad_mode").set_value(mode)
    at.run()  # p is editable only once "a number" is chosen
    if mode == "number":
        at.number_input(key="pad_p").set_value(p)
        at.run()
    assert not at.exception, [e.message for e in at.exception]


def test_padding_calculator_app():
    at = _run("padding_calculator")
    _set(at, 7, 3, 2, "number", 0)
    # the formula alone until the reader asks for the Keras check (it loads TensorFlow)
    assert [m.value for m in at.metric] == ["3"] and not at.success
    at.toggle(key="pad_check").set_value(True).run()
    assert [m.value for m in at.metric] == ["3", "3"]
    assert "Keras agrees" in at.success[0].value and not at.warning
    assert r"\frac{7 + 2 \cdot 0 - 3}{2} + 1 = 3" in at.latex[0].value
    assert at.get("vega_lite_chart")

    _set(at, 8, 3, 2, "number", 0)  # (8 - 3)/2 + 1 = 3.5: Keras floors
    assert [m.value for m in at.metric] == ["3.5", "3"]
    assert "not an integer" in at.warning[0].value and "Keras agrees" in at.success[0].value

    _set(at, 8, 3, 2, "same")
    assert at.metric[1].value == "4" and "Keras agrees" in at.success[0].value

    _set(at, 3, 5, 1, "number", 0)
    assert "does not fit" in at.error[0].value


def test_augmentation_panel_without_the_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path / "no-data"))
    at = _run("augmentation_preview_panel")
    assert "experiments.caltech download" in at.info[0].value
    at.button(key="aug_regen").click().run()
    assert at.number_input(key="aug_seed").value == 1


def test_augmentation_panel_on_real_images(real_caltech, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(real_caltech))
    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(tmp_path / "cache"))
    at = _run("augmentation_preview_panel")
    assert not at.info
    assert len(at.get("image")) == 4  # the originals, until the reader asks for what the network sees
    at.toggle(key="aug_show").set_value(True).run()
    assert len(at.get("image")) == 4 * 6  # each original and five augmented copies


def test_activation_panel_app():
    at = _run("activation_panel")
    assert len(at.get("vega_lite_chart")) == 2


def test_class_weight_panel_app(tmp_path):
    root = tmp_path / "runs"
    at = _run("class_weight_panel", str(root))
    assert "No finished 50-class run" in at.info[0].value

    classes = [f"k{i}" for i in range(24)]
    counts = list(range(100, 4, -4))
    labels = np.repeat(np.arange(24), 2)
    rng = np.random.default_rng(0)
    for exp in ("c50-baseline", "c50-cw-max"):
        for seed in (0, 1):
            path = root / exp / f"s{seed}-x"
            preds = np.where(rng.random(len(labels)) < 0.6, labels, 0)
            write_run(path, classes, counts, labels.tolist(), preds.tolist())
            (path / "config.json").write_text(json.dumps({"experiment": exp, "seed": seed}))
            (path / "meta.json").write_text(json.dumps({"status": "done"}))
            (path / "history.csv").write_text("epoch,loss\n1,1.0\n")  # a finished run has its history
            (path / "summary.json").write_text("{}")
    at = _run("class_weight_panel", str(root))
    assert len(at.get("vega_lite_chart")) == 2
    table = at.dataframe[0].value
    assert list(table.iloc[:, 0]) == ["c50-baseline", "c50-cw-max"]
    assert list(table.columns[1:]) == ["10 largest %", "10 largest ±", "10 smallest %", "10 smallest ±", "runs"]
    assert (table["runs"] == 2).all() and table["10 smallest %"].between(0, 100).all()
