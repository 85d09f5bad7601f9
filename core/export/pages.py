"""Which pages go into an export, in what order, and their blocks: the page
choice shared by every format (and by the app's export panel and the command
line, through core.export), plus the title page's facts (language, date,
commit). Kept apart so each format module starts from the same sections.
"""
from __future__ import annotations

import datetime as _dt
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
LANG_NAMES = {"en": "English", "zh": "繁體中文"}


def _tr(lang: str, key: str, **values) -> str:
    from core.text import text
    return text(lang, f"export.{key}", **values)


def page_keys() -> list[str]:
    from core.report import PAGES
    return [key for key, _ in PAGES]


def check_pages(pages) -> list[str]:
    """The page keys to export, in report order; ValueError naming the valid
    keys on an unknown one."""
    keys = page_keys()
    if pages is None:
        return keys
    if isinstance(pages, str):
        pages = [p for p in pages.split(",")]
    pages = [p.strip() for p in pages if p and p.strip()]
    unknown = [p for p in pages if p not in keys]
    if unknown:
        raise ValueError(f"unknown report page(s) {', '.join(unknown)}; valid: {', '.join(keys)}")
    if not pages:
        raise ValueError(f"no report page chosen; valid: {', '.join(keys)}")
    return [k for k in keys if k in pages]


def _sections(lang: str, root, pages) -> list[tuple[str, str, list]]:
    """(page key, page title, blocks) for each chosen page."""
    from core.report import PAGES
    make = dict(PAGES)
    out = []
    for key in check_pages(pages):
        blocks = list(make[key](lang, root))
        title = next((v for k, v in blocks if k == "h1"), key)
        out.append((key, title, blocks))
    return out


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%h %cs"], cwd=REPO, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _runs_changed() -> bool:
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", "runs"], cwd=REPO,
                             capture_output=True, text=True, timeout=10)
        return out.returncode == 0 and bool(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return False


def _own_only(pages) -> bool:
    """Whether every page chosen is a study of one's own's (core/own.py)."""
    from core.study import page
    try:
        owners = [page(k)[0] for k in check_pages(pages)]
    except KeyError:  # the Overview
        return False
    return all((s.declared or {}).get("origins") for s in owners)


def _meta_lines(lang: str, root, pages=None) -> list[str]:
    """Language, date, commit (and whether runs/ differs from it) for the title
    page. Runs of one's own were made by one's own code: each record holds its
    commit, and this project's says nothing of them."""
    if root is not None and Path(root).resolve() == (REPO / "runs").resolve():
        root = None
    lines = [_tr(lang, "meta-language", name=LANG_NAMES[lang]),
             _tr(lang, "meta-built", date=_dt.date.today().isoformat())]
    commit = _git_commit()
    if _own_only(pages):
        lines.append(_tr(lang, "meta-own"))
    elif commit:
        line = _tr(lang, "meta-commit", commit=commit)
        if root is None and _runs_changed():
            line += _tr(lang, "meta-dirty")
        lines.append(line)
    if root is not None:
        lines.append(_tr(lang, "meta-root", root=root))
    return lines
