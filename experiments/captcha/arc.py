"""Finding the THSR captcha's arc band and undoing its inversion, for many
captchas at once (numpy): see preprocess.py, "The arc's inversion", for why.

The steps, per captcha (fit_arc_bands does them for a whole batch in one
pass of array calls, which is what makes a batch cheap: the same steps one
captcha at a time cost 1.5-2 ms, almost all of it the overhead of ~150 small
numpy calls):
1. the single dark runs of the side margins' columns (after a 3x3 majority),
   where only the arc is drawn, and a parabola through their centres,
   refitted without the points further than 1.5 rows from it;
2. when only the left margin has such runs (a glyph fills the right one), a
   line followed rightwards 12 columns at a time;
3. twice: the curve refitted to those points plus every column whose band
   edges are clear around it (_band_edges);
4. each column's band edges placed by _band_edges, smoothed along the curve
   by a running median; the band's pixels become 255 - v.

Numerics, chosen so that arc_lite.py (the same steps in plain Python, for a
cold start without numpy) makes the same decisions: the curve is fitted in
u = (x - 64) / 64 (a well-conditioned basis, and an exact one: 64 is a power
of two) by its normal equations, and the two decisions that compare a fitted
float with a boundary (rounding the centre to a row; a point within `tol` of
the curve) are nudged by NUDGE past an exact tie, which the fit's rounding
noise (~1e-12) would otherwise break at random.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from experiments.captcha.arc_lite import ARC_THRESHOLD, NUDGE, TRACK_STEP, U0, WINDOW, ArcParams, margins  # noqa: F401


@dataclass
class ArcFit:
    coef: np.ndarray            # centre line in u = (x - U0) / U0, highest power first: see centre()
    thickness: int              # rows the band covers in a margin column (real: 5)
    top: np.ndarray             # per column, the band's first and last row (inclusive)
    bottom: np.ndarray
    seeds: np.ndarray = field(repr=False)   # (x, y) of the margin columns the curve was first fitted to
    moved: np.ndarray = field(repr=False, default=None)  # columns whose edges the evidence moved off the curve

    def mask(self, shape) -> np.ndarray:
        ys = np.arange(shape[0])[:, None]
        return (ys >= self.top[None, :]) & (ys <= self.bottom[None, :])

    def centre(self, x) -> np.ndarray:
        """The fitted centre line's row at columns x."""
        return curve(self.coef, x)


def row_of(v):
    """A fitted centre's row: v rounded, an exact half upwards."""
    return np.floor(v + (0.5 + NUDGE)).astype(int)


def _u(x):
    return (x - U0) / U0


def curve(coef: np.ndarray, x) -> np.ndarray:
    """One fitted centre line (coefficients in u, highest first) at columns x."""
    return np.polyval(coef, _u(np.asarray(x, float)))


def _polyval(coef: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each image's curve (coef (N, D) in u, highest power first) at the
    columns x (M,), shared by every image: (N, M)."""
    u = _u(x)
    y = np.zeros((len(coef), len(u)))
    for k in range(coef.shape[1]):
        y = y * u + coef[:, k:k + 1]
    return y


def _solve(x, y, w, degree, ncoef: int):
    """Least-squares coefficients (N, ncoef), highest power first, of the
    points (x[m], y[n, m]) with weights w (N, M) (0/1), each image to its own
    degree (the powers above it come out 0), through the normal equations in u."""
    D = ncoef
    powers = _u(x)[:, None] ** np.arange(2 * D - 1)                # (M, 2D-1)
    s = w @ powers
    t = (w * y) @ powers[:, :D]
    i = np.arange(D)
    a = s[:, (D - 1 - i)[:, None] + (D - 1 - i)[None, :]]         # (N, D, D)
    b = t[:, D - 1 - i]
    unused = i[None, :] < (D - 1 - degree)[:, None]                # powers above an image's degree
    a[unused] = 0
    a.transpose(0, 2, 1)[unused] = 0
    a[:, i, i] = np.where(unused, 1.0, a[:, i, i])
    b[unused] = 0
    try:
        return np.linalg.solve(a, b[..., None])[..., 0]
    except np.linalg.LinAlgError:  # points on fewer columns than the degree needs: least norm, image by image
        return np.stack([np.linalg.lstsq(ai, bi, rcond=None)[0] for ai, bi in zip(a, b)])


def _robust_fits(x, y, valid, degree, tol: float, ncoef: int, iters: int = 6):
    """Each image's least squares over its valid points (x (M,) shared, y
    and valid (N, M)), refitted without the points further than tol from the
    curve until the kept set settles (a glyph's stroke in a margin drops
    out). Returns coef (N, ncoef), whether each image got a fit (at least
    degree + 3 points), and the points kept."""
    n = len(y)
    degree = np.broadcast_to(np.asarray(degree), (n,)).astype(int)
    coef = np.zeros((n, ncoef))
    fitted = np.zeros(n, bool)
    keep = valid.copy()
    active = np.ones(n, bool)
    for _ in range(iters):
        active &= keep.sum(1) >= degree + 3
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        c = _solve(x, y[idx], keep[idx].astype(float), degree[idx], ncoef)
        coef[idx] = c
        fitted[idx] = True
        new = valid[idx] & (np.abs(y[idx] - _polyval(c, x)) <= tol + NUDGE)
        same = (new == keep[idx]).all(1)
        keep[idx[~same]] = new[~same]
        active[idx[same]] = False
    return coef, fitted, keep


def _majority3(dark: np.ndarray) -> np.ndarray:
    """3x3 median of dark/light images (N, H, W), edges replicated: dark
    where at least 5 of the 9 are."""
    n, h, w = dark.shape
    a = np.pad(dark, ((0, 0), (1, 1), (1, 1)), mode="edge").astype(np.uint8)
    rows = a[:, :-2] + a[:, 1:-1] + a[:, 2:]
    return rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:] >= 5


@functools.lru_cache(maxsize=None)
def _candidates(reach: int) -> np.ndarray:
    """(shift of the top edge, change of thickness) of every band _band_edges
    weighs, in the order it breaks ties."""
    return np.array([(dt, dd) for dt in range(-reach, reach + 1) for dd in (-1, 0, 1)])


def _band_edges(dark, centre, t, h, p: ArcParams):
    """Each column's band edges, each image (dark (N, H, W), centre (N, W),
    thickness t and height h (N,)): of the bands within `reach` rows of the
    curve (thickness t-1..t+1), the one whose inversion leaves the fewest
    dark/light changes down the column (a stroke crossing the arc is whole
    again, the background plain), each row moved off the curve costing
    `prior`. Returns top, bottom, the margin of the best over the next, and
    whether the best moved off the curve."""
    n, _, w = dark.shape
    top0 = row_of(centre - ((t - 1) / 2)[:, None])
    rows = np.arange(-WINDOW - p.reach, int(t.max()) + p.reach + WINDOW + 1)   # relative to top0
    ys = top0[:, None, :] + rows[None, :, None]                                 # (N, R, W)
    inside = (ys >= 0) & (ys < h[:, None, None]) & (rows[None, :, None] <= (t + p.reach + WINDOW)[:, None, None])
    col = inside & np.take_along_axis(dark, np.clip(ys, 0, (h - 1)[:, None, None]), axis=1)
    pair = inside[:, 1:] & inside[:, :-1]                                       # changes inside the image only
    # Inverting a band flips exactly two of the column's row-to-row changes,
    # one at each of its edges, so each candidate's count is the column's own
    # plus two corrections.
    change = col[:, 1:] != col[:, :-1]
    flip = np.where(pair, 1 - 2 * change.astype(np.int64), 0)
    dt, dd = _candidates(p.reach).T
    above = dt - rows[0] - 1                                                    # the change rows at the top edge
    below = (t - 1)[:, None] + (dt + dd)[None, :] - rows[0]                     # and at the bottom edge
    base = (change & pair).sum(1)
    costs = (base[:, None, :] + flip[:, above, :] + np.take_along_axis(flip, below[:, :, None], axis=1)
             + (p.prior * (abs(dt) + abs(dd)))[None, :, None])
    best = costs.argmin(1)
    first = np.take_along_axis(costs, best[:, None], axis=1)[:, 0]
    np.put_along_axis(costs, best[:, None], np.inf, axis=1)
    dt, dd = dt[best], dd[best]
    return (top0 + dt, top0 + (t - 1)[:, None] + dt + dd, costs.min(1) - first, (dt != 0) | (dd != 0))


def _running_median(v: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Each row's running median (window k, edges replicated) over its first w[i] values."""
    n, wc = v.shape
    r = k // 2
    cols = np.arange(-r, wc + r).clip(0)
    cols = np.minimum(cols[None, :], (w - 1)[:, None])                          # edge replication at w[i]
    pad = np.take_along_axis(v, cols, axis=1)
    windows = np.lib.stride_tricks.sliding_window_view(pad, k, axis=1)          # (N, W, k)
    if k % 2:
        return np.sort(windows, axis=2)[:, :, k // 2]
    return np.median(windows, axis=2).round().astype(int)


def canvas(images: list[np.ndarray]) -> np.ndarray:
    """The greyscale images on one (N, H, W) canvas, each edge-replicated
    beyond its own size (so a 3x3 filter sees what it would alone)."""
    hc, wc = max(g.shape[0] for g in images), max(g.shape[1] for g in images)
    out = np.empty((len(images), hc, wc), np.uint8)
    for i, g in enumerate(images):
        h, w = g.shape
        out[i, :h, :w] = g
        out[i, :h, w:] = g[:, -1:]
        out[i, h:] = out[i, h - 1:h]
    return out


@dataclass
class _Margins:
    """Step 1 for a batch: the side margins' single dark runs and the curve through them."""
    dark: np.ndarray
    x: np.ndarray          # (W,) the columns
    y: np.ndarray          # its centre row
    length: np.ndarray
    valid: np.ndarray      # a single run of 3-12 rows in a margin column
    coef: np.ndarray
    fitted: np.ndarray
    keep: np.ndarray


def margin_fits(g: np.ndarray, h: np.ndarray, w: np.ndarray, p: ArcParams) -> _Margins:
    n, hc, wc = g.shape
    dark = g < p.threshold
    major = _majority3(dark) & (np.arange(hc)[None, :, None] < h[:, None, None])
    d = np.diff(np.pad(major.astype(np.int8), ((0, 0), (1, 1), (0, 0))), axis=1)
    up, down = d == 1, d == -1
    start, end = up.argmax(1), down.argmax(1)
    length = end - start
    cols = np.arange(wc)[None, :]
    left, right = (np.array(m) for m in zip(*(margins(int(wi), p) for wi in w)))
    in_margin = (cols < left[:, None]) | ((cols >= (w - right)[:, None]) & (cols < w[:, None]))
    valid = in_margin & (up.sum(1) == 1) & (length >= 3) & (length <= 12)
    x = np.arange(wc, dtype=float)
    y = (start + end - 1) / 2
    coef, fitted, keep = _robust_fits(x, y, valid, p.degree, tol=1.5, ncoef=p.degree + 1)
    return _Margins(dark, x, y, length, valid, coef, fitted, keep)


def _median_length(length, keep):
    """int(np.median(length[keep])) of each image."""
    s = np.sort(np.where(keep, length, np.iinfo(np.int64).max), axis=1)
    n = keep.sum(1)
    rows = np.arange(len(s))
    return ((s[rows, (n - 1) // 2] + s[rows, n // 2]) // 2).astype(int)


def _refit(dark, coef, seeds, sx, sy, t, h, w, width, p: ArcParams, passes: int):
    """The curves refitted to the seeds plus each image's columns below
    width[i] whose band edges are clear around the current curve; a straight
    line until a third of the image's width is covered (a parabola on one
    margin's columns alone extrapolates wildly)."""
    cols = np.arange(dark.shape[2], dtype=float)
    px = np.concatenate([sx, cols])
    for _ in range(passes):
        top, bottom, margin, _ = _band_edges(dark, _polyval(coef, cols), t, h, p)
        clear = (margin >= 1) & (cols < width[:, None])
        py = np.concatenate([sy, (top + bottom) / 2], 1)
        pv = np.concatenate([seeds, clear], 1)
        span = np.where(pv, px, np.inf).min(1), np.where(pv, px, -np.inf).max(1)
        degree = np.where(span[1] - span[0] >= w / 3, p.degree, 1)
        refit, fitted, _ = _robust_fits(px, py, pv, degree, tol=1.0, ncoef=coef.shape[1])
        coef = np.where(fitted[:, None], refit, coef)
    return coef


def fit_arc_bands(images: list[np.ndarray], p: ArcParams | None = None) -> list[ArcFit | None]:
    """The arc's band in each greyscale captcha (uint8 H x W), or None where
    the margins show no arc."""
    if not images:
        return []
    return _fits(canvas(images), images, p or ArcParams())[0]


def _fits(g: np.ndarray, images: list[np.ndarray], p: ArcParams):
    """fit_arc_bands on the images' canvas; also the canvas's band mask."""
    n, hc, wc = g.shape
    h = np.array([im.shape[0] for im in images])
    w = np.array([im.shape[1] for im in images])
    m = margin_fits(g, h, w, p)
    out: list[ArcFit | None] = [None] * n
    band = np.zeros(g.shape, bool)
    live = np.flatnonzero(m.fitted)
    if not len(live):
        return out, band
    t = _median_length(m.length[live], m.keep[live])
    seeds, sx, sy = m.keep[live], m.x, m.y[live]
    coef = m.coef[live]
    dark, hl, wl = m.dark[live], h[live], w[live]
    one = np.where(seeds, sx, -1).max(1) < wl / 2   # one margin only (a glyph fills the other): follow the arc
    for k in np.flatnonzero(one):
        c, ok, _ = _robust_fits(sx, sy[k:k + 1], seeds[k:k + 1], 1, tol=1.5, ncoef=coef.shape[1])
        if not ok[0]:  # too few margin columns left to follow (verified-11000/3289): no arc found
            t[k] = -1
            continue
        xmax = int(sx[seeds[k]].max())
        for end in range(xmax + 1 + TRACK_STEP, int(wl[k]) + TRACK_STEP, TRACK_STEP):
            c = _refit(dark[k:k + 1], c, seeds[k:k + 1], sx, sy[k:k + 1], t[k:k + 1], hl[k:k + 1],
                       wl[k:k + 1], np.array([min(end, wl[k])]), p, passes=1)
        coef[k] = c[0]
    found = t >= 0
    live, t, seeds, sy, coef, dark, hl, wl = (a[found] for a in (live, t, seeds, sy, coef, dark, hl, wl))
    if not len(live):
        return out, band
    coef = _refit(dark, coef, seeds, sx, sy, t, hl, wl, wl, p, passes=2)  # the middle's clear columns pin it down
    top, bottom, _, moved = _band_edges(dark, _polyval(coef, sx), t, hl, p)
    if p.smooth > 1:  # an edge moved in one column alone is a noise pixel beside the band, not the band
        top, bottom = _running_median(top, wl, p.smooth), _running_median(bottom, wl, p.smooth)
    top = np.clip(top, 0, hl[:, None])
    bottom = np.clip(bottom, -1, (hl - 1)[:, None])
    rows = np.arange(hc)[None, :, None]
    band[live] = (rows >= top[:, None, :]) & (rows <= bottom[:, None, :])
    for k, i in enumerate(live):
        wi = int(wl[k])
        s = seeds[k]
        out[i] = ArcFit(coef=coef[k], thickness=int(t[k]), top=top[k, :wi], bottom=bottom[k, :wi],
                        seeds=np.stack([sx[s], sy[k][s]], 1), moved=moved[k, :wi])
    return out, band


def undo_arc_many(images: list[np.ndarray], p: ArcParams | None = None) -> list[np.ndarray]:
    """Each greyscale captcha with the arc's inversion undone: every pixel of
    its fitted band becomes 255 - v; unchanged where no arc is found."""
    if not images:
        return []
    g = canvas(images)
    _, band = _fits(g, images, p or ArcParams())
    flipped = np.where(band, 255 - g, g)
    return [flipped[i, :im.shape[0], :im.shape[1]].copy() for i, im in enumerate(images)]
