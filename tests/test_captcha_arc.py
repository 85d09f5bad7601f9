"""Undoing the arc for a batch (arc.py), for one captcha without numpy
(arc_lite.py), and the margin trim's shortcut: each gives exactly what the
one-captcha code the committed models were trained with gave."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from experiments.captcha import arc, arc_lite
from experiments.captcha.preprocess import (get_batch_preprocessor, get_preprocessor, load_image, trim_border,
                                            undo_arc)
from experiments.captcha.synth import make_inverted

DIGESTS = Path(__file__).with_name("captcha_undo_digests.json")


def generated(n: int, seed: int = 0) -> list[np.ndarray]:
    """Generated captchas whose arc inverts, of other crawls' sizes and framings."""
    rng = np.random.default_rng(seed)
    sizes = [(140, 48), (133, 45), (101, 44), (160, 50), (128, 46)]
    return [make_inverted(rng, scale=sizes[i % len(sizes)], frame=i % 4).image[..., 0] for i in range(n)]


def real_greys(root: Path, per_source: int) -> list[np.ndarray]:
    out = []
    for source in ("handlabeled-5000", "verified-11000"):
        for i in range(1, per_source + 1):
            rgb = trim_border(load_image(root / "thsr-captcha" / source / "images" / f"{i}.jpg"))[0]
            out.append(np.asarray(Image.fromarray(rgb).convert("L")))
    return out


def test_a_batch_gives_each_captcha_what_it_gets_alone():
    """Mixed sizes on one canvas, a captcha with no arc to find (blank) and
    one whose right margin a glyph fills (the arc followed from the left)."""
    images = generated(12)
    blank = np.full((46, 120), 230, np.uint8)
    one_margin = images[0].copy()
    one_margin[:, -12:] = 20  # the right margin all dark: no single run there
    images += [blank, one_margin]
    batch = arc.undo_arc_many(images)
    for g, got in zip(images, batch):
        assert got.shape == g.shape and got.dtype == np.uint8
        assert np.array_equal(got, arc.undo_arc_many([g])[0])
    assert np.array_equal(batch[-2], blank)
    fits = arc.fit_arc_bands(images)
    assert fits[-2] is None and fits[-1] is not None and len(fits[-1].top) == images[-1].shape[1]
    assert fits[-1].seeds[:, 0].max() < images[-1].shape[1] / 2  # seeds on the left only: followed from there
    assert arc.undo_arc_many([]) == [] and arc.fit_arc_bands([]) == []


def test_the_batch_preprocessing_matches_one_at_a_time():
    rgbs = [np.repeat(g[..., None], 3, 2) for g in generated(6, seed=3)]
    for options in ({"height": 40, "width": 112, "undo_arc": True}, {"height": 32, "width": 96}):
        one = get_preprocessor("grey", **options)
        many = get_batch_preprocessor("grey", **options)(rgbs)
        assert all(np.array_equal(one(r), m) for r, m in zip(rgbs, many))
    dn2 = get_batch_preprocessor("dn2")(rgbs[:2])
    assert all(np.array_equal(get_preprocessor("dn2")(r), m) for r, m in zip(rgbs, dn2))


def test_the_plain_python_undo_gives_numpys_pixels():
    images = generated(20, seed=5)
    images.append(np.full((46, 120), 230, np.uint8))
    for g in images:
        lite = arc_lite.undo(Image.fromarray(g))
        assert lite is not None, "a generated captcha should never be ambiguous"
        assert np.array_equal(np.asarray(lite), undo_arc(g))


def test_the_plain_python_undo_gives_numpys_pixels_on_real_captchas(real_captchas):
    """100 of each set (all 16,000 agree, measured: see arc_lite.py)."""
    greys = real_greys(real_captchas, 100)
    want = arc.undo_arc_many(greys)
    for g, w in zip(greys, want):
        lite = arc_lite.undo(Image.fromarray(g))
        assert lite is not None and np.array_equal(np.asarray(lite), w)


def test_an_ambiguous_decision_is_left_to_numpy(monkeypatch):
    """A value too near a boundary makes arc_lite answer None (the cold
    reader then hands the captcha to the full reader)."""
    g = generated(1)[0]
    monkeypatch.setattr(arc_lite, "AMBIGUOUS", 10.0)  # every decision "too near"
    assert arc_lite.undo(Image.fromarray(g)) is None


def test_todays_preprocessing_gives_the_inputs_the_committed_runs_were_read_with(real_captchas):
    """The model inputs of the first 100 captchas of each set, batched and
    one at a time, hash as they did with the one-captcha code of 2ba87a7
    (over all 16,000 they agree too, measured)."""
    want = json.loads(DIGESTS.read_text())["digests"]
    refs = list(want)
    rgbs = [trim_border(load_image(real_captchas / "thsr-captcha" / r.split("/")[0] / "images" / r.split("/")[1]))[0]
            for r in refs]
    options = {"height": 40, "width": 112, "undo_arc": True}
    batched = get_batch_preprocessor("grey", **options)(rgbs)
    one = get_preprocessor("grey", **options)
    for ref, rgb, x in zip(refs, rgbs, batched):
        assert hashlib.sha1(x.tobytes()).hexdigest() == want[ref], ref
    assert all(hashlib.sha1(one(rgb).tobytes()).hexdigest() == want[ref] for ref, rgb in zip(refs[::20], rgbs[::20]))


@pytest.mark.parametrize("margin", ["none", "white", "edge", "grey-jpeg"])
def test_the_trim_shortcut_decides_as_the_full_passes(monkeypatch, margin):
    """trim_border's four-call shortcut answers "nothing to take off" only
    where its twelve-call passes would take nothing off."""
    import io

    from experiments.captcha import preprocess
    rgb = np.repeat(generated(1, seed=7)[0][..., None], 3, 2)
    if margin == "white":
        rgb = np.pad(rgb, ((4, 4), (6, 6), (0, 0)), constant_values=255)
    elif margin == "edge":
        rgb = np.pad(rgb, ((3, 3), (5, 5), (0, 0)), mode="edge")
    elif margin == "grey-jpeg":
        buf = io.BytesIO()
        Image.fromarray(np.pad(rgb, ((5, 5), (5, 5), (0, 0)), constant_values=200)).save(buf, "JPEG", quality=90)
        rgb = load_image(buf.getvalue())
    fast = trim_border(rgb)
    monkeypatch.setattr(preprocess, "_no_plain_edge", lambda a: False)
    slow = trim_border(rgb)
    assert fast[1] == slow[1] and np.array_equal(fast[0], slow[0])
    assert (fast[1] == (0, 0, 0, 0)) == (margin == "none")
