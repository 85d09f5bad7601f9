"""The Word export (python-docx): A4, real heading styles (Word's navigation
pane lists them), tables sized to their content and charts as PNG. In Chinese
the styles name an East Asian font and language, since Word's theme font
would otherwise pick the glyphs.
"""
from __future__ import annotations

import io
import math

from .markdown import inline_runs, md_blocks
from .pages import _meta_lines, _sections, _tr
from .tables import _col_widths, _metric_items, _table_rows
from .vega import DOCX_SCALE, ROW_CHARTS, _rendered_charts, png_size


def export_docx(lang: str = "en", root=None, pages=None, title: str | None = None) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Emu, Mm, Pt, RGBColor

    sections = _sections(lang, root, pages)
    pngs = iter(_rendered_charts(sections, DOCX_SCALE))
    title = title or _tr(lang, "report-title")

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
    for line in _meta_lines(lang, root, pages):
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
