"""THSR-style synthetic captchas: the 19-character alphabet in a bold sans
font, jittered and rotated, salt-and-pepper noise, and a thick arc through the
characters. The tests use it (no real data needed) and training may use it.

make_captcha's default (arc="paint") paints the arc dark, as the first
generator did; tests and fixtures depend on those images, so it is kept
bit for bit. arc="invert" draws the captcha as the real ones are measured to
be (experiments/captcha/preprocess.py, issue 24): every pixel dark or light, a dark
one's grey level uniform in 6-85 and a light one's in 170-249 (255 - v maps
one range onto the other), about 2.5 % of pixels flipped as noise, and the arc
a band about 5 rows thick that inverts what lies under it, entering at the
left edge at 35-61 % of the height, leaving at the right edge at 10-21 %,
bowed upwards by 7.5-13 % of the height (the ranges of 600 real captchas'
fitted arcs). `scale` resizes the result and `frame` adds a plain margin, to
cover other crawls' sizes (e.g. 140 x 48).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from experiments.captcha.labels import ALPHABET, N_CHARS


def _font(size: int):
    # Pillow ships a scalable default font: the same glyphs on every machine.
    return ImageFont.load_default(size=size)


def make_captcha(rng: np.random.Generator, label: str | None = None,
                 width: int | None = None, height: int | None = None, arc: str = "paint",
                 scale: tuple[int, int] | None = None, frame: int = 0):
    """Returns (RGB uint8 array, label, arc) where arc = (coefficients of
    y(x) as for np.polyval, thickness) so tests can check its removal.
    arc="invert": the real captchas' inverting arc and grey levels (see
    make_inverted, which also returns the clean image and the band)."""
    if arc == "invert" or scale is not None or frame:
        if arc not in ("invert", "paint"):
            raise ValueError(f"arc is 'paint' or 'invert', got {arc!r}")
        if arc == "paint":
            raise ValueError("scale and frame apply to arc='invert' captchas")
        c = make_inverted(rng, label, width, height, scale=scale, frame=frame)
        return c.image, c.label, (c.coef, c.thickness)
    if arc != "paint":
        raise ValueError(f"arc is 'paint' or 'invert', got {arc!r}")
    if label is None:
        label = "".join(rng.choice(list(ALPHABET), N_CHARS))
    w = int(width or rng.integers(101, 159))
    h = int(height or rng.integers(44, 49))
    bg = int(rng.integers(200, 236))
    im = Image.new("L", (w, h), bg)
    draw = ImageDraw.Draw(im)
    step = (w - 20) / N_CHARS
    for i, ch in enumerate(label):
        size = int(rng.integers(26, 33))
        glyph = Image.new("L", (size + 10, size + 12), 0)
        ImageDraw.Draw(glyph).text((5, 2), ch, fill=255, font=_font(size),
                                   stroke_width=1, stroke_fill=255)
        glyph = glyph.rotate(float(rng.uniform(-15, 15)), resample=Image.BILINEAR, expand=False)
        x = int(10 + i * step + rng.integers(-3, 4))
        y = int((h - glyph.height) / 2 + rng.integers(-3, 4))
        ink = int(rng.integers(20, 70))
        im.paste(ink, (x, y), glyph)
    # the arc: a parabola across the whole width, drawn as a thick polyline
    x0, x1 = 0, w - 1
    ya, yb = rng.uniform(0.25 * h, 0.6 * h), rng.uniform(0.1 * h, 0.5 * h)
    sag = rng.uniform(-0.25 * h, 0.25 * h)
    xm = (x0 + x1) / 2
    coef = np.polyfit([x0, xm, x1], [ya, (ya + yb) / 2 + sag, yb], 2)
    thickness = int(rng.integers(3, 5))
    xs = np.arange(w)
    pts = list(zip(xs.tolist(), np.polyval(coef, xs).tolist()))
    draw.line(pts, fill=int(rng.integers(20, 60)), width=thickness)
    arr = np.asarray(im).astype(np.int16)
    noise = rng.random(arr.shape)
    arr[noise < 0.06] = 20        # pepper
    arr[noise > 0.97] = 250       # salt
    rgb = np.repeat(np.clip(arr, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    return rgb, label, (coef, thickness)


@dataclass
class Inverted:
    image: np.ndarray     # RGB uint8, what a crawler would save
    clean: np.ndarray     # the same captcha's grey levels without the arc (uint8 H x W)
    band: np.ndarray      # bool H x W: the pixels the arc inverted
    label: str
    coef: np.ndarray      # the arc's centre line y(x), native pixels (before scale and frame)
    thickness: float      # the band's width across the curve, pixels


ARC_WIDTH = (4.6, 5.4)    # across the curve: 5 rows in a flat column, 5-6 where it slopes


def _glyphs(rng, label: str, w: int, h: int) -> np.ndarray:
    """bool H x W: the characters' pixels (the generator's font, size, jitter
    and rotation), threshold at half coverage."""
    ink = Image.new("L", (w, h), 0)
    step = (w - 20) / N_CHARS
    for i, ch in enumerate(label):
        size = int(rng.integers(26, 33))
        glyph = Image.new("L", (size + 10, size + 12), 0)
        ImageDraw.Draw(glyph).text((5, 2), ch, fill=255, font=_font(size), stroke_width=1, stroke_fill=255)
        glyph = glyph.rotate(float(rng.uniform(-15, 15)), resample=Image.BILINEAR, expand=False)
        x = int(10 + i * step + rng.integers(-3, 4))
        y = int((h - glyph.height) / 2 + rng.integers(-3, 4))
        ink.paste(255, (x, y), glyph)
    return np.asarray(ink) >= 128


def arc_band(coef: np.ndarray, thickness: float, shape) -> np.ndarray:
    """bool mask of the pixels whose centres lie within thickness/2 of the
    curve y(x), measured across it (|y - y(x)| / sqrt(1 + y'(x)^2))."""
    h, w = shape
    x = np.arange(w)
    yc, slope = np.polyval(coef, x), np.polyval(np.polyder(coef), x)
    dist = np.abs(np.arange(h)[:, None] - yc[None, :]) / np.sqrt(1 + slope ** 2)[None, :]
    return dist <= thickness / 2


def make_inverted(rng: np.random.Generator, label: str | None = None, width: int | None = None,
                  height: int | None = None, scale: tuple[int, int] | None = None,
                  frame: int = 0, noise: float = 0.025) -> Inverted:
    """A captcha drawn as the real ones are (see the module's note): the arc
    inverts what lies under it. scale=(w, h) resizes the whole (bilinear; the
    band by nearest neighbour), frame adds that many white pixels all round."""
    if label is None:
        label = "".join(rng.choice(list(ALPHABET), N_CHARS))
    w = int(width or rng.integers(101, 159))
    h = int(height or rng.integers(44, 49))
    ink = _glyphs(rng, label, w, h)
    y0, y1 = rng.uniform(0.35, 0.61) * h, rng.uniform(0.10, 0.21) * h
    bow = rng.uniform(0.075, 0.13) * h
    coef = np.polyfit([0, (w - 1) / 2, w - 1], [y0, (y0 + y1) / 2 - bow, y1], 2)
    thickness = float(rng.uniform(*ARC_WIDTH))
    band = arc_band(coef, thickness, (h, w))
    dark = ink ^ (rng.random((h, w)) < noise)
    light = rng.integers(170, 250, (h, w))                  # a light pixel's grey level; a dark one's is 255 - it
    clean = np.where(dark, 255 - light, light).astype(np.uint8)
    seen = np.where(band, 255 - clean, clean).astype(np.uint8)
    if scale is not None:
        size = (int(scale[0]), int(scale[1]))
        seen = np.asarray(Image.fromarray(seen).resize(size, Image.BILINEAR))
        clean = np.asarray(Image.fromarray(clean).resize(size, Image.BILINEAR))
        band = np.asarray(Image.fromarray(band.astype(np.uint8) * 255).resize(size, Image.NEAREST)) > 0
    if frame:
        seen, clean = (np.pad(a, frame, constant_values=255) for a in (seen, clean))
        band = np.pad(band, frame, constant_values=False)
    image = np.repeat(seen[..., None], 3, axis=2)
    return Inverted(image=image, clean=clean, band=band, label=label, coef=coef, thickness=thickness)


def make_dataset(n: int, seed: int = 0, **options):
    """n captchas and their labels; options go to make_captcha (arc, scale,
    frame); without them, the images the tests have always had."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n):
        img, lab, _ = make_captcha(rng, **options)
        images.append(img)
        labels.append(lab)
    return images, labels
