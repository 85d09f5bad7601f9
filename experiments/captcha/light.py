"""The light reader: a captcha model's ONNX export read by onnxruntime, with
no TensorFlow and no Keras (issue 24). This module itself imports neither
numpy nor onnxruntime's Python package.

`python -m experiments.captcha predict one.jpg` through Keras takes 6.5-7.3 s and
713 MiB from a cold process, nearly all of it importing TensorFlow and
loading the model. `import numpy, PIL.Image, onnxruntime` alone takes
0.13-0.25 s on our 2-core machine (numpy ~0.1 s of CPU, onnxruntime's Python
binding ~0.04 s), about half of what ddddocr needs to read a captcha. So a cold `predict` reads an
ordinary captcha with Pillow alone and runs the model through onnxruntime's
own C library (`libonnxruntime`, shipped in the same wheel) by ctypes:
`ColdReader`. Anything out of the ordinary (a margin to trim, an unusual
pixel format, a file that fails to open, a preprocessing other than `grey`)
goes to the full reader (`recognizer.OnnxReader`: numpy, the project's own
preprocessing, the same session), so every reading and every refusal is the
full reader's. README ("Captchas") has the measured figures.

The export (`model.onnx` beside `model.keras`, experiments/captcha/onnx_export.py)
carries what a reader needs in its metadata (`META_KEY`, JSON): the
preprocessing and its options from the run's config.json, the alphabet, the
input's name and the four heads' names in the Keras model's order. Its
check against Keras (same readings on the whole test split, probabilities
within 1e-4) is recorded beside it in onnx.json, with the SHA-1 of the
.keras file it was exported from when that file existed at the time.
"""
from __future__ import annotations

import ctypes as C
import json
import os
import stat
import sys
import threading
from pathlib import Path

from experiments.captcha.labels import ALPHABET, N_CHARS

# The committed default model (recognizer.py says more), here so that the
# cold path finds it without importing numpy.
REPO_ROOT = Path(__file__).resolve().parents[2]
# captcha-net-xsrc seed 0: both sources, the arc undone, labels cleaned by
# models that never saw the image (configs.py). The previous default,
# captcha-net-clean/s0-5d52a22d, stays committed for comparison.
DEFAULT_RUN = "captcha-net-xsrc/s0-65696e45"
DEFAULT_MODEL = REPO_ROOT / "runs" / DEFAULT_RUN / "model.keras"


def child_env() -> dict:
    """This process's environment for a child `python -m experiments...`
    run from any folder: this checkout first on PYTHONPATH."""
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


META_KEY = "cnnlab.captcha"   # the ONNX metadata_props entry: JSON, see onnx_export.metadata
RECORD = "onnx.json"          # the export's check against Keras, beside model.onnx
FORMAT = 1

# experiments/captcha/preprocess.py's limits and border thresholds (that module
# imports numpy); tests/test_light_reader.py checks that they agree.
MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 1000
ASPECT = (1.2, 6.0)
BORDER_STD, BORDER_DIFF = 14.0, 8.0
# The fast path decides "no margin" only this far from a threshold; nearer,
# the full reader decides (numpy computes in float32, Pillow in float64).
BORDER_MARGIN = 0.05


class ModelNotFound(FileNotFoundError):
    """A model that cannot be read: the message says why, in words."""


class OrtError(RuntimeError):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def _first_line(e: Exception, limit: int = 200) -> str:
    text = (str(e).strip().splitlines() or ["no detail given"])[0]
    return text if len(text) <= limit else text[:limit - 3] + "..."


# --- the ONNX file's metadata, without the onnx package -----------------------

def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) of one protobuf message's fields;
    length-delimited values as (start, end) offsets."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = None, i + 8
        elif wire == 5:
            value, i = None, i + 4
        elif wire == 2:
            length, i = _varint(buf, i)
            value, i = (i, i + length), i + length
        else:
            raise ValueError(f"wire type {wire}")
        if i > n:
            raise ValueError("cut short")
        yield field, wire, value


def onnx_metadata(data: bytes) -> dict[str, str]:
    """An ONNX model's metadata_props (ModelProto field 14: key 1, value 2),
    read from the protobuf wire format: the top-level fields only, the graph
    skipped by its length. ValueError if the bytes are not such a message."""
    out = {}
    try:
        for field, wire, value in _fields(data):
            if field == 14 and wire == 2:
                entry = {f: data[value[0]:value[1]][s:e].decode("utf-8")
                         for f, w, v in _fields(data[value[0]:value[1]]) if w == 2 and f in (1, 2)
                         for s, e in [v]}
                out[entry.get(1, "")] = entry.get(2, "")
    except (IndexError, UnicodeDecodeError) as e:
        raise ValueError("not an ONNX model") from e
    return out


def check_metadata(raw: str | None, path) -> dict:
    """The export's metadata, checked; ModelNotFound saying what is wrong."""
    if not raw:
        raise ModelNotFound(f"{path} is an ONNX model without this project's captcha metadata "
                            "(`python -m experiments.captcha export-onnx --model MODEL.keras` writes one)")
    try:
        meta = json.loads(raw)
        if meta.get("format") != FORMAT:
            raise ValueError(f"metadata format {meta.get('format')!r}, this reader reads {FORMAT}")
        if meta["alphabet"] != ALPHABET or meta["n_chars"] != N_CHARS:
            raise ValueError(f"its alphabet is {meta['alphabet']!r} x {meta['n_chars']}, "
                             f"this reader's {ALPHABET!r} x {N_CHARS}")
        if len(meta["outputs"]) != N_CHARS or not meta.get("input") or len(meta["input_shape"]) != 3:
            raise ValueError("its metadata does not name one input and four outputs")
        if not isinstance(meta["preprocess"], str) or not isinstance(meta.get("preprocess_options", {}), dict):
            raise ValueError("its metadata names no preprocessing")
    except (ValueError, KeyError, TypeError) as e:
        raise ModelNotFound(f"{path} is not a captcha model this reader knows ({e})") from e
    return meta


# --- onnxruntime's C API through ctypes ---------------------------------------

_P = C.c_void_p
_PP = C.POINTER(C.c_void_p)
# The functions we call, by their place in onnxruntime_c_api.h's `struct
# OrtApi` (a table of function pointers that only ever grows at its end, so
# these places hold for every release that serves API version 13, 1.13 on).
_SLOTS = {
    "CreateStatus": (0, _P, [C.c_int, C.c_char_p]),
    "GetErrorCode": (1, C.c_int, [_P]),
    "GetErrorMessage": (2, C.c_char_p, [_P]),
    "CreateEnv": (3, _P, [C.c_int, C.c_char_p, _PP]),
    "CreateSessionFromArray": (8, _P, [_P, C.c_char_p, C.c_size_t, _P, _PP]),
    "Run": (9, _P, [_P, _P, C.POINTER(C.c_char_p), _PP, C.c_size_t, C.POINTER(C.c_char_p), C.c_size_t, _PP]),
    "CreateSessionOptions": (10, _P, [_PP]),
    "SetSessionLogSeverityLevel": (22, _P, [_P, C.c_int]),
    "SetSessionGraphOptimizationLevel": (23, _P, [_P, C.c_int]),
    "SetIntraOpNumThreads": (24, _P, [_P, C.c_int]),
    "SetInterOpNumThreads": (25, _P, [_P, C.c_int]),
    "AddSessionConfigEntry": (130, _P, [_P, C.c_char_p, C.c_char_p]),
    "CreateTensorWithDataAsOrtValue": (49, _P, [_P, _P, C.c_size_t, C.POINTER(C.c_int64), C.c_size_t,
                                                C.c_int, _PP]),
    "GetTensorMutableData": (51, _P, [_P, _PP]),
    "GetTensorShapeElementCount": (64, _P, [_P, C.POINTER(C.c_size_t)]),
    "GetTensorTypeAndShape": (65, _P, [_P, _PP]),
    "CreateCpuMemoryInfo": (69, _P, [C.c_int, C.c_int, _PP]),
    "ReleaseStatus": (93, None, [_P]),
    "ReleaseMemoryInfo": (94, None, [_P]),
    "ReleaseSession": (95, None, [_P]),
    "ReleaseValue": (96, None, [_P]),
    "ReleaseTensorTypeAndShapeInfo": (99, None, [_P]),
    "ReleaseSessionOptions": (100, None, [_P]),
}
API_VERSION = 13
ORT_ENABLE_ALL = 99
FLOAT = 1  # ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT
# With more than one thread, onnxruntime's pool spins between the batch's
# operators, on cores our own preparing workers need: 3,000 captchas batched
# on 2 cores, 691 images/s spinning, 871 not (measured, 2026-12-07).
NO_SPINNING = ("session.intra_op.allow_spinning", "0")


def _library() -> str | None:
    """onnxruntime's C library inside the installed onnxruntime package
    (found without importing the package, which would load numpy).
    CNNLAB_ORT_CAPI=0 turns the C API off: onnxruntime's Python binding
    reads the model instead (numpy and ~0.1 s more at a cold start)."""
    if os.environ.get("CNNLAB_ORT_CAPI", "1") == "0":
        return None
    import importlib.util
    try:
        spec = importlib.util.find_spec("onnxruntime")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        capi = os.path.join(folder, "capi")
        try:
            names = sorted(n for n in os.listdir(capi)
                           if n.startswith("libonnxruntime.so") or n in ("libonnxruntime.dylib", "onnxruntime.dll"))
        except OSError:
            continue
        if names:
            return os.path.join(capi, names[-1])
    return None


class _Api:
    """The C API's functions as Python callables (ctypes releases the GIL
    while one runs). One per process."""

    _instance = None
    _lock = threading.Lock()

    @classmethod
    def get(cls) -> "_Api | None":
        """The API, or None where the C library cannot be found or loaded
        (callers then use onnxruntime's Python binding)."""
        with cls._lock:
            if cls._instance is None:
                try:
                    cls._instance = cls(_library())
                except (OSError, AttributeError, OrtError, TypeError, ValueError):
                    cls._instance = False
            return cls._instance or None

    def __init__(self, path: str | None):
        if not path:
            raise OSError("onnxruntime's C library was not found")
        lib = C.CDLL(path)

        class ApiBase(C.Structure):
            _fields_ = [("GetApi", C.CFUNCTYPE(_P, C.c_uint32)), ("GetVersionString", C.CFUNCTYPE(C.c_char_p))]

        lib.OrtGetApiBase.restype = C.POINTER(ApiBase)
        base = lib.OrtGetApiBase().contents
        self.version = base.GetVersionString().decode()
        table = base.GetApi(API_VERSION)
        if not table:
            raise OSError(f"onnxruntime {self.version} does not serve C API version {API_VERSION}")
        slots = (_P * (max(i for i, _, _ in _SLOTS.values()) + 1)).from_address(table)
        self.lib = lib  # keeps the library loaded while the functions live
        for name, (i, res, args) in _SLOTS.items():
            setattr(self, name, C.CFUNCTYPE(res, *args)(slots[i]))
        # A round trip through a status proves the table's places before any session relies on them.
        status = self.CreateStatus(7, b"probe")
        if self.GetErrorCode(status) != 7 or self.GetErrorMessage(status) != b"probe":
            raise OSError("onnxruntime's C API table is not laid out as expected")
        self.ReleaseStatus(status)
        env = _P()
        self.check(self.CreateEnv(3, b"cnnlab", C.byref(env)))  # 3: errors only
        self.env = env
        info = _P()
        self.check(self.CreateCpuMemoryInfo(1, 0, C.byref(info)))  # arena allocator, default memory
        self.cpu = info

    def check(self, status) -> None:
        if status:
            code, message = self.GetErrorCode(status), (self.GetErrorMessage(status) or b"").decode("utf-8", "replace")
            self.ReleaseStatus(status)
            raise OrtError(code, message)


class CSession:
    """One ONNX model in onnxruntime through its C API: `run` takes float32
    input (a buffer's address and the shape) and gives each named output's
    float32 bytes. Safe to call from several threads at once."""

    def __init__(self, api: _Api, model: bytes, threads: int = 1):
        self.api = api
        opts = _P()
        api.check(api.CreateSessionOptions(C.byref(opts)))
        try:
            api.check(api.SetIntraOpNumThreads(opts, threads))
            api.check(api.SetInterOpNumThreads(opts, 1))
            if threads > 1:
                api.check(api.AddSessionConfigEntry(opts, *(v.encode() for v in NO_SPINNING)))
            api.check(api.SetSessionLogSeverityLevel(opts, 3))
            api.check(api.SetSessionGraphOptimizationLevel(opts, ORT_ENABLE_ALL))
            session = _P()
            api.check(api.CreateSessionFromArray(api.env, model, len(model), opts, C.byref(session)))
            self.session = session
        finally:
            api.ReleaseSessionOptions(opts)

    def run(self, inp: str, outputs: list[str], address: int, shape: tuple[int, ...]) -> list[bytes]:
        api = self.api
        dims = (C.c_int64 * len(shape))(*shape)
        nbytes = 4
        for d in shape:
            nbytes *= d
        value = _P()
        api.check(api.CreateTensorWithDataAsOrtValue(api.cpu, address, nbytes, dims, len(shape), FLOAT,
                                                     C.byref(value)))
        outs = (_P * len(outputs))()
        try:
            api.check(api.Run(self.session, None, (C.c_char_p * 1)(inp.encode()), (_P * 1)(value), 1,
                              (C.c_char_p * len(outputs))(*[o.encode() for o in outputs]), len(outputs), outs))
            result = []
            for out in outs:
                info, count, data = _P(), C.c_size_t(), _P()
                api.check(api.GetTensorTypeAndShape(out, C.byref(info)))
                try:
                    api.check(api.GetTensorShapeElementCount(info, C.byref(count)))
                finally:
                    api.ReleaseTensorTypeAndShapeInfo(info)
                api.check(api.GetTensorMutableData(out, C.byref(data)))
                result.append(C.string_at(data.value, 4 * count.value))
            return result
        finally:
            for out in outs:
                if out:
                    api.ReleaseValue(out)
            api.ReleaseValue(value)

    def __del__(self):
        session = getattr(self, "session", None)
        if session and not sys.is_finalizing():  # at exit the process frees it all
            self.api.ReleaseSession(session)
            self.session = None


def c_session(model: bytes, threads: int = 1) -> CSession | None:
    """A session through the C API, or None where that API is unavailable."""
    api = _Api.get()
    return CSession(api, model, threads) if api else None


def plain_ort_error(e: Exception) -> str:
    """onnxruntime's refusal of a model file, in words."""
    text = _first_line(e)
    low = text.lower()
    if "protobuf" in low or "parsing failed" in low or "invalid_protobuf" in low:
        return "the file is not an ONNX model, or is damaged or cut short"
    return text.split(" : ")[-1] if " : " in text else text


# --- which file to read --------------------------------------------------------

def record_of(onnx_path) -> dict | None:
    """The export's check record (onnx.json beside it), or None."""
    try:
        rec = json.loads((Path(onnx_path).parent / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) else None


def export_matches(keras_path, onnx_path) -> str | None:
    """None when the ONNX file beside a .keras model is its export (as far
    as its record can tell), else why it is not to be trusted. The committed
    default pair is not hashed on every start (~7 ms of a ~0.13 s cold
    start): tests/test_light_reader.py proves the committed files match."""
    rec = record_of(onnx_path)
    if rec is None or rec.get("onnx_file") not in (None, Path(onnx_path).name):
        return None  # no record of this file: its own metadata says how to read it
    if rec.get("passed") is False:
        return f"its ONNX export did not read like it when checked ({RECORD}: {rec.get('why', 'see the file')})"
    want = rec.get("keras_sha1")
    if want and Path(keras_path).resolve() != DEFAULT_MODEL.resolve():
        import hashlib
        if hashlib.sha1(Path(keras_path).read_bytes()).hexdigest() != want:
            return f"{Path(onnx_path).name} was exported from another {Path(keras_path).name}"
    return None


def onnx_for(model_path) -> tuple[Path | None, str | None]:
    """(the ONNX file to read for a model path, or None; why not, if not)."""
    path = Path(model_path)
    if path.suffix == ".onnx":
        return path, None
    onnx = path.with_suffix(".onnx")
    if not path.is_file():
        return None, None
    if not onnx.is_file():
        return None, f"it has no ONNX export beside it ({onnx.name})"
    why = export_matches(path, onnx)
    return (None, why) if why else (onnx, None)


# --- the cold reader: Pillow and the C API, numpy only when needed ----------------

# v / 255 as float32 bytes, as numpy computes `uint8.astype("float32") / 255.0`
# (tests/test_light_reader.py checks all 256 values), and v squared.
def _tables():
    from array import array
    return [array("f", [v / 255.0]).tobytes() for v in range(256)], [v * v for v in range(256)]


def _open_image(data: bytes):
    """Image.open, but a PNG file (what the real captchas hold, whatever
    their names say) through its own plugin alone: Image.open first imports
    five format plugins, ~9 ms of a cold start."""
    import io

    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        from PIL import PngImagePlugin
        return PngImagePlugin.PngImageFile(io.BytesIO(data))
    from PIL import Image
    return Image.open(io.BytesIO(data))


def _import_for_reading() -> None:
    """What ColdReader._input imports, imported while this thread loads
    onnxruntime's library and builds the session (both in C, without the
    GIL): a cold start overlaps its ~20 ms of Pillow imports with them."""
    try:
        from PIL import ImageChops, JpegImagePlugin, PngImagePlugin  # noqa: F401
        from experiments.captcha import arc_lite  # noqa: F401
    except Exception:  # noqa: BLE001 - the reading thread imports (and reports) it itself
        pass


class ColdReader:
    """Reads captchas for a process that has just started: the command line.

    An ordinary captcha (PNG/JPEG/GIF/BMP, an RGB, grey or palette image of a
    captcha's size and shape, no plain margin) is decoded and prepared by
    Pillow exactly as experiments/captcha/preprocess.py prepares it (`grey`: the
    same Pillow calls in the same order) and read through onnxruntime's C
    API. Any other file is read by the full reader, created on first need
    (numpy; the same session), which also gives every refusal its words."""

    def __init__(self, onnx_path, data: bytes, meta: dict, session: CSession, full=None):
        self.path = Path(onnx_path)
        self._make_full = full  # (path, csession, data) -> the full reader: recognizer.py's OnnxReader
        self.meta, self.session = meta, session
        opts = meta.get("preprocess_options") or {}
        # Only `grey` (a size, and undo_arc or not) is prepared here.
        self.fast = meta["preprocess"] == "grey" and set(opts) <= {"height", "width", "undo_arc"}
        # The arc's inversion is undone by arc_lite.py (plain Python, the same
        # pixels as preprocess.py's numpy undo_arc): importing numpy would
        # cost a cold start ~0.1 s.
        self.undo = bool(opts.get("undo_arc"))
        self.size = (int(opts.get("width", 96)), int(opts.get("height", 32)))
        self.shape = tuple(int(d) for d in meta["input_shape"])
        if self.fast and self.shape != (self.size[1], self.size[0], 1):
            self.fast = False  # a grey model of another input shape: let the full reader say
        self.scaled, self.squares = _tables() if self.fast else (None, None)
        self._full = None
        self._data = data
        self.fast_reads = self.full_reads = 0

    @classmethod
    def open(cls, model_path, full=None) -> "ColdReader | None":
        """The cold reader for a model path, or None when it cannot serve it
        (no current ONNX export, no C API, an odd file): the caller then
        uses recognizer.open_reader, which says why in words."""
        onnx, _ = onnx_for(model_path or DEFAULT_MODEL)
        if onnx is None or not onnx.is_file():
            return None
        try:
            data = onnx.read_bytes()
            if len(data) > 256 * 1024 * 1024:
                return None
            meta = check_metadata(onnx_metadata(data).get(META_KEY), onnx)
            threading.Thread(target=_import_for_reading, daemon=True).start()
            session = c_session(data)
        except (ValueError, OSError, ModelNotFound, OrtError):
            return None
        return cls(onnx, data, meta, session, full) if session else None

    def full(self):
        """The full reader (numpy, preprocess.py) sharing this session."""
        if self._full is None:
            if self._make_full is None:
                raise RuntimeError("ColdReader.open(..., full=...) names no full reader for this image")
            self._full = self._make_full(self.path, csession=self.session, data=self._data)
        return self._full

    def _input(self, path):
        """The model's input for an ordinary captcha (float32 bytes), or None."""
        from PIL import Image

        try:
            st = os.stat(path)
            if not (0 < st.st_size <= MAX_BYTES and stat.S_ISREG(st.st_mode)):
                return None
            with open(path, "rb") as f:
                data = f.read(MAX_BYTES + 1)
            with _open_image(data) as im:
                w, h = im.size
                if max(w, h) > MAX_SIDE or h < 10 or w < 10 or not ASPECT[0] <= w / h <= ASPECT[1]:
                    return None
                if im.mode not in ("RGB", "L", "P", "1") or im.info.get("transparency") is not None:
                    return None  # 16-bit, float, alpha...: the full reader's conversions
                im.seek(0)
                rgb = im.convert("RGB")
        except Exception:  # noqa: BLE001 - whatever is wrong, the full reader will say it
            return None
        if rgb.size != (w, h) or self._may_have_margin(rgb):
            return None
        grey = rgb.convert("L")
        if self.undo:  # as preprocess.grey does it: at the captcha's own size, before the resize
            from experiments.captcha import arc_lite
            undone = arc_lite.undo(grey)
            if undone is None:  # a decision too near its boundary: numpy's undo_arc decides
                return None
            grey = undone
        grey = grey.resize(self.size, Image.BILINEAR)
        return b"".join(map(self.scaled.__getitem__, grey.tobytes()))

    def _may_have_margin(self, rgb) -> bool:
        """False only when trim_border would certainly take nothing off: each
        edge line varies (std >= BORDER_STD) and differs from its neighbour
        (mean |diff| >= BORDER_DIFF), clear of both thresholds."""
        from PIL import ImageChops

        w, h = rgb.size
        edges = [((0, 0, w, 1), (0, 1, w, 2)), ((0, h - 1, w, h), (0, h - 2, w, h - 1)),
                 ((0, 0, 1, h), (1, 0, 2, h)), ((w - 1, 0, w, h), (w - 2, 0, w - 1, h))]
        squares = self.squares
        for edge, inner in edges:
            line = rgb.crop(edge)
            values = line.tobytes()
            n = len(values)
            mean = sum(values) / n
            std = max(sum(map(squares.__getitem__, values)) / n - mean * mean, 0.0) ** 0.5
            diff = sum(ImageChops.difference(line, rgb.crop(inner)).tobytes()) / n
            if std < BORDER_STD + BORDER_MARGIN or diff < BORDER_DIFF + BORDER_MARGIN:
                return True
        return False

    def read_text(self, path):
        """The four characters of one image, or the CaptchaImageError saying
        why it cannot be read."""
        r = self.read_scored(path)
        return r if isinstance(r, Exception) else r[0]

    def read_scored(self, path):
        """(the four characters, their probabilities) of one image, or the
        CaptchaImageError saying why it cannot be read."""
        x = self._input(path) if self.fast else None
        if x is None:
            self.full_reads += 1
            r = self.full().read_many([path])[0]
            return r if isinstance(r, Exception) else (r.text, [float(c) for c in r.confidence])
        self.fast_reads += 1
        from array import array
        buf = C.create_string_buffer(x, len(x))  # the input's bytes at a fixed address for the run
        text, probs = [], []
        for head in self.session.run(self.meta["input"], self.meta["outputs"], C.addressof(buf), (1, *self.shape)):
            p = array("f")
            p.frombytes(head)
            best = max(range(len(p)), key=p.__getitem__)
            text.append(ALPHABET[best])
            probs.append(p[best])
        return "".join(text), probs
