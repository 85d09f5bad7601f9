"""MNIST's networks (seed 002, part I), each built by name from a config.

Each builder reads top to bottom like the seed's layer table it reproduces;
layer names follow those tables so summaries can be compared line by line.
The final softmax is pinned to float32 so mixed precision stays stable.
"""
from __future__ import annotations

import keras
from keras import layers

from core.registry import register


# --- Seed 002, part I: MNIST -------------------------------------------------

def _dense_net(hidden: int, name: str, input_shape=(28, 28, 1), classes=10):
    inputs = keras.Input(input_shape)
    x = layers.Flatten(name="flatten")(inputs)
    x = layers.Dense(hidden, activation="relu", name="fc1")(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32", name="out")(x)
    return keras.Model(inputs, outputs, name=name)


@register("mnist_nn1")
def mnist_nn1(input_shape=(28, 28, 1), classes=10):
    """NN model 1: flatten -> dense 256 -> 10. 203,530 parameters."""
    return _dense_net(256, "mnist_nn1", input_shape, classes)


@register("mnist_nn2")
def mnist_nn2(input_shape=(28, 28, 1), classes=10):
    """NN model 2: the same with 512 hidden units. 407,050 parameters."""
    return _dense_net(512, "mnist_nn2", input_shape, classes)


@register("mnist_cnn1")
def mnist_cnn1(input_shape=(28, 28, 1), classes=10):
    """CNN model 1 (297,706 parameters)."""
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(8, 5, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="max_pool1_W1")(x)
    x = layers.Conv2D(16, 3, padding="valid", activation="relu", name="conv2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.25, name="dropout")(x)
    x = layers.Dense(128, activation="relu", name="fc2")(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32", name="out")(x)
    return keras.Model(inputs, outputs, name="mnist_cnn1")


@register("mnist_cnn2")
def mnist_cnn2(input_shape=(28, 28, 1), classes=10):
    """CNN model 2 (242,062 parameters): a second pooling and two dropouts.

    The seed's table lists two Dropout layers; its text says the rate was
    raised to 0.5. We follow the notebook it cites: 0.25 after the convolutions
    and 0.5 after the dense layer.
    """
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(16, 5, padding="same", activation="relu", name="conv2d_1")(inputs)
    x = layers.MaxPooling2D(2, name="max_pooling2d_1")(x)
    x = layers.Conv2D(36, 5, padding="same", activation="relu", name="conv2d_2")(x)
    x = layers.MaxPooling2D(2, name="max_pooling2d_2")(x)
    x = layers.Dropout(0.25, name="dropout_1")(x)
    x = layers.Flatten(name="flatten_1")(x)
    x = layers.Dense(128, activation="relu", name="dense_1")(x)
    x = layers.Dropout(0.5, name="dropout_2")(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32", name="dense_2")(x)
    return keras.Model(inputs, outputs, name="mnist_cnn2")


@register("mnist_cnn2_plus")
def mnist_cnn2_plus(input_shape=(28, 28, 1), classes=10, shift=0.1):
    """Ours: CNN model 2's shape, wider, with BatchNorm and shift augmentation.

    Why these changes and no others: MNIST errors are mostly off-centre or
    thick/thin strokes, which random shifts of up to ~3 pixels cover; BatchNorm
    lets Adam's default rate train the wider convolutions quickly. The
    augmentation layer is part of the model, so it is active in fit() only and
    the saved model predicts on clean inputs. About the cost of CNN model 2 on a
    CPU (a 3x3 second convolution instead of 5x5).
    """
    inputs = keras.Input(input_shape)
    x = layers.RandomTranslation(shift, shift, fill_mode="constant", name="shift")(inputs)
    x = layers.Conv2D(32, 5, padding="same", use_bias=False, name="conv1")(x)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.ReLU(name="relu1")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, padding="same", use_bias=False, name="conv2")(x)
    x = layers.BatchNormalization(name="bn2")(x)
    x = layers.ReLU(name="relu2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Dropout(0.25, name="dropout_1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="fc")(x)
    x = layers.Dropout(0.5, name="dropout_2")(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32", name="out")(x)
    return keras.Model(inputs, outputs, name="mnist_cnn2_plus")


@register("mnist_vgg_bn")
def mnist_vgg_bn(input_shape=(28, 28, 1), classes=10, shift=0.08):
    """Ours, second try: a 5x5 stem, then two stacked 3x3 convolutions.

    Why: CNN model 2+ stayed under-fitted (training accuracy ~97 % after 15
    epochs; dropout 0.25 + 0.5 and 3-pixel shifts together held it back). Two
    stacked 3x3 convolutions at 14x14 see a 5x5 window with one more
    non-linearity; BatchNorm after every convolution keeps Adam's default rate
    stable; milder shifts (~2 pixels) and a single dropout 0.3 regularise
    without starving the fit. The 28x28 stage keeps one convolution because it
    dominates the CPU cost. The augmentation layer is active in fit() only.
    """
    inputs = keras.Input(input_shape)
    x = layers.RandomTranslation(shift, shift, fill_mode="constant", name="shift")(inputs)
    x = layers.Conv2D(32, 5, padding="same", use_bias=False, name="conv1")(x)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.ReLU(name="relu1")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    for i in (1, 2):
        x = layers.Conv2D(64, 3, padding="same", use_bias=False, name=f"conv2_{i}")(x)
        x = layers.BatchNormalization(name=f"bn2_{i}")(x)
        x = layers.ReLU(name=f"relu2_{i}")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(name="bn_fc")(x)
    x = layers.ReLU(name="relu_fc")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32", name="out")(x)
    return keras.Model(inputs, outputs, name="mnist_vgg_bn")


@register("tiny_test_net")
def tiny_test_net(input_shape=(28, 28, 1), classes=10):
    """A few hundred parameters: lets the CLI tests train in a second."""
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(2, 3, strides=2, activation="relu", name="conv")(inputs)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32", name="out")(x)
    return keras.Model(inputs, outputs, name="tiny_test_net")


