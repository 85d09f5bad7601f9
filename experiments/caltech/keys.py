"""The 50-class study's config keys and the rule across them (core/config.py
checks every config against the engine's keys plus each study's)."""
from __future__ import annotations

from core.config import ConfigError, num, opt, pos_int

DATA = {
    "folder": opt(lambda v: isinstance(v, str) and v != ""),
    "n_classes": opt(pos_int),
    "image_size": pos_int,
    "shuffle_buffer": opt(pos_int),
    "val_limit": opt(pos_int),
}
TRAIN = {
    # mix pairs of training images and their labels, one method per batch
    # drawn at random among those given (MixUp's Beta alpha, CutMix's Beta factor)
    "mix": opt(lambda v: isinstance(v, dict) and v != {} and set(v) <= {"mixup", "cutmix"}
               and all(num(x) and x > 0 for x in v.values())),
}


def check(config: dict) -> None:
    if config["train"].get("mix") and config["data"]["dataset"] != "caltech50":
        raise ConfigError("train.mix: only the caltech50 image study mixes images")
