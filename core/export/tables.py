"""Table and headline-figure blocks as text, shared by the formats: the rows
as shown in the app (app link column dropped, figures written as everywhere
else), metric items, and the column widths and word breaks that PDF and Word
need because they lay out their own tables (HTML leaves that to the browser).
"""
from __future__ import annotations

import re

from core.blocks import cell_text


def _table_frame(df):
    """The table as shown: app link column dropped, missing cells as "–"."""
    return df.drop(columns=["page"], errors="ignore")


_cell = cell_text  # one way to write a figure, in the app and in every export


def _table_rows(df) -> tuple[list[str], list[list[str]]]:
    df = _table_frame(df)
    header = [str(c) for c in df.columns]
    rows = [[_cell(v) for v in row] for row in df.itertuples(index=False, name=None)]
    return header, rows


def _metric_items(value) -> list[dict]:
    items = []
    for m in value or []:
        if isinstance(m, dict):
            items.append({"label": str(m.get("label", "")), "value": _cell(m.get("value")),
                          "help": " ".join(str(m[k]) for k in ("help", "caption") if m.get(k))})
    return items


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
