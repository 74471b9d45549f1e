"""A malformed or oversized AudioSocket frame ends that one connection; a real call goes on."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from pathlib import Path

from bench.processes import StackPorts, VoicebotProcess
from bench.sipcaller import CallRecord, CallScript, make_silence_wav, place_call

BAD_FRAMES = {
    "unknown kind": b"\x42\x00\x00",
    "oversized": b"\x10\xff\xff" + b"\x00" * 64,
    "bad uuid": b"\x01\x00\x0f" + b"\x00" * 15,
    "odd audio": b"\x10\x00\x03abc",
}


def send_bad_connection(port: int, payload: bytes, with_uuid: bool = True) -> bytes:
    """Connect like Asterisk, send ``payload``, return everything the bridge sent until EOF."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        if with_uuid:
            s.sendall(b"\x01\x00\x10" + uuid.uuid4().bytes)
        s.sendall(payload)
        s.settimeout(5)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return received
            received += chunk


def test_bad_frames_end_only_their_connection(
    bridge: VoicebotProcess, ports: StackPorts, tmp_path: Path
) -> None:
    silence = make_silence_wav(2, tmp_path / "silence.wav")
    result: list[CallRecord] = []
    call = threading.Thread(
        target=lambda: result.append(
            place_call(
                CallScript(audio=silence, loop_audio=True, hangup_after_ms=10_000),
                workdir=tmp_path / "call",
                sip_port=ports.sip,
            )
        )
    )
    call.start()
    time.sleep(3)  # the real call is up and being greeted

    for name, payload in BAD_FRAMES.items():
        started = time.monotonic()
        send_bad_connection(ports.bridge, payload)  # returns at EOF: the bridge closed it
        assert time.monotonic() - started < 3, f"{name}: connection not closed promptly"

    call.join(timeout=60)
    record = result[0]
    assert record.ok, f"the real call failed:\n{record.sipp_output}"
    assert not record.bye_from_remote, "the real call was hung up by the bad connections"
    pacing = record.pacing()
    assert pacing["gaps_over_60ms"] == 0, f"the real call's audio stalled: {pacing}"

    log = bridge.output()
    assert "unknown" in log and "0x42" in log
    assert log.count("protocol error from") >= len(BAD_FRAMES), log[-3000:]
