"""The content files: both languages have the same entries and placeholders."""
import string

import pytest

from core import text


def _names(lang):
    from core.study import studies
    studies()  # their texts too
    return text.files(lang)


def _fields(s):
    return sorted({f for _, f, _, _ in string.Formatter().parse(s) if f})


def test_both_languages_have_the_same_files():
    assert _names("en") == _names("zh")


@pytest.mark.parametrize("name", _names("en"))
def test_same_keys_and_placeholders(name):
    en, zh = text.entries("en", name), text.entries("zh", name)
    assert sorted(en) == sorted(zh), f"{name}.md: keys differ"
    for key in en:
        assert _fields(en[key]) == _fields(zh[key]), f"{name}.{key}: placeholders differ"
        assert zh[key].strip(), f"{name}.{key}: empty in zh"


def test_parse_and_lookup(tmp_path, monkeypatch):
    (tmp_path / "en").mkdir()
    (tmp_path / "zh").mkdir()
    (tmp_path / "en" / "t.md").write_text("note\n<!-- a -->\nHello **{who}**\n\n<!-- b -->\nOnly English\n")
    (tmp_path / "zh" / "t.md").write_text("<!-- a -->\n你好 **{who}**\n")
    monkeypatch.setattr(text, "CONTENT", tmp_path)
    monkeypatch.setattr(text, "EXTRA", [])
    assert text.text("zh", "t.a", who="x") == "你好 **x**"
    assert text.text("zh", "t.b") == "Only English"  # falls back
    with pytest.raises(text.MissingText):
        text.text("en", "t.c")
    with pytest.raises(ValueError):
        text.parse("<!-- a -->\n1\n<!-- a -->\n2\n")


def test_a_study_adds_entries_to_a_shell_file_and_may_not_repeat_one(tmp_path, monkeypatch):
    for folder, body in ((tmp_path / "shell", "<!-- a -->\nshell\n"), (tmp_path / "study", "<!-- b -->\nstudy\n")):
        (folder / "en").mkdir(parents=True)
        (folder / "en" / "t.md").write_text(body)
    monkeypatch.setattr(text, "CONTENT", tmp_path / "shell")
    monkeypatch.setattr(text, "EXTRA", [tmp_path / "study"])
    assert (text.text("en", "t.a"), text.text("en", "t.b")) == ("shell", "study")
    (tmp_path / "study" / "en" / "t.md").write_text("<!-- a -->\nagain\n")
    with pytest.raises(ValueError, match="already in another t.md"):
        text.text("en", "t.a")
