"""A captcha model's ONNX export for the light reader (experiments/captcha/light.py),
and its check against Keras. Needs TensorFlow (Keras exports through
tf2onnx); reading the export needs neither.

    export(model, out, preprocess, options)  the file, with the reader's metadata
    compare(model, onnx_path, x)             Keras vs onnxruntime on x: readings, max |diff|
    export_run(model, x_test, run, data)     the training hook (task.evaluate): never raises
    export_file(keras_path)                  `python -m experiments.captcha export-onnx`

The check record, onnx.json beside model.onnx:
    {"onnx_file", "keras_sha1" (the .keras file it came from, null when it was
     exported from the model in memory before train.py saved model.keras),
     "n" (images compared), "data" (what they were), "max_abs_diff",
     "agreement" (share of images read the same, all four characters),
     "char_agreement", "tolerance", "passed", "exported", "why" (when not)}
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from experiments.captcha.labels import ALPHABET, N_CHARS
from experiments.captcha.light import FORMAT, META_KEY, RECORD

TOLERANCE = 1e-4   # largest |Keras - ONNX| probability a passing export may have


def _keras_heads(model, x: np.ndarray, batch: int = 512) -> np.ndarray:
    """(N, 4, 19) probabilities, heads in model.outputs order."""
    out = []
    for i in range(0, len(x), batch):
        p = model.predict_on_batch(x[i:i + batch])
        if isinstance(p, dict):
            p = [p[k] for k in model.output_names]
        out.append(np.stack([np.asarray(h) for h in p], axis=1))
    return np.concatenate(out) if out else np.zeros((0, N_CHARS, len(ALPHABET)), "float32")


def _onnx_heads(session, names, x: np.ndarray, batch: int = 512) -> np.ndarray:
    inp = session.get_inputs()[0].name
    out = [np.stack(session.run(names, {inp: np.ascontiguousarray(x[i:i + batch], np.float32)}), axis=1)
           for i in range(0, len(x), batch)]
    return np.concatenate(out) if out else np.zeros((0, N_CHARS, len(ALPHABET)), "float32")


def _session(path):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def metadata(model, preprocess: str, options: dict, inp: str, outputs: list[str], source: str | None) -> dict:
    """What the light reader needs to read the file without Keras."""
    return {"format": FORMAT, "alphabet": ALPHABET, "n_chars": N_CHARS,
            "preprocess": preprocess, "preprocess_options": dict(options or {}),
            "input": inp, "outputs": outputs, "input_shape": [int(d) for d in model.input_shape[1:]],
            "model_name": model.name, "source": source}


def _convert(model, path: Path) -> None:
    """The model in inference mode (training=False: augmentation layers such
    as RandomZoom or our RandomFrame pass their input through and leave no
    ops behind; Keras's own model.export(format="onnx") traces them and
    tf2onnx cannot convert their random ops) converted by tf2onnx."""
    import logging

    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="image"),)
    fn = tf.function(lambda x: model(x, training=False))
    log = logging.getLogger("tf2onnx")
    level = log.level
    log.setLevel(logging.ERROR)  # its progress notes are not ours to print
    try:
        # tf2onnx also prints and warns (numpy deprecations); the commands'
        # stdout is parsed by other tools: keep it clean.
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            tf2onnx.convert.from_function(fn, input_signature=spec, output_path=str(path))
    finally:
        log.setLevel(level)


def export(model, out: Path, preprocess: str, options: dict | None = None, source: str | None = None) -> dict:
    """Write `out` (atomically) and return its metadata. The graph's four
    outputs are matched to model.outputs on a random probe, so the metadata
    lists them in the Keras order whatever order the converter chose."""
    import onnx

    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        _convert(model, tmp)
        probe = np.random.default_rng(0).random((8, *model.input_shape[1:]), dtype=np.float32)
        want = _keras_heads(model, probe)
        session = _session(tmp)
        names = [o.name for o in session.get_outputs()]
        got = _onnx_heads(session, names, probe)
        order = [int(np.argmin([np.abs(got[:, j] - want[:, i]).max() for j in range(len(names))]))
                 for i in range(want.shape[1])]
        if sorted(order) != list(range(len(names))):
            raise ValueError(f"the export's outputs do not match the model's heads (order {order})")
        meta = metadata(model, preprocess, options or {}, session.get_inputs()[0].name,
                        [names[j] for j in order], source)
        proto = onnx.load(str(tmp))
        del proto.metadata_props[:]
        proto.metadata_props.add(key=META_KEY, value=json.dumps(meta, sort_keys=True))
        proto.doc_string = (f"cnnlab THSR captcha reader ({model.name}); read with "
                            "experiments/captcha/light.py (metadata key cnnlab.captcha)")
        onnx.save(proto, str(tmp))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return meta


def compare(model, onnx_path: Path, x: np.ndarray) -> dict:
    """Keras and the export through the light reader's own runner on the
    same inputs: the largest probability difference and how often they read
    the same characters."""
    from experiments.captcha.recognizer import OnnxReader

    reader = OnnxReader(onnx_path, threads=os.cpu_count() or 1)
    k = _keras_heads(model, x)
    o = np.concatenate([reader._probs(x[i:i + 512]) for i in range(0, len(x), 512)]) if len(x) else k
    same = k.argmax(-1) == o.argmax(-1)
    diff = float(np.abs(k - o).max()) if len(x) else 0.0
    agreement = float(same.all(1).mean()) if len(x) else 1.0
    return {"n": int(len(x)), "max_abs_diff": diff, "agreement": agreement,
            "char_agreement": float(same.mean()) if len(x) else 1.0, "tolerance": TOLERANCE,
            "passed": bool(diff <= TOLERANCE and agreement == 1.0)}


def _write_record(run_dir: Path, record: dict) -> None:
    tmp = run_dir / f".{RECORD}.tmp"
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, run_dir / RECORD)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for name in ("keras", "tf2onnx", "onnx", "onnxruntime"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def export_run(model, x_test: np.ndarray, run_dir: Path, data_cfg: dict | None) -> dict:
    """The training hook: model.onnx in the run folder, checked against Keras
    on the whole test split, the check in onnx.json. A failure (no tf2onnx,
    another backend) costs only the light reader: it is recorded and the run
    goes on; an old export is never left beside a new model."""
    run_dir = Path(run_dir)
    out = run_dir / "model.onnx"
    out.unlink(missing_ok=True)
    record = {"onnx_file": out.name, "keras_sha1": None, "written_by": "training (experiments/captcha/task.py)",
              "exported": _now(), "versions": _versions()}
    try:
        if not data_cfg or "preprocess" not in data_cfg:
            raise ValueError("the run's data config names no preprocessing")
        export(model, out, data_cfg["preprocess"], data_cfg.get("preprocess_options", {}),
               source=f"{run_dir.parent.name}/{run_dir.name}/model.keras")
        record.update(compare(model, out, x_test), data="the run's test split")
        if not record["passed"]:
            record["why"] = (f"max |diff| {record['max_abs_diff']:.2e}, "
                             f"{record['agreement']:.2%} of images read the same")
    except Exception as e:  # noqa: BLE001 - the export is an extra, never the run's failure
        out.unlink(missing_ok=True)
        record.update(passed=False, why=f"not exported: {type(e).__name__}: {str(e)[:300]}")
    _write_record(run_dir, record)
    return record


def _check_inputs(keras_path: Path, cfg: dict | None, data_dir=None):
    """(x, what it is): the run's test split preprocessed as it was for
    training when the data is here, else 256 synthetic captchas."""
    from experiments.captcha.preprocess import get_preprocessor
    if cfg:
        what = "the run's test split" if "dataset" in cfg else "the held-out test split (the model has no run config)"
        try:
            from experiments.captcha import data as cd
            _, _, test = cd.config_split(cfg, data_dir)
            if cfg.get("test_limit"):
                test = test[:cfg["test_limit"]]
            x = cd.preprocess_items(test, cfg["preprocess"], cfg.get("preprocess_options", {}))
            return x.astype("float32") / 255, what
        except (FileNotFoundError, OSError, ValueError):
            pass
    from experiments.captcha.synth import make_captcha
    fn = get_preprocessor(cfg["preprocess"], **cfg.get("preprocess_options", {})) if cfg else None
    rng = np.random.default_rng(0)
    imgs = [make_captcha(rng)[0] for _ in range(256)]
    return np.stack([fn(i) for i in imgs]) if fn else None, "256 synthetic captchas (the real ones are not here)"


def export_file(keras_path, out=None, data_dir=None) -> dict:
    """`python -m experiments.captcha export-onnx`: a saved model's export beside it
    (or at `out`), checked against Keras on its run's test split."""
    from experiments.captcha.recognizer import Recognizer, onnx_beside

    keras_path = Path(keras_path)
    rec = Recognizer(keras_path)
    out = Path(out) if out else onnx_beside(keras_path)
    cfg_file = keras_path.parent / "config.json"
    cfg = None
    if cfg_file.is_file():
        try:
            cfg = json.loads(cfg_file.read_text())["data"]
        except (ValueError, KeyError):
            cfg = None
    cfg = cfg or {"preprocess": rec.preprocess_name, "preprocess_options": rec.preprocess_options}
    try:
        source = str(keras_path.resolve().relative_to(Path(__file__).resolve().parents[2] / "runs"))
    except ValueError:
        source = keras_path.name
    export(rec.model, out, rec.preprocess_name, rec.preprocess_options, source=source)
    x, what = _check_inputs(keras_path, cfg, data_dir)
    record = {"onnx_file": out.name, "keras_sha1": None, "written_by": "python -m experiments.captcha export-onnx",
              "exported": _now(), "versions": _versions()}
    if out.parent == keras_path.parent:
        import hashlib
        record["keras_sha1"] = hashlib.sha1(keras_path.read_bytes()).hexdigest()
    record.update(compare(rec.model, out, x), data=what)
    if not record["passed"]:
        record["why"] = f"max |diff| {record['max_abs_diff']:.2e}, {record['agreement']:.2%} of images read the same"
    _write_record(out.parent, record)
    return record
