"""Entry point: `streamlit run streamlit_app.py`. Language and navigation only.

The pages live in app_pages/, not pages/: Streamlit runs a folder named pages/
as an old-style multipage app until st.navigation has been called once, so a
deep link as the first request after the server starts opened the bare page
file, without this script's sidebar, and then showed "Page not found"."""
import streamlit as st

from core.study import local, studies
from app_pages._common import LANGUAGES, PAGE_KEY, T, init_language, lang

st.set_page_config(page_title="CNN experiments report", page_icon="🧪", layout="wide")
# Report tables (app_pages/_common.html_table) are dense: a smaller type lets ten
# columns fit a 1,000-px window without a sideways scroll. Text breaks at spaces
# and hyphens first (a word only where it cannot fit), figures only at spaces.
st.html("<style>.cnn-table {overflow-x: auto; margin-bottom: 1rem} "
        ".cnn-table table {width: 100%; border-collapse: collapse; font-size: 0.75rem; line-height: 1.25} "
        ".cnn-table th {font-weight: 400; color: rgba(49, 51, 63, 0.6); text-align: left; vertical-align: bottom} "
        ".cnn-table th, .cnn-table td {padding: 0.15rem 0.3rem; border-bottom: 1px solid rgba(49, 51, 63, 0.1); "
        "overflow-wrap: break-word} .cnn-table td {vertical-align: middle} "
        ".cnn-table .fig {overflow-wrap: normal} .cnn-table .num {text-align: right} "
        # below 1,200 px the default 5rem side margins take a fifth of the report's column
        "@media (max-width: 1200px) {[data-testid='stMainBlockContainer'] {padding-left: 1.5rem; "
        "padding-right: 1.5rem}}</style>")

init_language()
st.sidebar.radio("Language / 語言", list(LANGUAGES), horizontal=True, key="lang_choice")
# Every registered study's pages, under its section (core/study.py): a report
# page is app_pages/page.py given its key, an interactive one the study's own
# script. A study declared without a package (experiments.declare) goes under
# "Your studies".
sections: dict[str, list] = {}
for study in studies():
    for page in study.pages:
        source = str(study.package / page.script) if page.script else "app_pages/page.py"
        sections.setdefault(local(lang(), study.title), []).append(
            st.Page(source, title=local(lang(), page.title), icon=page.icon, url_path=page.key))
nav = st.navigation({
    T("nav.overview"): [
        st.Page("app_pages/home.py", title=T("nav.home"), icon=":material/home:", default=True)],
    **sections,
    T("nav.runs-section"): [
        st.Page("app_pages/runs.py", title=T("nav.runs"), icon=":material/folder_copy:", url_path="runs"),
        st.Page("app_pages/data.py", title=T("nav.data"), icon=":material/folder_open:", url_path="data")],
}, expanded=True)  # every page one click away, none behind "View more"
# app_pages/page.py serves every study's report page: say which is open.
st.session_state[PAGE_KEY] = nav.url_path
nav.run()
