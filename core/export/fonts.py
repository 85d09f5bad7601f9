"""Fonts for the PDF: reportlab embeds TrueType files only and draws each
character in one named font, so the system's fonts are searched, a Latin
family and a CJK font registered, and text marked up character by character
with the first font that has each glyph. Separate from pdf.py because the
search and fallbacks are a subject of their own (and tests call pdf_fonts).
"""
from __future__ import annotations

import functools
import hashlib
import html
import os

from .markdown import inline_runs

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
