"""The page of a study declared with experiments.declare(): one file for every
such study (streamlit_app.py says which one is open); its blocks come from
the study's runs (core/report.py:group_blocks)."""
import streamlit as st

from experiments import GROUPS
from app_pages._common import T, page_blocks, render
from app_pages._retrain import retrain_panel

GROUP_KEY = "group:open"

if not GROUPS:  # opened by its file with no study declared ($CNNLAB_PLUGINS unset)
    st.info(T("groups.none"))
    st.stop()
group = st.session_state.get(GROUP_KEY)
group = group if group in GROUPS else next(iter(GROUPS))
render(page_blocks(f"group:{group}"))
retrain_panel(GROUPS[group]["experiments"])
