"""The report as files to hand in (core.export): PDF and Word on the committed
runs, opened the way a reader's software opens them (pypdf, python-docx),
plus the command line and the app's export panel.

Each full file is built once per module (chart rendering dominates)."""
import io
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO
from core import export
from core.report import PAGES

A4 = (595.28, 841.89)


def squash(text: str) -> str:
    """Text without whitespace: a heading wrapped over two lines still matches."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module", autouse=True)
def committed_runs():
    """The repository's own runs/, whatever the shell exported."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CNNLAB_RUNS_DIR", raising=False)
        mp.delenv("CNNLAB_PDF_CJK_FONT", raising=False)
        yield


@pytest.fixture(scope="module")
def blocks_en(committed_runs):
    return {key: make("en", None) for key, make in PAGES}


@pytest.fixture(scope="module")
def pdf_en(committed_runs):
    from pypdf import PdfReader
    data = export.export("pdf", "en")
    reader = PdfReader(io.BytesIO(data))
    return data, reader, [p.extract_text() or "" for p in reader.pages]


@pytest.fixture(scope="module")
def docx_en(committed_runs):
    from docx import Document
    data = export.export("docx", "en")
    return Document(io.BytesIO(data))


ZH_PAGES = ["overview", "mnist"]


@pytest.fixture(scope="module")
def pdf_zh(committed_runs):
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(export.export("pdf", "zh", pages=ZH_PAGES)))
    return reader, [p.extract_text() or "" for p in reader.pages]


def test_pdf_is_a4_with_a_title_page(pdf_en):
    data, reader, texts = pdf_en
    assert data[:5] == b"%PDF-"
    assert len(reader.pages) > 10
    for page in reader.pages:
        box = page.mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(A4, abs=0.5)
    title = squash(texts[0])
    assert squash("CNN experiments report") in title and squash("Language: English") in title
    assert "git commit" in texts[0] or "Built:" in texts[0]
    assert reader.metadata.title == "CNN experiments report"


def test_pdf_holds_every_heading_and_lists_the_sections(pdf_en, blocks_en):
    _, reader, texts = pdf_en
    body = squash("".join(texts[1:]))
    missing = [v for blocks in blocks_en.values() for k, v in blocks if k in ("h1", "h2", "h3")
               and squash(v) not in body]
    assert not missing, missing
    titles = [next(v for k, v in blocks if k == "h1") for blocks in blocks_en.values()]
    contents = squash(texts[0])
    assert all(squash(t) in contents for t in titles)


def test_pdf_outline_has_a_bookmark_per_section(pdf_en, blocks_en):
    _, reader, _ = pdf_en
    outline = reader.outline
    top = [item.title for item in outline if not isinstance(item, list)]
    titles = [next(v for k, v in blocks if k == "h1") for blocks in blocks_en.values()]
    assert top == titles
    assert any(isinstance(item, list) and item for item in outline), "h2 headings nest under their page"
    # each page of the report starts a page of the PDF, where its bookmark leads
    texts = pdf_en[2]
    numbers = [reader.get_destination_page_number(item) for item in outline if not isinstance(item, list)]
    assert numbers[0] == 1 and numbers == sorted(set(numbers))
    for item, n in zip(top, numbers):
        page = squash(texts[n]).removeprefix(squash("CNN experiments report") + str(n + 1))  # the footer
        assert page.startswith(squash(item)), (item, texts[n][:80])


def test_pdf_tables_print_missing_cells_as_a_dash(pdf_en):
    _, _, texts = pdf_en
    assert "–" in "".join(texts)


def test_pdf_charts_are_sharp_images(pdf_en, blocks_en):
    _, reader, _ = pdf_en
    n_charts = sum(1 if k == "chart" else len(v) for blocks in blocks_en.values() for k, v in blocks
                   if k in ("chart", "row"))
    images = []
    for page in reader.pages:
        for name, obj in (page["/Resources"].get("/XObject") or {}).items():
            obj = obj.get_object()
            if obj.get("/Subtype") == "/Image":
                images.append((page, obj))
    assert len(images) == n_charts
    # Placed at no more than a third of their pixel size: ≥ 216 dpi on paper.
    for page, img in images[:5]:
        assert img["/Width"] >= 3 * 150


def test_zh_pdf_shows_chinese(pdf_zh):
    reader, texts = pdf_zh
    text = squash("".join(texts))
    assert squash("卷積網路實驗報告") in text
    assert squash("MNIST：全連接網路與 CNN") in text
    assert squash("語言：繁體中文") in squash(texts[0])
    from reportlab.pdfbase.pdfmetrics import getFont
    body = getFont(export.pdf_fonts("zh")["body"])
    face = body.face.name.decode() if hasattr(body, "face") else body.fontName
    fonts = {str(f.get_object()["/BaseFont"]) for page in reader.pages
             for f in (page["/Resources"].get("/Font") or {}).values()}
    assert any(face in f for f in fonts), (face, fonts)


def test_zh_pdf_without_a_cjk_font_file_falls_back_to_the_builtin_one(monkeypatch):
    from pypdf import PdfReader
    monkeypatch.setenv("CNNLAB_PDF_CJK_FONT", "builtin")
    reader = PdfReader(io.BytesIO(export.export("pdf", "zh", pages=["c50-batch-size"])))
    fonts = {str(f.get_object()["/BaseFont"]): f.get_object().get("/Encoding") for page in reader.pages
             for f in (page["/Resources"].get("/Font") or {}).values()}
    assert fonts.get("/MSung-Light") == "/UniCNS-UCS2-H", fonts  # Traditional Chinese's CMap, not GB's
    assert "批次" in "".join(p.extract_text() for p in reader.pages)


def test_page_selection(pdf_en):
    from pypdf import PdfReader
    one = PdfReader(io.BytesIO(export.export("pdf", "en", pages=["c50-batch-size"])))
    assert 1 < len(one.pages) < len(pdf_en[1].pages)
    assert [i.title for i in one.outline if not isinstance(i, list)] == \
        [next(v for k, v in dict(PAGES)["c50-batch-size"]("en", None) if k == "h1")]
    html = export.export("html", "en", pages=["c50-batch-size"]).decode()
    assert html.count("<section") == 1


def test_unknown_page_or_format_raises():
    with pytest.raises(ValueError, match="valid: overview, mnist"):
        export.export("pdf", pages=["overview", "no-such-page"])
    with pytest.raises(ValueError, match="html, pdf or docx"):
        export.export("odt")


def test_docx_structure_matches_the_report(docx_en, blocks_en):
    doc = docx_en
    styles = [p.style.name for p in doc.paragraphs]
    assert styles.count("Heading 1") == len(PAGES)
    assert styles[0] == "Title"
    every = [b for blocks in blocks_en.values() for b in blocks]
    n_tables = sum(1 for k, v in every if k == "table" and len(v.columns)) + \
        sum(1 for k, v in every if k == "metrics" and v)  # headline figures: a one-row table
    assert len(doc.tables) == n_tables
    n_charts = sum(1 if k == "chart" else len(v) for k, v in every if k in ("chart", "row"))
    assert len(doc.inline_shapes) == n_charts
    text_w = doc.sections[0].page_width - doc.sections[0].left_margin - doc.sections[0].right_margin
    assert all(s.width <= text_w for s in doc.inline_shapes)
    assert abs(doc.sections[0].page_width.mm - 210) < 1


def test_docx_tables_and_text_styles(docx_en, blocks_en):
    doc = docx_en
    first = next(t for t in doc.tables if t.style.name != "Table Grid")
    assert first.style.name in ("Light Grid Accent 1", "Table Grid")
    header = first.rows[0].cells
    assert all(r.bold for c in header for p in c.paragraphs for r in p.runs)
    assert not any(c.text == "page" for t in doc.tables for c in t.rows[0].cells)
    assert any(c.text == "–" for t in doc.tables for row in t.rows for c in row.cells)
    # **bold** and `code` from the markdown become runs, not asterisks
    runs = [r for p in doc.paragraphs for r in p.runs]
    assert any(r.bold for r in runs if r.text.strip())
    assert any(r.font.name == "Consolas" for r in runs)
    assert not any("**" in p.text for p in doc.paragraphs)


def test_docx_zh_sets_the_east_asian_font():
    from docx import Document
    from docx.oxml.ns import qn
    doc = Document(io.BytesIO(export.export("docx", "zh", pages=["c50-batch-size"])))
    fonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "Microsoft JhengHei"
    assert any("批次" in p.text for p in doc.paragraphs)


def test_new_and_unknown_blocks_render(monkeypatch):
    """Headline figures render, an unknown kind is skipped, a chart that
    leaves its width to the container gets a fixed one."""
    import altair as alt
    import pandas as pd
    from docx import Document
    from pypdf import PdfReader
    from core import report

    chart = alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]})).mark_line().encode(x="x", y="y")
    blocks = [("h1", "Fake <page> & co"), ("md", "**Bold** and *italic*, `a<b`.\n\n* one\n* two"),
              ("metrics", [{"label": "Best", "value": "99.1 %", "help": "mean of 3"}]),
              ("hologram", object()),
              ("table", pd.DataFrame({"a": [1.5, None], "page": ["mnist", None]})),
              ("chart", chart.properties(width="container")), ("row", [chart, chart, chart])]
    monkeypatch.setattr(report, "PAGES", (("fake", lambda lang, root=None: blocks),))
    pdf = PdfReader(io.BytesIO(export.export("pdf", "en")))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "Fake <page> & co" in text and "99.1 %" in text and "a<b" in text and "–" in text
    doc = Document(io.BytesIO(export.export("docx", "en")))
    assert len(doc.inline_shapes) == 4 and len(doc.tables) == 2
    assert [p.style.name for p in doc.paragraphs].count("List Bullet") >= 2
    html = export.export("html", "en").decode()
    assert "99.1 %" in html and html.count('class="chart"') == 4 and "<li>one</li>" in html
    assert export.static_spec(chart.properties(width="container"))["width"] == export.CHART_WIDTH
    assert export.static_spec(chart.properties(width=alt.Step(20)))["width"] == {"step": 20}


def test_cli_export(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("CNNLAB_RUNS_DIR", None)
    run = lambda *a: subprocess.run([sys.executable, "-m", "experiments", "report", *a],  # noqa: E731
                                    cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    bad = run("--export", str(tmp_path / "r.odt"))
    assert bad.returncode == 2 and ".html, .pdf or .docx" in bad.stderr
    unknown = run("--export", str(tmp_path / "r.pdf"), "--pages", "overview,nope")
    assert unknown.returncode == 2 and "nope" in unknown.stderr and "valid:" in unknown.stderr
    ok = run("--export", str(tmp_path / "r.html"), "--lang", "zh", "--pages", "c50-batch-size")
    assert ok.returncode == 0, ok.stderr
    assert str(tmp_path / "r.html") in ok.stdout
    assert "批次" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_export_panel_builds_and_reports_failures(monkeypatch):
    from streamlit.testing.v1 import AppTest

    def script():
        from app_pages._export import export_panel
        export_panel()

    at = AppTest.from_function(script, default_timeout=120)
    at.run()
    assert not at.exception
    assert at.multiselect(key="export:pages").value == [k for k, _ in PAGES]
    at.radio(key="export:format").set_value("HTML")
    at.multiselect(key="export:pages").set_value(["c50-batch-size"])
    at.button(key="export:build").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    downloads = at.get("download_button")
    assert downloads and "cnn-report-en-c50-batch-size.html" in downloads[0].proto.label
    at.run()  # the file survives a rerun
    assert at.get("download_button")

    import app_pages._export as panel
    monkeypatch.setattr(panel, "_command", lambda out, language, keys: [
        sys.executable, "-c",
        "import sys; print('I0000 00:00 noise', file=sys.stderr); "
        "print('Traceback (most recent call last):', file=sys.stderr); "
        "sys.exit('error: export failed: OSError: disk full')"])
    at.button(key="export:build").click().run()
    assert at.error and "disk full" in at.error[0].value
    assert at.expander, "the whole stderr sits in an expander"


def test_last_error_line():
    from app_pages._export import last_error_line
    assert last_error_line("Traceback ...\n  File \"x\"\nKeyError: 'a'\nerror: export failed: KeyError: 'a'\n") \
        == "export failed: KeyError: 'a'"
    assert last_error_line("I0000 00:00:00 port.cc noise\nValueError: bad\n") == "ValueError: bad"


def test_every_row_of_curves_has_a_key_in_its_charts_colours(blocks_en, pdf_en, docx_en):
    """A printed report cannot hover: each row of curve charts is preceded by
    a key naming its lines in the colours the charts draw them, in every
    renderer (the app's is the HTML one, app_pages/_common.render)."""
    from core import charts
    rows = 0
    for key, blocks in blocks_en.items():
        for i, ((kind, value), (next_kind, charts_row)) in enumerate(zip(blocks, blocks[1:])):
            if next_kind == "row" and any("epoch" in json.dumps(c.to_dict()) for c in charts_row):
                if kind == "row":  # a second row of the same curves (the captcha heads): the key above both
                    continue
                if kind == "chart" and i > 0:  # MNIST: the test accuracies between key and curves, same colours
                    kind, value = blocks[i - 1]
                assert kind == "key", f"{key}: a row of curves without its key"
                spec = charts_row[0].to_dict()
                scale = next(layer["encoding"]["color"]["scale"] for layer in spec["layer"])
                colour = dict(zip(scale["domain"], scale["range"]))
                assert value and all(colour[name] == c for name, c in value), key
                rows += 1
    assert rows >= 15  # MNIST's three groups, the 13 techniques, best combination, captcha
    names = [n for _, blocks in blocks_en.items() for k, v in blocks if k == "key" for n, _ in v]
    text = squash(" ".join(pdf_en[2]))
    assert all(squash(n) in text for n in names[:5])
    runs = [r for p in docx_en.paragraphs if "——" in p.text for r in p.runs if r.text.startswith("——")]
    assert runs and all(r.font.color.rgb is not None for r in runs)
    html = export.export("html", "en", pages=["c50-batchnorm"]).decode()
    assert html.count('<div class="key"') == 1 and "c50-batchnorm</span>" in html
