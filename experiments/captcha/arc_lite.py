"""arc.py's steps for one captcha in plain Python and Pillow, without numpy,
for the cold path (light.ColdReader): importing numpy costs a cold
`predict` ~0.1 s, about as long as everything else it does together, and
this module undoes the arc of one captcha in a few milliseconds.

It makes arc.py's decisions, and so gives its pixels, with one difference
in arithmetic: the curve's normal equations are solved here by Gaussian
elimination, there by LAPACK, so the fitted coefficients may differ in the
last bits. Only two decisions compare a fitted float with a boundary
(rounding a centre to a row, a point within `tol` of the curve), and arc.py
nudges both past an exact tie (NUDGE); should a value here land within
AMBIGUOUS of a boundary, where last-bit differences could decide, undo()
returns None and the caller asks arc.py instead (measured: never, on the
16,000 real captchas). Everything else is integer arithmetic, or the same
float operations in the same order (the band costs).

ArcParams lives here, not in arc.py, so that both can use it without numpy.
"""
from __future__ import annotations

from dataclasses import dataclass

ARC_THRESHOLD = 128   # dark / light: real captchas have no grey level in 86-169
U0 = 64.0             # the fit's basis: u = (x - U0) / U0
NUDGE = 1e-7          # past an exact tie; far above a fit's rounding noise, far below a pixel
AMBIGUOUS = 1e-9      # nearer a boundary than this, last-bit differences could decide
TRACK_STEP = 12       # columns the curve is extended by at a time when followed from one margin
WINDOW = 3            # rows above and below the candidate bands that the band edges count changes in


@dataclass
class ArcParams:
    margin_left: float = 0.12   # fraction of the width at each side where only the arc is drawn
    margin_right: float = 0.08
    degree: int = 2             # the arc's centre line is close to a parabola
    reach: int = 2              # a band edge may move this many rows from the curve, per column
    prior: float = 0.3          # cost of moving an edge one row, in vertical transitions
    smooth: int = 5             # running median of the edges along the curve, columns
    threshold: int = ARC_THRESHOLD


def margins(w: int, p: ArcParams) -> tuple[int, int]:
    """Columns at the left and right side where only the arc is drawn."""
    return max(2, int(w * p.margin_left)), max(2, int(w * p.margin_right))


class Ambiguous(Exception):
    """A decision too near its boundary to be sure of arc.py's answer."""


def _floor_sure(v: float) -> int:
    """floor(v), or Ambiguous when v is within AMBIGUOUS of an integer."""
    f = int(v // 1)
    if v - f < AMBIGUOUS or f + 1 - v < AMBIGUOUS:
        raise Ambiguous
    return f


def _row_of(v: float) -> int:
    return _floor_sure(v + (0.5 + NUDGE))


def _value(coef, x: float) -> float:
    u = (x - U0) / U0
    y = 0.0
    for c in coef:
        y = y * u + c
    return y


def _solve(points, degree: int, ncoef: int):
    """Least squares of (x, y) points to the given degree in u, highest power
    first, padded with zeros to ncoef; None when the equations are singular."""
    d = degree + 1
    s = [0.0] * (2 * d - 1)
    t = [0.0] * d
    for x, y in points:
        u = (x - U0) / U0
        pk = 1.0
        for k in range(2 * d - 1):
            s[k] += pk
            if k < d:
                t[k] += pk * y
            pk *= u
    # rows and columns highest power first, as arc.py sets them up
    a = [[s[(d - 1 - i) + (d - 1 - j)] for j in range(d)] + [t[d - 1 - i]] for i in range(d)]
    for col in range(d):
        piv = max(range(col, d), key=lambda r: abs(a[r][col]))
        if abs(a[piv][col]) < 1e-9 * max(1.0, abs(a[col][col])):
            raise Ambiguous  # (near) singular: LAPACK's answer is not ours to guess
        a[col], a[piv] = a[piv], a[col]
        for r in range(col + 1, d):
            f = a[r][col] / a[col][col]
            for c in range(col, d + 1):
                a[r][c] -= f * a[col][c]
    c = [0.0] * d
    for i in range(d - 1, -1, -1):
        c[i] = (a[i][d] - sum(a[i][j] * c[j] for j in range(i + 1, d))) / a[i][i]
    return [0.0] * (ncoef - d) + c


def _robust_fit(points, degree: int, tol: float, ncoef: int, iters: int = 6):
    """arc._robust_fits for one image's points: (coef or None, kept mask)."""
    keep = [True] * len(points)
    coef = None
    for _ in range(iters):
        if sum(keep) < degree + 3:
            break
        coef = _solve([pt for pt, k in zip(points, keep) if k], degree, ncoef)
        bound = tol + NUDGE
        new = []
        for x, y in points:
            r = abs(y - _value(coef, x))
            if abs(r - bound) < AMBIGUOUS:
                raise Ambiguous
            new.append(r <= bound)
        if new == keep:
            break
        keep = new
    return coef, keep


def _candidates(reach: int):
    return [(dt, dd) for dt in range(-reach, reach + 1) for dd in (-1, 0, 1)]


def _columns(dark):
    """Per column of the dark/light image (values 0/1), whether it changes
    between rows y and y + 1, y = 0..h-2 (bytes of 0/1), by Pillow."""
    from PIL import ImageChops

    w, h = dark.size
    ch = ImageChops.difference(dark.crop((0, 0, w, h - 1)), dark.crop((0, 1, w, h))).tobytes()
    return [ch[x::w] for x in range(w)]


def _band_edges(cols, h: int, coef, t: int, width: int, p: ArcParams):
    """arc._band_edges for one image's columns below width: (top, bottom,
    margin, moved) lists, from _columns."""
    r0 = -WINDOW - p.reach
    nrows = t + p.reach + WINDOW - r0 + 1
    cands = [(dt, dd, dt - r0 - 1, t - 1 + dt + dd - r0, p.prior * (abs(dt) + abs(dd)))
             for dt, dd in _candidates(p.reach)]
    tops, bottoms, margins_, moved = [], [], [], []
    half = (t - 1) / 2
    for x in range(width):
        top0 = _row_of(_value(coef, x) - half)
        ch = cols[x]
        lo = top0 + r0                  # the window's first row; its pair j is rows lo + j, lo + j + 1
        if lo >= 0 and lo + nrows <= h:
            flips = [1 - 2 * c for c in ch[lo:lo + nrows - 1]]
            base = sum(ch[lo:lo + nrows - 1])
        else:                           # the window reaches past the image: pairs outside count nothing
            flips = [1 - 2 * ch[y] if 0 <= y < h - 1 else 0 for y in range(lo, lo + nrows - 1)]
            base = sum(ch[y] for y in range(max(lo, 0), min(lo + nrows - 1, h - 1)))
        costs = [(base + flips[above] + flips[below]) + prior for _, _, above, below, prior in cands]
        first = min(costs)
        best = costs.index(first)
        second = min(costs[:best] + costs[best + 1:])
        dt, dd = cands[best][0], cands[best][1]
        tops.append(top0 + dt)
        bottoms.append(top0 + t - 1 + dt + dd)
        margins_.append(second - first)
        moved.append(dt != 0 or dd != 0)
    return tops, bottoms, margins_, moved


def _refit(cols_dark, h, w, coef, seeds, t, width, p, passes):
    for _ in range(passes):
        top, bottom, margin, _ = _band_edges(cols_dark, h, coef, t, width, p)
        points = seeds + [(float(x), (top[x] + bottom[x]) / 2) for x in range(width) if margin[x] >= 1]
        xs = [x for x, _ in points]
        degree = p.degree if max(xs) - min(xs) >= w / 3 else 1
        refit, _ = _robust_fit(points, degree, 1.0, len(coef))
        if refit is not None:
            coef = refit
    return coef


def _running_median(v, k: int):
    r = k // 2
    n = len(v)
    pad = [v[0]] * r + list(v) + [v[-1]] * r
    if k % 2:
        return [sorted(pad[i:i + k])[r] for i in range(n)]
    out = []
    for i in range(n):
        s = sorted(pad[i:i + k])
        m = (s[k // 2 - 1] + s[k // 2]) / 2
        out.append(int(round(m)))  # numpy rounds a half to even, as round() does
    return out


def band(im, p: ArcParams | None = None):
    """(top, bottom) rows of the arc's band in each column of a greyscale
    Pillow image, None when the margins show no arc. Raises Ambiguous."""
    from PIL import ImageFilter

    p = p or ArcParams()
    w, h = im.size
    thr = p.threshold
    dark = im.point([1 if v < thr else 0 for v in range(256)])
    major = dark.point([255 * v for v in range(256)]).filter(ImageFilter.MedianFilter(3)).tobytes()
    cols_dark = _columns(dark)
    left, right = margins(w, p)
    points, lengths = [], []
    for x in list(range(left)) + list(range(w - right, w)):
        col = major[x::w]
        start = col.find(b"\xff")
        if start < 0:
            continue
        end = col.find(b"\x00", start)
        end = h if end < 0 else end
        if end < h and col.find(b"\xff", end) >= 0:
            continue  # more than one run
        if 3 <= end - start <= 12:
            points.append((float(x), (start + end - 1) / 2))
            lengths.append(end - start)
    ncoef = p.degree + 1
    coef, keep = _robust_fit(points, p.degree, 1.5, ncoef)
    if coef is None:
        return None
    kept = sorted(n for n, k in zip(lengths, keep) if k)
    t = (kept[(len(kept) - 1) // 2] + kept[len(kept) // 2]) // 2
    seeds = [pt for pt, k in zip(points, keep) if k]
    if max(x for x, _ in seeds) < w / 2:  # one margin only: follow the arc from it
        coef, _ = _robust_fit(seeds, 1, 1.5, ncoef)
        if coef is None:
            return None
        for end in range(int(max(x for x, _ in seeds)) + 1 + TRACK_STEP, w + TRACK_STEP, TRACK_STEP):
            coef = _refit(cols_dark, h, w, coef, seeds, t, min(end, w), p, passes=1)
    coef = _refit(cols_dark, h, w, coef, seeds, t, w, p, passes=2)
    top, bottom, _, _ = _band_edges(cols_dark, h, coef, t, w, p)
    if p.smooth > 1:
        top, bottom = _running_median(top, p.smooth), _running_median(bottom, p.smooth)
    return [min(max(v, 0), h) for v in top], [min(max(v, -1), h - 1) for v in bottom]


def undo(im, p: ArcParams | None = None):
    """The greyscale Pillow image with the arc's inversion undone (a new
    image), or None when a decision was too near its boundary to be sure
    (then arc.undo_arc_many decides)."""
    try:
        found = band(im, p)
    except Ambiguous:
        return None
    if found is None:
        return im.copy()
    w, _ = im.size
    px = bytearray(im.tobytes())
    for x, (top, bottom) in enumerate(zip(*found)):
        for y in range(top, bottom + 1):
            px[y * w + x] = 255 - px[y * w + x]
    out = im.copy()
    out.frombytes(bytes(px))
    return out
