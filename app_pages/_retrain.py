"""The retrain panel of the experiment pages: pick a variant, seeds and
epochs, train in a background process (core.jobs), follow it live.

The variant and the quick switch sit outside the form, so the epochs field's
default follows them at once; a number the user typed is kept and is exactly
the number trained. Everything the panel shows about a job is read from disk
(its job.json, log and run records), so it survives reloads and other tabs.
"""
from __future__ import annotations

import hashlib
import re

import pandas as pd
import streamlit as st

from core import jobs
from core.records import user_runs_dir
from app_pages._common import T


def _key(experiments: list[str]) -> str:
    """One panel's widget-key prefix: pages list different variants."""
    return "retrain-" + hashlib.sha1("|".join(experiments).encode()).hexdigest()[:8]


def _default_epochs(experiment: str, quick: bool) -> int:
    from core.study import get_config
    return int(get_config(experiment, quick=quick)["train"]["epochs"])


def _follow_default(pk: str) -> None:
    """The variant or the quick switch changed: the epochs field takes the new
    default, unless the user has typed a number of their own."""
    state = st.session_state
    new = _default_epochs(state[f"{pk}:variant"], bool(state.get(f"{pk}:quick")))
    if state.get(f"{pk}:epochs") == state.get(f"{pk}:auto"):
        state[f"{pk}:epochs"] = new
    state[f"{pk}:auto"] = new


def retrain_panel(experiments: list[str]) -> None:
    """Pick a variant, seeds and epochs; train in a background process; follow it."""
    pk = _key(experiments)
    state = st.session_state
    st.header(T("retrain.title"))
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    exp = c1.selectbox(T("retrain.variant"), experiments, key=f"{pk}:variant",
                       on_change=_follow_default, args=(pk,))
    quick = c2.toggle(T("retrain.quick"), key=f"{pk}:quick", help=T("retrain.quick_help"),
                      on_change=_follow_default, args=(pk,))
    default = _default_epochs(exp, quick)
    if f"{pk}:epochs" not in state:  # first view (or back from another page)
        state[f"{pk}:epochs"] = state[f"{pk}:auto"] = default
    with st.form(f"{pk}:form"):
        f1, f2 = st.columns([3, 1])
        seeds = f1.multiselect(T("retrain.seeds"), list(range(10)), default=[0], key=f"{pk}:seeds")
        epochs = f2.number_input(T("retrain.epochs"), 1, 500, step=1, key=f"{pk}:epochs",
                                 help=T("retrain.epochs_help", default=default))
        f2.caption(T("retrain.epochs_default", default=default))
        go = st.form_submit_button(T("retrain.submit"), type="primary")
    st.caption(T("retrain.where", folder=user_runs_dir()))
    if go:
        if not seeds:
            st.error(T("retrain.pick_seed"))
        else:
            try:
                job = jobs.start(exp, seeds=sorted(seeds), epochs=int(epochs), quick=quick)
                state.pop(f"{pk}:refused", None)
                st.toast(T("retrain.started", job=job.id))
            except jobs.JobRefused as e:
                # shown by the live view, and only while that job still runs
                state[f"{pk}:refused"] = e.job.id if e.job else None
    job_status(experiments, pk)


def _plain(text: str) -> str:
    """A log line shown as itself in Markdown (no emphasis, links or directives)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>$~:])", r"\\\1", text)


def _status(status: str) -> str:
    return T(f"runs.status_{status}")


@st.fragment(run_every=2)
def job_status(experiments: list[str], pk: str) -> None:
    """Live view of this page's jobs; refreshed every 2 s, state read from disk,
    so it survives reloads and shows jobs started in another tab."""
    state = st.session_state
    refused = jobs.get_job(state.get(f"{pk}:refused") or "")
    if refused is not None and refused.status in jobs.ACTIVE:
        st.error(T("retrain.refused", experiment=refused.experiment, job=refused.id,
                   started=refused.info.get("started", "?")))
    else:
        state.pop(f"{pk}:refused", None)

    mine = [j for j in jobs.list_jobs(dismissed=False) if j.experiment in experiments][:3]
    watched = state.setdefault(f"{pk}:watched", set())
    ended = False
    for job in mine:
        status = job.status
        info = job.info
        if status in jobs.ACTIVE:
            watched.add(job.id)
        elif job.id in watched:  # ended while this page watched it: the tables above need a rerun
            watched.discard(job.id)
            ended = ended or status == "done"
        box = st.container(border=True)
        box.markdown(T("retrain.job_header", experiment=job.experiment, job=job.id,
                       seeds=", ".join(map(str, info.get("seeds", []))),
                       epochs=info.get("epochs") or "–",
                       quick=T("retrain.quick_tag") if info.get("quick") else "", status=_status(status)))
        if status in jobs.ACTIVE:
            _running(box, job)
            box.button(T("retrain.cancel"), key=f"cancel-{job.id}", on_click=job.cancel)
            if (job.path / "CANCEL").exists():
                box.info(T("retrain.cancelling"))
            continue
        if status == "failed":
            line = job.failing_line()
            box.error(T("retrain.failed", code=info.get("exit_code")) if line is None else
                      T("retrain.failed_line", code=info.get("exit_code"), line=_plain(line)))
            with box.expander(T("retrain.log_tail")):
                st.code(job.log_tail(40), language=None)
        elif status == "done":
            box.success(T("retrain.done"))
        elif status == "cancelled":
            box.warning(T("retrain.cancelled"))
        else:
            box.warning(T("retrain.interrupted"))
        box.button(T("retrain.dismiss"), key=f"dismiss-{job.id}", help=T("retrain.dismiss_help"),
                   on_click=job.dismiss)
    if ended:
        st.rerun()  # the whole page, so its tables and charts include the new runs


def _running(box, job) -> None:
    p = jobs.progress(job)
    if not p["run"]:
        box.caption(T("retrain.starting"))
        return
    box.progress(min(p["epoch"] / p["epochs"], 1.0),
                 text=T("retrain.progress", run=p["runs_done"] + 1, runs=p["runs_total"],
                        epoch=p["epoch"], epochs=p["epochs"]))
    latest = p["latest"] or {}
    acc, loss, rem = latest.get("val_accuracy"), latest.get("val_loss"), p["remaining_s"]
    cols = box.columns(4)
    cols[0].metric(T("retrain.val_accuracy"), "–" if acc is None else f"{100 * acc:.2f} %")
    cols[1].metric(T("retrain.val_loss"), "–" if loss is None else f"{loss:.4f}")
    cols[2].metric(T("retrain.elapsed"), f"{p['elapsed_s']:.0f} s")
    cols[3].metric(T("retrain.remaining"), "–" if rem is None else f"~{rem:.0f} s")
    if p["history"]:
        box.line_chart(pd.DataFrame(p["history"]), x="epoch",
                       y=[c for c in ("accuracy", "val_accuracy") if c in p["history"][0]])
