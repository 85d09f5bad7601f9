"""The captcha reader's faults (issue 25): every file it is given is either
read or refused with a plain-words reason; none stops a batch, and deep or
transparent pixel formats are converted, not clipped.

The loader is tested directly (fast, no model); the command line once, over a
mixed batch; the demo page once, over a mixed upload."""
import io
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, goto
from experiments.captcha import ALPHABET
from experiments.captcha.preprocess import CaptchaImageError, load_image
from experiments.captcha.synth import make_captcha

# What a reader must never see in a message meant for a person.
EXCEPTION_WORDS = ("Error", "Exception", "Traceback", "errno", "Errno", "SyntaxError", "struct")
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif", "WEBP": ".webp"}


def encode(arr_or_im, fmt: str, **kw) -> bytes:
    im = arr_or_im if isinstance(arr_or_im, Image.Image) else Image.fromarray(arr_or_im)
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def captcha(seed: int = 0) -> np.ndarray:
    return make_captcha(np.random.default_rng(seed))[0]


def broken_png(data: bytes) -> bytes:
    """One flipped bit in the IDAT chunk's length: PIL opens the file and
    then raises SyntaxError ("broken PNG file") while decoding it."""
    b = bytearray(data)
    b[data.find(b"IDAT") - 2] ^= 1
    return bytes(b)


def sixteen_bit(rgb: np.ndarray, fmt: str = "PNG") -> bytes:
    """The image as 16-bit greyscale (PIL mode I;16), v -> v * 257 as a
    converter scaling 8 bits to 16 does."""
    grey = np.asarray(Image.fromarray(rgb).convert("L")).astype(np.uint16) * 257
    im = Image.fromarray(grey)
    assert im.mode == "I;16"
    return encode(im, fmt)


def grey8(rgb: np.ndarray) -> bytes:
    return encode(Image.fromarray(rgb).convert("L"), "PNG")


def assert_plain(message: str) -> None:
    assert message and "\n" not in message, repr(message)
    assert not any(w in message for w in EXCEPTION_WORDS), message


def check(source) -> str:
    """'read' or 'refused'; anything else fails the test."""
    try:
        rgb = load_image(source)
    except CaptchaImageError as e:
        assert_plain(str(e))
        return "refused"
    assert isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    assert rgb.shape[0] >= 10 and rgb.shape[1] >= 10
    return "read"


def mutations(data: bytes, rng: random.Random):
    """(name, bytes) for one encoded image: flipped bits, truncation, a zeroed
    run, garbage overwritten, appended or alone."""
    n = len(data)
    for k in range(1, 4):
        b = bytearray(data)
        for _ in range(k):
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        yield f"flip{k}", bytes(b)
    for frac in (0.02, 0.3, 0.7, 0.98):
        yield f"cut{frac}", data[:max(1, int(n * frac))]
    for size in (4, 64, 512):
        b = bytearray(data)
        i = rng.randrange(n)
        b[i:i + size] = bytes(len(b[i:i + size]))
        yield f"zero{size}", bytes(b)
    b = bytearray(data)
    i = rng.randrange(n)
    b[i:i + 32] = rng.randbytes(len(b[i:i + 32]))
    yield "garbage-inside", bytes(b)
    yield "garbage-after", data + rng.randbytes(100)
    yield "garbage-only", rng.randbytes(rng.randrange(1, 4000))
    yield "header-only", data[:rng.randrange(8, 40)]


@pytest.mark.filterwarnings("ignore::UserWarning")  # PIL on corrupt TIFF tags; the file still decodes
def test_loader_fuzz_reads_or_refuses_every_mutated_file(tmp_path):
    """A few hundred damaged files of six formats, read by path with wrong
    extensions too: an RGB uint8 array or CaptchaImageError, never another
    exception."""
    rng = random.Random(25)
    img = captcha(1)
    sources = {fmt: encode(img, fmt) for fmt in FORMATS}
    sources["PNG-16bit"] = sixteen_bit(img)
    sources["GIF-anim"] = encode(Image.fromarray(img), "GIF", save_all=True,
                                 append_images=[Image.fromarray(captcha(2))])
    outcomes = {"read": 0, "refused": 0}
    n = 0
    for fmt, data in sources.items():
        assert check(data) == "read", fmt
        for rep in range(3):
            for name, blob in mutations(data, rng):
                # every other file under a wrong extension: the loader opens by content
                ext = list(FORMATS.values())[(n + rep) % len(FORMATS)]
                path = tmp_path / f"{n:04d}-{fmt}-{name}{ext}"
                path.write_bytes(blob)
                outcomes[check(path if n % 2 else blob)] += 1
                n += 1
    assert n >= 300
    # not vacuous: plenty of both (JPEG, BMP and TIFF survive many flipped bits)
    assert outcomes["read"] >= 30 and outcomes["refused"] >= 100, outcomes


def png_chunk(kind: bytes, body: bytes) -> bytes:
    import struct
    import zlib
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_loader_names_each_kind_of_unreadable_file(tmp_path):
    import struct
    import zlib
    good = encode(captcha(), "PNG")
    broken = broken_png(good)
    with pytest.raises(SyntaxError):  # what PIL does with it, and what used to escape the loader
        with Image.open(io.BytesIO(broken)) as im:
            im.load()
    (tmp_path / "folder.jpg").mkdir()
    os.symlink(tmp_path / "loop-b", tmp_path / "loop-a")
    os.symlink(tmp_path / "loop-a", tmp_path / "loop-b")
    os.symlink(tmp_path / "gone", tmp_path / "dangling.png")
    (tmp_path / "cut.png").write_bytes(good[:len(good) // 2])
    sig = b"\x89PNG\r\n\x1a\n"
    zero = sig + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)) + png_chunk(b"IEND", b"")
    bomb = (sig + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 100)) + png_chunk(b"IEND", b""))
    cases = {
        tmp_path / "folder.jpg": "folder",
        tmp_path / "missing.jpg": "no such file",
        tmp_path / "loop-a": "loops",
        tmp_path / "dangling.png": "no such file",
        tmp_path / "cut.png": "damaged or cut short",
        broken: "damaged or cut short",
        b"": "empty",
        b"GIF89a" + b"\0" * 20: "not a readable image",
        zero: "not a readable image",
        bomb: "far more pixels",
        b"hello, not an image": "not a picture in a format this reader knows",
    }
    for source, words in cases.items():
        with pytest.raises(CaptchaImageError) as e:
            load_image(source)
        assert words in str(e.value), (source if isinstance(source, os.PathLike) else source[:20], str(e.value))
        assert_plain(str(e.value))
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.png"
        locked.write_bytes(good)
        locked.chmod(0)
        with pytest.raises(CaptchaImageError, match="permission"):
            load_image(locked)


def test_deep_and_transparent_pixel_formats_are_converted_not_clipped():
    img = captcha(3)
    grey = np.asarray(Image.fromarray(img).convert("L"))
    as_grey = np.repeat(grey[..., None], 3, axis=2)
    assert np.array_equal(load_image(grey8(img)), as_grey)
    # 16-bit greyscale in PNG and TIFF, 32-bit integer and float TIFF: the 8-bit image, exactly
    deep = {"PNG I;16": sixteen_bit(img), "TIFF I;16": sixteen_bit(img, "TIFF"),
            "TIFF I": encode(Image.fromarray(grey.astype(np.int32) * 257, "I"), "TIFF"),
            "TIFF F 0-1": encode(Image.fromarray(grey.astype(np.float32) / 255, "F"), "TIFF"),
            "TIFF F 0-255": encode(Image.fromarray(grey.astype(np.float32), "F"), "TIFF"),
            "TIFF I;16B": encode(Image.fromarray(grey.astype(">u2") * 257), "TIFF")}
    for name, data in deep.items():
        got = load_image(data)
        assert np.array_equal(got, as_grey), (name, np.abs(got.astype(int) - as_grey).max())
    # transparency is laid over white, as a browser shows it
    la = Image.fromarray(grey).convert("LA")
    assert np.array_equal(load_image(encode(la, "PNG")), as_grey)  # opaque: unchanged
    alpha = np.full(grey.shape, 255, np.uint8)
    alpha[:, :20] = 0
    la.putalpha(Image.fromarray(alpha))
    got = load_image(encode(la, "PNG"))
    assert (got[:, :20] == 255).all() and np.array_equal(got[:, 20:], as_grey[:, 20:])
    pal = Image.fromarray(img).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    idx = np.asarray(pal)
    pal.info["transparency"] = int(idx[0, 0])
    got = load_image(encode(pal, "PNG", transparency=int(idx[0, 0])))
    assert (got[idx == idx[0, 0]] == 255).all()
    rgba = np.dstack([img, alpha])
    got = load_image(encode(rgba, "PNG"))
    assert (got[:, :20] == 255).all() and np.array_equal(got[:, 20:], img[:, 20:])
    # CMYK and 1-bit: PIL's own conversion
    assert np.abs(load_image(encode(Image.fromarray(img).convert("CMYK"), "TIFF")).astype(int)
                  - img).max() <= 1
    bw = Image.fromarray(img).convert("1")
    assert np.array_equal(load_image(encode(bw, "PNG")), np.asarray(bw.convert("RGB")))
    # values no picture has: refused, not guessed
    wild = encode(Image.fromarray(grey.astype(np.float32) * 1e4, "F"), "TIFF")
    with pytest.raises(CaptchaImageError, match="pixel values run from"):
        load_image(wild)


def test_a_real_captcha_saved_16_bit_reads_as_the_8_bit_original(real_captchas):
    """Before: convert('RGB') clipped 16-bit to white and 7F37 read as 777F."""
    from experiments.captcha import read_labels
    from experiments.captcha.recognizer import Recognizer

    folder = real_captchas / "thsr-captcha" / "verified-11000"
    labels = read_labels(folder / "labels.csv")[:16]
    originals = [(folder / "images" / f"{n}.jpg").read_bytes() for n in range(1, 17)]
    deep = [sixteen_bit(load_image(b)) for b in originals]
    assert all(Image.open(io.BytesIO(d)).mode == "I;16" for d in deep)
    for b, d in zip(originals, deep):
        assert np.array_equal(load_image(d), load_image(grey8(load_image(b))))
    rec = Recognizer()
    want = [r.text for r in rec.read_many(originals)]
    got = [r.text for r in rec.read_many(deep)]
    assert got == want
    assert sum(w == l for w, l in zip(want, labels)) >= 14  # the model does read these


def test_cli_predict_reads_every_good_image_of_a_mixed_batch(tmp_path):
    """One subprocess for the whole batch: good images keep their stdout line
    in order, each bad one gets one plain line on stderr, exit 1."""
    good = [tmp_path / f"good{i}.png" for i in range(3)]
    for i, p in enumerate(good):
        p.write_bytes(encode(captcha(10 + i), "PNG"))
    img = captcha(20)
    g8, g16 = tmp_path / "grey8.png", tmp_path / "grey16.png"
    g8.write_bytes(grey8(img))
    g16.write_bytes(sixteen_bit(img))
    bad = {"broken.png": broken_png(encode(captcha(4), "PNG")), "empty.jpg": b"",
           "text.jpg": b"not an image", "cut.jpg": encode(captcha(5), "JPEG")[:300]}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "folder").mkdir()
    os.symlink(tmp_path / "loop2", tmp_path / "loop1")
    os.symlink(tmp_path / "loop1", tmp_path / "loop2")
    order = [tmp_path / "folder", good[0], tmp_path / "missing.jpg", tmp_path / "broken.png", g8,
             tmp_path / "empty.jpg", g16, tmp_path / "loop1", good[1], tmp_path / "text.jpg",
             tmp_path / "cut.jpg", good[2]]
    readable = [good[0], g8, g16, good[1], good[2]]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run([sys.executable, "-m", "experiments.captcha", "predict", *map(str, order)], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(p) for p in readable]
    texts = dict(line.split("\t") for line in lines)
    assert all(len(t) == 4 and set(t) <= set(ALPHABET) for t in texts.values())
    assert texts[str(g16)] == texts[str(g8)]  # 16-bit read as its 8-bit twin, not as white
    unreadable = [p for p in order if p not in readable]
    said = [line for line in r.stderr.splitlines() if line.startswith(str(tmp_path))]
    assert [line.split(": ", 1)[0] for line in said] == [str(p) for p in unreadable], r.stderr
    for line in said:
        assert_plain(line.split(": ", 1)[1])


def test_demo_page_answers_the_good_uploads_of_a_mixed_batch(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path / "no-data"))  # no real samples
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    goto(at, "captcha")
    at.run()
    img = captcha(30)
    uploads = [("good0.png", encode(captcha(31), "PNG"), "image/png"),
               ("broken.png", broken_png(encode(captcha(32), "PNG")), "image/png"),
               ("deep.png", sixteen_bit(img), "image/png"),
               ("empty.png", b"", "image/png"),
               ("grey.png", grey8(img), "image/png"),
               ("good1.jpg", encode(captcha(33), "JPEG", quality=95), "image/jpeg")]
    at.file_uploader[0].set_value(uploads)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 2, errors
    assert errors[0].startswith("**broken.png** ") and errors[1].startswith("**empty.png** is empty")
    assert not any(w in " ".join(errors) for w in EXCEPTION_WORDS), errors
    names = [m.value for m in at.markdown if m.value.startswith("**") and m.value.endswith("**")]
    assert names == ["**good0.png**", "**deep.png**", "**grey.png**", "**good1.jpg**"]
    chars = [h.value for h in at.subheader if len(h.value) == 1]
    assert len(chars) == 16 and set(chars) <= set(ALPHABET)
    assert chars[4:8] == chars[8:12]  # the 16-bit upload reads as its 8-bit twin
