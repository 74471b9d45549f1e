"""The owner's Markdown becomes speakable sentences, each where the owner put it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai.knowledge import KnowledgeError, load, parse, split_sentences


def test_sections_bullets_paragraphs_and_also_asked() -> None:
    k = parse(
        "# Corner Shop\nWe sell most things.\n\n## Hours\n- Mon to Fri: **9 am** to 5 pm\n"
        "Also asked as: when are you open, what time\n\n## Address\nWe are at 3 High St. "
        "Dr. Smith's surgery is next door.\n"
    )
    assert k.title == "Corner Shop"
    assert [s.heading for s in k.sections] == ["Corner Shop", "Hours", "Address"]
    assert [f.text for f in k.facts] == [
        "We sell most things.",
        "Mon to Fri: 9 am to 5 pm.",
        "We are at 3 High St. Dr. Smith's surgery is next door.",
    ] or [f.text for f in k.facts][-1] == "Dr. Smith's surgery is next door."
    assert k.sections[1].also_asked == ["when are you open", "what time"]
    assert all("Also asked" not in f.text for f in k.facts)


def test_abbreviations_do_not_end_a_sentence() -> None:
    assert split_sentences("Dr. Lee works Fridays. Call us at 9 a.m. sharp.") == [
        "Dr. Lee works Fridays.",
        "Call us at 9 a.m. sharp.",
    ]


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="cannot read the facts file"):
        load(tmp_path / "missing.md")
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(KnowledgeError, match="not UTF-8"):
        load(bad)
