"""The messages callers leave, kept in SQLite under the data folder, with the caller's audio
of their answers as one WAV per message.

Theory of operation
-------------------
``MessageStore`` is the ``MessageBox`` of ai/message_keeper.py: ``submit()`` puts a
message (the whole message so far) on a bounded queue and returns; one writer thread
writes the WAV (atomically: bridge/media/wav.py) and upserts the row, in submission
order, so the last step the caller reached is what stays. ``close()`` drains the
queue. SQLite runs in WAL mode, so ``voicebot messages`` reads while calls write; each
write is its own transaction, so a killed process loses at most the step in flight.

The schema is versioned with ``PRAGMA user_version``: ``_MIGRATIONS[i]`` brings a
database at version ``i`` to ``i + 1``, and opening a store runs the ones it lacks.
Reading (``read_messages``) needs no writer and runs beside one.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ai.channel import BRAIN_RATE
from ai.message_keeper import StoredMessage
from bridge.media.wav import write_wav

log = logging.getLogger(__name__)

DB_NAME = "voicebot.sqlite3"
AUDIO_DIR = "messages"
QUEUE_BOUND = 1000  # submissions waiting for the disk; beyond, one is refused and logged

_MIGRATIONS = (
    """CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        started REAL NOT NULL,
        updated REAL NOT NULL,
        agent TEXT NOT NULL,
        call TEXT NOT NULL,
        caller TEXT NOT NULL,
        dialled TEXT NOT NULL,
        name TEXT NOT NULL,
        number TEXT NOT NULL,
        text TEXT NOT NULL,
        complete INTEGER NOT NULL,
        answers TEXT NOT NULL,
        audio TEXT NOT NULL
    );
    CREATE INDEX messages_started ON messages (started);""",
)


def open_db(path: Path) -> sqlite3.Connection:
    """The database at ``path``, created or migrated to the current schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(_MIGRATIONS):
        raise RuntimeError(f"{path} has schema version {version}, newer than this voicebot's")
    for i in range(version, len(_MIGRATIONS)):
        with db:
            db.executescript(_MIGRATIONS[i])
            db.execute(f"PRAGMA user_version = {i + 1}")
    return db


@dataclass(frozen=True)
class MessageRow:
    """One message as ``voicebot messages`` lists it."""

    id: str
    time: str  # ISO 8601, local time, when the caller began leaving it
    agent: str
    caller: str
    name: str
    number: str
    text: str
    complete: bool
    audio: str  # the WAV of the caller's answers ("" if none)
    call: str
    dialled: str
    answers: list[str]

    def as_json(self) -> dict[str, object]:
        return asdict(self)


class MessageStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.db_path = data_dir / DB_NAME
        self.audio_dir = data_dir / AUDIO_DIR
        self._db = open_db(self.db_path)
        self._queue: queue.Queue[tuple[StoredMessage, bytes] | None] = queue.Queue(QUEUE_BOUND)
        self._writer = threading.Thread(target=self._write_all, name="messages", daemon=True)
        self._writer.start()

    def submit(self, message: StoredMessage, audio: bytes) -> None:
        try:
            self._queue.put_nowait((message, audio))
        except queue.Full:
            log.error("message store: %d writes waiting; message %s not stored", QUEUE_BOUND,
                      message.id)  # fmt: skip

    def close(self) -> None:
        """Write what is queued, then stop the writer."""
        self._queue.put(None)
        self._writer.join(timeout=30)
        self._db.close()

    def _write_all(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._write(*item)
            except Exception:
                log.exception("message store: could not write message %s", item[0].id)

    def _write(self, m: StoredMessage, audio: bytes) -> None:
        audio_path = ""
        if audio:
            try:
                path = self.audio_dir / f"{m.id}.wav"
                write_wav(path, audio, BRAIN_RATE)
                audio_path = str(path)
            except OSError as exc:  # the words still go in: they matter more than the audio
                log.error("message store: no audio for message %s: %s", m.id, exc)
        answers = json.dumps(list(m.answers))
        row = (m.id, m.started, time.time(), m.agent, m.call, m.caller, m.dialled, m.name,
               m.number, m.text, int(m.complete), answers, audio_path)  # fmt: skip
        with self._db:
            self._db.execute(
                "INSERT INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE"
                " SET updated=excluded.updated, name=excluded.name, number=excluded.number,"
                " text=excluded.text, complete=excluded.complete, answers=excluded.answers,"
                " audio=CASE WHEN excluded.audio != '' THEN excluded.audio ELSE audio END",
                row,
            )


def read_messages(data_dir: Path, limit: int = 0) -> list[MessageRow]:
    """The messages under ``data_dir``, newest first (none if nothing was ever stored)."""
    path = data_dir / DB_NAME
    if not path.exists():
        return []
    db = sqlite3.connect(path)  # not read-only: a WAL reader may need to create the -shm
    try:
        rows = db.execute(
            "SELECT id, started, agent, caller, name, number, text, complete, audio, call,"
            " dialled, answers FROM messages ORDER BY started DESC"
            + (f" LIMIT {int(limit)}" if limit > 0 else "")
        ).fetchall()
    finally:
        db.close()
    return [
        MessageRow(
            id=r[0],
            time=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(r[1])),
            agent=r[2],
            caller=r[3],
            name=r[4],
            number=r[5],
            text=r[6],
            complete=bool(r[7]),
            audio=r[8],
            call=r[9],
            dialled=r[10],
            answers=json.loads(r[11]),
        )
        for r in rows
    ]
