"""Page helpers: cached reads of the run records. No training or data logic here."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.records import list_runs, runs_dir
from core.results import experiment_rows


def runs_signature() -> tuple:
    """Changes whenever any run record changes: the cache key below."""
    return tuple((r.ref, r.mtime()) for r in list_runs())


@st.cache_data(show_spinner=False)
def _experiment_table(root: str, signature: tuple) -> list[dict]:
    return experiment_rows(root)


def experiment_table() -> list[dict]:
    return _experiment_table(str(runs_dir()), runs_signature())


@st.cache_data(show_spinner=False)
def _runs_frame(root: str, signature: tuple) -> pd.DataFrame:
    rows = []
    for r in list_runs(root):
        s = r.summary or {}
        meta = r.meta
        rows.append({
            "run": r.ref, "experiment": r.experiment, "seed": r.config.get("seed"),
            "status": r.status, "epochs": len(r.history),
            "test accuracy": (s.get("test") or {}).get("accuracy"),
            "best val accuracy": (s.get("best") or {}).get("val_accuracy"),
            "s / epoch": s.get("seconds_per_epoch_median"),
            "device": (meta.get("device") or {}).get("device"),
            "commit": ((meta.get("git") or {}).get("commit") or "")[:7],
            "started": meta.get("started"),
        })
    return pd.DataFrame(rows)


def runs_frame() -> pd.DataFrame:
    return _runs_frame(str(runs_dir()), runs_signature())


@st.cache_data(show_spinner=False)
def _history(path: str, mtime: float) -> pd.DataFrame:
    from core.records import read_history
    return pd.DataFrame(read_history(path))


def history(run) -> pd.DataFrame:
    return _history(str(run.path / "history.csv"), run.mtime())


def curves_frame(experiments: list[str]) -> pd.DataFrame:
    """Long table of every done run's history: experiment, seed, epoch, metric, value."""
    frames = []
    for exp in experiments:
        for r in list_runs(experiment=exp):
            if r.status != "done":
                continue
            h = history(r)
            if h.empty:
                continue
            keep = [c for c in ("loss", "val_loss", "accuracy", "val_accuracy") if c in h]
            long = h.melt(id_vars=["epoch"], value_vars=keep, var_name="metric")
            long["experiment"], long["seed"] = exp, r.config.get("seed")
            frames.append(long)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["epoch", "metric", "value", "experiment", "seed"])


def mean_band_chart(df: pd.DataFrame, metric: str, title: str):
    """Mean over seeds as a line, ± one standard deviation as a band; click the
    legend to isolate an experiment, drag to zoom."""
    import altair as alt
    d = df[df["metric"] == metric]
    pick = alt.selection_point(fields=["experiment"], bind="legend")
    base = alt.Chart(d).encode(x=alt.X("epoch:Q", title="epoch"),
                               color=alt.Color("experiment:N", legend=alt.Legend(orient="bottom")))
    band = base.mark_errorband(extent="stdev").encode(
        y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
        opacity=alt.condition(pick, alt.value(0.25), alt.value(0.03)))
    line = base.mark_line(point=True).encode(
        y="mean(value):Q",
        opacity=alt.condition(pick, alt.value(1), alt.value(0.1)),
        tooltip=["experiment:N", "epoch:Q", alt.Tooltip("mean(value):Q", format=".4f", title="mean"),
                 alt.Tooltip("stdev(value):Q", format=".4f", title="std"),
                 alt.Tooltip("count(value):Q", title="seeds")])
    return (band + line).add_params(pick).properties(title=title, height=280).interactive()
