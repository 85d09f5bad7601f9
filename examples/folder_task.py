"""Your own experiment on a folder of images, without touching the engine.

    <data dir>/shapes/<class name>/*.png|jpg     one sub-folder per class

Load it with `CNNLAB_PLUGINS=examples.folder_task`: this module declares a
task (how to read the data), a model and two experiments; the command line,
the background jobs and the report app then know them like any other, and the
app gives the study a page of its own.
"""
import numpy as np

from core.registry import register
from core.task import Task, register_task
from experiments import declare


class FolderTask(Task):
    """Classify images from class folders: every image resized to
    data.image_size, split 70/15/15 in a fixed shuffled order."""

    def load(self, config, data_dir=None):
        from PIL import Image

        from core.datadir import data_dir as resolve
        folder = resolve(data_dir) / config["data"]["folder"]
        size = config["data"]["image_size"]
        classes = sorted(d.name for d in folder.iterdir() if d.is_dir())
        x, y = [], []
        for label, name in enumerate(classes):
            for path in sorted((folder / name).iterdir()):
                x.append(np.asarray(Image.open(path).convert("RGB").resize((size, size))) / 255.0)
                y.append(label)
        x, y = np.array(x, "float32"), np.array(y, "int64")
        order = np.random.default_rng(0).permutation(len(y))  # the same split for every seed
        x, y = x[order], y[order]
        a, b = int(0.7 * len(y)), int(0.85 * len(y))
        return {"x_train": x[:a], "y_train": y[:a], "x_val": x[a:b], "y_val": y[a:b],
                "x_test": x[b:], "y_test": y[b:], "classes": classes}

    def model_kwargs(self, config, data):
        size = config["data"]["image_size"]
        return {**config["model"]["kwargs"], "input_shape": (size, size, 3), "classes": len(data["classes"])}


register_task("image-folder", "examples.folder_task:FolderTask")


@register("folder_cnn")
def folder_cnn(input_shape, classes, width=8):
    """Two convolution blocks and a softmax: enough for a first look."""
    import keras  # here, not at the top: listing experiments never imports Keras
    from keras import layers
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(width, 3, activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(2 * width, 3, activation="relu", padding="same")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="folder_cnn")


def shapes(width):
    return {
        "title": f"Shapes, {width} filters", "title_zh": f"形狀，{width} 個濾波器",
        "data": {"dataset": "image-folder", "folder": "shapes", "image_size": 32},
        "model": {"name": "folder_cnn", "kwargs": {"width": width}},
        "train": {"epochs": 8, "batch_size": 16, "optimizer": "adam", "learning_rate": 0.003},
    }


declare("shapes", {"shapes-narrow": shapes(4), "shapes-wide": shapes(16)}, baseline="shapes-narrow",
        title={"en": "Shapes: does a wider network help?", "zh": "形狀：較寬的網路有幫助嗎？"},
        text={"en": "Four filters in the first layer against sixteen, three seeds each.",
              "zh": "第一層四個濾波器對十六個，各三個種子。"})
