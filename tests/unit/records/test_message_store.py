"""The SQLite message store: written in order off the caller's thread, read newest first,
the last step of a message standing, its audio a WAV, the schema versioned."""

from __future__ import annotations

import sqlite3
import wave
from pathlib import Path

import pytest

from ai.message_keeper import StoredMessage
from records.messages import DB_NAME, MessageStore, open_db, read_messages


def message(id: str, started: float = 1.0, **fields: object) -> StoredMessage:
    base: dict[str, object] = dict(
        id=id, started=started, agent="reception", call="call-1", caller="+15550100",
        dialled="100", name="", number="", text="", complete=False, answers=(),
    )  # fmt: skip
    base.update(fields)
    return StoredMessage(**base)  # type: ignore[arg-type]


def test_steps_of_a_message_replace_each_other_and_close_writes_them(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    store.submit(message("a"), b"")
    store.submit(message("a", name="Jane", answers=("Jane",)), b"\x01\x00" * 1600)
    done = message("a", name="Jane", number="5550123", text="Call me.", complete=True,
                   answers=("Jane", "555 0123", "yes", "Call me."))  # fmt: skip
    store.submit(done, b"\x01\x00" * 3200)
    store.close()
    [row] = read_messages(tmp_path)
    assert (row.name, row.number, row.text, row.complete) == ("Jane", "5550123", "Call me.", True)
    assert row.answers == ["Jane", "555 0123", "yes", "Call me."] and row.caller == "+15550100"
    with wave.open(row.audio) as w:
        assert (w.getframerate(), w.getnchannels(), w.getnframes()) == (16000, 1, 3200)


def test_an_incomplete_message_stays_incomplete_and_lists_come_newest_first(
    tmp_path: Path,
) -> None:
    store = MessageStore(tmp_path)
    store.submit(message("old", started=10.0, name="Ann"), b"")
    store.submit(message("new", started=20.0, name="Bob", complete=True), b"")
    store.close()
    rows = read_messages(tmp_path)
    assert [(r.id, r.complete, r.audio) for r in rows] == [("new", True, ""), ("old", False, "")]
    assert [r.id for r in read_messages(tmp_path, limit=1)] == ["new"]


def test_no_store_yet_lists_nothing(tmp_path: Path) -> None:
    assert read_messages(tmp_path / "nothing-here") == []


def test_the_schema_is_versioned_and_a_newer_one_is_refused(tmp_path: Path) -> None:
    db = open_db(tmp_path / DB_NAME)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        open_db(tmp_path / DB_NAME)


def test_audio_that_cannot_be_written_is_logged_and_the_words_still_land(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = MessageStore(tmp_path)
    (tmp_path / "messages").write_text("a file where the audio folder should be")
    store.submit(message("a"), b"\x00\x00")  # its WAV cannot be written
    store.submit(message("b"), b"")
    store.close()
    assert sorted((r.id, r.audio) for r in read_messages(tmp_path)) == [("a", ""), ("b", "")]
    assert "no audio for message a" in caplog.text
    check = sqlite3.connect(tmp_path / DB_NAME).execute("PRAGMA integrity_check").fetchone()
    assert check[0] == "ok"
