"""Every text a reader sees, from per-language Markdown files, so a translator
edits words without touching code.

`content/<lang>/<file>.md` holds entries, each a marker line `<!-- key -->`
followed by its Markdown text up to the next marker. The marker is an HTML
comment, so the file still reads as plain Markdown. `text("zh", "retrain.title")`
is entry `title` of `content/zh/retrain.md`. Entries may hold `{name}`
placeholders, filled with `str.format(**values)`. A key missing in one
language falls back to English (tests/test_text.py fails on any such gap).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

CONTENT = Path(__file__).resolve().parent.parent / "content"
LANGS = ("en", "zh")
_MARKER = re.compile(r"^<!--\s*([\w.-]+)\s*-->\s*$", re.M)


class MissingText(KeyError):
    pass


def parse(source: str) -> dict[str, str]:
    """Entries of one content file, in order. Text before the first marker is
    the file's own note to translators and is ignored."""
    parts = _MARKER.split(source)
    out = {}
    for key, body in zip(parts[1::2], parts[2::2]):
        if key in out:
            raise ValueError(f"content key {key!r} appears twice")
        out[key] = body.strip("\n")  # trailing spaces are text (", " joins a list)
    return out


@functools.lru_cache(maxsize=None)
def _file(lang: str, name: str, mtime: float) -> dict[str, str]:
    return parse((CONTENT / lang / f"{name}.md").read_text(encoding="utf-8"))


def entries(lang: str, name: str) -> dict[str, str]:
    path = CONTENT / lang / f"{name}.md"
    try:
        return _file(lang, name, path.stat().st_mtime)
    except FileNotFoundError:
        return {}


def text(lang: str, key: str, **values) -> str:
    name, _, entry = key.partition(".")
    for candidate in (lang, "en"):
        found = entries(candidate, name).get(entry)
        if found is not None:
            return found.format(**values) if values else found
    raise MissingText(f"no text {key!r} in content/en/{name}.md")
