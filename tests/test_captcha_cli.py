"""`python -m experiments.captcha predict / evaluate` (the exact output other tools
parse) and captcha training through `python -m experiments`."""
import csv
import json
import os
import subprocess
import sys

import keras
import pytest

from conftest import REPO, write_captcha_set
from experiments.captcha import ALPHABET, read_labels
from experiments.captcha.recognizer import DEFAULT_MODEL


def captcha_cli(*args, timeout=240, env=None):
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "experiments.captcha", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def labelled_folder(tmp_path):
    labels = write_captcha_set(tmp_path, "set", 12, seed=5)
    return tmp_path / "set" / "images", tmp_path / "set" / "labels.csv", labels


def test_predict_prints_path_tab_four_characters(labelled_folder, untrained_captcha_model, tmp_path):
    images, _, _ = labelled_folder
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    paths = [str(images / "1.jpg"), str(bad), str(images / "2.jpg")]
    r = captcha_cli("predict", "--model", str(untrained_captcha_model), *paths)
    assert r.returncode == 1  # one unreadable image
    lines = r.stdout.splitlines()
    assert len(lines) == 2
    for line, path in zip(lines, [paths[0], paths[2]]):
        got_path, text = line.split("\t")
        assert got_path == path
        assert len(text) == 4 and all(c in ALPHABET for c in text)
    assert "bad.jpg" in r.stderr and "not a readable image" in r.stderr


def test_evaluate_last_line_agrees_with_predict(labelled_folder, untrained_captcha_model):
    images, labels_file, labels = labelled_folder
    r = captcha_cli("evaluate", "--images", str(images), "--labels", str(labels_file),
                    "--model", str(untrained_captcha_model))
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(result) == {"n", "exact_match", "char_accuracy", "ms_per_image", "unreadable_images",
                           "unlabelled_images"}
    assert result["n"] == 12 and result["ms_per_image"] > 0
    assert result["unreadable_images"] == result["unlabelled_images"] == 0
    assert r.stdout.strip().splitlines() == [r.stdout.strip()]  # stdout holds the JSON line only
    pred = captcha_cli("predict", "--model", str(untrained_captcha_model),
                       *[str(images / f"{i}.jpg") for i in range(1, 13)])
    texts = [line.split("\t")[1] for line in pred.stdout.splitlines()]
    truth = [l.upper() for l in labels]
    chars = sum(a == b for t, l in zip(texts, truth) for a, b in zip(t, l))
    assert result["char_accuracy"] == pytest.approx(chars / 48)
    assert result["exact_match"] == pytest.approx(sum(t == l for t, l in zip(texts, truth)) / 12)


def test_evaluate_refuses_a_bad_label_line(labelled_folder, untrained_captcha_model):
    images, labels_file, _ = labelled_folder
    lines = labels_file.read_bytes().split(b"\r\n")
    lines[2] = b"AB!"
    labels_file.write_bytes(b"\r\n".join(lines))
    r = captcha_cli("evaluate", "--images", str(images), "--labels", str(labels_file),
                    "--model", str(untrained_captcha_model))
    assert r.returncode != 0 and "line 3" in r.stderr


def run_main(args, capsys):
    """The command line in this process (no TensorFlow start-up per call):
    (exit code, stdout, stderr)."""
    from experiments.captcha.__main__ import main
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


PLAIN = ("Traceback", "Error:", "Error(", "OSError", "ValueError", "UnicodeDecodeError", "errno", "Errno")


def test_bad_model_or_labels_exit_2_with_a_plain_reason(labelled_folder, untrained_captcha_model, tmp_path,
                                                       capsys):
    """Exit 2 is "bad arguments / model / labels" (it was 1, the code for an
    unreadable image, for every model error; a binary labels file gave a
    traceback)."""
    images, labels_file, _ = labelled_folder
    img = images / "1.jpg"
    model = untrained_captcha_model
    (tmp_path / "notes.keras").write_text("not a model")
    (tmp_path / "cut.keras").write_bytes(model.read_bytes()[:5000])
    (tmp_path / "folder.keras").mkdir()
    (tmp_path / "sepia").mkdir()
    (tmp_path / "sepia" / "model.keras").write_bytes(model.read_bytes())
    (tmp_path / "sepia" / "config.json").write_text(json.dumps({"data": {"preprocess": "sepia"}}))
    (tmp_path / "labels.bin").write_bytes(img.read_bytes())  # a picture given as the labels
    (tmp_path / "none.csv").write_bytes(b"\r\n")
    (tmp_path / "13.csv").write_bytes(labels_file.read_bytes() + b"mm5f\r\n")
    ev = ["evaluate", "--images", images, "--model", model, "--labels"]
    cases = [
        (["predict", "--model", tmp_path / "nope.keras", img], "no model at"),
        (["predict", "--model", tmp_path / "notes.keras", img], "is not one, or is damaged"),
        (["predict", "--model", tmp_path / "cut.keras", img], "is not one, or is damaged"),
        (["predict", "--model", tmp_path / "folder.keras", img], "no model at"),
        (["predict", "--model", tmp_path / "sepia" / "model.keras", img], "unknown preprocessing 'sepia'"),
        (ev + [tmp_path / "labels.bin"], "line 1: not a text file of labels"),
        (ev + [tmp_path / "nothing.csv"], "there is no such file"),
        (ev + [tmp_path / "none.csv"], "holds no labels"),
        (ev + [tmp_path / "13.csv"], "1 image(s) named by the labels are missing"),
        (["evaluate", "--images", labels_file, "--labels", labels_file], "is not a folder"),
    ]
    for args, words in cases:
        code, out, err = run_main(args, capsys)
        assert code == 2, (args, code, err)
        assert err.startswith("error: ") and words in err, (args, err)
        assert not out and not any(w in err for w in PLAIN), (args, err)
    code, _, err = run_main(["predict"], capsys)  # argparse's own refusal
    assert code == 2 and "IMAGE" in err


def test_evaluate_counts_unreadable_and_unlabelled_images(labelled_folder, untrained_captcha_model, capsys):
    """An unreadable image counts as wrong and makes the exit code 1 (it was
    0); images beyond the labels are said, not silently left out."""
    images, labels_file, labels = labelled_folder
    (images / "3.jpg").write_bytes(b"broken")
    (images / "notes.txt").write_text("not an image, not counted")
    labels_file.write_bytes("".join(f"{l}\n" for l in labels[:10]).encode())
    code, out, err = run_main(["evaluate", "--images", images, "--labels", labels_file,
                               "--model", untrained_captcha_model], capsys)
    assert code == 1, err
    assert len(out.splitlines()) == 1
    result = json.loads(out)
    assert result["n"] == 10 and result["unreadable_images"] == 1 and result["unlabelled_images"] == 2
    assert result["exact_match"] <= 0.9 and result["char_accuracy"] <= 0.9
    assert f"{images / '3.jpg'}: not a readable image" in err
    assert "2 image(s) in" in err and "not scored" in err and "11.jpg, 12.jpg" in err
    assert "1 unreadable image(s) counted as wrong" in err


def test_an_unexpected_failure_exits_3_not_1(monkeypatch, capsys):
    import experiments.captcha.__main__ as cli

    def crash(args):
        raise RuntimeError("a bug")
    monkeypatch.setattr(cli, "cmd_predict", crash)
    assert cli.run(["predict", "x.jpg"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "unexpected failure in the reader" in err


def test_predict_into_a_closed_pipe_stops_quietly(labelled_folder, untrained_captcha_model):
    """`predict *.jpg | head -1`: once the output is closed, predict stops
    with 141 (as a shell reports SIGPIPE), not a traceback and "a bug"."""
    images, _, _ = labelled_folder
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for model in ([], ["--model", str(untrained_captcha_model)]):  # the cold reader, and Keras
        proc = subprocess.Popen([sys.executable, "-m", "experiments.captcha", "predict", *model,
                                 *[str(p) for p in sorted(images.glob("*.jpg"))]],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()  # before the first answer: the reader has gone
        err = proc.communicate(timeout=240)[1].decode()
        assert proc.returncode == 141, err
        assert "Traceback" not in err and "unexpected" not in err, err


def test_missing_model_is_a_clear_error(labelled_folder, tmp_path):
    images, _, _ = labelled_folder
    r = captcha_cli("predict", "--model", str(tmp_path / "nope.keras"), str(images / "1.jpg"))
    assert r.returncode == 2 and "no model at" in r.stderr  # the process's own exit code, not main()'s


def test_committed_default_model_loads_safely_and_is_small():
    assert DEFAULT_MODEL.is_file(), "the default captcha model must be committed"
    assert DEFAULT_MODEL.stat().st_size <= 5 * 1024 * 1024
    model = keras.saving.load_model(DEFAULT_MODEL, safe_mode=True, compile=False)
    assert len(model.outputs) == 4 and model.outputs[0].shape[-1] == 19


def test_default_model_reads_real_captchas(real_captchas):
    """The committed model on 200 of the held-out test images, through the CLI."""
    from experiments.captcha.data import list_items, split

    _, _, test = split(list_items(real_captchas))
    test = test[:200]
    r = captcha_cli("predict", *[str(it.path) for it in test])
    assert r.returncode == 0, r.stderr
    texts = [line.split("\t")[1] for line in r.stdout.splitlines()]
    assert len(texts) == len(test)
    # The CLI must give the answers the run recorded when it was evaluated
    # (same model, same preprocessing), and so about the recorded accuracy.
    run = DEFAULT_MODEL.parent
    with open(run / "predictions.csv", newline="") as f:
        recorded = {row["image"]: row["prediction"] for row in csv.DictReader(f)}
    keys = [f"{it.source}/{it.number}" for it in test]
    same = sum(recorded.get(k) == t for k, t in zip(keys, texts)) / len(test)
    assert same >= 0.99, f"CLI agrees with the recorded predictions on only {same:.1%}"
    exact = sum(t == it.label for t, it in zip(texts, test)) / len(test)
    recorded_exact = json.loads((run / "summary.json").read_text())["test"]["exact_match"]
    # 200 of 3,000 images: allow the sampling spread (about 1.5 points) three times over.
    assert exact >= recorded_exact - 0.05


def test_training_through_experiments_cli(tiny_captchas, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "CNNLAB_DATA_DIR": str(tiny_captchas),
           "CNNLAB_RUNS_DIR": str(tmp_path / "runs")}
    r = subprocess.run([sys.executable, "-m", "experiments", "run", "captcha-net", "--quick",
                        "--set", "data.test_size=15", "--verbose", "0"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    run = next((tmp_path / "runs" / "captcha-net").iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["n_test"] == 15 and 0 <= summary["test"]["exact_match"] <= 1
    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and "val_exact_match" in rows[0] and "fc13_W4_accuracy" in rows[0]
    with open(run / "predictions.csv") as f:
        preds = list(csv.DictReader(f))
    assert len(preds) == 15 and all(len(p["prediction"]) == 4 for p in preds)
    labels = {f"{s}/{i}": l for s in ("setA", "setB")
              for i, l in enumerate(read_labels(tiny_captchas / "thsr-captcha" / s / "labels.csv"), 1)}
    assert all(labels[p["image"]] == p["label"] for p in preds)
    # training wrote the light reader's export, checked on the whole test split
    record = json.loads((run / "onnx.json").read_text())
    assert record["passed"] and record["n"] == 15 and record["data"] == "the run's test split", record
    assert record["max_abs_diff"] <= 1e-4 and record["agreement"] == 1.0 and (run / "model.onnx").is_file()
    # the run's model reads captchas through the CLI, preprocessing from its
    # config, through that export (no note that Keras had to be used)
    img = tiny_captchas / "thsr-captcha" / "setA" / "images" / "1.jpg"
    p = captcha_cli("predict", "--model", str(run / "model.keras"), str(img))
    assert p.returncode == 0 and p.stdout.startswith(f"{img}\t") and not p.stderr, p.stderr


def test_robustness_and_bench_commands(tiny_captchas, untrained_captcha_model, tmp_path):
    from experiments.captcha.robustness import TRANSFORMS
    out = tmp_path / "rob.json"
    r = captcha_cli("robustness", "--model", str(untrained_captcha_model), "--data-dir",
                    str(tiny_captchas), "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [row["transform"] for row in rows] == list(TRANSFORMS)
    assert all(row["n"] == 70 and 0 <= row["exact_match"] <= row["char_accuracy"] + 1e-9 for row in rows)
    assert json.loads(out.read_text())["trim_borders"] is True
    r = captcha_cli("robustness", "--no-trim", "--limit", "5", "--model", str(untrained_captcha_model),
                    "--data-dir", str(tiny_captchas))
    assert r.returncode == 0, r.stderr
    alone = json.loads((untrained_captcha_model.parent / "robustness-model-only.json").read_text())
    assert alone["trim_borders"] is False and alone["rows"][0]["n"] == 5
    images = sorted((tiny_captchas / "thsr-captcha" / "setA" / "images").glob("*.jpg"))[:5]
    b = captcha_cli("bench", "--cold", "0", "--model", str(untrained_captcha_model), *map(str, images))
    assert b.returncode == 0, b.stderr
    res = json.loads(b.stdout.strip().splitlines()[-1])
    assert res["n"] == 5 and res["single_ms_median"] > 0 and res["batched_images_per_second"] > 0


def test_transforms_change_the_framing_only():
    import numpy as np

    from experiments.captcha.robustness import TRANSFORMS
    from experiments.captcha.synth import make_captcha
    img = make_captcha(np.random.default_rng(0), width=120, height=46)[0]
    shapes = {name: fn(img).shape for name, fn in TRANSFORMS.items()}
    assert shapes["clean"] == (46, 120, 3)
    assert shapes["crop 3 px all round"] == (40, 114, 3)
    assert shapes["pad 6 px white"] == (58, 132, 3)
    assert shapes["scaled x1.6"] == (74, 192, 3)


def test_fast_single_image_runner_reads_like_keras(untrained_captcha_model, labelled_folder, tmp_path,
                                                    monkeypatch):
    """The TensorFlow Lite paths (one image; batches of changing size on all
    cores) give Keras's readings and confidences, heads in the right order,
    and the conversion is cached."""
    from experiments.captcha.recognizer import Recognizer

    monkeypatch.setenv("CNNLAB_CACHE_DIR", str(tmp_path / "cache"))
    images, _, _ = labelled_folder
    paths = sorted(images.iterdir())
    rec = Recognizer(untrained_captcha_model)
    batch = rec.read_many(paths)
    assert rec.fast_single() is True
    assert list((tmp_path / "cache").glob("captcha-lite-*.tflite"))
    for path, b in zip(paths, batch):
        single = rec.read(path)
        assert single.text == b.text
        assert abs(single.confidence - b.confidence).max() < 1e-4
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as pool:  # app sessions share one recognizer, one call at a time each
        together = list(pool.map(rec.read, paths * 3))
    assert [r.text for r in together] == [b.text for b in batch] * 3
    assert rec.lite_batch
    for size in (4, 3):  # the last batch is smaller: the interpreter re-plans
        lite = rec.read_many(paths, batch_size=size)
        assert [r.text for r in lite] == [b.text for b in batch]
        assert max(abs(r.probs - b.probs).max() for r, b in zip(lite, batch)) < 1e-4


def test_audit_reads_a_runs_own_validation_split(tiny_captchas, untrained_captcha_model):
    from experiments.captcha.data import list_items, split
    run = untrained_captcha_model.parent
    data = {"dataset": "thsr-captcha", "preprocess": "grey", "preprocess_options": {"height": 32, "width": 96},
            "test_size": 20, "val_fraction": 0.25}
    (run / "config.json").write_text(json.dumps({"data": data}))
    r = captcha_cli("audit", "--run", str(run), "--split", "val", "--data-dir", str(tiny_captchas))
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    _, val, _ = split(list_items(tiny_captchas), 20, 0.25)
    assert res["split"] == "val" and res["n"] == len(val) > 0
    assert set(res["by_source"]) == {it.source for it in val}
    with open(run / "predictions-val.csv", newline="") as f:
        assert [row["image"] for row in csv.DictReader(f)] == [it.ref for it in val]
    bad = captcha_cli("audit", "--run", str(run.parent / "nowhere"), "--split", "val",
                      "--data-dir", str(tiny_captchas))
    assert bad.returncode != 0 and "error:" in bad.stderr


def test_predict_loads_a_model_with_our_custom_augmentation_layer(labelled_folder, tmp_path):
    """captcha-net-frame's RandomFrame must be registered before a fresh
    process loads the file (it was not, once: robustness failed on it)."""
    from core.registry import build_model
    path = tmp_path / "frame" / "model.keras"
    path.parent.mkdir()
    build_model("captcha_net", frame={"height": [0.0, 0.2], "width": [0.0, 0.1]}).save(path)
    images, _, _ = labelled_folder
    r = captcha_cli("predict", "--model", str(path), str(images / "1.jpg"))
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.split("\t")[1].strip()) == 4


def test_the_reader_reads_a_padded_upload_as_the_original(untrained_captcha_model):
    import numpy as np

    from experiments.captcha.recognizer import Recognizer
    from experiments.captcha.robustness import TRANSFORMS
    from experiments.captcha.synth import make_captcha
    img = make_captcha(np.random.default_rng(3), width=120, height=46)[0]
    rec = Recognizer(untrained_captcha_model)
    clean = rec.preprocess(img)
    for name in ("pad 6 px white", "pad 6 px edge colour", "pad 10 px left only (shifted)"):
        assert np.array_equal(rec.preprocess(TRANSFORMS[name](img)), clean), name
    rec.trim_borders = False  # the model alone sees the margin
    assert not np.array_equal(rec.preprocess(TRANSFORMS["pad 6 px white"](img)), clean)


def test_robustness_table_means_seeds_per_experiment(tmp_path):
    from core import study
    from experiments.captcha.views import robustness_table
    study.studies()  # the studies' texts, as the app has them

    def write(run, name, values):
        run.mkdir(parents=True, exist_ok=True)
        rows = [{"transform": t, "n": 10, "exact_match": v - 0.05, "exact_match_audited": v}
                for t, v in zip(("clean", "pad"), values)]
        (run / name).write_text(json.dumps({"rows": rows}))

    write(tmp_path / "a0", "robustness.json", (0.99, 0.99))
    write(tmp_path / "a1", "robustness.json", (0.97, 0.99))
    write(tmp_path / "a0", "robustness-model-only.json", (0.99, 0.90))
    table = robustness_table({"net": [tmp_path / "a0", tmp_path / "a1"]})
    assert list(table["transform"]) == ["clean", "pad"]
    assert table.loc[0, "net, reader"] == "98.00 ± 1.41 (2 seeds)"  # audited, not as given
    assert table.loc[1, "net, model alone"] == "90.00 ± – (1 seed)"


def test_crawl_robustness_table_has_a_column_per_test_set(tmp_path):
    """robustness-crawl.json (our split) and robustness-crawl-<source>.json
    (a whole crawl never trained on) are columns of their own; a damaged
    file is left out, the rest still shown."""
    from core import study
    from experiments.captcha.views import crawl_robustness_table
    study.studies()  # the studies' texts, as the app has them

    def write(run, name, clean):
        run.mkdir(parents=True, exist_ok=True)
        rows = [{"transform": "clean", "n": 10, "exact_match": clean - 0.05, "exact_match_audited": clean},
                {"transform": "saved as PNG", "n": 10, "exact_match": clean - 0.05, "exact_match_audited": clean}]
        (run / name).write_text(json.dumps({"rows": rows}))

    write(tmp_path / "x0", "robustness-crawl.json", 0.999)
    write(tmp_path / "h0", "robustness-crawl-handlabeled-5000.json", 0.99)
    write(tmp_path / "h1", "robustness-crawl-handlabeled-5000.json", 0.98)
    (tmp_path / "h2").mkdir()
    (tmp_path / "h2" / "robustness-crawl-handlabeled-5000.json").write_text('{"rows": [{"transform": "clean"}]')
    table = crawl_robustness_table({"loso": [tmp_path / f"h{i}" for i in range(3)], "net": [tmp_path / "x0"]})
    assert list(table.columns) == ["transform", "net on our split", "loso on handlabeled-5000"]
    assert list(table["transform"]) == ["clean", "saved as PNG"]
    assert table.loc[0, "loso on handlabeled-5000"] == "98.50 ± 0.71 (2 seeds)"
    zh = crawl_robustness_table({"net": [tmp_path / "x0"]}, "zh")
    assert list(zh.columns)[1] == "net，我們的切分" and list(zh.iloc[:, 0]) == ["原圖", "存成 PNG"]


def test_crawl_transforms_make_what_other_crawls_save():
    """Issue 32's robustness set: sizes of other crawls, JPEG re-encoding,
    2-pixel crops and pads on each side, greyscale, PNG and greyscale files;
    nothing else changes."""
    import numpy as np

    from experiments.captcha.robustness import CRAWL_TRANSFORMS
    from experiments.captcha.synth import make_captcha
    img = make_captcha(np.random.default_rng(0), width=140, height=48)[0]
    out = {name: fn(img) for name, fn in CRAWL_TRANSFORMS.items()}
    assert out["clean"] is img
    for (w, h) in ((101, 44), (133, 45), (140, 48), (160, 50)):
        assert out[f"resized to {w} x {h}"].shape == (h, w, 3)
    assert out["crop 2 px top"].shape == out["crop 2 px bottom"].shape == (46, 140, 3)
    assert out["crop 2 px left"].shape == out["crop 2 px right"].shape == (48, 138, 3)
    assert (out["crop 2 px left"] == img[:, 2:]).all() and (out["crop 2 px top"] == img[2:]).all()
    assert out["pad 2 px right (edge colour)"].shape == (48, 142, 3)
    assert (out["pad 2 px top (edge colour)"][:2] == img[:1]).all()
    grey = out["greyscale"]
    assert grey.shape == img.shape and (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    for q in (70, 95):
        jpg = out[f"JPEG quality {q}"]
        assert jpg.shape == img.shape and 0 < np.abs(jpg.astype(int) - img).mean() < 20
    # files: a PNG keeps every pixel, a greyscale PNG is the greyscale copy,
    # a greyscale JPEG comes back as three equal channels, near it
    assert (out["saved as PNG"] == img).all()
    assert (out["greyscale, saved as PNG"] == grey).all()
    gjpg = out["greyscale, saved as JPEG quality 90"]
    assert gjpg.shape == img.shape and (gjpg[..., 0] == gjpg[..., 2]).all()
    assert 0 < np.abs(gjpg.astype(int) - grey).mean() < 10


def test_robustness_on_a_whole_source_with_the_crawl_set(tiny_captchas, untrained_captcha_model, tmp_path):
    from experiments.captcha.robustness import CRAWL_TRANSFORMS
    r = captcha_cli("robustness", "--set", "crawl", "--source", "setB", "--model", str(untrained_captcha_model),
                    "--data-dir", str(tiny_captchas))
    assert r.returncode == 0, r.stderr
    saved = untrained_captcha_model.parent / "robustness-crawl-setB.json"
    rows = json.loads(saved.read_text())["rows"]
    assert [row["transform"] for row in rows] == list(CRAWL_TRANSFORMS)
    n_setb = len((tiny_captchas / "thsr-captcha" / "setB" / "labels.csv").read_text().split())
    assert all(row["n"] == n_setb for row in rows)
    bad = captcha_cli("robustness", "--source", "nowhere", "--model", str(untrained_captcha_model),
                      "--data-dir", str(tiny_captchas))
    assert bad.returncode == 2 and "no captcha set 'nowhere'" in bad.stderr
