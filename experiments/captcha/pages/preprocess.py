"""Captcha preprocessing: nopre, dn2 (and ours) step by step, parameters live;
then how the arc's inversion is found and undone (issue 24)."""
import numpy as np
import streamlit as st

from experiments.captcha.preprocess import (ArcParams, CaptchaImageError, Dn2Params, arc_views, dn2_steps, evidence_shares,
                                     grey, load_image, nopre, overlay_arc, undo_arc_steps, upscale)
from experiments.captcha.synth import make_captcha
from app_pages._common import T
from experiments.captcha.app import sample_captchas

st.title(T("captcha_preprocess.title"))
st.markdown(T("captcha_preprocess.intro"))

samples = sample_captchas(12, seed=1)
sources = {T(f"captcha_preprocess.source.{s}"): s for s in (("real",) if samples else ()) + ("generated", "upload")}
src = sources[st.radio(T("captcha_preprocess.source"), list(sources), horizontal=True)]
rgb = None
if src == "real":
    i = st.slider(T("captcha_preprocess.sample"), 1, len(samples), 1)
    rgb = load_image(samples[i - 1][1])
    st.caption(samples[i - 1][0])
elif src == "generated":
    seed = st.number_input(T("captcha_preprocess.seed"), 0, 10_000, 0)
    rgb = make_captcha(np.random.default_rng(int(seed)), arc="invert")[0]
    st.caption(T("captcha_preprocess.generated-caption"))
else:
    up = st.file_uploader(T("captcha_preprocess.upload"), type=["jpg", "jpeg", "png", "gif", "bmp"])
    if up is not None:
        try:
            rgb = load_image(up.getvalue())
        except CaptchaImageError as e:
            st.error(T("captcha_preprocess.upload-error", name=up.name, error=e))
if rgb is None:
    st.stop()

d = Dn2Params()
c = st.columns(3)
params = Dn2Params(
    median=c[0].select_slider(T("captcha_preprocess.median"), [1, 3, 5, 7], d.median),
    threshold=c[1].slider(T("captcha_preprocess.threshold"), 0, 255, d.threshold),
    band=c[2].slider(T("captcha_preprocess.band"), 0, 8, d.band),
    margin_left=c[0].slider(T("captcha_preprocess.margin-left"), 0.02, 0.3, d.margin_left),
    margin_right=c[1].slider(T("captcha_preprocess.margin-right"), 0.02, 0.3, d.margin_right),
    degree=c[2].slider(T("captcha_preprocess.degree"), 1, 4, d.degree),
)
steps = dn2_steps(rgb, params)
st.subheader(T("captcha_preprocess.dn2"))
st.image([upscale(rgb, 3), upscale(steps.denoised, 3), upscale(overlay_arc(rgb, steps), 3),
          upscale(steps.arc_removed, 3), upscale(steps.resized, 2)],
         caption=[T(f"captcha_preprocess.step.{k}") for k in ("raw", "denoised", "arc", "arc-removed", "resized")])
if steps.arc is None:
    st.warning(T("captcha_preprocess.no-arc"))
else:
    st.caption(T("captcha_preprocess.coefficients", values=", ".join(f"{v:.4g}" for v in steps.arc)))

st.subheader(T("captcha_preprocess.undo"))
st.markdown(T("captcha_preprocess.undo.intro"))
a = ArcParams()
c = st.columns(3)
arc_params = ArcParams(
    margin_left=c[0].slider(T("captcha_preprocess.undo.margin-left"), 0.04, 0.3, a.margin_left, key="undo-left"),
    margin_right=c[1].slider(T("captcha_preprocess.undo.margin-right"), 0.04, 0.3, a.margin_right,
                             key="undo-right"),
    degree=c[2].slider(T("captcha_preprocess.undo.degree"), 1, 4, a.degree, key="undo-degree"),
    reach=c[0].slider(T("captcha_preprocess.undo.reach"), 0, 4, a.reach, key="undo-reach"),
    prior=c[1].slider(T("captcha_preprocess.undo.prior"), 0.0, 1.0, a.prior, 0.05, key="undo-prior"),
    smooth=c[2].select_slider(T("captcha_preprocess.undo.smooth"), [1, 3, 5, 7, 9], a.smooth, key="undo-smooth"),
)
undo = undo_arc_steps(rgb, arc_params)
if undo.fit is None:
    st.warning(T("captcha_preprocess.undo.no-arc"))
else:
    views = arc_views(undo, 3)
    st.image([views["curve"], views["band"], views["restored"]],
             caption=[T(f"captcha_preprocess.undo.step.{k}") for k in ("curve", "band", "restored")])
    st.image(views["before-after"], caption=T("captcha_preprocess.undo.step.before-after"))
    fit = undo.fit
    st.caption(T("captcha_preprocess.undo.fit", seeds=len(fit.seeds), thickness=fit.thickness,
                 values=", ".join(f"{v:.4g}" for v in fit.coef), pixels=int(undo.band.sum()),
                 restored=int(undo.restored.sum()), moved=f"{fit.moved.mean():.0%}"))
    shares, ev = evidence_shares(undo.evidence), undo.evidence
    if shares["background_dark"] is not None:
        key = "evidence" if shares["stroke_light"] is not None else "evidence-no-stroke"
        st.caption(T(f"captcha_preprocess.undo.{key}", stroke=ev["stroke"],
                     stroke_light=f"{shares['stroke_light'] or 0:.0%}", background=ev["background"],
                     background_dark=f"{shares['background_dark']:.0%}"))
st.subheader(T("captcha_preprocess.ours"))
st.image([upscale(nopre(rgb), 2), upscale(grey(rgb, 40, 112), 3), upscale(grey(rgb, 40, 112, undo_arc=True), 3)],
         caption=[T("captcha_preprocess.ours.nopre"), T("captcha_preprocess.ours.grey"),
                  T("captcha_preprocess.ours.grey-undo")])
