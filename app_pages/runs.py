"""Every run on disk, the study's and the user's: filter, compare on one chart,
download a history, delete one of your own (after a confirmation)."""
import re

import pandas as pd
import streamlit as st

from core.records import (DELETABLE_ORIGINS, OWN_ORIGINS, ProtectedRun, delete_run, find_run, list_runs, runs_dir,
                          user_runs_dir)
from core.text import MissingText
from app_pages._common import T, history, runs_frame

CONFIRM, DONE, PICKED = "runs:confirm", "runs:deleted", "runs:compare"


def _status(s) -> str:
    return T(f"runs.status_{s}") if isinstance(s, str) else "–"


def _label(column: str) -> str:
    try:
        return T("runs.col_" + re.sub(r"\W+", "_", column).strip("_"))
    except MissingText:  # a column added to the frame without a translated heading yet
        return column


def _pct(v) -> str:
    return "–" if pd.isna(v) else f"{100 * v:.2f} %"


def _or_dash(fmt):
    return lambda v: "–" if v is None or pd.isna(v) or v == "" else fmt(v)


def _ask(ref: str) -> None:
    st.session_state[CONFIRM] = ref


def _keep() -> None:
    st.session_state.pop(CONFIRM, None)


def _delete(ref: str) -> None:
    state = st.session_state
    state.pop(CONFIRM, None)
    run = find_run(ref)
    if run is None:
        return
    if run.status == "running":
        state[DONE] = ("error", T("runs.refused_running", ref=ref))
        return
    try:
        delete_run(run)
    except ProtectedRun:
        state[DONE] = ("error", T("runs.refused", ref=ref))
        return
    state[PICKED] = [r for r in state.get(PICKED, []) if r != ref]
    state[DONE] = ("success", T("runs.deleted", ref=ref))


def _contents(run) -> tuple[str, int, str]:
    """Names of what the run's folder holds, its file count and its size."""
    files = [p for p in run.path.rglob("*") if p.is_file()]
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in run.path.iterdir())
    size = sum(p.stat().st_size for p in files)
    return ", ".join(names), len(files), f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} KB"


st.title(T("runs.title"))
st.caption(T("runs.where", study=runs_dir(), yours=user_runs_dir()))
done = st.session_state.pop(DONE, None)
if done:
    getattr(st, done[0])(done[1])
runs = runs_frame()
if runs.empty:
    st.info(T("runs.none"))
    st.stop()

yours = {r.ref for r in list_runs(user_runs_dir(), users=False)}
# The study's, the app's (yours when in your folder), or of one's own study:
# recorded from one's own fit or imported from one's logs (core/own.py).
runs = runs.assign(origin=[T(f"runs.origin_{o}") if o in OWN_ORIGINS else
                           T("runs.origin_yours") if ref in yours else
                           T("runs.origin_study") if o == "study" else T("runs.origin_app")
                           for ref, o in zip(runs["run"], runs["origin"])])

c1, c2, c3 = st.columns(3)
exps = c1.multiselect(T("runs.experiment"), sorted(runs["experiment"].unique()))
stats = c2.multiselect(T("runs.status"), sorted(runs["status"].unique()), format_func=_status)
dates = runs["started"].dropna()
since = c3.date_input(T("runs.since"), value=dates.min().date() if len(dates) else None)
view = runs
if exps:
    view = view[view["experiment"].isin(exps)]
if stats:
    view = view[view["status"].isin(stats)]
if since:
    view = view[view["started"].isna() | (view["started"].dt.date >= since)]

# A damaged run is named with its reason; the column is there only when one is.
broken = int(view["problem"].notna().sum())
if broken:
    st.warning(T("runs.unreadable", n=broken, col=_label("problem")))
else:
    view = view.drop(columns="problem")
if view["worker"].isna().all():  # who holds a run, shown while one is training
    view = view.drop(columns="worker")

# Numbers stay numbers (the columns sort as numbers); only their display is
# formatted: accuracies in %, like every other page, and "–" where absent.
shown = view.assign(status=view["status"].map(_status))
styled = shown.rename(columns=_label).style.format({_label(c): f for c, f in {
    "test accuracy": _pct, "best val accuracy": _pct,
    "s / epoch": _or_dash(lambda v: f"{v:.1f}"), "seed": _or_dash(str), "epochs": _or_dash(str),
    "device": _or_dash(str), "commit": _or_dash(str), "problem": _or_dash(str),
    "worker": _or_dash(str),
    "started": _or_dash(lambda d: d.strftime("%Y-%m-%d %H:%M")),
}.items() if c in shown})
st.dataframe(styled, hide_index=True, width="stretch")

chosen = st.multiselect(T("runs.compare"), list(view["run"]), max_selections=12, key=PICKED)
if chosen:
    runs_chosen = {ref: find_run(ref) for ref in chosen}
    frames = [history(r).assign(run=ref) for ref, r in runs_chosen.items() if r is not None]
    frames = [f for f in frames if not f.empty]
    if frames:
        df = pd.concat(frames)
        metric = st.selectbox(T("runs.metric"),
                              [c for c in ("val_accuracy", "val_loss", "accuracy", "loss", "lr") if c in df])
        if "accuracy" in metric:  # in %, like every other page
            df = df.assign(**{metric: 100 * df[metric]})
        st.line_chart(df, x="epoch", y=metric, color="run",
                      y_label=metric + (" (%)" if "accuracy" in metric else ""))
    for ref, run in runs_chosen.items():
        if run is None:
            continue
        c1, c2 = st.columns([3, 1])
        hist = run.path / "history.csv"
        if hist.is_file():
            c1.download_button(T("runs.history_csv", ref=ref), hist.read_bytes(),
                               file_name=ref.replace("/", "_") + ".csv", mime="text/csv", key="dl-" + ref)
        if not (run.is_user_run and run.origin in DELETABLE_ORIGINS):
            continue  # the study's runs are the report's evidence: never deleted here
        if st.session_state.get(CONFIRM) != ref:
            c2.button(T("runs.delete"), key="rm-" + ref, on_click=_ask, args=(ref,))
            continue
        names, n_files, size = _contents(run)
        box = st.container(border=True)
        box.warning(T("runs.confirm", ref=ref, path=run.path, files=n_files, size=size, names=names))
        y, n = box.columns(2)
        y.button(T("runs.confirm_yes", ref=ref), key="rm-yes-" + ref, type="primary",
                 on_click=_delete, args=(ref,))
        n.button(T("runs.confirm_no"), key="rm-no-" + ref, on_click=_keep)
