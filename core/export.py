"""Exports of the report: the same blocks as the app (core.report.PAGES),
written as one self-contained file to hand in."""
from __future__ import annotations

import html
import json
import re

from core.report import PAGES, tr


# --- HTML export ---------------------------------------------------------------

def _md_to_html(text: str) -> str:
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"\*(.+?)\*", r"<i>\1</i>", out)
    out = re.sub(r"`(.+?)`", r"<code>\1</code>", out)
    return "<p>" + out.replace("\n\n", "</p><p>") + "</p>"


def export_html(lang: str = "en", root=None) -> str:
    """One self-contained file: text, tables and interactive charts, with the
    Vega runtime inlined so it works offline."""
    import altair as alt
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    body, n = [], 0
    for _, make in PAGES:
        body.append("<section>")
        for kind, value in make(lang, root):
            if kind in ("h1", "h2", "h3"):
                body.append(f"<{kind}>{html.escape(value)}</{kind}>")
            elif kind == "md":
                body.append(_md_to_html(value))
            elif kind == "table":
                value = value.drop(columns=["page"], errors="ignore")
                value = value.astype(object).where(value.notna(), "–")
                body.append(value.to_html(index=False, border=0, classes="t"))
            elif kind in ("chart", "row"):
                body.append('<div class="row">')
                for chart in (value if kind == "row" else [value]):
                    n += 1
                    spec = chart.to_dict() if isinstance(chart, alt.TopLevelMixin) else chart
                    body.append(f'<div class="chart" id="c{n}"></div><script>vegaEmbed("#c{n}", '
                                f'{json.dumps(spec)}, {{"actions": false}}).catch(console.error);</script>')
                body.append("</div>")
        body.append("</section>")
    bundle = vlc.javascript_bundle(vl_version=vl_version_for_vl_convert())
    title = tr(lang, "CNN experiments report", "卷積網路實驗報告")
    return f"""<!DOCTYPE html>
<html lang="{'zh-Hant' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.5}}
table.t{{border-collapse:collapse;font-size:13px;margin:1em 0}} table.t td,table.t th{{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}}
section{{border-top:3px solid #444;margin-top:2em}} .row{{display:flex;flex-wrap:wrap;gap:1em}} .chart{{margin:1em 0}} code{{background:#f3f3f3;padding:0 3px}}
</style>
<script>{bundle}</script></head><body>
{''.join(body)}
</body></html>
"""
