"""Captcha demo: upload captchas, read them with the committed model (or another run's).

Each upload is read on its own: a file that cannot be read gets a message in
plain words, and the others are still read."""
import io

import streamlit as st

from experiments.captcha.preprocess import ASPECT, MAX_BYTES, MAX_SIDE, dn2_steps, load_image, upscale
from app_pages._common import T
from experiments.captcha.app import captcha_models, recognizer, sample_captchas

MB = 1024 * 1024


def _size(data: bytes):
    """(width, height) if PIL can open the bytes as an image, else None."""
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:
        return None


def problem(name: str, data: bytes) -> str:
    """Why an upload could not be read, in the reader's words (never an
    exception's name)."""
    if not data:
        return T("captcha_demo.err_empty", name=name)
    if len(data) > MAX_BYTES:
        return T("captcha_demo.err_too_big", name=name, mb=f"{len(data) / MB:.1f}", limit=MAX_BYTES // MB)
    size = _size(data)
    if size is None:
        return T("captcha_demo.err_not_image", name=name)
    w, h = size
    if max(w, h) > MAX_SIDE:
        return T("captcha_demo.err_too_large", name=name, w=w, h=h)
    if h < 10 or w < 10 or not ASPECT[0] <= w / h <= ASPECT[1]:
        return T("captcha_demo.err_shape", name=name, w=w, h=h)
    return T("captcha_demo.err_unreadable", name=name)


def show(box, name: str, rgb) -> None:
    """One upload's reading: the image, four characters with their confidence,
    the preprocessing steps."""
    inner, cut = rec.trimmed(rgb)
    x = rec.model_preprocess(inner)  # what the model reads, shown below too
    reading = rec.read_arrays(x[None])[0]
    steps = dn2_steps(rgb)
    box.markdown(f"**{name}**")
    cols = box.columns([2, 1, 1, 1, 1])
    cols[0].image(upscale(rgb, 2), caption=T("captcha_demo.uploaded"))
    for i, (ch, c) in enumerate(zip(reading.text, reading.confidence)):
        cols[i + 1].caption(T("captcha_demo.char", n=i + 1))
        cols[i + 1].subheader(ch, anchor=False)
        cols[i + 1].markdown(T("captcha_demo.confidence", pct=f"{100 * c:.1f} %"))
    with box.expander(T("captcha_demo.steps")):
        if any(cut):
            st.caption(T("captcha_demo.margin", cut=", ".join(map(str, cut))))
        st.image([upscale(steps.raw, 2), upscale(steps.denoised, 2), upscale(steps.arc_removed, 2),
                  upscale(steps.resized, 2), upscale(x, 3)],
                 caption=[T("captcha_demo.raw"), T("captcha_demo.denoised"), T("captcha_demo.arc_removed"),
                          T("captcha_demo.resized"), T("captcha_demo.model_input")])


st.title(T("captcha_demo.title"))
st.markdown(T("captcha_demo.intro"))

models = captcha_models()
choice = st.selectbox(T("captcha_demo.model"), list(models), index=0)
try:
    rec = recognizer(str(models[choice]))
except Exception as e:  # a missing or foreign model file: say so, keep the page alive
    st.error(T("captcha_demo.cannot_load", error=e))
    st.stop()
options = ", ".join(f"{k}={v}" for k, v in (rec.preprocess_options or {}).items())
st.caption(T("captcha_demo.preprocessing", name=rec.preprocess_name, options=f" (`{options}`)" if options else ""))
if rec.runner.startswith("onnxruntime"):
    st.caption(T("captcha_demo.runner_onnx", file=rec.path.name))
else:
    st.caption(T("captcha_demo.runner_keras", file=rec.path))

upload_mb = st.get_option("server.maxUploadSize")
limit = T("captcha_demo.limit", upload_mb=upload_mb, reader_mb=MAX_BYTES // MB)
# Streamlit writes its uploader's button and size line in English whatever the
# page's language; a style sheet puts ours (content/<lang>/captcha_demo.md) in
# their place. CSS `content` takes a quoted string: quotes and backslashes escaped.
_css = lambda key, **v: '"' + T(key, **v).replace("\\", "\\\\").replace('"', '\\"') + '"'  # noqa: E731
st.html("<style>[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p, "
        "[data-testid='stFileUploaderDropzoneInstructions'] span {font-size: 0} "
        "[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p::after "
        f"{{content: {_css('captcha_demo.upload-button')}; font-size: 0.875rem}} "
        "[data-testid='stFileUploaderDropzoneInstructions'] span::after "
        f"{{content: {_css('captcha_demo.upload-instructions', upload_mb=upload_mb)}; font-size: 0.875rem}}</style>")
files = st.file_uploader(T("captcha_demo.uploader"), type=["jpg", "jpeg", "png", "gif", "bmp"],
                         accept_multiple_files=True, help=limit)
st.caption(limit)
inputs = [(f.name, f.getvalue()) for f in files or []]
if not inputs:
    samples = sample_captchas(4)
    if samples:
        st.info(T("captcha_demo.no_upload"))
        inputs = samples

for name, data in inputs:
    box = st.container(border=True)
    try:
        rgb = load_image(data)
    except Exception:  # CaptchaImageError and anything a broken file may raise
        box.error(problem(name, data))
        continue
    slot = box.empty()
    try:
        show(slot.container(), name, rgb)
    except Exception:  # one bad file never stops the others; its half-drawn reading is replaced
        slot.error(T("captcha_demo.err_unreadable", name=name))
