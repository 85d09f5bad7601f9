import io

import numpy as np
import pytest
from PIL import Image

from core.captcha.preprocess import (CaptchaImageError, Dn2Params, dn2, dn2_steps, load_image, nopre,
                                     trim_border)
from core.captcha.robustness import TRANSFORMS
from core.captcha.synth import make_captcha, make_dataset


def png_bytes(arr, fmt="PNG"):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt)
    return buf.getvalue()


def test_generated_captchas_look_like_the_real_ones():
    images, labels = make_dataset(20, seed=3)
    for img, lab in zip(images, labels):
        h, w, c = img.shape
        assert 101 <= w <= 158 and 44 <= h <= 48 and c == 3
        assert len(lab) == 4
    assert make_dataset(3, seed=3)[1] == labels[:3]  # deterministic


@pytest.mark.parametrize("seed", range(8))
def test_dn2_removes_the_drawn_arc(seed):
    img, _, (coef, thickness) = make_captcha(np.random.default_rng(seed))
    steps = dn2_steps(img)
    h, w = steps.denoised.shape
    # pixels on the drawn arc's centre line, in the margins where no glyph is
    xs = [x for x in range(w) if x < 0.08 * w or x > 0.96 * w]
    ys = np.clip(np.round(np.polyval(coef, xs)).astype(int), 0, h - 1)
    before = np.mean(steps.denoised[ys, xs] == 0)
    after = np.mean(steps.arc_removed[ys, xs] == 0)
    assert before > 0.8, "the arc should be ink after denoising"
    assert after < 0.1, f"{after:.0%} of the arc survived"
    # the fitted curve follows the drawn one across the whole width
    grid = np.arange(w)
    assert np.max(np.abs(np.polyval(steps.arc, grid) - np.polyval(coef, grid))) < 3.0


def test_shapes_and_ranges():
    img, _, _ = make_captcha(np.random.default_rng(0))
    a, b = nopre(img), dn2(img, Dn2Params(median=1))
    assert a.shape == (50, 130, 3) and b.shape == (50, 130, 1)
    assert 0 <= a.min() and a.max() <= 1 and set(np.unique(b)) <= set(np.linspace(0, 1, 256, dtype="float32"))


def test_png_data_in_a_jpg_named_file_opens_by_content(tmp_path):
    img, _, _ = make_captcha(np.random.default_rng(0))
    f = tmp_path / "1.jpg"
    f.write_bytes(png_bytes(img))
    np.testing.assert_array_equal(load_image(f), img)
    for fmt in ("GIF", "BMP", "JPEG"):
        assert load_image(png_bytes(img, fmt)).shape == img.shape


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"hello, not an image", "not a readable image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a readable image"),
    (b"x" * (3 * 1024 * 1024), "MB"),
])
def test_bad_files_get_a_clear_message(data, match):
    with pytest.raises(CaptchaImageError, match=match):
        load_image(data)


def test_truncated_and_oddly_shaped_images_are_refused():
    img, _, _ = make_captcha(np.random.default_rng(0))
    with pytest.raises(CaptchaImageError):
        load_image(png_bytes(img)[:200])
    with pytest.raises(CaptchaImageError, match="wide and short"):
        load_image(png_bytes(np.zeros((300, 40, 3), np.uint8)))
    with pytest.raises(CaptchaImageError, match="about 130x50"):
        load_image(png_bytes(np.zeros((1200, 3000, 3), np.uint8)))


@pytest.mark.parametrize("seed", range(6))
def test_trim_border_takes_off_added_margins_exactly(seed):
    img = make_captcha(np.random.default_rng(seed), width=120, height=46)[0]
    core, _ = trim_border(img)  # a generated captcha may lose a line or two, never more
    assert core.shape[0] >= 44 and core.shape[1] >= 118
    for padded, cut in [
        (np.pad(core, ((6, 6), (6, 6), (0, 0)), constant_values=255), (6, 6, 6, 6)),
        (np.pad(core, ((6, 6), (6, 6), (0, 0)), mode="edge"), (6, 6, 6, 6)),
        (np.pad(core, ((0, 0), (10, 0), (0, 0)), mode="edge"), (0, 0, 10, 0)),
        # wide and tall white bands: a top margin must not make a real column look plain
        (np.pad(core, ((12, 12), (30, 30), (0, 0)), constant_values=255), (12, 12, 30, 30)),
    ]:
        out, got = trim_border(padded)
        assert got == cut and np.array_equal(out, core)
    grey = TRANSFORMS["pad 6 px grey, saved as JPEG"](core)  # the robustness table's own copy
    out, got = trim_border(grey)
    assert got == (6, 6, 6, 6) and out.shape == core.shape  # JPEG's ringing stays below the bar


def test_trim_border_never_eats_a_plain_image():
    flat = np.full((46, 120, 3), 200, np.uint8)
    out, (t, b, l, r) = trim_border(flat)
    assert (t, b, l, r) == (13, 13, 36, 36) and out.shape[:2] == (20, 48)  # 30 % a side, no more


def test_no_real_captcha_loses_a_pixel_to_the_trim(real_captchas):
    # The reader trims every upload while training never did: that is only
    # the same model input if real captchas come through untouched.
    from core.captcha.data import list_items, split
    _, _, test = split(list_items(real_captchas))
    trimmed = [it.ref for it in test if any(trim_border(load_image(it.path))[1])]
    assert trimmed == []
