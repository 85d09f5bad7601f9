"""A study's report page, whichever it is (streamlit_app.py says which is
open): its blocks (core/report.py's content model), the study's own panel
after its first blocks, anything the study draws after them, and the
retrain panel for its experiments. No page needs a file of its own."""
import streamlit as st

from core.records import runs_dir
from core.report import theirs, theirs_blocks
from core.study import page, resolve
from app_pages._common import PAGE_KEY, T, lang, page_blocks, prepared, render
from app_pages._retrain import retrain_panel

try:
    study, spec = page(st.session_state.get(PAGE_KEY, ""))
except KeyError:  # opened by its file, not through the navigation
    st.info(T("groups.none"))
    st.stop()
blocks = page_blocks(spec.key)
if spec.panel:
    render(blocks[:spec.panel_after])
    resolve(spec.panel)()
    render(blocks[spec.panel_after:])
else:
    render(blocks)
if spec.after:
    resolve(spec.after)()
# Runs of one's own that asked to be compared with this page's experiments
# (core/own.py: compare_with): beside ours only when the reader asks.
names = resolve(spec.retrain)() if spec.retrain else []
if theirs(names) and st.toggle(T("groups.theirs-toggle"), value=False, key="theirs:" + spec.key):
    render(prepared(theirs_blocks(lang(), names, str(runs_dir()))))
if spec.retrain:
    retrain_panel(names)
