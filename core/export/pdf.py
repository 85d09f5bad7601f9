"""The PDF export (reportlab): A4 pages with a title page, a contents list
with page numbers (the document is laid out twice to learn them), PDF
bookmarks, tables sized to their content and charts as PNG.
"""
from __future__ import annotations

import html
import io

from .fonts import _fontify, _pdf_markup, pdf_fonts
from .markdown import md_blocks
from .pages import _meta_lines, _sections, _tr
from .tables import _broken_words, _col_widths, _metric_items, _pieces, _table_rows
from .vega import PDF_SCALE, ROW_CHARTS, _rendered_charts, png_size


def export_pdf(lang: str = "en", root=None, pages=None, title: str | None = None) -> bytes:
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
    meta = _meta_lines(lang, root, pages)
    body = fonts["body"]
    wrap = "CJK" if lang == "zh" else None
    title = title or _tr(lang, "report-title")

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
