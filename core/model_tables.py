"""Layer tables of every declared model, generated from the Keras models and
kept in core/model_tables.json, so that a page shows a model's layers and
parameter count without importing Keras (6 s and 700 MiB on first use).

`python -m core.model_tables` regenerates the file; tests/test_model_tables.py
rebuilds every model and fails when the file no longer matches the code. A
model missing from the file (a user's own experiment) is built on demand.
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

FILE = Path(__file__).with_name("model_tables.json")


def key(name: str, kwargs: dict | None = None, size: int | None = None) -> str:
    """`size`: the 50-class models' square input size (core.caltech.models.summary_at);
    None: the model as its builder makes it (core.models.summary_rows)."""
    return f"{name}|{json.dumps(kwargs or {}, sort_keys=True)}|{'' if size is None else size}"


@functools.lru_cache(maxsize=1)
def _stored() -> dict:
    try:
        return json.loads(FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def build(name: str, kwargs: dict | None = None, size: int | None = None) -> list[dict]:
    """The table from the model itself (imports Keras)."""
    import keras

    from core.models import build_model, summary_rows
    kwargs = dict(kwargs or {})
    if size is None:
        # Layer names Keras makes up (input_layer_6) count the models built
        # before in this process: start each table from a fresh count.
        keras.utils.clear_session()
        return summary_rows(build_model(name, **kwargs))
    from core.caltech.models import summary_at
    kwargs.pop("input_shape", None)
    # Built once at 32 x 32; every size's table is derived from its shapes.
    return summary_at(_small(name, json.dumps(kwargs, sort_keys=True)), size)


@functools.lru_cache(maxsize=64)
def _small(name: str, kwargs_json: str):
    from core.models import build_model
    return build_model(name, input_shape=(32, 32, 3), **json.loads(kwargs_json))


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


def declared() -> list[tuple[str, dict, int | None]]:
    """Every (model, kwargs, size) the pages show: each experiment's model as
    built and, for the 50-class study, at its own input size and the seed's."""
    from core.caltech.report import SEED_SIZE
    from experiments import EXPERIMENTS
    out = []
    for get in EXPERIMENTS.values():
        cfg = get(False)
        name, kwargs = cfg["model"]["name"], cfg["model"].get("kwargs", {})
        if name == "tiny_test_net":
            continue
        if cfg["data"].get("dataset") == "caltech50":
            out += [(name, kwargs, cfg["data"]["image_size"]), (name, kwargs, SEED_SIZE.get(name, 128))]
        else:
            out.append((name, kwargs, None))
    return list(dict.fromkeys((n, json.dumps(k, sort_keys=True), s) for n, k, s in out))


def generate() -> dict:
    return {key(n, json.loads(k), s): build(n, json.loads(k), s) for n, k, s in declared()}


def main() -> int:
    tables = generate()
    FILE.write_text(json.dumps(tables, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(tables)} layer tables to {FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
