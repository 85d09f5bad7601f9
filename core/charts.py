"""Altair charts shared by the app and the exported HTML report."""
from __future__ import annotations

import altair as alt
import pandas as pd

from pathlib import Path

from core.records import Run


METRICS = ("loss", "val_loss", "accuracy", "val_accuracy")


def curves_frame(rows: list[dict], metrics=METRICS) -> pd.DataFrame:
    """Long table of the done runs behind experiment rows (core.results):
    experiment label, seed, epoch, metric, value; plus gap_accuracy =
    accuracy - val_accuracy (the overfitting view). Built from plain tuples:
    one DataFrame at the end is ~50x faster than a melt per run when hundreds
    of runs are on disk."""
    records = []
    for row in rows:
        exp = row["experiment"]
        for path in row["run_paths"]:
            r = Run(Path(path))
            seed = r.config.get("seed")
            for h in r.history:
                epoch = h.get("epoch")
                for m in metrics:
                    if h.get(m) is not None:
                        records.append((epoch, m, h[m], exp, seed))
                if h.get("accuracy") is not None and h.get("val_accuracy") is not None:
                    records.append((epoch, "gap_accuracy", h["accuracy"] - h["val_accuracy"], exp, seed))
    return pd.DataFrame.from_records(records, columns=["epoch", "metric", "value", "experiment", "seed"])


def curves_panel(df: pd.DataFrame, panels: dict[str, str], width: int = 330):
    """Several metrics side by side as one faceted chart (one chart to build
    and ship instead of three): mean line, ± one std band, shared legend
    selection, independent y scales. `panels` maps metric -> panel title."""
    d = df[df["metric"].isin(list(panels))].assign(panel=lambda x: x["metric"].map(panels))
    pick = alt.selection_point(fields=["experiment"], bind="legend")
    base = alt.Chart().encode(
        x=alt.X("epoch:Q", title="epoch"),
        color=alt.Color("experiment:N", legend=alt.Legend(orient="bottom", columns=2, labelLimit=300)))
    band = base.mark_errorband(extent="stdev").encode(
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        opacity=alt.condition(pick, alt.value(0.25), alt.value(0.03)))
    line = base.mark_line(point=alt.OverlayMarkDef(size=18)).encode(
        y="mean(value):Q",
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.1)),
        tooltip=["experiment:N", "panel:N", "epoch:Q",
                 alt.Tooltip("mean(value):Q", format=".4f", title="mean"),
                 alt.Tooltip("stdev(value):Q", format=".4f", title="std"),
                 alt.Tooltip("count(value):Q", title="seeds")])
    order = list(panels.values())
    return (alt.layer(band, line, data=d).add_params(pick)
            .properties(width=width, height=240).interactive()
            .facet(column=alt.Column("panel:N", sort=order, title=None))
            .resolve_scale(y="independent"))


def accuracy_bars(acc: pd.DataFrame, x_title: str, domain=(88, 100), target: float | None = None):
    """Mean test accuracy per experiment with ± one std, the seed's figure and
    an optional goal line."""
    acc = acc.assign(low=acc["mean"] - acc["std"], high=acc["mean"] + acc["std"])
    base = alt.Chart(acc).encode(y=alt.Y("experiment:N", sort=None, title=None,
                                         axis=alt.Axis(labelLimit=300)))
    bars = base.mark_bar(opacity=0.7).encode(
        x=alt.X("mean:Q", title=x_title, scale=alt.Scale(domain=list(domain))),
        tooltip=["title:N", alt.Tooltip("mean:Q", format=".2f"), alt.Tooltip("std:Q", format=".2f"),
                 "seeds:Q", "train / val:N", "epochs:Q"])
    err = base.mark_rule(color="black", strokeWidth=2).encode(x="low:Q", x2="high:Q")
    layers = [bars, err]
    if "seed" in acc and acc["seed"].notna().any():
        layers.append(base.mark_point(shape="diamond", color="red", size=90, filled=True).encode(
            x="seed:Q", tooltip=[alt.Tooltip("seed:Q", format=".2f", title="seed's figure")]))
    if target is not None:
        layers.append(alt.Chart(pd.DataFrame({"goal": [target]})).mark_rule(
            color="green", strokeDash=[6, 3], strokeWidth=2).encode(
            x="goal:Q", tooltip=[alt.Tooltip("goal:Q", format=".2f")]))
    return alt.layer(*layers).properties(height=36 * len(acc) + 40)


def confusion_heatmap(conf: pd.DataFrame, alphabet: str, title_true: str, title_pred: str):
    """Which characters are mistaken for which (off-diagonal counts only)."""
    return alt.Chart(conf).mark_rect().encode(
        x=alt.X("predicted:N", sort=list(alphabet), title=title_pred),
        y=alt.Y("true:N", sort=list(alphabet), title=title_true),
        color=alt.Color("count:Q", scale=alt.Scale(scheme="orangered")),
        tooltip=["true:N", "predicted:N", "count:Q"],
    ).properties(width=380, height=380)
