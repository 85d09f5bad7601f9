"""Knowing when the reader is unsure: one confidence per reading, `predict
--min-confidence` answering "unsure" below it (on a stream too), and the
coverage-accuracy curve the Models page draws for leave one source out."""
import math
import subprocess
import sys

import pytest

from conftest import REPO
from experiments.captcha import confidence
from test_light_reader import ENV, cli, readline, synthetic


def test_the_confidence_is_the_chance_all_four_characters_are_right():
    assert confidence.of([0.5, 1.0, 0.8, 1.0]) == pytest.approx(0.4)
    assert confidence.of(["0.9999", "1.0000", "0.9999", "1.0000"]) == pytest.approx(0.9998, abs=1e-6)


def test_the_curve_keeps_the_most_confident_readings_first():
    scores = [(0.99, True), (0.98, True), (0.60, False), (0.97, False), (0.50, True)]
    points = confidence.curve(scores)
    assert [round(p["coverage"], 2) for p in points] == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert [round(p["accuracy"], 3) for p in points] == [1.0, 1.0, 0.667, 0.5, 0.6]
    assert confidence.at_coverage(points, 0.5)["coverage"] == pytest.approx(0.6)
    assert confidence.coverage_for(points, 1.0)["coverage"] == pytest.approx(0.4)
    assert confidence.coverage_for([{"coverage": 1, "accuracy": 0.5, "threshold": 0.1}], 0.9) is None
    grid = confidence.grid(points, start=0.9, step=0.05)
    assert [round(g["at"], 2) for g in grid] == [0.9, 0.95, 1.0] and grid[-1]["accuracy"] == pytest.approx(0.6)


def test_ties_are_one_point():
    points = confidence.curve([(0.9, True), (0.9, False), (0.8, True)])
    assert [(round(p["coverage"], 3), p["accuracy"]) for p in points] == [(0.667, 0.5), (1.0, 2 / 3)]


def test_predict_prints_the_confidence_and_answers_unsure_below_the_threshold(tmp_path):
    imgs = synthetic(tmp_path, 3, seed=4)
    plain = cli("predict", *map(str, imgs))
    scored = cli("predict", "--confidence", *map(str, imgs))
    assert plain.returncode == scored.returncode == 0, scored.stderr
    rows = [line.split("\t") for line in scored.stdout.splitlines()]
    assert [r[:2] for r in rows] == [line.split("\t") for line in plain.stdout.splitlines()]  # same readings
    sure = [float(r[2]) for r in rows]
    assert all(0 <= s <= 1 for s in sure)
    # a threshold between the readings' confidences (halfway between two of
    # them: the printed ones are rounded to 4 places): the less sure ones say so
    low = sorted(set(sure))
    cut = (low[0] + low[1]) / 2 if len(low) > 1 else low[0] + 1e-9
    gated = [line.split("\t") for line in cli("predict", "--min-confidence", f"{cut:.12f}",
                                              *map(str, imgs)).stdout.splitlines()]
    for (path, text, s), (path2, answer, s2) in zip(rows, gated):
        assert path == path2 and s == s2
        assert answer == ("unsure" if float(s) < cut else text)
    assert cli("predict", "--min-confidence", "0", str(imgs[0])).stdout.split("\t")[1] != "unsure"
    assert cli("predict", "--min-confidence", "1", str(imgs[0])).stdout.split("\t")[1] == "unsure" \
        or math.isclose(float(rows[0][2]), 1.0)


@pytest.mark.parametrize("bad", ["1.5", "-0.1", "nan", "often"])
def test_a_threshold_that_is_not_a_probability_exits_2(tmp_path, bad):
    r = cli("predict", "--min-confidence", bad, str(synthetic(tmp_path, 1)[0]))
    assert r.returncode == 2 and "a probability from 0 to 1" in r.stderr


def test_on_a_stream_each_answer_carries_its_confidence(tmp_path):
    good = synthetic(tmp_path, 2, seed=7)
    p = subprocess.Popen([sys.executable, "-m", "experiments.captcha", "predict", "--min-confidence", "1", "-"],
                         cwd=REPO, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        for path in good:
            p.stdin.write(f"{path}\n")
            p.stdin.flush()
            got, answer, sure = readline(p.stdout).rstrip("\n").split("\t")
            assert got == str(path) and 0 <= float(sure) <= 1
            assert answer == "unsure" or float(sure) >= 1
        p.stdin.close()
        assert p.wait(60) == 0  # unsure is an answer, not a failure
    finally:
        p.kill()
        p.wait()


def test_the_models_page_shows_the_trade_for_both_directions():
    from experiments.captcha.report import captcha_models_blocks
    blocks = captcha_models_blocks("en")
    at = next(i for i, b in enumerate(blocks) if b == ("h3", "When the reader is unsure"))
    kind, table = blocks[at + 3]
    if table.empty:
        pytest.skip("no committed cross-source runs")
    assert len(table) == 2 and set(table["experiment"]) >= {"captcha-xsrc-to-hand-clean"}
    for _, row in table.iterrows():  # answering fewer never reads worse on these runs
        assert row["all answered %"] <= row["accuracy, 99 % answered"] <= row["accuracy, 95 % answered"]
    spec = blocks[at + 2][1].to_dict(validate=False)
    rows = next(iter(spec["datasets"].values()))
    assert len(rows) == 2 * 101  # the chart gets 101 points a line (95 ... 100 %), not one per reading
