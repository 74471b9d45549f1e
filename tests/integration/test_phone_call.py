"""A real SIP call (sipp, real RTP) through the project's Asterisk to the bridge."""

from __future__ import annotations

import time
from pathlib import Path

from bench.media import record_measurement, transcribe
from bench.processes import StackPorts, VoicebotProcess, http_get
from bench.sipcaller import CallScript, make_silence_wav, place_call


def wait_no_calls(ports: StackPorts, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        _, status = http_get(ports.http, "/status")
        if status["active_calls"] == 0 or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_call_hears_greeting_then_paced_silence_and_caller_hangs_up(
    bridge: VoicebotProcess, ports: StackPorts, whisper, tmp_path: Path
) -> None:
    silence = make_silence_wav(2, tmp_path / "silence.wav")
    _, before = http_get(ports.http, "/status")

    # The caller stays silent for 25 s (greeting, then 20 s of silence), then hangs up.
    record = place_call(
        CallScript(audio=silence, loop_audio=True, hangup_after_ms=25_000),
        workdir=tmp_path,
        sip_port=ports.sip,
    )

    assert record.ok, f"sipp reported a failed call:\n{record.sipp_output}"
    assert record.answered_at is not None, "no 200 OK to the INVITE"
    assert not record.bye_from_remote, "the bot hung up during the caller's silence"
    assert record.bye_from_caller

    latency = record.first_audio_after_answer()
    assert latency is not None, "the caller heard nothing above -40 dBFS"
    assert latency < 1.5, f"greeting heard {latency:.3f} s after the answer"

    heard = transcribe(whisper, record.received_pcm()[: 8000 * 10])
    assert "help" in heard and "reached" in heard, f"caller heard: {heard!r}"

    pacing = record.pacing()
    assert pacing["duration_s"] > 24.0, f"audio stopped early: {pacing}"
    assert pacing["gaps_over_60ms"] == 0, f"gaps in what the caller heard: {pacing}"
    assert pacing["dev_p99_ms"] <= 5.0, f"inter-arrival deviation: {pacing}"

    status = wait_no_calls(ports)
    assert status["active_calls"] == 0, "the bridge kept the call after the caller hung up"
    assert status["calls_total"] == before["calls_total"] + 1
    assert "ended (Asterisk closed the connection)" in bridge.output()
    record_measurement(
        "phone-call-greeting",
        {
            "greeting_latency_s": round(latency, 4),
            **{k: round(v, 3) for k, v in pacing.items()},
            "heard": heard,
        },
    )


def test_bot_hangs_up_when_caller_presses_hash(
    bridge: VoicebotProcess, ports: StackPorts, tmp_path: Path
) -> None:
    silence = make_silence_wav(2, tmp_path / "silence.wav")
    record = place_call(
        CallScript(
            audio=silence, loop_audio=True, dtmf="#", dtmf_after_ms=3000, expect_bye_within_ms=5000
        ),
        workdir=tmp_path,
        sip_port=ports.sip,
    )
    assert record.ok, f"sipp reported a failed call:\n{record.sipp_output}"
    assert record.bye_from_remote, "no BYE from Asterisk after the bridge hung up"
    assert not record.bye_from_caller
    assert wait_no_calls(ports)["active_calls"] == 0
    assert "ended (caller pressed #)" in bridge.output()
