"""Every page renders in under 2 s with 200 runs on disk (generated records).

Measured: a fresh AppTest session with every cache of run data emptied
(Streamlit's data caches), in a process that has already imported its
libraries, built the model tables and discovered its components, as a
running server has: the tables depend on the code only, never on runs. That
is the render a user waits for after any run changes. The one-off import of TensorFlow when a server starts
is not counted; it does not depend on the runs."""
import time

import pytest

from conftest import page_tables

from experiments import EXPERIMENTS
from test_app import _app, fake_run

BUDGET_S = 2.0


@pytest.fixture(scope="module")
def many_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    names = [n for n in EXPERIMENTS if n != "mnist-smoke"]
    for i in range(200):
        fake_run(root, names[i % len(names)], seed=i // len(names), acc=0.9 + (i % 7) / 100, epochs=15)
    return root


@pytest.mark.parametrize("page", [None, "app_pages/mnist.py", "app_pages/runs.py", "app_pages/captcha_models.py",
                                  "app_pages/c50_architectures.py", "app_pages/c50_augmentation.py",
                                  "app_pages/c50_class_weights.py", "app_pages/c50_padding.py",
                                  "app_pages/c50_best.py"])
def test_page_renders_fast_with_200_runs(many_runs, monkeypatch, page, capsys):
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(many_runs))
    import streamlit as st

    # The first run pays what a running server has already paid: imports, the
    # model tables, and AppTest's scan of every installed package for
    # components (0.3-0.6 s, once per AppTest; a server does it at start-up).
    at = _app(page)
    st.cache_data.clear()
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    assert not at.exception
    with capsys.disabled():
        print(f"\n[perf] {page or 'home'}: {elapsed:.2f} s with 200 runs")
    assert len(page_tables(at)) >= 1
    assert elapsed < BUDGET_S, f"{page or 'home'} took {elapsed:.2f} s"
