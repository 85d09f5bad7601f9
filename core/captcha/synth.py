"""THSR-style synthetic captchas: the 19-character alphabet in a bold sans
font, jittered and rotated, salt-and-pepper noise, and a thick arc through the
characters. The tests use it (no real data needed) and training may use it.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.captcha import ALPHABET, N_CHARS


def _font(size: int):
    # Pillow ships a scalable default font: the same glyphs on every machine.
    return ImageFont.load_default(size=size)


def make_captcha(rng: np.random.Generator, label: str | None = None,
                 width: int | None = None, height: int | None = None):
    """Returns (RGB uint8 array, label, arc) where arc = (coefficients of
    y(x) as for np.polyval, thickness) so tests can check its removal."""
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


def make_dataset(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n):
        img, lab, _ = make_captcha(rng)
        images.append(img)
        labels.append(lab)
    return images, labels
