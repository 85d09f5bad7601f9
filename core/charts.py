"""Altair charts shared by the app and the exported HTML report."""
from __future__ import annotations

import altair as alt
import pandas as pd

from core.records import list_runs


def curves_frame(experiments: list[str], root=None) -> pd.DataFrame:
    """Long table of every done run's history: experiment, seed, epoch, metric, value."""
    frames = []
    for exp in experiments:
        for r in list_runs(root, exp):
            if r.status != "done":
                continue
            h = pd.DataFrame(r.history)
            if h.empty:
                continue
            if {"accuracy", "val_accuracy"} <= set(h):
                h["gap_accuracy"] = h["accuracy"] - h["val_accuracy"]
            keep = [c for c in ("loss", "val_loss", "accuracy", "val_accuracy", "gap_accuracy") if c in h]
            long = h.melt(id_vars=["epoch"], value_vars=keep, var_name="metric")
            long["experiment"], long["seed"] = exp, r.config.get("seed")
            frames.append(long)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["epoch", "metric", "value", "experiment", "seed"])


def mean_band(df: pd.DataFrame, metric: str, title: str, y_title: str | None = None):
    """Mean over seeds as a line, one standard deviation as a band. Click a
    legend entry to isolate an experiment; drag to pan, scroll to zoom."""
    d = df[df["metric"] == metric]
    pick = alt.selection_point(fields=["experiment"], bind="legend")
    base = alt.Chart(d).encode(
        x=alt.X("epoch:Q", title="epoch"),
        color=alt.Color("experiment:N", legend=alt.Legend(orient="bottom", columns=2)))
    band = base.mark_errorband(extent="stdev").encode(
        y=alt.Y("value:Q", title=y_title or metric, scale=alt.Scale(zero=False)),
        opacity=alt.condition(pick, alt.value(0.25), alt.value(0.03)))
    line = base.mark_line(point=True).encode(
        y="mean(value):Q",
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.1)),
        tooltip=["experiment:N", "epoch:Q",
                 alt.Tooltip("mean(value):Q", format=".4f", title="mean"),
                 alt.Tooltip("stdev(value):Q", format=".4f", title="std"),
                 alt.Tooltip("count(value):Q", title="seeds")])
    return (band + line).add_params(pick).properties(title=title, height=280).interactive()


def accuracy_bars(acc: pd.DataFrame, x_title: str, domain=(88, 100)):
    """Mean test accuracy per experiment with ± one std, and the seed's figure."""
    acc = acc.assign(low=acc["mean"] - acc["std"], high=acc["mean"] + acc["std"])
    base = alt.Chart(acc).encode(y=alt.Y("experiment:N", sort=None, title=None))
    bars = base.mark_bar(opacity=0.7).encode(
        x=alt.X("mean:Q", title=x_title, scale=alt.Scale(domain=list(domain))),
        tooltip=["title:N", alt.Tooltip("mean:Q", format=".2f"), alt.Tooltip("std:Q", format=".2f"),
                 "seeds:Q", "train / val:N", "epochs:Q"])
    err = base.mark_rule(color="black", strokeWidth=2).encode(x="low:Q", x2="high:Q")
    layers = [bars, err]
    if "seed" in acc and acc["seed"].notna().any():
        layers.append(base.mark_point(shape="diamond", color="red", size=90, filled=True).encode(
            x="seed:Q", tooltip=[alt.Tooltip("seed:Q", format=".2f", title="seed's figure")]))
    return alt.layer(*layers).properties(height=36 * len(acc) + 40)
