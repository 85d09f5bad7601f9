"""Overview: what the report covers, the conclusions table, every experiment."""
import streamlit as st

from core.export import export_html
from core.records import runs_dir
from pages._common import lang, page_blocks, render, runs_signature, t


@st.cache_data(show_spinner=False, max_entries=4)
def _report(language: str, root: str, signature: tuple) -> bytes:
    return export_html(language, root).encode("utf-8")


render(page_blocks("overview"))
st.divider()
language, root, sig = lang(), str(runs_dir()), runs_signature()
st.download_button(t("Download the report (one HTML file, works offline)",
                     "下載報告（單一 HTML 檔，可離線瀏覽）"),
                   data=lambda: _report(language, root, sig), file_name="cnn-report.html",
                   mime="text/html", icon="📥")
