"""A message left through the real Asterisk: the caller (sipp, espeak's voice) asks to
leave a message, says a name, types the callback number on the keypad (SIP INFO DTMF,
which Asterisk passes to AudioSocket), confirms the number the bot reads back and says
the message; ``voicebot messages --json`` then lists it with the number as digits and
the WAV of the caller's answers. A caller who hangs up after the name leaves an
incomplete message with that name.

The pauses in the caller's script are generous: each leaves the bot time to hear the
turn (Whisper on 2 shared cores) and say its whole line before the caller goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai.spoken_number import digits_in
from bench.media import transcribe
from bench.processes import ROOT, VOICEBOT, StackPorts, VoicebotProcess, wait_healthy, write_config
from bench.sipcaller import CallScript, make_dialogue_wav, place_call

GREETING = "Dental surgery, how can I help?"
NUMBER = "5550123"


class Stack:
    def __init__(self, workdir: Path) -> None:
        (workdir / "dental.md").write_text("# Dental surgery\n\n## Hours\nWe open at 8 am.\n")
        self.data_dir = workdir / "data"
        self.ports = StackPorts.pick()
        self.config = write_config(
            workdir / "voicebot.toml", self.ports, f"messages-{os.getpid()}", rtp=(26000, 26999)
        )
        assert f'data_dir = "{self.data_dir}"' in self.config.read_text()
        self.config.write_text(
            self.config.read_text()
            + f'[agents.reception]\ngreeting = "{GREETING}"\nknowledge = "dental.md"\n'
            "take_messages = true\n"
        )
        self.proc = VoicebotProcess("run", self.config, workdir / "run.log")

    def messages(self) -> list[dict]:
        out = subprocess.run(
            [*VOICEBOT, "messages", "--json", "--config", str(self.config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(out.stdout)


@pytest.fixture(scope="module")
def stack(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(tmp_path_factory.mktemp("messages"))
    try:
        s.proc.wait_ready(timeout=300)
        wait_healthy(s.ports.http, timeout=30)
        yield s
    finally:
        s.proc.stop()


def seconds(wav: Path) -> float:
    return float(subprocess.run(["soxi", "-D", str(wav)], capture_output=True, text=True,
                                check=True).stdout)  # fmt: skip


def test_a_message_with_a_typed_number_is_stored_and_listed(
    stack: Stack, whisper, tmp_path: Path
) -> None:
    before_number = [
        ("", 3.0),  # the greeting
        ("I'd like to leave a message, please.", 6.0),  # "Of course ... your name?"
        ("My name is Peter Brown.", 0.0),
    ]
    # The keys go once the bot has asked for the number (about 6 s after the name).
    typed_at = seconds(make_dialogue_wav(before_number, tmp_path / "prefix.wav")) + 7.0
    caller_says = make_dialogue_wav(
        [
            *before_number[:-1],
            ("My name is Peter Brown.", 18.0),  # the question, the keys, the read-back
            ("Yes, that's right.", 6.0),  # "And what's your message?"
            ("Please ask the dentist to call me back about my appointment.", 9.0),
        ],
        tmp_path / "caller-says.wav",
    )
    record = place_call(
        CallScript(
            audio=caller_says,
            dtmf=NUMBER,
            dtmf_after_ms=int(typed_at * 1000),
            hangup_after_ms=int((seconds(caller_says) - typed_at) * 1000),
        ),
        workdir=tmp_path / "caller",
        sip_port=stack.ports.sip,
    )
    log = stack.proc.output()
    assert record.ok, f"the caller's sipp failed:\n{record.sipp_output}"
    heard = transcribe(whisper, record.received_pcm(), digits=True)
    messages = stack.messages()
    assert messages, f"no message stored; the caller heard: {heard!r}\n{log[-3000:]}"
    m = messages[0]
    assert m["number"] == NUMBER, (m, heard)
    assert m["complete"], (m, heard)
    assert "brown" in m["name"].lower(), m
    assert "dentist" in m["text"].lower() or "appointment" in m["text"].lower(), m
    assert m["agent"] == "reception" and m["answers"][1] == NUMBER, m
    assert Path(m["audio"]).stat().st_size > 16000, m  # the spoken answers, as a WAV
    # The caller heard the number read back, digit by digit.
    assert NUMBER in digits_in(heard), heard
    assert "message" in heard, heard


def test_a_hang_up_after_the_name_leaves_an_incomplete_message(
    stack: Stack, tmp_path: Path
) -> None:
    before = {m["id"] for m in stack.messages()}
    caller_says = make_dialogue_wav(
        [("", 3.0), ("Can I leave a message?", 6.0), ("This is Robert Stone.", 2.5)],
        tmp_path / "caller-says.wav",
    )
    record = place_call(
        CallScript(audio=caller_says, hangup_after_ms=int(seconds(caller_says) * 1000)),
        workdir=tmp_path / "caller",
        sip_port=stack.ports.sip,
    )
    assert record.ok, f"the caller's sipp failed:\n{record.sipp_output}"
    new = [m for m in stack.messages() if m["id"] not in before]
    assert len(new) == 1, (new, stack.proc.output()[-3000:])
    m = new[0]
    assert not m["complete"] and "stone" in m["name"].lower() and m["number"] == "", m
