"""Tables the captcha pages show, computed from run records (no Streamlit)."""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pandas as pd

from experiments.captcha.labels import ALPHABET, N_CHARS


def read_predictions(run_paths) -> pd.DataFrame:
    """predictions.csv of several runs, one row per (run, test image), with
    `truth`: the label as read by eye where the audit has a verdict
    (experiments/captcha/audit.py), else the label as given. The views below score
    against `truth`, so a mislabelled image is not shown as the model's mistake."""
    from experiments.captcha.audit import load_audit

    frames = []
    for p in run_paths:
        f = Path(p) / "predictions.csv"
        if f.is_file():
            with open(f, newline="") as fh:
                rows = list(csv.DictReader(fh))
            frames.append(pd.DataFrame(rows).assign(run=Path(p).name))
    if not frames:
        return pd.DataFrame(columns=["image", "label", "truth", "prediction", "confidence_min", "run"])
    df = pd.concat(frames, ignore_index=True)
    df["confidence_min"] = df["confidence_min"].astype(float)
    audit = load_audit()
    df["truth"] = [audit.get(i, lab) for i, lab in zip(df["image"], df["label"])]
    return df


def confusions(pred: pd.DataFrame) -> pd.DataFrame:
    """Character-level mistakes: true, predicted, count (all positions)."""
    c = Counter()
    for label, guess in zip(pred["truth"], pred["prediction"]):
        for a, b in zip(label, guess):
            if a != b:
                c[(a, b)] += 1
    return pd.DataFrame([{"true": a, "predicted": b, "count": n} for (a, b), n in c.most_common()],
                        columns=["true", "predicted", "count"])


def per_character_accuracy(pred: pd.DataFrame) -> pd.DataFrame:
    right, total = Counter(), Counter()
    for label, guess in zip(pred["truth"], pred["prediction"]):
        for a, b in zip(label, guess):
            total[a] += 1
            right[a] += a == b
    return pd.DataFrame([{"character": ch, "n": total[ch],
                          "accuracy": right[ch] / total[ch] if total[ch] else None}
                         for ch in ALPHABET])


def failures(pred: pd.DataFrame, limit: int = 24) -> pd.DataFrame:
    """The model's real mistakes (against `truth`), least confident first."""
    wrong = pred[pred["truth"] != pred["prediction"]].copy()
    wrong["wrong positions"] = [
        " ".join(str(i + 1) for i in range(N_CHARS) if a[i] != b[i])
        for a, b in zip(wrong["truth"], wrong["prediction"])]
    return wrong.sort_values("confidence_min").head(limit)[
        ["image", "label", "truth", "prediction", "wrong positions", "confidence_min", "run"]]


def time_to_reach(history: list[dict], metric: str = "val_exact_match", target: float = 0.99):
    """(epoch, seconds of training) when `metric` first reaches target, or None."""
    total = 0.0
    for row in history:
        total += row.get("seconds") or 0.0
        if (row.get(metric) or 0.0) >= target:
            return row["epoch"], total
    return None


# file -> content key of what read the copies (content/<lang>/captcha_models.md, robustness.*)
ROBUSTNESS_FILES = {"robustness.json": "reader", "robustness-model-only.json": "model-alone"}


def robustness_table(runs_by_experiment: dict, lang: str = "en") -> pd.DataFrame:
    """Exact match (audited where the file has it) per transform, mean ± std
    over each experiment's seeds, for the reader as shipped (margins trimmed
    first, robustness.json) and the model alone (robustness-model-only.json).
    Columns are '<experiment>, <reader|model alone>'; cells are strings. The
    column names and the transforms are in `lang` (a transform no content file
    names keeps its recorded name)."""
    from core.blocks import tx

    entries = []
    for exp, paths in runs_by_experiment.items():
        for fname, kind in ROBUSTNESS_FILES.items():
            column = tx(lang, "captcha_models.robustness.column", experiment=exp,
                        kind=tx(lang, f"captcha_models.robustness.{kind}"))
            entries += [(column, Path(p) / fname) for p in paths]
    return _transform_table(entries, lang)


CRAWL_FILE = "robustness-crawl"  # robustness-crawl.json (our split), robustness-crawl-<source>.json


def crawl_robustness_table(runs_by_experiment: dict, lang: str = "en") -> pd.DataFrame:
    """The crawl set (what another crawl's files look like, robustness.py's
    CRAWL_TRANSFORMS) per experiment and test set: '<experiment> on <our
    split | source>' columns from each run's robustness-crawl*.json."""
    from core.blocks import tx

    entries = []
    for exp, paths in runs_by_experiment.items():
        for p in paths:
            for f in sorted(Path(p).glob(f"{CRAWL_FILE}*.json")):
                source = f.stem[len(CRAWL_FILE) + 1:]
                where = source or tx(lang, "captcha_models.crawl-robustness.our-split")
                entries.append((bool(source), tx(lang, "captcha_models.crawl-robustness.column",
                                                   experiment=exp, where=where), f))
    # the shipped model on our split first: the reader a user gets
    return _transform_table([e[1:] for e in sorted(entries, key=lambda e: e[0])], lang)


def _transform_table(entries: list, lang: str) -> pd.DataFrame:
    """[(column, robustness file)] -> transform x column table of mean ± std
    over the files of a column (seeds); a missing or damaged file is left out."""
    import json
    import statistics

    from core.blocks import lookup, slug, tx
    from core.results import figure

    cells: dict = {}
    order: list = []
    for column, f in entries:
        try:
            rows = json.loads(Path(f).read_text())["rows"]
            values = [(row["transform"], float(row.get("exact_match_audited", row["exact_match"])))
                      for row in rows]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for transform, value in values:
            if transform not in order:
                order.append(transform)
            cells.setdefault((transform, column), []).append(100 * value)
    if not cells:
        return pd.DataFrame()
    columns = list(dict.fromkeys(col for _, col in cells))
    out = pd.DataFrame(index=order, columns=columns, dtype=object)
    for (transform, col), vals in cells.items():
        sd = statistics.stdev(vals) / 100 if len(vals) > 1 else None
        out.loc[transform, col] = figure(statistics.mean(vals) / 100, sd, len(vals), lang)
    out.index = [lookup(lang, f"captcha_models.transform.{slug(t)}", t) for t in order]
    return out.fillna("").rename_axis(tx(lang, "captcha_models.robustness.transform")).reset_index()
