"""Run configs are plain dicts (saved as config.json); this checks them.

A bad config fails before anything trains, with a message naming the key.
"""
from __future__ import annotations

import copy
import json
import math

from core.record_schema import SEED_MAX


class ConfigError(ValueError):
    pass


def _pos_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _nonneg_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _seed(v):
    """a whole number from 0 to 2**32 - 1 (NumPy's and Keras's seed range)"""
    return _nonneg_int(v) and v <= SEED_MAX


def _num(v):
    """A finite number: JSON's Infinity and NaN (which Python's json reads) are not."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _learning_rate(v):
    """a finite number above 0 and at most 10"""
    return _num(v) and 0 < v <= 10


def _task_name(v):
    """the data.dataset of a registered task (core/task.py)"""
    from core.task import TASKS
    return v in TASKS


def _opt(check):
    return lambda v: v is None or check(v)


def _one_of(*choices):
    f = lambda v: v in choices  # noqa: E731
    f.__doc__ = "one of " + ", ".join(map(repr, choices))
    return f


_CALLBACK = {"monitor": lambda v: isinstance(v, str), "patience": _nonneg_int,
             "factor": lambda v: _num(v) and 0 < v < 1, "min_lr": _num,
             "restore_best_weights": lambda v: isinstance(v, bool),
             "min_delta": _num}

SCHEMA = {
    "experiment": lambda v: isinstance(v, str) and v != "",
    "title": lambda v: isinstance(v, str),
    "title_zh": lambda v: isinstance(v, str),
    "notes": lambda v: isinstance(v, str),
    "group": lambda v: isinstance(v, str),
    "reference": _opt(lambda v: isinstance(v, dict)),
    # "app" for runs started from the report: part of the run's identity, so a
    # user's retrain never collides with (or overwrites) a committed run.
    "origin": _one_of("study", "app"),
    "seed": _seed,
    "data": {
        "dataset": _task_name,
        "pool": _one_of("train55k", "train60k"),
        "pool_size": _opt(_pos_int),
        "subset": _one_of("random", "first"),
        "val_fraction": lambda v: _num(v) and 0 < v < 1,
        "val_size": _pos_int,
        "test_limit": _opt(_pos_int),
        "pixel_scale": lambda v: _num(v) and v > 0,
        # thsr-captcha only
        "preprocess": _one_of("nopre", "dn2", "grey"),
        "preprocess_options": lambda v: isinstance(v, dict),
        "test_size": _pos_int,
        # leave one source out: test on every captcha of this set, train on the others
        "test_source": _opt(lambda v: isinstance(v, str) and v != ""),
        "train_limit": _opt(_pos_int),
        # a committed list of cleaner training/validation labels (core/captcha/relabel.py)
        "relabel": _opt(lambda v: isinstance(v, dict) and isinstance(v.get("name"), str)
                        and set(v) <= {"name", "sha1"}),
        # generated captchas added to training (core/captcha/data.py:synthetic_set)
        "synthetic": _opt(lambda v: isinstance(v, dict) and set(v) <= {"n", "scaled"} and _pos_int(v.get("n"))
                          and _num(v.get("scaled", 0.25)) and 0 <= v.get("scaled", 0.25) <= 1),
        # caltech50 only
        "folder": _opt(lambda v: isinstance(v, str) and v != ""),
        "n_classes": _opt(_pos_int),
        "image_size": _pos_int,
        "shuffle_buffer": _opt(_pos_int),
        "val_limit": _opt(_pos_int),
    },
    "model": {
        "name": lambda v: isinstance(v, str),
        "kwargs": lambda v: isinstance(v, dict),
    },
    "train": {
        "epochs": _pos_int,
        "batch_size": _pos_int,
        "optimizer": _one_of("adam", "sgd", "rmsprop"),
        "learning_rate": _learning_rate,
        "early_stopping": _opt(lambda v: isinstance(v, dict)),
        "reduce_lr": _opt(lambda v: isinstance(v, dict)),
        "restore_best": lambda v: isinstance(v, bool),
        "mixed_precision": lambda v: isinstance(v, bool),
        "tensorboard": lambda v: isinstance(v, bool),
        "label_smoothing": lambda v: _num(v) and 0 <= v < 1,
        "balance_heads": lambda v: isinstance(v, bool),
        "class_weight": _opt(_one_of("max_over_count", "balanced")),
        "lr_schedule": _opt(_one_of("cosine")),
        "weight_decay": lambda v: _num(v) and 0 <= v < 1,
        # caltech50 only: mix pairs of training images and their labels, one
        # method per batch drawn at random among those given (MixUp's Beta
        # alpha, CutMix's Beta factor).
        "mix": _opt(lambda v: isinstance(v, dict) and v != {} and set(v) <= {"mixup", "cutmix"}
                    and all(_num(x) and x > 0 for x in v.values())),
        # An experiment whose run (same seed and protocol, smaller budget)
        # this one may go on from instead of retraining its first epochs.
        "continue_from": _opt(lambda v: isinstance(v, str) and v != ""),
        # spread each batch over this many devices ("all": every GPU, else every CPU device)
        "devices": _opt(lambda v: v == "all" or _pos_int(v)),
    },
}
REQUIRED = {"experiment", "seed", "data", "model", "train",
            "data.dataset", "model.name", "train.epochs", "train.batch_size"}


def validate(config: dict) -> dict:
    if not isinstance(config, dict):
        raise ConfigError("config must be a JSON object")
    _check(config, SCHEMA, "")
    for key in REQUIRED:
        node = config
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(f"{key}: required but missing")
            node = node[part]
    data = config["data"]
    if "val_fraction" in data and "val_size" in data:
        raise ConfigError("data: give val_fraction or val_size, not both")
    if data["dataset"] == "thsr-captcha" and "preprocess" not in data:
        raise ConfigError("data.preprocess: required for thsr-captcha (nopre, dn2 or grey)")
    if data.get("test_source") and data["dataset"] != "thsr-captcha":
        raise ConfigError("data.test_source: only the captcha study has sources to leave out")
    if data.get("test_source") and "test_size" in data:
        raise ConfigError("data.test_source: the whole source is the test set; drop test_size")
    if data.get("relabel") and data["dataset"] != "thsr-captcha":
        raise ConfigError("data.relabel: only captcha labels have relabel lists")
    if data.get("synthetic") and data["dataset"] != "thsr-captcha":
        raise ConfigError("data.synthetic: only the captcha study has a generator")
    if config["train"].get("mix") and data["dataset"] != "caltech50":
        raise ConfigError("train.mix: only the caltech50 image study mixes images")
    if config["train"].get("lr_schedule") and config["train"].get("reduce_lr"):
        raise ConfigError("train.lr_schedule: a schedule and reduce_lr both set the rate; pick one")
    for name in ("early_stopping", "reduce_lr"):
        cb = config["train"].get(name)
        if cb:
            _check(cb, _CALLBACK, f"train.{name}.")
    from core.models import known_models
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
