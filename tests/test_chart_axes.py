"""Charts whose axes fit what they draw, and figures that say what they are
(issue 34), on every committed report page in both languages.

- Every chart with a fixed x range (the forest plots of differences, the
  accuracy dot charts) spans its own intervals, dots and marks with a small
  margin, and no more; a chart of differences keeps zero in view.
- A figure of one seed shows "–" for its spread and "1 seed" beside it:
  a spread of 0.00 would claim seeds that agree."""
import math

import pytest

from conftest import REPO
from core import report
from experiments.captcha import report as captcha_report
from core.charts import stacked
from core.export import static_spec
from core.results import experiment_rows, figure, markdown_table

MARGIN = 0.05  # core/charts.py: fit_domain, delta_domain


def _committed(monkeypatch):
    monkeypatch.delenv("CNNLAB_RUNS_DIR", raising=False)
    if not any((REPO / "runs").glob("mnist-*/*/summary.json")):
        pytest.skip("no committed runs in this checkout")


def _charts(lang):
    for page, _ in report.PAGES:
        for kind, value in report.page_function(page)(lang, None):
            if kind == "chart":
                yield page, value
            elif kind == "row" and value:
                yield page, stacked(value)


def _x_views(spec: dict, datasets: dict, data=None):
    """(x domain, the x values it draws, whether it draws a zero rule) for
    each view of a spec that fixes its x range."""
    data = spec.get("data", {}).get("name", data) if isinstance(spec.get("data"), dict) else data
    enc = spec.get("encoding", {})
    x = enc.get("x", {})
    domain = (x.get("scale") or {}).get("domain")
    if isinstance(domain, list) and len(domain) == 2 and "field" in x:
        rows = datasets.get(data, [])
        fields = [x["field"], *([enc["x2"]["field"]] if "field" in enc.get("x2", {}) else [])]
        values = [r[f] for r in rows for f in fields
                  if isinstance(r.get(f), (int, float)) and not math.isnan(r[f])]
        yield tuple(domain), values, x["field"] == "x" and values == [0]
    for key in ("layer", "vconcat", "hconcat", "concat"):
        for child in spec.get(key, []):
            yield from _x_views(child, datasets, data)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_fixed_axis_spans_its_own_data_with_a_small_margin(lang, monkeypatch):
    _committed(monkeypatch)
    checked = 0
    for page, chart in _charts(lang):
        for spec in (chart.to_dict(validate=False), static_spec(chart)):  # the app's and the exports'
            views = list(_x_views(spec, spec.get("datasets", {})))
            by_domain: dict = {}
            for domain, values, zero in views:
                entry = by_domain.setdefault(domain, {"values": [], "zero": False})
                entry["values"] += values
                entry["zero"] |= zero
            for (lo, hi), entry in by_domain.items():
                values = entry["values"]
                assert values, (page, lo, hi)
                low, high = min(values), max(values)
                assert lo <= low and high <= hi, f"{page}: data {low}..{high} outside the axis {lo}..{hi}"
                if entry["zero"]:
                    assert lo <= 0 <= hi  # a difference is read against zero
                # no more than the margin each side (an accuracy axis spans at least 2 points)
                span = max(high - low, 0.1 if entry["zero"] else 2.0)
                assert hi - lo <= span * (1 + 2 * MARGIN) + 0.02, \
                    f"{page}: axis {lo}..{hi} for data {low}..{high}: {hi - lo:.1f} wide for {span:.1f}"
                checked += 1
    assert checked >= 20


def test_the_overview_forest_plot_fits_the_shuffle_buffer_interval(monkeypatch):
    """The issue's case: Δ −60.53 ± 2 se reaches −65.2; the axis ran −66 … +145."""
    _committed(monkeypatch)
    rows = experiment_rows(None)
    from experiments.caltech.report import technique_forest
    techs = report.forest_ready("en", technique_forest("en", rows))
    spec = report._forest("en", techs).to_dict(validate=False)
    (lo, hi), = {d for d, _, _ in _x_views(spec, spec["datasets"])}
    assert lo <= techs["low"].min() and hi >= max(0, techs["high"].max())
    assert hi < 0.25 * (hi - lo)  # the intervals lie mostly below zero, and so does the axis


def test_one_seed_reads_a_dash_and_its_count():
    assert figure(0.9137, None, 1) == "91.37 ± – (1 seed)"
    assert figure(0.9137, 0.0, 1) == "91.37 ± – (1 seed)"
    assert figure(0.9541, 0.0007, 3) == "95.41 ± 0.07 (3 seeds)"
    assert figure(0.9137, None, 1, "zh") == "91.37 ± – (1 個種子)"
    assert figure(0.9137, None, 1, count=False) == "91.37 ± –"


def test_no_committed_one_seed_figure_claims_a_spread(monkeypatch):
    _committed(monkeypatch)
    rows = experiment_rows(None)
    single = [r for r in rows if r["n_done"] == 1]
    assert any(r["experiment"] == "captcha-seed-m1-50ep" for r in single)
    assert all(r["test_acc_std"] is None for r in single)
    table = markdown_table(rows)  # the CLI's `report`
    for r in single:
        line = next(x for x in table.splitlines() if f"`{r['experiment']}`" in x)
        assert "± – (1 seed)" in line, line
    assert "± 0.00 (1" not in table
    blocks = captcha_report.captcha_models_blocks("en", None)
    shown = " ".join(v.to_string() for k, v in blocks if k == "table")
    assert "91.37 ± – (1 seed)" in shown and "± 0.00 (1)" not in shown
    chart = next(v for k, v in blocks if k == "chart")
    points = {r["experiment"]: r["label"] for rows in chart.to_dict(validate=False)["datasets"].values()
              for r in rows if "label" in r}
    assert points["captcha-seed-m1-50ep"].endswith(" ± – (1 seed)")
    assert all("± –" in label for label in points.values() if "(1 seed)" in label)


def test_the_captcha_models_page_leads_with_what_a_user_gets(monkeypatch):
    """The page's first screen: a short lead with what the shipped reader's
    recipe reads on a crawl never trained on (the Overview's headline), then
    the shipped run's audited figure on our split, its cards, then the
    audited figures as the first chart; the history of the recipes comes
    after the results."""
    _committed(monkeypatch)
    from experiments.captcha.recognizer import DEFAULT_RUN
    blocks = captcha_report.captcha_models_blocks("en", None)
    kinds = [k for k, _ in blocks]
    assert kinds[:3] == ["h1", "md", "metrics"]
    lead = blocks[1][1]
    assert len(lead.split()) <= 120 and DEFAULT_RUN.split("/")[0] in lead
    headline, card = blocks[2][1][:2]
    assert lead.index(headline["value"].removesuffix(" %")) < lead.index(card["value"].removesuffix(" %"))
    chart = next(v for k, v in blocks if k == "chart")
    points = {r["experiment"]: r for rows in chart.to_dict(validate=False)["datasets"].values()
              for r in rows if "label" in r}
    shipped = points[DEFAULT_RUN.split("/")[0]]
    assert f"{shipped['mean']:.2f} %" == card["value"]  # audited, not the labels-as-given 95.x %
    titles = [v for k, v in blocks if k == "h2"]
    assert titles.index("How these models came about") > titles.index("Results on the held-out test split")
