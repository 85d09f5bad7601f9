"""Widgets of the 50-class technique pages: padding calculator, live
augmentation preview, activation curves, class weights and what they did per
class. Thin: every number comes from experiments.caltech.tools."""
from __future__ import annotations

from fractions import Fraction

import altair as alt
import pandas as pd
import streamlit as st

from experiments.caltech import tools
from experiments.caltech.evaluate import read_classes
from experiments.caltech.augment import SEED_AUGMENT
from core.datadir import data_dir
from core.records import list_runs, runs_dir
from experiments.caltech.configs import SIZE
from app_pages._common import T, lang, spec_of, vega

CW_EXPERIMENTS = ("c50-baseline", "c50-cw-max", "c50-cw-balanced")


def _tex(v: Fraction) -> str:
    if v.denominator == 1:
        return str(v.numerator)
    return rf"\frac{{{v.numerator}}}{{{v.denominator}}} \approx {float(v):.3g}"


# --- padding -----------------------------------------------------------------------

def padding_calculator(key: str = "pad") -> None:
    """Output = (n + 2p - f)/s + 1 with the chosen numbers, next to what a real
    Keras Conv2D produces, and a drawing of the padded input."""
    c = st.columns(5)
    n = int(c[0].number_input(T("caltech_tools.pad.n"), 1, 256, 7, key=f"{key}_n"))
    f = int(c[1].number_input(T("caltech_tools.pad.f"), 1, 15, 3, key=f"{key}_f"))
    s = int(c[2].number_input(T("caltech_tools.pad.s"), 1, 8, 1, key=f"{key}_s"))
    # None: p is a number, typed in beside; "same" / "valid": Keras's padding modes
    mode = c[3].selectbox(T("caltech_tools.pad.mode"), [None, "same", "valid"], key=f"{key}_mode",
                          format_func=lambda m: T(f"caltech_tools.pad.{m or 'number'}"))
    # Always drawn (disabled for same / valid) so the layout does not jump.
    p_num = int(c[4].number_input("p", 0, 20, 0, key=f"{key}_p", disabled=mode is not None))
    p = p_num if mode is None else mode
    size = tools.conv_output_size(n, f, s, p)

    pad_sym, pad_num = {"same": ("P", str(size.pad_total)), "valid": ("2p", "2 \\cdot 0")}.get(
        mode, ("2p", f"2 \\cdot {p}"))
    st.latex(rf"\text{{Output}} = \frac{{n + {pad_sym} - f}}{{s}} + 1 = "
             rf"\frac{{{n} + {pad_num} - {f}}}{{{s}}} + 1 = {_tex(size.exact)}")
    if mode == "same":
        st.caption(T("caltech_tools.pad.same-note", total=size.pad_total, before=size.pad_before,
                     after=size.pad_after, out=size.keras))

    # A real Conv2D needs Keras, and Keras TensorFlow: seconds on the page's
    # first visit. Asked for, not paid by every reader (the tests check the
    # formula against Keras on 240 combinations).
    check = st.toggle(T("caltech_tools.pad.check"), key=f"{key}_check", help=T("caltech_tools.pad.check-help"))
    real = tools.keras_output_size(n, f, s, p) if check else None
    m = st.columns(2)
    m[0].metric(T("caltech_tools.pad.formula"), f"{size.exact_value:.4g}")
    if check:
        m[1].metric(T("caltech_tools.pad.keras"), "–" if real is None else real)
    if size.keras is None:
        st.error(T("caltech_tools.pad.no-fit", f=f, size=n + size.pad_total))
    else:
        if not size.is_integer:
            st.warning(T("caltech_tools.pad.not-integer", sym=pad_sym, out=size.keras))
        if check and real == size.keras:
            st.success(T("caltech_tools.pad.agrees", out=real))
        elif check:
            st.error(T("caltech_tools.pad.disagrees", formula=size.keras, out=real))

    spec, shown = _padding_spec(n, f, size.pad_before, size.pad_after, lang())
    vega(spec, width="content")
    st.caption(T("caltech_tools.pad.outline-shown", shown=shown, n=n) if shown < n else
               T("caltech_tools.pad.outline"))


@st.cache_data(show_spinner=False, max_entries=64)
def _padding_spec(n: int, f: int, before: int, after: int, language: str) -> tuple[dict, int]:
    """The padded input as a grid of cells, the first window outlined; and
    how many of the n input cells a side it shows."""
    grid = tools.padding_grid(n, f, (before, after))
    kinds = {"input": T("caltech_tools.pad.input"), "padding": T("caltech_tools.pad.padding")}
    grid = grid.assign(cell=grid["kind"].map(kinds))
    chart = alt.Chart(grid).mark_rect(stroke="white", strokeWidth=1).encode(
        x=alt.X("col:O", axis=None), y=alt.Y("row:O", axis=None),
        color=alt.Color("cell:N", title=None, scale=alt.Scale(
            domain=[kinds["input"], kinds["padding"]], range=["#4c78a8", "#e0e0e0"])),
        tooltip=["row:Q", "col:Q", "cell:N"])
    window = alt.Chart(grid[grid["window"]]).mark_rect(fill=None, stroke="#e45756", strokeWidth=2).encode(
        x="col:O", y="row:O")
    # Discrete axes are sized by step: every cell 18 px square whatever the grid size.
    return (spec_of((chart + window).properties(width=alt.Step(18), height=alt.Step(18))),
            grid.attrs.get("shown_n", n))


# --- augmentation ----------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=8)
def _samples(n: int, size: int, seed: int, folder: str):
    return tools.sample_images(n, size, seed, data_dir=folder, with_classes=True)


@st.cache_data(show_spinner=False, max_entries=32)
def _augmented(images, spec_items: tuple, n_variants: int, seed: int):
    return tools.augmentation_preview(images, dict(spec_items), n_variants, seed)


def _bump(seed_key: str) -> None:
    st.session_state[seed_key] = int(st.session_state.get(seed_key, 0)) + 1


def augmentation_preview_panel(key: str = "aug", n_images: int = 4, n_variants: int = 5) -> None:
    """The models' own augmentation layers on real training images, live."""
    flips = [None, "horizontal", "vertical", "horizontal_and_vertical"]
    c = st.columns(5)
    spec = {
        "flip": c[0].selectbox(T("caltech_tools.aug.flip"), flips, index=flips.index(SEED_AUGMENT["flip"]),
                               key=f"{key}_flip", format_func=lambda v: T(f"caltech_tools.aug.{v or 'flip-off'}")),
        "rotation": c[1].slider(T("caltech_tools.aug.rotation"), 0.0, 0.5,
                                float(SEED_AUGMENT["rotation"]), 0.05, key=f"{key}_rotation"),
        "zoom": c[2].slider(T("caltech_tools.aug.zoom"), 0.0, 0.5, 0.0, 0.05, key=f"{key}_zoom"),
        "translation": c[3].slider(T("caltech_tools.aug.translation"), 0.0, 0.3, 0.0, 0.05, key=f"{key}_translation"),
        "contrast": c[4].slider(T("caltech_tools.aug.contrast"), 0.0, 0.9, 0.0, 0.1, key=f"{key}_contrast"),
    }
    seed_key = f"{key}_seed"
    s1, s2 = st.columns([1, 1], vertical_alignment="bottom")
    st.session_state.setdefault(seed_key, 0)  # the Regenerate button bumps it
    seed = int(s1.number_input(T("caltech_tools.aug.seed"), 0, 1_000_000, key=seed_key))
    s2.button(T("caltech_tools.aug.regenerate"), key=f"{key}_regen", on_click=_bump, args=(seed_key,))

    try:
        # Shown at twice the study's size: the same transforms, easier to see.
        images, names = _samples(n_images, 2 * SIZE, 0, str(data_dir()))
    except tools.ImageDataNotFound:
        st.info(T("caltech_tools.aug.no-images", folder=data_dir() / "caltech101" / "101_ObjectCategories"))
        return
    # The variants come from the models' own Keras layers, and Keras loads
    # TensorFlow: seconds on a first visit, so the reader asks for them.
    show = st.toggle(T("caltech_tools.aug.show"), key=f"{key}_show", help=T("caltech_tools.aug.show-help"))
    out = _augmented(images, tuple(sorted(spec.items())), n_variants, seed) if show else None
    st.caption(T("caltech_tools.aug.caption", shown=2 * SIZE, size=SIZE) if show else
               T("caltech_tools.aug.caption-off", shown=2 * SIZE, size=SIZE))
    if not show:  # the originals side by side, at the size they would have in the grid
        for col, image, name in zip(st.columns(n_variants + 1), images, names):
            col.image(image, caption=name, width="stretch")
        return
    for i, name in enumerate(names):
        cols = st.columns(n_variants + 1)
        cols[0].image(images[i], caption=name, width="stretch")
        for j in range(n_variants):
            cols[j + 1].image(out[i * n_variants + j], width="stretch")


# --- activations -----------------------------------------------------------------

@st.cache_data(show_spinner=False)
def _activation_specs(language: str) -> tuple[dict, dict]:
    """The functions and their slopes, from the stored curves (no Keras import)."""
    df = tools.stored_activation_frame()
    pick = alt.selection_point(fields=["activation"], bind="legend")
    base = alt.Chart(df).encode(
        x=alt.X("x:Q"), color=alt.Color("activation:N", title=T("caltech_tools.act.legend"),
                                          legend=alt.Legend(orient="bottom")),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=["activation:N", alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("value:Q", format=".4f"),
                 alt.Tooltip("derivative:Q", format=".4f")])
    value = base.mark_line().encode(y=alt.Y("value:Q", title=T("caltech_tools.act.value"))).properties(
        title=T("caltech_tools.act.value-title"), height=260).add_params(pick)
    slope = base.mark_line().encode(y=alt.Y("derivative:Q", title=T("caltech_tools.act.slope"))).properties(
        title=T("caltech_tools.act.slope-title"), height=260).add_params(pick)
    return spec_of(value), spec_of(slope)


def activation_panel() -> None:
    """The functions and their slopes; the slope is what backpropagation
    multiplies by at every layer, which is why sigmoid's ≤ 0.25 matters."""
    value, slope = _activation_specs(lang())
    c = st.columns(2)
    with c[0]:
        vega(value)
    with c[1]:
        vega(slope)


# --- class weights -----------------------------------------------------------------

def _c50_runs(root) -> list:
    return [r for r in list_runs(root) if r.experiment.startswith("c50-") and r.status == "done"]


@st.cache_data(show_spinner=False)
def _class_data(root: str, signature: tuple):
    runs = _c50_runs(root)
    with_classes = [r for r in runs if (r.path / "classes.json").is_file()]
    # The baseline's counts if it has any; the split is the same for every c50 run.
    pool = [r for r in with_classes if r.experiment == "c50-baseline"] or with_classes
    weights = None
    if pool:
        newest = max(pool, key=lambda r: (r.path / "classes.json").stat().st_mtime)
        info = read_classes(newest.path / "classes.json") or {}
        if info.get("classes") and info.get("train_counts"):
            weights = tools.class_weight_frame(info["train_counts"], info["classes"])
    paths = {e: [r.path for r in runs if r.experiment == e] for e in CW_EXPERIMENTS}
    return weights, tools.per_class_frame(paths), tools.head_tail_frame(paths)


def _signature(root) -> tuple:
    return tuple((str(r.path), r.mtime()) for r in _c50_runs(root))


@st.cache_data(show_spinner=False)
def _class_specs(root: str, signature: tuple, language: str):
    """Class sizes with both formulas' weights; per-class accuracy against
    class size, one colour per experiment (None where there is nothing);
    and the head/tail frame for the table below them."""
    weights, per_class, head_tail = _class_data(root, signature)
    if weights is None:
        return None, None, head_tail
    formulas = {"weight_formula1": T("caltech_tools.cw.formula1"), "weight_formula2": T("caltech_tools.cw.formula2")}
    long = weights.melt(id_vars=["rank", "class", "count"], value_vars=list(formulas),
                        var_name="formula", value_name="weight").assign(
        formula=lambda d: d["formula"].map(formulas))
    order = list(weights["class"])
    x = alt.X("class:N", sort=order, title=None,
              axis=alt.Axis(labelAngle=-60, labelLimit=120, labelOverlap=False, labelFontSize=9))
    bars = alt.Chart(weights).mark_bar(color="#c7c7c7").encode(
        x=x, y=alt.Y("count:Q", title=T("caltech_tools.cw.count")),
        tooltip=["rank:Q", "class:N", "count:Q", alt.Tooltip("weight_formula1:Q", format=".3f"),
                 alt.Tooltip("weight_formula2:Q", format=".3f")])
    pts = alt.Chart(long).mark_line(point=True).encode(
        x=x, y=alt.Y("weight:Q", title=T("caltech_tools.cw.weight")),
        color=alt.Color("formula:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=400)),
        tooltip=["class:N", "formula:N", alt.Tooltip("weight:Q", format=".3f")])
    sizes = spec_of(alt.layer(bars, pts).resolve_scale(y="independent").properties(height=340))
    if per_class.empty:
        return sizes, None, head_tail
    pc = per_class.assign(accuracy_pct=per_class["accuracy"] * 100)
    pick = alt.selection_point(fields=["experiment"], bind="legend")
    base = alt.Chart(pc).encode(
        x=alt.X("train_count:Q", title=T("caltech_tools.cw.class-count"),
                scale=alt.Scale(type="log")),
        y=alt.Y("accuracy_pct:Q", title=T("caltech_tools.cw.class-accuracy")),
        color=alt.Color("experiment:N", sort=list(CW_EXPERIMENTS), title=T("caltech_tools.cw.experiment"),
                        legend=alt.Legend(orient="bottom")))
    dots = base.mark_circle(size=50).encode(
        opacity=alt.condition(pick, alt.value(0.85), alt.value(0.1)),
        tooltip=["experiment:N", "class:N", "train_count:Q", alt.Tooltip("accuracy_pct:Q", format=".1f"),
                 "runs:Q", "group:N"]).add_params(pick)
    trend = base.transform_loess("train_count", "accuracy_pct", groupby=["experiment"]).mark_line()
    return sizes, spec_of((dots + trend).properties(height=320).interactive()), head_tail


def class_weight_panel(root=None) -> None:
    """Class sizes with both formulas' weights, then whether the weights moved
    accuracy from the large classes to the small ones."""
    root = str(runs_dir(root))
    sizes, per_class_spec, head_tail = _class_specs(root, _signature(root), lang())
    if sizes is None:
        st.info(T("caltech_tools.cw.no-classes"))
        return
    vega(sizes)
    if per_class_spec is None:
        st.info(T("caltech_tools.cw.no-runs", experiments=", ".join(CW_EXPERIMENTS)))
        return
    vega(per_class_spec)

    # One row per experiment: does weighting lift the 10 smallest classes, and
    # what does it cost the 10 largest?
    ht = head_tail.assign(accuracy=head_tail["accuracy"] * 100, std=head_tail["std"] * 100)
    wide = ht.pivot(index="experiment", columns="group", values=["accuracy", "std"])
    labels = {"head": T("caltech_tools.cw.head"), "tail": T("caltech_tools.cw.tail")}
    table = pd.DataFrame({"experiment": wide.index})
    for g in ("head", "tail"):
        table[labels[g] + " %"] = wide[("accuracy", g)].round(1).to_numpy()
        table[labels[g] + " ±"] = wide[("std", g)].round(1).to_numpy()
    table["runs"] = ht.groupby("experiment")["runs"].max().reindex(wide.index).to_numpy()
    order = {e: i for i, e in enumerate(CW_EXPERIMENTS)}
    table = table.sort_values("experiment", key=lambda c: c.map(order)).rename(
        columns={"experiment": T("caltech_tools.cw.experiment"), "runs": T("caltech_tools.cw.runs")})
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(T("caltech_tools.cw.caption"))
