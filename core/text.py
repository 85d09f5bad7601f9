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
# A study brings its own texts (core/study.py: Study.content), in the same
# layout; its file of a name adds entries to the shell's file of that name
# (a study's nav.md adds its page titles), and a key given twice is an error.
EXTRA: list[Path] = []
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


def add_content(folder) -> None:
    """Read texts from this folder too (<folder>/<lang>/<file>.md)."""
    folder = Path(folder)
    if folder not in EXTRA:
        EXTRA.append(folder)


@functools.lru_cache(maxsize=None)
def _read(path: Path, mtime: float) -> dict[str, str]:
    return parse(path.read_text(encoding="utf-8"))


def entries(lang: str, name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for folder in (CONTENT, *EXTRA):
        path = folder / lang / f"{name}.md"
        try:
            found = _read(path, path.stat().st_mtime)
        except FileNotFoundError:
            continue
        twice = set(found) & set(out)
        if twice:
            raise ValueError(f"{path}: {', '.join(sorted(twice))} already in another {name}.md")
        out.update(found)
    return out


def files(lang: str) -> list[str]:
    """The names of every content file in `lang`, the studies' included."""
    return sorted({p.stem for folder in (CONTENT, *EXTRA) for p in (folder / lang).glob("*.md")})


def text(lang: str, key: str, **values) -> str:
    name, _, entry = key.partition(".")
    for candidate in (lang, "en"):
        found = entries(candidate, name).get(entry)
        if found is not None:
            return found.format(**values) if values else found
    raise MissingText(f"no text {key!r} in content/en/{name}.md")
