"""Captcha models (seed 002, part II): results, curves per head, confusions, failures."""
import streamlit as st

from experiments import EXPERIMENTS
from pages._common import failure_images, page_blocks, render, t
from pages._retrain import retrain_panel

render(page_blocks("captcha-models"))
gallery = failure_images(12)
if gallery:
    st.subheader(t("Failures, as the model saw them", "辨識錯誤的影像"))
    st.image([g[1] for g in gallery], caption=[g[0] for g in gallery], width=200)
retrain_panel([n for n in EXPERIMENTS if n.startswith("captcha-")])
