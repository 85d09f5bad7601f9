"""Exports of the report: the same blocks as the app (core.report.PAGES),
written as one file to hand in: an offline HTML page, a PDF or a Word .docx.

    export("pdf", lang="zh", pages=["overview", "<page key>"]) -> bytes

Block kinds rendered: h1/h2/h3, md (**bold**, *italic*, `code`, blank-line
paragraphs, "* " bullets), table (a "page" column is an app link: dropped;
missing cells print "–"), chart and row (altair charts; PNG in PDF and Word,
interactive in HTML) and metrics (headline figures). Unknown kinds are
skipped, so a new kind never breaks an export.

One module per format (html, pdf, docx), each with its own library; what
they share is in pages (which pages, their blocks), markdown, tables and vega
(chart sizing and PNG rendering, see render_pngs), and fonts (PDF only).
Names with a leading underscore are shared inside this package only. This
module is the interface: format modules are imported when an export or one
of their names is asked for, and heavy libraries where they are used, so
importing core.export costs next to nothing.
"""
from __future__ import annotations

import importlib

from .pages import LANG_NAMES, check_pages, page_keys

FORMATS = {
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

# Names callers import from core.export that live in a submodule, loaded on
# first use (PEP 562) so that `import core.export` stays cheap.
_LAZY = {
    "export_html": "html", "key_html": "html",
    "export_pdf": "pdf", "pdf_fonts": "fonts",
    "export_docx": "docx",
    "CHART_WIDTH": "vega", "static_spec": "vega",
}

__all__ = ["FORMATS", "LANG_NAMES", "check_pages", "export", "file_name", "page_keys", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def export(fmt: str, lang: str = "en", root=None, pages=None, title: str | None = None) -> bytes:
    """The report as a file's bytes: fmt "html", "pdf" or "docx"; pages a list
    of core.report.PAGES keys (None: all); `title` the title page's (default:
    the report's), e.g. a study's own for its pages alone."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use html, pdf or docx")
    if lang not in LANG_NAMES:
        raise ValueError(f"unknown language {lang!r}: use en or zh")
    pages = check_pages(pages)
    if fmt == "html":
        from .html import export_html
        return export_html(lang, root, pages, title).encode("utf-8")
    if fmt == "pdf":
        from .pdf import export_pdf
        return export_pdf(lang, root, pages, title)
    from .docx import export_docx
    return export_docx(lang, root, pages, title)


def file_name(fmt: str, lang: str, pages=None) -> str:
    """cnn-report-en.pdf; a selection adds its pages (or their number)."""
    keys = check_pages(pages)
    if keys == page_keys():
        return f"cnn-report-{lang}.{fmt}"
    tail = "-".join(keys) if len(keys) <= 3 else f"{len(keys)}-pages"
    return f"cnn-report-{lang}-{tail}.{fmt}"
