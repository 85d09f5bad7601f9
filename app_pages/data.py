"""The data directory: which folder the app reads, how it was chosen, which
datasets are in it (read from disk on every view, core.study.datasets) and
the command that fetches or places each."""
import pandas as pd
import streamlit as st

from core.blocks import lookup
from core.datadir import cache_dir, data_dir_choice, downloads_allowed
from core.study import datasets
from core.records import user_runs_dir
from app_pages._common import T, lang


def _text(kind: str, d, default: str, **values) -> str:
    """A dataset's words from its study's content (data.<kind>_<key>), else `default`."""
    return lookup(lang(), f"data.{kind}_{d.key.replace('-', '_')}", default).format(**values)


def _name(d) -> str:
    return _text("name", d, d.name)


root, how = data_dir_choice()
found = datasets()

st.title(T("data.title"))
st.markdown(T("data.intro"))
st.markdown(T("data.folder", folder=root))
st.markdown(T(f"data.how_{how}"))
st.caption(T("data.order"))

st.dataframe(pd.DataFrame([{
    T("data.col_dataset"): _name(d),
    T("data.col_status"): T("data.present") if d.present else T("data.incomplete") if d.missing
    else T("data.absent"),
    T("data.col_files"): d.files,
    T("data.col_folder"): str(d.folder),
} for d in found]), hide_index=True, width="stretch")

if not downloads_allowed():
    st.info(T("data.offline"))

for d in found:
    st.header(_name(d))
    st.caption(_text("uses", d, ""))
    if d.present:
        st.success(T("data.found", folder=d.folder, files=f"{d.files:,}"))
    elif d.missing:
        st.warning(T("data.partial", folder=d.folder, missing=", ".join(f"`{m}`" for m in d.missing)))
    else:
        st.error(T("data.not_found", folder=d.folder))
    if d.parts:
        with st.expander(T("data.parts", n=len(d.parts)), expanded=not d.present):
            st.dataframe(pd.DataFrame([{
                T("data.col_part"): p["part"], T("data.col_files"): p["files"],
                **({T("data.col_labels"): p["labels"]} if "labels" in p else {}),
                **({T("data.col_mb"): round(p["mb"], 1)} if "mb" in p else {}),
            } for p in d.parts]), hide_index=True, width="stretch")
    where = st.container() if not d.present else st.expander(T("data.again"))
    where.markdown(_text("get", d, T("data.get_generic"), folder=d.folder, **d.values))
    where.code(d.command, language="bash")

st.divider()
st.caption(T("data.cache", folder=cache_dir()))
st.caption(T("data.user_runs", folder=user_runs_dir()))
