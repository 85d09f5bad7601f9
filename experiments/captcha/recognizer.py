"""Load a captcha model once and read captchas with it: the path shared by the
command line and the demo page.

`open_reader(path)` gives the lightest reader for a model: `OnnxReader` for
an .onnx file or a .keras file with its current ONNX export beside it
(onnxruntime; no TensorFlow, no Keras; the preprocessing from the export's
own metadata), else `Recognizer` (Keras). A cold `predict` goes lighter
still (experiments/captcha/light.py: ColdReader).

A Keras model file knows its layers but not how its input was prepared, so
the preprocessing is taken from the run's config.json beside the model when
there is one, otherwise from the registered model's name (captcha_seed1 ->
nopre, ...), with the input size read from the model itself.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from experiments.captcha.labels import ALPHABET, N_CHARS, decode
from experiments.captcha.light import ModelNotFound, _first_line  # noqa: F401 (ModelNotFound lives on here)
from experiments.captcha.preprocess import (CaptchaImageError, get_batch_preprocessor, get_preprocessor, load_image,
                                            trim_border)

# The committed default model: a run of our own pipeline (see README), seed 0
# of our best captcha experiment by rule, so no test figure picked it. Its
# ONNX export (model.onnx, checked against it: onnx.json) sits beside it.
# Defined in light.py (the cold path finds it without numpy); the readers
# here look it up in this module, so a test may replace it here.
from experiments.captcha.light import DEFAULT_MODEL, DEFAULT_RUN, REPO_ROOT, child_env  # noqa: E402,F401


@dataclass
class Reading:
    text: str                 # four upper-case characters
    confidence: np.ndarray    # (4,) probability of each chosen character
    probs: np.ndarray         # (4, 19)


def _why_not_loadable(path: Path, e: Exception) -> str:
    """Why Keras could not load a file, in plain words: Keras says "File not
    found" of any .keras file that is not a zip archive, so look first."""
    import zipfile

    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        return "a .keras model is a zip archive; this file is not one, or is damaged or cut short"
    if isinstance(e, zipfile.BadZipFile) or "zip" in str(e).lower():
        return "the file is damaged or cut short"
    return _first_line(e)


def _preprocessing_for(model, model_path: Path):
    import json

    from experiments.captcha.models import PREPROCESSING

    cfg_file = model_path.parent / "config.json"
    if cfg_file.is_file():
        try:
            data = json.loads(cfg_file.read_text())["data"]
            return data["preprocess"], data.get("preprocess_options", {})
        except (ValueError, KeyError):
            pass  # not a run's config: fall back to the model's own shape
    h, w, c = model.input_shape[1:]
    name = PREPROCESSING.get(model.name) or ("nopre" if c == 3 else "grey")
    return name, ({"height": h, "width": w} if name == "grey" else {})


class Reader:
    """What every reader shares: trimming, preprocessing, single and batched
    reading. A subclass sets path, preprocess_name, preprocess_options,
    model_preprocess and trim_borders, and gives `_probs`: preprocessed batch
    -> (N, 4, 19) probabilities."""

    runner = "?"

    def _probs(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fast_single(self) -> bool:
        """Prepare the fastest runner for single uploads; True when there is one."""
        return False

    def trimmed(self, rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """The upload without a plain added margin (a no-op on every real
        captcha, see trim_border) and the (top, bottom, left, right) pixels
        taken off; untouched when trim_borders is off."""
        return trim_border(rgb) if self.trim_borders else (rgb, (0, 0, 0, 0))

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """What the model reads: the trimmed upload through the model's own
        preprocessing, the one it was trained with."""
        return self.model_preprocess(self.trimmed(rgb)[0])

    def preprocess_many(self, rgbs: list[np.ndarray]) -> list[np.ndarray]:
        """preprocess for many images at once: the same inputs (the batch
        preprocessing is tested equal to one at a time), in a fraction of the
        time when the arc is undone."""
        batch = get_batch_preprocessor(self.preprocess_name, **self.preprocess_options)
        return batch([self.trimmed(r)[0] for r in rgbs])

    def read_arrays(self, x: np.ndarray) -> list[Reading]:
        """Preprocessed batch -> readings."""
        probs = self._probs(x)
        idx = probs.argmax(-1)
        conf = probs.max(-1)
        return [Reading(decode(i), c, p) for i, c, p in zip(idx, conf, probs)]

    def read(self, source) -> Reading:
        """One image (path, bytes or file object). Raises CaptchaImageError."""
        return self.read_arrays(self.preprocess(load_image(source))[None])[0]

    def _prepared(self, src):
        """The model's input for one image, or the CaptchaImageError saying why not."""
        return _prepare(src, self.preprocess)

    def _prepared_many(self, sources: list) -> list:
        """_prepared of each source, the preprocessing run over them as one batch."""
        return _prepare_many(sources, self.trim_borders,
                             get_batch_preprocessor(self.preprocess_name, **self.preprocess_options),
                             self.preprocess)

    def _read_prepared(self, arrays: list) -> list:
        good = [a for a in arrays if not isinstance(a, Exception)]
        readings = iter(self.read_arrays(np.stack(good)) if good else [])
        return [a if isinstance(a, Exception) else next(readings) for a in arrays]

    def read_many(self, sources, batch_size: int = 256, workers: int | None = None):
        """Readings (or the CaptchaImageError) for many images, decoded on a
        few threads (PIL releases the GIL) and predicted in batches. A few
        images are read on this thread alone: starting threads would cost
        more than it saves (the command line's one-image start)."""
        sources = list(sources)
        if len(sources) <= 4:
            return self._read_prepared([self._prepared(s) for s in sources])
        if (self.preprocess_options.get("undo_arc") and len(sources) >= PROCESSES_FROM
                and all(isinstance(s, (str, os.PathLike, bytes)) for s in sources)):
            # One core for the model here, the others preparing: on 2 cores
            # one worker reads 1,260-1,320 images/s where two, sharing the
            # model's core, read 1,080-1,110 (3,000 captchas, 2026-12-07).
            return self._read_many_in_processes(sources, batch_size, workers or max(1, (os.cpu_count() or 2) - 1))
        workers = workers or 2
        from concurrent.futures import ThreadPoolExecutor

        out = []
        batches = [sources[i:i + batch_size] for i in range(0, len(sources), batch_size)]
        # Split each batch over the workers and keep the next batch decoding
        # while the model reads the current one (both release the GIL).
        chunk = max(1, -(-batch_size // workers))
        with ThreadPoolExecutor(workers + 1) as pool:
            def submit(batch):
                return [pool.submit(self._prepared_many, batch[i:i + chunk]) for i in range(0, len(batch), chunk)]

            pending = submit(batches[0]) if batches else None
            for k in range(len(batches)):
                arrays = [a for f in pending for a in f.result()]
                pending = submit(batches[k + 1]) if k + 1 < len(batches) else None
                out.extend(self._read_prepared(arrays))
        return out


    def _read_many_in_processes(self, sources: list, batch_size: int, workers: int) -> list:
        """read_many for a preprocessing that costs about as much as the
        network: undo_arc (0.4 ms a captcha, batched) plus decoding and
        trimming (0.3 ms) against the network's 0.7 ms. The images are
        prepared in `workers` fresh processes
        (experiments/captcha/prepare_worker.py), chunk k by worker k mod
        workers, while the model reads here. Each worker has a thread here
        that keeps AHEAD chunks queued to it and takes each answer as soon as
        it is written, so a worker never waits on the model (answers read
        between batches on this thread left the workers waiting: 3,000
        captchas on 2 cores, 978-985 images/s then, 1,034-1,089 with the
        threads). A chunk whose worker failed is prepared here instead, so
        a broken worker costs time, never a reading."""
        import pickle
        import subprocess
        import sys
        import threading
        from concurrent.futures import Future

        job = (self.preprocess_name, self.preprocess_options, self.trim_borders)
        chunks = [sources[i:i + PROCESS_CHUNK] for i in range(0, len(sources), PROCESS_CHUNK)]
        env = child_env()
        env.setdefault("OPENBLAS_NUM_THREADS", "1")  # a worker's numpy does no linear algebra worth a thread pool
        procs = []
        for _ in range(min(workers, len(chunks))):
            try:
                # in the caller's folder: the sources may be relative paths
                procs.append(subprocess.Popen([sys.executable, *WORKER_ARGS],
                                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env))
            except OSError:
                break
        answers = [Future() for _ in chunks]  # None: prepare that chunk here

        def serve(w):  # worker w's chunks: w, w + len(procs), ...
            mine = list(range(w, len(chunks), len(procs)))
            proc = procs[w]
            try:
                pickle.dump(job, proc.stdin)
                for i, k in enumerate(mine):
                    if i == 0:
                        for j in mine[:AHEAD]:
                            pickle.dump(chunks[j], proc.stdin)
                        proc.stdin.flush()
                    prepared = pickle.load(proc.stdout)
                    if not (isinstance(prepared, list) and len(prepared) == len(chunks[k])):
                        break
                    answers[k].set_result(prepared)
                    if i + AHEAD < len(mine):
                        pickle.dump(chunks[mine[i + AHEAD]], proc.stdin)
                        proc.stdin.flush()
            except Exception:  # noqa: BLE001 - a dead or confused worker: its chunks are prepared here
                pass
            finally:
                for k in mine:
                    if not answers[k].done():
                        answers[k].set_result(None)

        servers = [threading.Thread(target=serve, args=(w,), daemon=True) for w in range(len(procs))]
        out, arrays = [], []
        try:
            if not procs:
                return self._read_prepared(self._prepared_many(sources))
            for t in servers:
                t.start()
            for k in range(len(chunks)):
                prepared = answers[k].result()
                arrays.extend(prepared if prepared is not None else self._prepared_many(chunks[k]))
                while len(arrays) >= batch_size:
                    out.extend(self._read_prepared(arrays[:batch_size]))
                    arrays = arrays[batch_size:]
        finally:  # end of input ends a waiting worker; a closed output, one still answering
            for p in procs:
                for pipe in (p.stdin, p.stdout):
                    try:
                        pipe.close()
                    except OSError:
                        pass
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            for t in servers:
                if t.is_alive():
                    t.join(timeout=10)
        return out + (self._read_prepared(arrays) if arrays else [])


PROCESSES_FROM = 200   # fewer images than this are not worth starting processes for (~0.3 s each)
PROCESS_CHUNK = 64     # images a worker prepares per task
AHEAD = 2              # chunks queued to a worker at once, so it never waits for the next
WORKER_ARGS = ("-m", "experiments.captcha.prepare_worker")  # after sys.executable


def _prepare(src, preprocess):
    """The model's input for one image through `preprocess` (rgb -> input),
    or the CaptchaImageError saying why not."""
    try:
        rgb = load_image(src)
    except CaptchaImageError as e:
        return e
    return _prepare_rgb(rgb, preprocess)


def _prepare_rgb(rgb, preprocess):
    try:
        return preprocess(rgb)
    except Exception:  # noqa: BLE001 - one odd image never stops the batch
        return CaptchaImageError("the image opened but could not be prepared for the model")


def _prepare_many(sources: list, trim: bool, batch_fn, one_fn) -> list:
    """_prepare of each source, batch_fn (a list of RGB arrays -> their
    inputs) run once over every image that opened; should the batch fail,
    each image goes through one_fn on its own, so one odd image never stops
    the others."""
    rgbs = []
    for src in sources:
        try:
            rgbs.append(load_image(src))
        except CaptchaImageError as e:
            rgbs.append(e)
    good = [r for r in rgbs if not isinstance(r, Exception)]
    try:
        done = iter(batch_fn([trim_border(r)[0] for r in good] if trim else good))
        return [r if isinstance(r, Exception) else next(done) for r in rgbs]
    except Exception:  # noqa: BLE001 - find the image that fails, and read the rest
        return [r if isinstance(r, Exception) else _prepare_rgb(r, one_fn) for r in rgbs]


def _prepare_chunk(sources: list, job: tuple) -> list:
    """A worker process's share of read_many: (name, options, trim_borders)
    is the reader's preprocessing."""
    name, options, trim = job
    fn = get_preprocessor(name, **options)
    return _prepare_many(sources, trim, get_batch_preprocessor(name, **options),
                         (lambda rgb: fn(trim_border(rgb)[0])) if trim else fn)


class Recognizer(Reader):
    """The reader through Keras (TensorFlow or JAX): any .keras captcha model,
    also one without an ONNX export. Importing Keras costs seconds and
    hundreds of MB; `open_reader` gives the light ONNX reader instead when
    the model has one."""

    runner = "keras"

    def __init__(self, model_path=None, trim_borders: bool = True):
        self.path = Path(model_path) if model_path else DEFAULT_MODEL
        if not self.path.is_file():
            hint = ("the default model is committed with the repository; is the checkout complete?"
                    if model_path is None else "give the path of a .keras file")
            raise ModelNotFound(f"no model at {self.path} ({hint})")
        import keras

        import experiments.captcha.models  # noqa: F401  registers our custom layers (RandomFrame) for loading
        try:
            self.model = keras.saving.load_model(self.path, compile=False, safe_mode=True)
        except Exception as e:  # a corrupt or foreign file: say so, do not crash the caller
            why = _why_not_loadable(self.path, e)
            raise ModelNotFound(f"{self.path} is not a loadable Keras model ({why})") from e
        outs = getattr(self.model, "outputs", None) or []  # a saved layer or odd object has none
        if len(outs) != N_CHARS or any(o.shape[-1] != len(ALPHABET) for o in outs):
            raise ModelNotFound(f"{self.path} is not a captcha model "
                                f"(expected {N_CHARS} outputs of {len(ALPHABET)} classes)")
        try:
            self.preprocess_name, self.preprocess_options = _preprocessing_for(self.model, self.path)
            self.model_preprocess = get_preprocessor(self.preprocess_name, **self.preprocess_options)
        except (ValueError, TypeError) as e:  # a run's config.json naming an unknown preprocessing
            raise ModelNotFound(f"{self.path}: its preprocessing cannot be set up ({e})") from e
        self.trim_borders = trim_borders
        self.lite = self.lite_batch = None
        try:
            self.read_arrays(np.zeros((1, *self.model.input_shape[1:]), "float32"))  # warm up
        except Exception as e:  # noqa: BLE001 - loads, but cannot read a captcha-shaped input
            raise ModelNotFound(f"{self.path} loads but cannot read a captcha ({_first_line(e)})") from e

    def fast_single(self) -> bool:
        """Prepare the TensorFlow Lite runners (experiments/captcha/fast.py): one
        thread for single uploads, all cores for batches; a one-off conversion
        of a few seconds per model file, cached on disk. Without it everything
        runs through Keras."""
        if self.lite is None:
            from experiments.captcha.fast import LiteRunner
            self.lite = LiteRunner.create(self.model, self.path) or False
            self.lite_batch = self.lite and self.lite.with_threads(os.cpu_count() or 1)
            if self.lite:
                self.runner = "tflite"
        return bool(self.lite)

    def _probs(self, x: np.ndarray) -> np.ndarray:
        """Through TensorFlow Lite when fast_single() prepared it (one image:
        ~3x less time per upload; batches: ~2.5x faster), else
        predict_on_batch, which runs the compiled graph without
        Model.predict's per-call set-up."""
        if self.lite:
            probs = self.lite(x) if len(x) == 1 else (self.lite_batch or self.lite)(x)
        else:
            probs = self.model.predict_on_batch(x)
        if isinstance(probs, dict):
            probs = [probs[k] for k in sorted(probs)]
        return np.stack([np.asarray(p) for p in probs], axis=1)  # (N, 4, 19)


class OnnxReader(Reader):
    """A captcha model's ONNX export (experiments/captcha/light.py), read by
    onnxruntime: no TensorFlow, no Keras, the preprocessing named in the
    file's own metadata. Runs through onnxruntime's C API (light.CSession)
    where it is available, else its Python binding; either way one session on
    `threads` CPU threads serves every caller, from any thread at once. One
    thread is the fastest for a single upload; read_many keeps both cores
    busy by decoding the next batch while the model reads this one."""

    runner = "onnxruntime"

    def __init__(self, model_path, trim_borders: bool = True, threads: int = 1, csession=None, data=None,
                 binding: bool = False):
        from experiments.captcha import light

        self.path = Path(model_path)
        if not self.path.is_file():
            raise ModelNotFound(f"no model at {self.path} (give the path of a .onnx or .keras file)")
        try:
            data = data if data is not None else self.path.read_bytes()
            props = light.onnx_metadata(data)
        except OSError as e:
            raise ModelNotFound(f"{self.path} cannot be read ({_first_line(e)})") from e
        except ValueError as e:
            raise ModelNotFound(f"{self.path} is not a loadable ONNX model (the file is not an ONNX "
                                "model, or is damaged or cut short)") from e
        self.meta = light.check_metadata(props.get(light.META_KEY), self.path)
        self.input, self.outputs = self.meta["input"], list(self.meta["outputs"])
        self.threads = threads
        self.csession = csession
        self.session = None
        try:
            if self.csession is None and not binding:  # binding=True: the Python binding (tests)
                self.csession = light.c_session(data, threads)
            if self.csession is None:
                self.session = self._binding_session(threads)
        except light.OrtError as e:
            raise ModelNotFound(f"{self.path} is not a loadable ONNX model ({light.plain_ort_error(e)})") from e
        if self.csession:
            self.runner = "onnxruntime (C API)"
        self.preprocess_name = self.meta["preprocess"]
        self.preprocess_options = dict(self.meta.get("preprocess_options") or {})
        try:
            self.model_preprocess = get_preprocessor(self.preprocess_name, **self.preprocess_options)
        except (ValueError, TypeError) as e:
            raise ModelNotFound(f"{self.path}: its preprocessing cannot be set up ({e})") from e
        self.trim_borders = trim_borders

    def _binding_session(self, threads: int):
        """The same model through onnxruntime's Python binding."""
        from experiments.captcha import light
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise ModelNotFound(f"{self.path}: onnxruntime is not installed, so an ONNX model cannot "
                                "be read here (pip install -r requirements-reader.txt)") from e
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        if threads > 1:
            opts.add_session_config_entry(*light.NO_SPINNING)
        opts.log_severity_level = 3  # its warnings are for developers, not for our stderr
        try:
            session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - a damaged or foreign file
            raise ModelNotFound(f"{self.path} is not a loadable ONNX model ({light.plain_ort_error(e)})") from e
        names = {o.name for o in session.get_outputs()}
        if not set(self.outputs) <= names or self.input not in {i.name for i in session.get_inputs()}:
            raise ModelNotFound(f"{self.path}: its metadata names inputs and outputs the graph does not have")
        self.runner = "onnxruntime (Python binding)"
        return session

    def fast_single(self) -> bool:
        return True  # already the fastest runner for one upload

    def warm_up(self) -> None:
        """One zero image through the session (its first run plans memory)."""
        self._probs(np.zeros((1, *self.meta["input_shape"]), "float32"))

    def _probs(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self.csession is not None:
            heads = [np.frombuffer(b, np.float32).reshape(len(x), -1)
                     for b in self.csession.run(self.input, self.outputs, x.ctypes.data, x.shape)]
        else:
            heads = self.session.run(self.outputs, {self.input: x})
        return np.stack(heads, axis=1)  # (N, 4, 19)


def onnx_beside(model_path) -> Path:
    """Where a .keras model's ONNX export lives: model.onnx beside model.keras."""
    return Path(model_path).with_suffix(".onnx")


def open_reader(model_path=None, trim_borders: bool = True, note=None, threads: int = 1) -> Reader:
    """The lightest reader for a model: an .onnx file, or a .keras file with
    a current ONNX export beside it, is read by onnxruntime (no TensorFlow,
    no Keras: OnnxReader); any other .keras file through Keras. If the
    export beside a .keras file cannot be read, Keras reads the model.
    `note(text)` is told why Keras had to be used and how to make the
    export. Raises ModelNotFound with the reason in words."""
    from experiments.captcha.light import onnx_for

    path = Path(model_path) if model_path else DEFAULT_MODEL
    onnx, why = onnx_for(path)
    if path.suffix == ".onnx":
        return OnnxReader(path, trim_borders=trim_borders, threads=threads)
    if onnx is not None:
        try:
            return OnnxReader(onnx, trim_borders=trim_borders, threads=threads)
        except ModelNotFound as e:
            why = f"its ONNX export cannot be read ({e})"
    rec = Recognizer(path if model_path else None, trim_borders=trim_borders)
    if note and why:
        note(f"{path} is read through Keras, which takes seconds to start: {why}; "
             f"`python -m experiments.captcha export-onnx --model {path}` writes the export "
             "that the light reader uses")
    return rec


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t


def full_reader(path, csession, data) -> "OnnxReader":
    """light.ColdReader's full reader, for a file it does not prepare itself
    (the same ONNX session; numpy's preprocessing)."""
    return OnnxReader(path, csession=csession, data=data)
