"""Exports of the report: the same blocks as the app (core.report.PAGES),
written as one file to hand in: an offline HTML page, a PDF or a Word .docx.

    export("pdf", lang="zh", pages=["overview", "mnist"]) -> bytes

Block kinds rendered: h1/h2/h3, md (**bold**, *italic*, `code`, blank-line
paragraphs, "* " bullets), table (a "page" column is an app link: dropped;
missing cells print "–"), chart and row (altair charts; PNG in PDF and Word,
interactive in HTML) and metrics (headline figures). Unknown kinds are
skipped, so a new kind never breaks an export.

Charts are rendered to PNG by vl-convert, once per export, shared between
this process and a child process per further core (rendering dominates).
Heavy libraries are imported where they are used, so importing this module
costs nothing.
"""
from __future__ import annotations

import copy
import datetime as _dt
import functools
import hashlib
import html
import io
import json
import math
import os
import re
import struct
import subprocess
from pathlib import Path

from core.blocks import cell_text

REPO = Path(__file__).resolve().parent.parent
FORMATS = {
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
LANG_NAMES = {"en": "English", "zh": "繁體中文"}
# Chart sizes (px) where a chart leaves its width to its container or to Vega:
# one chart fills the text width, charts in a row share it.
CHART_WIDTH, ROW_WIDTH = 640, 640
ROW_CHARTS = 2  # charts of a row two abreast on the printed page (the app stacks them in one view)
PDF_SCALE, DOCX_SCALE = 3, 2  # PNG pixels per chart pixel: sharp in print / small in Word


def _tr(lang: str, key: str, **values) -> str:
    from core.text import text
    return text(lang, f"export.{key}", **values)


# --- what to export ----------------------------------------------------------------

def page_keys() -> list[str]:
    from core.report import PAGES
    return [key for key, _ in PAGES]


def check_pages(pages) -> list[str]:
    """The page keys to export, in report order; ValueError naming the valid
    keys on an unknown one."""
    keys = page_keys()
    if pages is None:
        return keys
    if isinstance(pages, str):
        pages = [p for p in pages.split(",")]
    pages = [p.strip() for p in pages if p and p.strip()]
    unknown = [p for p in pages if p not in keys]
    if unknown:
        raise ValueError(f"unknown report page(s) {', '.join(unknown)}; valid: {', '.join(keys)}")
    if not pages:
        raise ValueError(f"no report page chosen; valid: {', '.join(keys)}")
    return [k for k in keys if k in pages]


def _sections(lang: str, root, pages) -> list[tuple[str, str, list]]:
    """(page key, page title, blocks) for each chosen page."""
    from core.report import PAGES
    make = dict(PAGES)
    out = []
    for key in check_pages(pages):
        blocks = list(make[key](lang, root))
        title = next((v for k, v in blocks if k == "h1"), key)
        out.append((key, title, blocks))
    return out


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%h %cs"], cwd=REPO, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _runs_changed() -> bool:
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", "runs"], cwd=REPO,
                             capture_output=True, text=True, timeout=10)
        return out.returncode == 0 and bool(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return False


def _meta_lines(lang: str, root) -> list[str]:
    """Language, date, commit (and whether runs/ differs from it) for the title page."""
    if root is not None and Path(root).resolve() == (REPO / "runs").resolve():
        root = None
    lines = [_tr(lang, "meta-language", name=LANG_NAMES[lang]),
             _tr(lang, "meta-built", date=_dt.date.today().isoformat())]
    commit = _git_commit()
    if commit:
        line = _tr(lang, "meta-commit", commit=commit)
        if root is None and _runs_changed():
            line += _tr(lang, "meta-dirty")
        lines.append(line)
    if root is not None:
        lines.append(_tr(lang, "meta-root", root=root))
    return lines


# --- cells and text ----------------------------------------------------------------

def _table_frame(df):
    """The table as shown: app link column dropped, missing cells as "–"."""
    return df.drop(columns=["page"], errors="ignore")


_cell = cell_text  # one way to write a figure, in the app and in every export


def key_html(items) -> str:
    """A ("key", [(name, colour)]) block as HTML, in the app and the HTML export:
    a short line of each colour before its experiment's name."""
    return '<div class="key" style="font-size:0.8rem;line-height:1.6;margin:0.2rem 0 0.4rem">' + "".join(
        f'<span style="display:inline-block;margin-right:1.2em;white-space:nowrap">'
        f'<span style="display:inline-block;width:1.5em;height:3px;margin-right:0.4em;vertical-align:middle;'
        f'background:{html.escape(c)}"></span>{html.escape(str(n))}</span>' for n, c in items) + "</div>"


def _table_rows(df) -> tuple[list[str], list[list[str]]]:
    df = _table_frame(df)
    header = [str(c) for c in df.columns]
    rows = [[_cell(v) for v in row] for row in df.itertuples(index=False, name=None)]
    return header, rows


_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])")


def inline_runs(text: str) -> list[tuple[str, str]]:
    """Markdown inline styles as runs: (text, style), style one of "", "b",
    "i", "bi", "code". Code spans are literal; bold may hold italic."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append((text[pos:m.start()], ""))
        if m.group(1) is not None:
            out.append((m.group(1), "code"))
        elif m.group(2) is not None:
            out += [(t, "b" + s) for t, s in inline_runs(m.group(2)) if s in ("", "i")]
        else:
            out.append((m.group(3), "i"))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], ""))
    return [(t, s) for t, s in out if t]


def md_blocks(text: str) -> list[tuple[str, object]]:
    """A markdown string as ("p", text) paragraphs and ("bullets", [text])
    lists. Lines inside a paragraph are joined with a space."""
    out = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        para, items = [], []
        for line in chunk.split("\n"):
            m = re.match(r"\s*[*-]\s+(.*)", line)
            if m:
                if para:
                    out.append(("p", " ".join(para)))
                    para = []
                items.append(m.group(1).strip())
            elif items and line.startswith((" ", "\t")) and line.strip():
                items[-1] += " " + line.strip()
            else:
                if items:
                    out.append(("bullets", items))
                    items = []
                if line.strip():
                    para.append(line.strip())
        if para:
            out.append(("p", " ".join(para)))
        if items:
            out.append(("bullets", items))
    return out


def _md_to_html(text: str) -> str:
    def runs(s):
        tags = {"": "{}", "b": "<b>{}</b>", "i": "<i>{}</i>", "bi": "<b><i>{}</i></b>", "code": "<code>{}</code>"}
        return "".join(tags[st].format(html.escape(t)) for t, st in inline_runs(s))
    parts = []
    for kind, value in md_blocks(text):
        if kind == "p":
            parts.append(f"<p>{runs(value)}</p>")
        else:
            parts.append("<ul>" + "".join(f"<li>{runs(v)}</li>" for v in value) + "</ul>")
    return "".join(parts)


# --- charts --------------------------------------------------------------------------

def _spec(chart) -> dict:
    """The chart as a Vega-Lite dict (a dict passes through). The app shows
    charts of any size; Altair's 5,000-row guard is lifted for exports."""
    if isinstance(chart, dict):
        return copy.deepcopy(chart)
    import altair as alt
    with alt.data_transformers.enable("default", max_rows=None):
        return chart.to_dict(validate=False)


def _facet_columns(spec: dict) -> int:
    facet = spec.get("facet")
    if not isinstance(facet, dict):
        return 1
    col = facet.get("column") if "column" in facet else (facet if "field" in facet else None)
    if not isinstance(col, dict) or "field" not in col:
        return 1
    field = col["field"]
    values = None
    data = spec.get("data") or {}
    if "values" in data:
        values = data["values"]
    elif "name" in data:
        values = (spec.get("datasets") or {}).get(data["name"])
    n = len({json.dumps(v.get(field), default=str) for v in values if isinstance(v, dict)}) if values else 3
    if "columns" in spec and isinstance(spec["columns"], int):
        n = min(n, spec["columns"])
    return max(1, n)


def _unsized(v) -> bool:
    """A width Vega would take from the page (a {"step": n} width is fixed)."""
    return v is None or v == "container"


def static_spec(chart, width: int = CHART_WIDTH) -> dict:
    """A spec that renders at a fixed size without a browser: a width left to
    the container (or to Vega's default) becomes `width` px; a faceted chart's
    panels share about 1.25 `width` so their labels stay legible once the
    picture is scaled to the page; bars are clipped to their axis (a bar
    whose domain starts above zero would otherwise widen the picture)."""
    spec = _spec(chart)
    _fix_size(spec, width)
    config = spec.setdefault("config", {})
    config.setdefault("bar", {}).setdefault("clip", True)
    return spec


def _fix_size(spec: dict, width: float) -> None:
    if "facet" in spec and isinstance(spec.get("spec"), dict):
        inner = spec["spec"]
        n = _facet_columns(spec)
        panel = max(120, int(1.25 * width / n) - 50)
        if _unsized(inner.get("width")) or (isinstance(inner.get("width"), (int, float)) and inner["width"] > panel):
            inner["width"] = panel
        if inner.get("height") == "container":
            inner["height"] = 240
        for key in ("width", "height"):
            if spec.get(key) == "container":
                del spec[key]
        return
    if "repeat" in spec and isinstance(spec.get("spec"), dict):
        _fix_size(spec["spec"], width / 2)
        return
    if "hconcat" in spec or "concat" in spec:
        items = spec.get("hconcat") or spec.get("concat") or []
        for item in items:
            if isinstance(item, dict):
                _fix_size(item, max(150, width / max(1, len(items)) - 20))
        return
    if "vconcat" in spec:
        for item in spec["vconcat"]:
            if isinstance(item, dict):
                _fix_size(item, width)
        return
    if _unsized(spec.get("width")):
        spec["width"] = int(width)
    if spec.get("height") == "container":
        spec["height"] = 300


@functools.lru_cache(maxsize=1)
def _vl_version() -> str:
    from altair.utils._importers import vl_version_for_vl_convert
    return vl_version_for_vl_convert()


# A worker process: renders the specs of a JSON file to 0.png, 1.png, ... in a
# folder. It imports vl_convert only, so starting one costs well under a second.
_WORKER = """
import json, os, sys
import vl_convert as vlc
jobs = json.load(open(sys.argv[1], encoding="utf-8"))
for i, (spec, scale, version) in enumerate(jobs):
    png = vlc.vegalite_to_png(spec, scale=scale, vl_version=version)
    with open(os.path.join(sys.argv[2], f"{i}.png.part"), "wb") as f:
        f.write(png)
    os.replace(os.path.join(sys.argv[2], f"{i}.png.part"), os.path.join(sys.argv[2], f"{i}.png"))
"""


def _render_here(jobs) -> list[bytes]:
    import vl_convert as vlc
    return [vlc.vegalite_to_png(spec, scale=scale, vl_version=version) for spec, scale, version in jobs]


def _render_parallel(jobs, workers: int) -> list[bytes]:
    """Share the jobs between this process and `workers - 1` child processes
    (plain `python -c`, so no re-import of the caller's main module)."""
    import sys
    import tempfile
    order = sorted(range(len(jobs)), key=lambda i: -len(json.dumps(jobs[i][0], default=str)))
    shares = [order[k::workers] for k in range(workers)]
    out: list = [None] * len(jobs)
    with tempfile.TemporaryDirectory(prefix="cnnlab-charts-") as tmp:
        procs = []
        try:
            for k, share in enumerate(shares[1:], start=1):
                folder = os.path.join(tmp, str(k))
                os.mkdir(folder)
                with open(os.path.join(tmp, f"{k}.json"), "w", encoding="utf-8") as f:
                    json.dump([jobs[i] for i in share], f, default=str)
                procs.append((share, folder, subprocess.Popen(
                    [sys.executable, "-c", _WORKER, os.path.join(tmp, f"{k}.json"), folder],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
            for i, png in zip(shares[0], _render_here([jobs[i] for i in shares[0]])):
                out[i] = png
            for share, folder, proc in procs:
                proc.wait(timeout=600)
                for j, i in enumerate(share):
                    path = os.path.join(folder, f"{j}.png")
                    if os.path.exists(path):
                        with open(path, "rb") as f:
                            out[i] = f.read()
        finally:
            for _, _, proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    missing = [i for i, png in enumerate(out) if png is None]  # a worker that failed: redo its charts here
    for i, png in zip(missing, _render_here([jobs[i] for i in missing])):
        out[i] = png
    return out


_PNG_CACHE: dict[tuple[str, float], bytes] = {}
_PNG_CACHE_MAX = 256


def render_pngs(specs: list[dict], scale: float) -> list[bytes]:
    """Every chart rendered once per export (and reused between exports of
    the same process). Rendering dominates an export and vl-convert holds
    the interpreter, so with many charts this process and one child process
    per further core share them ($CNNLAB_EXPORT_WORKERS sets the number of
    processes; 1 renders here only)."""
    texts = [json.dumps(s, sort_keys=True, default=str) for s in specs]
    keys = [(hashlib.sha1(t.encode()).hexdigest(), float(scale)) for t in texts]
    todo = {}
    for k, spec in zip(keys, specs):
        if k not in _PNG_CACHE:
            todo.setdefault(k, spec)
    if todo:
        version = _vl_version()
        jobs = [(spec, float(scale), version) for spec in todo.values()]
        try:
            workers = int(os.environ.get("CNNLAB_EXPORT_WORKERS", "0")) or min(4, os.cpu_count() or 1)
        except ValueError:
            workers = 1
        workers = max(1, min(workers, len(jobs) // 4))
        if workers > 1:
            try:
                pngs = _render_parallel(jobs, workers)
            except (OSError, subprocess.SubprocessError):
                pngs = _render_here(jobs)
        else:
            pngs = _render_here(jobs)
        if len(_PNG_CACHE) + len(pngs) > _PNG_CACHE_MAX:
            _PNG_CACHE.clear()
        _PNG_CACHE.update(zip(todo, pngs))
    return [_PNG_CACHE[k] for k in keys]


def png_size(png: bytes) -> tuple[int, int]:
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", png[16:24])


def _chart_specs(sections) -> list[list[dict]]:
    """Static specs of every chart block, in order: one list per block."""
    out = []
    for _, _, blocks in sections:
        for kind, value in blocks:
            if kind == "chart":
                out.append([static_spec(value, CHART_WIDTH)])
            elif kind == "row":
                n = max(1, min(ROW_CHARTS, len(value)))
                w = max(200, int(ROW_WIDTH / n) - 20)
                out.append([static_spec(c, w) for c in value])
    return out


def _rendered_charts(sections, scale) -> list[list[bytes]]:
    groups = _chart_specs(sections)
    flat = render_pngs([s for g in groups for s in g], scale)
    out, i = [], 0
    for g in groups:
        out.append(flat[i:i + len(g)])
        i += len(g)
    return out


def _metric_items(value) -> list[dict]:
    items = []
    for m in value or []:
        if isinstance(m, dict):
            items.append({"label": str(m.get("label", "")), "value": _cell(m.get("value")),
                          "help": " ".join(str(m[k]) for k in ("help", "caption") if m.get(k))})
    return items


# --- HTML ------------------------------------------------------------------------------

def export_html(lang: str = "en", root=None, pages=None) -> str:
    """One self-contained file: text, tables and interactive charts, with the
    Vega runtime inlined so it works offline."""
    import vl_convert as vlc

    sections = _sections(lang, root, pages)
    body, n = [], 0
    title = _tr(lang, "report-title")
    body.append(f'<header><p class="title">{html.escape(title)}</p><p class="meta">'
                f'{" · ".join(html.escape(x) for x in _meta_lines(lang, root))}</p></header>')
    for key, _, blocks in sections:
        body.append(f'<section id="{html.escape(key)}">')
        for kind, value in blocks:
            if kind in ("h1", "h2", "h3"):
                body.append(f"<{kind}>{html.escape(str(value))}</{kind}>")
            elif kind == "md":
                body.append(_md_to_html(str(value)))
            elif kind == "table":
                header, rows = _table_rows(value)
                body.append('<table class="t"><thead><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in header)
                            + "</tr></thead><tbody>"
                            + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                                      for r in rows) + "</tbody></table>")
            elif kind == "key" and value:
                body.append(key_html(value))
            elif kind == "metrics":
                body.append('<div class="metrics">' + "".join(
                    f'<div class="metric"><div class="label">{html.escape(m["label"])}</div>'
                    f'<div class="value">{html.escape(m["value"])}</div>'
                    + (f'<div class="help">{html.escape(m["help"])}</div>' if m["help"] else "") + "</div>"
                    for m in _metric_items(value)) + "</div>")
            elif kind in ("chart", "row"):
                body.append('<div class="row">')
                for chart in (value if kind == "row" else [value]):
                    n += 1
                    spec = _spec(chart)
                    if ("mark" in spec or "layer" in spec) and spec.get("width") is None:
                        spec["width"] = "container"  # as the app draws it: the column's width
                    spec.setdefault("config", {}).setdefault("bar", {}).setdefault("clip", True)
                    body.append(f'<div class="chart" id="c{n}"></div><script>vegaEmbed("#c{n}", '
                                f'{_script_json(spec)}, {{"actions": false}}).catch(console.error);</script>')
                body.append("</div>")
        body.append("</section>")
    bundle = vlc.javascript_bundle(vl_version=_vl_version())
    return f"""<!DOCTYPE html>
<html lang="{'zh-Hant' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.5}}
header .title{{font-size:1.1em;font-weight:600;margin:0}} header .meta{{color:#666;font-size:.85em;margin:0}}
table.t{{border-collapse:collapse;font-size:13px;margin:1em 0}} table.t td,table.t th{{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}}
section{{border-top:3px solid #444;margin-top:2em}} .row{{display:flex;flex-wrap:wrap;gap:1em}}
.chart{{margin:1em 0;flex:1 1 calc(50% - 1em);min-width:300px;overflow-x:auto}} code{{background:#f3f3f3;padding:0 3px}}
.metrics{{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}} .metric{{background:#f6f6f6;border-radius:6px;padding:.5em 1em;flex:1 1 0;min-width:12em}}
.metric .label{{font-size:.85em;color:#555}} .metric .value{{font-size:1.8em;font-weight:600}} .metric .help{{font-size:.75em;color:#777}}
</style>
<script>{bundle}</script></head><body>
{''.join(body)}
</body></html>
"""


def _script_json(obj) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(obj, default=str).replace("</", "<\\/").replace("<!--", "<\\!--")


# --- fonts (PDF) -------------------------------------------------------------------------

_FONT_DIRS = (
    "/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts",
    "/System/Library/Fonts", "/System/Library/Fonts/Supplemental", "/Library/Fonts", "~/Library/Fonts",
    os.path.join(os.environ.get("WINDIR", r"C:\Windows"), "Fonts"),
    os.path.join(os.environ.get("LOCALAPPDATA", ""), "Microsoft", "Windows", "Fonts"),
)
# Traditional Chinese first; reportlab embeds TrueType outlines only, so the
# OpenType/CFF builds (most Noto CJK files) are tried and skipped if refused.
_CJK_FILES = (
    "NotoSansTC-Regular.ttf", "NotoSansTC[wght].ttf", "NotoSansCJKtc-Regular.ttf",
    "NotoSansCJKtc-Regular.otf", "NotoSansCJK-Regular.ttc", "NotoSansTC-Regular.otf",
    "wqy-zenhei.ttc", "wqy-microhei.ttc", "msjh.ttc", "msjh.ttf", "PingFang.ttc", "mingliu.ttc",
    "msyh.ttc", "simsun.ttc", "Arial Unicode.ttf", "ARIALUNI.TTF", "uming.ttc", "ukai.ttc",
    "DroidSansFallbackFull.ttf", "DroidSansFallback.ttf",
)
_LATIN_FAMILIES = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf"),
    ("arial.ttf", "arialbd.ttf", "ariali.ttf", "arialbi.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationSans-Italic.ttf",
     "LiberationSans-BoldItalic.ttf"),
)
_MONO_FILES = ("DejaVuSansMono.ttf", "consola.ttf", "LiberationMono-Regular.ttf", "Menlo.ttc")
_CJK_PROBE = "卷積網路實驗報告"


@functools.lru_cache(maxsize=1)
def _font_files() -> dict[str, str]:
    """Lower-case file name -> path of every font file in the usual folders."""
    found = {}
    for d in _FONT_DIRS:
        d = os.path.expanduser(d)
        if not d or not os.path.isdir(d):
            continue
        for dirpath, _, files in os.walk(d):
            for f in files:
                if f.lower().endswith((".ttf", ".ttc", ".otf")):
                    found.setdefault(f.lower(), os.path.join(dirpath, f))
    return found


class _Font:
    """A registered reportlab font and the characters it has."""

    def __init__(self, name: str, covers):
        self.name, self.covers = name, covers


def _ttf(name: str, path: str, probe: str = "") -> "_Font | None":
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    try:
        font = TTFont(name, path, subfontIndex=0) if path.lower().endswith(".ttc") else TTFont(name, path)
    except Exception:  # noqa: BLE001 - CFF outlines, damaged or unreadable file: try the next
        return None
    cmap = font.face.charToGlyph
    if any(ord(ch) not in cmap for ch in probe):
        return None
    pdfmetrics.registerFont(font)
    return _Font(name, lambda ch, cmap=cmap: ord(ch) in cmap)


def _cid_covers(ch: str) -> bool:
    o = ord(ch)
    return (o < 0x7F or 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFE30 <= o <= 0xFE4F
            or 0xFF00 <= o <= 0xFFEF or o in (0xB7, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026))


def _cp1252(ch: str) -> bool:
    try:
        ch.encode("cp1252")
        return True
    except UnicodeEncodeError:
        return False


def _family(base: str, files) -> "tuple[str, _Font] | None":
    """Register a four-style family; missing styles fall back to regular."""
    from reportlab.pdfbase.pdfmetrics import registerFontFamily
    regular = _ttf(base, files[0])
    if regular is None:
        return None
    names = [base]
    for suffix, path in zip(("-Bold", "-Italic", "-BoldItalic"), files[1:]):
        f = _ttf(base + suffix, path) if path else None
        names.append(f.name if f else (names[1] if suffix == "-BoldItalic" and names[1] != base else base))
    registerFontFamily(base, normal=names[0], bold=names[1], italic=names[2], boldItalic=names[3])
    return base, regular


def pdf_fonts(lang: str) -> dict:
    return _pdf_fonts(lang, os.environ.get("CNNLAB_PDF_CJK_FONT", "").strip())


@functools.lru_cache(maxsize=8)
def _pdf_fonts(lang: str, wanted: str) -> dict:
    """Fonts for the PDF: `body` (family name), `chain` (body first, then
    fallbacks for characters it lacks), `code` chain and `cjk` (the CJK font
    file, or "built-in MSung-Light" when the system has none).

    Latin: DejaVu Sans, Arial or Liberation Sans found on the system, else the
    Vera family reportlab ships. Chinese: a TrueType CJK font found on the
    system ($CNNLAB_PDF_CJK_FONT names one; "builtin" forces the fallback),
    else reportlab's built-in MSung-Light (no file needed; readers that lack
    it substitute a system Chinese font)."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.pdfmetrics import registerFontFamily

    files = _font_files()
    latin = None
    for fam in _LATIN_FAMILIES:
        if fam[0].lower() in files:
            latin = _family("CNNLab-Sans", [files.get(f.lower()) for f in fam])
            if latin:
                break
    if latin is None:
        vera = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
        latin = _family("CNNLab-Sans", [os.path.join(vera, f) for f in
                                        ("Vera.ttf", "VeraBd.ttf", "VeraIt.ttf", "VeraBI.ttf")])
    latin_name, latin_font = latin

    mono = next((f for f in (_ttf("CNNLab-Mono", files[m.lower()]) for m in _MONO_FILES if m.lower() in files)
                 if f), None) or _Font("Courier", _cp1252)

    # Characters the Latin font lacks (Δ, ₁, →, CJK in an English table)
    # come from the CJK font when there is one.
    cjk, cjk_file = None, None
    if wanted.lower() != "builtin":
        candidates = [wanted] if wanted else [files[f.lower()] for f in _CJK_FILES if f.lower() in files]
        for path in candidates:
            cjk = _ttf("CNNLab-CJK-" + hashlib.sha1(path.encode()).hexdigest()[:8], path, _CJK_PROBE)
            if cjk:
                cjk_file = path
                break
    if cjk is None and lang == "zh":
        font = UnicodeCIDFont("MSung-Light")
        # reportlab names GB's CMap for this Traditional Chinese (CNS1) font;
        # readers then pick wrong glyphs. The text is UCS-2 either way.
        font.encodingName = "UniCNS-UCS2-H"
        pdfmetrics.registerFont(font)
        cjk, cjk_file = _Font("MSung-Light", _cid_covers), "built-in MSung-Light"
    if cjk is not None:
        registerFontFamily(cjk.name, normal=cjk.name, bold=cjk.name, italic=cjk.name, boldItalic=cjk.name)

    if lang == "zh":
        body, chain = cjk.name, [cjk, latin_font]
    else:
        body, chain = latin_name, [latin_font] + ([cjk] if cjk else [])
    bold = body if lang == "zh" else ps2tt_bold(latin_name)
    return {"body": body, "bold": bold, "chain": chain, "code": [mono] + chain, "cjk": cjk_file}


def ps2tt_bold(family: str) -> str:
    from reportlab.lib.fonts import tt2ps
    try:
        return tt2ps(family, 1, 0)
    except ValueError:
        return family


def _fontify(text: str, chain: list, default: str | None = None) -> str:
    """Escaped markup of `text`, each character in the first font of `chain`
    that has it (the first font is the paragraph's own: no tag)."""
    out, cur, buf = [], None, []

    def flush():
        if buf:
            s = html.escape("".join(buf), quote=False)
            out.append(s if cur == default else f'<font face="{cur}">{s}</font>')
            buf.clear()

    for ch in text:
        if ch.isspace() and cur is not None:
            name = cur
        else:
            name = next((f.name for f in chain if f.covers(ch)), chain[0].name)
        if name != cur:
            flush()
            cur = name
        buf.append(ch)
    flush()
    return "".join(out)


def _pdf_markup(text: str, fonts: dict) -> str:
    parts = []
    body = fonts["body"]
    for t, style in inline_runs(text):
        if style == "code":
            s = _fontify(t, fonts["code"], None)
            parts.append(f'<span backColor="#eeeeee">{s}</span>')
            continue
        s = _fontify(t, fonts["chain"], body)
        if "i" in style:
            s = f"<i>{s}</i>"
        if "b" in style:
            s = f"<b>{s}</b>"
        parts.append(s)
    return "".join(parts)


# --- PDF ------------------------------------------------------------------------------------

_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def _pieces(word: str) -> list[str]:
    """The parts of a word a line may break between: after - / _ in Latin
    text, around every Chinese character."""
    out = []
    for part in re.split(f"({_CJK.pattern})", word):
        if part:
            out += [part] if _CJK.fullmatch(part) else [p for p in re.split(r"(?<=[-/_])", part) if p]
    return out


def _col_widths(header, rows, avail, measure, pad) -> list[float]:
    """Column widths proportional to content: every column at least as wide
    as its longest unbreakable piece, the rest of the width shared by how
    much more text each column holds."""
    n = len(header)
    natural, minimum = [0.0] * n, [0.0] * n
    for r, row in enumerate([header] + rows[:400]):
        for c, text in enumerate(row[:n]):
            w = measure(text, r == 0)
            natural[c] = max(natural[c], min(w, avail * 0.5))
            longest = max((measure(p, r == 0) for word in text.split() for p in _pieces(word)), default=0)
            minimum[c] = max(minimum[c], min(longest, avail * 0.3))
    natural = [w + pad for w in natural]
    minimum = [min(m + pad, nat) for m, nat in zip(minimum, natural)]
    if sum(natural) <= avail:
        return natural
    if sum(minimum) >= avail:
        return [avail * m / sum(minimum) for m in minimum]
    extra = avail - sum(minimum)
    slack = [nat - m for nat, m in zip(natural, minimum)]
    return [m + extra * s / sum(slack) for m, s in zip(minimum, slack)]


def _broken_words(text: str, width: float, measure) -> list[list[str]]:
    """Each word of a cell as lines: a Latin run wider than the column is
    broken between its pieces (after - / _), greedily; Chinese is left to the
    paragraph's own wrapping, which may break between any two characters."""
    width -= 2  # the paragraph measures a little wider than stringWidth

    def greedy(run):
        lines, cur = [], ""
        for p in _pieces(run):
            if cur and measure(cur + p) > width:
                lines.append(cur)
                cur = p
            else:
                cur += p
        return lines + [cur]

    out = []
    for word in text.split(" "):
        if not word or measure(word) <= width:
            out.append([word])
            continue
        lines, cur = [], ""
        for part in re.split(f"({_CJK.pattern}+)", word):
            if part and not _CJK.match(part) and measure(part) > width:
                chunks = greedy(part)
                cur += chunks[0]
                for c in chunks[1:]:
                    lines.append(cur)
                    cur = c
            else:
                cur += part
        out.append(lines + [cur])
    return out


def export_pdf(lang: str = "en", root=None, pages=None) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.platypus import (BaseDocTemplate, Flowable, Frame, Image, NextPageTemplate, PageBreak,
                                    PageTemplate, Paragraph, Spacer, Table, TableStyle)

    sections = _sections(lang, root, pages)
    fonts = pdf_fonts(lang)
    meta = _meta_lines(lang, root)
    body = fonts["body"]
    wrap = "CJK" if lang == "zh" else None
    title = _tr(lang, "report-title")

    def style(name, size, leading=None, **kw):
        kw.setdefault("fontName", body)
        if wrap:
            kw.setdefault("wordWrap", wrap)
        return ParagraphStyle(name, fontSize=size, leading=leading or size * 1.3, **kw)

    ink = colors.HexColor("#1f2d3d")
    st = {
        "p": style("p", 9.5, 13.5, spaceAfter=5),
        "li": style("li", 9.5, 13.5, leftIndent=12, bulletIndent=3, spaceAfter=2, bulletFontName=fonts["chain"][0].name),
        "h1": style("h1", 17, 21, spaceBefore=0, spaceAfter=8, textColor=ink, keepWithNext=True),
        "h2": style("h2", 13, 16.5, spaceBefore=10, spaceAfter=5, textColor=ink, keepWithNext=True),
        "h3": style("h3", 10.5, 13.5, spaceBefore=8, spaceAfter=4, textColor=ink, keepWithNext=True),
        "title": style("title", 26, 32, alignment=TA_CENTER, spaceAfter=14, textColor=ink),
        "meta": style("meta", 10, 14, alignment=TA_CENTER, textColor=colors.HexColor("#555555")),
        "toc_head": style("toc_head", 12, 16, spaceBefore=24, spaceAfter=6, textColor=ink),
        "toc": style("toc", 10.5, 14, textColor=ink),
        "toc_n": style("toc_n", 10.5, 14, alignment=TA_RIGHT),
        "m_label": style("m_label", 7.5, 9.5, textColor=colors.HexColor("#555555")),
        "m_value": style("m_value", 16, 19),
        "m_help": style("m_help", 6.5, 8, textColor=colors.HexColor("#777777")),
    }

    page_w, page_h = A4
    margin = 18 * mm
    avail_w, avail_h = page_w - 2 * margin, page_h - 2 * margin - 8 * mm

    class Doc(BaseDocTemplate):
        def __init__(self, buf, pages_seen):
            super().__init__(buf, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
                             bottomMargin=margin + 6 * mm, title=title, author="cnnlab",
                             subject=" · ".join(meta), lang="zh-Hant" if lang == "zh" else "en")
            frame = Frame(margin, margin + 6 * mm, avail_w, page_h - 2 * margin - 6 * mm, id="f",
                          leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
            self.addPageTemplates([PageTemplate("title", [frame], onPage=self._footer),
                                   PageTemplate("body", [frame], onPage=self._footer)])
            self._level = -1
            self.pages_seen = pages_seen

        def _footer(self, canv, doc):
            canv.saveState()
            canv.setFont(body, 7.5)
            canv.setFillColor(colors.HexColor("#777777"))
            canv.drawString(margin, margin - 2 * mm, title)
            canv.drawRightString(page_w - margin, margin - 2 * mm, str(doc.page))
            canv.restoreState()

        def afterFlowable(self, flowable):
            outline = getattr(flowable, "_outline", None)
            if not outline:
                return
            level, text, key = outline
            level = min(level, self._level + 1)  # an outline cannot skip a level
            self._level = level
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
            self.pages_seen.setdefault(key, self.page)

    def para(markup, s, outline=None, **kw):
        p = Paragraph(markup, s, **kw)
        if outline:
            p._outline = outline
        return p

    class Placeholder(Flowable):
        """A chart's place in the first (page-counting) pass: same size, nothing drawn."""

        def __init__(self, width, height):
            super().__init__()
            self.width, self.height = width, height

        def wrap(self, aw, ah):
            return self.width, self.height

        def draw(self):
            pass

    def image(png, max_w, draft):
        px_w, px_h = png_size(png)
        w, h = px_w / PDF_SCALE * 0.75, px_h / PDF_SCALE * 0.75  # CSS px at 96 dpi -> pt
        f = min(1.0, max_w / w, (avail_h - 30) / h)
        img = Placeholder(w * f, h * f) if draft else Image(io.BytesIO(png), width=w * f, height=h * f)
        img.hAlign = "LEFT"
        return img

    def table(df):
        header, rows = _table_rows(df)
        if not header:
            return []
        pad = 6
        sample = [header] + rows[:400]
        for size in (7.5, 7, 6.5, 6):
            def measure(text, bold=False, size=size):
                return stringWidth(text, fonts["bold"] if bold else body, size) + 0.5
            widths = _col_widths(header, rows, avail_w, measure, pad)
            longest = [max((measure(p, r == 0) for r, row in enumerate(sample) for word in row[c].split()
                            for p in _pieces(word)), default=0) for c in range(len(header))]
            if all(w >= lw + pad - 0.5 for w, lw in zip(widths, longest)):
                break

        def markup(text, width, bold=False):
            words = _broken_words(text, width - pad, lambda t: measure(t, bold))
            return " ".join("<br/>".join(_fontify(line, fonts["chain"], body) for line in lines) for lines in words)

        cell = style(f"cell{size}", size, size * 1.22)
        head = style(f"head{size}", size, size * 1.22, textColor=colors.white)
        data = [[Paragraph(f"<b>{markup(h, w, True)}</b>", head) for h, w in zip(header, widths)]]
        data += [[Paragraph(markup(c, w), cell) for c, w in zip(row, widths)] for row in rows]
        t = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        t.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#3b5b7a")),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f1f4f8")]),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8d0da")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), pad / 2), ("RIGHTPADDING", (0, 0), (-1, -1), pad / 2),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]))
        return [t, Spacer(1, 6)]

    def metrics(value):
        items = _metric_items(value)
        if not items:
            return []
        per = min(4, len(items))
        w = avail_w / per
        cells = [[para(_pdf_markup(m["label"], fonts), st["m_label"]),
                  para(f"<b>{_fontify(m['value'], fonts['chain'], body)}</b>", st["m_value"])]
                 + ([para(_pdf_markup(m["help"], fonts), st["m_help"])] if m["help"] else []) for m in items]
        grid = [cells[i:i + per] + [""] * (per - len(cells[i:i + per])) for i in range(0, len(cells), per)]
        t = Table(grid, colWidths=[w] * per, hAlign="LEFT")
        t.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f3f5f8")),
            ("LINEAFTER", (0, 0), (-2, -1), 2, colors.white), ("LINEBELOW", (0, 0), (-1, -2), 2, colors.white),
            ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ]))
        return [t, Spacer(1, 8)]

    levels = {"h1": 0, "h2": 1, "h3": 2}
    charts = _rendered_charts(sections, PDF_SCALE)

    def story(draft: bool, toc_pages: dict) -> list:
        """The whole document; built twice: once (charts as blank boxes) to
        learn the page each section starts on, then for real with those
        numbers in the contents."""
        pngs = iter(charts)
        out = [Spacer(1, 45 * mm), para(_fontify(title, fonts["chain"], body), st["title"]),
               *[para(_fontify(line, fonts["chain"], body), st["meta"]) for line in meta],
               para(_fontify(_tr(lang, "contents"), fonts["chain"], body), st["toc_head"])]
        rows = [[para(f'<a href="#sec-{key}">{_fontify(page_title, fonts["chain"], body)}</a>', st["toc"]),
                 para(str(toc_pages.get(f"sec-{key}", "")), st["toc_n"])] for key, page_title, _ in sections]
        toc = Table(rows, colWidths=[avail_w - 40, 40], hAlign="LEFT")
        toc.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d5dbe3")),
                                 ("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
        out += [toc, NextPageTemplate("body")]
        n = 0
        for key, _, blocks in sections:
            out.append(PageBreak())
            first = True
            for i, (kind, value) in enumerate(blocks):
                # a short text that leads into a chart goes to the next page with it
                lead_in = (i + 1 < len(blocks) and blocks[i + 1][0] in ("chart", "row", "key")
                           and len(str(value)) < 600)
                if kind in levels:
                    text = str(value)
                    n += 1
                    anchor = f"sec-{key}" if first else f"h{n}"
                    level = 0 if first else max(1, levels[kind])
                    first = False
                    out.append(para(_fontify(text, fonts["chain"], body), st[kind], outline=(level, text, anchor)))
                elif kind == "md":
                    for sub, v in md_blocks(str(value)):
                        if sub == "p":
                            out.append(para(_pdf_markup(v, fonts), st["p"]))
                        else:
                            out += [para(_pdf_markup(item, fonts), st["li"], bulletText="•") for item in v]
                    if lead_in:
                        out[-1].keepWithNext = 1
                    else:
                        out.append(Spacer(1, 2))
                elif kind == "table":
                    out += table(value)
                elif kind == "metrics":
                    out += metrics(value)
                elif kind == "key" and value:
                    # a dash of each colour before its name; keeps with the charts it names
                    out.append(para("&nbsp;&nbsp; ".join(
                        f'<font color="{c}"><b>&#8212;&#8212;</b></font>&nbsp;{html.escape(str(n))}'
                        for n, c in value), st["p"]))
                    out[-1].keepWithNext = 1
                elif kind in ("chart", "row"):
                    imgs = next(pngs)
                    if len(imgs) == 1:
                        out += [image(imgs[0], avail_w, draft), Spacer(1, 8)]
                    elif imgs:
                        per = min(ROW_CHARTS, len(imgs))
                        w = avail_w / per
                        for i in range(0, len(imgs), per):  # a table per line: each fills what is left of a page
                            line = [image(p, w - 6, draft) for p in imgs[i:i + per]]
                            t = Table([line + [""] * (per - len(line))], colWidths=[w] * per, hAlign="LEFT")
                            t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                                   ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
                            out.append(t)
                        out.append(Spacer(1, 8))
        return out

    from reportlab import rl_config
    a85 = rl_config.useA85
    rl_config.useA85 = 0  # binary streams: ASCII85 in pure Python costs seconds and a quarter more bytes
    try:
        toc_pages: dict = {}
        Doc(io.BytesIO(), toc_pages).build(story(True, {}))
        buf = io.BytesIO()
        Doc(buf, {}).build(story(False, toc_pages))
    finally:
        rl_config.useA85 = a85
    return buf.getvalue()


# --- Word --------------------------------------------------------------------------------------

def export_docx(lang: str = "en", root=None, pages=None) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Emu, Mm, Pt, RGBColor

    sections = _sections(lang, root, pages)
    pngs = iter(_rendered_charts(sections, DOCX_SCALE))
    title = _tr(lang, "report-title")

    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Mm(20))
    text_w = sec.page_width - sec.left_margin - sec.right_margin
    doc.core_properties.title = title
    doc.core_properties.language = "zh-TW" if lang == "zh" else "en"
    doc.core_properties.author = "cnnlab"

    def east_asian(style_or_run_element, font="Microsoft JhengHei"):
        rpr = style_or_run_element.get_or_add_rPr()
        fonts = rpr.get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), font)
        fonts.attrib.pop(qn("w:eastAsiaTheme"), None)  # a theme font would win over the name
        lang_el = rpr.find(qn("w:lang"))
        if lang_el is None:  # in schema order: only these three may follow it
            lang_el = rpr.makeelement(qn("w:lang"), {})
            rpr.insert_element_before(lang_el, "w:eastAsianLayout", "w:specVanish", "w:oMath")
        lang_el.set(qn("w:eastAsia"), "zh-TW")

    normal = doc.styles["Normal"]
    normal.font.size = Pt(10)
    if lang == "zh":
        for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "List Bullet"):
            try:
                east_asian(doc.styles[name].element)
            except KeyError:
                pass

    def add_runs(par, text, size=None):
        for t, style in inline_runs(text):
            run = par.add_run(t)
            if "b" in style:
                run.bold = True
            if "i" in style:
                run.italic = True
            if style == "code":
                run.font.name = "Consolas"
                run.font.color.rgb = RGBColor(0x8B, 0x1A, 0x1A)
            if size:
                run.font.size = size

    def col_widths(header, rows):
        def measure(text, bold):  # EMU at 7.5 pt: about half an em a Latin letter, an em a Chinese one
            units = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)
            return units * 3.9 * 12700 * (1.08 if bold else 1.0)
        return [Emu(int(x)) for x in _col_widths(header, rows, float(text_w), measure, 2 * 0.08 * 914400)]

    def table(df):
        header, rows = _table_rows(df)
        if not header:
            return
        t = doc.add_table(rows=1 + len(rows), cols=len(header))
        try:
            t.style = doc.styles["Light Grid Accent 1"]
        except KeyError:
            t.style = doc.styles["Table Grid"]
        t.autofit = True
        look = t._tbl.tblPr.find(qn("w:tblLook"))
        if look is None:
            look = t._tbl.tblPr.makeelement(qn("w:tblLook"), {})
            t._tbl.tblPr.append(look)
        # header row and banded rows; no bold first column (a table's first column is data here)
        for attr, v in (("w:val", "0420"), ("w:firstRow", "1"), ("w:lastRow", "0"), ("w:firstColumn", "0"),
                        ("w:lastColumn", "0"), ("w:noHBand", "0"), ("w:noVBand", "1")):
            look.set(qn(attr), v)
        widths = col_widths(header, rows)
        for col, w in zip(t.columns, widths):
            col.width = w
        small = Pt(7.5)
        for r, (row, values) in enumerate(zip(t.rows, [header] + rows)):
            for c, (cell, text) in enumerate(zip(row.cells, values)):
                cell.width = widths[c]
                par = cell.paragraphs[0]
                par.paragraph_format.space_after = Pt(0)
                run = par.add_run(text)
                run.font.size = small
                if r == 0:
                    run.bold = True
        # header row repeats on every page the table spans
        trpr = t.rows[0]._tr.get_or_add_trPr()
        trpr.append(trpr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))
        doc.add_paragraph().paragraph_format.space_after = Pt(2)

    def metrics(value):
        items = _metric_items(value)
        if not items:
            return
        per = min(4, len(items))
        t = doc.add_table(rows=math.ceil(len(items) / per), cols=per)
        t.style = doc.styles["Table Grid"]
        for i, m in enumerate(items):
            cell = t.cell(i // per, i % per)
            p = cell.paragraphs[0]
            r = p.add_run(m["label"])
            r.font.size = Pt(8)
            r.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
            r = cell.add_paragraph().add_run(m["value"])
            r.bold, r.font.size = True, Pt(16)
            if m["help"]:
                r = cell.add_paragraph().add_run(m["help"])
                r.font.size = Pt(7)
                r.font.color.rgb = RGBColor(0x77, 0x77, 0x77)
        doc.add_paragraph()

    def picture(run, png, max_w):
        px_w, px_h = png_size(png)
        natural = Emu(int(px_w / DOCX_SCALE * 9525))  # CSS px at 96 dpi
        shape = run.add_picture(io.BytesIO(png), width=min(natural, Emu(int(max_w))))
        for side in ("distT", "distB", "distL", "distR"):  # else LibreOffice pads each side and a row wraps
            shape._inline.set(side, "0")

    doc.add_heading(title, 0)
    for line in _meta_lines(lang, root):
        doc.add_paragraph(line)
    doc.add_paragraph().add_run(_tr(lang, "contents")).bold = True
    for _, page_title, _ in sections:
        doc.add_paragraph(page_title, style="List Bullet")

    for _, _, blocks in sections:
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        for kind, value in blocks:
            if kind in ("h1", "h2", "h3"):
                doc.add_heading(str(value), int(kind[1]))
            elif kind == "md":
                for sub, v in md_blocks(str(value)):
                    if sub == "p":
                        add_runs(doc.add_paragraph(), v)
                    else:
                        for item in v:
                            add_runs(doc.add_paragraph(style="List Bullet"), item)
            elif kind == "table":
                table(value)
            elif kind == "metrics":
                metrics(value)
            elif kind == "key" and value:
                par = doc.add_paragraph()
                for n, c in value:
                    dash = par.add_run("—— ")
                    dash.bold, dash.font.color.rgb = True, RGBColor.from_string(c.lstrip("#").upper())
                    par.add_run(f"{n}    ")
            elif kind in ("chart", "row"):
                imgs = next(pngs)
                per = max(1, min(ROW_CHARTS, len(imgs)))
                for i in range(0, len(imgs), per):
                    par = doc.add_paragraph()
                    for j, png in enumerate(imgs[i:i + per]):
                        if j:
                            par.add_run(" ")
                        picture(par.add_run(), png, text_w / per - Mm(3) * (per > 1))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# --- one entry point --------------------------------------------------------------------------

def export(fmt: str, lang: str = "en", root=None, pages=None) -> bytes:
    """The report as a file's bytes: fmt "html", "pdf" or "docx"; pages a list
    of core.report.PAGES keys (None: all)."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use html, pdf or docx")
    if lang not in LANG_NAMES:
        raise ValueError(f"unknown language {lang!r}: use en or zh")
    pages = check_pages(pages)
    if fmt == "html":
        return export_html(lang, root, pages).encode("utf-8")
    return (export_pdf if fmt == "pdf" else export_docx)(lang, root, pages)


def file_name(fmt: str, lang: str, pages=None) -> str:
    """cnn-report-en.pdf; a selection adds its pages (or their number)."""
    keys = check_pages(pages)
    if keys == page_keys():
        return f"cnn-report-{lang}.{fmt}"
    tail = "-".join(keys) if len(keys) <= 3 else f"{len(keys)}-pages"
    return f"cnn-report-{lang}-{tail}.{fmt}"
