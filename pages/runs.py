"""Every run on disk; pick some to compare their curves or download a history."""
import streamlit as st

from core.records import find_run
from pages._common import history, runs_frame

st.title("All runs")
runs = runs_frame()
if runs.empty:
    st.info("No runs on disk yet.")
    st.stop()

c1, c2 = st.columns(2)
exps = c1.multiselect("experiment", sorted(runs["experiment"].unique()))
stats = c2.multiselect("status", sorted(runs["status"].unique()))
view = runs
if exps:
    view = view[view["experiment"].isin(exps)]
if stats:
    view = view[view["status"].isin(stats)]
st.dataframe(view, hide_index=True, width="stretch")

chosen = st.multiselect("compare runs", list(view["run"]), max_selections=12)
if chosen:
    import pandas as pd
    frames = []
    for ref in chosen:
        run = find_run(ref)
        h = history(run)
        if not h.empty:
            frames.append(h.assign(run=ref))
    if frames:
        df = pd.concat(frames)
        metric = st.selectbox("metric", [c for c in ("val_accuracy", "val_loss", "accuracy", "loss", "lr")
                                         if c in df])
        st.line_chart(df, x="epoch", y=metric, color="run")
        for ref in chosen:
            run = find_run(ref)
            st.download_button(f"history of {ref} (CSV)", (run.path / "history.csv").read_bytes(),
                               file_name=ref.replace("/", "_") + ".csv", mime="text/csv", key=ref)
