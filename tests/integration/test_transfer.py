"""A caller put through to a person, through the real Asterisk: the caller (sipp) asks for a
person, the bot says one line and redirects the caller's channel over AMI to the agent's
``transfer_to``; the shipped ``[people]`` context dials the ``reception`` endpoint, here a
second sipp (the person) at the static contact of the test's copy of
``asterisk/pjsip-people.conf``, the way an admin gives the desk its phone.

Answered: the person receives the caller's audio, the caller the person's, and the
bot's AudioSocket leg has ended. Busy: the caller is back with the same agent, which
says nobody is available and offers to take a message.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai import transfer
from bench.media import record_measurement, transcribe
from bench.processes import ROOT, StackPorts, VoicebotProcess, wait_healthy, write_config
from bench.sipcaller import (
    CallScript,
    make_dialogue_wav,
    make_silence_wav,
    place_call,
    rms_dbfs,
)
from tests.integration.sip_person import Person

GREETING = "Dental surgery, how can I help?"
TARGET = "people,reception,1"
SHIPPED_CONTACT = ";contact=sip:reception@192.0.2.10:5060"
TRANSFERRED = "ended (transferred to people,reception,1)"


class Stack:
    """`voicebot run` with one agent that transfers, and the person's phone at ``contact``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.asterisk_dir = workdir / "asterisk"
        shutil.copytree(ROOT / "asterisk", self.asterisk_dir)
        extensions = self.asterisk_dir / "extensions.conf"
        text = extensions.read_text()
        assert "PEOPLE_RING_S=20\n" in text
        extensions.write_text(text.replace("PEOPLE_RING_S=20\n", "PEOPLE_RING_S=8\n"))
        self.people = self.asterisk_dir / "pjsip-people.conf"
        self.shipped_people = self.people.read_text()
        assert SHIPPED_CONTACT in self.shipped_people
        (workdir / "dental.md").write_text("# Dental surgery\n\n## Hours\nWe open at 8 am.\n")
        self.ports = StackPorts.pick()
        self.config = write_config(
            workdir / "voicebot.toml", self.ports, f"transfer-{os.getpid()}", rtp=(25000, 25999)
        )
        with self.config.open("a") as f:
            f.write(
                f'asterisk_config_dir = "{self.asterisk_dir}"\n'
                f'[agents.reception]\ngreeting = "{GREETING}"\nknowledge = "dental.md"\n'
                f'transfer_to = "{TARGET}"\ntake_messages = true\n'
            )
        self.proc: VoicebotProcess | None = None
        self.starts = 0

    def start(self, contact: str) -> VoicebotProcess:
        """(Re)start the stack with the reception phone at ``contact``."""
        self.stop()
        self.people.write_text(self.shipped_people.replace(SHIPPED_CONTACT, f"contact={contact}"))
        self.starts += 1
        log = self.workdir / f"run-{self.starts}.log"
        self.proc = VoicebotProcess("run", self.config, log)
        self.proc.wait_ready(timeout=300)
        wait_healthy(self.ports.http, timeout=30)
        return self.proc

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


@pytest.fixture(scope="module")
def stack(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(tmp_path_factory.mktemp("transfer"))
    try:
        yield s
    finally:
        s.stop()


def test_a_caller_who_asks_for_a_person_is_put_through_to_the_persons_phone(
    stack: Stack, whisper, tmp_path: Path
) -> None:
    person_says = make_dialogue_wav(
        [("Front desk, Maria speaking.", 1.0)], tmp_path / "person-says.wav"
    )
    person = Person(tmp_path / "person", answer=True, audio=person_says)
    proc = stack.start(person.contact)
    caller_says = make_dialogue_wav(
        [
            ("", 3.0),  # the greeting
            ("Can I speak to a person, please?", 9.0),  # the bot's line, then the transfer
            ("Hello, is that the front desk?", 3.0),  # said to the person
        ],
        tmp_path / "caller-says.wav",
    )
    person.start()
    try:
        record = place_call(
            CallScript(audio=caller_says, hangup_after_ms=19000),
            workdir=tmp_path / "caller",
            sip_port=stack.ports.sip,
        )
    finally:
        received = person.stop()
    assert record.ok, f"the caller's sipp failed:\n{record.sipp_output}"
    log = proc.output()
    assert TRANSFERRED in log, log[-3000:]  # the bot's AudioSocket leg ended
    assert received.ok, f"the person's sipp failed:\n{received.sipp_output}\n{log[-3000:]}"
    # The person received the caller's voice (relayed by Asterisk, not by the bridge).
    heard_by_person = received.received_pcm()
    assert len(received.rtp_payloads) > 100, "the person received almost no RTP"
    person_text = transcribe(whisper, heard_by_person)
    assert rms_dbfs(heard_by_person.astype("float64")) > -45, "the person heard only silence"
    assert "desk" in person_text or "front" in person_text, person_text
    assert "surgery" not in person_text and "put you through" not in person_text, person_text
    # The caller heard the bot's line, then the person: speech after the person answered
    # (both captures stamp packets with the same kernel clock).
    caller_text = transcribe(whisper, record.received_pcm())
    assert "through" in caller_text, caller_text
    answered = received.time_of("SIP/2.0 200", "INVITE", outgoing=True)
    assert answered is not None, received.sip
    from_person = record.received_pcm_between(answered + 0.2, answered + 4.0)
    assert rms_dbfs(from_person.astype("float64")) > -40, "the caller did not hear the person"
    person_words = transcribe(whisper, from_person)
    assert any(w in person_words for w in ("front", "desk", "maria", "marie", "speak")), (
        person_words
    )
    record_measurement(
        "transfer",
        {"caller_heard": caller_text, "from_person": person_words, "person_heard": person_text},
    )


def test_a_caller_whom_nobody_answers_is_back_with_the_agent(
    stack: Stack, whisper, tmp_path: Path
) -> None:
    person = Person(tmp_path / "busy", answer=False)
    proc = stack.start(person.contact)
    silence = make_silence_wav(2, tmp_path / "silence.wav")
    person.start()
    try:
        record = place_call(
            # 0 cuts the greeting short and asks for a person.
            CallScript(
                audio=silence, loop_audio=True, dtmf="0", dtmf_after_ms=1500, hangup_after_ms=14000
            ),
            workdir=tmp_path / "caller",
            sip_port=stack.ports.sip,
        )
    finally:
        received = person.stop()
    assert record.ok, f"the caller's sipp failed:\n{record.sipp_output}"
    assert any(m.first_line.startswith("SIP/2.0 486") for m in received.sip), received.sip
    log = proc.output()
    assert TRANSFERRED in log, log[-3000:]
    assert re.search(r"back from a transfer: BUSY", log), log[-3000:]
    caller_text = transcribe(whisper, record.received_pcm())
    assert "through" in caller_text, caller_text
    assert "nobody" in caller_text and "available" in caller_text, caller_text
    assert "leave a message" in caller_text, caller_text  # offered one instead
    assert caller_text.count("dental surgery") <= 1, caller_text  # no second greeting
    assert transfer.NOBODY.startswith("I'm sorry, nobody is available")
