"""What each JSON record file of a run may hold: one declared schema per file.

The schemas are JSON Schema (draft 2020-12) written as data, checked with the
`jsonschema` library (core/records.py:check_record), not by hand: another
tool that writes runs for this report can validate its files against the same
document (`python -m core.record_schema` prints them). Every field a reader of
the record uses has its type here; a field the schema does not name is
allowed (a plugin's config keys, a newer writer's extras), but is still held
to the limits every record file keeps:

- no file larger than MAX_BYTES, no nesting deeper than MAX_DEPTH;
- no non-finite number (JSON has none; Python's writer can emit NaN and
  Infinity, and a figure that is not a number is not a result).

The types were read off every committed run (341 record files) and off the
writers (core/train.py), so every committed run stays readable. A record that
breaks them is `unreadable`, with the file, the field and what was wrong.
"""
from __future__ import annotations

# A record file is a few kilobytes (the largest committed one is 3 KB) and
# nests at most five levels (config.model.kwargs lists): these limits leave
# room for any honest writer and stop a damaged or hostile file before it
# costs memory or recursion.
MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
# history.csv: one row per epoch, a few hundred bytes each.
MAX_HISTORY_BYTES = 32 * 1024 * 1024

SEED_MAX = 2 ** 32 - 1
# The origins of runs of one's own (core/own.py): recorded by core/recorder.py
# in one's own script, imported from one's logs by core/importers.py.
OWN_ORIGINS = ("recorded", "imported")
OWN_METRICS = ("test_accuracy", "val_accuracy", "best_val_accuracy")  # NumPy's and Keras's seeds are unsigned 32-bit integers

_STR = {"type": "string"}
_INT = {"type": "integer"}
_COUNT = {"type": "integer", "minimum": 0}
_POSITIVE = {"type": "integer", "minimum": 1}
_NUM = {"type": "number"}
_BOOL = {"type": "boolean"}
_OBJECT = {"type": "object"}
# words in one language, or {"en": ..., "zh": ...}
_WORDS = {"type": ["string", "object"], "additionalProperties": _STR}


def _or_null(schema: dict) -> dict:
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*types, "null"]}


def _obj(properties: dict, values: dict | None = None) -> dict:
    """An object whose named fields have these schemas; others are allowed
    (of `values`' schema, when given)."""
    out = {"type": "object", "properties": properties}
    if values is not None:
        out["additionalProperties"] = values
    return out


# Metrics (best/final epoch, test set): every value a number.
_METRICS = _obj({}, _NUM)

_CONTINUED = _obj({"run": _STR, "epochs": _COUNT, "stopped_early": _BOOL,
                   "git": _or_null(_obj({"commit": _or_null(_STR), "dirty": _or_null(_BOOL)}))})

CONFIG = _obj({
    "experiment": {"type": "string", "minLength": 1},
    "seed": {"type": "integer", "minimum": 0, "maximum": SEED_MAX},
    "title": _STR, "title_zh": _STR, "notes": _STR, "group": _STR,
    # study: declared and trained here; app: started from the app; recorded:
    # by core/recorder.py in one's own script; imported: from one's logs
    "origin": {"enum": ["study", "app", *OWN_ORIGINS]},
    # a study of one's own's words (core/own.py): not part of the run's identity
    "study": _obj({"title": _WORDS, "text": _WORDS, "baseline": _STR, "compare_with": _STR,
                   "metric": {"enum": list(OWN_METRICS)}}),
    "params": _OBJECT,  # one's own config, under one's own names
    # the published figure a run is compared with: numbers, and where it is from
    "reference": _or_null(_obj({"source": _STR}, {"type": ["number", "string", "null"]})),
    "data": _obj({
        "dataset": {"type": "string", "minLength": 1},
        "pool": _STR, "pool_size": _or_null(_POSITIVE), "subset": _STR,
        "val_fraction": _NUM, "val_size": _POSITIVE, "test_limit": _or_null(_POSITIVE),
        "test_size": _POSITIVE, "train_limit": _or_null(_POSITIVE), "val_limit": _or_null(_POSITIVE),
        "pixel_scale": _NUM, "preprocess": _STR, "preprocess_options": _OBJECT,
        "test_source": _or_null(_STR), "relabel": _or_null(_obj({"name": _STR, "sha1": _STR})),
        "synthetic": _or_null(_obj({"n": _POSITIVE, "scaled": _NUM})),
        "folder": _or_null(_STR), "n_classes": _or_null(_POSITIVE), "image_size": _POSITIVE,
        "shuffle_buffer": _or_null(_POSITIVE),
    }),
    "model": _obj({"name": {"type": "string", "minLength": 1}, "kwargs": _OBJECT}),
    "train": _obj({
        "epochs": _POSITIVE, "batch_size": _POSITIVE, "optimizer": _STR, "learning_rate": _NUM,
        "early_stopping": _or_null(_obj({"monitor": _STR, "patience": _COUNT})),
        "reduce_lr": _or_null(_obj({"monitor": _STR, "patience": _COUNT, "factor": _NUM, "min_lr": _NUM})),
        "restore_best": _BOOL, "mixed_precision": _BOOL, "tensorboard": _BOOL, "balance_heads": _BOOL,
        "label_smoothing": _NUM, "weight_decay": _NUM, "class_weight": _or_null(_STR),
        "lr_schedule": _or_null(_STR), "mix": _or_null(_obj({}, _NUM)),
        "continue_from": _or_null(_STR), "devices": {"type": ["integer", "string", "null"]},
    }),
})

META = _obj({
    "status": {"enum": ["running", "done", "failed", "interrupted", "cancelled"]},
    "pid": _INT, "host": _STR, "seed": _COUNT, "worker": _or_null(_STR),
    "started": _STR, "ended": _or_null(_STR), "error": _STR, "stopped_by": _STR,
    "git": _obj({"commit": _or_null(_STR), "dirty": _or_null(_BOOL)}),
    "device": _obj({"backend": _STR, "cpu": _STR, "cpu_count": _or_null(_INT), "device": _STR,
                    "gpus": {"type": "array", "items": _STR}, "probe_error": _STR}),
    "versions": _obj({}, _or_null(_STR)),
    "sessions": {"type": "array", "items": _obj({"started": _STR, "resumed_from_epoch": _or_null(_COUNT),
                                                "note": _STR})},
    "continued_from": _CONTINUED,
})

SUMMARY = _obj({
    "epochs_run": _COUNT, "epochs_budget": _COUNT, "stopped_early": _BOOL,
    "restored_best_epoch": _or_null(_COUNT), "best_epoch": _or_null(_COUNT),
    "best": _METRICS, "final": _METRICS, "test": _METRICS,
    # absent from a run of one's own that did not say them (core/own.py)
    "params": _COUNT, "n_train": _COUNT, "n_val": _COUNT, "n_test": _COUNT,
    "train_seconds": _NUM, "seconds_per_epoch_median": _or_null(_NUM), "eval_seconds": _NUM,
    "wall_seconds_this_session": _NUM, "model_file": _or_null(_STR), "precision_policy": _STR,
    "devices": {"type": ["integer", "string", "array", "null"]},
    "continued_from": _CONTINUED,
})

SCHEMAS = {"config.json": CONFIG, "meta.json": META, "summary.json": SUMMARY}


if __name__ == "__main__":  # the schemas as one JSON document, for other tools
    import json
    print(json.dumps({name: {"$schema": "https://json-schema.org/draft/2020-12/schema", **s}
                      for name, s in SCHEMAS.items()}, indent=2))
