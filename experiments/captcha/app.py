"""The captcha pages' Streamlit helpers: the models a user may read with,
their readers (loaded once per process), sample and generated captchas, the
default model's least confident failures."""
from __future__ import annotations

import streamlit as st

from core.records import list_runs, runs_dir
from app_pages._common import T, runs_signature


def captcha_models() -> dict:
    """Label -> model file: the committed default first, then every finished
    captcha run that kept its model."""
    from experiments.captcha.recognizer import DEFAULT_MODEL, DEFAULT_RUN
    out = {T("common.default-model", run=DEFAULT_RUN): DEFAULT_MODEL}
    for r in list_runs():
        if (r.config.get("data") or {}).get("dataset") == "thsr-captcha" and r.status == "done" \
                and (r.path / "model.keras").is_file() and r.ref != DEFAULT_RUN:
            out[r.ref if r.origin == "study" else f"{r.ref} ({T('common.yours')})"] = r.path / "model.keras"
    return out


@st.cache_resource(show_spinner=False, max_entries=4)
def _recognizer(path: str, mtimes: tuple):
    """The model's reader, shared by every session: the light ONNX reader when
    the model has its export beside it (no TensorFlow: the first upload costs
    milliseconds), else Keras with its fast runner prepared once."""
    from experiments.captcha.recognizer import open_reader
    rec = open_reader(path)
    rec.fast_single()  # uploads are read one at a time: prepare the fast runner once
    if hasattr(rec, "warm_up"):
        rec.warm_up()
    return rec


def recognizer(path: str):
    from pathlib import Path
    p = Path(path)
    # the export beside it counts too: a new model.onnx is a new reader
    mtimes = tuple(q.stat().st_mtime if q.exists() else 0.0 for q in (p, p.with_suffix(".onnx")))
    return _recognizer(path, mtimes)


@st.cache_data(show_spinner=False)
def sample_captchas(n: int, seed: int = 0) -> list:
    from experiments.captcha.data import test_samples
    return test_samples(n, seed=seed)


@st.cache_data(show_spinner=False)
def generated_captcha(seed: int):
    import numpy as np

    from experiments.captcha.synth import make_captcha
    return make_captcha(np.random.default_rng(seed))[0]


@st.cache_data(show_spinner=False)
def _failure_images(root: str, signature: tuple, n: int) -> list:
    """(caption, image bytes) of the least confident test failures of the
    default model's run, when the real captchas are on this machine."""
    from experiments.captcha import views
    from experiments.captcha.data import image_bytes
    from experiments.captcha.recognizer import DEFAULT_MODEL
    pred = views.read_predictions([DEFAULT_MODEL.parent])
    out = []
    for _, row in views.failures(pred, n).iterrows():
        data = image_bytes(row["image"])
        if data:
            seen = row["truth"] if row["truth"] == row["label"] else T("common.labelled", truth=row["truth"],
                                                                          label=row["label"])
            out.append((f"{row['image']}: {seen} → {row['prediction']}", data))
    return out


def failure_images(n: int) -> list:
    return _failure_images(str(runs_dir()), runs_signature(), n)


def failure_gallery() -> None:
    """Under the Models page: the default model's least confident failures, as images."""
    gallery = failure_images(12)
    if gallery:
        st.subheader(T("captcha_models.gallery"))
        st.image([g[1] for g in gallery], caption=[g[0] for g in gallery], width=200)
