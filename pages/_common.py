"""Page helpers: language, cached reads of the run records, the block renderer
and the retrain panel. No training or data logic here: that is core/."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import jobs
from core.records import file_mtime, list_runs, read_history, runs_dir
from experiments.caltech import TECHNIQUES


LANGUAGES = {"English": "en", "繁體中文": "zh"}


def lang() -> str:
    """From the sidebar switch's own state, so a page never depends on the
    entry script having run first."""
    return LANGUAGES.get(st.session_state.get("lang_choice"), "en")


def t(en: str, zh: str) -> str:
    return zh if lang() == "zh" else en


def runs_signature() -> tuple:
    """Changes whenever any run record, or an experiment-level record such as
    runs/<experiment>/ensemble.json, changes: the cache key of every read."""
    extra = tuple((str(p), file_mtime(p)) for p in sorted(runs_dir().glob("*/*.json")))
    return tuple((r.ref, r.mtime()) for r in list_runs()) + extra


@st.cache_data(show_spinner=False, max_entries=32)
def _blocks(page: str, language: str, root: str, signature: tuple) -> list:
    from core import report
    return dict(report.PAGES)[page](language, root)


def page_blocks(page: str) -> list:
    return _blocks(page, lang(), str(runs_dir()), runs_signature())


PAGE_LINKS = {"pages/mnist.py": "mnist", "pages/home.py": "", "pages/captcha_models.py": "captcha-models"}
# The technique pages' files are named after their url paths (c50_padding.py -> c50-padding).
PAGE_LINKS.update({f"pages/{t[2].replace('-', '_')}.py": t[2] for t in TECHNIQUES.values()})
PAGE_LINKS["pages/c50_best.py"] = "c50-best"


def render(blocks: list) -> None:
    for kind, value in blocks:
        if kind == "h1":
            st.title(value)
        elif kind == "h2":
            st.header(value)
        elif kind == "h3":
            st.subheader(value)
        elif kind == "md":
            st.markdown(value)
        elif kind == "table":
            config = {}
            if "page" in value:
                value = value.assign(page=value["page"].map(lambda p: "/" + PAGE_LINKS.get(p, "")))
                config["page"] = st.column_config.LinkColumn("page", display_text="open")
            st.dataframe(value, hide_index=True, width="stretch", column_config=config)
        elif kind == "chart":
            st.altair_chart(value, width="stretch")
        elif kind == "row":
            for col, chart in zip(st.columns(len(value)), value):
                col.altair_chart(chart, width="stretch")


@st.cache_data(show_spinner=False)
def _runs_frame(root: str, signature: tuple) -> pd.DataFrame:
    rows = []
    for r in list_runs(root):
        s = r.summary or {}
        meta = r.meta
        rows.append({
            "run": r.ref, "experiment": r.experiment, "seed": r.config.get("seed"),
            "origin": r.origin, "status": r.status, "epochs": len(r.history),
            "test accuracy": (s.get("test") or {}).get("accuracy"),
            "best val accuracy": (s.get("best") or {}).get("val_accuracy"),
            "s / epoch": s.get("seconds_per_epoch_median"),
            "device": (meta.get("device") or {}).get("device"),
            "commit": ((meta.get("git") or {}).get("commit") or "")[:7],
            "started": pd.to_datetime(meta.get("started"), utc=True, errors="coerce"),
        })
    return pd.DataFrame(rows)


def runs_frame() -> pd.DataFrame:
    return _runs_frame(str(runs_dir()), runs_signature())


@st.cache_data(show_spinner=False)
def _history(path: str, mtime: float) -> pd.DataFrame:
    return pd.DataFrame(read_history(path))


def history(run) -> pd.DataFrame:
    return _history(str(run.path / "history.csv"), run.mtime())


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


# --- captcha ---------------------------------------------------------------------

def captcha_models() -> dict:
    """Label -> model file: the committed default first, then every finished
    captcha run that kept its model."""
    from core.captcha.recognizer import DEFAULT_MODEL, DEFAULT_RUN
    out = {t(f"default: {DEFAULT_RUN}", f"預設：{DEFAULT_RUN}"): DEFAULT_MODEL}
    for r in list_runs():
        if (r.config.get("data") or {}).get("dataset") == "thsr-captcha" and r.status == "done" \
                and (r.path / "model.keras").is_file() and r.ref != DEFAULT_RUN:
            out[r.ref + ("" if r.origin == "study" else t(" (yours)", "（你的）"))] = r.path / "model.keras"
    return out


@st.cache_resource(show_spinner=False, max_entries=4)
def _recognizer(path: str, mtime: float):
    from core.captcha.recognizer import Recognizer
    rec = Recognizer(path)
    rec.fast_single()  # uploads are read one at a time: prepare the fast runner once
    return rec


def recognizer(path: str):
    from pathlib import Path
    p = Path(path)
    return _recognizer(path, p.stat().st_mtime if p.exists() else 0.0)


@st.cache_data(show_spinner=False)
def sample_captchas(n: int, seed: int = 0) -> list:
    from core.captcha.data import test_samples
    return test_samples(n, seed=seed)


@st.cache_data(show_spinner=False)
def generated_captcha(seed: int):
    import numpy as np

    from core.captcha.synth import make_captcha
    return make_captcha(np.random.default_rng(seed))[0]


@st.cache_data(show_spinner=False)
def _failure_images(root: str, signature: tuple, n: int) -> list:
    """(caption, image bytes) of the least confident test failures of the
    default model's run, when the real captchas are on this machine."""
    from core.captcha import views
    from core.captcha.data import image_bytes
    from core.captcha.recognizer import DEFAULT_MODEL
    pred = views.read_predictions([DEFAULT_MODEL.parent])
    out = []
    for _, row in views.failures(pred, n).iterrows():
        data = image_bytes(row["image"])
        if data:
            seen = row["truth"] if row["truth"] == row["label"] else f"{row['truth']} (labelled {row['label']})"
            out.append((f"{row['image']}: {seen} → {row['prediction']}", data))
    return out


def failure_images(n: int) -> list:
    return _failure_images(str(runs_dir()), runs_signature(), n)
