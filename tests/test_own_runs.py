"""Runs of one's own: recorded by RunRecorder in a real `fit` (TensorFlow and
JAX), imported from files the real tools wrote in the test (Keras's
CSVLogger and TensorBoard callbacks, a History JSON, MLflow's log_metric),
refused by name when torn or foreign, and reported like any study: its page
(AppTest), its Overview card, the Runs page, the three exports."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, goto

RECORD = r"""
import json, os, sys
import numpy as np
import keras
from core.recorder import RunRecorder
rng = np.random.default_rng(0)
x = rng.random((160, 6)).astype("float32"); y = (x[:, :3].sum(1) > 1.5).astype("int32")
model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
recorder = RunRecorder(study="rec-study", experiment=sys.argv[2], seed=int(sys.argv[3]),
                       config={"units": 8, "backend": keras.backend.backend()}, runs_dir=sys.argv[1],
                       baseline="plain", save_model=True)
model.fit(x[:120], y[:120], validation_split=0.25, epochs=3, batch_size=16, verbose=0, callbacks=[recorder])
print(json.dumps({"test": recorder.evaluate(x[120:], y[120:]), "path": str(recorder.path)}))
"""


def _record(tmp_path, backend, experiment="plain", seed=0):
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", RECORD, str(tmp_path / "runs"), experiment, str(seed)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _check_complete(path: Path, backend: str, test: dict):
    from core.records import Run, check_record, load_history, load_json_record
    run = Run(path)
    assert run.check() == ("done", None)
    for name in ("config.json", "meta.json", "summary.json"):
        check_record(name, load_json_record(path / name))
    history = load_history(path / "history.csv")
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(history[0])
    summary, meta, config = run.summary, run.meta, run.config
    assert summary["test"]["accuracy"] == pytest.approx(test["accuracy"])
    assert summary["epochs_run"] == 3 and summary["params"] > 0 and summary["n_test"] == 40
    assert summary["model_file"] == "model.keras" and (path / "model.keras").is_file()
    assert meta["device"]["backend"] == backend and meta["status"] == "done" and meta["versions"]["keras"]
    assert config["origin"] == "recorded" and config["group"] == "rec-study"
    assert config["params"] == {"units": 8, "backend": backend}


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_the_recorder_writes_a_complete_run_from_a_real_fit(tmp_path, backend):
    if backend == "jax":
        pytest.importorskip("jax", reason="needs jax (requirements.txt installs it)")
    out = _record(tmp_path, backend)
    _check_complete(Path(out["path"]), backend, out["test"])


def test_a_second_record_of_a_done_run_is_refused_and_nothing_changes(tmp_path):
    first = _record(tmp_path, "tensorflow")
    before = {p.name: p.read_bytes() for p in Path(first["path"]).iterdir() if p.is_file()}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", RECORD, str(tmp_path / "runs"), "plain", "0"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and "already recorded (done)" in out.stderr and "overwrite=True" in out.stderr
    assert {p.name: p.read_bytes() for p in Path(first["path"]).iterdir() if p.is_file()} == before


def test_the_recorder_refuses_a_bad_name_a_config_that_is_not_json_and_a_declared_experiment(tmp_path):
    from core.own import OwnRunError
    from core.recorder import RunRecorder
    with pytest.raises(OwnRunError, match="folder name"):
        RunRecorder(study="my study", experiment="a", runs_dir=tmp_path)
    with pytest.raises(OwnRunError, match=r"config\['opt'\] is a object"):
        RunRecorder(study="s", experiment="a", config={"opt": object()}, runs_dir=tmp_path)
    with pytest.raises(OwnRunError, match="already one of study 'mnist'"):
        RunRecorder(study="s", experiment="mnist-fair-cnn2", runs_dir=tmp_path)
    with pytest.raises(OwnRunError, match="one of this project's"):
        RunRecorder(study="captcha", experiment="a", runs_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_an_interrupted_fit_is_marked_interrupted_and_its_lock_freed(tmp_path):
    """Ctrl-C in the middle of fit (here: a callback raising KeyboardInterrupt
    inside the with-block) leaves the run interrupted, not running."""
    import keras
    from core.recorder import RunRecorder
    from core.records import Run, lock_held
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with RunRecorder(study="s", experiment="cut", runs_dir=tmp_path) as recorder:
            model.fit(x, y, validation_split=0.25, epochs=5, verbose=0, callbacks=[recorder, Stop()])
    run = Run(recorder.path)
    assert run.status == "interrupted" and lock_held(run.path) is False
    assert len(run.history) == 2 and run.meta["stopped_by"] == "Ctrl-C"


# --- importers, on files the real tools write ---------------------------------------------

@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """Two experiments x three seeds of a tiny fit, logged by Keras's
    CSVLogger and TensorBoard callbacks, as a History JSON, and to an MLflow
    file store with log_metric (where MLflow is installed)."""
    import keras
    folder = tmp_path_factory.mktemp("logs")
    rng = np.random.default_rng(0)
    x = rng.random((200, 6)).astype("float32")
    y = (x[:, :3].sum(1) > 1.5).astype("int32")
    tests = {}
    try:
        import mlflow
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        mlflow.set_tracking_uri((folder / "mlruns").as_uri())
        mlflow.set_experiment("width")
    except ImportError:
        mlflow = None
    for name, units in (("narrow", 2), ("wide", 32)):
        for seed in range(3):
            keras.utils.set_random_seed(seed)
            model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(units, activation="relu"),
                                      keras.layers.Dense(2, activation="softmax")])
            model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
            history = model.fit(x[:150], y[:150], validation_split=0.2, epochs=4, verbose=0, callbacks=[
                keras.callbacks.CSVLogger(str(folder / f"{name}-{seed}.csv")),
                keras.callbacks.TensorBoard(str(folder / f"tb-{name}-{seed}"))])
            (folder / f"{name}-{seed}.json").write_text(json.dumps(history.history))
            tests[name, seed] = float(model.evaluate(x[150:], y[150:], verbose=0, return_dict=True)["accuracy"])
            if mlflow:
                with mlflow.start_run(run_name=f"{name}-{seed}"):
                    mlflow.log_params({"units": units})
                    for k, values in history.history.items():
                        for step, v in enumerate(values):
                            mlflow.log_metric(k, v, step=step)
                    mlflow.log_metric("test_accuracy", tests[name, seed])
    return folder, tests


def _cli(*args, cwd=REPO, env=None):
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "experiments", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("fmt,name", [("csvlogger", "narrow-0.csv"), ("history", "narrow-0.json"),
                                      ("tensorboard", "tb-narrow-0")])
def test_each_keras_log_imports_as_a_done_run_with_every_epoch(logs, tmp_path, fmt, name):
    from core.importers import detect, import_run
    folder, tests = logs
    assert detect(folder / name) == fmt
    run = import_run(folder / name, "imp", "narrow", 0, root=tmp_path, test={"accuracy": tests["narrow", 0]})
    assert run.check() == ("done", None)
    history = run.history
    source = json.loads((folder / "narrow-0.json").read_text())
    assert len(history) == 4
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert [r[key] for r in history] == pytest.approx(source[key], rel=1e-6), key
    assert run.summary["test"]["accuracy"] == pytest.approx(tests["narrow", 0])
    assert run.meta["imported"]["format"] == fmt and run.config["origin"] == "imported"
    if fmt == "tensorboard":  # wall times of the events: every epoch after the first has its seconds
        assert all(r["seconds"] >= 0 for r in history[1:])


def test_an_mlflow_run_imports_with_its_params_and_test_figure(logs, tmp_path):
    pytest.importorskip("mlflow", reason="needs MLflow's client (requirements.txt installs mlflow-skinny)")
    from core.importers import ImportRefused, import_run
    folder, tests = logs
    with pytest.raises(ImportRefused, match="holds 6 MLflow runs; name one with --mlflow-run"):
        import_run(folder / "mlruns", "imp", "wide", 1, root=tmp_path)
    run_dir = next(p.parent.parent for p in (folder / "mlruns").glob("*/*/tags/mlflow.runName")
                   if p.read_text() == "wide-1")
    run = import_run(run_dir, "imp", "wide", 1, root=tmp_path)
    assert run.summary["test"]["accuracy"] == pytest.approx(tests["wide", 1])
    assert run.config["params"] == {"units": 32}
    source = json.loads((folder / "wide-1.json").read_text())
    assert [r["val_accuracy"] for r in run.history] == pytest.approx(source["val_accuracy"])


def _torn(tmp_path, logs):
    folder, _ = logs
    csv_text = (folder / "narrow-0.csv").read_text()
    cases = {
        "cut.csv": (csv_text[: len(csv_text) - 30], "different number of columns|not a number"),
        "twice.csv": (csv_text + csv_text.split("\n", 1)[1], "expected 4"),
        "other.csv": ("name,score\nalice,3\n", "no 'epoch' column"),
        "blob.csv": (b"\x89PNG\r\n\x1a\n\x00\x00", "binary data"),
        "cut.json": ((folder / "narrow-0.json").read_text()[:-9], "not JSON"),
        "list.json": ('[1, 2, 3]', "not a Keras History"),
        "uneven.json": ('{"loss": [1, 2], "accuracy": [0.5]}', "different numbers of epochs"),
    }
    for name, (content, _) in cases.items():
        p = tmp_path / name
        p.write_bytes(content) if isinstance(content, bytes) else p.write_text(content)
    empty_tb = tmp_path / "tb-empty"
    (empty_tb / "train").mkdir(parents=True)
    return {**{n: m for n, (_, m) in cases.items()}, "tb-empty": "no TensorBoard event files"}


def test_a_torn_or_foreign_log_is_refused_by_name_and_nothing_is_written(logs, tmp_path):
    from core.importers import ImportRefused, import_run
    cases = _torn(tmp_path, logs)
    runs = tmp_path / "runs"
    for name, message in cases.items():
        with pytest.raises(ImportRefused, match=message) as e:
            import_run(tmp_path / name, "imp", "narrow", 0, root=runs)
        assert str(tmp_path / name) in str(e.value), (name, e.value)
    assert not runs.exists()


def test_a_map_with_one_bad_log_imports_nothing(logs, tmp_path):
    folder, _ = logs
    (folder / "bad.csv").write_text("epoch,loss\n0,0.5\n0,0.4\n")
    (tmp_path / "map.csv").write_text(f"path,experiment,seed\n{folder}/narrow-0.csv,narrow,0\n{folder}/bad.csv,narrow,1\n")
    out = _cli("--runs-dir", str(tmp_path / "runs"), "import", "--map", str(tmp_path / "map.csv"), "--study", "imp")
    assert out.returncode == 2 and "bad.csv: line 3's epoch" in out.stderr and "nothing was imported" in out.stderr
    assert not (tmp_path / "runs").exists()


# --- the report of an imported study --------------------------------------------------------

@pytest.fixture
def imported(logs, tmp_path, monkeypatch):
    """The six CSVLogger logs imported as study `width` (baseline narrow),
    in a runs folder the app reads."""
    from core.importers import import_run
    folder, tests = logs
    runs = tmp_path / "runs"
    for (name, seed), acc in tests.items():
        import_run(folder / f"{name}-{seed}.csv", "width", name, seed, root=runs, test={"accuracy": acc},
                   baseline="narrow", study_title="Width: does a wider layer help?")
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(runs))
    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", str(tmp_path / "mine"))
    return runs, tests


def test_the_imported_study_has_its_page_card_and_runs_in_the_app(imported):
    from test_app import _app
    runs, tests = imported
    page = _app("width")
    assert page.title[0].value == "Width: does a wider layer help?"
    shown = " ".join(m.value for m in page.markdown)
    assert "imported from your own training logs" in shown and "against the baseline `narrow`" in shown
    assert len(page.get("vega_lite_chart")) >= 3  # the figures, the forest, the curves
    from conftest import page_tables
    table = page_tables(page)[0].set_index("experiment")
    wide = [100 * tests["wide", s] for s in range(3)]
    assert table.loc["wide", "test acc. %"] == f"{np.mean(wide):.2f} ± {np.std(wide, ddof=1):.2f}"
    assert table.loc["narrow", "our verdict"] == "baseline" and table.loc["wide", "seeds"] in (3, "3")
    home = _app()
    assert "Width: does a wider layer help?" in [m.label for m in home.metric]
    zh = _app("width", language="繁體中文")
    assert "你的研究" in " ".join(m.value for m in zh.markdown)
    listing = page_tables(_app("runs"))
    refs = {str(v) for t in listing for v in t.get("run", [])}
    assert {f"{e}/s{s}-" for e in ("narrow", "wide") for s in range(3)} <= {r.split("-")[0] + "-" for r in refs}, refs


@pytest.mark.parametrize("fmt", ["html", "pdf", "docx"])
def test_the_imported_study_exports_alone_under_its_title(imported, tmp_path, fmt):
    runs, _ = imported
    out = _cli("--runs-dir", str(runs), "report", "--study", "width", "--export", str(tmp_path / f"w.{fmt}"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "1 report page(s)" in out.stdout
    if fmt == "html":
        text = (tmp_path / "w.html").read_text(encoding="utf-8")
    elif fmt == "pdf":
        from pypdf import PdfReader
        text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "w.pdf").pages)
    else:
        import docx
        text = " ".join(p.text for p in docx.Document(tmp_path / "w.docx").paragraphs)
    assert "Width: does a wider layer help?" in text
    assert "Convolutional networks, measured" not in text  # its page alone, not our report


# --- the README's "Bring your own runs", as written ---------------------------------------

def _readme_section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split("## Bring your own runs", 1)[1].split("\n## ", 1)[0]


WALK = r"""
import json, sys
import numpy as np
import keras
accs = {}
# The student's own logs, written by the real tools (CSVLogger, TensorBoard, a
# History JSON), then the README's Python block in a real fit ("readme").
for name, seed, units in json.loads(sys.argv[1]):
    rng = np.random.default_rng(seed)
    x = rng.random((200, 6)).astype("float32"); y = (x[:, :3].sum(1) > 1.5).astype("int32")
    x_train, y_train, x_test, y_test = x[:150], y[:150], x[150:], y[150:]
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    if name == "readme":
        exec(open("readme.py").read())
        continue
    h = model.fit(x_train, y_train, validation_split=0.2, epochs=5, verbose=0, callbacks=[
        keras.callbacks.CSVLogger(f"logs/{name}.csv"), keras.callbacks.TensorBoard(f"logs/tb-{name}")])
    json.dump(h.history, open(f"logs/{name}.json", "w"))
    accs[name] = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
print(json.dumps(accs))
"""


def test_the_readme_walk_through_records_imports_and_hands_in_the_study(tmp_path, monkeypatch):
    section = _readme_section()
    python = section.split("```python\n", 1)[1].split("```", 1)[0]
    bash = section.split("```bash\n", 1)[1].split("```", 1)[0]
    assert len(python.strip().splitlines()) < 20 and len(bash.strip().splitlines()) < 20
    env = {**os.environ, "PYTHONPATH": str(REPO), "CNNLAB_USER_RUNS_DIR": str(tmp_path / "my-runs"),
           "CNNLAB_RUNS_DIR": str(tmp_path / "study-runs")}
    (tmp_path / "readme.py").write_text(python)
    (tmp_path / "logs").mkdir()
    (tmp_path / "walk.py").write_text(WALK)

    # Three seeds of narrow and two more of wide as logs, then the README's
    # block records wide seed 0.
    fits = [("narrow-0", 0, 2), ("narrow-1", 1, 2), ("narrow-2", 2, 2), ("wide-1", 1, 64), ("wide-2", 2, 64),
            ("readme", 0, 64)]
    out = subprocess.run([sys.executable, "walk.py", json.dumps(fits)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    accs = json.loads(out.stdout.strip().splitlines()[-1])
    (tmp_path / "logs" / "runs.csv").write_text(
        "path,experiment,seed,test_accuracy\n"
        f"narrow-2.csv,narrow,2,{accs['narrow-2']}\nwide-1.json,wide,1,{accs['wide-1']}\n"
        f"tb-wide-2,wide,2,{accs['wide-2']}\n")

    for line in (l.split("  #")[0].strip() for l in bash.splitlines()):
        args = line.split()[3:]
        assert line.startswith("python -m experiments ")
        out = subprocess.run([sys.executable, "-m", "experiments", *args], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, (line, out.stderr[-3000:])
    from core.records import list_runs
    runs = list_runs(tmp_path / "my-runs", users=False)
    assert sorted(r.ref.split("-")[0] for r in runs) == [f"{e}/s{s}" for e in ("narrow", "wide") for s in range(3)]
    assert all(r.status == "done" for r in runs)
    import docx
    text = " ".join(p.text for p in docx.Document(tmp_path / "my-study.docx").paragraphs)
    assert "my-study" in text and "Your study" in text

    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", env["CNNLAB_USER_RUNS_DIR"])
    monkeypatch.setenv("CNNLAB_RUNS_DIR", env["CNNLAB_RUNS_DIR"])
    from conftest import page_tables
    from test_app import _app
    table = page_tables(_app("my-study"))[0].set_index("experiment")
    assert table.loc["narrow", "seeds"] in (3, "3") and table.loc["wide", "seeds"] in (3, "3")
    assert table.loc["narrow", "our verdict"] == "baseline"


def test_the_imported_study_page_is_right_in_a_real_browser(logs, tmp_path):
    """Its page and the Overview with its card, in Chromium, in both
    languages: drawn, no exception, nothing wider than the column. The
    screenshots go to $CNNLAB_SCREENSHOT_DIR as own-*.png."""
    from scripts import browse
    if not (browse.CHROMIUM and browse.DRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install)")
    from core.importers import import_run
    folder, tests = logs
    runs = tmp_path / "runs"
    for (name, seed), acc in tests.items():
        import_run(folder / f"tb-{name}-{seed}" if seed else folder / f"{name}-{seed}.csv", "width", name, seed,
                   root=runs, test={"accuracy": acc}, baseline="narrow",
                   study_title={"en": "Width: does a wider layer help?", "zh": "寬度：較寬的層有幫助嗎？"})
    shots = Path(os.environ.get("CNNLAB_SCREENSHOT_DIR", "/tmp/cnnlab-screenshots"))
    env = {"CNNLAB_RUNS_DIR": str(runs), "CNNLAB_USER_RUNS_DIR": str(tmp_path / "mine"),
           "CNNLAB_JOBS_DIR": str(tmp_path / "jobs")}
    with browse.serve(env) as url:
        driver = browse.browser(1400)
        try:
            for page, lang in (("width", "en"), ("width", "zh"), ("", "en")):
                browse.open_page(driver, f"{url}/{page}?lang={lang}")
                found = browse.problems(driver)
                shots.mkdir(parents=True, exist_ok=True)
                height = driver.execute_script(
                    "const m = document.querySelector(\"[data-testid='stMain']\"); return m ? m.scrollHeight : 2000")
                driver.set_window_size(1400, min(int(height) + 120, 12000))
                driver.save_screenshot(str(shots / f"own-{page or 'home'}-1400-{lang}.png"))
                driver.set_window_size(1400, 1000)
                assert not found, f"/{page} ({lang}): " + "; ".join(found)
                body = driver.find_element("tag name", "body").text
                assert ("寬度：較寬的層有幫助嗎？" if lang == "zh" else "Width: does a wider layer help?") in body
        finally:
            driver.quit()


def test_an_own_run_can_be_shown_beside_ours_on_its_technique_page_when_asked(logs, tmp_path, monkeypatch):
    """compare_with names one of our experiments: its page offers a switch,
    off by default; on, the reader's runs sit beside ours, marked as theirs."""
    from core.importers import import_run
    folder, tests = logs
    mine = tmp_path / "mine"
    for seed in range(3):
        import_run(folder / f"wide-{seed}.csv", "my-bn", "my-batchnorm", seed, root=mine,
                   test={"accuracy": tests["wide", seed]}, compare_with="c50-batchnorm")
    monkeypatch.delenv("CNNLAB_RUNS_DIR", raising=False)  # the committed runs: ours
    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", str(mine))
    from test_app import _app
    page = _app("c50-batchnorm")
    toggle = next(t for t in page.toggle if t.label == "Show my own runs beside these")
    assert toggle.value is False and "Your runs beside ours" not in [h.value for h in page.header]
    toggle.set_value(True).run()
    assert "Your runs beside ours" in [h.value for h in page.header]
    from conftest import page_tables
    table = next(t for t in page_tables(page) if "yours" in t.columns)
    assert table.iloc[0]["yours"] == "my-batchnorm (yours, my-bn)" and table.iloc[0]["ours"] == "c50-batchnorm"


def test_a_run_without_the_figure_compared_is_left_out_and_named(logs, tmp_path, monkeypatch):
    """A log imported without its test accuracy is listed, with its curves,
    but out of the figures; the page says which run and why. With
    --metric val_accuracy the same study compares validation figures."""
    from core.importers import import_run
    from core.results import experiment_rows, left_out
    folder, tests = logs
    runs = tmp_path / "runs"
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(runs))
    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", str(tmp_path / "mine"))
    import_run(folder / "narrow-0.csv", "partial", "narrow", 0, root=runs, test={"accuracy": tests["narrow", 0]})
    import_run(folder / "narrow-1.csv", "partial", "narrow", 1, root=runs)
    row = next(r for r in experiment_rows(runs) if r["group"] == "partial")
    assert row["n_done"] == 1 and row["test_acc_mean"] == pytest.approx(tests["narrow", 0])
    (ref, why), = left_out([row])
    assert ref.startswith("narrow/s1-") and "has no test.accuracy" in why
    import_run(folder / "wide-0.csv", "by-val", "wide", 0, root=runs, metric="val_accuracy")
    row = next(r for r in experiment_rows(runs) if r["group"] == "by-val")
    last = json.loads((folder / "wide-0.json").read_text())["val_accuracy"][-1]
    assert row["n_done"] == 1 and row["test_acc_mean"] == pytest.approx(last)
