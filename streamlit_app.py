"""Entry point: `streamlit run streamlit_app.py`. Navigation only; pages live in pages/."""
import streamlit as st

st.set_page_config(page_title="CNN experiments report", page_icon="🧪", layout="wide")

nav = st.navigation({
    "Overview": [st.Page("pages/home.py", title="Home", icon="🏠", default=True)],
    "MNIST": [st.Page("pages/mnist.py", title="MNIST: dense nets vs CNNs", icon="✍️")],
    "Runs": [st.Page("pages/runs.py", title="All runs", icon="🗂️")],
})
nav.run()
