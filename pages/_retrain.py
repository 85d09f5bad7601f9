"""The retrain panel of the experiment pages: pick a variant, seeds and
epochs, train in a background process (core.jobs), follow it live."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import jobs
from pages._common import t


# --- retrain ---------------------------------------------------------------------

def retrain_panel(experiments: list[str]) -> None:
    """Pick a variant, seeds and epochs; train in a background process; follow it."""
    from experiments import get_config
    st.header(t("Retrain", "重新訓練"))
    with st.form("retrain"):
        c1, c2, c3 = st.columns([3, 2, 1])
        exp = c1.selectbox(t("variant", "變體"), experiments)
        seeds = c2.multiselect("seeds", list(range(10)), default=[0])
        epochs = c3.number_input("epochs", 1, 500, value=get_config(exp)["train"]["epochs"])
        go = st.form_submit_button(t("Retrain", "開始訓練"), type="primary")
    if go:
        if not seeds:
            st.error(t("Pick at least one seed.", "請至少選一個 seed。"))
        else:
            try:
                job = jobs.start(exp, seeds=sorted(seeds), epochs=int(epochs))
                st.session_state[f"job:{exp}"] = job.id
                st.toast(t(f"Started job {job.id}", f"已開始工作 {job.id}"))
            except jobs.JobRefused as e:
                st.error(str(e))
    job_status(experiments)


@st.fragment(run_every=2)
def job_status(experiments: list[str]) -> None:
    """Live view of this page's jobs; refreshed every 2 s, state read from disk,
    so it survives reloads and shows jobs started in another tab."""
    mine = [j for j in jobs.list_jobs() if j.experiment in experiments][:3]
    for job in mine:
        status = job.status
        info = job.info
        box = st.container(border=True)
        box.markdown(f"**{job.experiment}** · job `{job.id}` · seeds {info.get('seeds')} · **{status}**")
        if status in jobs.ACTIVE:
            p = jobs.progress(job)
            if p["run"]:
                box.progress(min(p["epoch"] / p["epochs"], 1.0),
                             text=t(f"run {p['runs_done'] + 1} of {p['runs_total']}: epoch {p['epoch']} of {p['epochs']}",
                                    f"第 {p['runs_done'] + 1}/{p['runs_total']} 個 run：第 {p['epoch']}/{p['epochs']} 個 epoch"))
                latest = p["latest"] or {}
                cols = box.columns(4)
                cols[0].metric("val accuracy", f"{latest.get('val_accuracy', float('nan')):.4f}")
                cols[1].metric("val loss", f"{latest.get('val_loss', float('nan')):.4f}")
                cols[2].metric(t("elapsed", "已用時間"), f"{p['elapsed_s']:.0f} s")
                rem = p["remaining_s"]
                cols[3].metric(t("remaining", "剩餘時間"), "–" if rem is None else f"~{rem:.0f} s")
                if p["history"]:
                    box.line_chart(pd.DataFrame(p["history"]), x="epoch",
                                   y=[c for c in ("accuracy", "val_accuracy") if c in p["history"][0]])
            else:
                box.caption(t("starting…", "啟動中…"))
            if box.button(t("Cancel", "取消"), key=f"cancel-{job.id}"):
                # No st.rerun here: a click may come in a full-page run, where a
                # fragment-scoped rerun is an error; the 2-s refresh shows the end.
                job.cancel()
                box.info(t("Cancelling…", "取消中…"))
        elif status == "failed":
            box.error(t(f"The job failed (exit code {info.get('exit_code')}). End of its log:",
                        f"工作失敗（結束碼 {info.get('exit_code')}）。記錄結尾："))
            box.code(job.log_tail(30))
        elif status == "done":
            box.success(t("Done: the new runs are in the tables and charts above.",
                          "完成：新的 run 已加入上方的表格與圖表。"))
        elif status in ("cancelled", "interrupted"):
            box.warning(t(f"{status.capitalize()}; earlier runs are untouched.",
                          f"已{'取消' if status == 'cancelled' else '中斷'}；先前的結果不受影響。"))
