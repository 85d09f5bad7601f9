"""Training engine for the CNN report: data, models, run records, training.

Nothing in here imports Streamlit; the app and the CLI both call into it.
"""
