"""Agents per number through the real Asterisk: the dialplan names the agent, the bridge
asks Asterisk for it over AMI, and the caller hears that agent's greeting.

The stack is ``voicebot run`` (what ``make run`` starts: the bridge in a child that gets
the AMI login from its parent) with a config of two agents with distinct greetings and
facts files, and a test-owned copy of ``asterisk/`` whose ``[from-loopback]`` has one
more extension naming an agent the config lacks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.media import record_measurement, transcribe
from bench.processes import ROOT, StackPorts, VoicebotProcess, wait_healthy, write_config
from bench.sipcaller import CallRecord, CallScript, make_silence_wav, place_call
from tests.integration.test_browser import browser_tools, driver_command, parse_result

__all__ = ["browser_tools"]  # a fixture: pytest finds it by its name in this module

DENTAL = "Good morning, this is the dental surgery. How can I help?"
PLUMBING = "Hello, plumbing and heating here. What is the problem?"
UNKNOWN_EXTENSION = "300"
KEY_LINE = "The surgery opens at eight in the morning."
LOOKUP = re.compile(
    r"call (?P<call>[0-9a-f-]{36}): channel (?P<channel>\S+), agent '(?P<agent>[^']*)', "
    r"caller '(?P<caller>[^']*)', dialled '(?P<dialled>[^']*)' \(AMI lookup (?P<ms>[\d.]+) ms\)"
)


@pytest.fixture(scope="module")
def agents_stack(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """`voicebot run` with the agents `reception` (default) and `plumber`."""
    workdir = tmp_path_factory.mktemp("agents")
    facts = workdir / "facts"
    facts.mkdir()
    (facts / "dental.md").write_text("# Dental surgery\n\n## Hours\nWe open at 8 am.\n")
    (facts / "plumbing.md").write_text("# Plumbers\n\n## Call-outs\nWe come out at night.\n")
    dialplan = workdir / "asterisk"
    shutil.copytree(ROOT / "asterisk", dialplan)
    extensions = dialplan / "extensions.conf"
    text = extensions.read_text()
    assert "[from-loopback]\n" in text
    extensions.write_text(
        text.replace(
            "[from-loopback]\n",
            "[from-loopback]\n"
            f"exten => {UNKNOWN_EXTENSION},1,Set(VOICEBOT_AGENT=nobody)\n"
            " same => n,Goto(voicebot,s,1)\n",
        )
    )
    ports = StackPorts.pick()
    config = write_config(
        workdir / "voicebot.toml", ports, f"agents-{os.getpid()}", rtp=(24000, 24999)
    )
    with config.open("a") as f:
        f.write(
            f'asterisk_config_dir = "{dialplan}"\n'
            'default_agent = "reception"\n'
            # The plumber first: the default is the one default_agent names, not the first.
            f'[agents.plumber]\ngreeting = "{PLUMBING}"\nknowledge = "facts/plumbing.md"\n'
            f'[agents.reception]\ngreeting = "{DENTAL}"\nknowledge = "facts/dental.md"\n'
            f'[agents.reception.digits]\n"1" = "say:{KEY_LINE}"\n'
        )
    proc = VoicebotProcess("run", config, workdir / "run.log")
    try:
        proc.wait_ready(timeout=300)
        wait_healthy(ports.http, timeout=30)
        yield proc, ports
    finally:
        proc.stop()


def call(extension: str, ports: StackPorts, workdir: Path) -> CallRecord:
    workdir.mkdir(parents=True)
    silence = make_silence_wav(2, workdir / "silence.wav")
    record = place_call(
        CallScript(audio=silence, loop_audio=True, hangup_after_ms=7000),
        workdir=workdir,
        sip_port=ports.sip,
        extension=extension,
    )
    assert record.ok, f"sipp reported a failed call:\n{record.sipp_output}"
    assert record.answered_at is not None, "no 200 OK to the INVITE"
    return record


def lookup_line(proc: VoicebotProcess, known: set[str], timeout: float = 5.0) -> dict[str, str]:
    """The bridge's log line of the newest call's AMI lookup (one not in ``known``)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m.groupdict() for m in LOOKUP.finditer(proc.output())]
        new = [m for m in found if m["call"] not in known]
        if new or time.monotonic() > deadline:
            assert new, f"no AMI lookup logged for the call; log tail:\n{proc.output()[-3000:]}"
            known.add(new[-1]["call"])
            return new[-1]
        time.sleep(0.1)


def test_each_number_reaches_its_agent_and_an_unknown_agent_the_default(
    agents_stack: tuple, whisper, tmp_path: Path
) -> None:
    proc, ports = agents_stack
    seen: set[str] = set()
    lookups_ms = []
    heard = {}
    for extension, agent, words in (
        ("100", "reception", ("dental", "surgery")),
        ("200", "plumber", ("plumbing", "heating")),
        (UNKNOWN_EXTENSION, "nobody", ("dental", "surgery")),  # the default agent answers
    ):
        record = call(extension, ports, tmp_path / extension)
        latency = record.first_audio_after_answer()
        assert latency is not None and latency < 1.5, f"greeting of {extension}: {latency}"
        text = transcribe(whisper, record.received_pcm()[: 8000 * 6])
        heard[extension] = text
        assert any(w in text for w in words), f"calling {extension} the caller heard {text!r}"
        line = lookup_line(proc, seen)
        assert line["agent"] == agent and line["dialled"] == extension, line
        assert line["channel"].startswith("PJSIP/loopback-"), line
        assert line["caller"], line
        lookups_ms.append(float(line["ms"]))
    assert "plumbing" not in heard["100"] and "dental" not in heard["200"], heard
    log = proc.output()
    assert log.count("no agent 'nobody' in the configuration") == 1, log[-3000:]
    assert "agent 'reception' answers its calls" in log
    record_measurement(
        "agents-ami-lookup",
        {"lookup_ms": lookups_ms, "heard": heard},
    )
    assert max(lookups_ms) < 200, f"AMI lookups took {lookups_ms} ms"


def test_the_page_names_its_agent_in_its_address(
    browser_tools: None, agents_stack: tuple, tmp_path: Path
) -> None:
    """``/?agent=plumber`` opens ``/ws?agent=plumber``: the plumber greets the browser."""
    _, ports = agents_stack
    wav = tmp_path / "mic.wav"  # silence, as Chromium's fake microphone wants it
    pcm16 = ["-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer"]
    subprocess.run(["sox", "-n", *pcm16, str(wav), "trim", "0", "10"], check=True)
    results = {}
    for query in ("?agent=plumber", "?agent=no_such_agent", ""):
        command = driver_command(
            ports.http,
            wav,
            tmp_path / f"web{len(results)}",
            url=f"http://127.0.0.1:{ports.http}/{query}",
            holdMs=6000,
            waitTurns=False,
        )
        browser = subprocess.run(command, capture_output=True, text=True, timeout=90)
        turns = parse_result(browser.stdout, browser.stderr)["turns"]
        results[query] = [t["text"] for t in turns if t["role"] == "bot"]
    assert results == {"?agent=plumber": [PLUMBING], "?agent=no_such_agent": [DENTAL], "": [DENTAL]}


def test_a_key_of_the_agents_menu_says_its_line_and_cuts_the_greeting_short(
    agents_stack: tuple, whisper, tmp_path: Path
) -> None:
    """The caller presses 1 during the greeting: the greeting stops and the key's line is
    said (the DTMF goes caller -> Asterisk (SIP INFO) -> AudioSocket -> the session)."""
    proc, ports = agents_stack
    silence = make_silence_wav(2, tmp_path / "silence.wav")
    record = place_call(
        CallScript(
            audio=silence, loop_audio=True, dtmf="1", dtmf_after_ms=1500, hangup_after_ms=6000
        ),
        workdir=tmp_path,
        sip_port=ports.sip,
        extension="100",
    )
    assert record.ok, f"sipp reported a failed call:\n{record.sipp_output}"
    heard = transcribe(whisper, record.received_pcm()).lower()
    assert "opens at" in heard and "morning" in heard, f"the caller heard {heard!r}"
    assert "how can i help" not in heard, f"the greeting was not cut short: {heard!r}"
    assert re.search(r"DTMF 1\b", proc.output()), proc.output()[-3000:]
