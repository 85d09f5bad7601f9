"""Altair charts shared by the app and every export.

Each chart carries only the rows it draws: histories are aggregated over seeds
here, in pandas, before they reach Vega (a seed-level long table of a page
ran to 7,000 rows and past Altair's 5,000-row limit). Accuracy is in percent
everywhere; loss stays as it is. Charts leave their width to the container
(the app's column, or the export's page width)."""
from __future__ import annotations

import math

import altair as alt
import altair.utils.schemapi
import pandas as pd

from pathlib import Path

from core.records import Run
from core.text import text


# Encodings are given as channel objects (alt.Y("mean:Q")), never as bare
# shorthand strings: Altair turns each string into its class through a lookup
# table it rebuilds on every call (hashing ~600 schemas). Building every
# page's charts in both languages: 7.1 s with strings, 6.1 s without.
# Altair also checks every object against the schema as it is made (its
# debug mode; 6.1 -> 5.7 s without). The charts are checked whole instead, by
# a test: tests/test_app.py validates every chart of every committed page.
altair.utils.schemapi.disable_debug_mode()
METRICS = ("loss", "val_loss", "accuracy", "val_accuracy")
# Tableau's ten, with the first experiment (the baseline, by convention) in grey.
# No pure red: red diamonds mark the seed's own figures.
PALETTE = ["#4c4c4c", "#4c78a8", "#f58518", "#54a24b", "#b279a2", "#72b7b2", "#9d755d", "#eeca3b",
           "#ff9da6", "#17becf", "#8c6d31", "#393b79", "#bcbd22"]
VERDICT_COLORS = {"up": "#2e7d32", "holds": "#2e7d32", "down": "#c62828", "reversed": "#c62828",
                  "unchanged": "#757575", "no measurable difference": "#757575",
                  "not enough runs": "#bdbdbd"}


WORDS = ("epoch", "epochs", "experiment", "what", "mean", "mean-pct", "std", "mean-std", "seeds",
         "train-val", "seed-figure", "goal", "delta", "count")


def _words(lang: str) -> dict[str, str]:
    """Tooltip titles and axis words, from content/<lang>/charts.md."""
    return {k: text(lang, f"charts.{k}") for k in WORDS}


def is_accuracy(metric: str) -> bool:
    return "accuracy" in metric or "exact_match" in metric


def curves_frame(rows: list[dict], metrics=METRICS) -> pd.DataFrame:
    """Mean, ± one std band and seed count per (experiment, metric, epoch) of
    the done runs behind experiment rows (core.results), accuracies in %;
    plus gap_accuracy = accuracy - val_accuracy (the overfitting view)."""
    records = []
    for row in rows:
        exp = row["experiment"]
        for path in row["run_paths"]:
            for h in Run(Path(path)).history:
                epoch = h.get("epoch")
                for m in metrics:
                    if h.get(m) is not None:
                        records.append((exp, m, epoch, h[m]))
                if h.get("accuracy") is not None and h.get("val_accuracy") is not None:
                    records.append((exp, "gap_accuracy", epoch, h["accuracy"] - h["val_accuracy"]))
    cols = ["experiment", "metric", "epoch", "mean", "low", "high", "seeds"]
    if not records:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame.from_records(records, columns=["experiment", "metric", "epoch", "value"])
    scale = df["metric"].map(lambda m: 100.0 if is_accuracy(m) else 1.0)
    df["value"] = df["value"] * scale
    g = df.groupby(["experiment", "metric", "epoch"], sort=False)["value"]
    out = g.agg(mean="mean", std="std", seeds="count").reset_index()
    out["std"] = out["std"].fillna(0.0)
    out["low"], out["high"] = out["mean"] - out["std"], out["mean"] + out["std"]
    return out[cols].round(4)


def color_scale(order: list[str]) -> alt.Scale:
    """The same colour for an experiment in every chart of a page."""
    colors = (PALETTE * math.ceil(max(len(order), 1) / len(PALETTE)))[:len(order)]
    return alt.Scale(domain=list(order), range=colors)


def curves_key(df: pd.DataFrame, order: list[str] | None = None) -> list[tuple[str, str]]:
    """(experiment, colour) of every line of the curves_panel charts drawn from
    `df` with the same `order`: the renderers write it above the charts as a
    key (a ("key", ...) block), since a printed report cannot hover and the
    small charts have no legend of their own (a legend inside each would take
    its room from the plot)."""
    order = order or list(dict.fromkeys(df["experiment"]))
    colors = color_scale(order).range
    shown = set(df["experiment"])
    return [(e, c) for e, c in zip(order, colors) if e in shown]


def curves_panel(df: pd.DataFrame, panels: dict[str, str], order: list[str] | None = None,
                 height: int = 240, lang: str = "en") -> list:
    """One line chart per metric (mean over seeds, ± one std band), shown side
    by side by the renderer; `panels` maps metric -> title. Each chart gets
    only its metric's rows. No legend of their own: the colours are those of
    the page's accuracy chart (same `order`), whose rows name them; hovering a
    line names it too."""
    order = order or list(dict.fromkeys(df["experiment"]))
    w = _words(lang)
    out = []
    for metric, title in panels.items():
        d = df[df["metric"] == metric].drop(columns=["metric"])
        if d.empty:
            continue
        unit = " (%)" if is_accuracy(metric) else ""
        # The tooltip's figures as one preformatted text: Vega formatting three
        # numbers per point (d3-format in its expression interpreter) cost 0.4 s
        # of the browser's time on the best-combination page's 4 x 595 points.
        d = d.assign(reading=[f"{m:.3f} ± {'–' if n < 2 else f'{(h - lo) / 2:.3f}'}"
                              for m, lo, h, n in zip(d["mean"], d["low"], d["high"], d["seeds"])])
        base = alt.Chart().encode(
            x=alt.X("epoch:Q", title=w["epoch"], axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("experiment:N", scale=color_scale(order), legend=None))
        band = base.mark_area(opacity=0.18).encode(
            y=alt.Y("low:Q", title=None, scale=alt.Scale(zero=False)), y2=alt.Y2("high:Q"))
        tooltip = [alt.Tooltip("experiment:N", title=w["experiment"]), alt.Tooltip("epoch:Q", title=w["epoch"]),
                   alt.Tooltip("reading:N", title=w["mean-std"]),
                   alt.Tooltip("seeds:Q", title=w["seeds"])]
        # No tooltip on the line itself: Vega picks a line as one path and
        # answers with its first point, so hovering epoch 30 read epoch 1.
        line = base.mark_line(strokeWidth=2).encode(y=alt.Y("mean:Q", title=None))
        # Hover anywhere near a line for its values: an invisible point per epoch
        # carries the tooltip (cheaper to draw than visible points and a zoom).
        hover = base.mark_point(size=60, opacity=0).encode(y=alt.Y("mean:Q"), tooltip=tooltip)
        out.append(alt.layer(band, line, hover, data=d, height=height,
                             title=alt.TitleParams(title + unit, anchor="start", fontSize=13)))
    return out


def stacked(charts: list, height: int = 150):
    """A row of curves_panel charts as one view, one above the other at the
    full width of its container, on aligned epoch axes (side by side, two a
    row, left the third of three beside an empty half). One Vega view per
    group of curves instead of one per metric; measured visit for visit
    against the old layout, level in speed within the noise. Streamlit fits a
    vconcat to its column only when told (fit-x); the printed exports keep
    the row two abreast."""
    def sized(c):  # a chart sized by its rows (the accuracy dots) keeps its height
        if getattr(c, "description", None) == ROWS:
            c = c.copy(deep=False)
            c.autosize = alt.Undefined  # the vconcat's own autosize governs; a part may not have one
            return c
        if isinstance(getattr(c, "height", None), alt.Step):
            return c
        # A shallow copy: .properties() deep-copies the chart's whole tree,
        # and Altair's copies were most of a page's cold build (cProfile).
        c = c.copy(deep=False)
        c.height = height
        return c
    return alt.vconcat(*[sized(c) for c in charts], spacing=16,
                       autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))


ROWS = "one row per line"  # the description of a chart sized by its rows (stacked keeps its height)
# A chart whose height is its rows' (two y scales cannot share a step): fitted
# to the column's width only, so that the legend and the axis do not take
# their room out of the rows' height.
_FIT_X = alt.AutoSizeParams(type="fit-x", contains="padding")


def accuracy_bars(acc: pd.DataFrame, x_title: str, domain=None, target: float | None = None,
                  order: list[str] | None = None, lang: str = "en"):
    """Mean test accuracy per experiment as a dot with its ± one std interval
    (a dot, not a bar: the axis does not start at zero), its figure and seed
    count written on the right, the seed's own figure as a red diamond and an
    optional goal. Without `domain` the axis spans all of these and no more
    (fit_domain). One seed has no interval and reads "± –"."""
    from core.results import seeds_words
    std = acc["std"].fillna(0.0)  # no spread: the interval is the dot itself
    acc = acc.assign(low=acc["mean"] - std, high=acc["mean"] + std)
    if domain is None:
        seed = acc["seed"].dropna() if "seed" in acc else pd.Series(dtype=float)
        domain = fit_domain(float(pd.concat([acc["low"], seed]).min()),
                            float(pd.concat([acc["high"], seed]).max()), target)
    acc = acc.assign(label=[
        f"{m:.2f} ± {'–' if n < 2 or pd.isna(s) else f'{s:.2f}'} ({seeds_words(lang, n)})"
        for m, s, n in zip(acc["mean"], acc["std"], acc["seeds"])])
    order = order or list(acc["experiment"])
    w = _words(lang)
    scale = alt.Scale(domain=list(domain), clamp=True, nice=False)
    base = alt.Chart().encode(y=alt.Y("experiment:N", sort=list(acc["experiment"]), title=None,
                                      axis=alt.Axis(labelLimit=260, labelFontSize=12)))
    err = base.mark_rule(strokeWidth=2.5).encode(
        x=alt.X("low:Q", scale=scale, title=x_title),
        x2=alt.X2("high:Q"), color=alt.Color("experiment:N", scale=color_scale(order), legend=None))
    dots = base.mark_circle(size=110, opacity=1).encode(
        x=alt.X("mean:Q", title=x_title, scale=scale),
        color=alt.Color("experiment:N", scale=color_scale(order), legend=None),
        tooltip=[alt.Tooltip("experiment:N", title=w["experiment"]), alt.Tooltip("title:N", title=w["what"]),
                 alt.Tooltip("label:N", title=w["mean-std"]),
                 alt.Tooltip("train / val:N", title=w["train-val"]), alt.Tooltip("epochs:Q", title=w["epochs"])])
    layers = [err, dots]
    if "seed" in acc and acc["seed"].notna().any():
        layers.append(base.mark_point(shape="diamond", color="#d62728", size=90, filled=True).encode(
            x=alt.X("seed:Q", scale=scale),
            tooltip=[alt.Tooltip("experiment:N", title=w["experiment"]),
                     alt.Tooltip("seed:Q", format=".2f", title=w["seed-figure"])]))
    if target is not None:
        layers.append(alt.Chart(pd.DataFrame({"goal": [target]})).mark_rule(
            color="#2e7d32", strokeDash=[6, 3], strokeWidth=2).encode(
            x=alt.X("goal:Q", scale=scale),
            tooltip=[alt.Tooltip("goal:Q", format=".2f", title=w["goal"])]))
    # Each figure as a label of a second axis on the right, beside the plot:
    # the x axis then spans the intervals alone (no room kept for text).
    acc = acc.assign(_key=acc["experiment"])
    figures = alt.Chart().mark_point(opacity=0).encode(
        x=alt.X("mean:Q", scale=scale), y=_right_labels(acc, "label", list(acc["experiment"]), key="_key",
                                                       size=11, color="#333"))
    # Two y scales cannot share a step: the height is the step's, fixed.
    return alt.layer(alt.layer(*layers), figures, data=acc, height=30 * len(acc), description=ROWS,
                     autosize=_FIT_X).resolve_scale(y="independent")


def fit_domain(low: float, high: float, target: float | None = None, margin: float = 0.05,
               top: float = 100.0) -> tuple[float, float]:
    """An axis range around intervals [low, high] (and a goal line), in %:
    `margin` of their span on each side (at least 0.1 point), never past 0
    or `top`."""
    lo = min(low, target if target is not None else low)
    hi = max(high, target if target is not None else high)
    pad = margin * max(hi - lo, 2.0)
    return (round(max(0.0, lo - pad), 2), round(min(top, hi + pad), 2))


def forest_plot(df: pd.DataFrame, x_title: str, legend_title: str, verdict_labels: dict[str, str],
                lang: str = "en"):
    """Every claim or technique as its Δ with a ± 2 se interval against zero,
    coloured by our verdict; the seed author's verdict written after each
    interval. Columns of df: label, diff, low, high, verdict (a key of
    VERDICT_COLORS), seed (text, may be empty)."""
    order = list(df["label"])
    w = _words(lang)
    keys = [k for k in VERDICT_COLORS if k in set(df["verdict"])]
    df = df.assign(verdict_label=df["verdict"].map(lambda v: verdict_labels.get(v, v)),
                   low=df["low"].fillna(df["diff"]), high=df["high"].fillna(df["diff"]))
    color = alt.Color("verdict_label:N", title=legend_title,
                      scale=alt.Scale(domain=[verdict_labels.get(k, k) for k in keys],
                                      range=[VERDICT_COLORS[k] for k in keys]),
                      legend=alt.Legend(orient="top", labelLimit=240, titleLimit=300))
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=300, labelFontSize=11))
    x_scale = alt.Scale(domain=list(delta_domain(df["low"], df["high"])), nice=False)
    base = alt.Chart().encode(y=y)
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#000", strokeWidth=1).encode(
        x=alt.X("x:Q", scale=x_scale))
    err = base.mark_rule(strokeWidth=2.5).encode(
        x=alt.X("low:Q", title=x_title, scale=x_scale), x2=alt.X2("high:Q"), color=color)
    dots = base.mark_circle(size=80, opacity=1).encode(
        x=alt.X("diff:Q", scale=x_scale), color=color,
        tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("diff:Q", format="+.2f", title=w["delta"]),
                 alt.Tooltip("low:Q", format="+.2f", title="Δ − 2 se"),
                 alt.Tooltip("high:Q", format="+.2f", title="Δ + 2 se"),
                 alt.Tooltip("verdict_label:N", title=legend_title), alt.Tooltip("seed:N", title=" ")])
    # The seed author's verdict as labels of a second axis on the right, one
    # per row: beside the plot, so the x axis spans the intervals alone.
    right = _right_labels(df, "seed", order)
    seed = alt.Chart().mark_point(opacity=0).encode(x=alt.X("diff:Q", scale=x_scale), y=right)
    # Two y scales cannot share a step: the height is the step's, fixed.
    return alt.layer(alt.layer(zero, err, dots), seed, data=df, height=24 * len(order), description=ROWS,
                     autosize=_FIT_X).resolve_scale(y="independent")


def _right_labels(df: pd.DataFrame, column: str, order: list[str], key: str = "label",
                  size: int = 10, color: str = "#555") -> alt.Y:
    """A y encoding whose axis, on the right, writes `column` beside each row
    of a chart whose rows (`key`) are sorted by `order`: the row's position
    before a "|" keeps the values distinct and in order; the axis shows only
    what follows it. Adds the column "_right" to df."""
    pos = {label: i for i, label in enumerate(order)}
    df["_right"] = [f"{pos[label]:03d}|{text}" for label, text in zip(df[key], df[column])]
    return alt.Y("_right:N", sort=sorted(df["_right"]), title=None,
                 axis=alt.Axis(orient="right", ticks=False, domain=False, labelLimit=240, labelFontSize=size,
                               labelColor=color, labelExpr="slice(datum.label, 4)"))


def delta_domain(low, high, margin: float = 0.05) -> tuple[float, float]:
    """An axis range for differences: their intervals [low, high] and zero,
    with `margin` of that span on each side (nothing else widens it)."""
    lo, hi = min(0.0, float(min(low))), max(0.0, float(max(high)))
    pad = margin * max(hi - lo, 0.1)
    return (round(lo - pad, 3), round(hi + pad, 3))


def confusion_heatmap(conf: pd.DataFrame, alphabet: str, title_true: str, title_pred: str, lang: str = "en"):
    """Which characters are mistaken for which (off-diagonal counts only)."""
    return alt.Chart(conf).mark_rect().encode(
        x=alt.X("predicted:N", sort=list(alphabet), title=title_pred),
        y=alt.Y("true:N", sort=list(alphabet), title=title_true),
        color=alt.Color("count:Q", scale=alt.Scale(scheme="orangered"), title=_words(lang)["count"]),
        tooltip=[alt.Tooltip("true:N", title=title_true), alt.Tooltip("predicted:N", title=title_pred),
                 alt.Tooltip("count:Q", title=_words(lang)["count"])],
    ).properties(width=alt.Step(20), height=alt.Step(20))


def lines(df: pd.DataFrame, x: str, y: str, series: str, x_title: str, y_title: str,
          tooltip: list[str] | None = None, height: int = 260, lang: str = "en"):
    """One line per `series` of (x, y) points, both axes fitted to the data
    (5 % margins): a trade-off curve, such as accuracy against coverage."""
    order = list(dict.fromkeys(df[series]))
    xs = fit_domain(df[x].min(), df[x].max(), margin=0.0)
    ys = fit_domain(df[y].min(), df[y].max())
    base = alt.Chart(df).encode(
        x=alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(domain=list(xs), zero=False, nice=False)),
        y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(domain=list(ys), zero=False, nice=False)),
        color=alt.Color(f"{series}:N", scale=color_scale(order), title=None,
                        legend=alt.Legend(orient="bottom", labelLimit=0)))
    line = base.mark_line(strokeWidth=2)
    hover = base.mark_point(size=50, opacity=0).encode(tooltip=tooltip or [series, x, y])
    # fitted to the width only: the legend and the axes keep their room out of the plot's height
    return alt.layer(line, hover, height=height, autosize=_FIT_X)
