"""TensorFlow Lite runners for the upload path and for batches.

Keras's predict_on_batch costs ~4-6 ms per call on 2 cores for our small
model, most of it per-call overhead of the TensorFlow runtime, not
arithmetic. The same graph converted to TensorFlow Lite and run by its
XNNPACK CPU kernels on one thread takes ~1.4 ms (same outputs to 1e-6). The
conversion (~4 s) happens once per model file: the flatbuffer is cached
beside the preprocessing cache, keyed by the model file's bytes.

Batches run through a second interpreter on all cores: 3,000 test captchas
in 1.9 s at 256 a batch on 2 idle cores, against 5.0 s for Keras's
predict_on_batch (captcha-net, 2026-11-24), which had pulled end-to-end
throughput down to ~500 images per second. Where TensorFlow Lite is
unavailable (another Keras backend, a TensorFlow without tf.lite),
`LiteRunner.create` returns None and callers fall back to Keras.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import threading
import warnings
from pathlib import Path

import numpy as np

from core.datadir import cache_dir


class LiteRunner:
    def __init__(self, flatbuffer: bytes, threads: int = 1):
        import tensorflow as tf

        # tf.lite.Interpreter announces its move to the ai-edge-litert package;
        # TensorFlow is pinned and still ships it, and create() falls back to
        # Keras the day it does not.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            self.interp = tf.lite.Interpreter(model_content=flatbuffer, num_threads=threads)
        self.flatbuffer = flatbuffer
        self.interp.allocate_tensors()
        # One interpreter is shared by every session of the app (st.cache_resource)
        # and is not thread-safe: one call at a time.
        self.lock = threading.Lock()
        detail = self.interp.get_input_details()[0]
        self.input, self.batch = detail["index"], int(detail["shape"][0])
        self.outputs = [o["index"] for o in self.interp.get_output_details()]

    def _match(self, model) -> bool:
        """The converter may list the four heads in another order: put them in
        the Keras model's order by comparing outputs on a probe image, and
        refuse (fall back to Keras) if they do not agree."""
        probe = np.random.default_rng(0).random((1, *model.input_shape[1:]), dtype=np.float32)
        want = [np.asarray(p) for p in model.predict_on_batch(probe)]
        got = self(probe)
        order = [int(np.argmin([np.abs(g - w).max() for g in got])) for w in want]
        if sorted(order) != list(range(len(want))):
            return False
        self.outputs = [self.outputs[i] for i in order]
        return all(np.abs(g - w).max() < 1e-4 for g, w in zip(self(probe), want))

    @classmethod
    def create(cls, model, model_path: Path):
        try:
            import keras
            if keras.backend.backend() != "tensorflow":
                return None
            import tensorflow as tf
            if not hasattr(tf, "lite"):
                return None
            key = hashlib.sha1(Path(model_path).read_bytes()).hexdigest()[:16]
            cache = cache_dir() / f"captcha-lite-{key}.tflite"
            if cache.is_file():
                flat = cache.read_bytes()
            else:
                # The converter prints its export summary on stdout, which the
                # predict command's readers parse: keep it off.
                with contextlib.redirect_stdout(io.StringIO()):
                    flat = tf.lite.TFLiteConverter.from_keras_model(model).convert()
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(flat)
                os.replace(tmp, cache)
            runner = cls(flat)
            return runner if runner._match(model) else None
        except Exception:  # any failure here only costs speed: use Keras
            return None

    def with_threads(self, threads: int) -> "LiteRunner":
        """A second interpreter of the same converted model on `threads`
        threads, its heads already in this one's (checked) order."""
        runner = type(self)(self.flatbuffer, threads)
        runner.outputs = list(self.outputs)
        return runner

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        """Preprocessed images (N, H, W, C) -> the four heads' probabilities."""
        with self.lock:
            if len(x) != self.batch:  # re-plan for this batch size (cheap; kept until it changes)
                self.interp.resize_tensor_input(self.input, [len(x), *x.shape[1:]])
                self.interp.allocate_tensors()
                self.batch = len(x)
            self.interp.set_tensor(self.input, np.ascontiguousarray(x, dtype=np.float32))
            self.interp.invoke()
            return [self.interp.get_tensor(i) for i in self.outputs]
