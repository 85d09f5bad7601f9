"""A task: everything one study knows about its data, model and evaluation,
behind one interface, so that core/train.py trains any of them and names none.

train_run calls, in order:

    data = task.load(config, data_dir)                 # arrays, and what evaluate needs
    model = build_model(name, **task.model_kwargs(config, data))
    task.compile(model, optimizer, config, data)
    callbacks = task.callbacks(config, data) + the engine's own (history, resume, early stopping)
    args, kwargs = task.fit_inputs(config, data)        # what model.fit takes
    model.fit(*args, callbacks=callbacks, **kwargs)
    test = task.evaluate(model, data, path, config)     # {metric: number}, "accuracy" the headline

`Task` itself is single-output classification of in-memory arrays; a study
changes only what differs. Each study names its tasks by the `data.dataset`
of their configs (core/study.py: Study.tasks) as "module:Class" strings, so
that naming a task (listing experiments, validating a config) imports neither
the task nor Keras. `register_task` adds one outside a study.
"""
from __future__ import annotations

import importlib

EXTRA: dict[str, str] = {}  # tasks registered outside a study (register_task)


class UnknownTask(KeyError):
    pass


def register_task(dataset: str, target: str) -> None:
    """Make configs whose `data.dataset` is `dataset` train with the Task
    class at `target` ("package.module:ClassName", imported when first used)."""
    if ":" not in target:
        raise ValueError(f"task target {target!r}: expected 'module:ClassName'")
    EXTRA[dataset] = target


def known_tasks() -> dict[str, str]:
    """data.dataset -> "module:Class", every study's and register_task's."""
    from core.study import tasks
    return {**tasks(), **EXTRA}


def get_task(dataset: str) -> "Task":
    known = known_tasks()
    try:
        target = known[dataset]
    except KeyError:
        raise UnknownTask(f"no task for dataset {dataset!r}; known: {', '.join(sorted(known))}") from None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)()


class Task:
    """Single-output classification of arrays: x_* images, y_* integer labels."""

    def load(self, config: dict, data_dir=None) -> dict:
        """{"x_train", "y_train", "x_val", "y_val", "x_test", "y_test", ...}."""
        raise NotImplementedError

    def model_kwargs(self, config: dict, data: dict) -> dict:
        """Keyword arguments of the model builder: the config's, by default."""
        return dict(config["model"].get("kwargs", {}))

    def compile(self, model, optimizer, config: dict, data: dict) -> None:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def callbacks(self, config: dict, data: dict) -> list:
        """Callbacks placed before the engine's own, so that what they add to
        an epoch's logs reaches its history row and early stopping."""
        return []

    def fit_inputs(self, config: dict, data: dict) -> tuple[tuple, dict]:
        """(args, kwargs) for model.fit, without epochs and callbacks."""
        tcfg = config["train"]
        return (data["x_train"], data["y_train"]), {
            "batch_size": tcfg["batch_size"], "validation_data": (data["x_val"], data["y_val"]),
            "shuffle": True}

    def evaluate(self, model, data: dict, path, config: dict) -> dict:
        """Test metrics ({name: number}); "accuracy" is the figure every table shows."""
        return model.evaluate(data["x_test"], data["y_test"], batch_size=1024, verbose=0, return_dict=True)
