"""Experiments declared as data: each name maps to a config function.

`get_config(name, quick=False)` returns the config dict (without a seed); the
quick switch shrinks data and epochs so the same experiment runs in seconds
for CI, big_vision style.
"""
from __future__ import annotations

import copy
import importlib
import os

from experiments import caltech, captcha, mnist

EXPERIMENTS: dict = {}
CLAIMS: list = []  # the seeds' claims, each with the experiments that test it
for _module in (mnist, captcha, caltech):
    EXPERIMENTS.update(_module.EXPERIMENTS)
    CLAIMS.extend(_module.CLAIMS)

# Groups declared with declare() (a user's own studies): each gets a report
# page of its own, built from its runs (core/report.py:group_blocks).
GROUPS: dict[str, dict] = {}
PLUGINS_ENV = "CNNLAB_PLUGINS"


class UnknownExperiment(KeyError):
    pass


def _quick(config: dict) -> dict:
    """Any declared experiment in seconds: two epochs, a few hundred examples."""
    config = copy.deepcopy(config)
    config["train"]["epochs"] = min(2, config["train"]["epochs"])
    config["data"].setdefault("train_limit", 256)
    config["title"] = config.get("title", config["experiment"]) + " (quick)"
    return config


def declare(group: str, experiments: dict[str, dict], baseline: str, title: str | dict,
            text: str | dict = "", quick=None) -> None:
    """Declare a study of your own: `experiments` maps each name to its config
    (a dict, as any run's config.json, without experiment, group or seed),
    `baseline` names the one the others are judged against, `title` and
    `text` (a string, or {"en": ..., "zh": ...}) head its report page.
    `quick(config) -> config` shrinks one for --quick (default: two epochs
    and data.train_limit 256, which your task may read)."""
    if baseline not in experiments:
        raise ValueError(f"declare({group!r}): baseline {baseline!r} is not one of its experiments")
    taken = [n for n in experiments if n in EXPERIMENTS and EXPERIMENTS[n].__dict__.get("group") != group]
    if taken:
        raise ValueError(f"declare({group!r}): {', '.join(taken)} already declared elsewhere")
    for name, config in experiments.items():
        def get(q=False, _name=name, _config=config):
            config = {**copy.deepcopy(_config), "experiment": _name, "group": group}
            return (quick or _quick)(config) if q else config
        get.group = group
        EXPERIMENTS[name] = get
    GROUPS[group] = {"title": title, "text": text, "baseline": baseline, "experiments": list(experiments)}


def load_plugins() -> None:
    """Import the modules named in $CNNLAB_PLUGINS (comma-separated), where a
    user declares tasks, models and experiments without editing this package."""
    for name in filter(None, (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(","))):
        importlib.import_module(name)


def get_config(name: str, quick: bool = False) -> dict:
    if name not in EXPERIMENTS:
        close = [n for n in EXPERIMENTS if name.split("-")[0] in n][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownExperiment(f"unknown experiment {name!r}{hint} "
                                "(`python -m experiments list` shows them all)")
    return EXPERIMENTS[name](quick)


load_plugins()
