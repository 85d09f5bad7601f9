"""The Markdown subset the report's text blocks use (**bold**, *italic*,
`code`, blank-line paragraphs, "* " bullets), parsed into styled runs,
paragraphs and bullet lists that each format then writes in its own markup:
one parser, so a text reads the same in HTML, PDF and Word.
"""
from __future__ import annotations

import re

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
