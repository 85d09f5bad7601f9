"""How sure the reader is, and what answering "unsure" buys.

A reading's confidence is the product of its four characters' probabilities:
the chance that the whole reading is right, were the heads independent. A
booking script that asks for a new captcha below a threshold trades coverage
(the share of captchas it answers) for accuracy on those it answers; the
curve of that trade, read from a run's stored test predictions against the
audited labels, is what the Models page shows for each direction of leave
one source out (`python -m experiments.captcha predict --min-confidence`)."""
from __future__ import annotations

import csv
import math
from pathlib import Path


def of(per_char) -> float:
    """One confidence from the four characters' probabilities."""
    return math.prod(float(p) for p in per_char)


def scored(predictions_csv: Path, audit: dict[str, str]) -> list[tuple[float, bool]]:
    """(confidence, right on the audited labels) of every image of a
    predictions.csv (its conf1..conf4 columns; `audit`: audit.load_audit())."""
    with open(predictions_csv, newline="") as f:
        reader = csv.reader(f)
        head = next(reader)
        i_img, i_lab, i_pred = head.index("image"), head.index("label"), head.index("prediction")
        i_conf = [head.index(f"conf{k}") for k in range(1, 5)]
        return [(of(r[i] for i in i_conf), audit.get(r[i_img], r[i_lab]) == r[i_pred]) for r in reader]


def curve(scores: list[tuple[float, bool]]) -> list[dict]:
    """Accuracy on the readings kept when those below a threshold are answered
    "unsure": one point per distinct confidence, most confident first."""
    ranked = sorted(scores, key=lambda s: -s[0])
    out, right = [], 0
    for k, (conf, ok) in enumerate(ranked, 1):
        right += ok
        if k == len(ranked) or ranked[k][0] < conf:
            out.append({"threshold": conf, "coverage": k / len(ranked), "accuracy": right / k})
    return out


def at_coverage(points: list[dict], coverage: float) -> dict:
    """The point of the curve that answers at least this share of captchas."""
    return next(p for p in points if p["coverage"] >= coverage - 1e-12)


def coverage_for(points: list[dict], accuracy: float) -> dict | None:
    """The largest coverage whose readings are at least this accurate (None: never)."""
    good = [p for p in points if p["accuracy"] >= accuracy - 1e-12]
    return max(good, key=lambda p: p["coverage"]) if good else None


def grid(points: list[dict], start: float = 0.9, step: float = 0.001) -> list[dict]:
    """The curve sampled at coverages start, start + step, ... 1 (what a
    chart draws: a hundred points, not one per test image)."""
    n = round((1 - start) / step)
    return [{**at_coverage(points, start + i * step), "at": start + i * step} for i in range(n + 1)]
