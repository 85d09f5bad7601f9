"""Model builders by name, without importing Keras: a builder registers itself
with @register when its module is imported, and known_models() imports every
family module first. Each study names its families (core/study.py:
Study.models); a user's module adds its own with register_family, or simply
by being imported (CNNLAB_PLUGINS)."""
from __future__ import annotations

import importlib
from typing import Callable

REGISTRY: dict[str, Callable] = {}
FAMILIES: list[str] = []  # families registered outside a study (register_family)


class UnknownModel(KeyError):
    pass


def register(name: str):
    def wrap(fn):
        REGISTRY[name] = fn
        return fn
    return wrap


def register_family(module: str) -> None:
    """A module of model builders (each under @register) to look in by name."""
    if module not in FAMILIES:
        FAMILIES.append(module)


def families() -> list[str]:
    from core.study import studies
    return [m for s in studies() for m in s.models] + [m for m in FAMILIES]


def known_models() -> dict[str, Callable]:
    """Every registered builder, each family's module imported once (Keras with it)."""
    for module in families():
        importlib.import_module(module)
    return REGISTRY


def build_model(name: str, **kwargs):
    known = known_models()
    if name not in known:
        raise UnknownModel(f"unknown model {name!r}; known: {', '.join(sorted(known))}")
    return known[name](**kwargs)


def summary_rows(model) -> list[dict]:
    """(layer, type, output shape, parameters) from the model itself, for pages."""
    rows = []
    for layer in model.layers:
        try:
            shape = str(tuple(layer.output.shape))
        except (AttributeError, ValueError):
            shape = "?"
        rows.append({"layer": layer.name, "type": type(layer).__name__,
                     "output_shape": shape, "params": int(layer.count_params())})
    return rows
