"""Captcha preprocessing: nopre, dn2 (and ours) step by step, parameters live."""
import streamlit as st

from core.captcha.preprocess import (CaptchaImageError, Dn2Params, dn2_steps, grey, load_image, nopre,
                                     overlay_arc, upscale)
from pages._common import generated_captcha, sample_captchas, t

st.title(t("Captcha preprocessing, step by step", "驗證碼前處理逐步說明"))
st.markdown(t(
    "The seed compared two preprocessings. **nopre** only resizes the captcha to 130x50 and scales it to "
    "[0, 1]. **dn2** turns it grey, removes the salt-and-pepper noise with a median filter, keeps the dark "
    "pixels (a threshold), then removes the arc: in the left and right margins no character stands, so "
    "the ink found there belongs to the arc; a parabola fitted to it is extended across the image and a "
    "band around it is erased. Our model uses neither cleaning (**grey**: greyscale, resized to 112x40) and learns "
    "to ignore the noise and the arc. Move the sliders to see what each parameter does.",
    "原報告比較了兩種前處理。**nopre** 只把驗證碼縮放為 130x50 並正規化到 [0, 1]。**dn2** 先轉灰階，以中值"
    "濾波去除椒鹽雜訊，依門檻保留深色像素，再移除弧線：左右邊緣沒有字元，那裡的墨跡屬於弧線；以拋物線擬合"
    "後延伸到整張影像，並擦除其周圍的一條帶狀區域。本專案的模型兩者都不用（**grey**：灰階、縮放為 112x40），由模型"
    "自行學會忽略雜訊與弧線。調整滑桿即可看到每個參數的作用。"))

samples = sample_captchas(12, seed=1)
src = st.radio(t("image", "影像"), [t("real test captcha", "真實測試驗證碼"), t("generated", "合成"),
                                     t("upload", "上傳")] if samples else [t("generated", "合成"), t("upload", "上傳")],
               horizontal=True)
rgb = None
if src == t("real test captcha", "真實測試驗證碼"):
    i = st.slider(t("sample", "樣本"), 1, len(samples), 1)
    rgb = load_image(samples[i - 1][1])
    st.caption(samples[i - 1][0])
elif src == t("generated", "合成"):
    seed = st.number_input("seed", 0, 10_000, 0)
    rgb = generated_captcha(int(seed))
    st.caption(t("THSR-style synthetic captcha (core/captcha/synth.py)", "仿高鐵的合成驗證碼（core/captcha/synth.py）"))
else:
    up = st.file_uploader(t("a captcha", "一張驗證碼"), type=["jpg", "jpeg", "png", "gif", "bmp"])
    if up is not None:
        try:
            rgb = load_image(up.getvalue())
        except CaptchaImageError as e:
            st.error(f"**{up.name}**: {e}")
if rgb is None:
    st.stop()

d = Dn2Params()
c = st.columns(3)
params = Dn2Params(
    median=c[0].select_slider(t("median filter size", "中值濾波大小"), [1, 3, 5, 7], d.median),
    threshold=c[1].slider(t("ink threshold (grey level)", "墨跡門檻（灰階值）"), 0, 255, d.threshold),
    band=c[2].slider(t("erased band, ± pixels", "擦除帶寬（± 像素）"), 0, 8, d.band),
    margin_left=c[0].slider(t("left margin searched (fraction)", "左側搜尋範圍（比例）"), 0.02, 0.3, d.margin_left),
    margin_right=c[1].slider(t("right margin searched (fraction)", "右側搜尋範圍（比例）"), 0.02, 0.3, d.margin_right),
    degree=c[2].slider(t("curve degree", "曲線次數"), 1, 4, d.degree),
)
steps = dn2_steps(rgb, params)
st.subheader("dn2")
st.image([upscale(rgb, 3), upscale(steps.denoised, 3), upscale(overlay_arc(rgb, steps), 3),
          upscale(steps.arc_removed, 3), upscale(steps.resized, 2)],
         caption=[t("raw", "原圖"), t("denoised + threshold", "去雜訊＋門檻"),
                  t("fitted arc (red band)", "擬合的弧線（紅色帶）"), t("arc removed", "移除弧線"),
                  t("resized to 130x50", "縮放為 130x50")])
if steps.arc is None:
    st.warning(t("No arc found in the margins with these settings: nothing erased.",
                 "此設定下在邊緣找不到弧線：未擦除任何像素。"))
else:
    st.caption(t("fitted y(x) coefficients: ", "擬合 y(x) 係數：") + ", ".join(f"{v:.4g}" for v in steps.arc))
st.subheader(t("nopre and ours", "nopre 與本專案"))
st.image([upscale(nopre(rgb), 2), upscale(grey(rgb, 40, 112), 3)],
         caption=[t("nopre: 130x50 colour", "nopre：130x50 彩色"), t("grey (ours): 112x40", "grey（本專案）：112x40")])
