"""The test-label audit: suspects, audited accuracy, the committed verdicts."""
import csv

import pytest

from core.captcha import ALPHABET
from core.captcha import audit


def write_preds(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "label", "prediction", "confidence_min", "conf1", "conf2", "conf3", "conf4"])
        for image, label, pred, conf in rows:
            w.writerow([image, label, pred, conf, conf, conf, conf, conf])
    return path


def test_suspects_are_confident_failures_most_confident_first(tmp_path):
    p = write_preds(tmp_path / "p.csv", [("a/1", "ABCD", "ABCD", 0.999), ("a/2", "ZCN5", "ZCM5", 0.995),
                                         ("a/3", "Q2K4", "QZK4", 0.9999), ("a/4", "7777", "7771", 0.6)])
    assert [r["image"] for r in audit.suspects(p)] == ["a/3", "a/2"]
    assert [r["image"] for r in audit.suspects(p, 0.5)] == ["a/3", "a/2", "a/4"]


def test_accuracy_reports_given_and_audited_labels_side_by_side(tmp_path):
    p = write_preds(tmp_path / "p.csv", [("a/1", "ABCD", "ABCD", 0.999), ("a/2", "ZCN5", "ZCM5", 0.995),
                                         ("a/3", "Q2K4", "QZK4", 0.9999), ("a/4", "7777", "7771", 0.6)])
    acc = audit.accuracy(p, {"a/2": "ZCM5", "a/9": "AAAA"})
    assert acc["exact_match"] == 0.25 and acc["exact_match_audited"] == 0.5
    assert acc["labels_corrected"] == 1
    assert acc["char_accuracy"] == pytest.approx(13 / 16) and acc["char_accuracy_audited"] == pytest.approx(14 / 16)


def test_committed_audit_is_well_formed():
    with open(audit.LABEL_AUDIT, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows, "the audit file lists its verdicts"
    assert len({r["image"] for r in rows}) == len(rows)
    for r in rows:
        source, number = r["image"].split("/")
        assert source in ("handlabeled-5000", "verified-11000") and number.isdigit()
        assert len(r["audited"]) == 4 and set(r["audited"]) <= set(ALPHABET)
        assert r["audited"] != r["label"].upper() and r["note"]


def test_audited_images_are_in_the_held_out_test_split(real_captchas):
    from core.captcha.data import list_items, split
    _, _, test = split(list_items(real_captchas))
    refs = {it.ref: it.label for it in test}
    for image, label in audit.load_audit().items():
        assert image in refs, f"{image} is not a test image"
