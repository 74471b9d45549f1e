"""`voicebot run` (what `make run` starts) becomes healthy and stops everything it started."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from bench.media import transcribe
from bench.processes import StackPorts, VoicebotProcess, http_get, wait_healthy, write_config
from bench.sipcaller import CallScript, make_silence_wav, place_call


def asterisk_pids(instance: str) -> list[int]:
    """Asterisk processes running this instance's configuration."""
    needle = f"/voicebot/{instance}/etc/asterisk.conf".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"asterisk" in cmdline and needle in cmdline:
                pids.append(int(entry.name))
    return pids


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if Path(f"/proc/{p}").exists()]
    return alive


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_run_becomes_healthy_and_leaves_nothing_behind(
    tools: None, tmp_path: Path, sig: signal.Signals
) -> None:
    ports = StackPorts.pick()
    instance = f"run-{os.getpid()}-{sig.name.lower()}"
    config = write_config(tmp_path / "voicebot.toml", ports, instance, rtp=(22000, 22999))
    proc = VoicebotProcess("run", config, tmp_path / "run.log")
    try:
        proc.wait_ready(timeout=300)
        health = wait_healthy(ports.http, timeout=30)
        assert health["checks"] == {"asterisk": True, "bridge": True, "models": True}
        pids = asterisk_pids(instance)
        assert len(pids) == 1, f"expected one Asterisk for {instance}, found {pids}"
        bridge_pid = http_get(ports.http, "/status")[1]["pid"]
        assert bridge_pid != proc.proc.pid, "the bridge should run in a child process"

        proc.proc.send_signal(sig)
        code = proc.proc.wait(timeout=30)
        if sig != signal.SIGKILL:
            assert code == 0, proc.output()[-3000:]
            assert "voicebot: stopped" in proc.output()
        assert wait_gone(pids, timeout=10) == [], "Asterisk outlived voicebot run"
        assert wait_gone([bridge_pid], timeout=20) == [], "the bridge outlived voicebot run"
        with pytest.raises(OSError):
            http_get(ports.http, "/healthz", timeout=1)
    finally:
        proc.stop()
        for pid in asterisk_pids(instance):
            os.kill(pid, signal.SIGKILL)


def wait_for_output(proc: VoicebotProcess, needle: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = proc.output()
        if needle in out:
            return out
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} not in the output within {timeout:.0f} s:\n{out[-3000:]}")


def test_a_bridge_killed_in_native_code_is_reported_and_callers_hear_the_fallback(
    tools: None, tmp_path: Path, whisper
) -> None:
    """SIGILL in the bridge (what a model library built for the wrong CPU does) is not silent."""
    ports = StackPorts.pick()
    instance = f"run-{os.getpid()}-crash"
    config = write_config(tmp_path / "voicebot.toml", ports, instance, rtp=(23000, 23999))
    proc = VoicebotProcess("run", config, tmp_path / "run.log")
    try:
        proc.wait_ready(timeout=300)
        wait_healthy(ports.http, timeout=30)
        bridge_pid = http_get(ports.http, "/status")[1]["pid"]
        os.kill(bridge_pid, signal.SIGILL)

        out = wait_for_output(proc, "died with signal SIGILL (Illegal instruction)", 15)
        assert "answers new calls with the spoken fallback" in out
        assert "Fatal Python error: Illegal instruction" in out, "no traceback of the crash"
        assert proc.proc.poll() is None, "voicebot run should keep Asterisk up"

        silence = make_silence_wav(2, tmp_path / "silence.wav")
        record = place_call(
            CallScript(audio=silence, loop_audio=True, expect_bye_within_ms=15_000),
            workdir=tmp_path,
            sip_port=ports.sip,
        )
        assert record.ok, f"sipp reported a failed call:\n{record.sipp_output}"
        heard = transcribe(whisper, record.received_pcm())
        assert "sorry" in heard and "available" in heard, f"caller heard: {heard!r}"

        assert proc.stop() == 1, "voicebot run should exit non-zero after its bridge died"
        assert wait_gone(asterisk_pids(instance), timeout=10) == []
    finally:
        proc.stop()
        for pid in asterisk_pids(instance):
            os.kill(pid, signal.SIGKILL)
