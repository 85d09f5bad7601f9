"""Proposing a relabel list: the ensemble of some runs reads captchas, and
where it disagrees with a label it proposes a new one (sure on every
character) or dropping the image (relabel.py holds and applies the lists;
`python -m experiments.captcha relabel` writes one)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def ensemble_probs(run_dirs: list[Path], items: list) -> np.ndarray:
    """(N, 4, 19) mean of the runs' softmax outputs on the items, each run
    reading them through its own preprocessing."""
    import json

    from experiments.captcha import data as cd
    from experiments.captcha.recognizer import Recognizer
    total = None
    for run in run_dirs:
        cfg = json.loads((Path(run) / "config.json").read_text())["data"]
        x = cd.preprocess_items(items, cfg["preprocess"], cfg.get("preprocess_options", {})).astype("float32") / 255
        rec = Recognizer(Path(run) / "model.keras")
        probs = rec.model.predict(x, batch_size=512, verbose=0)
        probs = np.stack([np.asarray(p) for p in probs], axis=1)
        total = probs if total is None else total + probs
    return total / len(run_dirs)


def propose(run_dirs: list[Path], items: list, threshold: float = 0.9,
            audit: dict[str, str] | None = None, looked_at: set[str] | None = None) -> list[dict]:
    """One row per item whose label is to change or go.

    A person's verdict (experiments/captcha/label_audit.csv, validation images read
    by eye) comes first: a correction relabels, a confirmation keeps the
    label whatever the models say, an ambiguous image is dropped. Every other
    item whose ensemble reading differs from its label is relabelled when
    each character's ensemble probability reaches `threshold`, else dropped.
    """
    from experiments.captcha.labels import decode
    audit, looked_at = audit or {}, looked_at or set()
    probs = ensemble_probs(run_dirs, items)
    pred, conf = probs.argmax(-1), probs.max(-1)
    rows = []
    for it, p, c in zip(items, pred, conf):
        reading, sure = decode(p), float(c.min())
        row = {"image": it.ref, "label": it.label, "confidence_min": f"{sure:.4f}"}
        if it.ref in looked_at:
            by_eye = audit.get(it.ref)  # None: read by eye, ambiguous
            if by_eye != it.label:
                rows.append({**row, "reading": by_eye or reading, "by": "eye",
                             "action": "relabel" if by_eye else "drop"})
        elif reading != it.label:
            rows.append({**row, "reading": reading, "by": "ensemble",
                         "action": "relabel" if sure >= threshold else "drop"})
    return rows
