"""MNIST's task: the engine's array classification (core/task.py:Task), its
data split by seed 002's protocols (experiments/mnist/data.py)."""
from __future__ import annotations

from core.task import Task


class MnistTask(Task):
    """Seed 002's MNIST protocols."""

    def load(self, config, data_dir=None):
        from experiments.mnist.data import load_splits
        return load_splits(config["data"], config["seed"], data_dir)
