"""Seed ensembles of captcha models (experiments/captcha/ensemble.py): the reader
that averages its members, the command line's repeated --model, the
committed ensemble record recomputed from its runs, and its row on the
Models page."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import PREVIOUS_CAPTCHA_MODEL as PLAIN, REPO, page_tables
from experiments.captcha.ensemble import FILE, PREDICTIONS, EnsembleReader, measure
from experiments.captcha.recognizer import ModelNotFound, open_reader
from experiments.captcha.synth import make_captcha
from core.records import read_json

XSRC = REPO / "runs" / "captcha-xsrc-to-hand-undo"
MEMBERS = sorted(XSRC.glob("s*/model.onnx"))[:2]
needs_members = pytest.mark.skipif(len(MEMBERS) < 2 or not PLAIN.is_file(),
                                   reason="the committed cross-source runs are not in this checkout")


def _captchas(tmp_path, n=6):
    rng = np.random.default_rng(7)
    paths = []
    for i in range(n):
        p = tmp_path / f"{i}.png"
        Image.fromarray(make_captcha(rng)[0]).save(p)
        paths.append(p)
    return paths


@needs_members
def test_the_ensemble_reads_the_mean_of_its_members_probabilities(tmp_path):
    paths = _captchas(tmp_path)
    members = [open_reader(p) for p in MEMBERS]
    ens = EnsembleReader(MEMBERS)
    x = np.stack([ens.preprocess(np.asarray(Image.open(p).convert("RGB"))) for p in paths])
    want = np.mean([m._probs(x) for m in members], axis=0)
    np.testing.assert_allclose(ens._probs(x), want, rtol=1e-6)
    from experiments.captcha import decode
    assert [r.text for r in ens.read_many(paths)] == [decode(i) for i in want.argmax(-1)]
    assert ens.runner.startswith("ensemble of 2")


@needs_members
def test_an_ensemble_of_models_that_prepare_captchas_differently_is_refused():
    with pytest.raises(ModelNotFound, match="must read the same prepared image"):
        EnsembleReader([MEMBERS[0], PLAIN])  # undo_arc at 40x112 against plain grey
    with pytest.raises(ModelNotFound, match="two models or more"):
        EnsembleReader([MEMBERS[0]])


@needs_members
def test_predict_with_model_twice_reads_with_the_ensemble(tmp_path):
    paths = _captchas(tmp_path, 3)
    args = [a for m in MEMBERS for a in ("--model", str(m))]
    r = subprocess.run([sys.executable, "-m", "experiments.captcha", "predict", *args, *map(str, paths)],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    ens = EnsembleReader(MEMBERS)
    assert r.stdout.splitlines() == [f"{p}\t{ens.read(str(p)).text}" for p in paths]
    bad = subprocess.run([sys.executable, "-m", "experiments.captcha", "predict", "--model", str(MEMBERS[0]),
                          "--model", str(PLAIN), str(paths[0])],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "same prepared image" in bad.stderr


@needs_members
def test_the_committed_ensemble_record_is_what_its_runs_give(real_captchas, tmp_path):
    """Recomputed from the committed runs into a copy: the same members and figures."""
    import shutil
    committed = read_json(XSRC / FILE, None)
    if committed is None:
        pytest.skip("no committed ensemble record")
    root = tmp_path / "runs"
    shutil.copytree(XSRC, root / XSRC.name, ignore=shutil.ignore_patterns(FILE, PREDICTIONS))
    rec = measure(XSRC.name, root, real_captchas)
    assert [m["run"] for m in rec["members"]] == [m["run"] for m in committed["members"]]
    for k in ("n", "exact_match", "exact_match_audited", "char_accuracy_audited", "failures"):
        assert rec["test"][k] == pytest.approx(committed["test"][k], abs=2e-4), k
    # Readings exactly; confidences (written to 4 decimals) within one unit of
    # the last: another CPU's float rounding moved 0.99845 across the boundary.
    got, want = (_rows(path / PREDICTIONS) for path in (root / XSRC.name, XSRC))
    assert [r[0] for r in got] == [r[0] for r in want]
    for g, w in zip(got, want):
        texts = [(a, b) for a, b in zip(g, w) if not _number(b)]
        assert all(a == b for a, b in texts), (g, w)
        assert [float(a) for a, b in zip(g, w) if _number(b)] == \
            pytest.approx([float(b) for b in w if _number(b)], abs=1.5e-4), (g, w)


def _rows(path) -> list[list[str]]:
    import csv
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def test_the_models_page_shows_the_ensemble_as_its_own_row(monkeypatch):
    from streamlit.testing.v1 import AppTest
    if read_json(XSRC / FILE, None) is None:
        pytest.skip("no committed ensemble record")
    monkeypatch.delenv("CNNLAB_RUNS_DIR", raising=False)
    from conftest import goto
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    goto(at, "captcha-models").run()
    assert not at.exception
    xsrc = next(t for t in page_tables(at) if "tested on (images)" in t.columns)
    rec = read_json(XSRC / FILE, None)
    name = f"captcha-xsrc-to-hand-undo: ensemble of its {len(rec['members'])} seeds"
    assert name in list(xsrc["experiment"])
    ens = xsrc.set_index("experiment").loc[name]
    single = xsrc.set_index("experiment").loc["captcha-xsrc-to-hand-undo"]
    assert ens["image acc. %, audited labels"] == pytest.approx(100 * rec["test"]["exact_match_audited"], abs=0.01)
    assert ens["seeds"] == single["seeds"] == len(rec["members"])
