"""Page helpers: language, cached reads of the run records and the block
renderer (the retrain panel is app_pages/_retrain.py, the export panel
app_pages/_export.py). No training or data logic here: that is core/."""
from __future__ import annotations

import html
import re

import pandas as pd
import streamlit as st

from core.blocks import cell_text
from core.charts import stacked
from core.export import key_html
from core.text import text
from core.records import file_mtime, holder, list_runs, read_history, runs_dir


LANGUAGES = {"English": "en", "繁體中文": "zh"}


def lang() -> str:
    """From the sidebar switch's own state, so a page never depends on the
    entry script having run first."""
    return LANGUAGES.get(st.session_state.get("lang_choice"), "en")


def init_language() -> None:
    """A link can open the report in a language: ?lang=zh (or en). It sets the
    sidebar switch's first value; the switch rules after that."""
    wanted = {v: k for k, v in LANGUAGES.items()}.get(st.query_params.get("lang"))
    if wanted and "lang_choice" not in st.session_state:
        st.session_state["lang_choice"] = wanted


def T(key: str, **values) -> str:
    """A text of the interface from the content files (core.text)."""
    return text(lang(), key, **values)


def runs_signature() -> tuple:
    """Changes whenever any run record, or an experiment-level record such as
    runs/<experiment>/ensemble.json, changes: the cache key of every read."""
    extra = tuple((str(p), file_mtime(p)) for p in sorted(runs_dir().glob("*/*.json")))
    return tuple((r.ref, r.mtime()) for r in list_runs()) + extra


@st.cache_data(show_spinner=False, max_entries=32)
def _blocks(page: str, language: str, root: str, signature: tuple) -> list:
    """The page's blocks ready to send (prepared): built once per page,
    language and state of the runs."""
    from core import report
    return prepared(report.page_function(page)(language, root))


def page_blocks(page: str) -> list:
    return _blocks(page, lang(), str(runs_dir()), runs_signature())


PAGE_KEY = "page:open"  # which study page app_pages/page.py draws (streamlit_app.py sets it)


def page_link(key: str) -> str:
    """The app's link to a report page, by its key (a claim's "page"): every
    study page's url path is its key, the Overview's the root."""
    return "/" + ("" if key == "overview" else key)


STATIC_ROWS = 80  # longer tables scroll inside an interactive grid (the Overview's 65 experiments stay static: a grid hid their figures at 1,000 px)


_cell = cell_text  # as every export writes it (core/blocks.py)


# "72.25 ± 2.45 (3)", "91.37 ± – (1 seed)", "95.41 ± 0.07 (3 個種子)"
_FIGURE = re.compile(r"^[-+−–]?[\d.,]*\d[\d.,]*( ?[%x²]| ± [\d.,]+| ± –)*( \(\d+( [^()]{1,8})?\))?$|^–$")


def _is_figure(column: pd.Series) -> bool:
    """Numbers, "72.25 ± 2.45 (3 seeds)", "–" and single short words ("unchanged"):
    cells that must not wrap."""
    if pd.api.types.is_numeric_dtype(column):
        return True
    return all(_FIGURE.match(str(v)) or (len(str(v)) <= 12 and " " not in str(v) and "-" not in str(v))
               for v in column)


def html_table(value: pd.DataFrame, link_column: str | None = None) -> str:
    """A short table as HTML, drawn by the browser as it comes.

    st.table renders every cell through Streamlit's Markdown component: 883
    of them on the largest report page, 0.26 s of the browser's time on each
    visit (Chrome's profiler), the largest single cost of a page. Cells are
    plain text here (escaped: "conv1_1" is a name, not Markdown), figures
    never break inside a number, and `link_column` holds page paths shown as
    links."""
    figures = {c for c in value.columns if _is_figure(value[c])}
    numeric = {c for c in value.columns if pd.api.types.is_numeric_dtype(value[c])}

    def cell(c, v) -> str:
        if c == link_column:
            return f'<a href="{html.escape(str(v))}">{html.escape(T("common.open"))}</a>'
        return html.escape(cell_text(v))

    def cls(c) -> str:
        names = ["fig"] * (c in figures) + ["num"] * (c in numeric)
        return f' class="{" ".join(names)}"' if names else ""

    head = "".join(f"<th{cls(c)}>{html.escape(str(T('common.page') if c == link_column else c))}</th>"
                   for c in value.columns)
    body = "".join("<tr>" + "".join(f"<td{cls(c)}>{cell(c, v)}</td>" for c, v in zip(value.columns, row))
                   + "</tr>" for row in value.itertuples(index=False))
    return f'<div class="cnn-table"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _table_frame(value: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    config = {}
    if "page" in value:
        value = value.assign(page=value["page"].map(page_link))
        config["page"] = st.column_config.LinkColumn(T("common.page"), display_text=T("common.open"))
    # "–" for what is absent, as in every export (a numeric column keeps its type where it is complete)
    return value.apply(lambda c: c if c.notna().all() else c.map(_cell)), config


def _table(value: pd.DataFrame) -> None:
    """A long table (short ones are HTML, prepared): it scrolls inside an interactive grid."""
    value, config = _table_frame(value)
    st.dataframe(value, hide_index=True, width="stretch", column_config=config, height=560)


def spec_of(chart) -> dict:
    """An Altair chart as the Vega-Lite dict that st.vega_lite_chart draws.

    For cached steps: building Altair objects (a vconcat deep-copies every
    layer it holds) and converting them with schema validation were 80 % of
    a chart-heavy page's script time, paid again on every visit while pages
    handed Altair charts to st.altair_chart (py-spy on the server). Not
    validated here: tests/test_app.py validates every chart of every
    committed report page. Drawn as st.altair_chart drew them: without Altair's default
    theme (fixed 300-px views), each dataset a DataFrame that Streamlit sends
    as Arrow; and on a canvas, not as SVG (a page of 12 charts made
    2,800 SVG elements for the browser to lay out; vega-embed reads
    usermeta.embedOptions, and switches by itself only past 2,000 points)."""
    import altair as alt
    spec = chart.to_dict(validate=False)
    theme = alt.theme.get()
    _drop_defaults(spec, theme() if theme else {})
    if "datasets" in spec:
        spec["datasets"] = {name: pd.DataFrame.from_records(rows) for name, rows in spec["datasets"].items()}
    meta = spec.setdefault("usermeta", {})
    meta["embedOptions"] = {**meta.get("embedOptions", {}), "renderer": "canvas"}
    return spec


def _drop_defaults(spec: dict, defaults: dict) -> None:
    """Remove from spec what a theme merged into it (the same key and value)."""
    for k, v in defaults.items():
        if isinstance(v, dict) and isinstance(spec.get(k), dict):
            _drop_defaults(spec[k], v)
            if not spec[k]:
                del spec[k]
        elif k in spec and spec[k] == v:
            del spec[k]


def prepared(blocks) -> list:
    """Blocks as render() sends them, made in a cached step: a chart or a row
    of curves becomes ("vega", spec), a short table ("html", text). A chart
    right above its row of curves (a study's accuracy dots) joins it as one
    view: the same width and colours, plot areas aligned. Prepared blocks
    pass through unchanged."""
    blocks, out = list(blocks), []
    sections = [value for kind, value in blocks if kind == "h2"]
    if len(sections) >= CONTENTS_FROM and not any(kind == "toc" for kind, _ in blocks):
        first = next(i for i, (kind, _) in enumerate(blocks) if kind == "h2")
        blocks.insert(first, ("toc", sections))
    for i, (kind, value) in enumerate(blocks):
        if kind == "chart" and i + 1 < len(blocks) and blocks[i + 1][0] == "row" and blocks[i + 1][1]:
            blocks[i + 1] = ("row", [value, *blocks[i + 1][1]])
        elif kind == "chart":
            out.append(("vega", spec_of(value)))
        elif kind == "row":
            if value:
                out.append(("vega", spec_of(stacked(value))))
        elif kind == "table" and len(value) <= STATIC_ROWS:
            # A static table wraps its text inside the column: every column, the
            # finding's included, is visible without a sideways scroll.
            table, _ = _table_frame(value)
            out.append(("html", html_table(table, "page" if "page" in table else None)))
        else:
            out.append((kind, value))
    return out


# A page of this many sections or more opens with links to them: the long
# ones (the longest study pages, the Overview) are read a section at a time.
CONTENTS_FROM = 4


def anchor(title: str) -> str:
    """The id of a section's heading, for the contents' links."""
    return re.sub(r"[^\w]+", "-", title.lower()).strip("-")


def render(blocks: list) -> None:
    for kind, value in prepared(blocks):
        if kind == "h1":
            st.title(value)
        elif kind == "h2":
            st.header(value, anchor=anchor(value))
        elif kind == "toc":
            st.markdown(f"**{T('common.contents')}** " + " · ".join(f"[{t}](#{anchor(t)})" for t in value))
        elif kind == "h3":
            st.subheader(value)
        elif kind == "md":
            st.markdown(value)
        elif kind == "metrics" and value:
            # Three cards a row at most: four cut their labels and figures short at 1,000 px.
            per = len(value) if len(value) <= 3 else 2
            for i in range(0, len(value), per):
                for col, m in zip(st.columns(per), value[i:i + per]):
                    col.metric(m["label"], m["value"], help=m.get("help"), border=True)
                    if m.get("caption"):
                        col.caption(m["caption"])
        elif kind == "table":
            _table(value)
        elif kind == "html":
            st.html(value)
        elif kind == "vega":
            vega(value)
        elif kind == "key" and value:
            st.html(key_html(value))


def vega(spec: dict, **kwargs) -> None:
    """A prepared chart (spec_of), at the column's width unless told."""
    st.vega_lite_chart(spec=spec, **{"width": "stretch", **kwargs})


@st.cache_data(show_spinner=False)
def _runs_frame(root: str, signature: tuple, language: str) -> pd.DataFrame:
    rows = []
    for r in list_runs(root):
        status, error = r.check()
        s = {} if error else r.summary or {}  # a damaged run's figures are not shown
        meta = r.meta
        rows.append({
            "run": r.ref, "experiment": r.experiment, "seed": r.config.get("seed"),
            "origin": r.origin, "status": status,
            "problem": error and error.words(language),
            "worker": holder(meta) if status == "running" else None,
            "epochs": None if error else len(r.history),
            "test accuracy": (s.get("test") or {}).get("accuracy"),
            "best val accuracy": (s.get("best") or {}).get("val_accuracy"),
            "s / epoch": s.get("seconds_per_epoch_median"),
            "device": (meta.get("device") or {}).get("device"),
            "commit": ((meta.get("git") or {}).get("commit") or "")[:7],
            "started": pd.to_datetime(meta.get("started"), utc=True, errors="coerce"),
        })
    return pd.DataFrame(rows)


def runs_frame() -> pd.DataFrame:
    return _runs_frame(str(runs_dir()), runs_signature(), lang())


@st.cache_data(show_spinner=False)
def _history(path: str, mtime: float) -> pd.DataFrame:
    return pd.DataFrame(read_history(path))


def history(run) -> pd.DataFrame:
    return _history(str(run.path / "history.csv"), run.mtime())
