"""Tables the captcha pages show, computed from run records (no Streamlit)."""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pandas as pd

from core.captcha import ALPHABET, N_CHARS


def read_predictions(run_paths) -> pd.DataFrame:
    """predictions.csv of several runs, one row per (run, test image)."""
    frames = []
    for p in run_paths:
        f = Path(p) / "predictions.csv"
        if f.is_file():
            with open(f, newline="") as fh:
                rows = list(csv.DictReader(fh))
            frames.append(pd.DataFrame(rows).assign(run=Path(p).name))
    if not frames:
        return pd.DataFrame(columns=["image", "label", "prediction", "confidence_min", "run"])
    df = pd.concat(frames, ignore_index=True)
    df["confidence_min"] = df["confidence_min"].astype(float)
    return df


def confusions(pred: pd.DataFrame) -> pd.DataFrame:
    """Character-level mistakes: true, predicted, count (all positions)."""
    c = Counter()
    for label, guess in zip(pred["label"], pred["prediction"]):
        for a, b in zip(label, guess):
            if a != b:
                c[(a, b)] += 1
    return pd.DataFrame([{"true": a, "predicted": b, "count": n} for (a, b), n in c.most_common()],
                        columns=["true", "predicted", "count"])


def per_character_accuracy(pred: pd.DataFrame) -> pd.DataFrame:
    right, total = Counter(), Counter()
    for label, guess in zip(pred["label"], pred["prediction"]):
        for a, b in zip(label, guess):
            total[a] += 1
            right[a] += a == b
    return pd.DataFrame([{"character": ch, "n": total[ch],
                          "accuracy": right[ch] / total[ch] if total[ch] else None}
                         for ch in ALPHABET])


def failures(pred: pd.DataFrame, limit: int = 24) -> pd.DataFrame:
    wrong = pred[pred["label"] != pred["prediction"]].copy()
    wrong["wrong positions"] = [
        " ".join(str(i + 1) for i in range(N_CHARS) if a[i] != b[i])
        for a, b in zip(wrong["label"], wrong["prediction"])]
    return wrong.sort_values("confidence_min").head(limit)[
        ["image", "label", "prediction", "wrong positions", "confidence_min", "run"]]


def time_to_reach(history: list[dict], metric: str = "val_exact_match", target: float = 0.99):
    """(epoch, seconds of training) when `metric` first reaches target, or None."""
    total = 0.0
    for row in history:
        total += row.get("seconds") or 0.0
        if (row.get(metric) or 0.0) >= target:
            return row["epoch"], total
    return None
