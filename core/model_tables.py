"""Layer tables of every declared model, generated from the Keras models and
kept in each study's model_tables.json (Study.model_tables), so that a page
shows a model's layers and parameter count without importing Keras (6 s and
700 MiB on first use).

`python -m core.model_tables` regenerates the files; tests/test_model_tables.py
rebuilds every model and fails when a file no longer matches the code. A
model missing from the files (a user's own experiment) is built on demand.
A study whose pages show a model at other input sizes says which
(Study.model_sizes) and how to derive those tables (Study.sized_table).
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

def key(name: str, kwargs: dict | None = None, size: int | None = None) -> str:
    """`size`: a square input size its study shows the model at (Study.sized_table);
    None: the model as its builder makes it (core.registry.summary_rows)."""
    return f"{name}|{json.dumps(kwargs or {}, sort_keys=True)}|{'' if size is None else size}"


def _files() -> list[Path]:
    from core.study import studies
    return [s.model_tables for s in studies() if s.model_tables]


@functools.lru_cache(maxsize=1)
def _stored() -> dict:
    out: dict = {}
    for f in _files():
        try:
            out.update(json.loads(f.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass
    return out


def build(name: str, kwargs: dict | None = None, size: int | None = None) -> list[dict]:
    """The table from the model itself (imports Keras)."""
    import keras

    from core.registry import build_model, summary_rows
    kwargs = dict(kwargs or {})
    if size is None:
        # Layer names Keras makes up (input_layer_6) count the models built
        # before in this process: start each table from a fresh count.
        keras.utils.clear_session()
        return summary_rows(build_model(name, **kwargs))
    from core.registry import known_models
    from core.study import resolve, studies
    module = known_models()[name].__module__
    owner = next((s for s in studies() if module in s.models and s.sized_table), None)
    if owner is None:
        raise KeyError(f"model {name!r}: no study says how to show it at size {size}")
    kwargs.pop("input_shape", None)
    return resolve(owner.sized_table)(name, kwargs, size)


@functools.lru_cache(maxsize=256)
def _table(k: str) -> tuple:
    stored = _stored().get(k)
    if stored is not None:
        return tuple(stored)
    name, kwargs_json, size = k.split("|")
    return tuple(build(name, json.loads(kwargs_json), int(size) if size else None))


def table(name: str, kwargs: dict | None = None, size: int | None = None) -> list[dict]:
    return [dict(r) for r in _table(key(name, kwargs, size))]


def params(name: str, kwargs: dict | None = None, size: int | None = None) -> int:
    return sum(r["params"] for r in _table(key(name, kwargs, size)))


def declared(study=None) -> list[tuple[str, str, int | None]]:
    """Every (model, kwargs as JSON, size) the pages show: each experiment's
    model as built, or at the sizes its study shows it at."""
    from core.study import resolve, studies
    out = []
    for s in [study] if study else studies():
        sizes = resolve(s.model_sizes) if s.model_sizes else (lambda cfg: [None])
        for get in s.experiments.values():
            cfg = get(False)
            name, kwargs = cfg["model"]["name"], cfg["model"].get("kwargs", {})
            if name == "tiny_test_net":  # the engine's test model: no page shows it
                continue
            out += [(name, kwargs, size) for size in sizes(cfg)]
    return list(dict.fromkeys((n, json.dumps(k, sort_keys=True), s) for n, k, s in out))


def generate(study=None) -> dict:
    return {key(n, json.loads(k), s): build(n, json.loads(k), s) for n, k, s in declared(study)}


def main() -> int:
    from core.study import studies
    for s in studies():
        if s.model_tables:
            tables = generate(s)
            s.model_tables.write_text(json.dumps(tables, indent=0, sort_keys=True) + "\n", encoding="utf-8")
            print(f"wrote {len(tables)} layer tables to {s.model_tables}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
