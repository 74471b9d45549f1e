"""Start and stop the real processes the integration tests use: ``voicebot asterisk``,
``voicebot bridge`` and ``voicebot run``, each on its own free loopback ports.

Each process is a child of the test session; ``stop()`` sends SIGTERM and waits, then kills,
so a failing test never leaves a server behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VOICEBOT = [sys.executable, "-m", "bridge.cli"]


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class StackPorts:
    sip: int
    ami: int
    bridge: int
    http: int

    @classmethod
    def pick(cls) -> StackPorts:
        return cls(free_udp_port(), free_tcp_port(), free_tcp_port(), free_tcp_port())


def write_config(path: Path, ports: StackPorts, instance: str, rtp: tuple[int, int]) -> Path:
    path.write_text(
        "[voicebot]\n"
        f'sip_bind = "127.0.0.1:{ports.sip}"\n'
        f'ami_bind = "127.0.0.1:{ports.ami}"\n'
        f'bridge_listen = "127.0.0.1:{ports.bridge}"\n'
        f'http_listen = "127.0.0.1:{ports.http}"\n'
        f"rtp_start = {rtp[0]}\n"
        f"rtp_end = {rtp[1]}\n"
        f'instance = "{instance}"\n'
        f'data_dir = "{path.parent / "data"}"\n'  # what the run keeps stays with the test
    )
    return path


class VoicebotProcess:
    """``voicebot <command> --config <file>`` as a child; output goes to ``log``."""

    def __init__(self, command: str, config: Path, log: Path) -> None:
        self.command = command
        self.log = log
        self._log_file = open(log, "ab")
        self.proc = subprocess.Popen(
            [*VOICEBOT, command, "--config", str(config)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._ready = threading.Event()
        self._pump = threading.Thread(target=self._copy_output, daemon=True)
        self._pump.start()

    def _copy_output(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log_file.write(line)
            self._log_file.flush()
            if line.strip() == b"voicebot: ready":
                self._ready.set()

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.2):
                return
            if self.proc.poll() is not None:
                break
        raise AssertionError(
            f"`voicebot {self.command}` did not become ready within {timeout:.0f} s "
            f"(exit code {self.proc.poll()}); its output:\n{self.output()[-4000:]}"
        )

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._pump.join(timeout=5)
        self._log_file.close()
        return self.proc.returncode


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def wait_healthy(port: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            status, body = http_get(port, "/healthz", timeout=2)
            if status == 200:
                return body
            last = body
        except OSError as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"/healthz on port {port} not 200 within {timeout:.0f} s: {last}")
