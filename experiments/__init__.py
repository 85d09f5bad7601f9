"""The studies, one package each (experiments/<study>/, registered with
core/study.py), and the command line that trains them (`python -m
experiments`).

`get_config(name, quick=False)` returns an experiment's config (without a
seed); the quick switch shrinks data and epochs so the same experiment runs
in seconds for CI, big_vision style. `declare()` makes a small study of your
own from a few configs, without a package (examples/folder_study/ shows the
package way, which can also bring pages, cards and data checks).
"""
from __future__ import annotations

import copy
import functools

from core.study import PLUGINS_ENV, UnknownExperiment, get_config, load_plugins  # noqa: F401


def __getattr__(name: str):
    """EXPERIMENTS, CLAIMS and GROUPS as they always were, from the registry."""
    from core import study
    if name == "EXPERIMENTS":
        return study.experiments()
    if name == "CLAIMS":
        return study.claims()
    if name == "GROUPS":
        return {s.name: s.declared for s in study.studies() if s.declared is not None}
    raise AttributeError(f"module 'experiments' has no attribute {name!r}")


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
    from core import study
    if baseline not in experiments:
        raise ValueError(f"declare({group!r}): baseline {baseline!r} is not one of its experiments")
    taken = [n for n in experiments if (s := study.study_of(n)) is not None and s.name != group]
    if taken:
        raise ValueError(f"declare({group!r}): {', '.join(taken)} already declared elsewhere")

    def getter(name, config):
        def get(q=False):
            out = {**copy.deepcopy(config), "experiment": name, "group": group}
            return (quick or _quick)(out) if q else out
        get.group = group
        return get

    from core.report import group_blocks
    spec = {"title": title, "text": text, "baseline": baseline, "experiments": list(experiments)}
    study.register(study.Study(
        name=group, title="nav.yours", experiments={n: getter(n, c) for n, c in experiments.items()},
        pages=[study.Page(group, title, blocks=functools.partial(group_blocks, group),
                          retrain=lambda: list(experiments))],
        declared=spec))
