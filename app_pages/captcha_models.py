"""Captcha models (seed 002, part II): results, curves per head, confusions, failures."""
import streamlit as st

from experiments import EXPERIMENTS
from app_pages._common import T, failure_images, page_blocks, render
from app_pages._retrain import retrain_panel

render(page_blocks("captcha-models"))
gallery = failure_images(12)
if gallery:
    st.subheader(T("captcha_models.gallery"))
    st.image([g[1] for g in gallery], caption=[g[0] for g in gallery], width=200)
retrain_panel([n for n in EXPERIMENTS if n.startswith("captcha-")])
