"""Relabel lists (experiments/captcha/relabel.py): what they change, what they refuse."""
import json

import numpy as np
import pytest

from experiments.captcha import ALPHABET, INDEX, propose, relabel
from experiments.captcha.data import list_items, load_splits, split
from experiments.captcha.relabel import RelabelError

HEADER = "image,label,reading,confidence_min,by,action\n"


@pytest.fixture
def lists_here(tmp_path, monkeypatch):
    """Relabel lists live in a private folder for the test."""
    monkeypatch.setattr(relabel, "HERE", tmp_path / "lists")
    (tmp_path / "lists").mkdir()
    return tmp_path / "lists"


def _probs(readings, sure):
    """(N, 4, 19) outputs reading each text with probability `sure` per character."""
    out = np.full((len(readings), 4, len(ALPHABET)), (1 - sure) / (len(ALPHABET) - 1))
    for i, text in enumerate(readings):
        for j, c in enumerate(text):
            out[i, j, INDEX[c]] = sure
    return out


def test_propose_puts_a_persons_verdict_first_and_thresholds_the_rest(tiny_captchas, monkeypatch):
    items = list_items(tiny_captchas)[:5]
    labels = [it.label for it in items]
    other = "ZZZZ" if labels[0] != "ZZZZ" else "2222"
    readings = [other, other, other, labels[3], other]
    sure = np.array([0.99, 0.99, 0.99, 0.99, 0.6])
    monkeypatch.setattr(propose, "ensemble_probs",
                        lambda runs, its: np.concatenate([_probs([r], s) for r, s in zip(readings, sure)]))
    audit = {items[1].ref: labels[1], items[2].ref: "AAAA"}   # a confirmation, a correction
    looked = {items[1].ref, items[2].ref, items[3].ref}        # items[3]: read, ambiguous
    rows = {r["image"]: r for r in propose.propose([], items, 0.9, audit, looked)}
    assert rows[items[0].ref]["action"] == "relabel" and rows[items[0].ref]["reading"] == other
    assert items[1].ref not in rows                          # confirmed by eye: kept whatever the models say
    assert rows[items[2].ref]["reading"] == "AAAA" and rows[items[2].ref]["by"] == "eye"
    assert rows[items[3].ref]["action"] == "drop"           # ambiguous by eye
    assert rows[items[4].ref]["action"] == "drop"           # the ensemble is unsure
    assert len(rows) == 4


def test_load_apply_and_the_checks(tiny_captchas, lists_here):
    items = list_items(tiny_captchas)
    (lists_here / "relabel-v1.csv").write_text(
        HEADER + f"{items[0].ref},{items[0].label},AAAA,0.99,ensemble,relabel\n"
                 f"{items[1].ref},{items[1].label},CCCC,0.50,ensemble,drop\n")
    spec = relabel.spec("v1")
    fixes = relabel.load(spec)
    assert fixes == {items[0].ref: "AAAA", items[1].ref: None}
    out = relabel.apply(items[:3], fixes)
    assert [it.ref for it in out] == [items[0].ref, items[2].ref]
    assert out[0].label == "AAAA" and out[1].label == items[2].label

    (lists_here / "relabel-v1.csv").write_text(HEADER + f"{items[0].ref},X,AAAA,1,ensemble,relabel\n")
    with pytest.raises(RelabelError, match="changed since the config was declared"):
        relabel.load(spec)
    (lists_here / "relabel-v2.csv").write_text(HEADER + f"{items[0].ref},X,AAAA,1,ensemble,maybe\n")
    with pytest.raises(RelabelError, match="line 2: action 'maybe'"):
        relabel.load(relabel.spec("v2"))
    with pytest.raises(RelabelError, match="no relabel list"):
        relabel.spec("absent")


def test_load_splits_relabels_training_and_validation_never_test(tiny_captchas, lists_here):
    train, val, test = split(list_items(tiny_captchas), test_size=15)
    a, b = train[0], val[0]
    (lists_here / "relabel-ok.csv").write_text(
        HEADER + f"{a.ref},{a.label},AAAA,0.99,ensemble,relabel\n{b.ref},{b.label},CCCC,0.5,ensemble,drop\n")
    cfg = {"preprocess": "grey", "preprocess_options": {"height": 32, "width": 96}, "test_size": 15}
    plain = load_splits(cfg, 0, tiny_captchas)
    fixed = load_splits({**cfg, "relabel": relabel.spec("ok")}, 0, tiny_captchas)
    assert len(fixed["y_train"]) == len(plain["y_train"])
    assert fixed["y_train"][0].tolist() == [INDEX["A"]] * 4
    assert len(fixed["y_val"]) == len(plain["y_val"]) - 1
    assert np.array_equal(fixed["y_test"], plain["y_test"])

    t = test[0]
    (lists_here / "relabel-leak.csv").write_text(HEADER + f"{t.ref},{t.label},AAAA,0.99,ensemble,relabel\n")
    with pytest.raises(RelabelError, match="test image"):
        load_splits({**cfg, "relabel": relabel.spec("leak")}, 0, tiny_captchas)


def test_relabel_command_writes_a_list_and_will_not_overwrite(tiny_captchas, untrained_captcha_model,
                                                              lists_here, capsys):
    from experiments.captcha.__main__ import main
    run = untrained_captcha_model.parent
    (run / "config.json").write_text(json.dumps({"data": {
        "dataset": "thsr-captcha", "preprocess": "grey",
        "preprocess_options": {"height": 32, "width": 96}, "val_fraction": 0.2, "test_size": 15}}))
    args = ["relabel", "--runs", str(run), "--name", "t", "--data-dir", str(tiny_captchas)]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["images"] == 70 - 15  # training and validation only
    rows = (lists_here / "relabel-t.csv").read_text().splitlines()
    assert rows[0] == HEADER.strip()
    _, _, test = split(list_items(tiny_captchas), test_size=15)
    assert len(rows) > 1 and not {r.split(",")[0] for r in rows[1:]} & {it.ref for it in test}
    with pytest.raises(SystemExit, match="exists"):
        main(args)
    with pytest.raises(SystemExit, match="not a finished captcha run"):
        main(["relabel", "--runs", str(lists_here), "--name", "u", "--data-dir", str(tiny_captchas)])


def test_relabel_on_leave_one_source_out_runs_reads_only_the_training_source(
        tiny_captchas, untrained_captcha_model, lists_here, capsys):
    """Runs tested on a whole source propose a list over the other sources only
    (their own split), so it can never name a test-source captcha."""
    from experiments.captcha.__main__ import main
    run = untrained_captcha_model.parent
    (run / "config.json").write_text(json.dumps({"data": {
        "dataset": "thsr-captcha", "preprocess": "grey", "test_source": "setB",
        "preprocess_options": {"height": 32, "width": 96}, "val_fraction": 0.2}}))
    assert main(["relabel", "--runs", str(run), "--name", "x", "--data-dir", str(tiny_captchas)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["images"] == 40  # all of setA, none of setB
    refs = [r.split(",")[0] for r in (lists_here / "relabel-x.csv").read_text().splitlines()[1:]]
    assert refs and all(r.startswith("setA/") for r in refs)
    assert all(r.split(",")[4] == "ensemble" for r in (lists_here / "relabel-x.csv").read_text().splitlines()[1:])


def test_held_out_lists_come_from_models_that_never_saw_the_images_and_merge_without_the_test_split(
        tiny_captchas, untrained_captcha_model, lists_here, capsys):
    """--held-out proposes for the source a leave-one-source-out run never saw;
    --merge joins two such lists (disjoint images) and leaves out every image of
    the held-out test split, which is never relabelled."""
    from experiments.captcha.__main__ import main
    run = untrained_captcha_model.parent
    (run / "config.json").write_text(json.dumps({"data": {
        "dataset": "thsr-captcha", "preprocess": "grey", "test_source": "setB",
        "preprocess_options": {"height": 32, "width": 96}, "val_fraction": 0.2}}))
    common = ["--data-dir", str(tiny_captchas)]
    assert main(["relabel", "--held-out", "--runs", str(run), "--name", "b", *common]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["images"] == 30  # all of setB
    b = [r.split(",")[0] for r in (lists_here / "relabel-b.csv").read_text().splitlines()[1:]]
    assert b and all(r.startswith("setB/") for r in b)
    assert main(["relabel", "--runs", str(run), "--name", "a", *common]) == 0  # setA, its own training split
    assert main(["relabel", "--merge", "a", "b", "--name", "ab", *common]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    merged = [r.split(",")[0] for r in (lists_here / "relabel-ab.csv").read_text().splitlines()[1:]]
    _, _, test = split(list_items(tiny_captchas))
    held = {it.ref for it in test}
    assert not set(merged) & held and out["rows"] == len(merged)
    assert len(merged) + out["test_images_left_out"] == len(b) + len((lists_here / "relabel-a.csv").read_text()
                                                                      .splitlines()[1:])
    with pytest.raises(SystemExit, match="more than one list"):
        main(["relabel", "--merge", "b", "b", "--name", "bb", *common])
    (run / "config.json").write_text(json.dumps({"data": {
        "dataset": "thsr-captcha", "preprocess": "grey", "preprocess_options": {"height": 32, "width": 96},
        "val_fraction": 0.2, "test_size": 15}}))
    with pytest.raises(SystemExit, match="no test_source"):
        main(["relabel", "--held-out", "--runs", str(run), "--name", "c", *common])


def test_committed_list_never_names_a_real_test_image(real_captchas):
    from experiments.captcha import EXPERIMENTS
    spec = EXPERIMENTS["captcha-net-clean"]()["data"]["relabel"]
    fixes = relabel.load(spec)  # also checks the file is the one declared
    _, _, test = split(list_items(real_captchas))
    assert not set(fixes) & {it.ref for it in test}
    assert 300 < len(fixes) < 600


def test_audit_reads_a_runs_own_relabelled_split(tiny_captchas, untrained_captcha_model, lists_here):
    """`audit --split val` scores a run against the labels it was selected on."""
    import csv

    from experiments.captcha.task import predict_split
    train, val, _ = split(list_items(tiny_captchas), test_size=15)
    a, b = val[0], val[1]
    (lists_here / "relabel-r.csv").write_text(
        HEADER + f"{a.ref},{a.label},AAAA,0.99,ensemble,relabel\n{b.ref},{b.label},CCCC,0.5,ensemble,drop\n")
    run = untrained_captcha_model.parent
    (run / "config.json").write_text(json.dumps({"data": {
        "dataset": "thsr-captcha", "preprocess": "grey", "preprocess_options": {"height": 32, "width": 96},
        "val_fraction": 0.2, "test_size": 15, "relabel": relabel.spec("r")}}))
    with open(predict_split(run, "val", tiny_captchas), newline="") as f:
        rows = {r["image"]: r for r in csv.DictReader(f)}
    assert len(rows) == len(val) - 1 and b.ref not in rows
    assert rows[a.ref]["label"] == "AAAA"
