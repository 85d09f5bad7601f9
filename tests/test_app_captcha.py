"""AppTests of the three captcha pages: demo uploads (good and bad), live
preprocessing, and the models page on run records written here."""
import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import REPO, goto, page_tables
from experiments.captcha import ALPHABET
from experiments.captcha.synth import make_captcha
from core.records import atomic_write_json, config_hash, write_history
from experiments import get_config

APP = str(REPO / "streamlit_app.py")


def png(arr, fmt="PNG"):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt)
    return buf.getvalue()


def open_page(page, monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path / "no-data"))  # no real samples
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    goto(at, page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def batch(rng):
    good = png(make_captcha(rng)[0])
    gif = png(make_captcha(rng)[0], "GIF")
    wide = png(np.full((20, 400, 3), 200, np.uint8))
    framed = png(np.pad(make_captcha(rng)[0], ((6, 6), (6, 6), (0, 0)), constant_values=255))
    return [("framed.png", framed, "image/png"), ("good.png", good, "image/png"),
            ("text.jpg", b"this is not an image", "image/jpeg"), ("empty.png", b"", "image/png"),
            ("banner.png", wide, "image/png"), ("anim.gif", gif, "image/gif")]


def readings(at) -> list[tuple[str, str]]:
    """(character, confidence text) of every character read on the page."""
    chars = [h.value for h in at.subheader if len(h.value) == 1]
    sure = [m.value for m in at.markdown if m.value.endswith("% sure") or m.value.startswith("信心")]
    return list(zip(chars, sure))


EXCEPTION_NAMES = ("Error", "Exception", "OSError", "errno", "Traceback")


def test_demo_reads_good_uploads_and_refuses_bad_ones(monkeypatch, tmp_path):
    at = open_page("captcha", monkeypatch, tmp_path)
    at.file_uploader[0].set_value(batch(np.random.default_rng(0)))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 3
    text = " ".join(errors)
    # plain words, never an exception's name
    assert "**text.jpg** is not an image this reader can open (the file is damaged or not a picture)" in text
    assert "**empty.png** is empty" in text
    assert "**banner.png** is 400×20 pixels; a captcha is wide and short" in text
    assert not any(name in text for name in EXCEPTION_NAMES), text
    read = readings(at)
    assert len(read) == 12  # three readable captchas, four characters each
    assert any("6, 6, 6, 6 px" in c.value for c in at.caption)  # the white margin came off first
    assert all(ch in ALPHABET for ch, _ in read)
    # a confidence per character as a plain percentage, not a metric's delta with an arrow
    import re
    assert all(re.fullmatch(r"\d{1,3}\.\d % sure", sure) for _, sure in read), read
    assert not at.metric


def test_demo_in_chinese_says_the_same_in_chinese(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path / "no-data"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang_choice"] = "繁體中文"
    at.run()
    goto(at, "captcha")
    at.run()
    at.file_uploader[0].set_value(batch(np.random.default_rng(0)))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    text = " ".join(e.value for e in at.error)
    assert "**text.jpg** 不是此辨識器能開啟的影像（檔案已損壞或不是圖片）" in text
    assert "**empty.png** 是空檔案" in text and "**banner.png** 為 400×20 像素" in text
    assert not any(name in text for name in EXCEPTION_NAMES), text
    assert any("每個檔案最多可上傳 10 MB" in c.value for c in at.caption)
    read = readings(at)
    assert len(read) == 12 and all(sure.startswith("信心 ") and sure.endswith(" %") for _, sure in read)


def test_one_file_failing_mid_reading_does_not_stop_the_others(monkeypatch, tmp_path):
    import experiments.captcha.preprocess as pre
    real = pre.dn2_steps
    seen = []

    def breaks_on_the_second(rgb):
        seen.append(1)
        if len(seen) == 2:
            raise RuntimeError("boom")
        return real(rgb)
    monkeypatch.setattr(pre, "dn2_steps", breaks_on_the_second)
    at = open_page("captcha", monkeypatch, tmp_path)
    rng = np.random.default_rng(1)
    at.file_uploader[0].set_value([(f"c{i}.png", png(make_captcha(rng)[0]), "image/png") for i in range(3)])
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [e.value for e in at.error] == [
        "**c1.png** opened as an image, but the reader could not read it (the picture may be damaged)."]
    assert len(readings(at)) == 8  # c0 and c2 still read
    assert [m.value for m in at.markdown if m.value.startswith("**c")] == ["**c0.png**", "**c2.png**"]


def test_demo_states_the_size_limit_before_any_upload(monkeypatch, tmp_path):
    at = open_page("captcha", monkeypatch, tmp_path)
    limit = "Up to 10 MB a file can be uploaded. A captcha is about 10 KB; files over 2 MB are not read."
    assert limit in [c.value for c in at.caption]
    assert at.file_uploader[0].help == limit
    assert at.file_uploader[0].proto.max_upload_size_mb == 10  # what .streamlit/config.toml says


def test_demo_without_a_model_says_so(monkeypatch, tmp_path):
    import experiments.captcha.recognizer as rec
    monkeypatch.setattr(rec, "DEFAULT_MODEL", tmp_path / "missing.keras")
    at = open_page("captcha", monkeypatch, tmp_path)
    assert any("Cannot load the model" in e.value for e in at.error)


def test_preprocessing_page_follows_its_sliders(monkeypatch, tmp_path):
    at = open_page("captcha-preprocessing", monkeypatch, tmp_path)
    assert len(at.get("image")) >= 2
    assert not at.warning
    threshold = next(s for s in at.slider if "threshold" in s.label)
    threshold.set_value(0)  # nothing is ink: no arc can be found
    at.run()
    assert not at.exception
    assert any("No arc found" in w.value for w in at.warning)


def fake_captcha_run(root, experiment, seed, exact):
    cfg = {**get_config(experiment), "seed": seed}
    path = root / experiment / f"s{seed}-{config_hash(cfg)}"
    atomic_write_json(path / "config.json", cfg)
    atomic_write_json(path / "meta.json", {"status": "done", "git": {"commit": "abcdef0"},
                                           "device": {"device": "CPU (2 cores)", "cpu": "test"}})
    rows = []
    for e in range(1, 4):
        row = {"epoch": e, "loss": 1 / e, "val_loss": 1.2 / e, "accuracy": exact, "val_accuracy": exact,
               "val_exact_match": exact - 0.1 / e, "lr": 1e-3, "seconds": 10.0}
        row.update({f"val_fc13_W{i}_accuracy": exact - 0.01 * i / e for i in range(1, 5)})
        rows.append(row)
    write_history(path / "history.csv", rows)
    atomic_write_json(path / "summary.json", {
        "test": {"accuracy": exact, "exact_match": exact, "char_accuracy": 0.99,
                 "ms_per_image_single_median": 2.5, "model_ms_per_image_batched": 0.8},
        "epochs_run": 3, "seconds_per_epoch_median": 10.0,
        "n_train": 10400, "n_val": 2600, "params": 634412, "best": {"val_accuracy": exact}})
    (path / "predictions.csv").write_text(
        "image,label,prediction,confidence_min,conf1,conf2,conf3,conf4\n"
        "verified-11000/7,ABCD,ABCD,0.99,0.99,0.99,0.99,0.99\n"
        "verified-11000/8,MNHK,NNHK,0.41,0.41,0.9,0.9,0.9\n"
        "handlabeled-5000/9,2345,2375,0.60,0.9,0.9,0.60,0.9\n")
    for name, pad in (("robustness.json", exact), ("robustness-model-only.json", exact - 0.2)):
        atomic_write_json(path / name, {"rows": [
            {"transform": "clean", "n": 3, "exact_match": exact, "char_accuracy": 1.0},
            {"transform": "pad 6 px white", "n": 3, "exact_match": pad, "char_accuracy": 1.0}]})
    return path


def test_models_page_shows_results_curves_and_confusions(monkeypatch, tmp_path):
    root = tmp_path / "runs"
    for seed, exact in enumerate((0.990, 0.992)):
        fake_captcha_run(root, "captcha-fast", seed, exact)
    fake_captcha_run(root, "captcha-seed-m2", 0, 0.95)
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(root))
    at = open_page("captcha-models", monkeypatch, tmp_path)
    from test_app import chart_frames
    frames = chart_frames(at)
    text = " ".join(str(f.to_dict()) for f in frames)
    assert "captcha-fast" in text and "captcha-seed-m2" in text
    specs = " ".join(c.proto.spec for c in at.get("vega_lite_chart"))
    assert "character 4: validation accuracy (%)" in specs  # one curve chart per output head
    conf = [f for f in frames if {"true", "predicted", "count"} <= set(f.columns)]
    assert conf and {("M", "N"), ("4", "7")} <= set(zip(conf[0]["true"], conf[0]["predicted"]))
    tables = page_tables(at)
    assert any("wrong positions" in t.columns for t in tables)
    headline = next(t for t in tables if "experiment" in t.columns and any("image acc" in c for c in t.columns))
    assert "99.10 ± 0.14 (2 seeds)" in headline.to_string()
    framing = next(t for t in tables if "captcha-fast, reader" in t.columns)
    assert list(framing["captcha-fast, model alone"]) == ["99.10 ± 0.14 (2 seeds)", "79.10 ± 0.14 (2 seeds)"]
    assert "captcha_seed1 — 866,412 parameters" in [h.value for h in at.subheader]
