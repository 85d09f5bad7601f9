"""Seed 000's 50-class models, built by name, each switch a technique of its study.

Every model takes uint8-range RGB pixels and rescales them itself (so a saved
model reads raw images), then applies its augmentation layers, which are
active only in training. Layer choices follow the seed's tables; at its 128 x
128 input the baseline has 14,778,098 parameters (valid padding, as its
augmentation and BatchNormalization tables show), 16,809,714 with same padding
(the table it compared the small kernels against) and the small-kernel stack
3,014,386. The three "other architectures" match its tables at 224 x 224.
"""
from __future__ import annotations

import functools
import json

import keras
from keras import layers

from experiments.caltech.augment import NO_AUGMENT, SEED_AUGMENT  # noqa: F401 (re-exported)
from core.registry import register


def augmentation_layers(spec: dict | None, seed: int | None = None) -> list:
    """Keras preprocessing layers for an augmentation spec; the same function
    builds the training models and the page's live preview."""
    spec = {**NO_AUGMENT, **(spec or {})}
    out = []
    if spec["flip"]:
        out.append(layers.RandomFlip(spec["flip"], seed=seed, name="aug_flip"))
    if spec["rotation"]:
        out.append(layers.RandomRotation(spec["rotation"], fill_mode="reflect", seed=seed,
                                         name="aug_rotation"))
    if spec["zoom"]:
        out.append(layers.RandomZoom(spec["zoom"], fill_mode="reflect", seed=seed, name="aug_zoom"))
    if spec["translation"]:
        out.append(layers.RandomTranslation(spec["translation"], spec["translation"],
                                            fill_mode="reflect", seed=seed, name="aug_translation"))
    if spec["contrast"]:
        out.append(layers.RandomContrast(spec["contrast"], seed=seed, name="aug_contrast"))
    return out


def _stem(input_shape, augment):
    inputs = keras.Input(input_shape, name="image")
    x = layers.Rescaling(1 / 255, name="rescale")(inputs)
    for layer in augmentation_layers(augment):
        x = layer(x)
    return inputs, x


def _head(x, classes):
    return layers.Dense(classes, activation="softmax", dtype="float32", name="out")(x)


@register("c50_baseline")
def c50_baseline(input_shape=(64, 64, 3), classes=50, padding="valid", pooling="max",
                 activation="relu", batchnorm=False, augment=None, dropout=0.5):
    """Seed 000's model: 3x3 conv 32, pool, 3x3 conv 64, pool, flatten, dense 256,
    dropout 0.5, dense 50. Each keyword is one technique of the study;
    BatchNormalization goes where the seed's table puts it (after each conv and
    after the dense layer)."""
    pool = {"max": layers.MaxPooling2D, "average": layers.AveragePooling2D}[pooling]
    inputs, x = _stem(input_shape, augment)
    for i, filters in enumerate((32, 64), start=1):
        x = layers.Conv2D(filters, 3, padding=padding, activation=activation, name=f"conv{i}")(x)
        if batchnorm:
            x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = pool(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, activation=activation, name="fc")(x)
    if batchnorm:
        x = layers.BatchNormalization(name="bn_fc")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, _head(x, classes), name="c50_baseline")


@register("c50_small_kernels")
def c50_small_kernels(input_shape=(64, 64, 3), classes=50, augment=None):
    """The seed's 'many small kernels' model: two stacks of three 3x3 valid
    convolutions (8-16-16, 32-16-16), a pool after each, then the baseline's head."""
    inputs, x = _stem(input_shape, augment)
    for block, widths in enumerate(((8, 16, 16), (32, 16, 16)), start=1):
        for j, filters in enumerate(widths, start=1):
            x = layers.Conv2D(filters, 3, activation="relu", name=f"conv{block}_{j}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, activation="relu", name="fc")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    return keras.Model(inputs, _head(x, classes), name="c50_small_kernels")


@register("c50_flower")
def c50_flower(input_shape=(64, 64, 3), classes=50, augment=None):
    """'Flower recognition' (Kaggle, rajmehra03), seed 000's table: 5x5 conv 32,
    then 3x3 convs of 64, 96, 96, all same padding with a pool after each,
    dense 512, softmax. 9,819,314 parameters at 224 x 224."""
    inputs, x = _stem(input_shape, augment)
    for i, (filters, k) in enumerate(((32, 5), (64, 3), (96, 3), (96, 3)), start=1):
        x = layers.Conv2D(filters, k, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="fc")(x)
    return keras.Model(inputs, _head(x, classes), name="c50_flower")


@register("c50_digits_advanced")
def c50_digits_advanced(input_shape=(64, 64, 3), classes=50, augment=None, dropout=0.4):
    """'Advanced digit recognition' (Kaggle, cdeotte), seed 000's table:
    32C3-32C3-32C5S2 and 64C3-64C3-64C5S2, BatchNorm after each, dropout after
    each block, dense 128 with BatchNorm and dropout. 25,892,018 parameters at
    224 x 224 (the table's 182,464 for the last conv is a typo: its total needs
    102,464, a 5x5 conv from 64 to 64 channels)."""
    inputs, x = _stem(input_shape, augment)
    for block, filters in enumerate((32, 64), start=1):
        for j, (k, s) in enumerate(((3, 1), (3, 1), (5, 2)), start=1):
            x = layers.Conv2D(filters, k, strides=s, padding="same", activation="relu",
                              name=f"conv{block}_{j}")(x)
            x = layers.BatchNormalization(name=f"bn{block}_{j}")(x)
        x = layers.Dropout(dropout, name=f"dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="fc")(x)
    x = layers.BatchNormalization(name="bn_fc")(x)
    x = layers.Dropout(dropout, name="dropout_fc")(x)
    return keras.Model(inputs, _head(x, classes), name="c50_digits_advanced")


@register("c50_cats_dogs")
def c50_cats_dogs(input_shape=(64, 64, 3), classes=50, augment=None):
    """'Cats vs dogs' (Kaggle, uysimty), seed 000's table: three blocks of 5x5
    same conv (32, 64, 128), BatchNorm, pool, dropout 0.25; dense 512 with
    BatchNorm and dropout 0.5. 51,667,954 parameters at 224 x 224."""
    inputs, x = _stem(input_shape, augment)
    for i, filters in enumerate((32, 64, 128), start=1):
        x = layers.Conv2D(filters, 5, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
        x = layers.Dropout(0.25, name=f"dropout{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="fc")(x)
    x = layers.BatchNormalization(name="bn_fc")(x)
    x = layers.Dropout(0.5, name="dropout_fc")(x)
    return keras.Model(inputs, _head(x, classes), name="c50_cats_dogs")


@register("c50_vgg_gap")
def c50_vgg_gap(input_shape=(64, 64, 3), classes=50, augment=None, widths=(32, 64, 128, 256),
                dropout=0.3, convs=(2, 2, 2, 2), first_kernel=3, first_stride=1):
    """Ours, for the best combination: the techniques that helped (stacked 3x3
    same convs, BatchNorm, augmentation) and global average pooling instead of
    a flatten into a large dense layer, which is where the baseline's
    parameters (and its overfitting) sit. `convs` is the number of
    convolutions per stage: one at full resolution keeps a larger input
    affordable on a CPU. `first_kernel`/`first_stride` shape the very first
    convolution: a 5x5 stride-2 one reads a 128 x 128 input at the cost of a
    64 x 64 one (a learned downsampling in place of the resize)."""
    inputs, x = _stem(input_shape, augment)
    for block, (filters, n) in enumerate(zip(widths, convs), start=1):
        for j in range(1, n + 1):
            first = block == 1 and j == 1
            x = layers.Conv2D(filters, first_kernel if first else 3, strides=first_stride if first else 1,
                              padding="same", use_bias=False, name=f"conv{block}_{j}")(x)
            x = layers.BatchNormalization(name=f"bn{block}_{j}")(x)
            x = layers.ReLU(name=f"relu{block}_{j}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, _head(x, classes), name="c50_vgg_gap")


def summary_at(model: keras.Model, size: int) -> list[dict]:
    """core.registry.summary_rows as the same chain of layers would give it at
    size x size, computed from shapes alone: pages show the seed's 224 x 224
    networks without allocating their 52 M weights. Only a Dense layer's count
    depends on the input size (through the width of what it reads)."""
    shape = (None, size, size, model.input_shape[-1])
    rows = [{"layer": model.layers[0].name, "type": "InputLayer", "output_shape": str(shape), "params": 0}]
    for layer in model.layers[1:]:
        if isinstance(layer, layers.Dense):
            params = shape[-1] * layer.units + (layer.units if layer.use_bias else 0)
        else:
            params = layer.count_params()
        shape = tuple(layer.compute_output_shape(shape))
        rows.append({"layer": layer.name, "type": type(layer).__name__, "output_shape": str(shape),
                     "params": int(params)})
    return rows


def count_params_at(model: keras.Model, size: int) -> int:
    return sum(r["params"] for r in summary_at(model, size))


@functools.lru_cache(maxsize=64)
def _small(name: str, kwargs_json: str):
    from core.registry import build_model
    return build_model(name, input_shape=(32, 32, 3), **json.loads(kwargs_json))


def sized_table(name: str, kwargs: dict, size: int) -> list[dict]:
    """core/model_tables.py's table of a model at size x size: built once at
    32 x 32, every size's table derived from its shapes (summary_at)."""
    return summary_at(_small(name, json.dumps(kwargs, sort_keys=True)), size)

