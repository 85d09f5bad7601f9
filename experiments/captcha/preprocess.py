"""Reading captcha images and the seed's two preprocessings.

nopre: resize to 130x50 and scale to [0, 1] (RGB).
grey:  ours: greyscale, resize (96x32 by default), scale to [0, 1]; the
       model learns to ignore the noise and the arc (cheaper and, measured,
       more accurate than erasing them by hand).
dn2:   greyscale, denoise (median filter, then a threshold), remove the arc by
       fitting a parabola to its pixels at the image's left and right margins
       (where no character stands) and erasing a band around it, resize,
       scale (1 channel).
Every step is returned by `dn2_steps` so the app can show it.

undo_arc (grey's option): the arc inverts what lies under it (measured, see
"The arc's inversion" below), so the fitted band is inverted back instead of
erased: strokes the arc crossed are whole again. Steps: `undo_arc_steps`.

trim_border runs before any of them when the recognizer reads an image: it
takes off a plain margin (white, grey or edge-replicated, JPEG-saved or not)
that a screenshot or a re-save may have added.
"""
from __future__ import annotations

import errno
import functools
import io
import os
import stat
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFilter, UnidentifiedImageError

from experiments.captcha.arc import (ArcFit, ArcParams, curve, fit_arc_bands, margin_fits, margins, row_of,
                                    undo_arc_many)

HEIGHT, WIDTH = 50, 130
MAX_BYTES = 2 * 1024 * 1024      # real captchas are ~10 KB
MAX_SIDE = 1000                  # and about 100-160 x 44-48 pixels
ASPECT = (1.2, 6.0)              # width / height a captcha can plausibly have


class CaptchaImageError(ValueError):
    """A file that is not a usable captcha; the message says why, in plain
    words (one line, no exception names), for a person to read."""


FORMATS = "PNG, JPEG, GIF, BMP, TIFF or WebP"


def describe_os_error(e: OSError) -> str:
    """An operating-system failure to open or read a file, in plain words."""
    reasons = {errno.ENOENT: "there is no such file", errno.EISDIR: "it is a folder, not an image file",
               errno.ELOOP: "it is a symbolic link that loops back on itself",
               errno.EACCES: "permission to read it is denied", errno.EPERM: "permission to read it is denied",
               errno.ENOTDIR: "a part of the path is not a folder",
               errno.ENAMETOOLONG: "the path is too long"}
    return reasons.get(e.errno) or f"it cannot be read ({(e.strerror or 'input/output failure').lower()})"


def _read_bytes(source) -> bytes:
    """The file's bytes, at most MAX_BYTES + 1 of them (a device or a huge
    file is never read whole)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if hasattr(source, "read"):
        try:
            data = bytes(source.read(MAX_BYTES + 1) or b"")
        except OSError as e:
            raise CaptchaImageError(describe_os_error(e)) from None
        if len(data) > MAX_BYTES:  # read no further: its size is unknown
            raise CaptchaImageError(_too_big(None))
        return data
    try:
        st = os.stat(source)
        if stat.S_ISDIR(st.st_mode):
            raise CaptchaImageError("it is a folder, not an image file")
        if not stat.S_ISREG(st.st_mode):
            raise CaptchaImageError("it is not a regular file (a device, pipe or socket)")
        if st.st_size > MAX_BYTES:
            raise CaptchaImageError(_too_big(st.st_size))
        with open(source, "rb") as f:
            return f.read(MAX_BYTES + 1)
    except CaptchaImageError:
        raise
    except OSError as e:
        raise CaptchaImageError(describe_os_error(e)) from None
    except ValueError:  # a path holding a NUL byte
        raise CaptchaImageError("the path is not a valid file name") from None


def _too_big(n: int | None) -> str:
    mb = MAX_BYTES // (1024 * 1024)
    size = f"{n / 1e6:.1f} MB" if n is not None else f"over {mb} MB"
    return f"the file is {size}; a captcha is a few KB (limit {mb} MB)"


ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey.astype(np.uint8)[..., None], 3, axis=2)


def _wide_to_8bit(a: np.ndarray, mode: str) -> np.ndarray:
    """A 32-bit integer or float image scaled to 0-255 by the range its
    values show: 0-1 (float), 0-255 or 0-65535; anything else is refused."""
    a = a.astype(np.float64)
    if a.size == 0:
        return a.astype(np.uint8)
    if not np.isfinite(a).all():
        raise CaptchaImageError("not a readable image: some of its pixel values are not numbers")
    lo, hi = float(a.min()), float(a.max())
    if lo < 0 or hi > 65535:
        raise CaptchaImageError(f"not a readable image: its pixel values run from {lo:g} to {hi:g}, "
                                "outside the 0-255 or 0-65535 of a picture")
    if mode == "F" and hi <= 1.0:
        scale = 255.0
    elif hi <= 255:
        scale = 1.0
    else:
        scale = 1 / 257  # 65535 -> 255, and v * 257 -> v exactly
    return np.clip(np.rint(a * scale), 0, 255).astype(np.uint8)


def _to_rgb(im: Image.Image) -> np.ndarray:
    """RGB uint8 of any PIL mode: 16-bit greyscale scaled down (>> 8),
    32-bit integer and float by their value range, transparency laid over
    white (how a browser shows it), the rest through PIL's convert."""
    mode = im.mode
    if mode.startswith("I;16"):
        return _grey_to_rgb(np.asarray(im).astype(np.uint16) >> 8)
    if mode in ("I", "F"):
        return _grey_to_rgb(_wide_to_8bit(np.asarray(im), mode))
    if mode in ALPHA_MODES or im.info.get("transparency") is not None:
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, im.convert("RGBA")).convert("RGB"))
    try:
        return np.asarray(im.convert("RGB"))
    except ValueError:  # a mode PIL does not convert (LAB, HSV, ...)
        raise CaptchaImageError(f"not a readable image: its colour format ({mode}) "
                                "is not one this reader converts") from None


def load_image(source) -> np.ndarray:
    """RGB uint8 array (H, W, 3) from a path, bytes or file object, opened by
    content (the real files end in .jpg but hold PNG data).

    Every failure to read or decode (a missing path, a folder, a damaged or
    truncated file, a format PIL cannot open, a decompression bomb, a pixel
    format with no sensible conversion) raises CaptchaImageError with a
    plain-words reason; nothing else escapes."""
    data = _read_bytes(source)
    if not data:
        raise CaptchaImageError("the file is empty")
    if len(data) > MAX_BYTES:
        raise CaptchaImageError(_too_big(len(data)))
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if max(w, h) > MAX_SIDE:
                raise CaptchaImageError(f"the image is {w}x{h} pixels; a captcha is about 130x50")
            if min(w, h) < 1:
                raise CaptchaImageError(f"the image is {w}x{h} pixels: there is nothing to read")
            im.seek(0)  # first frame of a GIF
            rgb = _to_rgb(im)
    except CaptchaImageError:
        raise
    except UnidentifiedImageError:
        raise CaptchaImageError(f"not a readable image: the file is not a picture in a format this "
                                f"reader knows ({FORMATS})") from None
    except Image.DecompressionBombError:
        raise CaptchaImageError("not a readable image: it declares far more pixels than any "
                                "captcha (about 130x50)") from None
    except MemoryError:
        raise CaptchaImageError("not a readable image: decoding it needs more memory than "
                                "a captcha could") from None
    except Exception:  # noqa: BLE001 - OSError, SyntaxError, struct.error, EOFError... from a damaged file
        raise CaptchaImageError("not a readable image: the picture's data is damaged or cut short") from None
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:  # a plugin's odd result
        raise CaptchaImageError("not a readable image: the picture's data is damaged or cut short")
    h, w = rgb.shape[:2]
    if h < 10 or w < 10 or not ASPECT[0] <= w / h <= ASPECT[1]:
        raise CaptchaImageError(f"the image is {w}x{h} pixels; a captcha is wide and short (about 130x50)")
    return rgb


# A real captcha's outermost rows and columns are noise and glyph edges: over
# all 16,000 real captchas their standard deviation is at least 20 (rows) and
# 43 (columns) and neighbouring lines differ by at least 18.8 on average
# (0-255 scale), while a plain margin, even JPEG-saved, stays under ~9 and an
# edge-replicated one repeats its neighbour. Measured: none of the 16,000 is
# trimmed by a pixel; 6 px white, edge, and JPEG'd grey margins come off exactly.
BORDER_STD, BORDER_DIFF, BORDER_MAX = 14.0, 8.0, 0.3


def _plain_run(lines: np.ndarray, copies: bool, cap: int) -> int:
    """How many lines from this edge (lines[0]) inward are plain: flat, or
    (with `copies`) a copy of the next line. Stops at the first real line,
    so a real captcha costs one line per edge per pass (~0.26 ms an image on
    one core, measured)."""
    n, cap = 0, min(cap, len(lines) - 1)
    while n < cap:
        line = lines[n]
        if not (line.std() < BORDER_STD
                or (copies and np.abs(line - lines[n + 1]).mean() < BORDER_DIFF)):
            break
        n += 1
    return n


def _plain_edges(a: np.ndarray, copies: bool, rows: bool, cols: bool, caps) -> tuple[int, int, int, int]:
    t = b = l = r = 0
    if rows:
        t, b = _plain_run(a, copies, caps[0]), _plain_run(a[::-1], copies, caps[1])
    if cols:
        c = a.swapaxes(0, 1)
        l, r = _plain_run(c, copies, caps[2]), _plain_run(c[::-1], copies, caps[3])
    return t, b, l, r


BORDER_MARGIN = 0.05  # _no_plain_edge's distance from a threshold: far above float32's error, far below a real line's


def _no_plain_edge(a: np.ndarray) -> bool:
    """True when no edge line of the image (float32) is plain: each is
    varied and differs from its neighbour, clear of both thresholds, so
    trim_border takes nothing off. Four array calls where trim_border's own
    passes take twelve: on every real captcha (edges at least 20 and 18.8,
    see above) this is all the trimming costs."""
    if min(a.shape[:2]) < 3:
        return False
    rows, cols = a[[0, -1]], a[:, [0, -1]]
    return bool(rows.std(axis=(1, 2)).min() >= BORDER_STD + BORDER_MARGIN
                and cols.std(axis=(0, 2)).min() >= BORDER_STD + BORDER_MARGIN
                and np.abs(rows - a[[1, -2]]).mean(axis=(1, 2)).min() >= BORDER_DIFF + BORDER_MARGIN
                and np.abs(cols - a[:, [1, -2]]).mean(axis=(0, 2)).min() >= BORDER_DIFF + BORDER_MARGIN)


def trim_border(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The image without a plain margin, and the (top, bottom, left, right)
    pixels taken off (at most 30 % of the height or width from each edge).

    Flat margins go first, then rows that repeat their neighbour, then such
    columns: a margin left in place above and below would dilute a real
    column's difference to its neighbour towards a copy's."""
    h, w = rgb.shape[:2]
    a = rgb.astype(np.float32)
    if _no_plain_edge(a):
        return rgb, (0, 0, 0, 0)
    caps = np.array([int(BORDER_MAX * h)] * 2 + [int(BORDER_MAX * w)] * 2)
    total = np.zeros(4, int)
    for copies, rows, cols in ((False, True, True), (True, True, False), (True, False, True)):
        t, b, l, r = total
        total += _plain_edges(a[t:h - b, l:w - r], copies, rows, cols, caps - total)
    t, b, l, r = (int(v) for v in total)
    return rgb[t:h - b, l:w - r], (t, b, l, r)


def _resize(arr: np.ndarray) -> np.ndarray:
    im = Image.fromarray(arr)
    return np.asarray(im.resize((WIDTH, HEIGHT), Image.BILINEAR))


def nopre(rgb: np.ndarray) -> np.ndarray:
    return (_resize(rgb).astype("float32") / 255.0)


@dataclass
class Dn2Params:
    median: int = 3            # median filter size (odd); 1 disables
    threshold: int = 140       # grey level below which a pixel is ink
    margin_left: float = 0.10  # fraction of the width searched for the arc at each side
    margin_right: float = 0.06
    band: int = 3              # pixels erased on each side of the fitted arc
    degree: int = 2            # the arc is close to a parabola


@dataclass
class Dn2Steps:
    raw: np.ndarray
    denoised: np.ndarray
    arc_removed: np.ndarray
    resized: np.ndarray
    arc: np.ndarray | None = None          # polynomial coefficients, or None if not found
    arc_mask: np.ndarray | None = field(default=None, repr=False)


def _fit_arc(ink: np.ndarray, p: Dn2Params) -> np.ndarray | None:
    """Fit y(x) to the ink in the side margins: there only the arc is drawn."""
    h, w = ink.shape
    left = max(2, int(w * p.margin_left))
    right = max(2, int(w * p.margin_right))
    xs, ys = [], []
    for x in list(range(left)) + list(range(w - right, w)):
        col = np.flatnonzero(ink[:, x])
        if len(col):
            xs.append(x)
            ys.append(col.mean())  # the arc's centre line in this column
    if len(xs) < p.degree + 3:
        return None
    return np.polyfit(np.array(xs, float), np.array(ys, float), p.degree)


def dn2_steps(rgb: np.ndarray, p: Dn2Params | None = None) -> Dn2Steps:
    p = p or Dn2Params()
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    den = grey
    if p.median > 1:
        den = np.asarray(Image.fromarray(grey).filter(ImageFilter.MedianFilter(p.median)))
    ink = den < p.threshold
    clean = np.where(ink, 0, 255).astype(np.uint8)
    coef = _fit_arc(ink, p)
    mask = np.zeros_like(ink)
    if coef is not None:
        h, w = ink.shape
        ys = np.arange(h)[:, None]
        centre = np.polyval(coef, np.arange(w))[None, :]
        mask = np.abs(ys - centre) <= p.band
    removed = np.where(mask, 255, clean).astype(np.uint8)
    return Dn2Steps(raw=rgb, denoised=clean, arc_removed=removed, resized=_resize(removed),
                    arc=coef, arc_mask=mask)


def dn2(rgb: np.ndarray, p: Dn2Params | None = None) -> np.ndarray:
    return (dn2_steps(rgb, p).resized.astype("float32") / 255.0)[..., None]


# --- The arc's inversion (issue 24) ---------------------------------------
# The THSR captcha draws its arc by inverting what lies under it: over the
# background the band is dark, over a character's stroke it is light, so a
# stroke the arc crosses is cut (5 reads as 3, F as P, T as I). Every real
# captcha's grey levels are either dark (6-85) or light (170-249) and nothing
# between, and 255 - v maps the one range exactly onto the other, so inverting
# the band back gives pixels like every other of the captcha. Measured on
# 3,000 real captchas (the first 1,500 of each set) with a band of 5 rows
# fitted only to the margins (no inversion assumed): where the band crosses a
# stroke 87.5 % of its pixels are light (mean grey 189; the stroke around it
# 46), where it lies on the background 85.3 % are dark (mean 70; the
# background 209). A painted arc would leave both dark. undo_arc inverts the
# band back (measured 2026-12-07: 0.4-0.6 ms a captcha in a batch, grey_many;
# 1.5 ms one at a time); grey(..., undo_arc=True) does it first.

def fit_arc_band(g: np.ndarray, p: ArcParams | None = None) -> ArcFit | None:
    """The arc's band in a greyscale captcha (uint8 H x W), or None when the
    margins show no arc (experiments/captcha/arc.py says how it is found)."""
    return fit_arc_bands([g], p)[0]


def undo_arc(g: np.ndarray, p: ArcParams | None = None) -> np.ndarray:
    """The greyscale captcha with the arc's inversion undone: every pixel of
    the fitted band becomes 255 - v. Unchanged when no arc is found."""
    return undo_arc_many([g], p)[0]


@dataclass
class UndoArcSteps:
    grey: np.ndarray
    fit: ArcFit | None
    band: np.ndarray                  # bool mask of the fitted band
    restored: np.ndarray              # band pixels that were light and are dark again: strokes given back
    result: np.ndarray
    evidence: dict = field(default_factory=dict)


def undo_arc_steps(rgb: np.ndarray, p: ArcParams | None = None) -> UndoArcSteps:
    p = p or ArcParams()
    g = np.asarray(Image.fromarray(rgb).convert("L"))
    fit = fit_arc_band(g, p)
    band = fit.mask(g.shape) if fit is not None else np.zeros(g.shape, bool)
    result = np.where(band, 255 - g, g).astype(np.uint8)
    restored = band & (g >= p.threshold) & (result < p.threshold)
    return UndoArcSteps(grey=g, fit=fit, band=band, restored=restored, result=result,
                        evidence=inversion_evidence(g, p))


def inversion_evidence(g: np.ndarray, p: ArcParams | None = None, rows: int = 5) -> dict:
    """Counts that tell an inverted arc from a painted one, with a band fitted
    to the side margins only (nothing about the middle assumed): in the
    middle's columns, the band's `rows` pixels where a stroke crosses it (two
    dark rows above and below) and where it lies on background (no dark pixel
    in those four rows), and how many of each are dark."""
    p = p or ArcParams()
    h, w = g.shape
    m = margin_fits(g[None], np.array([h]), np.array([w]), p)
    dark = m.dark[0]
    left, right = margins(w, p)
    out = {"stroke": 0, "stroke_dark": 0, "stroke_grey": 0.0, "background": 0, "background_dark": 0,
           "background_grey": 0.0}
    if not m.fitted[0]:
        return out
    cols = np.arange(left, w - right)
    top = row_of(curve(m.coef[0], cols) - (rows - 1) / 2)
    ok = (top >= 2) & (top + rows + 2 <= h)
    cols, top = cols[ok], top[ok]
    def at(dy):
        return dark[top + dy, cols]
    above, below = at(-1) & at(-2), at(rows) & at(rows + 1)
    plain = ~(at(-1) | at(-2) | at(rows) | at(rows + 1))
    band_rows = top[None, :] + np.arange(rows)[:, None]
    for name, sel in (("stroke", above & below), ("background", plain)):
        px = g[band_rows[:, sel], cols[sel]]
        out[name] = int(px.size)
        out[f"{name}_dark"] = int((px < p.threshold).sum())
        out[f"{name}_grey"] = float(px.sum())
    return out


def grey(rgb: np.ndarray, height: int = 32, width: int = 96, undo_arc: bool = False) -> np.ndarray:
    return grey_many([rgb], height, width, undo_arc)[0]


def grey_many(rgbs: list[np.ndarray], height: int = 32, width: int = 96, undo_arc: bool = False) -> list[np.ndarray]:
    """grey() of each image; the arc is undone for all of them in one pass
    (arc.py), at the captchas' own size, before resizing blurs the band's edges."""
    gs = [np.asarray(Image.fromarray(rgb).convert("L")) for rgb in rgbs]
    if undo_arc:
        gs = undo_arc_many(gs)
    return [(np.asarray(Image.fromarray(g).resize((width, height), Image.BILINEAR)).astype("float32") / 255.0)[..., None]
            for g in gs]


PREPROCESS = {"nopre": nopre, "dn2": dn2, "grey": grey}


def get_preprocessor(name: str, **options):
    """A function RGB uint8 -> float32 (H, W, C) in [0, 1]. Options: grey takes
    height/width and undo_arc (true: the arc's inversion is undone first, see
    undo_arc); dn2 takes the fields of Dn2Params."""
    if name not in PREPROCESS:
        raise ValueError(f"unknown preprocessing {name!r}; choose from {', '.join(PREPROCESS)}")
    if name == "dn2":
        params = Dn2Params(**options)
        return functools.partial(dn2, p=params)
    if name == "grey":
        unknown = sorted(set(options) - {"height", "width", "undo_arc"})
        if unknown:
            raise ValueError(f"grey takes height, width and undo_arc, got {unknown}")
        if not isinstance(options.get("undo_arc", False), bool):
            raise ValueError(f"undo_arc is true or false, got {options['undo_arc']!r}")
        return functools.partial(grey, **options)
    if options:
        raise ValueError(f"{name} takes no options, got {sorted(options)}")
    return PREPROCESS[name]


def get_batch_preprocessor(name: str, **options):
    """get_preprocessor's preprocessing for a list of images at once (list in,
    list out, the same arrays): grey prepares a batch in one pass, which is
    what makes undoing the arc cheap; the others one image at a time."""
    fn = get_preprocessor(name, **options)
    if name == "grey":
        return functools.partial(grey_many, **options)
    return lambda rgbs: [fn(rgb) for rgb in rgbs]


def overlay_arc(rgb: np.ndarray, steps: Dn2Steps) -> np.ndarray:
    """The raw image with the fitted arc's erased band tinted red (for the pages)."""
    out = rgb.copy()
    if steps.arc_mask is not None and steps.arc_mask.any():
        out[steps.arc_mask] = (0.5 * out[steps.arc_mask] + [127, 0, 0]).astype(np.uint8)
    return out


def upscale(arr: np.ndarray, factor: int = 3) -> np.ndarray:
    """Nearest-neighbour enlargement so small steps are visible on a page."""
    arr = arr if arr.dtype == np.uint8 else np.clip(arr * 255, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    return np.kron(arr, np.ones((factor, factor) + (1,) * (arr.ndim - 2), dtype=np.uint8))


ARC_COLOURS = {"seed": (0, 90, 255), "curve": (230, 0, 0), "band": (255, 150, 0), "restored": (0, 170, 60)}


def arc_views(steps: UndoArcSteps, factor: int = 3) -> dict[str, np.ndarray]:
    """RGB pictures of undo_arc's steps, enlarged `factor` times (for the
    pages): the margins' columns the curve was first fitted to and the fitted
    centre line; the band tinted; the result with the stroke pixels the undo
    gave back in green; and the grey image and the result side by side."""
    from PIL import ImageDraw

    g = steps.grey
    base = Image.fromarray(upscale(g, factor)).convert("RGB")
    curve = base.copy()
    draw = ImageDraw.Draw(curve)
    if steps.fit is not None:
        h, w = g.shape
        for x, y in steps.fit.seeds:
            cx, cy = (x + 0.5) * factor, (y + 0.5) * factor
            draw.ellipse([cx - 2, cy - 2, cx + 2, cy + 2], fill=ARC_COLOURS["seed"])
        xs = np.linspace(0, w - 1, 4 * w)
        ys = steps.fit.centre(xs)
        draw.line([((x + 0.5) * factor, (y + 0.5) * factor) for x, y in zip(xs, ys)],
                  fill=ARC_COLOURS["curve"], width=2)

    def tint(img: np.ndarray, mask: np.ndarray, colour, alpha: float) -> np.ndarray:
        rgb = np.repeat(img[..., None], 3, axis=2).astype(np.float32)
        rgb[mask] = (1 - alpha) * rgb[mask] + alpha * np.array(colour, np.float32)
        return upscale(rgb.round().astype(np.uint8), factor)

    gap = np.full((g.shape[0] * factor, 4 * factor, 3), 255, np.uint8)
    return {"curve": np.asarray(curve), "band": tint(g, steps.band, ARC_COLOURS["band"], 0.55),
            "restored": tint(steps.result, steps.restored, ARC_COLOURS["restored"], 0.8),
            "before-after": np.hstack([np.asarray(base), gap, upscale(np.repeat(steps.result[..., None], 3, 2),
                                                                       factor)])}


def evidence_shares(ev: dict) -> dict[str, float | None]:
    """From inversion_evidence: the share of band pixels that are light where
    the band crosses a stroke, and dark where it lies on background."""
    return {"stroke_light": 1 - ev["stroke_dark"] / ev["stroke"] if ev.get("stroke") else None,
            "background_dark": ev["background_dark"] / ev["background"] if ev.get("background") else None}
