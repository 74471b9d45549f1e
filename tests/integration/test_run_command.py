"""`voicebot run` (what `make run` starts) becomes healthy and stops everything it started."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from bench.processes import StackPorts, VoicebotProcess, http_get, wait_healthy, write_config


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

        proc.proc.send_signal(sig)
        code = proc.proc.wait(timeout=30)
        if sig != signal.SIGKILL:
            assert code == 0, proc.output()[-3000:]
            assert "voicebot: stopped" in proc.output()
        assert wait_gone(pids, timeout=10) == [], "Asterisk outlived voicebot run"
        with pytest.raises(OSError):
            http_get(ports.http, "/healthz", timeout=1)
    finally:
        proc.stop()
        for pid in asterisk_pids(instance):
            os.kill(pid, signal.SIGKILL)
