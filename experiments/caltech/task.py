"""The 50-class study (seed 000) as a Task (core/task.py): images from a
folder of class folders, a tf.data pipeline with an explicit shuffle buffer,
soft targets for mixed pairs and smoothed labels, class weights, and test
figures with per-image predictions."""
from __future__ import annotations

from core.task import Task


class ImageFolderTask(Task):

    def load(self, config, data_dir=None):
        from experiments.caltech import data as c50
        return c50.load_splits(config["data"], config["seed"], data_dir)

    def model_kwargs(self, config, data):
        kwargs = dict(config["model"].get("kwargs", {}))
        # A user's own folder may hold another number of classes.
        kwargs["classes"] = len(data["classes"])
        size = config["data"].get("image_size", 64)
        kwargs.setdefault("input_shape", (size, size, 3))
        return kwargs

    @staticmethod
    def soft_targets(config) -> bool:
        """Mixed pairs and smoothed labels need one-hot targets (made by the pipeline)."""
        tcfg = config["train"]
        return bool(tcfg.get("mix") or tcfg.get("label_smoothing"))

    def compile(self, model, optimizer, config, data):
        import keras
        loss = (keras.losses.CategoricalCrossentropy(label_smoothing=config["train"].get("label_smoothing", 0.0))
                if self.soft_targets(config) else "sparse_categorical_crossentropy")
        model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])

    def fit_inputs(self, config, data):
        from experiments.caltech import data as c50
        tcfg, seed = config["train"], config["seed"]
        classes = len(data["classes"])
        one_hot = classes if self.soft_targets(config) else None
        train_ds = c50.make_dataset(data["x_train"], data["y_train"], tcfg["batch_size"],
                                    config["data"].get("shuffle_buffer"), seed, training=True,
                                    n_classes=one_hot, mix=tcfg.get("mix"))
        val_ds = c50.make_dataset(data["x_val"], data["y_val"], 256, None, seed, training=False,
                                  n_classes=one_hot)
        weights = c50.class_weights(data["y_train"], tcfg.get("class_weight"), classes)
        return (train_ds,), {"validation_data": val_ds, "class_weight": weights}

    def evaluate(self, model, data, path, config):
        from experiments.caltech.evaluate import evaluate
        return evaluate(model, data, path)
