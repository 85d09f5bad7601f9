"""Label audit of the held-out test split.

The real labels are noisy (`verified-11000` was labelled by a model, and
hand labels slip by a line), and a test label that is wrong turns a correct
reading into a failure. A model's test failures are drawn on a contact sheet
with label and reading (`suspects`, `contact_sheet`; first only the confident
ones, p > 0.99 on every character, then all of them), and a person reads each
image. The verdicts are committed in `LABEL_AUDIT` (image ref, label as given,
label as read by eye, note): a correction, a confirmation (reading == label),
or `?` where the image cannot be read for sure. Every figure computed with
them is reported *beside* the figure on the labels as given, never instead
of it, with the share of the model's failures that were looked at.

Its bias is stated wherever it is used: only images some model disputed (and
a random sample of agreements) were looked at, so label errors a model agrees
with mostly stay in, and the audited figure favours the audited models.

The same check on the validation split (task.py: `predict_split`) measures how noisy
the labels a model learns from and is selected on are; verdicts on those
images go in the same file (they never touch a test figure).
"""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

LABEL_AUDIT = Path(__file__).resolve().parent / "label_audit.csv"
# Verdicts on the failures of the cross-source runs (captcha-xsrc-*), whose
# test set is a whole source: read blind first, then judged with the arc's
# inversion undone. Kept apart because they include images of our own
# training split; an image already in LABEL_AUDIT is not repeated here.
XSRC_AUDIT = Path(__file__).resolve().parent / "label_audit_xsrc.csv"
# Failures of the committed captcha runs whose verdict was first given with
# label and reading in view, read again blind (2026-12-07): every audited
# failure of the shipped recipe's runs (the six leave-one-source-out runs of
# captcha-xsrc-to-*-clean and captcha-net-xsrc s0: 67 images), then those of
# the other runs not yet read blind (17). Two readers apart, in a shuffled
# order among 46 images every model reads alike (controls: 91 of the 92
# control readings matched the audited label), told the alphabet and shown
# reference captchas of the font. The first look had taken a curved-top 2
# for a Z: 16 of the 33 verdicts replaced are Z -> 2. Where the readers were
# unsure, read a third way or disagreed, the image was judged with the
# inversion undone; the 8 ambiguous ones keep the label as given. Last in
# AUDITS: its verdict replaces an earlier one.
REREAD_AUDIT = Path(__file__).resolve().parent / "label_audit_reread.csv"
AUDITS = (LABEL_AUDIT, XSRC_AUDIT, REREAD_AUDIT)


def suspects(predictions_csv: Path, min_confidence: float = 0.99) -> list[dict]:
    """Failures whose every character the model reads with p >= min_confidence,
    most confident first."""
    with open(predictions_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    out = [r for r in rows if r["label"] != r["prediction"] and float(r["confidence_min"]) >= min_confidence]
    return sorted(out, key=lambda r: -float(r["confidence_min"]))


AMBIGUOUS = "?"  # the `audited` of an image a person looked at and could not read for sure


def _verdicts(path: Path) -> list[dict]:
    if not Path(path).is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _all_verdicts(path: Path | None) -> list[dict]:
    return _verdicts(path) if path is not None else [r for p in AUDITS for r in _verdicts(p)]


def load_audit(path: Path | None = None) -> dict[str, str]:
    """{image ref: label read by eye} for every image read for sure: the
    corrections, and the confirmations (reading == label, which change
    nothing); ambiguous images keep their label as given. From every audit
    file (AUDITS) unless one is named."""
    out: dict[str, str] = {}
    for r in _all_verdicts(path):  # in AUDITS' order: a later verdict replaces an earlier one
        if r["audited"].strip() == AMBIGUOUS:
            out.pop(r["image"], None)
        else:
            out[r["image"]] = r["audited"].strip().upper()
    return out


def reviewed(path: Path | None = None) -> set[str]:
    """Every image a person has looked at, ambiguous ones included."""
    return {r["image"] for r in _all_verdicts(path)}


def accuracy(predictions_csv: Path, audit: dict[str, str] | None = None,
             looked_at: set[str] | None = None) -> dict:
    """Exact match and character accuracy on the labels as given and, with
    `audit`, on the audited labels; how many labels the audit changed; and how
    many of the model's failures (on the labels as given) were looked at, the
    audited figure's coverage for this model."""
    audit = load_audit() if audit is None else audit
    looked_at = reviewed() if looked_at is None else looked_at
    # One pass with csv.reader over the three columns it needs: DictReader took
    # 0.19 s for the Overview's seven files (45,000 rows), most of its first visit's.
    with open(predictions_csv, newline="") as f:
        reader = csv.reader(f)
        head = next(reader)
        i_img, i_lab, i_pred = head.index("image"), head.index("label"), head.index("prediction")
        rows = [(r[i_img], r[i_lab], r[i_pred]) for r in reader]
    n = len(rows)
    e0 = c0 = e1 = c1 = corrected = failures = failures_reviewed = 0
    for image, label, pred in rows:
        fixed = audit.get(image, label)
        corrected += fixed != label
        # Most readings are right: not counting their characters one by one
        # takes the 26 committed prediction files from 0.15 s to 0.10 s.
        right0 = len(pred) if label == pred else sum(a == b for a, b in zip(label, pred))
        right1 = right0 if fixed == label else sum(a == b for a, b in zip(fixed, pred))
        c0, c1 = c0 + right0, c1 + right1
        e0 += label == pred
        e1 += fixed == pred
        if label != pred:
            failures += 1
            failures_reviewed += image in looked_at
    return {"n": n, "exact_match": e0 / n, "char_accuracy": c0 / (4 * n), "labels_corrected": corrected,
            "exact_match_audited": e1 / n, "char_accuracy_audited": c1 / (4 * n),
            "failures": failures, "failures_reviewed": failures_reviewed}


def by_source(predictions_csv: Path) -> dict:
    """Exact match per image set (the sets were labelled differently)."""
    with open(predictions_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    n, right = Counter(), Counter()
    for r in rows:
        source = r["image"].split("/")[0]
        n[source] += 1
        right[source] += r["label"] == r["prediction"]
    return {s: {"n": n[s], "exact_match": right[s] / n[s]} for s in sorted(n)}


def contact_sheet(rows: list[dict], data_dir, out: Path, per_row: int = 3) -> Path:
    """The suspects drawn at 2x with 'index: label / reading / image' under each."""
    from PIL import Image, ImageDraw

    from experiments.captcha.data import captcha_root
    root = captcha_root(data_dir)
    w, h = 2 * 160, 2 * 50 + 22
    sheet = Image.new("RGB", (per_row * w, max(1, -(-len(rows) // per_row)) * h), "white")
    draw = ImageDraw.Draw(sheet)
    for i, r in enumerate(rows):
        source, number = r["image"].split("/")
        img = Image.open(root / source / "images" / f"{number}.jpg").convert("RGB")
        img = img.resize((img.width * 2, img.height * 2))
        x, y = (i % per_row) * w, (i // per_row) * h
        sheet.paste(img, (x + 2, y + 2))
        draw.text((x + 4, y + 2 * 50 + 4), f"{i}: label {r['label']}  read {r['prediction']}  {r['image']}",
                  fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


# --- the blind audit ------------------------------------------------------------------

BLIND_AUDIT = Path(__file__).resolve().parent / "blind_audit.csv"
"""500 captchas drawn at random (numpy seed 20261201) from the held-out test
split and read by eye without the label or any model's reading (`blind` =
yes: enlarged contact sheets in a shuffled order, the reader told only the
alphabet and that the arc inverts what it crosses). Where the blind reading
and the label disagreed, the image was then looked at with the arc's
inversion undone (experiments/captcha/preprocess.py:undo_arc), label and reading
beside it: `verdict` label wrong / reader wrong / ambiguous, `audited` the
label as read. The blind pass measures label noise without leaning on a
model; it misses an error where reader and label err alike (one such, found
when the file was compared with the model-led audit, is marked in `note`)."""


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    import math
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def blind_summary(path: Path = BLIND_AUDIT, predictions_csv: Path | None = None) -> dict:
    """Label noise measured blind, with its 95 % (Wilson) interval; with a
    run's predictions.csv, that run's exact match on the sample's labels as
    given and as audited (ambiguous images left out)."""
    rows = _verdicts(path)
    n = len(rows)
    wrong = sum(r["verdict"] == "label wrong" for r in rows)
    ambiguous = sum(r["verdict"] == "ambiguous" for r in rows)
    low, high = _wilson(wrong, n)
    out = {"n": n, "read_blind": sum(r["blind"] == "yes" for r in rows), "label_wrong": wrong,
           "ambiguous": ambiguous, "noise": wrong / n, "noise_low": low, "noise_high": high,
           "reader_wrong": sum(r["verdict"] == "reader wrong" for r in rows)}
    if predictions_csv:
        with open(predictions_csv, newline="") as f:
            pred = {r["image"]: r["prediction"] for r in csv.DictReader(f)}
        seen = [r for r in rows if r["image"] in pred]
        clear = [r for r in seen if r["verdict"] != "ambiguous"]
        out["model_n"] = len(seen)
        out["model_exact_as_given"] = sum(pred[r["image"]] == r["label"] for r in seen) / max(1, len(seen))
        out["model_exact_audited"] = sum(pred[r["image"]] == r["audited"] for r in clear) / max(1, len(clear))
    return out


if __name__ == "__main__":
    import json
    import sys
    from experiments.captcha.recognizer import DEFAULT_RUN
    from core.records import REPO_ROOT
    run = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_RUN
    print(json.dumps(blind_summary(predictions_csv=REPO_ROOT / "runs" / run / "predictions.csv"), indent=1))
