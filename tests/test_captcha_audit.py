"""The test-label audit: suspects, audited accuracy, the committed verdicts."""
import csv

import pytest

from experiments.captcha import ALPHABET
from experiments.captcha import audit
from core.records import REPO_ROOT as REPO


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
    acc = audit.accuracy(p, {"a/2": "ZCM5", "a/9": "AAAA", "a/4": "7777"}, looked_at={"a/2", "a/4", "a/9"})
    assert acc["exact_match"] == 0.25 and acc["exact_match_audited"] == 0.5
    assert acc["labels_corrected"] == 1  # a/4's reading confirms its label
    assert acc["failures"] == 3 and acc["failures_reviewed"] == 2
    assert acc["char_accuracy"] == pytest.approx(13 / 16) and acc["char_accuracy_audited"] == pytest.approx(14 / 16)


def test_committed_audit_is_well_formed():
    with open(audit.LABEL_AUDIT, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows, "the audit file lists its verdicts"
    assert len({r["image"] for r in rows}) == len(rows)
    for r in rows:
        source, number = r["image"].split("/")
        assert source in ("handlabeled-5000", "verified-11000") and number.isdigit()
        assert r["audited"] == audit.AMBIGUOUS or (len(r["audited"]) == 4 and set(r["audited"]) <= set(ALPHABET))
        assert r["note"]
    ambiguous = {r["image"] for r in rows if r["audited"] == audit.AMBIGUOUS}
    assert ambiguous and not ambiguous & set(audit.load_audit(audit.LABEL_AUDIT)), "ambiguous images keep their label"
    assert audit.reviewed(audit.LABEL_AUDIT) == {r["image"] for r in rows}


def test_audited_images_are_held_out_and_their_given_labels_match_the_sets(real_captchas):
    """Verdicts cover test images (the audited test figure) and validation
    images (how noisy the labels a model is selected on are), never training
    images; each records the label exactly as the set gives it."""
    from experiments.captcha.data import list_items, split
    _, val, test = split(list_items(real_captchas))
    given = {it.ref: it.label for it in test + val}
    with open(audit.LABEL_AUDIT, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        assert r["image"] in given, f"{r['image']} is in neither the test nor the validation split"
        assert r["label"].upper() == given[r["image"]], r["image"]
    test_refs = {it.ref for it in test}
    fixed = [r for r in rows if r["audited"] not in (r["label"].upper(), audit.AMBIGUOUS)]
    # the figures the README quotes: 118 test and 94 validation labels corrected
    assert sum(r["image"] in test_refs for r in fixed) == 118
    assert len(fixed) - 118 == 94


def test_split_readings_by_source(tmp_path):
    p = write_preds(tmp_path / "p.csv", [("a/1", "ABCD", "ABCD", 0.9), ("a/2", "ZCN5", "ZCM5", 0.9),
                                         ("b/3", "Q2K4", "Q2K4", 0.9)])
    assert audit.by_source(p) == {"a": {"n": 2, "exact_match": 0.5}, "b": {"n": 1, "exact_match": 1.0}}


def test_views_score_against_the_audited_labels(tmp_path):
    """A mislabelled image the model reads right is not listed as its failure,
    nor counted in the confusions; a real mistake is."""
    from experiments.captcha import views
    run = tmp_path / "run"
    run.mkdir()
    # verified-11000/6432 is labelled ZP2Y and reads 2H2Y (a committed verdict, read blind)
    write_preds(run / "predictions.csv", [("verified-11000/6432", "ZP2Y", "2H2Y", 0.7),
                                          ("x/1", "ACFH", "ACFK", 0.6)])
    pred = views.read_predictions([run])
    assert list(pred["truth"]) == ["2H2Y", "ACFH"]
    assert list(views.failures(pred)["image"]) == ["x/1"]
    assert views.confusions(pred).to_dict("records") == [{"true": "H", "predicted": "K", "count": 1}]


def test_the_blind_audit_is_500_random_test_captchas_read_blind():
    import csv
    from experiments.captcha import ALPHABET
    from experiments.captcha.audit import BLIND_AUDIT, blind_summary
    with open(BLIND_AUDIT, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 500 and len({r["image"] for r in rows}) == 500
    assert sorted(int(r["shown_as"]) for r in rows) == list(range(1, 501))
    assert all(r["blind"] == "yes" for r in rows)
    for r in rows:
        assert len(r["blind_reading"]) == 4 and set(r["blind_reading"]) <= set(ALPHABET), r
        assert r["verdict"] in ("agree", "label wrong", "reader wrong", "ambiguous"), r
        if r["verdict"] == "agree":
            assert r["blind_reading"] == r["label"] == r["audited"]
        elif r["verdict"] == "reader wrong":
            assert r["audited"] == r["label"] != r["blind_reading"]
        elif r["verdict"] == "label wrong":
            assert r["audited"] != r["label"] and len(r["audited"]) == 4
    s = blind_summary()
    assert (s["n"], s["label_wrong"], s["ambiguous"]) == (500, 23, 2)
    assert s["noise_low"] < s["noise"] == 0.046 < s["noise_high"]


def test_the_blind_audit_sample_is_the_seeded_draw_from_the_test_split(real_captchas):
    import csv

    import numpy as np

    from experiments.captcha.audit import BLIND_AUDIT
    from experiments.captcha.data import list_items, split
    _, _, test = split(list_items(real_captchas))
    pick = np.random.default_rng(20261201).choice(len(test), size=500, replace=False)
    with open(BLIND_AUDIT, newline="") as f:
        refs = {r["image"]: r["label"] for r in csv.DictReader(f)}
    assert refs == {test[i].ref: test[i].label for i in pick}


def test_the_cross_source_verdicts_are_apart_and_never_repeat_an_image():
    import csv
    with open(audit.XSRC_AUDIT, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    images = [r["image"] for r in rows]
    assert len(images) == len(set(images)) and not set(images) & audit.reviewed(audit.LABEL_AUDIT)
    assert all(r["image"].split("/")[0] in ("handlabeled-5000", "verified-11000") and len(r["label"]) == 4 for r in rows)
    assert all(len(r["audited"]) == 4 or r["audited"] == audit.AMBIGUOUS for r in rows)
    assert audit.reviewed() == audit.reviewed(audit.LABEL_AUDIT) | set(images) | audit.reviewed(audit.REREAD_AUDIT)


def test_a_later_reading_replaces_an_earlier_verdict_and_an_ambiguous_one_restores_the_label(tmp_path):
    """AUDITS are read in order: the blind re-reading (REREAD_AUDIT, last)
    replaces the first look's verdict, and "?" there leaves the label as given."""
    first, again = tmp_path / "first.csv", tmp_path / "again.csv"
    first.write_text("image,label,audited,note\ns/1,AZ2Y,AAZY,first\ns/2,K2Y9,KZY9,first\ns/3,P5ZK,P5ZK,first\n")
    again.write_text("image,label,audited,note\ns/1,AZ2Y,AA2Y,again\ns/2,K2Y9,?,again\n")
    import unittest.mock as m
    with m.patch.object(audit, "AUDITS", (first, again)):
        known = audit.load_audit()
        assert known == {"s/1": "AA2Y", "s/3": "P5ZK"}
        assert audit.reviewed() == {"s/1", "s/2", "s/3"}


def test_the_blind_rereading_covers_every_failure_of_the_shipped_recipes_runs():
    """Every failure of the shipped reader's leave-one-source-out twins and
    of the shipped run, on the audited labels, has a verdict read blind."""
    import csv
    from experiments.captcha.configs import SHIPPED_CROSS_SOURCE
    from experiments.captcha.recognizer import DEFAULT_RUN
    runs = [REPO / "runs" / DEFAULT_RUN] + [r for e in SHIPPED_CROSS_SOURCE for r in (REPO / "runs" / e).glob("s*")]
    runs = [r for r in runs if (r / "predictions.csv").is_file()]
    if not runs:
        pytest.skip("no committed runs of the shipped recipe in this checkout")
    with open(audit.REREAD_AUDIT, newline="", encoding="utf-8") as f:
        blind = {r["image"] for r in csv.DictReader(f)}
    known = audit.load_audit()
    for run in runs:
        with open(run / "predictions.csv", newline="") as f:
            failures = {r["image"] for r in csv.DictReader(f) if r["prediction"] != known.get(r["image"], r["label"])}
        assert failures <= blind, (run.name, sorted(failures - blind)[:5])


def test_a_blind_sheet_shows_no_label_and_the_readings_are_recorded(tiny_captchas, tmp_path):
    """blind --sheet draws the failures no audit file holds, numbered only;
    blind --record appends the person's readings with what each one shows."""
    import json

    from experiments.captcha.__main__ import main
    run = tmp_path / "run"
    run.mkdir()
    rows = [("setA/1", "ABCD".replace("B", "2"), "A2CD"),   # right: not drawn
            ("setA/2", "2345", "2349"), ("setA/3", "2345", "7777")]
    with open(run / "predictions.csv", "w") as f:
        f.write("image,label,prediction,confidence_min,conf1,conf2,conf3,conf4\n")
        f.writelines(f"{i},{lab},{p},0.5,0.9,0.9,0.9,0.9\n" for i, lab, p in rows)
    sheet = tmp_path / "sheet.png"
    assert main(["blind", "--runs", str(run), "--sheet", str(sheet), "--data-dir", str(tiny_captchas)]) == 0
    meta = json.loads(sheet.with_suffix(".json").read_text())
    assert meta["refs"] == ["setA/2", "setA/3"] and sheet.stat().st_size > 1000
    audit_file = tmp_path / "audit.csv"
    audit_file.write_text("image,label,audited,note\n")
    assert main(["blind", "--record", str(sheet.with_suffix(".json")), "--readings", "2349,?",
                 "--note", "test failure", "--audit-file", str(audit_file)]) == 0
    lines = audit_file.read_text().splitlines()[1:]
    assert lines[0].startswith("setA/2,2345,2349,test failure read blind (") and lines[0].endswith("the model's reading")
    assert lines[1].startswith("setA/3,2345,?,") and lines[1].endswith("ambiguous")
    with pytest.raises(SystemExit, match="1 reading"):
        main(["blind", "--record", str(sheet.with_suffix(".json")), "--readings", "2349",
              "--audit-file", str(audit_file)])
