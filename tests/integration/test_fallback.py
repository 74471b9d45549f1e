"""With the bridge down, a caller hears the spoken fallback instead of dead air."""

from __future__ import annotations

import socket
from pathlib import Path

from bench.media import transcribe
from bench.processes import StackPorts, VoicebotProcess
from bench.sipcaller import CallScript, make_silence_wav, place_call


def test_call_while_bridge_is_down_hears_fallback_then_hangup(
    asterisk: VoicebotProcess, ports: StackPorts, whisper, tmp_path: Path
) -> None:
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", ports.bridge)) != 0, "a bridge is listening"

    silence = make_silence_wav(2, tmp_path / "silence.wav")
    record = place_call(
        CallScript(audio=silence, loop_audio=True, expect_bye_within_ms=15_000),
        workdir=tmp_path,
        sip_port=ports.sip,
    )

    assert record.ok, f"sipp reported a failed call:\n{record.sipp_output}"
    assert record.answered_at is not None
    assert record.bye_from_remote, "Asterisk did not hang up after the fallback"
    heard = transcribe(whisper, record.received_pcm())
    # tiny.en on phone audio often hears "unavailable" as "an available".
    assert "sorry" in heard and "available" in heard, f"caller heard: {heard!r}"
