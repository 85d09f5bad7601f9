"""Run configs are plain dicts (saved as config.json); this checks them.

A bad config fails before anything trains, with a message naming the key.
"""
from __future__ import annotations

import copy
import json
import math

from core.record_schema import OWN_ORIGINS, SEED_MAX


class ConfigError(ValueError):
    pass


def pos_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def nonneg_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _seed(v):
    """a whole number from 0 to 2**32 - 1 (NumPy's and Keras's seed range)"""
    return nonneg_int(v) and v <= SEED_MAX


def num(v):
    """A finite number: JSON's Infinity and NaN (which Python's json reads) are not."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _learning_rate(v):
    """a finite number above 0 and at most 10"""
    return num(v) and 0 < v <= 10


def _task_name(v):
    """the data.dataset of a registered task (core/task.py)"""
    from core.task import known_tasks
    return v in known_tasks()


def opt(check):
    return lambda v: v is None or check(v)


def one_of(*choices):
    f = lambda v: v in choices  # noqa: E731
    f.__doc__ = "one of " + ", ".join(map(repr, choices))
    return f


_CALLBACK = {"monitor": lambda v: isinstance(v, str), "patience": nonneg_int,
             "factor": lambda v: num(v) and 0 < v < 1, "min_lr": num,
             "restore_best_weights": lambda v: isinstance(v, bool),
             "min_delta": num,
             # for a monitor Keras cannot place (a task's own log); the best
             # epoch kept is always the lowest (core/callbacks.py: TrainingState)
             "mode": lambda v: v == "min"}

# The engine's keys; each study adds its own (core/study.py: Study.config_keys),
# and its `check` holds the rules across keys.
SCHEMA = {
    "experiment": lambda v: isinstance(v, str) and v != "",
    "title": lambda v: isinstance(v, str),
    "title_zh": lambda v: isinstance(v, str),
    "notes": lambda v: isinstance(v, str),
    "group": lambda v: isinstance(v, str),
    "reference": opt(lambda v: isinstance(v, dict)),
    # "app" for runs started from the report: part of the run's identity, so a
    # user's retrain never collides with (or overwrites) a committed run.
    "origin": one_of("study", "app"),  # recorded and imported runs are reported, never trained here
    "seed": _seed,
    "data": {
        "dataset": _task_name,
        "val_fraction": lambda v: num(v) and 0 < v < 1,
        "val_size": pos_int,
        "test_limit": opt(pos_int),
        "pixel_scale": lambda v: num(v) and v > 0,
        "train_limit": opt(pos_int),
    },
    "model": {
        "name": lambda v: isinstance(v, str),
        "kwargs": lambda v: isinstance(v, dict),
    },
    "train": {
        "epochs": pos_int,
        "batch_size": pos_int,
        "optimizer": one_of("adam", "sgd", "rmsprop"),
        "learning_rate": _learning_rate,
        "early_stopping": opt(lambda v: isinstance(v, dict)),
        "reduce_lr": opt(lambda v: isinstance(v, dict)),
        "restore_best": lambda v: isinstance(v, bool),
        "mixed_precision": lambda v: isinstance(v, bool),
        "tensorboard": lambda v: isinstance(v, bool),
        "label_smoothing": lambda v: num(v) and 0 <= v < 1,
        "balance_heads": lambda v: isinstance(v, bool),
        "class_weight": opt(one_of("max_over_count", "balanced")),
        "lr_schedule": opt(one_of("cosine")),
        "weight_decay": lambda v: num(v) and 0 <= v < 1,
        # An experiment whose run (same seed and protocol, smaller budget)
        # this one may go on from instead of retraining its first epochs.
        "continue_from": opt(lambda v: isinstance(v, str) and v != ""),
        # spread each batch over this many devices ("all": every GPU, else every CPU device)
        "devices": opt(lambda v: v == "all" or pos_int(v)),
    },
}
def schema() -> dict:
    """SCHEMA with every registered study's keys."""
    from core.study import code_studies
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in SCHEMA.items()}
    for study in code_studies():
        for section, keys in study.config_keys.items():
            out[section].update(keys)
    return out


REQUIRED = {"experiment", "seed", "data", "model", "train",
            "data.dataset", "model.name", "train.epochs", "train.batch_size"}


def validate(config: dict) -> dict:
    if not isinstance(config, dict):
        raise ConfigError("config must be a JSON object")
    if config.get("origin") in OWN_ORIGINS:
        raise ConfigError(f"{config.get('experiment')!r} was {config['origin']} from your own training: "
                          "it is reported here, not trained; train it again where it was trained")
    _check(config, schema(), "")
    for key in REQUIRED:
        node = config
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(f"{key}: required but missing")
            node = node[part]
    data = config["data"]
    if "val_fraction" in data and "val_size" in data:
        raise ConfigError("data: give val_fraction or val_size, not both")
    from core.study import code_studies, resolve
    for study in code_studies():  # each study's rules across keys, for every config (a
        if study.check:      # study's own key in another study's config is refused)
            resolve(study.check)(config)
    if config["train"].get("lr_schedule") and config["train"].get("reduce_lr"):
        raise ConfigError("train.lr_schedule: a schedule and reduce_lr both set the rate; pick one")
    for name in ("early_stopping", "reduce_lr"):
        cb = config["train"].get(name)
        if cb:
            _check(cb, _CALLBACK, f"train.{name}.")
    from core.registry import known_models
    known = known_models()
    if config["model"]["name"] not in known:
        raise ConfigError(f"model.name: unknown model {config['model']['name']!r}; "
                          f"known: {', '.join(sorted(known))}")
    return config


def _check(node: dict, schema: dict, prefix: str):
    for key, value in node.items():
        path = prefix + key
        if key not in schema:
            raise ConfigError(f"{path}: unknown key (allowed: {', '.join(sorted(schema))})")
        rule = schema[key]
        if isinstance(rule, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected an object, got {json.dumps(value)}")
            _check(value, rule, path + ".")
        elif not rule(value):
            hint = f" (expected {rule.__doc__})" if rule.__doc__ else ""
            raise ConfigError(f"{path}: invalid value {json.dumps(value)}{hint}")


def set_path(config: dict, dotted: str, raw: str) -> dict:
    """Apply one `--set a.b=value` override; value parsed as JSON when it can be."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    out = copy.deepcopy(config)
    node = out
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{dotted}: {part} is not an object")
    node[parts[-1]] = value
    return out
