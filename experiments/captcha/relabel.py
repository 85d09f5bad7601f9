"""Cleaner training labels, proposed by models that never saw the test split.

About 3.6 % of the validation labels are wrong (README, "The labels it learns
from are as noisy"): `verified-11000` was labelled by a model, and hand labels
slip by a line. Wrong validation labels do the most harm: a confident, right
reading of a mislabelled captcha costs more validation loss than an unsure
one, so early stopping and the best-epoch choice watch a signal that the
noise bends (captcha-net-shift seed 2 kept epoch 23, 98.6 % audited validation
exact match, where its last epoch read 99.2 %).

`propose` lets an ensemble of finished runs read their own training and
validation captchas (never the test split) and lists every captcha whose
ensemble reading differs from its label:

* `relabel`: every character read with ensemble probability >= the threshold;
  the reading replaces the label.
* `drop`: the ensemble disagrees but is unsure; the captcha leaves training
  and validation (its label is doubtful and so is the reading).

The list is committed as a CSV (`experiments/captcha/relabel-<name>.csv`) and a data
config names it with the file's sha1, so a run records exactly which labels it
learnt from, and an edited list is a new config. A list that names a test
image is refused.
"""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path


HERE = Path(__file__).resolve().parent
FIELDS = ["image", "label", "reading", "confidence_min", "by", "action"]


class RelabelError(ValueError):
    pass


def path_of(name: str) -> Path:
    return HERE / f"relabel-{name}.csv"


def digest(name: str) -> str:
    p = path_of(name)
    if not p.is_file():
        raise RelabelError(f"no relabel list {p}")
    return hashlib.sha1(p.read_bytes()).hexdigest()


def spec(name: str) -> dict:
    """What a data config holds: the list's name and its content digest."""
    return {"name": name, "sha1": digest(name)}


def load(spec_: dict) -> dict[str, str | None]:
    """{image ref: new label, or None to drop}, after checking the file is
    the one the config was declared with."""
    name, want = spec_["name"], spec_.get("sha1")
    got = digest(name)
    if want and got != want:
        raise RelabelError(f"{path_of(name)} changed since the config was declared "
                           f"(sha1 {got[:12]}, config {want[:12]}); declare a new list instead")
    out = {}
    with open(path_of(name), newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            action = row.get("action")
            if action == "relabel":
                out[row["image"]] = row["reading"].strip().upper()
            elif action == "drop":
                out[row["image"]] = None
            else:
                raise RelabelError(f"{path_of(name)}, line {n}: action {action!r} is neither relabel nor drop")
    return out


def apply(items: list, fixes: dict[str, str | None]) -> list:
    """Items with the listed labels replaced and the dropped ones removed."""
    from dataclasses import replace
    out = []
    for it in items:
        if it.ref not in fixes:
            out.append(it)
        elif fixes[it.ref] is not None:
            out.append(replace(it, label=fixes[it.ref]))
    return out


def write(rows: list[dict], path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)
    return path
