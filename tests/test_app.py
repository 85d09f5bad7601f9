"""One AppTest per page, on run records generated here (and on the committed ones)."""
import os

import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO, goto, page_tables
from core.records import atomic_write_json, write_history
from core.records import config_hash
from experiments import get_config

APP = str(REPO / "streamlit_app.py")


def fake_run(root, experiment, seed, acc, epochs=3, origin=None):
    cfg = {**get_config(experiment), "seed": seed}
    if origin:  # a run a user started from the app, with its own epoch budget
        cfg = {**cfg, "origin": origin, "train": {**cfg["train"], "epochs": epochs}}
    path = root / experiment / f"s{seed}-{config_hash(cfg)}"
    atomic_write_json(path / "config.json", cfg)
    atomic_write_json(path / "meta.json", {"status": "done", "git": {"commit": "abcdef0"},
                                           "device": {"device": "CPU (2 cores)", "cpu": "test"}})
    write_history(path / "history.csv", [
        {"epoch": e, "loss": 1 / e, "accuracy": acc - 0.01 / e, "val_loss": 1.1 / e,
         "val_accuracy": acc - 0.02 / e, "lr": 1e-3, "seconds": 2.0} for e in range(1, epochs + 1)])
    atomic_write_json(path / "summary.json", {
        "test": {"accuracy": acc, "loss": 0.1}, "epochs_run": epochs, "seconds_per_epoch_median": 2.0,
        "n_train": 55000, "n_val": 5000, "params": 1, "best": {"val_accuracy": acc}})
    return path


@pytest.fixture
def runs_env(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    for seed, acc in enumerate((0.990, 0.992, 0.994)):
        fake_run(root, "mnist-fair-cnn2", seed, acc)
    fake_run(root, "mnist-seed-nn2", 0, 0.91)
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(root))
    return root


def chart_frames(at) -> list:
    """The data behind every Altair chart on the page, as DataFrames."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
    return [convert_arrow_bytes_to_pandas_df(d.data.data)
            for chart in at.get("vega_lite_chart") for d in chart.proto.datasets]


def _app(page=None, language=None):
    at = AppTest.from_file(APP, default_timeout=60)
    if language:
        # AppTest re-runs only the page script after the first run, so the
        # language is chosen before it (in a browser the switch reruns all).
        at.session_state["lang_choice"] = language
    at.run()
    if page:
        goto(at, page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_home_lists_conclusions_experiments_and_offers_the_report(runs_env):
    at = _app()
    assert at.title[0].value == "Convolutional networks, measured"
    tables = page_tables(at)
    conclusions = tables[0]
    assert {"claim", "our verdict", "seed's verdict", "page"} <= set(conclusions.columns)
    techniques = tables[1]
    assert {"technique", "variant", "our verdict", "seed's verdict", "page"} <= set(techniques.columns)
    experiments = next(t for t in tables if "seeds done" in t.columns)
    row = experiments[experiments["experiment"] == "mnist-fair-cnn2"].iloc[0]
    assert row["seeds done"] == 3
    assert row["ours: mean %"] == "99.20"  # a column with absent cells is shown as text, "–" for those
    assert row["± std"] == "0.20"
    assert any(b.label == "Build" for b in at.button)  # the export panel (tests/test_export.py)


def test_language_switch(runs_env):
    at = _app(language="繁體中文")
    assert at.sidebar.radio[0].value == "繁體中文"
    assert at.title[0].value == "卷積網路實驗報告"
    assert "論點" in page_tables(at)[0].columns
    at = _app("mnist", language="繁體中文")
    assert at.title[0].value == "MNIST：全連接網路與 CNN"


def test_mnist_page_charts_carry_the_runs(runs_env):
    at = _app("mnist")
    assert "MNIST" in at.title[0].value
    tables = page_tables(at)
    fair = next(t for t in tables if "experiment" in t and "mnist-fair-cnn2" in set(t["experiment"]))
    assert fair.iloc[0]["ours %"] == "99.20 ± 0.20"
    frames = chart_frames(at)
    import pandas as pd
    curves = [f for f in frames if "epoch" in f and "mean" in f]
    assert curves, "no training-curve chart"
    # the validation-accuracy chart (the first panel) carries one row per
    # experiment and epoch, aggregated over the 3 seeds on disk, in %
    val_acc = next(f for f in curves if "mnist-fair-cnn2" in set(f["experiment"]))  # its first panel
    cnn2 = val_acc[val_acc["experiment"] == "mnist-fair-cnn2"]
    assert list(cnn2["epoch"]) == [1, 2, 3] and set(cnn2["seeds"]) == {3}
    assert cnn2["mean"].iloc[-1] == pytest.approx(100 * (0.992 - 0.02 / 3), abs=1e-3)
    assert "seed" not in val_acc and "metric" not in val_acc
    # model summaries come from the models: CNN model 1's table sums to the seed's count
    assert any("297,706 parameters" in h.value for h in at.subheader)


def test_a_users_retrain_appears_beside_the_study_runs(runs_env):
    fake_run(runs_env, "mnist-fair-cnn2", 7, 0.95, epochs=4, origin="app")
    at = _app("mnist")
    fair = next(t for t in page_tables(at)
                if "experiment" in t and "mnist-fair-cnn2" in set(t["experiment"]))
    assert list(fair["experiment"]) == ["mnist-fair-cnn2", "mnist-fair-cnn2 (yours, 4 epochs)"]
    # one run: no spread to show (issue 34), and the seeds column says 1
    assert fair.iloc[1]["ours %"] == "95.00 ± –" and fair.iloc[1]["seeds"] == 1
    assert fair.iloc[0]["ours %"] == "99.20 ± 0.20"  # the study row is unchanged


def test_runs_page_filters_and_compares(runs_env):
    at = _app("runs")
    assert len(at.dataframe[0].value) == 4
    at.multiselect[0].select("mnist-seed-nn2").run()
    assert list(at.dataframe[0].value["experiment"]) == ["mnist-seed-nn2"]
    at.multiselect[2].select("mnist-seed-nn2/" + at.dataframe[0].value["run"].iloc[0].split("/")[1]).run()
    assert not at.exception
    assert any("history of" in b.label for b in at.get("download_button"))
    assert not [b for b in at.button if b.label == "delete"]  # a study run cannot be deleted


def test_pages_render_with_no_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(tmp_path / "empty"))
    for page in (None, "mnist", "runs"):
        _app(page)


def test_home_opens_on_the_committed_runs(monkeypatch):
    monkeypatch.delenv("CNNLAB_RUNS_DIR", raising=False)
    at = _app()
    if not any((REPO / "runs").glob("mnist-*/*/summary.json")):
        pytest.skip("no committed runs in this checkout")
    experiments = next(df for df in page_tables(at) if "seeds done" in df.columns)
    assert experiments["seeds done"].sum() > 0


def test_every_page_link_of_the_conclusions_tables_opens_a_page():
    """The tables' "page" column links each claim to its page: every target
    is a page of the app's navigation."""
    from conftest import page_urls
    from experiments import CLAIMS
    urls = page_urls()
    for claim in CLAIMS:
        assert claim["page"] in urls, claim["page"]


def test_home_headlines_the_captcha_reader_on_a_crawl_it_never_trained_on(monkeypatch):
    """The captcha's first card: the weaker leave-one-source-out direction of
    the shipped reader's recipe (configs.SHIPPED_CROSS_SOURCE, not the best
    of every recipe tried), from the runs and the audit files; the own split
    comes after it."""
    import statistics
    from experiments.captcha import audit
    monkeypatch.delenv("CNNLAB_RUNS_DIR", raising=False)
    from experiments.captcha.configs import SHIPPED_CROSS_SOURCE
    best = {}
    for name in SHIPPED_CROSS_SOURCE:
        runs = [r for r in sorted((REPO / "runs" / name).glob("s*")) if (r / "predictions.csv").is_file()]
        if runs:
            best[name] = statistics.mean(audit.accuracy(r / "predictions.csv")["exact_match_audited"] for r in runs)
    if not best:
        pytest.skip("no committed cross-source runs in this checkout")
    at = _app()
    labels = [m.label for m in at.metric]
    card = at.metric[labels.index("Captcha, a crawl never trained on")]
    assert card.value == f"{100 * min(best.values()):.2f} %"
    assert labels.index("Captcha, our own split") == labels.index("Captcha, a crawl never trained on") + 1
    assert len(at.metric) == 4


def test_prepared_charts_are_valid_vega_lite_drawn_on_a_canvas_without_altairs_theme(monkeypatch):
    """The app sends specs built once (app_pages/_common.spec_of), unvalidated,
    from charts built without Altair's check of every object as it is made
    (core/charts.py): here every chart of every committed report page is
    validated against the Vega-Lite schema, and the spec sent is the chart's
    own dict less Altair's default theme."""
    import altair as alt

    from app_pages._common import prepared, spec_of
    from core import report
    from core.charts import stacked
    monkeypatch.delenv("CNNLAB_RUNS_DIR", raising=False)
    if not any((REPO / "runs").glob("mnist-*/*/summary.json")):
        pytest.skip("no committed runs in this checkout")
    n = 0
    for page, _ in report.PAGES:
        blocks = report.page_function(page)("en", None)
        for kind, value in blocks:
            charts = [value] if kind == "chart" else [stacked(value)] if kind == "row" and value else []
            for chart in charts:
                own = chart.to_dict(validate=True)  # raises on a spec Vega-Lite would reject
                sent = spec_of(chart)
                assert "continuousWidth" not in str(sent.get("config", {}))
                assert sent["usermeta"]["embedOptions"]["renderer"] == "canvas"
                assert {k: len(v) for k, v in sent["datasets"].items()} == \
                    {k: len(v) for k, v in own["datasets"].items()}
                assert sent.keys() - {"usermeta"} <= own.keys()
                n += 1
        kinds = [k for k, _ in prepared(blocks)]
        assert "chart" not in kinds and "row" not in kinds and "vega" in kinds
    assert n >= 30
    assert alt.theme.active == "default"  # nothing switched Altair's global theme
