"""The HTML export: one self-contained page with the Vega runtime inlined, so
its charts stay interactive offline. It also holds key_html, the colour key
the app draws with the same markup.
"""
from __future__ import annotations

import html
import json

from .markdown import inline_runs, md_blocks
from .pages import _meta_lines, _sections, _tr
from .tables import _metric_items, _table_rows
from .vega import _spec, _vl_version


def key_html(items) -> str:
    """A ("key", [(name, colour)]) block as HTML, in the app and the HTML export:
    a short line of each colour before its experiment's name."""
    return '<div class="key" style="font-size:0.8rem;line-height:1.6;margin:0.2rem 0 0.4rem">' + "".join(
        f'<span style="display:inline-block;margin-right:1.2em;white-space:nowrap">'
        f'<span style="display:inline-block;width:1.5em;height:3px;margin-right:0.4em;vertical-align:middle;'
        f'background:{html.escape(c)}"></span>{html.escape(str(n))}</span>' for n, c in items) + "</div>"


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


def export_html(lang: str = "en", root=None, pages=None, title: str | None = None) -> str:
    """One self-contained file: text, tables and interactive charts, with the
    Vega runtime inlined so it works offline."""
    import vl_convert as vlc

    sections = _sections(lang, root, pages)
    body, n = [], 0
    title = title or _tr(lang, "report-title")
    body.append(f'<header><p class="title">{html.escape(title)}</p><p class="meta">'
                f'{" · ".join(html.escape(x) for x in _meta_lines(lang, root, pages))}</p></header>')
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
