"""The words and small blocks every report page shares: texts in the
reader's language, verdict words, layer tables, the left-out note. Imported
by core/report.py and every study's report module alike, so neither page module
needs the other's helpers."""
from __future__ import annotations

import math

import pandas as pd

from core.results import left_out_note
from core.text import MissingText, text
from core.verdict import MIN_EFFECT, Z


def tx(lang: str, key: str, **values) -> str:
    """The text `key` (file.entry) of content/<lang>/, placeholders filled."""
    return text(lang, key, **values)


def local(lang: str, texts: dict):
    """A declaration's own {language: text} (a claim, a seed's verdict), English where it has no `lang`."""
    return texts.get(lang, texts["en"]) if isinstance(texts, dict) else texts


def lookup(lang: str, key: str, default: str) -> str:
    """The content text `key`, or `default` (a value from a record) where no file translates it."""
    try:
        return text(lang, key)
    except MissingText:
        return default


def slug(words: str) -> str:
    """A content key for a value that records hold as words ("pad 6 px white" -> "pad-6-px-white")."""
    import re
    return re.sub(r"[^\w]+", "-", words).strip("-")


VERDICTS = ("up", "down", "unchanged", "not enough runs", "holds", "reversed", "no measurable difference")


def _v(lang, word):
    """A verdict word of core.verdict in `lang` (content/<lang>/verdicts.md)."""
    return lookup(lang, f"verdicts.{slug(word)}", word) if isinstance(word, str) else word


def verdict_labels(lang: str) -> dict[str, str]:
    """The forest plots' legend: each verdict's words, "holds" as a full phrase."""
    return {**{w: _v(lang, w) for w in VERDICTS}, "holds": tx(lang, "verdicts.holds-legend")}


def model_summary(name: str, **kwargs) -> pd.DataFrame:
    """Layer table generated from the model itself (never typed in), read
    from the studies' model_tables.json files so that a page needs no Keras."""
    from core import model_tables
    return pd.DataFrame(model_tables.table(name, kwargs))


def model_blocks(lang: str, df: pd.DataFrame, model: str, experiment: str | None = None) -> list:
    """A layer table under its heading ("<model> — N parameters"), its columns in `lang`."""
    params = f"{int(df['params'].sum()):,}"
    heading = (tx(lang, "tables.model-heading", model=model, params=params) if experiment is None else
               tx(lang, "tables.model-heading-of", experiment=experiment, model=model, params=params))
    return [("h3", heading), ("table", df.rename(columns={c: lookup(lang, f"tables.{c}", c) for c in df.columns}))]


def left_out_blocks(lang: str, rows: list[dict]) -> list:
    """A warning line naming the runs this page's figures leave out as unreadable, if any."""
    note = left_out_note(rows, lang)
    return [("md", note)] if note else []


def verdict_rule(lang: str) -> str:
    return tx(lang, "verdicts.rule", z=f"{Z:g}", min_effect=f"{100 * MIN_EFFECT:g}")


def cell_text(value) -> str:
    """A table cell as the reader sees it, in the app and in every export:
    "–" for what is absent, figures with two decimals (a small one with two
    significant digits) and thousands separators."""
    if value is None:
        return "–"
    try:
        if value != value:  # NaN, NaT
            return "–"
    except (TypeError, ValueError):
        pass
    try:
        import pandas as pd
        if value is pd.NA or value is pd.NaT:
            return "–"
    except ImportError:
        pass
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        v = float(value)
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v != 0 and abs(v) < 0.01:
            return f"{v:.2g}"  # a learning rate, not 0.00
        return f"{v:,.2f}"
    if isinstance(value, int) or type(value).__name__.startswith(("int", "uint")):
        return f"{int(value):,}"
    return str(value)
