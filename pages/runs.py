"""Every run on disk: filter, compare on one chart, download a history, delete your own."""
import pandas as pd
import streamlit as st

from core.records import ProtectedRun, delete_run, find_run
from pages._common import history, runs_frame, t

st.title(t("All runs", "所有 run"))
runs = runs_frame()
if runs.empty:
    st.info(t("No runs on disk yet.", "尚無任何 run。"))
    st.stop()

c1, c2, c3 = st.columns(3)
exps = c1.multiselect(t("experiment", "實驗"), sorted(runs["experiment"].unique()))
stats = c2.multiselect(t("status", "狀態"), sorted(runs["status"].unique()))
dates = runs["started"].dropna()
since = c3.date_input(t("started on or after", "開始日期不早於"),
                      value=dates.min().date() if len(dates) else None)
view = runs
if exps:
    view = view[view["experiment"].isin(exps)]
if stats:
    view = view[view["status"].isin(stats)]
if since:
    view = view[view["started"].isna() | (view["started"].dt.date >= since)]
st.dataframe(view, hide_index=True, width="stretch",
             column_config={"test accuracy": st.column_config.NumberColumn(format="%.4f"),
                            "best val accuracy": st.column_config.NumberColumn(format="%.4f")})

chosen = st.multiselect(t("compare runs", "比較 run"), list(view["run"]), max_selections=12)
if chosen:
    frames = [history(find_run(ref)).assign(run=ref) for ref in chosen]
    df = pd.concat([f for f in frames if not f.empty])
    metric = st.selectbox(t("metric", "指標"),
                          [c for c in ("val_accuracy", "val_loss", "accuracy", "loss", "lr") if c in df])
    st.line_chart(df, x="epoch", y=metric, color="run")
    for ref in chosen:
        run = find_run(ref)
        c1, c2 = st.columns([3, 1])
        c1.download_button(t(f"history of {ref} (CSV)", f"{ref} 的歷程 (CSV)"),
                           (run.path / "history.csv").read_bytes(),
                           file_name=ref.replace("/", "_") + ".csv", mime="text/csv", key="dl-" + ref)
        if run.origin == "app" and c2.button(t("delete", "刪除"), key="rm-" + ref):
            try:
                delete_run(run)
                st.rerun()
            except ProtectedRun as e:
                st.error(str(e))
