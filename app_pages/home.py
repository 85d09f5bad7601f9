"""Overview: the headline figures, the seeds' claims as forest plots, the
conclusions tables, every experiment; and the report to download."""
import streamlit as st

from app_pages._common import page_blocks, render
from app_pages._export import export_panel

render(page_blocks("overview"))
st.divider()
export_panel()
