"""Captcha labels: four characters from a 19-character alphabet, read and
checked. Every module of the study takes them from here (the package's
__init__ re-exports them for everyone else)."""
from __future__ import annotations

from pathlib import Path

ALPHABET = "234579ACFHKMNPQRTYZ"
N_CHARS = 4
INDEX = {c: i for i, c in enumerate(ALPHABET)}


class LabelError(ValueError):
    pass


def normalise_label(text: str, where: str = "label") -> str:
    label = text.strip().upper()
    if len(label) != N_CHARS or any(c not in INDEX for c in label):
        bad = [c for c in label if c not in INDEX]
        why = (f"has {len(label)} characters, expected {N_CHARS}" if len(label) != N_CHARS
               else f"character(s) {''.join(bad)!r} not in the alphabet {ALPHABET}")
        shown = text.strip() if len(text.strip()) <= 40 else text.strip()[:37] + "..."
        raise LabelError(f"{where}: {shown!r} {why}")
    return label


def read_labels(path) -> list[str]:
    """One label per line, line N labelling N.jpg; case-insensitive, CRLF or
    LF. A bad line raises LabelError naming the file and line number, and
    so does a file that is not UTF-8 text (a picture or archive given by
    mistake); OSError when the file cannot be read at all."""
    path = Path(path)
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = path.read_bytes()[:e.start].count(b"\n") + 1
        raise LabelError(f"{path}, line {line}: not a text file of labels "
                         f"(byte {e.start + 1} is not UTF-8 text)") from None
    lines = raw.splitlines()
    while lines and not lines[-1].strip():  # a trailing newline is not a label
        lines.pop()
    return [normalise_label(line, f"{path}, line {n}") for n, line in enumerate(lines, start=1)]


def encode(label: str) -> list[int]:
    return [INDEX[c] for c in normalise_label(label)]


def decode(indices) -> str:
    return "".join(ALPHABET[int(i)] for i in indices)
