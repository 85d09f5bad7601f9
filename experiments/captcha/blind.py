"""Reading failures blind: a model's disagreements with the labels that no one
has read yet, drawn for a person who sees neither the label nor any reading
(each captcha as served and with the arc's inversion undone, numbered only),
and the person's readings recorded in an audit file afterwards.

    python -m experiments.captcha blind --runs RUN... --sheet sheet.png
    python -m experiments.captcha blind --record sheet.json --readings Q45N,9MNR,... \
        --note "cross-source failure (captcha-xsrc-to-verified-clean)"

A reading of "?" marks an image the person could not read for sure."""
from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from experiments.captcha import audit


def unread_failures(runs: list[Path], looked_at: set[str]) -> list[str]:
    """Image refs the runs misread (on the labels as given) that no audit file holds."""
    out: list[str] = []
    for run in runs:
        with open(Path(run) / "predictions.csv", newline="") as f:
            for r in csv.DictReader(f):
                if r["label"] != r["prediction"] and r["image"] not in looked_at and r["image"] not in out:
                    out.append(r["image"])
    return out


def sheet(refs: list[str], root: Path, scale: int = 4) -> Image.Image:
    """One tile per captcha: its number, the captcha in grey as served, then
    with the arc's inversion undone; no label, no reading."""
    from experiments.captcha.preprocess import load_image, undo_arc
    tiles = []
    for k, ref in enumerate(refs):
        source, number = ref.split("/")
        g = np.asarray(Image.fromarray(load_image(root / source / "images" / f"{number}.jpg")).convert("L"))
        both = np.concatenate([g, np.full((4, g.shape[1]), 255, np.uint8), undo_arc(g)], 0)
        im = Image.fromarray(both).resize((both.shape[1] * scale, both.shape[0] * scale), Image.NEAREST)
        tile = Image.new("RGB", (im.width + 60, im.height), "white")
        tile.paste(im.convert("RGB"), (60, 0))
        ImageDraw.Draw(tile).text((5, 5), str(k), fill="red")
        tiles.append(tile)
    out = Image.new("RGB", (max((t.width for t in tiles), default=1), sum(t.height + 8 for t in tiles) or 1), "white")
    y = 0
    for t in tiles:
        out.paste(t, (0, y))
        y += t.height + 8
    return out


def record(refs: list[str], readings: list[str], runs: list[Path], note: str, path: Path = audit.XSRC_AUDIT,
           when: str | None = None) -> list[list[str]]:
    """Append one verdict per ref to an audit file: the label as given, the
    person's reading, and whether it is the label, the model's or a third."""
    from experiments.captcha.labels import normalise_label
    if len(readings) != len(refs):
        raise ValueError(f"{len(readings)} reading(s) for {len(refs)} captcha(s)")
    readings = [r if r.strip() == audit.AMBIGUOUS else normalise_label(r, f"reading {k}")
                for k, r in enumerate(readings)]
    seen: dict[str, tuple[str, str]] = {}
    for run in runs:
        with open(Path(run) / "predictions.csv", newline="") as f:
            for r in csv.DictReader(f):
                seen.setdefault(r["image"], (r["label"], r["prediction"]))
    when = when or date.today().isoformat()
    rows = []
    for ref, mine in zip(refs, readings):
        label, model = seen[ref]
        verdict = ("ambiguous" if mine == audit.AMBIGUOUS else "the reading is the label" if mine == label
                   else "the model's reading" if mine == model else "a third reading")
        rows.append([ref, label, mine, f"{note} read blind ({when}): {verdict}"])
    with open(path, "a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return rows


def save_sheet(refs: list[str], runs: list[Path], root: Path, out: Path) -> Path:
    """The sheet as PNG and, beside it, the refs in sheet order (for --record)."""
    sheet(refs, root).save(out)
    meta = out.with_suffix(".json")
    meta.write_text(json.dumps({"refs": refs, "runs": [str(r) for r in runs]}, indent=1), encoding="utf-8")
    return meta
