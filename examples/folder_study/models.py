"""The shapes study's one network (a family of core/registry.py)."""
import keras
from keras import layers

from core.registry import register


@register("folder_cnn")
def folder_cnn(input_shape, classes, width=8):
    """Two convolution blocks and a softmax: enough for a first look."""
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(width, 3, activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(2 * width, 3, activation="relu", padding="same")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="folder_cnn")
