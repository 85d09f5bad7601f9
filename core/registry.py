"""Model builders by name, without importing Keras: a builder registers itself
with @register when its module is imported, and known_models() imports every
family module first. core/models.py (MNIST's builders) is one family, each
study's models module another; a user's module adds its own with
register_family, or simply by being imported (CNNLAB_PLUGINS)."""
from __future__ import annotations

import importlib
from typing import Callable

REGISTRY: dict[str, Callable] = {}
FAMILIES = ["core.models", "core.captcha.models", "core.caltech.models"]


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


def known_models() -> dict[str, Callable]:
    """Every registered builder, each family's module imported once (Keras with it)."""
    for module in FAMILIES:
        importlib.import_module(module)
    return REGISTRY


def build_model(name: str, **kwargs):
    known = known_models()
    if name not in known:
        raise UnknownModel(f"unknown model {name!r}; known: {', '.join(sorted(known))}")
    return known[name](**kwargs)
