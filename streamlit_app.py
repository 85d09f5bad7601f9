"""Entry point: `streamlit run streamlit_app.py`. Language and navigation only.

The pages live in app_pages/, not pages/: Streamlit runs a folder named pages/
as an old-style multipage app until st.navigation has been called once, so a
deep link as the first request after the server starts opened the bare page
file, without this script's sidebar, and then showed "Page not found"."""
import streamlit as st

from core.report import local
from experiments import GROUPS
from experiments.caltech import TECHNIQUES
from app_pages._common import LANGUAGES, T, init_language, lang

# Material icons: they render in every browser, emoji need an emoji font.
TECHNIQUE_ICONS = [f":material/{name}:" for name in (
    "photo_size_select_large", "balance", "stacks", "shuffle", "speed", "trending_down", "layers",
    "equalizer", "waves", "border_outer", "show_chart", "flip", "account_tree")]

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
zh = lang() == "zh"

nav = st.navigation({
    T("nav.overview"): [
        st.Page("app_pages/home.py", title=T("nav.home"), icon=":material/home:", default=True)],
    "MNIST": [st.Page("app_pages/mnist.py", title=T("nav.mnist"), icon=":material/draw:", url_path="mnist")],
    T("nav.techniques"): [
        st.Page(f"app_pages/{page.replace('-', '_')}.py", title=zh_name if zh else en_name, icon=icon,
                url_path=page)
        for (en_name, zh_name, page, _), icon in zip(TECHNIQUES.values(), TECHNIQUE_ICONS)] + [
        st.Page("app_pages/c50_best.py", title=T("nav.best"), icon=":material/emoji_events:", url_path="c50-best")],
    T("nav.captcha"): [
        st.Page("app_pages/captcha_demo.py", title=T("nav.captcha-demo"), icon=":material/text_fields:", url_path="captcha"),
        st.Page("app_pages/captcha_preprocess.py", title=T("nav.captcha-preprocess"), icon=":material/cleaning_services:",
                url_path="captcha-preprocessing"),
        st.Page("app_pages/captcha_models.py", title=T("nav.captcha-models"), icon=":material/insights:", url_path="captcha-models")],
    # Studies a user declared (experiments.declare, loaded from $CNNLAB_PLUGINS): a page each.
    **({T("nav.yours"): [st.Page("app_pages/group.py", title=local(lang(), spec["title"]),
                                 icon=":material/science:", url_path=g) for g, spec in GROUPS.items()]}
       if GROUPS else {}),
    T("nav.runs-section"): [
        st.Page("app_pages/runs.py", title=T("nav.runs"), icon=":material/folder_copy:", url_path="runs"),
        st.Page("app_pages/data.py", title=T("nav.data"), icon=":material/folder_open:", url_path="data")],
}, expanded=True)  # every page one click away, none behind "View more"
if nav.url_path in GROUPS:  # app_pages/group.py serves every declared study: say which
    st.session_state["group:open"] = nav.url_path
nav.run()
