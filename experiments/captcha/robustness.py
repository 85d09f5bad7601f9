"""Does a model still read captchas framed differently from its training images?

Each transformation makes a copy of every held-out test image (cropped,
padded or scaled), and the model reads the copies exactly as it reads an
upload. The clean split is included as the reference row.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from experiments.captcha.labels import N_CHARS


def _crop(rgb, top, bottom, left, right):
    h, w = rgb.shape[:2]
    return rgb[top:h - bottom, left:w - right]


def _pad(rgb, px, mode):
    if mode == "white":
        return np.pad(rgb, ((px, px), (px, px), (0, 0)), constant_values=255)
    return np.pad(rgb, ((px, px), (px, px), (0, 0)), mode="edge")


def _jpeg(rgb, quality=75):
    import io
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def _scale(rgb, f):
    h, w = rgb.shape[:2]
    return np.asarray(Image.fromarray(rgb).resize((round(w * f), round(h * f)), Image.BILINEAR))


TRANSFORMS = {
    "clean": lambda x: x,
    "crop 3 px all round": lambda x: _crop(x, 3, 3, 3, 3),
    "crop 8 px left and right": lambda x: _crop(x, 0, 0, 8, 8),
    "pad 6 px white": lambda x: _pad(x, 6, "white"),
    "pad 6 px edge colour": lambda x: _pad(x, 6, "edge"),
    "pad 10 px left only (shifted)": lambda x: np.pad(x, ((0, 0), (10, 0), (0, 0)), mode="edge"),
    # Harder for a margin trim: JPEG blurs the margin's edge; the shift also
    # loses 10 px of the captcha on the right, which no trim can give back.
    "pad 6 px grey, saved as JPEG": lambda x: _jpeg(np.pad(x, ((6, 6), (6, 6), (0, 0)), constant_values=235)),
    "shifted 10 px right (edge in, cropped out)": lambda x: np.pad(x, ((0, 0), (10, 0), (0, 0)),
                                                                   mode="edge")[:, :-10],
    "scaled x0.7": lambda x: _scale(x, 0.7),
    "scaled x1.6": lambda x: _scale(x, 1.6),
}


def _resize(rgb, width, height):
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.BILINEAR))


def _grey(rgb):
    return np.asarray(Image.fromarray(rgb).convert("L").convert("RGB"))


def _edge(rgb, top=0, bottom=0, left=0, right=0):
    return np.pad(rgb, ((top, bottom), (left, right), (0, 0)), mode="edge")


def _saved(rgb, fmt: str, mode: str = "RGB", **options):
    """The copy written as a `fmt` file in `mode` and opened again the way
    the reader opens an upload (preprocess.load_image: its conversions)."""
    import io

    from experiments.captcha.preprocess import load_image
    buf = io.BytesIO()
    Image.fromarray(rgb).convert(mode).save(buf, fmt, **options)
    return load_image(buf.getvalue())


# What another crawl's captchas look like (issue 32): the sizes public crawls
# save them at (101-160 x 44-50; a third crawl's 133 x 45), JPEG re-encoding,
# a 2-pixel crop or pad on any side, greyscale; and the files a crawl may
# keep, PNG or JPEG, RGB or greyscale, opened as the reader opens an upload.
# Meant for a whole source never trained on (`robustness --set crawl
# --source SET`).
CRAWL_TRANSFORMS = {
    "clean": lambda x: x,
    **{f"resized to {w} x {h}": (lambda x, w=w, h=h: _resize(x, w, h))
       for w, h in ((101, 44), (133, 45), (140, 48), (160, 50))},
    **{f"JPEG quality {q}": (lambda x, q=q: _jpeg(x, q)) for q in (70, 95)},
    **{f"crop 2 px {side}": (lambda x, i=i: _crop(x, *(2 if j == i else 0 for j in range(4))))
       for i, side in enumerate(("top", "bottom", "left", "right"))},
    **{f"pad 2 px {side} (edge colour)": (lambda x, side=side: _edge(x, **{side: 2}))
       for side in ("top", "bottom", "left", "right")},
    "greyscale": _grey,
    "saved as PNG": lambda x: _saved(x, "PNG"),
    "greyscale, saved as PNG": lambda x: _saved(x, "PNG", "L"),
    "greyscale, saved as JPEG quality 90": lambda x: _saved(x, "JPEG", "L", quality=90),
}
SETS = {"split": TRANSFORMS, "crawl": CRAWL_TRANSFORMS}


def evaluate_transforms(recognizer, items, transforms=None, audit: dict | None = None) -> list[dict]:
    """One row per transform: exact match and character accuracy on the labels
    as given and, with `audit` ({image ref: label read by eye}, see audit.py),
    on the audited labels as well."""
    from experiments.captcha.preprocess import load_image

    transforms = transforms or TRANSFORMS
    raw = [load_image(it.path) for it in items]
    labels = [it.label for it in items]
    audited = [(audit or {}).get(it.ref, it.label) for it in items]
    rows = []
    for name, fn in transforms.items():
        x = np.stack(recognizer.preprocess_many([fn(img) for img in raw]))
        texts = [r.text for start in range(0, len(x), 512)
                 for r in recognizer.read_arrays(x[start:start + 512])]
        right = np.array([[a == b for a, b in zip(t, l)] for t, l in zip(texts, labels)])
        row = {"transform": name, "n": len(items),
               "exact_match": float(right.all(1).mean()),
               "char_accuracy": float(right.sum() / (N_CHARS * len(items)))}
        if audit:
            row["exact_match_audited"] = float(np.mean([t == l for t, l in zip(texts, audited)]))
        rows.append(row)
    return rows
