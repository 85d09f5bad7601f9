import keras
import numpy as np
import pytest

from core.registry import UnknownModel, build_model, known_models, summary_rows
SEED_COUNTS = {"mnist_nn1": 203_530, "mnist_nn2": 407_050,
               "mnist_cnn1": 297_706, "mnist_cnn2": 242_062}


@pytest.mark.parametrize("name,count", SEED_COUNTS.items())
def test_seed_models_match_the_seed_tables(name, count):
    model = build_model(name)
    assert model.count_params() == count
    assert tuple(model.input.shape) == (None, 28, 28, 1)
    assert tuple(model.output.shape) == (None, 10)


def test_cnn1_layer_shapes_follow_the_table():
    rows = {r["layer"]: r for r in summary_rows(build_model("mnist_cnn1"))}
    assert rows["conv1"]["output_shape"] == "(None, 28, 28, 8)" and rows["conv1"]["params"] == 208
    assert rows["max_pool1_W1"]["output_shape"] == "(None, 14, 14, 8)"
    assert rows["conv2"]["output_shape"] == "(None, 12, 12, 16)" and rows["conv2"]["params"] == 1168
    assert rows["flatten"]["output_shape"] == "(None, 2304)"
    assert rows["fc2"]["params"] == 295_040


def test_cnn2_layer_shapes_follow_the_table():
    rows = {r["layer"]: r for r in summary_rows(build_model("mnist_cnn2"))}
    assert rows["conv2d_2"]["output_shape"] == "(None, 14, 14, 36)" and rows["conv2d_2"]["params"] == 14_436
    assert rows["flatten_1"]["output_shape"] == "(None, 1764)"
    assert rows["dense_1"]["params"] == 225_920


def test_unknown_model_names_the_known_ones():
    with pytest.raises(UnknownModel, match="mnist_cnn1"):
        build_model("nope")


@pytest.mark.parametrize("name", sorted(known_models()))
def test_every_model_round_trips_with_safe_mode(name, tmp_path):
    model = build_model(name)
    x = np.random.default_rng(0).random((3, *model.input.shape[1:]), dtype=np.float32)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    for a, b in zip(keras.tree.flatten(loaded.predict(x, verbose=0)),
                    keras.tree.flatten(model.predict(x, verbose=0))):
        np.testing.assert_allclose(a, b, atol=1e-6)
