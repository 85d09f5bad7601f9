"""Captcha demo: upload captchas, read them with the committed model (or another run's)."""
import streamlit as st

from core.captcha.preprocess import CaptchaImageError, dn2_steps, load_image, upscale
from pages._common import captcha_models, recognizer, sample_captchas, t

st.title(t("Read a THSR captcha", "辨識高鐵驗證碼"))
st.markdown(t(
    "Upload one or more booking captchas (JPG, PNG, GIF or BMP). Each gets its four characters with the "
    "model's confidence per character, and the preprocessing steps of the seed's `dn2` pipeline for "
    "comparison. Files that are not usable captchas are refused one by one; the others are still read.",
    "上傳一張或多張訂票驗證碼（JPG、PNG、GIF 或 BMP）。每張都會顯示四個字元、模型對每個字元的信心，以及原報告 "
    "`dn2` 前處理的各步驟以供比較。無法使用的檔案會逐一說明原因，其餘照常辨識。"))

models = captcha_models()
choice = st.selectbox(t("model", "模型"), list(models), index=0)
try:
    rec = recognizer(str(models[choice]))
except Exception as e:  # a missing or foreign model file: say so, keep the page alive
    st.error(t(f"Cannot load the model: {e}", f"無法載入模型：{e}"))
    st.stop()
st.caption(t(f"Preprocessing for this model: `{rec.preprocess_name}` {rec.preprocess_options or ''}",
             f"此模型的前處理：`{rec.preprocess_name}` {rec.preprocess_options or ''}"))

files = st.file_uploader(t("captcha images", "驗證碼影像"), type=["jpg", "jpeg", "png", "gif", "bmp"],
                         accept_multiple_files=True)
inputs = [(f.name, f.getvalue()) for f in files or []]
if not inputs:
    samples = sample_captchas(4)
    if samples:
        st.info(t("No upload yet: showing captchas from the held-out test split.",
                  "尚未上傳：以下為保留測試集中的驗證碼。"))
        inputs = samples

for name, data in inputs:
    box = st.container(border=True)
    try:
        rgb = load_image(data)
    except CaptchaImageError as e:
        box.error(f"**{name}**: {e}")
        continue
    inner, cut = rec.trimmed(rgb)
    x = rec.model_preprocess(inner)  # what the model reads, shown below too
    reading = rec.read_arrays(x[None])[0]
    box.markdown(f"**{name}**")
    cols = box.columns([2, 1, 1, 1, 1])
    cols[0].image(upscale(rgb, 2), caption=t("uploaded", "上傳的影像"))
    for i, (ch, c) in enumerate(zip(reading.text, reading.confidence)):
        cols[i + 1].metric(t(f"character {i + 1}", f"第 {i + 1} 字"), ch, f"{100 * c:.1f} %",
                           delta_color="off")
    steps = dn2_steps(rgb)
    with box.expander(t("preprocessing steps", "前處理步驟")):
        if any(cut):
            st.caption(t("A plain margin was taken off before the model read it (top, bottom, left, right: "
                         f"{', '.join(map(str, cut))} px).",
                         f"模型辨識前先去除了素色邊框（上、下、左、右：{', '.join(map(str, cut))} 像素）。"))
        st.image([upscale(steps.raw, 2), upscale(steps.denoised, 2), upscale(steps.arc_removed, 2),
                  upscale(steps.resized, 2), upscale(x, 3)],
                 caption=[t("raw", "原圖"), t("denoised", "去雜訊"), t("arc removed", "移除弧線"),
                          t("resized 130x50 (dn2)", "縮放 130x50（dn2）"),
                          t("this model's input", "此模型的輸入")])
