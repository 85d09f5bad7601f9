"""Load a captcha model once and read captchas with it: the path shared by the
command line and the demo page.

A model file knows its layers but not how its input was prepared, so the
preprocessing is taken from the run's config.json beside the model when there
is one, otherwise from the registered model's name (captcha_seed1 -> nopre,
...), with the input size read from the model itself.
"""
from __future__ import annotations

import json
import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.captcha import ALPHABET, N_CHARS, decode
from core.captcha.preprocess import CaptchaImageError, get_preprocessor, load_image, trim_border
from core.records import REPO_ROOT

# The committed default model: a run of our own pipeline (see README), seed 0
# of our best captcha experiment by rule, so no test figure picked it.
DEFAULT_RUN = "captcha-net-clean/s0-5d52a22d"
DEFAULT_MODEL = REPO_ROOT / "runs" / DEFAULT_RUN / "model.keras"


class ModelNotFound(FileNotFoundError):
    pass


@dataclass
class Reading:
    text: str                 # four upper-case characters
    confidence: np.ndarray    # (4,) probability of each chosen character
    probs: np.ndarray         # (4, 19)


def _first_line(e: Exception, limit: int = 200) -> str:
    text = (str(e).strip().splitlines() or ["no detail given"])[0]
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _why_not_loadable(path: Path, e: Exception) -> str:
    """Why Keras could not load a file, in plain words: Keras says "File not
    found" of any .keras file that is not a zip archive, so look first."""
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        return "a .keras model is a zip archive; this file is not one, or is damaged or cut short"
    if isinstance(e, zipfile.BadZipFile) or "zip" in str(e).lower():
        return "the file is damaged or cut short"
    return _first_line(e)


def _preprocessing_for(model, model_path: Path):
    from core.captcha.models import PREPROCESSING

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


class Recognizer:
    def __init__(self, model_path=None, trim_borders: bool = True):
        import keras

        import core.captcha.models  # noqa: F401  registers our custom layers (RandomFrame) for loading
        self.path = Path(model_path) if model_path else DEFAULT_MODEL
        if not self.path.is_file():
            hint = ("the default model is committed with the repository; is the checkout complete?"
                    if model_path is None else "give the path of a .keras file")
            raise ModelNotFound(f"no model at {self.path} ({hint})")
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
        """Prepare the TensorFlow Lite runners (core/captcha/fast.py): one
        thread for single uploads, all cores for batches; a one-off conversion
        of a few seconds per model file, cached on disk. The app and the
        benchmark call it when they load a model; without it everything runs
        through Keras."""
        if self.lite is None:
            from core.captcha.fast import LiteRunner
            self.lite = LiteRunner.create(self.model, self.path) or False
            self.lite_batch = self.lite and self.lite.with_threads(os.cpu_count() or 1)
        return bool(self.lite)

    def trimmed(self, rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """The upload without a plain added margin (a no-op on every real
        captcha, see trim_border) and the (top, bottom, left, right) pixels
        taken off; untouched when trim_borders is off."""
        return trim_border(rgb) if self.trim_borders else (rgb, (0, 0, 0, 0))

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """What the model reads: the trimmed upload through the model's own
        preprocessing, the one it was trained with."""
        return self.model_preprocess(self.trimmed(rgb)[0])

    def read_arrays(self, x: np.ndarray) -> list[Reading]:
        """Preprocessed batch -> readings: through TensorFlow Lite when
        fast_single() prepared it (one image: ~3x less time per upload;
        batches: ~2.5x faster), else predict_on_batch, which runs the
        compiled graph without Model.predict's per-call set-up."""
        if self.lite:
            probs = self.lite(x) if len(x) == 1 else (self.lite_batch or self.lite)(x)
        else:
            probs = self.model.predict_on_batch(x)
        if isinstance(probs, dict):
            probs = [probs[k] for k in sorted(probs)]
        probs = np.stack([np.asarray(p) for p in probs], axis=1)  # (N, 4, 19)
        idx = probs.argmax(-1)
        conf = probs.max(-1)
        return [Reading(decode(i), c, p) for i, c, p in zip(idx, conf, probs)]

    def read(self, source) -> Reading:
        """One image (path, bytes or file object). Raises CaptchaImageError."""
        return self.read_arrays(self.preprocess(load_image(source))[None])[0]

    def read_many(self, sources, batch_size: int = 256, workers: int = 2):
        """Readings (or the CaptchaImageError) for many images, decoded on a
        few threads (PIL releases the GIL) and predicted in batches."""
        def prep(src):
            try:
                rgb = load_image(src)
            except CaptchaImageError as e:
                return e
            try:
                return self.preprocess(rgb)
            except Exception:  # noqa: BLE001 - one odd image never stops the batch
                return CaptchaImageError("the image opened but could not be prepared for the model")

        def prep_batch(batch):
            return [prep(s) for s in batch]

        out = []
        sources = list(sources)
        batches = [sources[i:i + batch_size] for i in range(0, len(sources), batch_size)]
        # Split each batch over the workers and keep the next batch decoding
        # while the model reads the current one (both release the GIL).
        chunk = max(1, -(-batch_size // workers))
        with ThreadPoolExecutor(workers + 1) as pool:
            def submit(batch):
                return [pool.submit(prep_batch, batch[i:i + chunk]) for i in range(0, len(batch), chunk)]

            pending = submit(batches[0]) if batches else None
            for k in range(len(batches)):
                arrays = [a for f in pending for a in f.result()]
                pending = submit(batches[k + 1]) if k + 1 < len(batches) else None
                good = [a for a in arrays if not isinstance(a, Exception)]
                readings = iter(self.read_arrays(np.stack(good)) if good else [])
                out.extend(a if isinstance(a, Exception) else next(readings) for a in arrays)
        return out


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t
