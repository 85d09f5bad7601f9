"""Home: what the report covers, every experiment with its headline figure, every run."""
import pandas as pd
import streamlit as st

from pages._common import experiment_table, runs_frame

st.title("Convolutional networks, measured")
st.markdown(
    "This report re-runs the experiments of two course reports on real data and "
    "with several seeds each, so that every claim carries its seed-to-seed spread. "
    "Everything below is read from the run records in `runs/`; nothing trains "
    "when this page opens. Retrain any experiment with `python -m experiments run NAME --seeds 3`."
)

rows = experiment_table()
table = pd.DataFrame([{
    "experiment": r["experiment"], "what": r["title"], "group": r["group"],
    "seeds done": r["n_done"],
    "seed's test acc. %": None if r["reference"] is None else 100 * r["reference"],
    "ours: mean %": None if r["test_acc_mean"] is None else 100 * r["test_acc_mean"],
    "± std": None if r["test_acc_std"] is None else 100 * r["test_acc_std"],
    "s / epoch": r["sec_per_epoch"],
} for r in rows])
st.subheader("Experiments")
st.dataframe(table, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.2f")
                            for c in ("seed's test acc. %", "ours: mean %", "± std", "s / epoch")})

st.subheader("Runs on disk")
runs = runs_frame()
if runs.empty:
    st.info("No runs yet. Train one with `python -m experiments run mnist-fair-cnn2 --seeds 3`.")
else:
    counts = runs["status"].value_counts().to_dict()
    st.caption(", ".join(f"{n} {s}" for s, n in counts.items()))
    st.dataframe(runs, hide_index=True, width="stretch",
                 column_config={"test accuracy": st.column_config.NumberColumn(format="%.4f"),
                                "best val accuracy": st.column_config.NumberColumn(format="%.4f"),
                                "s / epoch": st.column_config.NumberColumn(format="%.1f")})
