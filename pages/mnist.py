"""MNIST (seed 002, part I): the seed's protocols reproduced, then a fair comparison."""
import altair as alt
import pandas as pd
import streamlit as st

from pages._common import curves_frame, experiment_table, mean_band_chart

st.title("MNIST: dense nets vs CNNs")
st.markdown(
    "Seed 002 trained two dense networks and two CNNs on MNIST, but not on the same "
    "data: its logs show 22,000, 5,500, 2,750, 11,000 and 48,000 training images for "
    "different runs, and 10 to 50 epochs. **Seed protocol** re-runs each exactly as logged; "
    "**fair comparison** gives every model the same 55,000 / 5,000 split, the same 15-epoch "
    "budget, early stopping and learning-rate decay. Three seeds each; bars show mean ± std."
)

rows = [r for r in experiment_table() if r["group"] in ("mnist-seed", "mnist-fair")]
done = [r for r in rows if r["n_done"]]
if not done:
    st.info("No MNIST runs on disk yet: `python -m experiments run 'mnist-*' --seeds 3`.")
    st.stop()

acc = pd.DataFrame([{
    "experiment": r["experiment"], "group": r["group"], "title": r["title"],
    "mean": 100 * r["test_acc_mean"], "std": 100 * r["test_acc_std"], "seeds": r["n_done"],
    "seed's figure": None if r["reference"] is None else 100 * r["reference"],
    "train / val": f"{r['n_train']:,} / {r['n_val']:,}", "epochs": r["epochs"],
} for r in done])
acc["low"], acc["high"] = acc["mean"] - acc["std"], acc["mean"] + acc["std"]

for group, label in (("mnist-seed", "Seed protocol"), ("mnist-fair", "Fair comparison")):
    g = acc[acc["group"] == group]
    if g.empty:
        continue
    st.subheader(label)
    base = alt.Chart(g).encode(y=alt.Y("experiment:N", sort=None, title=None))
    bars = base.mark_bar(opacity=0.7).encode(
        x=alt.X("mean:Q", title="test accuracy %", scale=alt.Scale(domain=[88, 100])),
        tooltip=["title", alt.Tooltip("mean:Q", format=".2f"), alt.Tooltip("std:Q", format=".2f"),
                 "seeds", "train / val", "epochs"])
    err = base.mark_rule(color="black").encode(x="low:Q", x2="high:Q")
    seed = base.mark_point(shape="diamond", color="red", size=90, filled=True).encode(
        x="seed's figure:Q", tooltip=[alt.Tooltip("seed's figure:Q", format=".2f")])
    st.altair_chart((bars + err + seed).properties(height=40 * len(g) + 40), width="stretch")
    st.caption("Bars: our mean over seeds, black line ± one std; red diamonds: the seed's single reported run.")
    st.dataframe(g.drop(columns=["group", "low", "high"]), hide_index=True, width="stretch")
    curves = curves_frame(list(g["experiment"]))
    c1, c2 = st.columns(2)
    c1.altair_chart(mean_band_chart(curves, "val_accuracy", "validation accuracy"), width="stretch")
    c2.altair_chart(mean_band_chart(curves, "val_loss", "validation loss"), width="stretch")
