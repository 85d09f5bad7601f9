"""The light reader (issue 24): the ONNX export and its check against Keras,
the cold path of `python -m experiments.captcha predict` (Pillow and onnxruntime's
C library: no TensorFlow, Keras, JAX, not even numpy), `predict -` on a
stream of paths, and the readers' agreement with Keras."""
import hashlib
import io
import json
import os
import select
import statistics
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from conftest import PREVIOUS_CAPTCHA_MODEL as PLAIN_MODEL, REPO
from experiments.captcha import light
from experiments.captcha.recognizer import DEFAULT_MODEL, OnnxReader, Recognizer, full_reader as _full_reader, open_reader
from experiments.captcha.synth import make_captcha

DEFAULT_ONNX = DEFAULT_MODEL.with_suffix(".onnx")
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def png(arr) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def synthetic(tmp_path, n=6, seed=0):
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        p = tmp_path / f"c{i}.png"
        p.write_bytes(png(make_captcha(rng)[0]))
        paths.append(p)
    return paths


def test_the_cold_paths_copies_of_the_readers_limits_agree():
    from experiments.captcha import preprocess
    assert (light.MAX_BYTES, light.MAX_SIDE, light.ASPECT) == (preprocess.MAX_BYTES, preprocess.MAX_SIDE,
                                                               preprocess.ASPECT)
    assert (light.BORDER_STD, light.BORDER_DIFF, light.BORDER_MARGIN) == (preprocess.BORDER_STD, preprocess.BORDER_DIFF,
                                                                      preprocess.BORDER_MARGIN)
    # v / 255 in float32 exactly as numpy computes it, for every grey level
    table = np.frombuffer(b"".join(light._tables()[0]), np.float32)
    assert np.array_equal(table, np.arange(256, dtype=np.uint8).astype("float32") / 255.0)


def test_the_committed_export_is_current_and_checked_on_the_whole_test_split():
    """model.onnx beside the default model.keras, exported from exactly that
    file, read the same 3,000 test captchas with probabilities within 1e-4."""
    assert DEFAULT_ONNX.is_file(), "the default model's ONNX export must be committed"
    assert DEFAULT_ONNX.stat().st_size <= 5 * 1024 * 1024
    record = json.loads((DEFAULT_ONNX.parent / "onnx.json").read_text())
    assert record["keras_sha1"] == hashlib.sha1(DEFAULT_MODEL.read_bytes()).hexdigest()
    assert record["passed"] and record["data"] == "the run's test split" and record["n"] == 3000
    assert record["max_abs_diff"] <= 1e-4 and record["agreement"] == 1.0
    meta = json.loads(light.onnx_metadata(DEFAULT_ONNX.read_bytes())[light.META_KEY])
    data_cfg = json.loads((DEFAULT_MODEL.parent / "config.json").read_text())["data"]
    assert (meta["preprocess"], meta["preprocess_options"]) == (data_cfg["preprocess"],
                                                                data_cfg["preprocess_options"])
    assert meta["alphabet"] == "234579ACFHKMNPQRTYZ" and len(meta["outputs"]) == 4
    # our protobuf reading of the metadata is the onnx package's
    import onnx
    props = {p.key: p.value for p in onnx.load(str(DEFAULT_ONNX), load_external_data=False).metadata_props}
    assert props == light.onnx_metadata(DEFAULT_ONNX.read_bytes())


def test_export_of_a_small_model_reads_like_keras(untrained_captcha_model, tmp_path, monkeypatch):
    """export-onnx on a saved model: metadata, record and readings; both
    onnxruntime runners (C API and Python binding) agree with Keras."""
    from experiments.captcha.onnx_export import export_file
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path / "no-data"))  # checked on synthetic captchas
    record = export_file(untrained_captcha_model)
    onnx_path = untrained_captcha_model.with_suffix(".onnx")
    assert record["passed"] and record["n"] == 256 and record["max_abs_diff"] <= 1e-4
    assert record["keras_sha1"] == hashlib.sha1(untrained_captcha_model.read_bytes()).hexdigest()
    assert json.loads((onnx_path.parent / "onnx.json").read_text()) == record
    keras_rec = Recognizer(untrained_captcha_model)
    paths = synthetic(tmp_path)
    want = keras_rec.read_many(paths)
    for reader in (OnnxReader(onnx_path), OnnxReader(onnx_path, binding=True),
                   open_reader(untrained_captcha_model)):
        assert isinstance(reader, OnnxReader)
        got = reader.read_many(paths)
        assert [r.text for r in got] == [r.text for r in want]
        assert max(np.abs(g.probs - w.probs).max() for g, w in zip(got, want)) < 1e-4
        assert reader.preprocess_name == keras_rec.preprocess_name
    assert {OnnxReader(onnx_path).runner, OnnxReader(onnx_path, binding=True).runner} == {
        "onnxruntime (C API)", "onnxruntime (Python binding)"}
    cold = light.ColdReader.open(untrained_captcha_model, full=_full_reader)
    assert [cold.read_text(p) for p in paths] == [r.text for r in want]
    # a model.keras replaced after its export is read through Keras again
    untrained_captcha_model.write_bytes(untrained_captcha_model.read_bytes() + b"\0")
    assert light.onnx_for(untrained_captcha_model)[0] is None
    assert isinstance(open_reader(onnx_path), OnnxReader)  # named itself, the export is still read


def test_the_committed_model_reads_real_captchas_alike_through_keras_onnx_and_the_cold_path(real_captchas):
    """300 held-out test captchas: the same four characters from Keras, the
    ONNX reader and the cold path, probabilities within 1e-4; every one of
    them takes the cold path's fast route, with the full reader's input."""
    from experiments.captcha.data import list_items, split
    from experiments.captcha.preprocess import load_image

    _, _, test = split(list_items(real_captchas))
    paths = [it.path for it in test[:300]]
    keras_readings = Recognizer().read_many(paths)
    onnx = OnnxReader(DEFAULT_ONNX)
    onnx_readings = onnx.read_many(paths)
    assert [r.text for r in onnx_readings] == [r.text for r in keras_readings]
    assert max(np.abs(a.probs - b.probs).max() for a, b in zip(onnx_readings, keras_readings)) < 1e-4
    cold = light.ColdReader.open(DEFAULT_MODEL, full=_full_reader)
    assert [cold.read_text(p) for p in paths] == [r.text for r in keras_readings]
    assert cold.fast_reads == 300 and cold.full_reads == 0
    for p in paths[:50]:
        fast = np.frombuffer(cold._input(p), np.float32)
        assert np.array_equal(fast, onnx.preprocess(load_image(p)).ravel())


def test_many_images_prepared_in_processes_read_as_one_at_a_time(real_captchas, tmp_path, monkeypatch):
    """read_many prepares an undo_arc model's inputs in worker processes from
    PROCESSES_FROM images on: the same readings, in order, as one by one,
    an unreadable file among them answered in its place, the paths relative
    to the caller's folder."""
    from experiments.captcha import recognizer
    from experiments.captcha.data import list_items, split
    _, _, test = split(list_items(real_captchas))
    reader = OnnxReader(DEFAULT_ONNX)
    if not reader.preprocess_options.get("undo_arc"):
        pytest.skip("the default model does not undo the arc")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    paths = [str(it.path) for it in test[:recognizer.PROCESSES_FROM]]
    paths.insert(7, str(bad))
    monkeypatch.chdir(real_captchas)  # relative paths, as a user in the data folder gives them
    relative = [os.path.relpath(p, real_captchas) for p in paths]
    many = reader.read_many(relative, batch_size=64)
    assert isinstance(many[7], recognizer.CaptchaImageError)
    one = [reader.read(p) for p in paths[:7] + paths[8:]]
    assert [r.text for r in many[:7] + many[8:]] == [r.text for r in one]
    assert max(np.abs(a.probs - b.probs).max() for a, b in zip(many[:7] + many[8:], one)) < 1e-6


def test_worker_processes_survive_a_foreign_main_and_a_dead_worker(real_captchas, tmp_path, monkeypatch):
    """Inside Streamlit `__main__` is the page script, which a multiprocessing
    child would re-run (the pool broke so under the suite); the workers are
    plain processes instead. A worker that dies, or that cannot start, costs
    time only: its chunks are prepared in the reader's own process."""
    import types

    from experiments.captcha import recognizer
    from experiments.captcha.data import list_items, split
    _, _, test = split(list_items(real_captchas))
    reader = OnnxReader(DEFAULT_ONNX)
    if not reader.preprocess_options.get("undo_arc"):
        pytest.skip("the default model does not undo the arc")
    paths = [str(it.path) for it in test[:recognizer.PROCESSES_FROM]]
    expected = [reader.read(p).text for p in paths]  # read here, no processes
    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('a page script, not a module to re-run')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    assert [r.text for r in reader.read_many(paths)] == expected
    monkeypatch.setattr(recognizer, "WORKER_ARGS", ("-c", "import sys; sys.stdin.buffer.read(100)"))
    assert [r.text for r in reader.read_many(paths)] == expected
    # a worker that answers its first chunk, then one chunk short, then dies
    # with its next chunk already queued to it
    short_then_gone = ("import os, pickle, sys\n"
                       "from experiments.captcha.recognizer import _prepare_chunk\n"
                       "i, o = sys.stdin.buffer, os.fdopen(1, 'wb')\n"
                       "job = pickle.load(i)\n"
                       "pickle.dump(_prepare_chunk(pickle.load(i), job), o); o.flush()\n"
                       "pickle.dump(_prepare_chunk(pickle.load(i), job)[1:], o); o.flush()\n")
    monkeypatch.setattr(recognizer, "PROCESS_CHUNK", 32)
    monkeypatch.setattr(recognizer, "WORKER_ARGS", ("-c", short_then_gone))
    for workers in (1, 2):
        assert [r.text for r in reader.read_many(paths, workers=workers)] == expected

    def refuse(*args, **kwargs):
        raise OSError("no processes here")
    monkeypatch.setattr("subprocess.Popen", refuse)
    assert [r.text for r in reader.read_many(paths)] == expected


def test_the_cold_path_hands_anything_unusual_to_the_full_reader(tmp_path):
    """A margin to trim, 16-bit grey, transparency, a damaged file: read (or
    refused) exactly as the full reader does."""
    rng = np.random.default_rng(4)
    img = make_captcha(rng)[0]
    files = {"plain.png": png(img),
             "framed.png": png(np.pad(img, ((6, 6), (6, 6), (0, 0)), constant_values=255)),
             "deep.png": png(np.asarray(Image.fromarray(img).convert("L")).astype(np.uint16) * 257),
             "clear.png": png(np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])),
             "broken.png": png(img)[:200], "text.jpg": b"not an image", "empty.png": b""}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = [tmp_path / n for n in files] + [tmp_path / "missing.png", tmp_path]
    cold = light.ColdReader.open(DEFAULT_MODEL, full=_full_reader)
    got = [cold.read_text(p) for p in paths]
    want = OnnxReader(DEFAULT_ONNX).read_many(paths)
    for p, g, w in zip(paths, got, want):
        assert (str(g) if isinstance(g, Exception) else g) == (str(w) if isinstance(w, Exception) else w.text), p
    assert got[1] == got[0]  # the white margin came off first
    assert cold.fast_reads == 1 and cold.full_reads == len(paths) - 1


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "experiments.captcha", *args], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=120, **kwargs)


PROBE = """
import json, os, sys
from experiments.captcha.__main__ import run
code = run(sys.argv[1:])
loaded = sorted(m for m in ("tensorflow", "keras", "jax", "numpy", "onnxruntime", "pandas", "core.records")
                if m in sys.modules)
print("LOADED " + json.dumps({"code": code, "loaded": loaded,
                              "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}), file=sys.stderr)
"""


def probe(*args):
    env = {k: v for k, v in ENV.items() if k != "OPENBLAS_NUM_THREADS"}
    r = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=120)
    line = next(l for l in r.stderr.splitlines() if l.startswith("LOADED "))
    return r, json.loads(line[7:])


def test_predict_and_evaluate_import_neither_tensorflow_keras_nor_jax(tmp_path):
    from conftest import write_captcha_set
    paths = synthetic(tmp_path, 2)
    r, seen = probe("predict", *paths)
    # the cold path: not even numpy, also for the default, which undoes the
    # arc (arc_lite.py); should the full reader be needed after all, its numpy
    # starts one BLAS thread (a thread per core cost a cold predict 0.1 s of CPU)
    assert json.loads((DEFAULT_MODEL.parent / "config.json").read_text())["data"]["preprocess_options"]["undo_arc"]
    assert seen == {"code": 0, "loaded": [], "blas_threads": "1"}, r.stderr
    assert [l.split("\t")[0] for l in r.stdout.splitlines()] == [str(p) for p in paths]
    write_captcha_set(tmp_path, "set", 6, seed=2)
    r, seen = probe("evaluate", "--images", tmp_path / "set" / "images", "--labels",
                    tmp_path / "set" / "labels.csv")
    assert seen["code"] == 0 and not {"tensorflow", "keras", "jax"} & set(seen["loaded"]), seen
    assert json.loads(r.stdout.splitlines()[-1])["n"] == 6


def readline(stream, timeout=60.0) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "no answer within a minute"
    return stream.readline()


def test_predict_dash_answers_each_path_as_it_arrives(tmp_path):
    """A path written, its answer read back before the next is written."""
    good = synthetic(tmp_path, 2, seed=9)
    p = subprocess.Popen([sys.executable, "-m", "experiments.captcha", "predict", "-"], cwd=REPO, env=ENV,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        p.stdin.write(f"{good[0]}\n")
        p.stdin.flush()
        path, text = readline(p.stdout).rstrip("\n").split("\t")
        assert path == str(good[0]) and len(text) == 4
        p.stdin.write(f"{tmp_path / 'nowhere.png'}\n")
        p.stdin.flush()
        assert readline(p.stderr) == f"{tmp_path / 'nowhere.png'}: there is no such file\n"
        p.stdin.write(f"\n{good[1]}\r\n")  # a blank line is skipped, CRLF taken off
        p.stdin.flush()
        assert readline(p.stdout).startswith(f"{good[1]}\t")
        p.stdin.close()
        assert p.wait(60) == 1  # one path could not be read
    finally:
        p.kill()
        p.wait()


def test_a_keras_model_without_its_export_still_reads_and_says_how_to_export(untrained_captcha_model, tmp_path):
    img = synthetic(tmp_path, 1)[0]
    r = cli("predict", "--model", str(untrained_captcha_model), str(img))
    assert r.returncode == 0 and r.stdout.startswith(f"{img}\t"), r.stderr
    assert "has no ONNX export beside it" in r.stderr and "export-onnx --model" in r.stderr
    r = cli("export-onnx", "--model", str(untrained_captcha_model))
    assert r.returncode == 0 and json.loads(r.stdout.splitlines()[-1])["passed"], r.stderr
    r = cli("predict", "--model", str(untrained_captcha_model.with_suffix(".onnx")), str(img))
    assert r.returncode == 0 and r.stdout.startswith(f"{img}\t") and not r.stderr


def test_a_bad_onnx_file_is_refused_in_plain_words(tmp_path):
    import onnx
    (tmp_path / "notes.onnx").write_text("not a model")
    (tmp_path / "cut.onnx").write_bytes(DEFAULT_ONNX.read_bytes()[:100000])
    bare = onnx.load(str(DEFAULT_ONNX))
    del bare.metadata_props[:]
    onnx.save(bare, str(tmp_path / "bare.onnx"))
    img = synthetic(tmp_path, 1)[0]
    for name, words in (("notes.onnx", "the file is not an ONNX model, or is damaged or cut short"),
                        ("cut.onnx", "the file is not an ONNX model, or is damaged or cut short"),
                        ("bare.onnx", "without this project's captcha metadata"),
                        ("none.onnx", "no model at")):
        r = cli("predict", "--model", str(tmp_path / name), str(img))
        assert r.returncode == 2 and r.stderr.startswith("error: ") and words in r.stderr, (name, r.stderr)
        assert "Traceback" not in r.stderr and not r.stdout


def cpu_seconds(cmd) -> float:
    p = subprocess.Popen(cmd, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, cmd
    return usage.ru_utime + usage.ru_stime


@pytest.mark.parametrize("model", [DEFAULT_MODEL, PLAIN_MODEL], ids=["default", "previous-default"])
def test_a_cold_predict_costs_less_than_importing_numpy_pillow_and_onnxruntime(tmp_path, model):
    """CPU time (not wall time: robust on a loaded machine), interleaved,
    medians of 5: reading one captcha from a fresh process costs less than
    `import numpy, PIL.Image, onnxruntime` (measured on 2 cores, 2026-12-07:
    about 0.5x with either model, the default undoing the arc in plain
    Python); 1.0x fails if the cold path starts importing numpy or
    onnxruntime's Python binding."""
    if not model.with_suffix(".onnx").is_file():
        pytest.skip(f"{model} is not in this checkout")
    img = synthetic(tmp_path, 1)[0]
    ours, imports = [], []
    for _ in range(5):
        ours.append(cpu_seconds([sys.executable, "-m", "experiments.captcha", "predict", "--model",
                                 str(model), str(img)]))
        imports.append(cpu_seconds([sys.executable, "-c", "import numpy, PIL.Image, onnxruntime"]))
    assert statistics.median(ours) <= 1.0 * statistics.median(imports), (ours, imports)


APP_PROBE = """
import io, json, sys
import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest
from experiments.captcha.synth import make_captcha
buf = io.BytesIO()
Image.fromarray(make_captcha(np.random.default_rng(0))[0]).save(buf, "PNG")
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.run()
at.switch_page("experiments/captcha/pages/demo.py")
at.run()
at.file_uploader[0].set_value([("a.png", buf.getvalue(), "image/png")])
at.run()
print("RESULT " + json.dumps({
    "chars": [h.value for h in at.subheader if len(h.value) == 1],
    "captions": [c.value for c in at.caption], "errors": [e.message for e in at.exception],
    "loaded": [m for m in ("tensorflow", "keras", "jax") if m in sys.modules]}))
"""


def test_the_demo_page_reads_an_upload_without_tensorflow(tmp_path):
    env = {**ENV, "CNNLAB_DATA_DIR": str(tmp_path / "no-data")}
    r = subprocess.run([sys.executable, "-c", APP_PROBE, str(REPO / "streamlit_app.py")], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    line = next((l for l in r.stdout.splitlines() if l.startswith("RESULT ")), None)
    assert line, r.stderr[-3000:]
    out = json.loads(line[7:])
    assert not out["errors"] and len(out["chars"]) == 4, out
    assert any("ONNX Runtime" in c for c in out["captions"]), out["captions"]
    assert out["loaded"] == [], out["loaded"]


def test_bench_measures_the_cold_start_in_fresh_processes(tmp_path):
    paths = synthetic(tmp_path, 3)
    r = cli("bench", "--cold", "2", "--against", f"{sys.executable} -c pass", *map(str, paths))
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.splitlines()[-1])
    assert res["single_runner"] == "onnxruntime (C API)" and res["cold_ok"] and res["against_ok"]
    assert len(res["cold_start_s"]) == 2 and 0 < res["cold_start_s_median"] < 30
    # the peak is the fresh process's own, not the benchmark's (Linux counts
    # memory held before exec: a child forked from the bench showed 450 MB)
    assert 20 < res["cold_peak_mib"] < 150 and res["against_peak_mib"] < 30
