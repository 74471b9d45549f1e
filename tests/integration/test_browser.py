"""The browser door with a real headless Chromium: talk through the page, hear the bot.

Chromium is Debian's (``/usr/bin/chromium``), driven by npm ``playwright-core``
(tests/browser/drive.mjs); its fake microphone plays an espeak-ng WAV. Missing
tools fail the test with what to install, never skip it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bench.processes import ROOT, StackPorts, VoicebotProcess, http_get
from bench.sipcaller import CallScript, make_silence_wav, place_call

CHROMIUM = Path("/usr/bin/chromium")
DRIVER_DIR = ROOT / "tests" / "browser"
QUESTION = "What is the weather like today?"


@pytest.fixture(scope="module")
def browser_tools() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    for cmd, pkg in (("node", "nodejs"), ("npm", "npm")):
        if not shutil.which(cmd):
            missing.append(f"{cmd} (Debian package {pkg})")
    if not (DRIVER_DIR / "node_modules" / "playwright-core").is_dir():
        missing.append("playwright-core (`npm install --no-audit --no-fund` in tests/browser)")
    if missing:
        pytest.fail(
            "the browser tests need: "
            + ", ".join(missing)
            + " -- `sh tests/install-test-tools.sh` installs them"
        )


def make_mic_wav(path: Path, lead_s: float = 5.0, tail_s: float = 40.0) -> Path:
    """The question between silences, as Chromium's fake capture wants it (16-bit, mono).

    The lead lets the greeting finish first; the long tail keeps Chromium (which
    loops the file) from asking again during the test.
    """
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), QUESTION], check=True)
    pcm16 = ["-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer"]
    subprocess.run(
        ["sox", str(raw), *pcm16, str(path), "pad", f"{lead_s}", f"{tail_s}"], check=True
    )
    raw.unlink()
    return path


def driver_command(port: int, wav: Path, workdir: Path, **options: object) -> list[str]:
    args = {
        "url": f"http://127.0.0.1:{port}/",
        "wav": str(wav),
        "userDataDir": str(workdir / "chromium-profile"),
        "chromium": str(CHROMIUM),
        **options,
    }
    return ["node", str(DRIVER_DIR / "drive.mjs"), json.dumps(args)]


def parse_result(stdout: str, stderr: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    assert lines, f"the browser driver printed no result; stderr:\n{stderr[-3000:]}"
    result: dict = json.loads(lines[-1])
    assert result["ok"], f"browser driver failed: {result['error']}\nstderr:\n{stderr[-3000:]}"
    return result


def wait_status(port: int, key: str, value: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        _, status = http_get(port, "/status")
        if status[key] == value or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_browser_call_talks_with_the_bot_and_hang_up_frees_the_session(
    browser_tools: None, bridge: VoicebotProcess, ports: StackPorts, tmp_path: Path
) -> None:
    wav = make_mic_wav(tmp_path / "mic.wav")
    _, before = http_get(ports.http, "/status")

    proc = subprocess.run(
        driver_command(ports.http, wav, tmp_path, timeoutMs=40_000),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result = parse_result(proc.stdout, proc.stderr)

    turns = result["turns"]
    users = [t for t in turns if t["role"] == "user" and t["text"].strip()]
    assert users, f"no user turn on the page: {turns}"
    assert "weather" in users[0]["text"].lower(), f"the question was heard as {users[0]}"
    first_user = turns.index(users[0])
    answers = [t for t in turns[first_user:] if t["role"] == "bot" and t["text"].strip()]
    assert answers, f"no bot turn after the user's: {turns}"
    assert answers[0]["latency"], f"the bot turn shows no latency: {answers[0]}"
    assert result["inboundAudioBytes"] > 0, "no audio arrived over WebRTC"

    status = wait_status(ports.http, "browser_sessions", 0, timeout=5)
    assert status["browser_sessions"] == 0, f"Hang up left the session running: {status}"
    assert status["browser_sessions_total"] == before["browser_sessions_total"] + 1
    assert "ended (browser hung up)" in bridge.output()
    assert "peer connection closed" in bridge.output()


def test_phone_call_during_a_browser_session_is_answered(
    browser_tools: None, bridge: VoicebotProcess, ports: StackPorts, tmp_path: Path
) -> None:
    wav = make_mic_wav(tmp_path / "mic.wav")
    _, before = http_get(ports.http, "/status")
    # Connect, then stay in the call for 30 s without waiting for turns.
    browser = subprocess.Popen(
        driver_command(ports.http, wav, tmp_path / "web", holdMs=30_000, waitTurns=False),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status = wait_status(ports.http, "browser_sessions", 1, timeout=30)
        assert status["browser_sessions"] == 1, f"the browser session did not start: {status}"

        record = place_call(
            CallScript(
                audio=make_silence_wav(2, tmp_path / "silence.wav"),
                loop_audio=True,
                hangup_after_ms=8_000,
            ),
            workdir=tmp_path / "call",
            sip_port=ports.sip,
        )
        assert record.ok, f"sipp reported a failed call:\n{record.sipp_output}"
        assert record.answered_at is not None, "no 200 OK to the INVITE"
        assert record.first_audio_after_answer() is not None, "the caller heard no greeting"

        _, during = http_get(ports.http, "/status")
        assert during["browser_sessions"] == 1, f"the browser session ended early: {during}"
        assert during["calls_total"] == before["calls_total"] + 1

        stdout, stderr = browser.communicate(timeout=90)
        result = parse_result(stdout, stderr)
        assert result["inboundAudioBytes"] > 0, "no audio arrived over WebRTC"
    finally:
        if browser.poll() is None:
            browser.terminate()  # playwright closes its Chromium on SIGTERM
            try:
                browser.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                browser.kill()
                browser.communicate()
    status = wait_status(ports.http, "browser_sessions", 0, timeout=5)
    assert status["browser_sessions"] == 0, f"Hang up left the session running: {status}"
